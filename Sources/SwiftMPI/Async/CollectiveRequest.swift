/// A nonblocking collective on arrays (``Communicator/iallreduce(_:op:)`` and the others): it owns
/// its input and result memory, and its result comes back from ``wait()``, ``test()`` or
/// ``value``. No pointer has to outlive anything.
///
/// Complete it as MPI requires. A request dropped before its collective completed keeps its
/// memory (a small, deliberate leak) rather than let the collective's remaining messages land in
/// freed memory.
public struct CollectiveRequest<Result>: Sendable {
    /// The request underneath, for ``Request/waitAll(_:)`` and the other list forms (after which
    /// ``wait()`` returns the result without waiting).
    public var request: Request { owner.request }
    private let owner: CollectiveOwner<Result>
    /// An argument this rank refused after starting its part anyway (so that the others do not
    /// hang): thrown once the collective has completed.
    private let refusal: MPIError?

    init(request: Request, keeping buffers: [AnyObject], refusal: MPIError? = nil, result: @escaping () -> Result) {
        owner = CollectiveOwner(request: request, buffers: buffers, result: result)
        self.refusal = refusal
    }

    /// Waits for the collective and returns its result (MPI_Wait).
    public func wait() throws(MPIError) -> Result {
        try request.wait()
        if let refusal { throw refusal }
        return owner.result()
    }

    /// The result if the collective has completed, else nil (MPI_Test).
    public func test() throws(MPIError) -> Result? {
        guard try request.test() != nil else { return nil }
        if let refusal { throw refusal }
        return owner.result()
    }

    /// The result, awaited without blocking the thread (``Request/value``; a collective cannot be
    /// cancelled: a cancelled task's await ends when the collective does).
    public var value: Result {
        get async throws {
            _ = try await request.value
            if let refusal { throw refusal }
            return owner.result()
        }
    }
}

/// Holds a collective's memory while its request may still use it. Sendable: its properties are
/// constants; the buffers (``OwnedBuffer``s, Sendable themselves) are written by the engine only
/// while the collective runs and read by `result` — which captures only them and constants — only
/// after it completed.
final class CollectiveOwner<Result>: @unchecked Sendable {
    let request: Request
    let buffers: [AnyObject]
    let result: () -> Result

    init(request: Request, buffers: [AnyObject], result: @escaping () -> Result) {
        self.request = request
        self.buffers = buffers
        self.result = result
    }

    deinit {
        // Dropped unfinished: messages of the collective may still arrive into these buffers.
        if !request.isSettled { _ = Unmanaged.passRetained(buffers as AnyObject) }
    }
}

/// Nonblocking collectives on arrays: the array forms of `ibcast`, `ireduce`, `iallreduce`,
/// `igather`, `iscatter`, `iallgather`, `ialltoall`, `iscan` and `iexscan`. Each copies its input
/// into memory it owns, starts the collective and returns a ``CollectiveRequest`` whose `wait()`
/// gives the result as the blocking form would. On an intercommunicator they follow the blocking
/// forms' rules (Intercommunicator.swift), with every rank of both groups passing the same count:
/// the root (`MPI.root`) of `igather` passes a `values` of that count, and `iallgather` gets
/// `remoteSize` times it.
extension Communicator {
    /// Starts broadcasting the root's `values` (every rank passes the same count) (MPI_Ibcast).
    public func ibcast<T: BitwiseCopyable>(_ values: [T], root: Int) throws(MPIError) -> CollectiveRequest<[T]> {
        let buffer = OwnedBuffer(copying: values)
        let request = try ibcast(buffer.buffer, root: root)
        return CollectiveRequest(request: request, keeping: [buffer]) { buffer.array() }
    }

    /// Starts reducing every rank's `values` with `op`; the result at the root, nil elsewhere (MPI_Ireduce).
    public func ireduce<T: BitwiseCopyable>(_ values: [T], op: ReduceOperation<T>, root: Int) throws(MPIError) -> CollectiveRequest<[T]?> {
        let input = OwnedBuffer(copying: values), output = OwnedBuffer<T>(count: values.count)
        let request = try ireduce(input.readable, into: output.buffer, op: op, root: root)
        let isRoot = isRoot(root)
        return CollectiveRequest(request: request, keeping: [input, output]) { isRoot ? output.array() : nil }
    }

