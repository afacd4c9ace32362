import Dispatch
import SwiftMPI

/// Runs `body` in a task and blocks until it ends (top-level code stays synchronous: one `await`
/// there would make every collective call in main.swift pick its async form).
func awaitTask(_ name: String, _ body: @escaping @Sendable () async throws -> Void) {
    final class Outcome: @unchecked Sendable { var error: (any Error)? }  // written before `done` is signalled
    let outcome = Outcome()
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        do { try await body() } catch { outcome.error = error }
        done.signal()
    }
    done.wait()
    if let error = outcome.error { require(false, "\(name): \(error)") }
}

/// Every async collective against the serial answer, on several counts and roots, with ranks that
/// arrive late (rank 0 sleeps first, so the others suspend).
func checkAsyncCollectives(_ world: Communicator) {
    let n = world.size, r = world.rank
    awaitTask("async collectives") {
        if r == 0 { try await Task.sleep(nanoseconds: 20_000_000) }
        try await world.barrier()
        for count in [0, 1, 7, 5000] {
            for root in Array(Set([0, n - 1])).sorted() {
                var buffer = r == root ? (0..<count).map { Int64($0 * 3 + root) } : [Int64](repeating: -1, count: count)
                try await world.bcast(&buffer, root: root)
                require(buffer == (0..<count).map { Int64($0 * 3 + root) }, "async bcast \(count) root \(root)")
                let reduced = try await world.reduce([Int](repeating: r + 1, count: count), op: .sum, root: root)
                require(r == root ? reduced! == [Int](repeating: n * (n + 1) / 2, count: count) : reduced == nil, "async reduce \(count)")
                let gathered = try await world.gather([Int32](repeating: Int32(r), count: count), root: root)
                require(r == root ? gathered! == (0..<n).flatMap { [Int32](repeating: Int32($0), count: count) } : gathered == nil, "async gather \(count)")
                let dealt = try await world.scatter(r == root ? (0..<(count * n)).map { Int16(truncatingIfNeeded: $0) } : [], root: root)
                require(dealt == (0..<count).map { Int16(truncatingIfNeeded: r * count + $0) }, "async scatter \(count) root \(root)")
            }
            let mine = (0..<count).map { Double($0) + Double(r) * 0.5 }
            let sum = try await world.allreduce(mine, op: .sum)
            let expectedSum: [Double] = (0..<count).map { i in (0..<n).reduce(0.0) { total, rank in total + Double(i) + Double(rank) * 0.5 } }
            require(sum == expectedSum, "async allreduce \(count)")
            var inPlace = [Int](repeating: r, count: count)
            try await world.allreduce(inPlace: &inPlace, op: .max)
            require(inPlace == [Int](repeating: n - 1, count: count), "async allreduce in place \(count)")
            let everyone = try await world.allgather([UInt8](repeating: UInt8(r), count: count))
            require(everyone == (0..<n).flatMap { [UInt8](repeating: UInt8($0), count: count) }, "async allgather \(count)")
            let exchanged = try await world.alltoall((0..<n).flatMap { to in [UInt16](repeating: UInt16(r * 100 + to), count: count) })
            require(exchanged == (0..<n).flatMap { from in [UInt16](repeating: UInt16(from * 100 + r), count: count) }, "async alltoall \(count)")
            let prefix = try await world.scan([Int](repeating: r + 1, count: count), op: .sum)
            require(prefix == [Int](repeating: (r + 1) * (r + 2) / 2, count: count), "async scan \(count)")
            let before = try await world.exscan([Int](repeating: r + 1, count: count), op: .sum)
            require(r == 0 ? before == nil : before! == [Int](repeating: r * (r + 1) / 2, count: count), "async exscan \(count)")
        }
        // A mistake is an error, not a hang: a count that does not divide among the ranks.
        if n > 1 {
            do {
                _ = try await world.scatter([Int](repeating: 1, count: 1), root: 0)
                require(false, "async scatter of 1 element among \(n) ranks returned")
            } catch let error as MPIError {
                require(error.code == .invalidCount, "async scatter of 1 element: \(error)")
            }
        }
    }
}

/// Nonblocking collectives on arrays (`CollectiveRequest`): several in flight at once, completed
/// together by `Request.waitAll` and then read, against the blocking answers.
func checkOwnedNonblocking(_ world: Communicator) throws {
    let n = world.size, r = world.rank
    let count = 1000
    let sum = try world.iallreduce([Int](repeating: r + 1, count: count), op: .sum)
    let broadcast = try world.ibcast(r == 0 ? (0..<count).map { Int32($0) } : [Int32](repeating: -1, count: count), root: 0)
    let reduced = try world.ireduce([Double](repeating: 1, count: count), op: .sum, root: n - 1)
    let gathered = try world.igather([Int16(r)], root: 0)
    let dealt = try world.iscatter(r == 0 ? (0..<(2 * n)).map { UInt8($0) } : [], count: 2, root: 0)
    let everyone = try world.iallgather([r, r])
    let exchanged = try world.ialltoall((0..<n).map { r * 100 + $0 })
    let prefix = try world.iscan([1], op: .sum)
    let before = try world.iexscan([1], op: .sum)
    try Request.waitAll([
        sum.request, broadcast.request, reduced.request, gathered.request, dealt.request, everyone.request, exchanged.request, prefix.request,
        before.request
    ])
    require(try sum.wait() == [Int](repeating: n * (n + 1) / 2, count: count), "iallreduce on arrays")
    require(try broadcast.wait() == (0..<count).map { Int32($0) }, "ibcast on arrays")
    require(try reduced.wait() == (r == n - 1 ? [Double](repeating: Double(n), count: count) : nil), "ireduce on arrays")
    require(try gathered.wait() == (r == 0 ? (0..<n).map { Int16($0) } : nil), "igather on arrays")
    require(try dealt.wait() == [UInt8(2 * r), UInt8(2 * r + 1)], "iscatter on arrays")
    require(try everyone.wait() == (0..<n).flatMap { [$0, $0] }, "iallgather on arrays")
    require(try exchanged.wait() == (0..<n).map { $0 * 100 + r }, "ialltoall on arrays")
    require(try prefix.wait() == [r + 1], "iscan on arrays")
    require(try before.wait() == (r == 0 ? nil : [r]), "iexscan on arrays")
}

