/// A collective operation as a sequence of steps; each step may compute locally and posts
/// nonblocking point-to-point operations, and the next step starts when they have all completed.
///
/// Blocking collectives run a schedule to completion; nonblocking ones return it inside a `Request`
/// that advances whenever it is tested or waited on (and so progresses inside any SwiftMPI wait on
/// it). Temporary buffers live as long as the schedule (the larger ones then go back to
/// ``ScratchPool`` for the next collective).
final class CollectiveSchedule {
    typealias Step = () throws -> [Request]

    private var steps: [(step: Step, defersErrors: Bool)] = []
    private var next = 0
    private var pending: [Request] = []
    /// Whether the errors of the pending operations are deferred (``then(deferringErrors:_:)``).
    private var pendingDefersErrors = false
    private var failure: (any Error)?
    /// An error that ends the schedule only after its last step: a rank that relays data to others
    /// (an intercommunicator group's leader) finds the data wrong, and must still tell them so.
    private(set) var deferredFailure: (any Error)?
    private var temporaries: [UnsafeMutableRawBufferPointer] = []
    /// Runs after the last step completed (for copying results out).
    var completion: (() -> Void)?
    /// The operation whose status the schedule's request reports (isendrecv: its receive); none for
    /// collectives.
    var reportsStatusOf: Request?
    /// A receive withdrawn, if it has not matched, once an operation of the schedule fails
    /// (isendrecv's, when its send fails: the request then ends with the send's error instead of
    /// waiting for a message; a receive already matched finishes first).
    var withdrawsOnFailure: Request?
    /// For a generalized request: the program's completion, nil until it has completed (then the
    /// status to report, or the error to throw). The schedule completes after its steps and this.
    var programCompletion: (() throws -> Status?)?
    /// The status `programCompletion` gave.
    private(set) var programStatus: Status?

    deinit { temporaries.forEach(ScratchPool.give) }

    /// Adds a step; with `deferringErrors`, an error of its operations is deferred
    /// (``deferFailure(_:)``) instead of ending the schedule.
    func then(deferringErrors: Bool = false, _ step: @escaping Step) { steps.append((step, deferringErrors)) }

    /// Records `error` to be thrown once the last step has run (the first such error wins, unless
    /// `replacing`: a step that explains an operation's error better).
    func deferFailure(_ error: any Error, replacing: Bool = false) { deferredFailure = replacing ? error : deferredFailure ?? error }

    /// A scratch buffer of `count` elements that lives as long as the schedule.
    func scratch<T>(_ type: T.Type, count: Int) -> UnsafeMutableBufferPointer<T> {
        precondition(MemoryLayout<T>.alignment <= 64, "scratch of an element type aligned beyond a cache line")
        let raw = ScratchPool.take(count * MemoryLayout<T>.stride)
        temporaries.append(raw)
        return UnsafeMutableBufferPointer(start: raw.baseAddress!.bindMemory(to: T.self, capacity: max(1, count)), count: count)
    }

    /// Runs every step whose predecessors completed; true when the whole schedule is done.
    /// Throws the first error of a step or of one of its operations — but only once every operation
    /// of that step has finished: the others still write into the caller's result and the scratch
    /// buffers, which are freed when the error reaches the caller. (They do finish: the other ranks
    /// post the matching half of the same step; a rank whose counts disagree fails at the same step.)
    func advance() throws -> Bool {
        while true {
            while let request = pending.last {
                do {
                    guard try request.isComplete() else { return false }
                } catch {
                    if pendingDefersErrors { deferFailure(error) } else { failure = failure ?? error }
                    withdrawsOnFailure?.cancelLocked()
                }
                pending.removeLast()
            }
            if let failure { throw failure }
            guard next < steps.count else {
                if let deferredFailure { throw deferredFailure }
                if let programCompletion {
                    guard let status = try programCompletion() else { return false }
                    programStatus = status
                    self.programCompletion = nil
                }
                completion?()
                completion = nil
                return true
            }
            let (step, defersErrors) = steps[next]
            next += 1
            pendingDefersErrors = defersErrors
            pending = try step()
        }
    }
}
