#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import SwiftMPI

/// Runs `body` as a task and blocks the main thread until it ends; a thrown error fails the job.
func runTask(_ name: String, _ body: @escaping @Sendable () async throws -> Void) {
    let finished = DispatchSemaphore(value: 0)
    Task.detached {
        do { try await body() } catch { require(false, "\(name): \(error)") }
        finished.signal()
    }
    finished.wait()
}

/// CPU seconds this process has used (user + system).
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// 64 tasks per rank each await a wildcard receive (any source, one tag) before any message is
/// sent; every rank then idles a second with all of them suspended (its CPU time is measured: the
/// tasks must not burn a core), and only then sends its messages — from a task started after the
/// 64, so a receive that blocked its thread instead of suspending would starve the pool and hang.
/// Each rank must get exactly the messages addressed to it: none lost, none twice. Needs
/// `.multiple` (tasks run on several threads at once).
func asyncTasks(_ world: Communicator) throws {
    require(MPI.threadLevel == .multiple, "async-tasks needs the 'multiple' argument (tasks call SwiftMPI from several threads)")
    let tasks = 64
    let tag = 500
    let size = world.size, rank = world.rank
    // Message k (0..<64) for rank r comes from rank (r + 1 + k) % size: every peer, and itself when alone.
    let expected = (0..<tasks).map { Int64(((rank + 1 + $0) % size) * 1000 + $0) }.sorted()
    let received = ReceivedValues()
    runTask("async-tasks") {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<tasks {
                group.addTask {
                    let (values, status) = try await world.recv(count: 1, of: Int64.self, from: MPI.anySource, tag: tag)
                    require(values.count == 1 && Int(values[0]) / 1000 == status.source, "async-tasks: \(values) from \(status.source)")
                    received.add(values[0])
                }
            }
            // Every receive is posted (and suspended) before anything is sent anywhere.
            try await Task.sleep(nanoseconds: 200_000_000)
            let cpuBefore = cpuSeconds(), wallBefore = MPI.wtime()
            try await Task.sleep(nanoseconds: 1_000_000_000)
            let cpu = cpuSeconds() - cpuBefore, wall = MPI.wtime() - wallBefore
            print(
                "async-tasks rank \(rank): \(tasks) suspended receives, idle \(Double(Int(wall * 100)) / 100) s used \(Double(Int(cpu * 1000)) / 1000) s of CPU"
            )
            require(cpu < 0.35 * wall, "async-tasks: \(tasks) suspended receives burned \(cpu) s of CPU in \(wall) s")
            group.addTask {
                try await world.barrier()
                for k in 0..<tasks {
                    let destination = ((rank - 1 - k) % size + size) % size  // the rank whose message k comes from here
                    try await world.send([Int64(rank * 1000 + k)], to: destination, tag: tag)
                }
            }
            try await group.waitForAll()
        }
    }
    require(received.sorted == expected, "async-tasks: received \(received.sorted), expected \(expected)")
}

/// Values collected by concurrent tasks.
final class ReceivedValues: @unchecked Sendable {  // every access holds `lock`
    private let lock = NSLockLike()
    private var values: [Int64] = []
    func add(_ value: Int64) { lock.withLock { values.append(value) } }
    var sorted: [Int64] { lock.withLock { values.sorted() } }
}

