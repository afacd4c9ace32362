/// Persistent v-form and reduce-scatter collectives on owned memory (MPI_Gatherv_init,
/// MPI_Scatterv_init, MPI_Allgatherv_init, MPI_Alltoallv_init, MPI_Reduce_scatter_init,
/// MPI_Reduce_scatter_block_init): counts and displacements (in elements) are fixed and checked at
/// init; each run takes this rank's contribution (``PersistentCollective/start(with:)``) and
/// returns what the blocking form would. A root that refuses its own displacements still takes
/// part in every run (with the plain layout), so the other ranks complete, and its waits throw.
extension Communicator {
    /// A persistent ``igatherv(_:counts:displacements:root:)``: rank i contributes `counts[i]`
    /// elements; the root's result places them in rank order or at `displacements[i]`.
    public func gathervInit<T: BitwiseCopyable>(
        of type: T.Type, counts: [Int], displacements: [Int]? = nil, root: Int
    ) throws(MPIError) -> PersistentCollective<T, [T]?> {
        try typedErrors {
            try checkRoot(root, "gathervInit")
            var layout = try byteLayout(T.self, counts: counts, "gathervInit")
            var refusal: MPIError?
            if rank == root, let displacements {
                do {
                    layout = try byteLayout(T.self, counts: counts, displacements: displacements, receiving: true, "gathervInit")
                } catch let error as MPIError {
                    refusal = error
                }
            }
            let isRoot = rank == root
            let input = OwnedBuffer<T>(zeroedCount: counts[rank]), output = OwnedBuffer<T>(zeroedCount: isRoot ? layout.extent : 0)
            let request = persistentSchedule {
                $0.scheduleGather(
                    UnsafeRawBufferPointer(input.readable), into: isRoot ? UnsafeMutableRawBufferPointer(output.buffer) : nil,
                    counts: layout.counts, displacements: layout.displacements, root: root, $1)
            }
            return PersistentCollective(request: request, input: input, keeping: [input, output], refusal: refusal) { isRoot ? output.array() : nil }
        }
    }

    /// A persistent ``iscatterv(_:counts:displacements:root:)``: the root contributes the whole
    /// array (the extent of `counts` and `displacements`), every rank i gets `counts[i]` elements.
    public func scattervInit<T: BitwiseCopyable>(
        of type: T.Type, counts: [Int], displacements: [Int]? = nil, root: Int
    ) throws(MPIError) -> PersistentCollective<T, [T]> {
        try typedErrors {
            try checkRoot(root, "scattervInit")
            let isRoot = rank == root
            let layout = try byteLayout(T.self, counts: counts, displacements: isRoot ? displacements : nil, "scattervInit")
            let input = OwnedBuffer<T>(zeroedCount: isRoot ? layout.extent : 0), output = OwnedBuffer<T>(zeroedCount: counts[rank])
            let request = persistentSchedule {
                $0.scheduleScatter(
                    isRoot ? UnsafeRawBufferPointer(input.readable) : nil, counts: layout.counts, displacements: layout.displacements,
                    into: UnsafeMutableRawBufferPointer(output.buffer), root: root, $1)
            }
            return PersistentCollective(request: request, input: input, keeping: [input, output]) { output.array() }
        }
    }

    /// A persistent ``iallgatherv(_:counts:displacements:)``: rank i contributes `counts[i]`
    /// elements; every rank gets them all, in rank order or at `displacements[i]`.
    public func allgathervInit<T: BitwiseCopyable>(of type: T.Type, counts: [Int], displacements: [Int]? = nil) throws(MPIError) -> PersistentCollective<T, [T]>
    {
        try typedErrors {
            let layout = try byteLayout(T.self, counts: counts, displacements: displacements, receiving: true, "allgathervInit")
            let input = OwnedBuffer<T>(zeroedCount: counts[rank]), output = OwnedBuffer<T>(zeroedCount: layout.extent)
            let request = persistentSchedule {
                $0.scheduleAllgather(
                    UnsafeRawBufferPointer(input.readable), into: UnsafeMutableRawBufferPointer(output.buffer), counts: layout.counts,
                    displacements: layout.displacements, $1)
            }
            return PersistentCollective(request: request, input: input, keeping: [input, output]) { output.array() }
        }
    }

    /// ``alltoallvInit(of:sendCounts:sendDisplacements:receiveCounts:receiveDisplacements:)`` spelled
    /// as the blocking `alltoallv(_:sendCounts:sendDisplacements:recvCounts:recvDisplacements:)`.
    public func alltoallvInit<T: BitwiseCopyable>(
        of type: T.Type, sendCounts: [Int], sendDisplacements: [Int]? = nil, recvCounts: [Int], recvDisplacements: [Int]? = nil
    ) throws(MPIError) -> PersistentCollective<T, [T]> {
        try alltoallvInit(
            of: type, sendCounts: sendCounts, sendDisplacements: sendDisplacements, receiveCounts: recvCounts, receiveDisplacements: recvDisplacements)
    }

    /// A persistent ``ialltoallv(_:sendCounts:sendDisplacements:receiveCounts:receiveDisplacements:)``:
    /// the contribution holds the send blocks (the extent of the send counts and displacements).
    public func alltoallvInit<T: BitwiseCopyable>(
        of type: T.Type, sendCounts: [Int], sendDisplacements: [Int]? = nil, receiveCounts: [Int], receiveDisplacements: [Int]? = nil
    ) throws(MPIError) -> PersistentCollective<T, [T]> {
        try typedErrors {
            let send = try byteLayout(T.self, counts: sendCounts, displacements: sendDisplacements, "alltoallvInit")
            let receive = try byteLayout(T.self, counts: receiveCounts, displacements: receiveDisplacements, receiving: true, "alltoallvInit")
            let input = OwnedBuffer<T>(zeroedCount: send.extent), output = OwnedBuffer<T>(zeroedCount: receive.extent)
            let request = persistentSchedule {
                $0.scheduleAlltoall(
                    UnsafeRawBufferPointer(input.readable), sendCounts: send.counts, sendDisplacements: send.displacements,
                    into: UnsafeMutableRawBufferPointer(output.buffer), receiveCounts: receive.counts, receiveDisplacements: receive.displacements, $1)
            }
            return PersistentCollective(request: request, input: input, keeping: [input, output]) { output.array() }
        }
    }

