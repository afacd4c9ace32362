/// `async` forms of the collectives: the same names and arguments as the blocking calls (inside
/// async code Swift picks these, and `await` is required). Each starts the nonblocking form on
/// memory it owns and awaits it (``Request/value``), so a rank whose peers are late suspends its
/// task instead of blocking a thread. Collectives cannot be cancelled (MPI has no such thing): a
/// cancelled task's await ends when the collective does. The v-forms and the datatype forms have no
/// async form yet.
extension Communicator {
    /// Awaits every rank's arrival (MPI_Ibarrier, awaited).
    public func barrier() async throws {
        _ = try await ibarrier().value
    }

    /// Broadcasts the root's `buffer` to every rank (MPI_Ibcast, awaited); every rank passes the
    /// same count.
    public func bcast<T: BitwiseCopyable>(_ buffer: inout [T], root: Int) async throws {
        let owned = OwnedBuffer(copying: buffer)
        _ = try await ibcast(owned.buffer, root: root).value
        buffer = owned.array()
    }

    /// Reduces every rank's `values` with `op`; the result at the root, nil elsewhere (awaited).
    public func reduce<T: BitwiseCopyable>(_ values: [T], op: ReduceOperation<T>, root: Int) async throws -> [T]? {
        let input = OwnedBuffer(copying: values), result = OwnedBuffer<T>(count: values.count)
        _ = try await ireduce(input.readable, into: result.buffer, op: op, root: root).value
        return rank == root ? result.array() : nil
    }

    /// Reduces every rank's `values` with `op`; every rank gets the result (awaited).
    public func allreduce<T: BitwiseCopyable>(_ values: [T], op: ReduceOperation<T>) async throws -> [T] {
        let input = OwnedBuffer(copying: values), result = OwnedBuffer<T>(count: values.count)
        _ = try await iallreduce(input.readable, into: result.buffer, op: op).value
        return result.array()
    }

    /// `allreduce(_:op:)` replacing `values` with the result (awaited).
    public func allreduce<T: BitwiseCopyable>(inPlace values: inout [T], op: ReduceOperation<T>) async throws {
        values = try await allreduce(values, op: op)
    }

    /// Every rank's `values` (equal counts) concatenated in rank order at the root, nil elsewhere
    /// (awaited).
    public func gather<T: BitwiseCopyable>(_ values: [T], root: Int) async throws -> [T]? {
        let input = OwnedBuffer(copying: values), result = OwnedBuffer<T>(count: rank == root ? values.count * size : 0)
        _ = try await igather(input.readable, into: result.buffer, root: root).value
        return rank == root ? result.array() : nil
    }

    /// The root's `values` dealt out in equal parts, part i to rank i (awaited); `values` is read at
    /// the root only and its count must divide by `size`.
    public func scatter<T: BitwiseCopyable>(_ values: [T], root: Int) async throws -> [T] {
        try checkRoot(root, "scatter")
        let count = OwnedBuffer(copying: [values.count])
        _ = try await ibcast(count.buffer, root: root).value
        let total = count.buffer[0]
        guard total % size == 0 else {
            throw MPIError(.invalidCount, "scatter: \(total) elements at the root do not divide among \(size) ranks")
        }
        let input = OwnedBuffer(copying: rank == root ? values : []), result = OwnedBuffer<T>(count: total / size)
        _ = try await iscatter(input.readable, into: result.buffer, root: root).value
        return result.array()
    }

    /// Every rank's `values` (equal counts) concatenated in rank order, at every rank (awaited).
    public func allgather<T: BitwiseCopyable>(_ values: [T]) async throws -> [T] {
        let input = OwnedBuffer(copying: values), result = OwnedBuffer<T>(count: values.count * size)
        _ = try await iallgather(input.readable, into: result.buffer).value
        return result.array()
    }

    /// Block i of `values` (its count must divide by `size`) to rank i; returns the blocks received,
    /// in rank order (awaited).
    public func alltoall<T: BitwiseCopyable>(_ values: [T]) async throws -> [T] {
        let input = OwnedBuffer(copying: values), result = OwnedBuffer<T>(count: values.count)
        _ = try await ialltoall(input.readable, into: result.buffer).value
        return result.array()
    }

    /// Inclusive prefix reduction: rank i gets op over ranks 0...i (awaited).
    public func scan<T: BitwiseCopyable>(_ values: [T], op: ReduceOperation<T>) async throws -> [T] {
        let input = OwnedBuffer(copying: values), result = OwnedBuffer<T>(count: values.count)
        _ = try await iscan(input.readable, into: result.buffer, op: op).value
        return result.array()
    }

    /// Exclusive prefix reduction: rank i gets op over ranks 0..<i; nil at rank 0 (awaited).
    public func exscan<T: BitwiseCopyable>(_ values: [T], op: ReduceOperation<T>) async throws -> [T]? {
        let input = OwnedBuffer(copying: values), result = OwnedBuffer(copying: values)
        _ = try await iexscan(input.readable, into: result.buffer, op: op).value
        return rank == 0 ? nil : result.array()
    }
}