    /// Starts reducing every rank's `values` with `op`; every rank gets the result (MPI_Iallreduce).
    public func iallreduce<T: BitwiseCopyable>(_ values: [T], op: ReduceOperation<T>) throws(MPIError) -> CollectiveRequest<[T]> {
        let input = OwnedBuffer(copying: values), output = OwnedBuffer<T>(count: values.count)
        let request = try iallreduce(input.readable, into: output.buffer, op: op)
        return CollectiveRequest(request: request, keeping: [input, output]) { output.array() }
    }

    /// Starts gathering every rank's `values` (equal counts) in rank order at the root; nil
    /// elsewhere (MPI_Igather).
    public func igather<T: BitwiseCopyable>(_ values: [T], root: Int) throws(MPIError) -> CollectiveRequest<[T]?> {
        let isRoot = isRoot(root)
        let input = OwnedBuffer(copying: values), output = OwnedBuffer<T>(count: isRoot ? values.count * peerCount : 0)
        let request = try igather(input.readable, into: output.buffer, root: root)
        return CollectiveRequest(request: request, keeping: [input, output]) { isRoot ? output.array() : nil }
    }

    /// Starts dealing the root's `values` out in parts of `count` elements, part i to rank i
    /// (MPI_Iscatter); every rank passes the same `count`, and `values` is read at the root only.
    public func iscatter<T: BitwiseCopyable>(_ values: [T], count: Int, root: Int) throws(MPIError) -> CollectiveRequest<[T]> {
        guard count >= 0 else { throw MPIError(.invalidCount, "iscatter(count: \(count)): negative count") }
        // On an intercommunicator the root's group receives nothing (as in the blocking form).
        let receives = !isIntercommunicator || (root != MPI.root && root != MPI.procNull)
        let input = OwnedBuffer(copying: isRoot(root) ? values : []), output = OwnedBuffer<T>(count: receives ? count : 0)
        let request = try iscatter(input.readable, into: output.buffer, root: root)
        return CollectiveRequest(request: request, keeping: [input, output]) { output.array() }
    }

    /// Starts gathering every rank's `values` (equal counts) in rank order on every rank (MPI_Iallgather).
    public func iallgather<T: BitwiseCopyable>(_ values: [T]) throws(MPIError) -> CollectiveRequest<[T]> {
        let input = OwnedBuffer(copying: values), output = OwnedBuffer<T>(count: values.count * peerCount)
        let request = try iallgather(input.readable, into: output.buffer)
        return CollectiveRequest(request: request, keeping: [input, output]) { output.array() }
    }

    /// Starts sending block i of `values` to rank i; the result holds block j from rank j (MPI_Ialltoall).
    public func ialltoall<T: BitwiseCopyable>(_ values: [T]) throws(MPIError) -> CollectiveRequest<[T]> {
        let input = OwnedBuffer(copying: values), output = OwnedBuffer<T>(count: values.count)
        let request = try ialltoall(input.readable, into: output.buffer)
        return CollectiveRequest(request: request, keeping: [input, output]) { output.array() }
    }

    /// Starts an inclusive prefix reduction: rank i gets op over ranks 0...i (MPI_Iscan).
    public func iscan<T: BitwiseCopyable>(_ values: [T], op: ReduceOperation<T>) throws(MPIError) -> CollectiveRequest<[T]> {
        let input = OwnedBuffer(copying: values), output = OwnedBuffer<T>(count: values.count)
        let request = try iscan(input.readable, into: output.buffer, op: op)
        return CollectiveRequest(request: request, keeping: [input, output]) { output.array() }
    }

    /// Starts an exclusive prefix reduction: rank i gets op over ranks 0..<i; nil at rank 0 (MPI_Iexscan).
    public func iexscan<T: BitwiseCopyable>(_ values: [T], op: ReduceOperation<T>) throws(MPIError) -> CollectiveRequest<[T]?> {
        let input = OwnedBuffer(copying: values), output = OwnedBuffer(copying: values)
        let request = try iexscan(input.readable, into: output.buffer, op: op)
        let isFirst = rank == 0
        return CollectiveRequest(request: request, keeping: [input, output]) { isFirst ? nil : output.array() }
    }
}
