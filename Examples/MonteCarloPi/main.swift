// Monte-Carlo estimate of π with `reduce`: every rank throws darts with its own deterministic
// generator; rank 0 sums the hits and checks the total against a serial run of the same darts.
//
//     swift run swiftmpirun -n 4 swiftmpi-pi [darts-per-rank]
#if canImport(Glibc)
import Glibc
#endif
import SwiftMPI

/// Darts inside the quarter circle among `darts` thrown with the generator seeded for `rank`.
func hits(rank: Int, darts: Int) -> Int {
    var state = UInt64(0x9E37_79B9_7F4A_7C15) &* UInt64(rank + 1) | 1
    func unit() -> Double {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return Double(state >> 11) / Double(1 << 53)
    }
    var inside = 0
    for _ in 0..<darts {
        let x = unit(), y = unit()
        if x * x + y * y <= 1 { inside += 1 }
    }
    return inside
}

let world = try MPI.initialize()
let darts = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 200_000 : 200_000
let start = MPI.wtime()
let local = hits(rank: world.rank, darts: darts)
if let total = try world.reduce([local], op: .sum, root: 0) {
    let estimate = 4 * Double(total[0]) / Double(darts * world.size)
    let serial = (0..<world.size).reduce(0) { $0 + hits(rank: $1, darts: darts) }
    print("π ≈ \(estimate) from \(darts * world.size) darts on \(world.size) ranks in \(Int((MPI.wtime() - start) * 1000)) ms")
    guard total[0] == serial else {
        print("MISMATCH: parallel \(total[0]) hits, serial \(serial)")
        exit(1)
    }
    print("matches the serial run")
}
try MPI.finalize()
