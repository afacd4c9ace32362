#if canImport(Glibc)
import Glibc
#endif

/// A nonblocking operation in flight (MPI_Request).
///
/// Complete it with ``wait()`` or ``test()`` (or the collective forms ``waitAll(_:)``, ``waitAny(_:)``,
/// ``waitSome(_:)``, ``testAll(_:)``, ``testAny(_:)``). Waiting on or testing a request that already
/// completed returns its status again (or throws its error again), like MPI's null request. A request
/// keeps an array it was given alive until it completes; buffers given as pointers must stay valid
/// until then. Requests live happily in arrays.
public final class Request: @unchecked Sendable {
    enum State {
        case send(SendOperation, Status)
        case receive(ReceiveOperation)
        case complete(Status)
        case failed(MPIError)
        /// A persistent request that has not been started (or whose last run was consumed).
        case inactive
        /// A nonblocking collective in progress.
        case schedule(CollectiveSchedule)
    }

    /// What a persistent request does each time it is started.
    enum Persistent {
        case send(Communicator, UnsafeRawBufferPointer, AnyObject?, destination: Int, tag: Int, SendMode)
        case receive(Communicator, UnsafeMutableRawBufferPointer, source: Int, tag: Int)
    }

    // Dynamic exclusivity checks on these cost more than the rest of a test of a completed request;
    // the engine lock (or the single calling thread) already serializes every access.
    @exclusivity(unchecked) private var state: State
    private let runtime: Runtime?
    /// How many requests the engine keeps for reuse (a power of two).
    static let poolSize = 256
    private let persistent: Persistent?
    /// True once a wait or test returned this request's result: waitAny, waitSome and testAny then skip
    /// it, as MPI skips requests it has set to MPI_REQUEST_NULL.
    @exclusivity(unchecked) private var reported = false

    init(completed status: Status) {
        state = .complete(status)
        runtime = nil
        persistent = nil
    }

    private init(runtime: Runtime, state: State) {
        self.state = state
        self.runtime = runtime
        persistent = nil
    }

    /// A request in `state` for a send or receive (call with the engine locked). Nonblocking calls
    /// make one per message, so it comes from the engine's pool when a pooled request is held by
    /// nobody else any more (`isKnownUniquelyReferenced`): no allocation then. A new request takes
    /// the pool slot it looked at; the request that was there lives on with whoever holds it.
    @inline(__always)
    static func make(_ engine: Engine, _ state: State) -> Request {
        for _ in 0..<2 {
            engine.requestCursor = (engine.requestCursor &+ 1) & (poolSize - 1)
            if isKnownUniquelyReferenced(&engine.requestPool[engine.requestCursor]) {
                let request = engine.requestPool[engine.requestCursor].unsafelyUnwrapped
                request.state = state
                request.reported = false
                return request
            }
        }
        let request = Request(runtime: engine.runtime.unsafelyUnwrapped, state: state)
        engine.requestPool[engine.requestCursor] = request
        return request
    }

    /// A nonblocking collective: starts its first steps now.
    init(runtime: Runtime, schedule: CollectiveSchedule) throws {
        state = .schedule(schedule)
        self.runtime = runtime
        persistent = nil
        _ = try runtime.withEngine("collective") { _ in self.settle() }
    }

    /// True once the operation completed; throws its error. Does not progress. (Used by schedules.)
    func isComplete() throws -> Bool {
        guard settle() else { return false }
        if case .failed(let error) = state { throw error }
        return true
    }

    init(runtime: Runtime, persistent: Persistent) {
        state = .inactive
        self.runtime = runtime
        self.persistent = persistent
    }

    /// True for requests made by `sendInit`/`recvInit`.
    public var isPersistent: Bool { persistent != nil }

    /// Waits until the operation completes and returns its status (MPI_Wait). For a send, the status
    /// names the destination, tag and byte count. An inactive persistent request returns an empty
    /// status at once. Throws the operation's error (for example `.truncate`).
    @discardableResult
    public func wait() throws -> Status {
        if let runtime, !isSettled {
            try runtime.wait("Request.wait()") { _ in self.settle() }
        }
        reported = true
        return try result()
    }

    /// Progresses once and returns the status if the operation has completed, else nil (MPI_Test).
    public func test() throws -> Status? {
        if let runtime, !isSettled {
            let done = try runtime.withEngine("Request.test()") { engine in
                engine.progress()
                return self.settle()
            }
            if !done { return nil }
        }
        reported = true
        return try result()
    }

    /// Cancels a receive that has not matched yet: it completes with `status.isCancelled` set
    /// (MPI_Cancel). A send cannot be cancelled once started (MPI 4.1 deprecates that), and a receive
    /// that already matched completes normally: then this call has no effect.
    public func cancel() {
        guard case .receive(let operation) = state, let runtime else { return }
        let cancelled = (try? runtime.withEngine("Request.cancel()") { $0.cancelReceive(operation) }) ?? false
        if cancelled {
            state = .complete(Status(source: MPI.anySource, tag: MPI.anyTag, byteCount: 0, isCancelled: true))
        }
    }

    /// Starts a persistent request again (MPI_Start). Throws `.invalidArgument` for a request that is
    /// not persistent or still active.
    public func start() throws {
        guard let persistent else { throw MPIError(.invalidArgument, "Request.start(): not a persistent request") }
        switch state {
        case .send, .receive, .schedule: throw MPIError(.invalidArgument, "Request.start(): the request is still active")
        default: break
        }
        let started: Request
        switch persistent {
        case .send(let communicator, let bytes, let keepAlive, let destination, let tag, let mode):
            started = try communicator.startSend(bytes, keepAlive: keepAlive, to: destination, tag: tag, mode: mode, "Request.start()")
        case .receive(let communicator, let buffer, let source, let tag):
            started = try communicator.startReceive(buffer, keepAlive: nil, from: source, tag: tag, "Request.start()")
        }
        state = started.state
        reported = false
    }

