#if canImport(Glibc)
import Glibc
#endif
import SwiftMPITrace

/// A nonblocking operation in flight (MPI_Request).
///
/// Complete it with ``wait()`` or ``test()`` (or the collective forms ``waitAll(_:)``, ``waitAny(_:)``,
/// ``waitSome(_:)``, ``testAll(_:)``, ``testAny(_:)``). Waiting on or testing a request that already
/// completed returns its status again (or throws its error again), like MPI's null request. A request
/// keeps an array it was given alive until it completes; buffers given as pointers must stay valid
/// until then. Requests live happily in arrays.
///
/// Sendable because every use of its mutable state happens with the engine locked (at thread level
/// `.multiple`, `Runtime`'s lock; below it, MPI allows one thread at a time): the request is only
/// read or changed inside `Runtime.withEngine`/`wait`, so moving it between threads is safe.
public final class Request: @unchecked Sendable {
    /// What the request is doing. The operation, status and error it refers to are separate stored
    /// properties rather than an enum's payloads: copying a multi-payload enum costs an outlined
    /// copy and destroy per access, on the path of every nonblocking message.
    enum Phase: UInt8 {
        /// A send in flight: `sendOperation` is set, `status` is what completion reports.
        case send
        /// A receive in flight: `receiveOperation` is set.
        case receive
        /// Done: `status` holds the result.
        case complete
        /// Done with `error`.
        case failed
        /// A persistent request that has not been started (or whose last run was consumed).
        case inactive
        /// A nonblocking collective in progress: `schedule` is set.
        case schedule
    }

    /// What a persistent request does each time it is started.
    enum Persistent {
        case send(Communicator, UnsafeRawBufferPointer, AnyObject?, destination: Int, tag: Int, SendMode)
        /// (`keepAlive`: the owned buffer of ``PersistentReceive``, nil for caller memory.)
        case receive(Communicator, UnsafeMutableRawBufferPointer, AnyObject?, source: Int, tag: Int)
        /// `count` instances of a datatype from the buffer (checked when the request was made).
        case typedSend(Communicator, UnsafeRawBufferPointer, count: Int, Datatype, AnyObject?, destination: Int, tag: Int, SendMode)
        case typedReceive(Communicator, UnsafeMutableRawBufferPointer, count: Int, Datatype, source: Int, tag: Int)
        /// A persistent collective (MPI-4 `MPI_Allreduce_init`, …): starts its nonblocking form.
        case collective(() throws -> Request)
        /// A partitioned send or receive over caller memory (PartitionedRequests.swift): each start begins a round.
        case partitioned(PartitionedRound)
    }

    // Dynamic exclusivity checks on these cost more than the rest of a test of a completed request;
    // the engine lock (or the single calling thread) already serializes every access.
    @exclusivity(unchecked) private var phase: Phase
    @exclusivity(unchecked) private var status = Status.empty
    @exclusivity(unchecked) private var sendOperation: SendOperation?
    @exclusivity(unchecked) private var receiveOperation: ReceiveOperation?
    @exclusivity(unchecked) private var error: MPIError?
    @exclusivity(unchecked) private var schedule: CollectiveSchedule?
    private let runtime: Runtime?
    /// How many requests the engine keeps for reuse (a power of two).
    static let poolSize = 256
    private let persistent: Persistent?
    /// True once a wait or test returned this request's result: waitAny, waitSome and testAny then skip
    /// it, as MPI skips requests it has set to MPI_REQUEST_NULL.
    @exclusivity(unchecked) private var reported = false

    /// A request that is already complete with `status` (the C interface's nonblocking file calls,
    /// which move their data before they return).
    package static func completed(_ status: Status) -> Request { Request(completed: status) }

    init(completed status: Status) {
        phase = .complete
        self.status = status
        runtime = nil
        persistent = nil
    }

    private init(runtime: Runtime) {
        phase = .complete
        self.runtime = runtime
        persistent = nil
    }

    /// A request for a send (`operation` in flight, or nil when the send already completed) that
    /// reports `status`. Call with the engine locked.
    @inline(__always)
    static func make(_ engine: Engine, send operation: SendOperation?, status: Status) -> Request {
        let request = make(engine)
        request.phase = operation == nil ? .complete : .send
        request.sendOperation = operation
        if request.receiveOperation != nil { request.receiveOperation = nil }  // a dropped, unsettled request's
        request.status = status
        return request
    }

