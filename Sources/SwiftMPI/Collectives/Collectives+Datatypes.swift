/// Collectives with derived datatypes (MPI_Bcast, MPI_Gather, MPI_Scatter, MPI_Allgather and
/// MPI_Alltoall with datatype arguments). Buffers' first elements are the datatypes' origins; block i
/// of a gathered or scattered buffer is `count` instances starting at instance `i × count`, as in C MPI.
///
/// Each rank checks its own buffers against its datatypes (`.invalidCount`) before it communicates.
/// The data travels packed: each call packs what it sends into one contiguous message, runs the
/// contiguous collective on it and unpacks what it receives — one extra copy on each side, whatever
/// the shapes (the point-to-point calls move non-contiguous data without it).
extension Communicator {
    /// Broadcasts `count` instances of `datatype` in `buffer` from `root` (MPI_Bcast with a datatype).
    public func bcast<T: BitwiseCopyable>(_ buffer: inout [T], count: Int, datatype: Datatype, root: Int) throws(MPIError) {
        try tracedCall("bcast") {
            try buffer.withUnsafeMutableBytes { try bcast($0, count: count, datatype: datatype, root: root) }
        }
    }

    /// Broadcasts into a slice (`&grid[k...]`); the slice's start is the origin.
    public func bcast<T: BitwiseCopyable>(_ buffer: inout ArraySlice<T>, count: Int, datatype: Datatype, root: Int) throws(MPIError) {
        try tracedCall("bcast") {
            try buffer.withUnsafeMutableBytes { try bcast($0, count: count, datatype: datatype, root: root) }
        }
    }

    private func bcast(_ bytes: UnsafeMutableRawBufferPointer, count: Int, datatype: Datatype, root: Int) throws {
        try checkRoot(root, "bcast")
        let region = try TypedRegion(datatype, count: count, in: bytes, "bcast")
        var packed = rank == root ? region.packed() : [UInt8](repeating: 0, count: region.byteCount)
        try bcast(&packed, root: root)
        if rank != root { unpack(packed, into: region) }
    }

    /// Gathers `count` instances of `datatype` from every rank's `values` into the root's `buffer`,
    /// `receiveCount` instances of `receiveType` per rank in rank order (MPI_Gather). `buffer` is used
    /// at the root only.
    public func gather<T: BitwiseCopyable, U: BitwiseCopyable>(
        _ values: [T], count: Int, datatype: Datatype, into buffer: inout [U], count receiveCount: Int, datatype receiveType: Datatype, root: Int
    ) throws(MPIError) {
        try tracedCall("gather") {
            try checkRoot(root, "gather")
            let mine = try values.withUnsafeBytes { try TypedRegion(datatype, count: count, in: .init(mutating: $0), "gather").packed() }
            let received = try gather(mine, root: root)
            guard let received else { return }
            try buffer.withUnsafeMutableBytes { bytes in
                try unpack(received, into: TypedRegion(receiveType, count: try instances(receiveCount, "gather"), in: bytes, "gather"), "gather")
            }
        }
    }

    /// Deals the root's `values` out: `count` instances of `datatype` to each rank in rank order,
    /// received as `receiveCount` instances of `receiveType` in `buffer` (MPI_Scatter). `values` is
    /// read at the root only.
    public func scatter<T: BitwiseCopyable, U: BitwiseCopyable>(
        _ values: [T], count: Int, datatype: Datatype, into buffer: inout [U], count receiveCount: Int, datatype receiveType: Datatype, root: Int
    ) throws(MPIError) {
        try tracedCall("scatter") {
            try checkRoot(root, "scatter")
            let all =
                rank == root
                ? try values.withUnsafeBytes { try TypedRegion(datatype, count: try instances(count, "scatter"), in: .init(mutating: $0), "scatter").packed() }
                : []
            let part = try scatter(all, root: root)
            try buffer.withUnsafeMutableBytes { bytes in
                try unpack(part, into: TypedRegion(receiveType, count: receiveCount, in: bytes, "scatter"), "scatter")
            }
        }
    }

    /// Every rank's `count` instances of `datatype`, received by every rank as `receiveCount`
    /// instances of `receiveType` per rank in rank order (MPI_Allgather).
    public func allgather<T: BitwiseCopyable, U: BitwiseCopyable>(
        _ values: [T], count: Int, datatype: Datatype, into buffer: inout [U], count receiveCount: Int, datatype receiveType: Datatype
    ) throws(MPIError) {
        try tracedCall("allgather") {
            let mine = try values.withUnsafeBytes { try TypedRegion(datatype, count: count, in: .init(mutating: $0), "allgather").packed() }
            let received = try allgather(mine)
            try buffer.withUnsafeMutableBytes { bytes in
                try unpack(received, into: TypedRegion(receiveType, count: try instances(receiveCount, "allgather"), in: bytes, "allgather"), "allgather")
            }
        }
    }