    /// Starts every request (MPI_Startall).
    public static func startAll(_ requests: [Request]) throws {
        for request in requests { try request.start() }
    }

    /// Waits for every request; returns their statuses in order (MPI_Waitall). If some failed, all
    /// are still completed first, then the first error is thrown.
    @discardableResult
    public static func waitAll(_ requests: [Request]) throws -> [Status] {
        var statuses: [Status] = []
        statuses.reserveCapacity(requests.count)
        var firstError: Error?
        for request in requests {
            do {
                statuses.append(try request.wait())
            } catch {
                firstError = firstError ?? error
                statuses.append(.empty)
            }
        }
        if let firstError { throw firstError }
        return statuses
    }

    /// Waits until one request completes and returns its index and status (MPI_Waitany). Requests
    /// already reported by an earlier wait or test are skipped; throws `.invalidArgument` if none is left.
    public static func waitAny(_ requests: [Request]) throws -> (index: Int, status: Status) {
        let candidates = requests.indices.filter { !requests[$0].reported && !requests[$0].isInactive }
        guard !candidates.isEmpty else {
            throw MPIError(.invalidArgument, "Request.waitAny(_:): no active request among \(requests.count)")
        }
        var found = candidates[0]
        if let runtime = candidates.lazy.compactMap({ requests[$0].runtime }).first {
            try runtime.wait("Request.waitAny(_:)") { _ in
                guard let index = candidates.first(where: { requests[$0].settle() }) else { return false }
                found = index
                return true
            }
        }
        return (found, try requests[found].wait())
    }

    /// Progresses once and returns the index and status of a completed request, or nil (MPI_Testany).
    public static func testAny(_ requests: [Request]) throws -> (index: Int, status: Status)? {
        let candidates = requests.indices.filter { !requests[$0].reported && !requests[$0].isInactive }
        guard !candidates.isEmpty else { return nil }
        if let runtime = candidates.lazy.compactMap({ requests[$0].runtime }).first {
            try runtime.withEngine("Request.testAny(_:)") { $0.progress() }
        }
        guard let index = candidates.first(where: { requests[$0].settleLocked() }) else { return nil }
        return (index, try requests[index].wait())
    }

    /// Progresses once and returns all statuses if every request has completed, else nil (MPI_Testall).
    public static func testAll(_ requests: [Request]) throws -> [Status]? {
        if let runtime = requests.lazy.compactMap(\.runtime).first {
            try runtime.withEngine("Request.testAll(_:)") { $0.progress() }
        }
        guard requests.allSatisfy({ $0.settleLocked() }) else { return nil }
        return try waitAll(requests)
    }

    /// Waits until at least one request completes; returns every completed one not reported before
    /// (MPI_Waitsome). Returns an empty array when no active request is left.
    public static func waitSome(_ requests: [Request]) throws -> [(index: Int, status: Status)] {
        let candidates = requests.indices.filter { !requests[$0].reported && !requests[$0].isInactive }
        guard !candidates.isEmpty else { return [] }
        if let runtime = candidates.lazy.compactMap({ requests[$0].runtime }).first {
            try runtime.wait("Request.waitSome(_:)") { _ in candidates.contains { requests[$0].settle() } }
        }
        return try candidates.filter { requests[$0].settleLocked() }.map { ($0, try requests[$0].wait()) }
    }

    /// The status once the request completes, awaiting without blocking the thread (progress runs
    /// between yields of the task). Use with thread level `.serialized` or `.multiple` when other tasks
    /// also call SwiftMPI.
    public var value: Status {
        get async throws {
            while true {
                if let status = try test() { return status }
                await Task.yield()
            }
        }
    }

    // MARK: - Completion bookkeeping

    private var isSettled: Bool {
        switch state {
        case .complete, .failed, .inactive: true
        case .send, .receive, .schedule: false
        }
    }

    private var isInactive: Bool { if case .inactive = state { true } else { false } }

    /// Moves a finished operation's outcome into the request and returns the operation to the
    /// engine's pool (nothing else refers to a completed operation). Call with the engine locked.
    fileprivate func settle() -> Bool {
        switch state {
        case .send(let operation, let status):
            guard operation.isComplete else { return false }
            state = operation.error.map { .failed($0) } ?? .complete(status)
            runtime.unsafelyUnwrapped.engine.recycle(operation)
        case .receive(let operation):
            guard operation.isComplete else { return false }
            state = operation.error.map { .failed($0) } ?? .complete(operation.status)
            runtime.unsafelyUnwrapped.engine.recycle(operation)
        case .schedule(let schedule):
            do {
                guard try schedule.advance() else { return false }
                state = .complete(.empty)
            } catch let error as MPIError {
                state = .failed(error)
            } catch {
                state = .failed(MPIError(.internalError, "collective: \(error)"))
            }
        case .complete, .failed, .inactive:
            break
        }
        return true
    }

    private func settleLocked() -> Bool {
        guard let runtime, !isSettled else { return true }
        return (try? runtime.withEngine("Request") { _ in self.settle() }) ?? false
    }

    private func result() throws -> Status {
        switch state {
        case .complete(let status): return status
        case .failed(let error): throw error
        case .inactive: return .empty
        case .send, .receive, .schedule: preconditionFailure("Request.result() before the request settled")
        }
    }
}
