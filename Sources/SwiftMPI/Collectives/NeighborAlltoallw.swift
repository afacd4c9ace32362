/// The neighbourhood alltoallw (MPI_Neighbor_alltoallw, MPI_Ineighbor_alltoallw): a block per
/// neighbour, each with its own count, datatype and byte displacement — a halo exchange whose faces
/// are different derived datatypes (rows and columns of a grid) in one call, without packing where
/// the transport can gather. Neighbour order and tags as in NeighborCollectives.swift.
extension Communicator {
    /// Sends block i (`sendCounts[i]` instances of `sendTypes[i]` whose origin is byte
    /// `sendDisplacements[i]` of `values`) to destination neighbour i, and receives block j from
    /// source neighbour j as `receiveCounts[j]` instances of `receiveTypes[j]` at byte
    /// `receiveDisplacements[j]` of `buffer` (MPI_Neighbor_alltoallw). Every block is checked
    /// against its array before anything moves (`.invalidCount`); blocks of `MPI.procNull`
    /// neighbours are left as they are.
    public func neighborAlltoallw<T: BitwiseCopyable, U: BitwiseCopyable>(
        _ values: [T], sendCounts: [Int], sendDisplacements: [Int], sendTypes: [Datatype],
        into buffer: inout [U], receiveCounts: [Int], receiveDisplacements: [Int], receiveTypes: [Datatype]
    ) throws(MPIError) {
        try tracedCall("neighborAlltoallw") {
            let call: StaticString = "neighborAlltoallw"
            let neighbors = try neighborhood(call)
            try values.withUnsafeBytes { sendBytes in
                try buffer.withUnsafeMutableBytes { receiveBytes in
                    let blocks = try neighborBlocks(
                        UnsafeMutableRawBufferPointer(mutating: sendBytes), sendCounts, sendDisplacements, sendTypes,
                        receiveBytes, receiveCounts, receiveDisplacements, receiveTypes, neighbors, call)
                    try run(call) { schedule in scheduleNeighborBlocks(blocks, neighbors, call, schedule) }
                }
            }
        }
    }

    /// Starts `neighborAlltoallw(_:sendCounts:sendDisplacements:sendTypes:into:receiveCounts:receiveDisplacements:receiveTypes:)`
    /// on memory it owns (MPI_Ineighbor_alltoallw): `buffer` is copied in and comes back from the
    /// request's `wait()` with the received blocks in it.
    public func ineighborAlltoallw<T: BitwiseCopyable, U: BitwiseCopyable>(
        _ values: [T], sendCounts: [Int], sendDisplacements: [Int], sendTypes: [Datatype],
        into buffer: [U], receiveCounts: [Int], receiveDisplacements: [Int], receiveTypes: [Datatype]
    ) throws(MPIError) -> CollectiveRequest<[U]> {
        try tracedCall("ineighborAlltoallw") {
            let call: StaticString = "ineighborAlltoallw"
            let neighbors = try neighborhood(call)
            let input = OwnedBuffer(copying: values), output = OwnedBuffer(copying: buffer)
            let blocks = try neighborBlocks(
                UnsafeMutableRawBufferPointer(input.buffer), sendCounts, sendDisplacements, sendTypes,
                UnsafeMutableRawBufferPointer(output.buffer), receiveCounts, receiveDisplacements, receiveTypes, neighbors, call)
            let request = try start { schedule in scheduleNeighborBlocks(blocks, neighbors, call, schedule) }
            return CollectiveRequest(request: request, keeping: [input, output]) { output.array() }
        }
    }

    /// `neighborAlltoallw(_:sendCounts:sendDisplacements:sendTypes:into:receiveCounts:receiveDisplacements:receiveTypes:)`,
    /// awaited: the task suspends (no thread is held) until the blocks have arrived in `buffer`.
    public func neighborAlltoallw<T: BitwiseCopyable, U: BitwiseCopyable>(
        _ values: [T], sendCounts: [Int], sendDisplacements: [Int], sendTypes: [Datatype],
        into buffer: inout [U], receiveCounts: [Int], receiveDisplacements: [Int], receiveTypes: [Datatype]
    ) async throws {
        buffer = try await ineighborAlltoallw(
            values, sendCounts: sendCounts, sendDisplacements: sendDisplacements, sendTypes: sendTypes, into: buffer,
            receiveCounts: receiveCounts, receiveDisplacements: receiveDisplacements, receiveTypes: receiveTypes
        ).value
    }

