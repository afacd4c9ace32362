/// Neighbourhood collectives on arrays in the nonblocking, `async` and persistent forms: each owns
/// its input and result memory (like ``CollectiveRequest`` and ``PersistentCollective``), so no
/// pointer has to outlive anything. Results are laid out as the blocking forms' are (a block per
/// source neighbour, zeros for `MPI.procNull` neighbours).
extension Communicator {
    /// Starts `neighborAllgather(_:)` (MPI_Ineighbor_allgather).
    public func ineighborAllgather<T: BitwiseCopyable>(_ values: [T]) throws(MPIError) -> CollectiveRequest<[T]> {
        try typedErrors {
            let neighbors = try neighborhood("ineighborAllgather")
            return try startNeighborExchange(
                values, sendCounts: [Int](repeating: values.count, count: neighbors.destinations.count), sendsOneBlock: true,
                receiveCounts: [Int](repeating: values.count, count: neighbors.sources.count), neighbors, "ineighborAllgather")
        }
    }

    /// Starts `neighborAllgatherv(_:counts:)` (MPI_Ineighbor_allgatherv).
    public func ineighborAllgatherv<T: BitwiseCopyable>(_ values: [T], counts: [Int]) throws(MPIError) -> CollectiveRequest<[T]> {
        try typedErrors {
            let neighbors = try neighborhood("ineighborAllgatherv")
            return try startNeighborExchange(
                values, sendCounts: [Int](repeating: values.count, count: neighbors.destinations.count), sendsOneBlock: true,
                receiveCounts: counts, neighbors, "ineighborAllgatherv")
        }
    }

    /// Starts `neighborAlltoall(_:)` (MPI_Ineighbor_alltoall).
    public func ineighborAlltoall<T: BitwiseCopyable>(_ values: [T]) throws(MPIError) -> CollectiveRequest<[T]> {
        try typedErrors {
            let neighbors = try neighborhood("ineighborAlltoall")
            let block = try neighborBlock(values.count, neighbors, "ineighborAlltoall")
            return try startNeighborExchange(
                values, sendCounts: [Int](repeating: block, count: neighbors.destinations.count), sendsOneBlock: false,
                receiveCounts: [Int](repeating: block, count: neighbors.sources.count), neighbors, "ineighborAlltoall")
        }
    }

    /// Starts `neighborAlltoallv(_:sendCounts:receiveCounts:)` (MPI_Ineighbor_alltoallv).
    public func ineighborAlltoallv<T: BitwiseCopyable>(_ values: [T], sendCounts: [Int], receiveCounts: [Int]) throws(MPIError) -> CollectiveRequest<[T]> {
        try typedErrors {
            let neighbors = try neighborhood("ineighborAlltoallv")
            return try startNeighborExchange(
                values, sendCounts: sendCounts, sendsOneBlock: false, receiveCounts: receiveCounts, neighbors, "ineighborAlltoallv")
        }
    }

    /// `neighborAllgather(_:)`, awaited.
    public func neighborAllgather<T: BitwiseCopyable>(_ values: [T]) async throws -> [T] {
        try await ineighborAllgather(values).value
    }

    /// `neighborAllgatherv(_:counts:)`, awaited.
    public func neighborAllgatherv<T: BitwiseCopyable>(_ values: [T], counts: [Int]) async throws -> [T] {
        try await ineighborAllgatherv(values, counts: counts).value
    }

    /// `neighborAlltoall(_:)`, awaited.
    public func neighborAlltoall<T: BitwiseCopyable>(_ values: [T]) async throws -> [T] {
        try await ineighborAlltoall(values).value
    }

    /// `neighborAlltoallv(_:sendCounts:receiveCounts:)`, awaited.
    public func neighborAlltoallv<T: BitwiseCopyable>(_ values: [T], sendCounts: [Int], receiveCounts: [Int]) async throws -> [T] {
        try await ineighborAlltoallv(values, sendCounts: sendCounts, receiveCounts: receiveCounts).value
    }

    /// A persistent `neighborAllgather(_:)` of `count` elements per rank on memory it owns
    /// (MPI_Neighbor_allgather_init); see ``PersistentCollective``.
    public func neighborAllgatherInit<T: BitwiseCopyable>(count: Int, of type: T.Type) throws(MPIError) -> PersistentCollective<T, [T]> {
        try typedErrors {
            guard count >= 0 else { throw MPIError(.invalidCount, "neighborAllgatherInit(count: \(count)): negative count") }
            let neighbors = try neighborhood("neighborAllgatherInit")
            let input = OwnedBuffer<T>(zeroedCount: count), output = OwnedBuffer<T>(zeroedCount: count * neighbors.sources.count)
            let request = neighborAllgatherInit(input.readable, into: output.buffer)
            return PersistentCollective(request: request, input: input, keeping: [input, output]) { output.array() }
        }
    }

