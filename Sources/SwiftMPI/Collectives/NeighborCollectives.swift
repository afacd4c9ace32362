/// Neighbourhood collectives (MPI-4.1 §8.6): every rank exchanges only with its neighbours in the
/// communicator's Cartesian or graph topology — a halo exchange in one call.
///
/// Neighbour order is MPI's. On a Cartesian grid each dimension contributes the rank one step down,
/// then one step up (`cartShift(dimension:displacement: 1)`'s source, then destination), and a rank
/// sends to and receives from that same list; `MPI.procNull` neighbours past a non-periodic edge are
/// skipped (their blocks are zeros in the array forms and untouched in the buffer forms). On a graph
/// a rank receives from its `sources` and sends to its `destinations`. Blocks are packed in
/// neighbour order. Messages to a neighbour that appears twice (a periodic dimension of size 1 or 2)
/// still arrive in the right blocks: each direction of a dimension has a tag of its own.
extension Communicator {
    /// This rank's neighbourhood: whom it receives from and sends to, in order, and whether blocks
    /// travel along Cartesian directions (each pair of slots of a dimension with its own tags).
    struct Neighborhood {
        var sources: [Int]
        var destinations: [Int]
        var cartesian: Bool
    }

    func neighborhood(_ call: StaticString) throws -> Neighborhood {
        if let topology = state.topology {
            var neighbors: [Int] = []
            for dimension in topology.dimensions.indices {
                let (down, up) = try cartShift(dimension: dimension, displacement: 1)
                neighbors += [down, up]
            }
            return Neighborhood(sources: neighbors, destinations: neighbors, cartesian: true)
        }
        if let graph = state.graph { return Neighborhood(sources: graph.sources, destinations: graph.destinations, cartesian: false) }
        throw MPIError(.invalidArgument, "\(call): the communicator has no topology (make one with cartCreate or distGraphCreateAdjacent)")
    }

    // MARK: - Blocking, arrays

    /// `values` sent to every destination neighbour; returns one block per source neighbour, in order
    /// (MPI_Neighbor_allgather).
    public func neighborAllgather<T: BitwiseCopyable>(_ values: [T]) throws(MPIError) -> [T] {
        try tracedCall("neighborAllgather") {
            let neighbors = try neighborhood("neighborAllgather")
            return try neighborExchange(
                values, sendCounts: [Int](repeating: values.count, count: neighbors.destinations.count), sendsOneBlock: true,
                receiveCounts: [Int](repeating: values.count, count: neighbors.sources.count), neighbors, "neighborAllgather")
        }
    }

    /// Like `neighborAllgather(_:)` with `counts[i]` elements from source neighbour i
    /// (MPI_Neighbor_allgatherv).
    public func neighborAllgatherv<T: BitwiseCopyable>(_ values: [T], counts: [Int]) throws(MPIError) -> [T] {
        try tracedCall("neighborAllgatherv") {
            let neighbors = try neighborhood("neighborAllgatherv")
            return try neighborExchange(
                values, sendCounts: [Int](repeating: values.count, count: neighbors.destinations.count), sendsOneBlock: true,
                receiveCounts: counts, neighbors, "neighborAllgatherv")
        }
    }

    /// Block i of `values` (equal blocks, one per destination neighbour) to destination neighbour i;
    /// returns one block of the same size per source neighbour (MPI_Neighbor_alltoall). A rank with no
    /// destinations sends nothing and receives empty blocks: use `neighborAlltoallv(_:sendCounts:receiveCounts:)`
    /// when its sources send more.
    public func neighborAlltoall<T: BitwiseCopyable>(_ values: [T]) throws(MPIError) -> [T] {
        try tracedCall("neighborAlltoall") {
            let neighbors = try neighborhood("neighborAlltoall")
            let outdegree = neighbors.destinations.count
            guard outdegree > 0 ? values.count % outdegree == 0 : values.isEmpty else {
                throw MPIError(.invalidCount, "neighborAlltoall: \(values.count) elements do not divide among \(outdegree) destination neighbours")
            }
            let block = outdegree > 0 ? values.count / outdegree : 0
            return try neighborExchange(
                values, sendCounts: [Int](repeating: block, count: outdegree), sendsOneBlock: false,
                receiveCounts: [Int](repeating: block, count: neighbors.sources.count), neighbors, "neighborAlltoall")
        }
    }

    /// `sendCounts[i]` elements (packed in order in `values`) to destination neighbour i,
    /// `receiveCounts[j]` from source neighbour j (MPI_Neighbor_alltoallv).
    public func neighborAlltoallv<T: BitwiseCopyable>(_ values: [T], sendCounts: [Int], receiveCounts: [Int]) throws(MPIError) -> [T] {
        try tracedCall("neighborAlltoallv") {
            let neighbors = try neighborhood("neighborAlltoallv")
            return try neighborExchange(values, sendCounts: sendCounts, sendsOneBlock: false, receiveCounts: receiveCounts, neighbors, "neighborAlltoallv")
        }
    }