    /// Block i (`count` instances of `datatype`, from instance `i × count`) goes to rank i; block j of
    /// `buffer` (`receiveCount` instances of `receiveType`) comes from rank j (MPI_Alltoall).
    public func alltoall<T: BitwiseCopyable, U: BitwiseCopyable>(
        _ values: [T], count: Int, datatype: Datatype, into buffer: inout [U], count receiveCount: Int, datatype receiveType: Datatype
    ) throws(MPIError) {
        try tracedCall("alltoall") {
            let all = try values.withUnsafeBytes {
                try TypedRegion(datatype, count: try instances(count, "alltoall"), in: .init(mutating: $0), "alltoall").packed()
            }
            let received = try alltoall(all)
            try buffer.withUnsafeMutableBytes { bytes in
                try unpack(received, into: TypedRegion(receiveType, count: try instances(receiveCount, "alltoall"), in: bytes, "alltoall"), "alltoall")
            }
        }
    }

    /// Every rank sends block i to rank i and receives block j from rank j, each block with its own
    /// count, datatype and byte displacement (MPI_Alltoallw): block i is `sendCounts[i]` instances
    /// of `sendTypes[i]` whose origin is byte `sendDisplacements[i]` of `values`; block j lands as
    /// `receiveCounts[j]` instances of `receiveTypes[j]` at byte `receiveDisplacements[j]` of
    /// `buffer`. Every block is checked against its array before anything moves (`.invalidCount`);
    /// the blocks travel as datatype messages, non-contiguous ones without packing where the
    /// transport can gather. A block whose signature differs from its receiver's throws there. On an
    /// intercommunicator the blocks go to and come from the other group's ranks.
    public func alltoallw<T: BitwiseCopyable, U: BitwiseCopyable>(
        _ values: [T], sendCounts: [Int], sendDisplacements: [Int], sendTypes: [Datatype],
        into buffer: inout [U], receiveCounts: [Int], receiveDisplacements: [Int], receiveTypes: [Datatype]
    ) throws(MPIError) {
        try tracedCall("alltoallw") {
            let call: StaticString = "alltoallw"
            try values.withUnsafeBytes { sendBytes in
                try buffer.withUnsafeMutableBytes { receiveBytes in
                    let (sends, receives) = try alltoallwBlocks(
                        UnsafeMutableRawBufferPointer(mutating: sendBytes), sendCounts, sendDisplacements, sendTypes,
                        receiveBytes, receiveCounts, receiveDisplacements, receiveTypes, call)
                    let (channel, tag) = nextCollective()
                    var requests: [Request] = []
                    requests.reserveCapacity(2 * size)
                    do {
                        requests = try alltoallwPost(channel, tag: tag, sends, receives, call)
                        for request in requests { try request.wait(as: call, "(\(size) ranks) on \(reportName)") }
                    } catch let error as MPIError {
                        // The posted operations still use both arrays: let them finish first.
                        for request in requests { _ = try? request.wait() }
                        throw collectiveError(error, call)
                    }
                }
            }
        }
    }

    /// Starts `alltoallw(_:sendCounts:sendDisplacements:sendTypes:into:receiveCounts:receiveDisplacements:receiveTypes:)`
    /// on memory it owns (MPI_Ialltoallw): `buffer` is the array the blocks land in, copied in, and
    /// comes back from the request's `wait()` with them (its other elements as they were).
    public func ialltoallw<T: BitwiseCopyable, U: BitwiseCopyable>(
        _ values: [T], sendCounts: [Int], sendDisplacements: [Int], sendTypes: [Datatype],
        into buffer: [U], receiveCounts: [Int], receiveDisplacements: [Int], receiveTypes: [Datatype]
    ) throws(MPIError) -> CollectiveRequest<[U]> {
        try typedErrors {
            let call: StaticString = "ialltoallw"
            let input = OwnedBuffer(copying: values), output = OwnedBuffer(copying: buffer)
            let (sends, receives) = try alltoallwBlocks(
                UnsafeMutableRawBufferPointer(input.buffer), sendCounts, sendDisplacements, sendTypes,
                UnsafeMutableRawBufferPointer(output.buffer), receiveCounts, receiveDisplacements, receiveTypes, call)
            let request = try start(spansGroups: true) { schedule in
                let (channel, tag) = nextCollective()
                schedule.then { try self.alltoallwPost(channel, tag: tag, sends, receives, call) }
            }
            return CollectiveRequest(request: request, keeping: [input, output]) { output.array() }
        }
    }