    /// A request for a posted receive. Call with the engine locked.
    @inline(__always)
    static func make(_ engine: Engine, receive operation: ReceiveOperation) -> Request {
        let request = make(engine)
        request.phase = .receive
        request.receiveOperation = operation
        if request.sendOperation != nil { request.sendOperation = nil }  // a dropped, unsettled request's
        return request
    }

    /// Nonblocking calls make one request per message, so it comes from the engine's pool when a
    /// pooled request is held by nobody else any more (`isKnownUniquelyReferenced`): no allocation
    /// then. A new request takes the pool slot it looked at; the request that was there lives on with
    /// whoever holds it. A reused request has no operation, schedule or error left (settling cleared them).
    @inline(__always)
    private static func make(_ engine: Engine) -> Request {
        for _ in 0..<2 {
            engine.requestCursor = (engine.requestCursor &+ 1) & (poolSize - 1)
            if isKnownUniquelyReferenced(&engine.requestPool[engine.requestCursor]) {
                let request = engine.requestPool[engine.requestCursor].unsafelyUnwrapped
                request.reported = false
                if request.error != nil { request.error = nil }
                return request
            }
        }
        let request = Request(runtime: engine.runtime.unsafelyUnwrapped)
        engine.requestPool[engine.requestCursor] = request
        return request
    }

    /// A nonblocking collective: starts its first steps now.
    init(runtime: Runtime, schedule: CollectiveSchedule) throws {
        phase = .schedule
        self.schedule = schedule
        self.runtime = runtime
        persistent = nil
        _ = try runtime.withEngine("collective") { self.settle($0) }
    }

    /// True once the operation completed; throws its error. Does not progress. (Used by schedules.)
    func isComplete() throws -> Bool {
        guard isSettled || settle(runtime.unsafelyUnwrapped.engine) else { return false }  // settled: perhaps no runtime (PROC_NULL)
        if phase == .failed, let error { throw error }
        return true
    }

    init(runtime: Runtime, persistent: Persistent) {
        phase = .inactive
        self.runtime = runtime
        self.persistent = persistent
    }

    /// True for requests made by `sendInit`/`recvInit`.
    public var isPersistent: Bool { persistent != nil }

    /// The status of a request that completed (``isComplete()`` returned true).
    var settledStatus: Status { status }

    /// The rounds of a partitioned request (PartitionedRequests.swift), nil for any other.
    var partitionedRound: PartitionedRound? {
        if case .partitioned(let round)? = persistent { round } else { nil }
    }

    /// Progresses once and says whether the operation has completed, leaving its result for a wait
    /// or test (MPI_Parrived); throws the operation's error once it failed.
    func peek(_ call: StaticString) throws(MPIError) -> Bool {
        try typedErrors {
            let done =
                try isSettled
                || withRuntime {
                    try $0.withEngine(call) { engine in
                        engine.progress(); return self.settle(engine)
                    }
                }
            if done && phase == .failed, let error { throw error }
            return done
        }
    }

    /// Whether a wait or test still has a result to return: false for a persistent request that is
    /// not started, and for a request whose result a wait or test already returned (MPI's inactive
    /// requests, which ``waitAny(_:)``, ``waitSome(_:)``, ``testAny(_:)`` and ``testSome(_:)`` skip).
    public var isActive: Bool { !reported && !isInactive }

    /// Waits until the operation completes and returns its status (MPI_Wait). For a send, the status
    /// names the destination, tag and byte count. An inactive persistent request returns an empty
    /// status at once. Throws the operation's error (for example `.truncate`), or
    /// `.processFailedPending` for a wildcard ``Communicator/irecv(into:from:tag:)->Request`` that cannot
    /// match until a failure is acknowledged (the request then stays active).
    @discardableResult
    public func wait() throws(MPIError) -> Status {
        try typedErrors {
            if reported && persistent != nil { return .empty }  // inactive again once its result was returned (MPI)
            while !isSettled {
                try withRuntime { runtime in
                    guard Tracer.isRecording, let tracer = runtime.tracer else { return try runtime.wait("Request.wait()") { self.settleOrPend($0) } }
                    let (context, peer) = traceTarget
                    try tracer.call("wait", context: context, peer: peer, tag: -1, bytes: 0) {
                        try runtime.wait("Request.wait()") { self.settleOrPend($0) }
                    }
                }
                try throwIfPending("Request.wait()")
            }
            reported = true
            return try result()
        }
    }