    /// A persistent `neighborAlltoall(_:)` of `count` elements per neighbour on memory it owns
    /// (MPI_Neighbor_alltoall_init): the contribution holds a block per destination neighbour.
    public func neighborAlltoallInit<T: BitwiseCopyable>(count: Int, of type: T.Type) throws(MPIError) -> PersistentCollective<T, [T]> {
        try typedErrors {
            guard count >= 0 else { throw MPIError(.invalidCount, "neighborAlltoallInit(count: \(count)): negative count") }
            let neighbors = try neighborhood("neighborAlltoallInit")
            let input = OwnedBuffer<T>(zeroedCount: count * neighbors.destinations.count)
            let output = OwnedBuffer<T>(zeroedCount: count * neighbors.sources.count)
            let request = neighborAlltoallInit(input.readable, into: output.buffer)
            return PersistentCollective(request: request, input: input, keeping: [input, output]) { output.array() }
        }
    }

    /// A persistent `neighborAllgatherv(_:counts:)` (MPI_Neighbor_allgatherv_init) on memory it owns:
    /// each run sends the `count` elements given to `start(with:)` to every destination neighbour
    /// and receives `counts[j]` elements from source neighbour j, in neighbour order.
    public func neighborAllgathervInit<T: BitwiseCopyable>(count: Int, of type: T.Type, counts: [Int]) throws(MPIError) -> PersistentCollective<T, [T]> {
        try typedErrors {
            guard count >= 0 else { throw MPIError(.invalidCount, "neighborAllgathervInit(count: \(count)): negative count") }
            let neighbors = try neighborhood("neighborAllgathervInit")
            return try persistentNeighborExchange(
                T.self, sendCount: count, sendCounts: [Int](repeating: count, count: neighbors.destinations.count), sendsOneBlock: true,
                receiveCounts: counts, neighbors, "neighborAllgathervInit")
        }
    }

    /// A persistent `neighborAlltoallv(_:sendCounts:receiveCounts:)` (MPI_Neighbor_alltoallv_init) on
    /// memory it owns: the contribution holds `sendCounts[i]` elements for destination neighbour i,
    /// one block after the other; the result `receiveCounts[j]` from source neighbour j.
    public func neighborAlltoallvInit<T: BitwiseCopyable>(
        of type: T.Type, sendCounts: [Int], receiveCounts: [Int]
    ) throws(MPIError) -> PersistentCollective<T, [T]> {
        try typedErrors {
            let neighbors = try neighborhood("neighborAlltoallvInit")
            let total = sendCounts.allSatisfy { $0 >= 0 } ? sendCounts.reduce(0, +) : 0
            return try persistentNeighborExchange(
                T.self, sendCount: total, sendCounts: sendCounts, sendsOneBlock: false, receiveCounts: receiveCounts, neighbors,
                "neighborAlltoallvInit")
        }
    }

    /// A persistent exchange over owned memory: the counts are checked once, when it is made.
    private func persistentNeighborExchange<T: BitwiseCopyable>(
        _ type: T.Type, sendCount: Int, sendCounts: [Int], sendsOneBlock: Bool, receiveCounts: [Int], _ neighbors: Neighborhood,
        _ call: StaticString
    ) throws -> PersistentCollective<T, [T]> {
        let total = receiveCounts.allSatisfy { $0 >= 0 } ? receiveCounts.reduce(0, +) : 0
        let input = OwnedBuffer<T>(zeroedCount: sendCount), output = OwnedBuffer<T>(zeroedCount: total)
        let layout = try neighborLayout(
            T.self, sendCounts: sendCounts, sendsOneBlock: sendsOneBlock, receiveCounts: receiveCounts, neighbors,
            available: (sendCount, total), call)
        let request = persistentSchedule { communicator, schedule in
            communicator.scheduleNeighborExchange(
                UnsafeRawBufferPointer(input.readable), into: UnsafeMutableRawBufferPointer(output.buffer), layout, neighbors, schedule)
        }
        return PersistentCollective(request: request, input: input, keeping: [input, output]) { output.array() }
    }

    /// The block size of an all-to-all over `neighbors`: `count` must divide among the destinations.
    private func neighborBlock(_ count: Int, _ neighbors: Neighborhood, _ call: StaticString) throws -> Int {
        let outdegree = neighbors.destinations.count
        guard outdegree > 0 ? count % outdegree == 0 : count == 0 else {
            throw MPIError(.invalidCount, "\(call): \(count) elements do not divide among \(outdegree) destination neighbours")
        }
        return outdegree > 0 ? count / outdegree : 0
    }

    /// Copies `values` into owned memory, checks the counts and starts the exchange into a zeroed
    /// owned result.
    private func startNeighborExchange<T: BitwiseCopyable>(
        _ values: [T], sendCounts: [Int], sendsOneBlock: Bool, receiveCounts: [Int], _ neighbors: Neighborhood, _ call: StaticString
    ) throws -> CollectiveRequest<[T]> {
        let total = receiveCounts.allSatisfy { $0 >= 0 } ? receiveCounts.reduce(0, +) : 0
        let input = OwnedBuffer(copying: values), output = OwnedBuffer<T>(zeroedCount: total)
        let layout = try neighborLayout(
            T.self, sendCounts: sendCounts, sendsOneBlock: sendsOneBlock, receiveCounts: receiveCounts, neighbors,
            available: (values.count, total), call)
        let request = try start {
            scheduleNeighborExchange(UnsafeRawBufferPointer(input.readable), into: UnsafeMutableRawBufferPointer(output.buffer), layout, neighbors, $0)
        }
        return CollectiveRequest(request: request, keeping: [input, output]) { output.array() }
    }
}