    /// Like `neighborAllgatherv(_:counts:)` with source neighbour i's block placed at
    /// `displacements[i]` (in elements) of the result, which spans the furthest block; elements no
    /// block covers are zero. Blocks must not overlap (MPI_Neighbor_allgatherv with displacements).
    public func neighborAllgatherv<T: BitwiseCopyable>(_ values: [T], counts: [Int], displacements: [Int]) throws(MPIError) -> [T] {
        let packed = try neighborAllgatherv(values, counts: counts)
        return try typedErrors { try Self.placed(packed, counts: counts, displacements: displacements, "neighborAllgatherv") }
    }

    /// Like `neighborAlltoallv(_:sendCounts:receiveCounts:)` with the block for destination
    /// neighbour i taken from `sendDisplacements[i]` of `values` and the block from source neighbour
    /// j placed at `recvDisplacements[j]` of the result (in elements), which spans the furthest block;
    /// elements no block covers are zero. Received blocks must not overlap (MPI_Neighbor_alltoallv).
    public func neighborAlltoallv<T: BitwiseCopyable>(
        _ values: [T], sendCounts: [Int], sendDisplacements: [Int], recvCounts: [Int], recvDisplacements: [Int]
    ) throws(MPIError) -> [T] {
        let blocks: [T] = try typedErrors {
            guard sendDisplacements.count == sendCounts.count else {
                throw MPIError(.invalidArgument, "neighborAlltoallv: \(sendCounts.count) send counts but \(sendDisplacements.count) displacements")
            }
            var blocks: [T] = []
            blocks.reserveCapacity(sendCounts.reduce(0) { $0 + max($1, 0) })
            for (count, start) in zip(sendCounts, sendDisplacements) {
                guard count >= 0, start >= 0, start <= values.count, count <= values.count - start else {
                    throw MPIError(.invalidCount, "neighborAlltoallv: a block of \(count) elements at \(start) of \(values.count)")
                }
                blocks += values[start..<(start + count)]
            }
            return blocks
        }
        let packed = try neighborAlltoallv(blocks, sendCounts: sendCounts, receiveCounts: recvCounts)
        return try typedErrors { try Self.placed(packed, counts: recvCounts, displacements: recvDisplacements, "neighborAlltoallv") }
    }

    /// `packed` (blocks of `counts` in order) spread to `displacements`, in a zeroed array that spans
    /// the furthest block; refuses negative or overlapping placements.
    private static func placed<T: BitwiseCopyable>(_ packed: [T], counts: [Int], displacements: [Int], _ call: StaticString) throws -> [T] {
        guard displacements.count == counts.count, displacements.allSatisfy({ $0 >= 0 }) else {
            throw MPIError(.invalidArgument, "\(call): needs \(counts.count) non-negative displacements, got \(displacements)")
        }
        let extent = try placementExtent(counts: counts, displacements: displacements, checkingOverlap: true, peers: "neighbours", call)
        var result = [T](zeroedCount: extent)
        var offset = 0
        for index in counts.indices where counts[index] > 0 {
            result[displacements[index]..<(displacements[index] + counts[index])] = packed[offset..<(offset + counts[index])]
            offset += counts[index]
        }
        return result
    }

    // MARK: - Nonblocking, buffers

    /// Starts `neighborAllgather(_:)` into `result` (one block of `values.count` per source
    /// neighbour); both buffers must stay valid until the request completes (MPI_Ineighbor_allgather).
    public func ineighborAllgather<T: BitwiseCopyable>(_ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>) throws(MPIError) -> Request
    {
        try tracedCall("ineighborAllgather") {
            let call: StaticString = "ineighborAllgather"
            let neighbors = try neighborhood(call)
            let layout = try neighborLayout(
                T.self, sendCounts: [Int](repeating: values.count, count: neighbors.destinations.count), sendsOneBlock: true,
                receiveCounts: [Int](repeating: values.count, count: neighbors.sources.count), neighbors, available: (values.count, result.count), call)
            return try start { scheduleNeighborExchange(UnsafeRawBufferPointer(values), into: UnsafeMutableRawBufferPointer(result), layout, neighbors, $0) }
        }
    }

    /// Starts `neighborAlltoall(_:)` into `result`; both buffers must stay valid until the request
    /// completes (MPI_Ineighbor_alltoall).
    public func ineighborAlltoall<T: BitwiseCopyable>(_ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>) throws(MPIError) -> Request
    {
        try tracedCall("ineighborAlltoall") {
            let call: StaticString = "ineighborAlltoall"
            let neighbors = try neighborhood(call)
            let outdegree = neighbors.destinations.count
            guard outdegree > 0 ? values.count % outdegree == 0 : values.isEmpty else {
                throw MPIError(.invalidCount, "\(call): \(values.count) elements do not divide among \(outdegree) destination neighbours")
            }
            let block = outdegree > 0 ? values.count / outdegree : 0
            let layout = try neighborLayout(
                T.self, sendCounts: [Int](repeating: block, count: outdegree), sendsOneBlock: false,
                receiveCounts: [Int](repeating: block, count: neighbors.sources.count), neighbors, available: (values.count, result.count), call)
            return try start { scheduleNeighborExchange(UnsafeRawBufferPointer(values), into: UnsafeMutableRawBufferPointer(result), layout, neighbors, $0) }
        }
    }