    /// The communicator's context and the peer (a world rank; -1 when unknown) a trace names for a
    /// wait on this request (``Tracer``).
    private var traceTarget: (context: UInt32, peer: Int) {
        if case .send = phase, let operation = sendOperation { return (operation.header.context, operation.destination) }
        if case .receive = phase, let operation = receiveOperation { return (operation.pattern.context, operation.peer) }
        return (TraceEvent.noCommunicator, -1)
    }

    /// ``wait()`` on behalf of a blocking call (a collective): hang reports and errors name `call`
    /// and `detail` instead of `Request.wait()`.
    func wait(as call: StaticString, _ detail: @autoclosure () -> String) throws {
        if !isSettled {
            try withRuntime { try $0.wait(call, detail()) { self.settle($0) } }
        }
        reported = true
        _ = try result()
    }

    /// Progresses once and returns the status if the operation has completed, else nil (MPI_Test).
    /// Throws as ``wait()`` does (`.processFailedPending` included, the request staying active).
    public func test() throws(MPIError) -> Status? {
        try typedErrors {
            if reported && persistent != nil { return .empty }  // inactive again once its result was returned (MPI)
            if !isSettled {
                let done = try withRuntime {
                    try $0.withEngine("Request.test()") { engine in
                        engine.progress()
                        return self.settleOrPend(engine)
                    }
                }
                if !done { return nil }
                try throwIfPending("Request.test()")
                if !isSettled { return nil }
            }
            reported = true
            return try result()
        }
    }

    /// Cancels a receive that has not matched yet: it completes with `status.isCancelled` set
    /// (MPI_Cancel). A send cannot be cancelled once started (MPI 4.1 deprecates that), and a receive
    /// that already matched completes normally: then this call has no effect.
    public func cancel() {
        guard phase == .receive, let runtime else { return }
        _ = try? runtime.withEngine("Request.cancel()") { self.cancelUnmatchedReceive($0) }
    }

    /// Ends a receive whose call failed elsewhere (a send-receive's send), before the caller
    /// releases its buffer: withdrawn if it has not matched, else waited for — its message is
    /// already arriving — with its outcome dropped. Nothing writes into the buffer after this
    /// returns. (A matched receive ends: its sender finishes the transfer, or dies and fails it;
    /// a live sender that stays outside SwiftMPI delays this as long.)
    func withdraw() {
        cancel()
        _ = try? wait()
    }

    /// ``cancel()`` from a caller that holds the engine lock (a schedule advancing).
    func cancelLocked() {
        if let runtime { _ = cancelUnmatchedReceive(runtime.engine) }
    }

    /// Withdraws a receive that has not matched; true when it did (the request then completes
    /// cancelled). Call with the engine locked.
    func cancelUnmatchedReceive(_ engine: Engine) -> Bool {
        guard phase == .receive, let operation = receiveOperation, engine.cancelReceive(operation) else { return false }
        phase = .complete
        status = Status(source: MPI.anySource, tag: MPI.anyTag, byteCount: 0, isCancelled: true)
        receiveOperation = nil
        return true
    }

    /// Lets the operation complete on its own and makes this request a completed, empty one
    /// (MPI_Request_free): a send still delivers its message, a receive still takes one — into its
    /// buffer, which for `irecv(into: UnsafeMutableBufferPointer)` must stay valid until then (the
    /// owned forms need no care). Later waits and tests return an empty status at once. Throws
    /// `.invalidArgument` for a nonblocking collective's request, which MPI does not allow freeing.
    public func free() throws(MPIError) {
        switch phase {
        case .schedule:
            throw MPIError(.invalidArgument, "Request.free(): a nonblocking collective's request cannot be freed; wait for it")
        case .send, .receive:
            // The engine keeps the operation in its queues until it completes; this request no
            // longer refers to it (so it is not recycled while in flight, and is freed after).
            sendOperation = nil
            receiveOperation = nil
        case .complete, .failed, .inactive:
            break
        }
        phase = .complete
        status = .empty
        error = nil
        reported = true
    }