    /// `alltoallw(_:sendCounts:sendDisplacements:sendTypes:into:receiveCounts:receiveDisplacements:receiveTypes:)`,
    /// awaited.
    public func alltoallw<T: BitwiseCopyable, U: BitwiseCopyable>(
        _ values: [T], sendCounts: [Int], sendDisplacements: [Int], sendTypes: [Datatype],
        into buffer: inout [U], receiveCounts: [Int], receiveDisplacements: [Int], receiveTypes: [Datatype]
    ) async throws {
        buffer = try await ialltoallw(
            values, sendCounts: sendCounts, sendDisplacements: sendDisplacements, sendTypes: sendTypes, into: buffer, receiveCounts: receiveCounts,
            receiveDisplacements: receiveDisplacements, receiveTypes: receiveTypes
        ).value
    }

    /// Every block of an alltoallw, checked against its memory before anything moves.
    func alltoallwBlocks(
        _ sendBytes: UnsafeMutableRawBufferPointer, _ sendCounts: [Int], _ sendDisplacements: [Int], _ sendTypes: [Datatype],
        _ receiveBytes: UnsafeMutableRawBufferPointer, _ receiveCounts: [Int], _ receiveDisplacements: [Int], _ receiveTypes: [Datatype],
        _ call: StaticString
    ) throws -> (sends: [TypedRegion], receives: [TypedRegion]) {
        let sends = try typedBlocks(
            sendBytes, sendCounts, sendDisplacements, sendTypes, peers: peerCount, side: "send", peer: "rank", call)
        let receives = try typedBlocks(
            receiveBytes, receiveCounts, receiveDisplacements, receiveTypes, peers: peerCount, side: "receive", peer: "rank", call)
        return (sends, receives)
    }

    /// One side's blocks of an alltoallw (`side`: "send" or "receive"), one per peer (`peer`: "rank"
    /// or "neighbour"), each its count, byte displacement and type, checked against `bytes`.
    func typedBlocks(
        _ bytes: UnsafeMutableRawBufferPointer, _ counts: [Int], _ displacements: [Int], _ types: [Datatype], peers: Int, side: String,
        peer: String, _ call: StaticString
    ) throws -> [TypedRegion] {
        for (name, entries) in [("Counts", counts.count), ("Displacements", displacements.count), ("Types", types.count)] where entries != peers {
            throw MPIError(.invalidCount, "\(call): \(side)\(name) has \(entries) entries for \(peers) \(peer)s")
        }
        let direction = side == "send" ? "for" : "from"
        return try (0..<peers).map { i in
            try typedBlock(bytes, displacement: displacements[i], counts[i], types[i], "\(call): the block \(direction) \(peer) \(i)")
        }
    }

    /// Posts every receive, then every send, of an alltoallw on the collective channel.
    func alltoallwPost(_ channel: Communicator, tag: Int, _ sends: [TypedRegion], _ receives: [TypedRegion], _ call: StaticString) throws -> [Request] {
        var requests: [Request] = []
        requests.reserveCapacity(2 * peerCount)
        for j in 0..<peerCount { requests.append(try channel.startReceive(receives[j], keepAlive: nil, from: j, tag: tag, call)) }
        for i in 0..<peerCount { requests.append(try channel.startSend(sends[i], keepAlive: nil, to: i, tag: tag, mode: .standard, call)) }
        return requests
    }

    /// The region of `count` instances of `type` whose origin is byte `displacement` of `bytes`.
    func typedBlock(_ bytes: UnsafeMutableRawBufferPointer, displacement: Int, _ count: Int, _ type: Datatype, _ what: String) throws -> TypedRegion {
        guard displacement >= 0 && displacement <= bytes.count else {
            throw MPIError(.invalidCount, "\(what): byte displacement \(displacement) is outside the \(bytes.count)-byte array")
        }
        do {
            return try TypedRegion(type, count: count, in: UnsafeMutableRawBufferPointer(rebasing: bytes[displacement...]), "alltoallw")
        } catch {
            throw MPIError(error.code, "\(what) at byte \(displacement): \(error.message)")
        }
    }

    /// `count` instances for each rank, checked for overflow.
    func instances(_ count: Int, _ call: StaticString) throws -> Int {
        guard count >= 0 else { throw MPIError(.invalidCount, "\(call): negative count \(count)") }
        let (total, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow else { throw MPIError(.invalidCount, "\(call): \(count) instances × \(size) ranks overflows") }
        return total
    }

    private func unpack(_ bytes: [UInt8], into region: TypedRegion) {
        bytes.withUnsafeBytes { if let base = $0.baseAddress { region.unpack(0..<min(bytes.count, region.byteCount), from: base) } }
    }

    /// Unpacks a received collective result, which must be exactly the receive side's size.
    func unpack(_ bytes: [UInt8], into region: TypedRegion, _ call: StaticString) throws {
        guard bytes.count == region.byteCount else {
            throw MPIError(
                .invalidCount,
                "\(call): received \(bytes.count) bytes but the receive datatype and count describe \(region.byteCount) (the signatures do not match)")
        }
        unpack(bytes, into: region)
    }
}
