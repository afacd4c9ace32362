/// `async` forms of the collectives: the same names and arguments as the blocking calls (inside
/// async code Swift picks these, and `await` is required). Each starts the array form of the
/// nonblocking collective (``CollectiveRequest``) and awaits it (``Request/value``), so a rank whose peers are late suspends its
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
        buffer = try await ibcast(buffer, root: root).value
    }

    /// Reduces every rank's `values` with `op`; the result at the root, nil elsewhere (awaited).
    public func reduce<T: BitwiseCopyable>(_ values: [T], op: ReduceOperation<T>, root: Int) async throws -> [T]? {
        try await ireduce(values, op: op, root: root).value
    }

    /// Reduces every rank's `values` with `op`; every rank gets the result (awaited).
    public func allreduce<T: BitwiseCopyable>(_ values: [T], op: ReduceOperation<T>) async throws -> [T] {
        try await iallreduce(values, op: op).value
    }

    /// `allreduce(_:op:)` replacing `values` with the result (awaited).
    public func allreduce<T: BitwiseCopyable>(inPlace values: inout [T], op: ReduceOperation<T>) async throws {
        values = try await iallreduce(values, op: op).value
    }

    /// Every rank's `values` (equal counts) concatenated in rank order at the root, nil elsewhere
    /// (awaited).
    public func gather<T: BitwiseCopyable>(_ values: [T], root: Int) async throws -> [T]? {
        try await igather(values, root: root).value
    }

    /// The root's `values` dealt out in equal parts, part i to rank i (awaited); `values` is read at
    /// the root only and its count must divide by `size`.
    public func scatter<T: BitwiseCopyable>(_ values: [T], root: Int) async throws -> [T] {
        let total = try await ibcast([values.count], root: root).value[0]
        guard total % size == 0 else {
            throw MPIError(.invalidCount, "scatter: \(total) elements at the root do not divide among \(size) ranks")
        }
        return try await iscatter(values, count: total / size, root: root).value
    }

    /// Every rank's `values` (equal counts) concatenated in rank order, at every rank (awaited).
    public func allgather<T: BitwiseCopyable>(_ values: [T]) async throws -> [T] {
        try await iallgather(values).value
    }

    /// Block i of `values` (its count must divide by `size`) to rank i; returns the blocks received,
    /// in rank order (awaited).
    public func alltoall<T: BitwiseCopyable>(_ values: [T]) async throws -> [T] {
        try await ialltoall(values).value
    }

    /// Inclusive prefix reduction: rank i gets op over ranks 0...i (awaited).
    public func scan<T: BitwiseCopyable>(_ values: [T], op: ReduceOperation<T>) async throws -> [T] {
        try await iscan(values, op: op).value
    }

    /// Exclusive prefix reduction: rank i gets op over ranks 0..<i; nil at rank 0 (awaited).
    public func exscan<T: BitwiseCopyable>(_ values: [T], op: ReduceOperation<T>) async throws -> [T]? {
        try await iexscan(values, op: op).value
    }
}