    /// Starts a persistent request again (MPI_Start). Throws `.invalidArgument` for a request that is
    /// not persistent or still active: started, and not yet completed by a wait or a test.
    public func start() throws(MPIError) {
        try typedErrors {
            guard let persistent else { throw MPIError(.invalidArgument, "Request.start(): not a persistent request") }
            switch phase {
            case .send, .receive, .schedule: throw MPIError(.invalidArgument, "Request.start(): the request is still active")
            case .complete, .failed:
                // MPI: a started request stays active until a wait or test returns its result.
                guard reported else {
                    throw MPIError(.invalidArgument, "Request.start(): the request is still active (its last start was not waited on or tested)")
                }
            case .inactive: break
            }
            let started: Request
            switch persistent {
            case .send(let communicator, let bytes, let keepAlive, let destination, let tag, let mode):
                started = try communicator.startSend(bytes, keepAlive: keepAlive, to: destination, tag: tag, mode: mode, "Request.start()")
            case .receive(let communicator, let buffer, let keepAlive, let source, let tag):
                started = try communicator.startReceive(buffer, keepAlive: keepAlive, from: source, tag: tag, "Request.start()")
            case .typedSend(let communicator, let bytes, let count, let type, let keepAlive, let destination, let tag, let mode):
                started = try communicator.startSend(
                    bytes, count: count, datatype: type, keepAlive: keepAlive, to: destination, tag: tag, mode: mode, "Request.start()")
            case .typedReceive(let communicator, let buffer, let count, let type, let source, let tag):
                started = try communicator.startReceive(buffer, count: count, datatype: type, keepAlive: nil, from: source, tag: tag, "Request.start()")
            case .collective(let startCollective):
                started = try startCollective()
            case .partitioned(let round):
                started = try round.begin(runtime.unsafelyUnwrapped)
            }
            // Take over the started request's state (it came from the pool and goes back to it empty).
            phase = started.phase
            status = started.status
            error = started.error
            swap(&sendOperation, &started.sendOperation)
            swap(&receiveOperation, &started.receiveOperation)
            swap(&schedule, &started.schedule)
            started.phase = .complete
            started.error = nil
            reported = false
        }
    }

    /// Starts every request (MPI_Startall).
    public static func startAll(_ requests: [Request]) throws(MPIError) {
        for request in requests { try request.start() }
    }

    /// Waits for every request; returns their statuses in order (MPI_Waitall). If some failed, all
    /// are still waited for first (a wildcard receive that pends on a failure stays active), then
    /// the first error is thrown; ``waitAllOutcomes(_:)`` returns every status and error instead.
    @discardableResult
    public static func waitAll(_ requests: [Request]) throws(MPIError) -> [Status] {
        try typedErrors {
            guard Tracer.isRecording, let tracer = Runtime.current?.tracer else { return try waitAllUntraced(requests) }
            return try tracer.call("waitAll", context: TraceEvent.noCommunicator, peer: -1, tag: -1, bytes: 0) { try waitAllUntraced(requests) }
        }
    }

    private static func waitAllUntraced(_ requests: [Request]) throws -> [Status] {
        do {
            var statuses: [Status] = []
            statuses.reserveCapacity(requests.count)
            var firstError: Error?
            for index in requests.indices {
                do {
                    // Borrowed from the array, which keeps every request alive: no retain and release per
                    // request. `_withUnsafeGuaranteedRef` is the one underscored API SwiftMPI uses (docs/Design.md
                    // lists each use and what keeps the object alive there): Swift 6.3 has no public way to call a method on a reference the
                    // caller guarantees alive without a retain, and that retain and release cost 15–25 % of
                    // the 8-byte message rate (measured 2026-12-02: ~10 M/s instead of ~13 M/s in
                    // interleaved runs; `unowned(unsafe)` locals and `withExtendedLifetime` kept the retain).
                    statuses.append(
                        try requests.withUnsafeBufferPointer { buffer in
                            try Unmanaged<Request>.fromOpaque(UnsafeRawPointer(buffer.baseAddress! + index).load(as: UnsafeRawPointer.self))
                                ._withUnsafeGuaranteedRef { try $0.wait() }
                        })
                } catch {
                    firstError = firstError ?? error
                    statuses.append(.empty)
                }
            }
            if let firstError { throw firstError }
            return statuses
        }
    }