/// The nonblocking v-forms on arrays and their async forms against the blocking ones: rank i
/// contributes i + 1 elements; displacements leave a gap of one element between blocks.
func checkNonblockingVectorCollectives(_ world: Communicator) throws {
    let n = world.size, r = world.rank
    let counts = (0..<n).map { $0 + 1 }
    let gapped = (0..<n).map { $0 * ($0 + 1) / 2 + $0 }  // block i at sum(counts[..<i]) + i
    let mine = [Int32](repeating: Int32(r), count: r + 1)
    for root in Array(Set([0, n - 1])).sorted() {
        let plain = try world.igatherv(mine, counts: counts, root: root)
        let spaced = try world.igatherv(mine, counts: counts, displacements: gapped, root: root)
        let expectedPlain = try world.gatherv(mine, counts: counts, root: root)
        let expectedSpaced = try world.gatherv(mine, counts: counts, displacements: gapped, root: root)
        require(try plain.wait() == expectedPlain && (try spaced.wait()) == expectedSpaced, "igatherv at root \(root)")
        let all = (0..<(n * (n + 1) / 2 + n)).map { Int16($0) }
        let dealt = try world.iscatterv(r == root ? all : [], counts: counts, displacements: gapped, root: root)
        require(try dealt.wait() == (try world.scatterv(r == root ? all : [], counts: counts, displacements: gapped, root: root)), "iscatterv")
    }
    let everyone = try world.iallgatherv(mine, counts: counts)
    require(try everyone.wait() == (try world.allgatherv(mine, counts: counts)), "iallgatherv")
    // alltoallv: rank r sends j + 1 elements (value r * 100 + j) to rank j and receives r + 1 from each.
    let outgoing = (0..<n).flatMap { j in [Int](repeating: r * 100 + j, count: j + 1) }
    let exchanged = try world.ialltoallv(outgoing, sendCounts: counts, receiveCounts: [Int](repeating: r + 1, count: n))
    require(
        try exchanged.wait() == (try world.alltoallv(outgoing, sendCounts: counts, receiveCounts: [Int](repeating: r + 1, count: n))),
        "ialltoallv")
    // MPI's spelling (recvcounts) works for the nonblocking form as for the blocking one.
    let spelled = try world.ialltoallv(outgoing, sendCounts: counts, recvCounts: [Int](repeating: r + 1, count: n))
    require(
        try spelled.wait() == (try world.alltoallv(outgoing, sendCounts: counts, receiveCounts: [Int](repeating: r + 1, count: n))),
        "ialltoallv(recvCounts:)")
    awaitTask("async v-forms") {
        let gathered = try await world.gatherv(mine, counts: counts, root: 0)
        require(r != 0 || gathered! == (0..<n).flatMap { [Int32](repeating: Int32($0), count: $0 + 1) }, "async gatherv")
        let allv = try await world.allgatherv(mine, counts: counts, displacements: gapped)
        require(allv.count == n * (n + 1) / 2 + n - 1 && allv[gapped[n - 1]] == Int32(n - 1), "async allgatherv")
        let swapped = try await world.alltoallv(outgoing, sendCounts: counts, receiveCounts: [Int](repeating: r + 1, count: n))
        require(swapped == (0..<n).flatMap { j in [Int](repeating: j * 100 + r, count: r + 1) }, "async alltoallv")
    }
    // Reduce-scatter, nonblocking and awaited, against the blocking form.
    let contributions = (0..<(n * (n + 1) / 2)).map { Double($0 + r) }
    let scattered = try world.ireduceScatter(contributions, counts: counts, op: .sum)
    let blocks = try world.ireduceScatterBlock([Int](repeating: r + 1, count: 3 * n), op: .sum)
    require(try scattered.wait() == (try world.reduceScatter(contributions, counts: counts, op: .sum)), "ireduceScatter")
    require(try blocks.wait() == [Int](repeating: n * (n + 1) / 2, count: 3), "ireduceScatterBlock")
    awaitTask("async reduceScatter") {
        let mine = try await world.reduceScatterBlock([Int](repeating: 1, count: 2 * n), op: .sum)
        require(mine == [n, n], "async reduceScatterBlock: \(mine)")
    }
    // A root refusing overlapping displacements: every rank completes, the root's wait throws.
    if n > 1 {
        let overlapping = [Int](repeating: 0, count: n)
        let refused = try world.igatherv(mine, counts: counts, displacements: overlapping, root: 0)
        do {
            _ = try refused.wait()
            require(r != 0, "igatherv with overlapping displacements returned at the root")
        } catch {
            require(r == 0 && error.code == .invalidArgument, "igatherv with overlapping displacements: \(error)")
        }
    }
    require(try world.allreduce([1], op: .sum) == [n], "allreduce after the nonblocking v-forms")
}