/// A pthread mutex (Foundation is not imported here).
final class NSLockLike: @unchecked Sendable {  // the mutex is made for sharing between threads
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    init() { pthread_mutex_init(mutex, nil) }
    deinit { pthread_mutex_destroy(mutex); mutex.deallocate() }
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// A task awaiting a receive that has not matched is cancelled: the await throws
/// `CancellationError`, and the message sent afterwards goes to the next receive, intact. A
/// cancelled await of a receive whose message is already there returns it instead.
func asyncCancel(_ world: Communicator) throws {
    guard world.size >= 2, world.rank < 2 else { return }
    if world.rank == 1 {
        runTask("async-cancel") {
            let waiting = Task { try await world.recv(count: 4, of: Int32.self, from: 0, tag: 600) }
            try await Task.sleep(nanoseconds: 100_000_000)
            waiting.cancel()
            do {
                let (values, _) = try await waiting.value
                require(false, "async-cancel: a cancelled receive returned \(values)")
            } catch is CancellationError {
            }
        }
    }
    // Rank 0 sends only once rank 1 has cancelled (ranks 0 and 1 only: no barrier of the whole world).
    if world.rank == 1 { try world.send([UInt8(1)], to: 0, tag: 599) }
    if world.rank == 0 {
        var token: [UInt8] = [0]
        try world.recv(into: &token, from: 1, tag: 599)
        try world.send([Int32(1), 2, 3, 4], to: 1, tag: 600)
    }
    if world.rank == 1 {
        var values = [Int32](repeating: 0, count: 4)
        try world.recv(into: &values, from: 0, tag: 600)
        require(values == [1, 2, 3, 4], "async-cancel: the message after the cancelled receive: \(values)")
        // Already matched: cancelling the task does not lose the message.
        runTask("async-cancel matched") {
            let request = try world.irecv(count: 2, of: Int32.self, from: 0, tag: 601)
            try await Task.sleep(nanoseconds: 50_000_000)
            let waiting = Task { try await request.value }
            waiting.cancel()
            let (values, status) = try await waiting.value
            require(values == [5, 6] && status.byteCount == 8, "async-cancel: matched receive \(status)")
        }
    } else {
        try world.send([Int32(5), 6], to: 1, tag: 601)
    }
}

/// `for try await` over `world.messages(of:from:tag:)`: rank 0 takes 20 messages of 0-3000
/// elements from every other rank, each whole and in each sender's order; a message that is not
/// a whole number of elements throws `.invalidDatatype`; messages taken by an awaited `mprobe` are
/// received by an awaited `mrecv` and by `imrecv` into an owned array; an awaited `mprobe` that is
/// cancelled takes nothing.
func asyncStream(_ world: Communicator) throws {
    let perSender = 20
    @Sendable func length(_ sender: Int, _ index: Int) -> Int { (sender * 997 + index * 151) % 3001 }
    if world.rank == 0 {
        runTask("async-stream") {
            var next = [Int](repeating: 0, count: world.size)
            var count = 0
            if world.size > 1 {
                for try await (values, status) in world.messages(of: Int32.self, tag: 700) {
                    let sender = status.source, index = next[sender]
                    require(values.count == length(sender, index), "async-stream: \(values.count) elements from \(sender) #\(index)")
                    require(values.allSatisfy { $0 == Int32(sender * 1000 + index) }, "async-stream: payload from \(sender) #\(index)")
                    next[sender] += 1
                    count += 1
                    if count == perSender * (world.size - 1) { break }
                }
                var odd = world.messages(of: Int32.self, from: 1, tag: 702).makeAsyncIterator()
                do {
                    _ = try await odd.next()
                    require(false, "async-stream: 6 bytes received as Int32")
                } catch let error as MPIError {
                    require(error.code == .invalidDatatype, "async-stream: 6 bytes as Int32: \(error)")
                }
            }
            if world.size > 1 {
                // mprobe, then receive the taken message into an owned array: awaited, and started.
                let first = try await world.mprobe(from: 1, tag: 704)
                var landing = [Int64](repeating: -1, count: 4000)
                let status = try await world.mrecv(first, into: &landing)
                require(
                    status.count(of: Int64.self) == 3000 && landing.prefix(3000).allSatisfy { $0 == 704 } && landing[3000] == -1, "async-stream: awaited mrecv")
                let second = try await world.mprobe(from: 1, tag: 705)
                let owned = try world.imrecv(second, into: [Int64](repeating: -1, count: 2))
                let (values, _) = try owned.wait()
                require(values == [705, -1], "async-stream: imrecv into an owned array: \(values)")
                do {
                    _ = try world.imrecv(second, into: [Int64](repeating: 0, count: 2))
                    require(false, "async-stream: a message received twice")
                } catch let error as MPIError {
                    require(error.code == .invalidArgument, "async-stream: second imrecv: \(error)")
                }
            }
            let probing = Task { try await world.mprobe(from: MPI.anySource, tag: 703) }
            try await Task.sleep(nanoseconds: 20_000_000)
            probing.cancel()
            do {
                _ = try await probing.value
                require(false, "async-stream: a cancelled mprobe returned")
            } catch is CancellationError {
            }
        }
    } else {
        for index in 0..<perSender {
            try world.send([Int32](repeating: Int32(world.rank * 1000 + index), count: length(world.rank, index)), to: 0, tag: 700)
        }
        if world.rank == 1 {
            try world.send([UInt8](repeating: 1, count: 6), to: 0, tag: 702)
            try world.send([Int64](repeating: 704, count: 3000), to: 0, tag: 704)
            try world.send([Int64(705)], to: 0, tag: 705)
        }
    }
}

/// Generalized requests: one completed by another thread is waited on in a list with a receive and
/// reports the status the program gave; `test()` finds it pending first; an awaited one completes;
/// a failed one throws the program's error; `cancel()` runs the cancel closure with whether it had
/// completed; a query closure gives the status in the wait.
func generalizedRequests(_ world: Communicator) throws {
    let given = Status(source: 3, tag: 77, byteCount: 1234)
    let work = try GeneralizedRequest()
    require(try work.request.test() == nil, "generalized: complete before the program said so")
    DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(20)) { work.complete(status: given) }
    let peer = (world.rank + 1) % world.size, from = (world.rank - 1 + world.size) % world.size
    let receive = try world.irecv(count: 1, of: Int.self, from: from, tag: 880)
    try world.send([world.rank], to: peer, tag: 880)
    let statuses = try Request.waitAll([work.request, receive.request])
    require(statuses[0].source == 3 && statuses[0].tag == 77 && statuses[0].byteCount == 1234, "generalized: status \(statuses[0])")
    require(try receive.wait().0 == [from], "generalized: the receive beside it")
    work.complete(status: .empty)  // a second completion changes nothing
    require(try work.request.wait().tag == 77, "generalized: completed twice")

