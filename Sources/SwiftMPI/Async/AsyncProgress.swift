#if canImport(Glibc)
import Glibc
#endif

/// Resumes tasks that await requests (``Request/value``).
///
/// A task whose request does not complete within ``inlineSpin`` suspends; this object's thread then
/// progresses the engine for it and resumes the task when the request settles, fails, or — for a
/// receive that has not matched yet — when the task is cancelled. The thread starts with the first
/// suspension and parks on a condition variable whenever no task waits, so a program that never
/// awaits pays nothing, and one whose tasks are idle does not burn a core: after 1 ms without
/// progress the thread sleeps on the shared-memory doorbell (woken by a peer's packet) or naps
/// (sockets only), 1 ms at a time, 10 ms after a second; every 0.1 s it asks whether the peers are
/// alive, and a dead one fails the requests that depend on it.
///
/// Its lists are guarded by the runtime's engine lock, which the first suspension installs.
/// Sendable because every mutable property is touched only with that lock (the lists) or with
/// `parking`'s mutex (the parking flags) held; the thread handle is written before the thread
/// starts and read by `stop()` only.
final class AsyncProgress: @unchecked Sendable {
    /// How long an awaited request is progressed on the awaiting task's own thread before the task
    /// suspends: a message that arrives within it costs no thread hand-off (a shared-memory
    /// round trip takes well under a microsecond; a hand-off, several).
    static let inlineSpin = 0.000_05

    /// How often an idle progress thread asks the transports whether its peers are alive (a
    /// shared-memory peer's death is seen only this way): a signal-0 `kill` per local peer.
    static let peerCheckInterval = 0.1

    /// A suspended task: what it waits for, as two closures the thread calls with the lock held.
    private struct Waiter {
        let id: UInt64
        /// The outcome once the awaited thing has happened, else nil.
        let poll: (Engine) -> Result<Status, any Error>?
        /// Withdraws the awaited thing for a cancelled task; false when it cannot be (it goes on).
        let withdraw: (Engine) -> Bool
        let continuation: UnsafeContinuation<Status, any Error>
    }

    private unowned let runtime: Runtime  // owns this object and outlives the thread (stop() joins it)
    private let lock: EngineLock
    // Guarded by `lock`:
    private var waiters: [Waiter] = []
    private var cancelled: [UInt64] = []
    private var nextID: UInt64 = 0
    private var stopped = false
    /// Written once, with `lock` held, before the thread runs.
    private var thread: pthread_t?
    private let parking = Parking()

    init(runtime: Runtime, lock: EngineLock) {
        self.runtime = runtime
        self.lock = lock
    }

    /// Suspends until `request` settles and returns its status; throws its error, `.processFailed`
    /// when a peer it depends on is gone (`.processFailedPending` for a wildcard `irecv` that pends
    /// on an unacknowledged failure, the request staying active), or `CancellationError` when the
    /// task is cancelled while a receive has not matched (the receive is withdrawn, so a later
    /// receive gets its message).
    func completion(of request: Request) async throws -> Status {
        try await suspend(
            until: { engine in
                if request.settle(engine) { return Result { try request.wait() } }
                if engine.anyFault, let pending = request.pendingFailure(engine) { return .failure(pending) }
                return nil
            },
            withdraw: { engine in request.cancelUnmatchedReceive(engine) })
    }

