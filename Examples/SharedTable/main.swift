// A large read-only table held once per host: rank 0 of each host builds a lookup table in a shared
// window (`Window.allocateShared` on `splitType(.shared)`), and every rank of the host reads it in
// place through `localMemory(ofRank: 0)` — plain loads, no copy per rank. Each rank then answers its
// share of queries with the table; the answers are checked against a serial computation at rank 0.
//
//     swift run swiftmpirun -n 4 swiftmpi-table [table-entries] [queries-per-rank]
#if canImport(Glibc)
import Glibc
#endif
import SwiftMPI

let world = try MPI.initialize()
let entries = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 4_000_000 : 4_000_000
let queries = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 100_000 : 100_000

/// The table: an expensive function of the index, computed once per host.
func entry(_ i: Int) -> Double { sin(Double(i) * 0.001) * exp(-Double(i % 1000) * 0.001) }

/// The `k`-th query of `rank`: a table index from a deterministic generator.
func query(rank: Int, _ k: Int) -> Int { Int((UInt64(rank * queries + k) &* 0x9E37_79B9_7F4A_7C15) >> 11) % entries }

guard let host = try world.splitType(.shared) else { fatalError("splitType(.shared) gives every rank a communicator") }
// Only the host's first rank holds the table; the others contribute nothing to the segment.
let table = try Window<Double>.allocateShared(count: host.rank == 0 ? entries : 0, on: host)
if host.rank == 0 {
    let mine = table.localMemory
    for i in 0..<entries { mine[i] = entry(i) }
}
try table.fence()  // the table is complete before anyone reads it
let shared = try table.localMemory(ofRank: 0)  // the same memory on every rank of the host
var sum = 0.0
for k in 0..<queries { sum += shared[query(rank: world.rank, k)] }
try table.fence()
// One copy per host, not one per rank: every other rank of the host writes a mark into the table
// through its own view of it, and the host's rank 0 finds every mark in its memory.
if host.rank > 0 && host.rank < entries { shared[host.rank] = -Double(host.rank) }
try table.fence()
var oneCopy = 1
if host.rank == 0 {
    for other in 1..<min(host.size, entries) where table.localMemory[other] != -Double(other) { oneCopy = 0 }
}
let copiesShared = try world.allreduce([host.rank == 0 ? oneCopy : 1], op: .min)[0] == 1

let sums = try world.gather([sum], root: 0)
if let sums {
    var worst = 0.0
    for rank in 0..<world.size {
        var serial = 0.0
        for k in 0..<queries { serial += entry(query(rank: rank, k)) }
        worst = max(worst, abs(serial - sums[rank]))
    }
    let hosts = try world.allreduce([host.rank == 0 ? 1 : 0], op: .sum)[0]
    print(
        "table: \(entries) entries (\(entries * 8 / 1_048_576) MiB) held \(hosts) time\(hosts == 1 ? "" : "s") for \(world.size) ranks on \(hosts) "
            + "host\(hosts == 1 ? "" : "s"); \(queries) lookups per rank; largest difference from serial \(worst)")
    print(copiesShared ? "one copy per host: every rank's writes reached its host's rank 0" : "NOT SHARED: a rank wrote into a copy of its own")
    guard worst == 0, copiesShared else {
        print(worst == 0 ? "the table is not shared" : "MISMATCH with the serial run")
        exit(1)
    }
    print("matches the serial run")
} else {
    _ = try world.allreduce([host.rank == 0 ? 1 : 0], op: .sum)
}
try table.free()
host.free()
try MPI.finalize()