    /// Waits until one request completes and returns its index and status (MPI_Waitany). Requests
    /// already reported by an earlier wait or test are skipped; throws `.invalidArgument` if none is left.
    public static func waitAny(_ requests: [Request]) throws(MPIError) -> (index: Int, status: Status) {
        try typedErrors {
            let candidates = requests.indices.filter { !requests[$0].reported && !requests[$0].isInactive }
            guard !candidates.isEmpty else {
                throw MPIError(.invalidArgument, "Request.waitAny(_:): no active request among \(requests.count)")
            }
            var found = candidates[0]
            if let runtime = candidates.lazy.compactMap({ requests[$0].runtime }).first {
                try runtime.traced("waitAny") {
                    try runtime.wait("Request.waitAny(_:)") { engine in
                        // A completed request first; else one that pends on a failure (its wait throws).
                        guard
                            let index = candidates.first(where: { requests[$0].settle(engine) })
                                ?? (engine.anyFault ? candidates.first(where: { requests[$0].pendingFailure(engine) != nil }) : nil)
                        else { return false }
                        found = index
                        return true
                    }
                }
            }
            return (found, try requests[found].wait())
        }
    }

    /// Progresses once and returns the index and status of a completed request, or nil (MPI_Testany).
    /// When none completed and a wildcard receive pends on a failure, throws its `.processFailedPending`.
    public static func testAny(_ requests: [Request]) throws(MPIError) -> (index: Int, status: Status)? {
        try typedErrors {
            let candidates = requests.indices.filter { !requests[$0].reported && !requests[$0].isInactive }
            guard !candidates.isEmpty else { return nil }
            if let runtime = candidates.lazy.compactMap({ requests[$0].runtime }).first {
                try runtime.withEngine("Request.testAny(_:)") { $0.progress() }
            }
            guard let index = candidates.first(where: { requests[$0].settleLocked() }) else {
                for index in candidates { try requests[index].throwIfPending("Request.testAny(_:)") }
                return nil
            }
            return (index, try requests[index].wait())
        }
    }

    /// Progresses once and returns all statuses if every request has completed, else nil (MPI_Testall).
    /// While not all completed, a wildcard receive that pends on a failure throws its `.processFailedPending`.
    public static func testAll(_ requests: [Request]) throws(MPIError) -> [Status]? {
        try typedErrors {
            if let runtime = requests.lazy.compactMap(\.runtime).first {
                try runtime.withEngine("Request.testAll(_:)") { $0.progress() }
            }
            guard requests.allSatisfy({ $0.settleLocked() }) else {
                for request in requests { try request.throwIfPending("Request.testAll(_:)") }
                return nil
            }
            return try waitAll(requests)
        }
    }

    /// Waits until at least one request completes; returns every completed one not reported before
    /// (MPI_Waitsome). Returns an empty array when no active request is left. Throws the first
    /// completed request's error, if one failed: the completed requests before it count as
    /// reported and their statuses are lost, so use ``waitSomeOutcomes(_:)``, which returns each
    /// one's status or error, where a request can fail. When none completed and a wildcard
    /// receive pends on a failure, throws its `.processFailedPending`.
    public static func waitSome(_ requests: [Request]) throws(MPIError) -> [(index: Int, status: Status)] {
        try typedErrors { try completedIndices(requests, blocking: true, "Request.waitSome(_:)")?.map { ($0, try requests[$0].wait()) } ?? [] }
    }

    /// Every request that has completed and was not reported before, without blocking
    /// (MPI_Testsome): an empty array when none has completed yet, nil when no active request is left
    /// (MPI's `MPI_UNDEFINED` count), so `while let done = try Request.testSome(requests)` ends.
    /// Throws as ``waitSome(_:)`` does; ``testSomeOutcomes(_:)`` returns every result instead.
    public static func testSome(_ requests: [Request]) throws(MPIError) -> [(index: Int, status: Status)]? {
        try typedErrors { try completedIndices(requests, blocking: false, "Request.testSome(_:)")?.map { ($0, try requests[$0].wait()) } }
    }

    /// Waits for every request and returns each one's outcome, in order: its status, or the error
    /// it failed with (MPI_Waitall's `MPI_ERR_IN_STATUS`, where every status carries its own
    /// error). Nothing is lost when some fail, unlike ``waitAll(_:)``, which throws the first error.
    /// A wildcard receive that pends on an unacknowledged failure (`.processFailedPending`) is the
    /// one outcome whose request stays active.
    public static func waitAllOutcomes(_ requests: [Request]) -> [Result<Status, MPIError>] {
        requests.map { $0.outcome() }
    }

