#if canImport(Glibc)
import Glibc
#endif
import SwiftMPI

func environment(_ name: String, default value: String) -> String { getenv(name).map { String(cString: $0) } ?? value }

/// True where the world's small collectives go through the shared-memory channel: not forced TCP
/// or verbs, one host, shared-memory collectives on.
func sharedChannelInUse() -> Bool {
    !["tcp", "verbs"].contains(environment("SWIFTMPI_TRANSPORT", default: "auto")) && environment("SWIFTMPI_HOST_COUNT", default: "1") == "1"
        && environment("SWIFTMPI_SHM_COLLECTIVES", default: "1") != "0"
}

/// True where every blocking collective is checked: the shared-memory channel of one host, or
/// `SWIFTMPI_CHECK_COLLECTIVES=1`.
func collectivesAreChecked() -> Bool {
    sharedChannelInUse() || environment("SWIFTMPI_CHECK_COLLECTIVES", default: "0") == "1"
}

/// Collectives whose ranks disagree — on the root, or on which collective they call — throw
/// `.collectiveMismatch` on every rank, naming the call and both sides, at 8 B, 64 KiB and 8 MiB: bcast,
/// reduce, gather, scatter, and one collective against another; the
/// communicator then works normally. The shared-memory channel of one host checks this always (and
/// allgather and alltoall, which take a channel step too); with messages only (`--transport tcp`,
/// several hosts) it needs `SWIFTMPI_CHECK_COLLECTIVES=1`, which also adds allgather, alltoall, scan
/// and exscan. Run by `swiftmpirun -n N swiftmpi-coll-check mismatches`.
func checkMismatches(_ world: Communicator) throws {
    let n = world.size, r = world.rank
    require(n > 1, "the mismatch checks need 2 ranks or more")
    func expectMismatch(_ what: String, naming parts: [String], _ body: () throws -> Void) throws {
        do {
            try body()
            require(false, "\(what): accepted")
        } catch let error as MPIError {
            require(error.code == .collectiveMismatch, "\(what): \(error)")
            for part in parts { require(error.message.contains(part), "\(what): '\(part)' missing from: \(error)") }
        }
        require(try world.allreduce([1], op: .sum) == [n], "\(what): an allreduce afterwards")
    }
    for count in [1, 8 * 1024, 1024 * 1024] {  // Int64 elements: 8 B, 64 KiB, 8 MiB
        let size = "\(count * 8) bytes"
        var buffer = [Int64](repeating: Int64(r), count: count)
        try expectMismatch("bcast with every rank its own root, \(size)", naming: ["bcast: ", "bcast(root: ", "called bcast(root: \(r))"]) {
            try world.bcast(&buffer, root: r)
        }
        try expectMismatch("reduce with roots 0 and 1, \(size)", naming: ["reduce: ", "reduce(root: "]) {
            _ = try world.reduce(buffer, op: .sum, root: r == 0 ? 0 : 1)
        }
        try expectMismatch("bcast on some ranks, allreduce on others, \(size)", naming: ["bcast(root: 0)", "allreduce"]) {
            if r % 2 == 0 { try world.bcast(&buffer, root: 0) } else { _ = try world.allreduce(buffer, op: .sum) }
        }
    }
    for count in [1, 8 * 1024, 1024 * 1024] {
        let size = "\(count * 8) bytes"
        let mine = [Int64](repeating: Int64(r), count: count)
        try expectMismatch("gather with every rank its own root, \(size)", naming: ["gather: ", "called gather(root: \(r))"]) {
            _ = try world.gather(mine, root: r)
        }
        let all = [Int64](repeating: Int64(r), count: count * n)
        try expectMismatch("scatter with roots 0 and 1, \(size)", naming: ["scatter: ", "scatter(root: "]) {
            _ = try world.scatter(all, root: r == 0 ? 0 : 1)
        }
        // The span forms take the same channel step as the array forms (and the same agreement).
        var gathered = [Int64](repeating: 0, count: count * n)
        try expectMismatch("gather on spans with every rank its own root, \(size)", naming: ["gather: ", "called gather(root: \(r))"]) {
            var output = gathered.mutableSpan
            try world.gather(mine.span, into: &output, root: r)
        }
        var part = [Int64](repeating: 0, count: count)
        try expectMismatch("scatter on spans with roots 0 and 1, \(size)", naming: ["scatter: ", "scatter(root: "]) {
            var output = part.mutableSpan
            try world.scatter(all.span, into: &output, root: r == 0 ? 0 : 1)
        }
        try expectMismatch("gather on a span at rank 0, on an array elsewhere, roots 0 and 1, \(size)", naming: ["gather: ", "gather(root: "]) {
            if r == 0 {
                var output = gathered.mutableSpan
                try world.gather(mine.span, into: &output, root: 0)
            } else {
                _ = try world.gather(mine, root: 1)
            }
        }
    }
    // allgather and alltoall take a channel step on one host; with messages only they are checked
    // under SWIFTMPI_CHECK_COLLECTIVES=1, as are scan and exscan (which never use the channel).
    if collectivesAreChecked() {
        for count in [1, 8 * 1024] {  // in the channel, and past it (the channel step agrees first)
            try expectMismatch("allgather on some ranks, alltoall on others, \(count * 8) bytes", naming: ["allgather", "alltoall"]) {
                if r % 2 == 0 {
                    _ = try world.allgather([Int](repeating: r, count: count))
                } else {
                    _ = try world.alltoall([Int](repeating: r, count: count * n))
                }
            }
        }
    }
    if getenv("SWIFTMPI_CHECK_COLLECTIVES").map({ String(cString: $0) }) == "1" {
        try expectMismatch("scan on some ranks, exscan on others", naming: ["scan", "exscan"]) {
            if r % 2 == 0 { _ = try world.scan([r], op: .sum) } else { _ = try world.exscan([r], op: .sum) }
        }
    }
    // A barrier that rank 0 skips meets the allreduce that follows it on the other ranks.
    try expectMismatch("a skipped barrier", naming: ["barrier", "allreduce"]) {
        if r != 0 { try world.barrier() }
        _ = try world.allreduce([r], op: .sum)
    }
}