    /// A persistent neighbourhood alltoallw (MPI_Neighbor_alltoallw_init) on owned memory: each run
    /// sends blocks of the `sendElements` elements of `T` given to `start(with:)` (block i:
    /// `sendCounts[i]` instances of `sendTypes[i]` from byte `sendDisplacements[i]`, to destination
    /// neighbour i), and its result is the `receiveElements` elements of `U` the blocks from the
    /// source neighbours landed in; elements no receive block covers keep their values from the
    /// last run (zero at first). Every block is checked against its array here, once.
    public func neighborAlltoallwInit<T: BitwiseCopyable, U: BitwiseCopyable>(
        sendElements: Int, of type: T.Type, sendCounts: [Int], sendDisplacements: [Int], sendTypes: [Datatype],
        receiveElements: Int, of resultType: U.Type, receiveCounts: [Int], receiveDisplacements: [Int], receiveTypes: [Datatype]
    ) throws(MPIError) -> PersistentCollective<T, [U]> {
        try tracedCall("neighborAlltoallwInit") {
            let call: StaticString = "neighborAlltoallwInit"
            let neighbors = try neighborhood(call)
            let (input, output) = try blockMemory(sendElements, of: T.self, receiveElements, of: U.self, call)
            let blocks = try neighborBlocks(
                UnsafeMutableRawBufferPointer(input.buffer), sendCounts, sendDisplacements, sendTypes,
                UnsafeMutableRawBufferPointer(output.buffer), receiveCounts, receiveDisplacements, receiveTypes, neighbors, call)
            let request = persistentSchedule { communicator, schedule in communicator.scheduleNeighborBlocks(blocks, neighbors, call, schedule) }
            return PersistentCollective(request: request, input: input, keeping: [input, output]) { output.array() }
        }
    }

    /// Every block of a neighbourhood alltoallw, checked against its memory.
    private func neighborBlocks(
        _ sendBytes: UnsafeMutableRawBufferPointer, _ sendCounts: [Int], _ sendDisplacements: [Int], _ sendTypes: [Datatype],
        _ receiveBytes: UnsafeMutableRawBufferPointer, _ receiveCounts: [Int], _ receiveDisplacements: [Int], _ receiveTypes: [Datatype],
        _ neighbors: Neighborhood, _ call: StaticString
    ) throws -> (sends: [TypedRegion], receives: [TypedRegion]) {
        let sends = try typedBlocks(
            sendBytes, sendCounts, sendDisplacements, sendTypes, peers: neighbors.destinations.count, side: "send", peer: "neighbour", call)
        let receives = try typedBlocks(
            receiveBytes, receiveCounts, receiveDisplacements, receiveTypes, peers: neighbors.sources.count, side: "receive",
            peer: "neighbour", call)
        return (sends, receives)
    }

    /// One step: every block received from its source neighbour and sent to its destination (none
    /// to or from `MPI.procNull`).
    func scheduleNeighborBlocks(
        _ blocks: (sends: [TypedRegion], receives: [TypedRegion]), _ neighbors: Neighborhood, _ call: StaticString, _ schedule: CollectiveSchedule
    ) {
        let (channel, tags) = neighborTags(neighbors)
        schedule.then {
            var requests: [Request] = []
            for (slot, source) in neighbors.sources.enumerated() where source != MPI.procNull {
                requests.append(try channel.startReceive(blocks.receives[slot], keepAlive: nil, from: source, tag: tags.receive(slot), call))
            }
            for (slot, destination) in neighbors.destinations.enumerated() where destination != MPI.procNull {
                requests.append(try channel.startSend(blocks.sends[slot], keepAlive: nil, to: destination, tag: tags.send(slot), mode: .standard, call))
            }
            return requests
        }
    }
}