    /// Suspends until `poll` returns an outcome (called by the thread with the lock held, after each
    /// progress); a cancelled task ends with `CancellationError` once `withdraw` succeeds.
    func suspend(
        until poll: @escaping (Engine) -> Result<Status, any Error>?, withdraw: @escaping (Engine) -> Bool
    ) async throws -> Status {
        lock.lock()
        let id = nextID
        nextID &+= 1
        if thread == nil { startThread() }
        lock.unlock()
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Status, any Error>) in
                lock.lock()
                if stopped {
                    lock.unlock()
                    continuation.resume(throwing: MPIError(.alreadyFinalized, "await of a request after MPI.finalize()"))
                    return
                }
                waiters.append(Waiter(id: id, poll: poll, withdraw: withdraw, continuation: continuation))
                lock.unlock()
                parking.wake()
            }
        } onCancel: {
            lock.lock()
            cancelled.append(id)
            lock.unlock()
            parking.wake()
        }
    }

    /// Ends the thread: tasks still waiting get `.alreadyFinalized`. Called by `MPI.finalize()`.
    func stop() {
        parking.stop()
        if let thread { pthread_join(thread, nil) }
        lock.lock()
        stopped = true
        let left = waiters
        waiters.removeAll()
        lock.unlock()
        for waiter in left {
            waiter.continuation.resume(throwing: MPIError(.alreadyFinalized, "MPI.finalize() while a task awaited a request"))
        }
    }

    /// Call with the lock held.
    private func startThread() {
        var handle = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let result = pthread_create(
            &handle, nil,
            { context in
                Unmanaged<AsyncProgress>.fromOpaque(context!).takeRetainedValue().run()
                return nil
            }, context)
        if result == 0 {
            thread = handle
        } else {
            Unmanaged<AsyncProgress>.fromOpaque(context).release()
            report("could not start the progress thread for awaiting tasks (error \(result)); awaits will spin")
        }
    }

    // MARK: - The thread

    private func run() {
        var ready: [(Waiter, Result<Status, any Error>)] = []
        var idleSince = 0.0
        var lastPeerCheck = 0.0
        while !parking.isStopping {
            lock.lock()
            let engine = runtime.engine
            var progressed = false
            if runtime.isActive {
                progressed = engine.progress()
                settleWaiters(engine, into: &ready)
                if !progressed && ready.isEmpty && !waiters.isEmpty && idleSince > 0 {
                    let now = MPI.wtime()
                    if now - lastPeerCheck > Self.peerCheckInterval {
                        lastPeerCheck = now
                        // A dead peer fails every operation that depends on it, and so its waiters.
                        for (peer, reason) in engine.routes.checkPeers() { engine.failPeer(peer, reason) }
                        settleWaiters(engine, into: &ready)
                    }
                }
            }
            let nobodyWaits = waiters.isEmpty
            lock.unlock()
            let resumed = !ready.isEmpty
            for (waiter, result) in ready { waiter.continuation.resume(with: result) }
            ready.removeAll(keepingCapacity: true)
            if nobodyWaits {
                idleSince = 0
                if !parking.park() { return }  // stopping
                continue
            }
            if progressed || resumed {
                idleSince = 0
                continue
            }
            let now = MPI.wtime()
            if idleSince == 0 { idleSince = now }
            nap(idleFor: now - idleSince)
        }
    }

    /// Moves settled (and cancelled, unmatched) waiters to `ready`. Call with the lock held.
    private func settleWaiters(_ engine: Engine, into ready: inout [(Waiter, Result<Status, any Error>)]) {
        var index = 0
        while index < waiters.count {
            let waiter = waiters[index]
            if let outcome = waiter.poll(engine) {
                ready.append((waiter, outcome))
            } else if cancelled.contains(waiter.id) && waiter.withdraw(engine) {
                ready.append((waiter, .failure(CancellationError())))
            } else {
                index += 1
                continue
            }
            waiters.remove(at: index)
            if let position = cancelled.firstIndex(of: waiter.id) { cancelled.remove(at: position) }
        }
    }

    /// Waits a little without the lock: yields for the first millisecond, then sleeps.
    private func nap(idleFor seconds: Double) {
        if seconds < 0.001 {
            sched_yield()
            return
        }
        let milliseconds: Int32 = seconds > 1 ? 10 : 1
        lock.lock()
        let engine = runtime.engine
        if runtime.isActive && engine.routes.canSleepOnSharedMemory {
            engine.routes.sleepOnSharedMemory(milliseconds: milliseconds, unlocking: lock)
            lock.unlock()
        } else {
            lock.unlock()
            usleep(seconds > 1 ? 1000 : 200)  // sockets only (or none): a short nap, their packets wake nothing here
        }
    }
}

/// The progress thread's parking place: a mutex, a condition variable and two flags. Sendable
/// because the flags are read and written only with the mutex held.
private final class Parking: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var pending = false
    private var stopping = false

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Something may need the thread: a new waiter or a cancellation.
    func wake() {
        pthread_mutex_lock(mutex)
        pending = true
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    var isStopping: Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return stopping
    }

    /// Sleeps until ``wake()`` (returns true) or ``stop()`` (false); returns at once if either came
    /// since the last park.
    func park() -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !pending && !stopping { pthread_cond_wait(condition, mutex) }
        pending = false
        return !stopping
    }
}