    // MARK: - Shared

    /// Byte offsets and lengths of every block sent and received.
    struct NeighborLayout {
        var sends: [(offset: Int, count: Int)]
        var receives: [(offset: Int, count: Int)]
    }

    func neighborLayout<T>(
        _ type: T.Type, sendCounts: [Int], sendsOneBlock: Bool, receiveCounts: [Int], _ neighbors: Neighborhood,
        available: (send: Int, receive: Int), _ call: StaticString
    ) throws -> NeighborLayout {
        guard sendCounts.count == neighbors.destinations.count, receiveCounts.count == neighbors.sources.count,
            (sendCounts + receiveCounts).allSatisfy({ $0 >= 0 })
        else {
            throw MPIError(
                .invalidCount,
                "\(call): needs \(neighbors.destinations.count) send and \(neighbors.sources.count) receive counts (non-negative), "
                    + "got \(sendCounts) and \(receiveCounts)")
        }
        let stride = MemoryLayout<T>.stride
        var offset = 0
        var sends: [(offset: Int, count: Int)] = []
        for count in sendCounts {
            sends.append((sendsOneBlock ? 0 : offset * stride, count * stride))
            if !sendsOneBlock { offset += count }
        }
        let needed = sendsOneBlock ? (sendCounts.max() ?? 0) : offset
        offset = 0
        var receives: [(offset: Int, count: Int)] = []
        for count in receiveCounts {
            receives.append((offset * stride, count * stride))
            offset += count
        }
        guard available.send >= needed, available.receive >= offset else {
            throw MPIError(
                .invalidCount, "\(call): \(available.send) elements to send from and \(available.receive) to receive into; needs \(needed) and \(offset)")
        }
        return NeighborLayout(sends: sends, receives: receives)
    }

    private func neighborExchange<T: BitwiseCopyable>(
        _ values: [T], sendCounts: [Int], sendsOneBlock: Bool, receiveCounts: [Int], _ neighbors: Neighborhood, _ call: StaticString
    ) throws -> [T] {
        var result = [T](zeroedCount: receiveCounts.allSatisfy { $0 >= 0 } ? receiveCounts.reduce(0, +) : 0)
        let layout = try neighborLayout(
            T.self, sendCounts: sendCounts, sendsOneBlock: sendsOneBlock, receiveCounts: receiveCounts, neighbors,
            available: (values.count, result.count), call)
        try values.withUnsafeBytes { input in
            try result.withUnsafeMutableBytes { output in
                try run(call) { scheduleNeighborExchange(input, into: output, layout, neighbors, $0) }
            }
        }
        return result
    }

    /// The channel and the tag of each slot's messages for the next neighbourhood collective: one
    /// tag, or on a Cartesian grid one per slot, where a block sent down (slot k) arrives in the
    /// receiver's up slot (k ^ 1) and so on.
    func neighborTags(_ neighbors: Neighborhood) -> (channel: Communicator, tags: (send: (Int) -> Int, receive: (Int) -> Int)) {
        let (channel, first) = nextCollective()
        guard neighbors.cartesian else { return (channel, ({ _ in first }, { _ in first })) }
        var tags = [first]
        for _ in 1..<max(1, neighbors.sources.count) { tags.append(nextCollective().tag) }
        return (channel, ({ tags[$0] }, { tags[$0 ^ 1] }))
    }

    /// One step: a receive from every source neighbour and a send to every destination neighbour
    /// (none to or from `MPI.procNull`). On a Cartesian grid slot 2d is the neighbour down dimension
    /// d and slot 2d + 1 the one up: a block sent down arrives in the receiver's up slot, so the send
    /// of slot k and the receive of slot k ^ 1 share a tag.
    func scheduleNeighborExchange(
        _ values: UnsafeRawBufferPointer, into result: UnsafeMutableRawBufferPointer, _ layout: NeighborLayout, _ neighbors: Neighborhood,
        _ schedule: CollectiveSchedule
    ) {
        let (channel, tags) = neighborTags(neighbors)
        schedule.then {
            var requests: [Request] = []
            for (slot, source) in neighbors.sources.enumerated() where source != MPI.procNull {
                let block = layout.receives[slot]
                let tag = tags.receive(slot)
                requests.append(
                    try channel.receiveBytes(
                        UnsafeMutableRawBufferPointer(rebasing: result[block.offset..<(block.offset + block.count)]), from: source, tag: tag))
            }
            for (slot, destination) in neighbors.destinations.enumerated() where destination != MPI.procNull {
                let block = layout.sends[slot]
                let tag = tags.send(slot)
                requests.append(
                    try channel.sendBytes(UnsafeRawBufferPointer(rebasing: values[block.offset..<(block.offset + block.count)]), to: destination, tag: tag))
            }
            return requests
        }
    }
}
