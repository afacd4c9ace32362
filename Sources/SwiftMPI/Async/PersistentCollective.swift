/// A persistent collective on memory it owns (``Communicator/allreduceInit(count:of:op:)`` and
/// the others, MPI-4.1 §6.13): the arguments are fixed once, then each run is started with
/// ``start(with:)`` (or ``start()`` after writing the contribution in place with ``withInput(_:)``)
/// and completed with ``wait()``, which returns that run's result as the blocking call would. No
/// pointer has to outlive anything.
///
/// Every rank makes its persistent collectives in the same order, as MPI requires, and may start
/// them in any order (they match by the order they were made in). The
/// contribution cannot be written while a run is active (``withInput(_:)`` and ``start(with:)`` then
/// throw `.invalidArgument`). A request dropped with a run still active keeps its memory (a small,
/// deliberate leak, as for ``CollectiveRequest``) rather than let that run's messages land in freed
/// memory.
public struct PersistentCollective<Element: BitwiseCopyable, Result>: Sendable {
    /// The persistent request underneath (for `Request.startAll` and the list forms; after a list
    /// wait, ``wait()`` returns the result without waiting).
    public var request: Request { runs.request }
    /// Each run completes as a ``CollectiveRequest`` on the same request and memory does (and a
    /// request dropped mid-run keeps its memory in the same way). A `refusal` is an argument this
    /// rank refused at init while still taking part in every run (a root's overlapping
    /// displacements), so that the others do not hang: thrown by each run's wait.
    private let runs: CollectiveRequest<Result>
    /// This rank's contribution to every run.
    private let input: OwnedBuffer<Element>

    init(request: Request, input: OwnedBuffer<Element>, keeping buffers: [AnyObject], refusal: MPIError? = nil, result: @escaping () -> Result) {
        runs = CollectiveRequest(request: request, keeping: buffers, refusal: refusal, result: result)
        self.input = input
    }

    /// How many elements this rank contributes to each run (what ``start(with:)`` takes).
    public var count: Int { input.buffer.count }

    /// Copies `values` in as this rank's contribution and starts a run (MPI_Start). Throws
    /// `.invalidCount` unless `values` has ``count`` elements, `.invalidArgument` while the last
    /// run is active.
    public func start(with values: [Element]) throws(MPIError) {
        guard values.count == count else {
            throw MPIError(.invalidCount, "PersistentCollective.start(with:): \(values.count) elements, but this rank contributes \(count) to each run")
        }
        try checkInactive("start(with:)")
        values.withUnsafeBytes { UnsafeMutableRawBufferPointer(input.buffer).copyMemory(from: $0) }
        try request.start()
    }

    /// Starts a run with the contribution as it stands (MPI_Start); throws `.invalidArgument` while
    /// the last run is active.
    public func start() throws(MPIError) { try request.start() }

    /// Lets `body` write this rank's contribution in place (no copy, no allocation); throws
    /// `.invalidArgument` while a run is active, else what `body` throws.
    public func withInput<R>(_ body: (inout MutableSpan<Element>) throws -> R) throws -> R {
        try checkInactive("withInput")
        // The memory is taken out of the buffer object first: in release builds, a span made
        // straight from `input.buffer` crashes Swift 6.3.1's optimizer (CopyPropagation). The
        // object (held by `self`) outlives the call, so the memory does too.
        let memory = input.buffer
        var span = memory.mutableSpan
        return try withExtendedLifetime(input) { try body(&span) }
    }

    /// Waits for the run and returns its result (MPI_Wait).
    public func wait() throws(MPIError) -> Result { try runs.wait() }

    /// The run's result if it has completed, else nil (MPI_Test).
    public func test() throws(MPIError) -> Result? { try runs.test() }

    /// The run's result, awaited without blocking the thread (``Request/value``).
    public var value: Result {
        get async throws { try await runs.value }
    }

    private func checkInactive(_ call: String) throws(MPIError) {
        guard request.isSettled else {
            throw MPIError(.invalidArgument, "PersistentCollective.\(call): a run is still active; wait for it before changing the contribution")
        }
    }
}

/// Persistent collectives on owned memory: `count` is what each rank contributes (per rank for
/// gather and allgather, per destination for alltoall, the root's part for each rank for scatter),
/// as in MPI's `*_init` calls. A root is checked at once, counts when the call is made.
extension Communicator {
    /// A persistent broadcast of `count` elements from `root` (MPI_Bcast_init): the root's
    /// contribution is what every rank's ``PersistentCollective/wait()`` returns.
    public func bcastInit<T: BitwiseCopyable>(count: Int, of type: T.Type, root: Int) throws(MPIError) -> PersistentCollective<T, [T]> {
        try typedErrors {
            try checkInitArguments(count, root: root, "bcastInit")
            let buffer = OwnedBuffer<T>(zeroedCount: count)
            let request = try bcastInit(buffer.buffer, root: root)
            return PersistentCollective(request: request, input: buffer, keeping: [buffer]) { buffer.array() }
        }
    }

    /// A persistent reduction of `count` elements with `op`; the result at the root, nil elsewhere
    /// (MPI_Reduce_init).
    public func reduceInit<T: BitwiseCopyable>(
        count: Int, of type: T.Type, op: ReduceOperation<T>, root: Int
    ) throws(MPIError) -> PersistentCollective<
        T, [T]?
    > {
        try typedErrors {
            try checkInitArguments(count, root: root, "reduceInit")
            let input = OwnedBuffer<T>(zeroedCount: count), output = OwnedBuffer<T>(count: count)
            let request = try reduceInit(input.readable, into: output.buffer, op: op, root: root)
            let isRoot = rank == root
            return PersistentCollective(request: request, input: input, keeping: [input, output]) { isRoot ? output.array() : nil }
        }
    }