    runTask("generalized await") {
        let awaited = try GeneralizedRequest()
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(10)) { awaited.complete(status: given) }
        let status = try await awaited.request.value
        require(status.tag == 77, "generalized: awaited status \(status)")
    }

    let failing = try GeneralizedRequest()
    failing.fail(MPIError(.transport, "the disk went away"))
    let error = requireError(.transport) { try failing.request.wait() }
    require(error?.message == "the disk went away", "generalized: the program's error: \(String(describing: error))")

    /// Written by the cancel closure, read after it returned (one thread).
    final class Calls: @unchecked Sendable { var completed: [Bool] = [] }
    let calls = Calls()
    let cancellable = try GeneralizedRequest(cancel: { calls.completed.append($0) })
    cancellable.cancel()
    cancellable.complete()
    cancellable.cancel()
    require(calls.completed == [false, true], "generalized: cancel closure calls \(calls.completed)")

    // A query closure gives the status, once, in the wait that finds the request complete.
    // @unchecked: the query closure runs inside this thread's own wait (SwiftMPI calls it from the
    // wait that completes the request), so the count is never touched by two threads.
    final class Queries: @unchecked Sendable { var count = 0 }
    let queries = Queries()
    let queried = try GeneralizedRequest(query: {
        queries.count += 1
        return Status(source: 5, tag: 6, byteCount: 7)
    })
    queried.complete(status: given)
    require(queries.count == 0, "generalized: query ran before a wait")
    let status = try queried.request.wait()
    require(
        status.source == 5 && status.tag == 6 && status.byteCount == 7 && queries.count == 1, "generalized: queried status \(status), \(queries.count) queries")
}