    /// ``waitSome(_:)`` that returns each completed request's status or error instead of throwing
    /// the first error: nothing is lost when some fail (MPI_Waitsome's `MPI_ERR_IN_STATUS`). Throws
    /// what the wait itself meets (`.alreadyFinalized`), or `.processFailedPending` when nothing
    /// completed and a wildcard receive pends on a failure.
    public static func waitSomeOutcomes(_ requests: [Request]) throws(MPIError) -> [(index: Int, outcome: Result<Status, MPIError>)] {
        try typedErrors { try completedIndices(requests, blocking: true, "Request.waitSomeOutcomes(_:)")?.map { ($0, requests[$0].outcome()) } ?? [] }
    }

    /// ``testSome(_:)`` that returns each completed request's status or error instead of throwing
    /// the first error; nil when no active request is left.
    public static func testSomeOutcomes(_ requests: [Request]) throws(MPIError) -> [(index: Int, outcome: Result<Status, MPIError>)]? {
        try typedErrors { try completedIndices(requests, blocking: false, "Request.testSomeOutcomes(_:)")?.map { ($0, requests[$0].outcome()) } }
    }

    /// The requests that have completed and were not reported, after waiting for one (`blocking`)
    /// or one round of progress; nil when no active request is left. When none completed, throws
    /// the `.processFailedPending` of a wildcard receive that pends on a failure.
    private static func completedIndices(_ requests: [Request], blocking: Bool, _ call: StaticString) throws -> [Int]? {
        let candidates = requests.indices.filter { !requests[$0].reported && !requests[$0].isInactive }
        guard !candidates.isEmpty else { return nil }
        while true {
            if let runtime = candidates.lazy.compactMap({ requests[$0].runtime }).first {
                if blocking {
                    try runtime.traced("waitSome") { try runtime.wait(call) { engine in candidates.contains { requests[$0].settleOrPend(engine) } } }
                } else {
                    try runtime.withEngine(call) { $0.progress() }
                }
            }
            let done = candidates.filter { requests[$0].settleLocked() }
            if !done.isEmpty || !blocking {
                if done.isEmpty { for index in candidates { try requests[index].throwIfPending(call) } }
                return done
            }
            for index in candidates { try requests[index].throwIfPending(call) }
            // (What pended was acknowledged meanwhile: wait again.)
        }
    }

    /// ``wait()``'s result as a value.
    private func outcome() -> Result<Status, MPIError> {
        do {
            return .success(try wait())
        } catch {
            return .failure(error)
        }
    }

    /// The status once the request completes, awaited without blocking the thread.
    ///
    /// The request is first progressed on the calling thread for up to 50 µs (so a fast message
    /// costs about what ``wait()`` does); then the task suspends and SwiftMPI's progress thread
    /// resumes it when the request completes (see Design.md, "Awaiting requests"). Works at every
    /// thread level; several tasks calling SwiftMPI at once need `.multiple`.
    ///
    /// Throws the operation's error (`MPIError`, `.processFailed` when a peer it depends on is gone),
    /// or `CancellationError` when the task is cancelled while a receive has not matched yet: the
    /// receive is then withdrawn, and its message goes to a later receive. A send, or a receive
    /// that already matched, finishes before a cancelled await returns.
    public var value: Status {
        get async throws {
            if isSettled {
                reported = true
                return try result()
            }
            let deadline = MPI.wtime() + AsyncProgress.inlineSpin
            var rounds = 0
            while !Task.isCancelled {
                if let status = try test() { return status }
                rounds &+= 1
                if rounds & 15 == 0 && MPI.wtime() > deadline { break }
            }
            return try await withRuntime { try $0.startAsyncProgress() }.completion(of: self)
        }
    }

    /// The outcome of a completed request once more — a persistent one's too, which ``test()``
    /// reports as empty after its first report: for the C interface's calls on several requests
    /// when one failed and the Swift call threw before handing out the others' results. Nil while
    /// the request has not completed.
    package func outcomeOnceMore() -> Result<Status, MPIError>? {
        guard isSettled || settleLocked() else { return nil }
        reported = true
        do {
            return .success(try result())
        } catch let error as MPIError {
            return .failure(error)
        } catch {
            return .failure(MPIError(.internalError, "\(error)"))
        }
    }