    /// A persistent reduction of `count` elements with `op`; every rank gets the result
    /// (MPI_Allreduce_init).
    public func allreduceInit<T: BitwiseCopyable>(count: Int, of type: T.Type, op: ReduceOperation<T>) throws(MPIError) -> PersistentCollective<T, [T]> {
        try typedErrors {
            try checkInitArguments(count, root: nil, "allreduceInit")
            let input = OwnedBuffer<T>(zeroedCount: count), output = OwnedBuffer<T>(count: count)
            let request = allreduceInit(input.readable, into: output.buffer, op: op)
            return PersistentCollective(request: request, input: input, keeping: [input, output]) { output.array() }
        }
    }

    /// A persistent gather of `count` elements from every rank, in rank order at the root; nil
    /// elsewhere (MPI_Gather_init).
    public func gatherInit<T: BitwiseCopyable>(count: Int, of type: T.Type, root: Int) throws(MPIError) -> PersistentCollective<T, [T]?> {
        try typedErrors {
            try checkInitArguments(count, root: root, "gatherInit")
            let isRoot = rank == root
            let input = OwnedBuffer<T>(zeroedCount: count), output = OwnedBuffer<T>(count: isRoot ? count * size : 0)
            let request = try gatherInit(input.readable, into: output.buffer, root: root)
            return PersistentCollective(request: request, input: input, keeping: [input, output]) { isRoot ? output.array() : nil }
        }
    }

    /// A persistent scatter: the root's contribution (`count` × size elements; none elsewhere) is
    /// dealt out in parts of `count`, part i to rank i (MPI_Scatter_init).
    public func scatterInit<T: BitwiseCopyable>(count: Int, of type: T.Type, root: Int) throws(MPIError) -> PersistentCollective<T, [T]> {
        try typedErrors {
            try checkInitArguments(count, root: root, "scatterInit")
            let input = OwnedBuffer<T>(zeroedCount: rank == root ? count * size : 0), output = OwnedBuffer<T>(count: count)
            let request = try scatterInit(input.readable, into: output.buffer, root: root)
            return PersistentCollective(request: request, input: input, keeping: [input, output]) { output.array() }
        }
    }

    /// A persistent allgather of `count` elements from every rank, in rank order on every rank
    /// (MPI_Allgather_init).
    public func allgatherInit<T: BitwiseCopyable>(count: Int, of type: T.Type) throws(MPIError) -> PersistentCollective<T, [T]> {
        try typedErrors {
            try checkInitArguments(count, root: nil, "allgatherInit")
            let input = OwnedBuffer<T>(zeroedCount: count), output = OwnedBuffer<T>(count: count * size)
            let request = allgatherInit(input.readable, into: output.buffer)
            return PersistentCollective(request: request, input: input, keeping: [input, output]) { output.array() }
        }
    }

    /// A persistent all-to-all: each rank contributes `count` elements per rank (block i goes to
    /// rank i) and gets block j from rank j (MPI_Alltoall_init).
    public func alltoallInit<T: BitwiseCopyable>(count: Int, of type: T.Type) throws(MPIError) -> PersistentCollective<T, [T]> {
        try typedErrors {
            try checkInitArguments(count, root: nil, "alltoallInit")
            let input = OwnedBuffer<T>(zeroedCount: count * size), output = OwnedBuffer<T>(count: count * size)
            let request = alltoallInit(input.readable, into: output.buffer)
            return PersistentCollective(request: request, input: input, keeping: [input, output]) { output.array() }
        }
    }

    /// A persistent inclusive prefix reduction: rank i gets op over ranks 0...i (MPI_Scan_init).
    public func scanInit<T: BitwiseCopyable>(count: Int, of type: T.Type, op: ReduceOperation<T>) throws(MPIError) -> PersistentCollective<T, [T]> {
        try typedErrors {
            try checkInitArguments(count, root: nil, "scanInit")
            let input = OwnedBuffer<T>(zeroedCount: count), output = OwnedBuffer<T>(count: count)
            let request = scanInit(input.readable, into: output.buffer, op: op)
            return PersistentCollective(request: request, input: input, keeping: [input, output]) { output.array() }
        }
    }

    /// A persistent exclusive prefix reduction: rank i gets op over ranks 0..<i; nil at rank 0
    /// (MPI_Exscan_init).
    public func exscanInit<T: BitwiseCopyable>(count: Int, of type: T.Type, op: ReduceOperation<T>) throws(MPIError) -> PersistentCollective<T, [T]?> {
        try typedErrors {
            try checkInitArguments(count, root: nil, "exscanInit")
            let input = OwnedBuffer<T>(zeroedCount: count), output = OwnedBuffer<T>(zeroedCount: count)
            let request = exscanInit(input.readable, into: output.buffer, op: op)
            let isFirst = rank == 0
            return PersistentCollective(request: request, input: input, keeping: [input, output]) { isFirst ? nil : output.array() }
        }
    }

    private func checkInitArguments(_ count: Int, root: Int?, _ call: StaticString) throws {
        guard count >= 0 else { throw MPIError(.invalidCount, "\(call)(count: \(count)): negative count") }
        if let root { try checkRoot(root, call) }
    }
}
