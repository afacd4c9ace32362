import Synchronization

/// A request the program completes itself (MPI_Grequest_start, MPI_Grequest_complete): for work
/// SwiftMPI does not do — I/O on another thread, a library's own protocol — that callers should
/// still wait on, test or await like SwiftMPI's requests, alone or in a list with them.
///
/// ``complete(status:)`` or ``fail(_:)`` may be called from any thread, once; the first call counts.
/// A wait notices it within SwiftMPI's idle sleep (up to about a millisecond while the rank has
/// nothing else to do). ``cancel()`` runs the cancel closure given at start (MPI's cancel_fn), with
/// whether the request had completed; the program decides what cancelling means.
public final class GeneralizedRequest: Sendable {
    /// The request to wait on, test or await (`request.wait()`, `Request.waitAll`, `await request.value`).
    public let request: Request
    private let outcome: Outcome
    private let onCancel: @Sendable (_ completed: Bool) -> Void

    /// The program's result, set once (from any thread), read by the schedule under the engine lock.
    private final class Outcome: Sendable {
        let result = Mutex<Result<Status, MPIError>?>(nil)
    }

    /// Starts a request that completes when ``complete(status:)`` or ``fail(_:)`` is called
    /// (MPI_Grequest_start). Throws `.notInitialized` outside `MPI.initialize()` … `finalize()` (or a
    /// session).
    ///
    /// `query`, when given, is MPI's query_fn: called once, by the wait or test that first finds the
    /// request completed (with ``complete(status:)``), for the status it returns instead of the one
    /// given there. It runs inside SwiftMPI's wait, so it must not communicate.
    public init(
        query: (@Sendable () -> Status)? = nil, cancel: @escaping @Sendable (_ completed: Bool) -> Void = { _ in }
    ) throws(MPIError) {
        let outcome = Outcome()
        let schedule = CollectiveSchedule()
        schedule.programCompletion = {
            guard let result = outcome.result.withLock({ $0 }) else { return nil }
            let status = try result.get()
            return query?() ?? status
        }
        request = try typedErrors { try Request(runtime: try Runtime.running("GeneralizedRequest()"), schedule: schedule) }
        self.outcome = outcome
        onCancel = cancel
    }

    /// Completes the request with `status` (MPI_Grequest_complete); waits on it then return it.
    /// Later calls, and calls after ``fail(_:)``, do nothing.
    public func complete(status: Status = .empty) {
        outcome.result.withLock { if $0 == nil { $0 = .success(status) } }
    }

    /// Completes the request with `error`, which waits on it then throw.
    public func fail(_ error: MPIError) {
        outcome.result.withLock { if $0 == nil { $0 = .failure(error) } }
    }

    /// Runs the cancel closure with whether the request has completed (MPI_Cancel on a generalized
    /// request); the request completes only through ``complete(status:)`` or ``fail(_:)``.
    public func cancel() {
        onCancel(outcome.result.withLock { $0 != nil })
    }
}