    // MARK: - Completion bookkeeping

    var isSettled: Bool {
        switch phase {
        case .complete, .failed, .inactive: true
        case .send, .receive, .schedule: false
        }
    }

    private var isInactive: Bool { phase == .inactive }

    /// Calls `body` with this request's runtime. Only for requests that have one (every unsettled
    /// request has).
    @inline(__always)
    private func withRuntime<R>(_ body: (Runtime) throws -> R) rethrows -> R {
        // Borrowed, not copied (the request's `let` keeps the runtime alive): see waitAll for why this
        // uses `_withUnsafeGuaranteedRef`.
        try Unmanaged.passUnretained(runtime.unsafelyUnwrapped)._withUnsafeGuaranteedRef(body)
    }

    /// Moves a finished operation's outcome into the request and returns the operation to
    /// `engine`'s pool (nothing else refers to a completed operation). Call with the engine locked;
    /// `engine` is a parameter so that settling borrows it rather than retaining it.
    func settle(_ engine: Engine) -> Bool {
        switch phase {
        case .send:
            guard sendOperation.unsafelyUnwrapped.isComplete else { return false }
            let operation = sendOperation.take().unsafelyUnwrapped  // moved out: no retain, no release
            finish(operation.error)
            engine.recycle(operation)
        case .receive:
            guard receiveOperation.unsafelyUnwrapped.isComplete else { return false }
            let operation = receiveOperation.take().unsafelyUnwrapped
            status = operation.status
            finish(operation.error)
            engine.recycle(operation)
        case .schedule:
            do {
                guard try schedule.unsafelyUnwrapped.advance() else { return false }
                if let source = schedule.unsafelyUnwrapped.reportsStatusOf { status = source.status }
                if let given = schedule.unsafelyUnwrapped.programStatus { status = given }
                finish(nil)
            } catch let error as MPIError {
                finish(error)
            } catch {
                finish(MPIError(.internalError, "collective: \(error)"))
            }
            schedule = nil
        case .complete, .failed, .inactive:
            break
        }
        return true
    }

    /// ``settle(_:)``, or true for an `irecv`'s wildcard receive that pends on an unacknowledged
    /// failure (``pendingFailure(_:)``). Call with the engine locked.
    @inline(__always)
    private func settleOrPend(_ engine: Engine) -> Bool {
        settle(engine) || (engine.anyFault && pendingFailure(engine) != nil)
    }

    /// Recovery mode: for an `irecv`'s wildcard receive that cannot match while a failure among
    /// its communicator's members is not acknowledged, the `.processFailedPending` error a wait or
    /// test throws, the request staying active (ULFM's MPIX_ERR_PROC_FAILED_PENDING); else nil.
    /// Call with the engine locked.
    @inline(never)
    func pendingFailure(_ engine: Engine) -> MPIError? {
        guard phase == .receive, let operation = receiveOperation, operation.pendsOnFailure, !operation.isComplete, operation.peer < 0,
            let failure = engine.faultError(context: operation.pattern.context, peer: -1, "irecv"), failure.code == .processFailed
        else { return nil }
        return MPIError(
            .processFailedPending,
            "\(failure.message); the wildcard receive stays posted until the failure is acknowledged (acknowledgeFailures(), MPIX_Comm_failure_ack)")
    }

    /// Throws ``pendingFailure(_:)``'s error for an unsettled request that pends on a failure.
    private func throwIfPending(_ call: StaticString) throws {
        guard !isSettled, let runtime, runtime.engine.anyFault else { return }
        if let pending = try runtime.withEngine(call, { self.pendingFailure($0) }) { throw pending }
    }

    @inline(__always)
    private func finish(_ error: MPIError?) {
        if let error {
            self.error = error
            phase = .failed
        } else {
            phase = .complete
        }
    }

    private func settleLocked() -> Bool {
        guard let runtime, !isSettled else { return true }
        return (try? runtime.withEngine("Request") { self.settle($0) }) ?? false
    }

    private func result() throws -> Status {
        switch phase {
        case .complete: return status
        case .failed: throw error.unsafelyUnwrapped
        case .inactive: return .empty
        case .send, .receive, .schedule: preconditionFailure("Request.result() before the request settled")
        }
    }
}
