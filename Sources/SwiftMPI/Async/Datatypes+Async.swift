/// Derived datatypes in the safe nonblocking and `async` forms: a receive into an array that moves
/// into its request, and the `async` forms of the datatype point-to-point calls and collectives
/// (same names and arguments as the blocking ones; inside async code Swift picks these).
extension Communicator {
    /// Starts a receive of up to `count` instances of `datatype` into `buffer`'s storage, which
    /// moves into the request and comes back whole from its `wait()` (MPI_Irecv with a datatype).
    /// The datatype's footprint is checked against the array now; safe to drop unfinished, like
    /// ``irecv(count:of:from:tag:)``.
    public func irecv<T: BitwiseCopyable>(
        into buffer: consuming [T], count: Int, datatype: Datatype, from source: Int, tag: Int
    ) throws(MPIError) -> ReceiveRequest<T> {
        var array = consume buffer
        return try typedErrors { try startReceive(taking: &array, count: count, datatype: datatype, from: source, tag: tag) }
    }

    /// Receives up to `count` instances of `datatype` into `buffer`, awaited; returns the status.
    /// When the await throws (the receive's error, or `CancellationError` before a message matched),
    /// `buffer` holds what the receive left in it; a receive refused at once leaves it as it was.
    @discardableResult
    public func recv<T: BitwiseCopyable>(into buffer: inout [T], count: Int, datatype: Datatype, from source: Int, tag: Int) async throws -> Status {
        let receive = try startReceive(taking: &buffer, count: count, datatype: datatype, from: source, tag: tag)
        return try await receive.value(into: &buffer)
    }

    private func startReceive<T: BitwiseCopyable>(
        taking buffer: inout [T], count: Int, datatype: Datatype, from source: Int, tag: Int
    ) throws -> ReceiveRequest<T> {
        try ReceiveRequest.taking(&buffer, returnsWhole: true) { memory, owner in
            try startReceive(memory, count: count, datatype: datatype, keepAlive: owner, from: source, tag: tag, "irecv")
        }
    }

    /// Sends `count` instances of `datatype` from `values`, awaited until the send has completed.
    public func send<T: BitwiseCopyable>(_ values: [T], count: Int, datatype: Datatype, to destination: Int, tag: Int) async throws {
        _ = try await isend(values, count: count, datatype: datatype, to: destination, tag: tag).value
    }

    /// Broadcasts `count` instances of `datatype` in `buffer` from `root`, awaited.
    public func bcast<T: BitwiseCopyable>(_ buffer: inout [T], count: Int, datatype: Datatype, root: Int) async throws {
        try checkRoot(root, "bcast")
        let isRoot = rank == root
        var packed = try buffer.withUnsafeMutableBytes { bytes in
            let region = try TypedRegion(datatype, count: count, in: bytes, "bcast")
            return isRoot ? region.packed() : [UInt8](repeating: 0, count: region.byteCount)
        }
        try await bcast(&packed, root: root)
        guard !isRoot else { return }
        try buffer.withUnsafeMutableBytes { bytes in
            try unpack(packed, into: TypedRegion(datatype, count: count, in: bytes, "bcast"), "bcast")
        }
    }

    /// Gathers `count` instances of `datatype` from every rank into the root's `buffer` as
    /// `receiveCount` instances of `receiveType` per rank, awaited (`buffer` is used at the root only).
    public func gather<T: BitwiseCopyable, U: BitwiseCopyable>(
        _ values: [T], count: Int, datatype: Datatype, into buffer: inout [U], count receiveCount: Int, datatype receiveType: Datatype, root: Int
    ) async throws {
        try checkRoot(root, "gather")
        let mine = try packed(values, count, datatype, "gather")
        guard let received = try await gather(mine, root: root) else { return }
        let total = try instances(receiveCount, "gather")
        try buffer.withUnsafeMutableBytes { bytes in
            try unpack(received, into: TypedRegion(receiveType, count: total, in: bytes, "gather"), "gather")
        }
    }

    /// Deals the root's `values` out, `count` instances of `datatype` per rank, received as
    /// `receiveCount` instances of `receiveType` in `buffer`, awaited (`values` is read at the root only).
    public func scatter<T: BitwiseCopyable, U: BitwiseCopyable>(
        _ values: [T], count: Int, datatype: Datatype, into buffer: inout [U], count receiveCount: Int, datatype receiveType: Datatype, root: Int
    ) async throws {
        try checkRoot(root, "scatter")
        let all = rank == root ? try packed(values, try instances(count, "scatter"), datatype, "scatter") : []
        let part = try await scatter(all, root: root)
        try buffer.withUnsafeMutableBytes { bytes in
            try unpack(part, into: TypedRegion(receiveType, count: receiveCount, in: bytes, "scatter"), "scatter")
        }
    }

    /// Every rank's `count` instances of `datatype`, received by every rank as `receiveCount`
    /// instances of `receiveType` per rank in rank order, awaited.
    public func allgather<T: BitwiseCopyable, U: BitwiseCopyable>(
        _ values: [T], count: Int, datatype: Datatype, into buffer: inout [U], count receiveCount: Int, datatype receiveType: Datatype
    ) async throws {
        let received = try await allgather(try packed(values, count, datatype, "allgather"))
        let total = try instances(receiveCount, "allgather")
        try buffer.withUnsafeMutableBytes { bytes in
            try unpack(received, into: TypedRegion(receiveType, count: total, in: bytes, "allgather"), "allgather")
        }
    }

    /// Block i of `values` (`count` instances of `datatype`) goes to rank i; block j of `buffer`
    /// (`receiveCount` instances of `receiveType`) comes from rank j, awaited.
    public func alltoall<T: BitwiseCopyable, U: BitwiseCopyable>(
        _ values: [T], count: Int, datatype: Datatype, into buffer: inout [U], count receiveCount: Int, datatype receiveType: Datatype
    ) async throws {
        let received = try await alltoall(try packed(values, try instances(count, "alltoall"), datatype, "alltoall"))
        let total = try instances(receiveCount, "alltoall")
        try buffer.withUnsafeMutableBytes { bytes in
            try unpack(received, into: TypedRegion(receiveType, count: total, in: bytes, "alltoall"), "alltoall")
        }
    }

    /// `count` instances of `datatype` in `values`, checked against the array and packed.
    private func packed<T: BitwiseCopyable>(_ values: [T], _ count: Int, _ datatype: Datatype, _ call: StaticString) throws -> [UInt8] {
        try values.withUnsafeBytes { try TypedRegion(datatype, count: count, in: .init(mutating: $0), call).packed() }
    }
}
