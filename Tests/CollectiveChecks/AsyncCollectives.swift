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