    /// A persistent ``ialltoallw(_:sendCounts:sendDisplacements:sendTypes:into:receiveCounts:receiveDisplacements:receiveTypes:)``
    /// (MPI_Alltoallw_init) on owned memory: each run sends blocks of the `sendElements` elements of
    /// `T` given to `start(with:)` (block i: `sendCounts[i]` instances of `sendTypes[i]` from byte
    /// `sendDisplacements[i]`) and its result is the `receiveElements` elements of `U` the blocks
    /// from every rank landed in; elements no receive block covers keep their values from the last
    /// run (zero at first). Every block is checked against its array here, once, and nothing is
    /// made when one does not fit (`.invalidCount`). On intracommunicators.
    public func alltoallwInit<T: BitwiseCopyable, U: BitwiseCopyable>(
        sendElements: Int, of type: T.Type, sendCounts: [Int], sendDisplacements: [Int], sendTypes: [Datatype],
        receiveElements: Int, of resultType: U.Type, receiveCounts: [Int], receiveDisplacements: [Int], receiveTypes: [Datatype]
    ) throws(MPIError) -> PersistentCollective<T, [U]> {
        try typedErrors {
            let call: StaticString = "alltoallwInit"
            try refuseOnIntercommunicator()
            let (input, output) = try blockMemory(sendElements, of: T.self, receiveElements, of: U.self, call)
            let (sends, receives) = try alltoallwBlocks(
                UnsafeMutableRawBufferPointer(input.buffer), sendCounts, sendDisplacements, sendTypes,
                UnsafeMutableRawBufferPointer(output.buffer), receiveCounts, receiveDisplacements, receiveTypes, call)
            let request = persistentSchedule { communicator, schedule in
                let (channel, tag) = communicator.nextCollective()
                schedule.then { try communicator.alltoallwPost(channel, tag: tag, sends, receives, call) }
            }
            return PersistentCollective(request: request, input: input, keeping: [input, output]) { output.array() }
        }
    }

    /// A persistent ``ireduceScatter(_:counts:op:)``: every rank contributes `counts.reduce(0, +)`
    /// elements; rank i gets `counts[i]` elements of their reduction.
    public func reduceScatterInit<T: BitwiseCopyable>(of type: T.Type, counts: [Int], op: ReduceOperation<T>) throws(MPIError) -> PersistentCollective<T, [T]> {
        try typedErrors {
            let layout = try byteLayout(T.self, counts: counts, "reduceScatterInit")
            let total = counts.reduce(0, +)
            let isFirst = rank == 0
            let input = OwnedBuffer<T>(zeroedCount: total), reduced = OwnedBuffer<T>(zeroedCount: isFirst ? total : 0)
            let output = OwnedBuffer<T>(zeroedCount: counts[rank])
            let request = persistentSchedule { communicator, schedule in
                communicator.scheduleReduce(input.readable, into: isFirst ? reduced.buffer : nil, op: op, root: 0, schedule)
                communicator.scheduleScatter(
                    isFirst ? UnsafeRawBufferPointer(reduced.readable) : nil, counts: layout.counts, displacements: layout.displacements,
                    into: UnsafeMutableRawBufferPointer(output.buffer), root: 0, schedule)
            }
            return PersistentCollective(request: request, input: input, keeping: [input, reduced, output]) { output.array() }
        }
    }

    /// A persistent ``ireduceScatterBlock(_:op:)``: every rank contributes `count` × size elements
    /// and gets `count` of their reduction.
    public func reduceScatterBlockInit<T: BitwiseCopyable>(count: Int, of type: T.Type, op: ReduceOperation<T>) throws(MPIError) -> PersistentCollective<T, [T]>
    {
        guard count >= 0 else { throw MPIError(.invalidCount, "reduceScatterBlockInit(count: \(count)): negative count") }
        return try reduceScatterInit(of: type, counts: [Int](repeating: count, count: size), op: op)
    }

    /// The zeroed contribution and result memory of a persistent w-form (alltoallw, neighbourhood
    /// alltoallw); `.invalidCount` for a negative number of elements.
    func blockMemory<T: BitwiseCopyable, U: BitwiseCopyable>(
        _ sendElements: Int, of type: T.Type, _ receiveElements: Int, of resultType: U.Type, _ call: StaticString
    ) throws(MPIError) -> (OwnedBuffer<T>, OwnedBuffer<U>) {
        guard sendElements >= 0, receiveElements >= 0 else {
            throw MPIError(.invalidCount, "\(call): a negative number of elements (\(sendElements) to send, \(receiveElements) to receive)")
        }
        return (OwnedBuffer<T>(zeroedCount: sendElements), OwnedBuffer<U>(zeroedCount: receiveElements))
    }

    /// A persistent request whose every start builds a schedule with `build` on this communicator.
    func persistentSchedule(_ build: @escaping (Communicator, CollectiveSchedule) -> Void) -> Request {
        Request(runtime: runtime, persistent: .collective(reservingSequence { [self] in try self.start { build(self, $0) } }))
    }
}
