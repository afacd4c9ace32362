/// The nonblocking v-forms on arrays (MPI_Igatherv, MPI_Iscatterv, MPI_Iallgatherv,
/// MPI_Ialltoallv) and their `async` forms: per-rank counts and, optionally, displacements (in
/// elements), as in the blocking forms. Arguments are checked when the collective starts; a root
/// that refuses its own displacements (overlapping blocks) still takes part, so the other ranks
/// complete, and its `wait()` throws.
extension Communicator {
    /// Starts gathering `counts[i]` elements from rank i at the root, in rank order or at
    /// `displacements[i]` (MPI_Igatherv); the result is nil elsewhere.
    public func igatherv<T: BitwiseCopyable>(
        _ values: [T], counts: [Int], displacements: [Int]? = nil, root: Int
    ) throws(MPIError) -> CollectiveRequest<[T]?> {
        try tracedCall("igatherv") {
            try checkRoot(root, "igatherv")
            if isIntercommunicator { return try startInterGatherv(values, counts: counts, displacements: displacements, root: root) }
            var layout = try byteLayout(T.self, counts: counts, "igatherv")
            var refusal: MPIError?
            if rank == root, let displacements {
                do {
                    layout = try byteLayout(T.self, counts: counts, displacements: displacements, receiving: true, "igatherv")
                } catch let error as MPIError {
                    refusal = error
                }
            }
            guard values.count == counts[rank] else {
                throw MPIError(.invalidCount, "igatherv: rank \(rank) passes \(values.count) elements, counts[\(rank)] is \(counts[rank])")
            }
            let isRoot = rank == root
            let input = OwnedBuffer(copying: values), output = OwnedBuffer<T>(zeroedCount: isRoot ? layout.extent : 0)
            let request = try start {
                scheduleGather(
                    UnsafeRawBufferPointer(input.readable), into: isRoot ? UnsafeMutableRawBufferPointer(output.buffer) : nil,
                    counts: layout.counts, displacements: layout.displacements, root: root, $0)
            }
            return CollectiveRequest(request: request, keeping: [input, output], refusal: refusal) { isRoot ? output.array() : nil }
        }
    }

    /// Starts dealing out the root's `values`, `counts[i]` elements to rank i from the start of
    /// block i or from `displacements[i]` (MPI_Iscatterv); every rank passes the same counts.
    public func iscatterv<T: BitwiseCopyable>(
        _ values: [T], counts: [Int], displacements: [Int]? = nil, root: Int
    ) throws(MPIError) -> CollectiveRequest<[T]> {
        try tracedCall("iscatterv") {
            try checkRoot(root, "iscatterv")
            if isIntercommunicator { return try startInterScatterv(values, counts: counts, displacements: displacements, root: root) }
            let layout = try byteLayout(T.self, counts: counts, displacements: rank == root ? displacements : nil, "iscatterv")
            if rank == root, values.count < layout.extent {
                throw MPIError(.invalidCount, "iscatterv: \(values.count) elements at the root, \(layout.extent) to deal out")
            }
            let isRoot = rank == root
            let input = OwnedBuffer(copying: isRoot ? values : []), output = OwnedBuffer<T>(count: counts[rank])
            let request = try start {
                scheduleScatter(
                    isRoot ? UnsafeRawBufferPointer(input.readable) : nil, counts: layout.counts, displacements: layout.displacements,
                    into: UnsafeMutableRawBufferPointer(output.buffer), root: root, $0)
            }
            return CollectiveRequest(request: request, keeping: [input, output]) { output.array() }
        }
    }

    /// Starts gathering `counts[i]` elements from rank i on every rank, in rank order or at
    /// `displacements[i]` (MPI_Iallgatherv).
    public func iallgatherv<T: BitwiseCopyable>(_ values: [T], counts: [Int], displacements: [Int]? = nil) throws(MPIError) -> CollectiveRequest<[T]> {
        try tracedCall("iallgatherv") {
            let layout = try byteLayout(T.self, counts: counts, displacements: displacements, receiving: true, "iallgatherv")
            if isIntercommunicator {  // `counts` are the other group's
                let input = OwnedBuffer(copying: values), output = OwnedBuffer<T>(zeroedCount: layout.extent)
                let request = try start(spansGroups: true) {
                    scheduleInterAllgatherv(
                        UnsafeRawBufferPointer(input.readable), into: UnsafeMutableRawBufferPointer(output.buffer), counts: layout.counts,
                        displacements: layout.displacements, $0)
                }
                return CollectiveRequest(request: request, keeping: [input, output]) { output.array() }
            }
            guard values.count == counts[rank] else {
                throw MPIError(.invalidCount, "iallgatherv: rank \(rank) passes \(values.count) elements, counts[\(rank)] is \(counts[rank])")
            }
            let input = OwnedBuffer(copying: values), output = OwnedBuffer<T>(zeroedCount: layout.extent)
            let request = try start {
                scheduleAllgather(
                    UnsafeRawBufferPointer(input.readable), into: UnsafeMutableRawBufferPointer(output.buffer), counts: layout.counts,
                    displacements: layout.displacements, $0)
            }
            return CollectiveRequest(request: request, keeping: [input, output]) { output.array() }
        }
    }

    /// ``ialltoallv(_:sendCounts:sendDisplacements:receiveCounts:receiveDisplacements:)`` spelled as
    /// the blocking `alltoallv(_:sendCounts:sendDisplacements:recvCounts:recvDisplacements:)`
    /// (MPI's `recvcounts`, `rdispls`).
    public func ialltoallv<T: BitwiseCopyable>(
        _ values: [T], sendCounts: [Int], sendDisplacements: [Int]? = nil, recvCounts: [Int], recvDisplacements: [Int]? = nil
    ) throws(MPIError) -> CollectiveRequest<[T]> {
        try ialltoallv(
            values, sendCounts: sendCounts, sendDisplacements: sendDisplacements, receiveCounts: recvCounts, receiveDisplacements: recvDisplacements)
    }

    /// Starts sending `sendCounts[i]` elements (from the start of block i or `sendDisplacements[i]`)
    /// to rank i and receiving `receiveCounts[j]` from rank j (in rank order or at
    /// `receiveDisplacements[j]`) (MPI_Ialltoallv).
    public func ialltoallv<T: BitwiseCopyable>(
        _ values: [T], sendCounts: [Int], sendDisplacements: [Int]? = nil, receiveCounts: [Int], receiveDisplacements: [Int]? = nil
    ) throws(MPIError) -> CollectiveRequest<[T]> {
        try tracedCall("ialltoallv") {
            let send = try byteLayout(T.self, counts: sendCounts, displacements: sendDisplacements, "ialltoallv")
            let receive = try byteLayout(T.self, counts: receiveCounts, displacements: receiveDisplacements, receiving: true, "ialltoallv")
            guard values.count >= send.extent else {
                throw MPIError(.invalidCount, "ialltoallv: \(values.count) elements to send, the send counts need \(send.extent)")
            }
            let input = OwnedBuffer(copying: values), output = OwnedBuffer<T>(zeroedCount: receive.extent)
            let (source, target) = (UnsafeRawBufferPointer(input.readable), UnsafeMutableRawBufferPointer(output.buffer))
            let request = try start(spansGroups: isIntercommunicator) {
                if isIntercommunicator {  // counts and displacements are the other group's
                    scheduleInterAlltoall(
                        source, sendCounts: send.counts, sendDisplacements: send.displacements, into: target, receiveCounts: receive.counts,
                        receiveDisplacements: receive.displacements, $0)
                } else {
                    scheduleAlltoall(
                        source, sendCounts: send.counts, sendDisplacements: send.displacements, into: target, receiveCounts: receive.counts,
                        receiveDisplacements: receive.displacements, $0)
                }
            }
            return CollectiveRequest(request: request, keeping: [input, output]) { output.array() }
        }
    }

    /// `gatherv`, awaited (``igatherv(_:counts:displacements:root:)``).
    public func gatherv<T: BitwiseCopyable>(_ values: [T], counts: [Int], root: Int) async throws -> [T]? {
        try await igatherv(values, counts: counts, root: root).value
    }

    /// `gatherv` with displacements, awaited.
    public func gatherv<T: BitwiseCopyable>(_ values: [T], counts: [Int], displacements: [Int], root: Int) async throws -> [T]? {
        try await igatherv(values, counts: counts, displacements: displacements, root: root).value
    }

    /// `scatterv`, awaited (``iscatterv(_:counts:displacements:root:)``).
    public func scatterv<T: BitwiseCopyable>(_ values: [T], counts: [Int], root: Int) async throws -> [T] {
        try await iscatterv(values, counts: counts, root: root).value
    }

    /// `scatterv` with displacements, awaited.
    public func scatterv<T: BitwiseCopyable>(_ values: [T], counts: [Int], displacements: [Int], root: Int) async throws -> [T] {
        try await iscatterv(values, counts: counts, displacements: displacements, root: root).value
    }

    /// `allgatherv`, awaited (``iallgatherv(_:counts:displacements:)``).
    public func allgatherv<T: BitwiseCopyable>(_ values: [T], counts: [Int]) async throws -> [T] {
        try await iallgatherv(values, counts: counts).value
    }

    /// `allgatherv` with displacements, awaited.
    public func allgatherv<T: BitwiseCopyable>(_ values: [T], counts: [Int], displacements: [Int]) async throws -> [T] {
        try await iallgatherv(values, counts: counts, displacements: displacements).value
    }

    /// `alltoallv`, awaited (``ialltoallv(_:sendCounts:sendDisplacements:receiveCounts:receiveDisplacements:)``).
    public func alltoallv<T: BitwiseCopyable>(_ values: [T], sendCounts: [Int], receiveCounts: [Int]) async throws -> [T] {
        try await ialltoallv(values, sendCounts: sendCounts, receiveCounts: receiveCounts).value
    }

    /// `alltoallv` with displacements, awaited (the blocking form's labels).
    public func alltoallv<T: BitwiseCopyable>(
        _ values: [T], sendCounts: [Int], sendDisplacements: [Int], recvCounts: [Int], recvDisplacements: [Int]
    ) async throws -> [T] {
        try await ialltoallv(
            values, sendCounts: sendCounts, sendDisplacements: sendDisplacements, receiveCounts: recvCounts, receiveDisplacements: recvDisplacements
        ).value
    }
}

/// Nonblocking reduce-scatter on arrays (MPI_Ireduce_scatter, MPI_Ireduce_scatter_block) and the
/// async forms: one schedule that reduces at rank 0 and then deals the result out (on an
/// intercommunicator: the other group's reduction, as ``reduceScatter(_:counts:op:)``).
extension Communicator {
    /// Starts combining every rank's `values` with `op` and giving rank i `counts[i]` elements of the
    /// result, in order (MPI_Ireduce_scatter).
    public func ireduceScatter<T: BitwiseCopyable>(_ values: [T], counts: [Int], op: ReduceOperation<T>) throws(MPIError) -> CollectiveRequest<[T]> {
        try tracedCall("ireduceScatter") {
            if isIntercommunicator { return try startInterReduceScatter(values, counts: counts, op: op) }
            guard counts.count == size, counts.reduce(0, +) == values.count else {
                throw MPIError(.invalidCount, "ireduceScatter: counts \(counts) must have \(size) entries summing to \(values.count)")
            }
            let layout = try byteLayout(T.self, counts: counts, "ireduceScatter")
            let isFirst = rank == 0
            let input = OwnedBuffer(copying: values), reduced = OwnedBuffer<T>(count: isFirst ? values.count : 0)
            let output = OwnedBuffer<T>(count: counts[rank])
            let request = try start { schedule in
                scheduleReduce(input.readable, into: isFirst ? reduced.buffer : nil, op: op, root: 0, schedule)
                scheduleScatter(
                    isFirst ? UnsafeRawBufferPointer(reduced.readable) : nil, counts: layout.counts, displacements: layout.displacements,
                    into: UnsafeMutableRawBufferPointer(output.buffer), root: 0, schedule)
            }
            return CollectiveRequest(request: request, keeping: [input, reduced, output]) { output.array() }
        }
    }

    /// Starts a reduce-scatter in equal blocks: `values.count` must divide by `size` (MPI_Ireduce_scatter_block).
    public func ireduceScatterBlock<T: BitwiseCopyable>(_ values: [T], op: ReduceOperation<T>) throws(MPIError) -> CollectiveRequest<[T]> {
        guard values.count % size == 0 else {
            throw MPIError(.invalidCount, "ireduceScatterBlock: \(values.count) elements do not divide among \(size) ranks")
        }
        return try ireduceScatter(values, counts: [Int](repeating: values.count / size, count: size), op: op)
    }

    /// `reduceScatter`, awaited.
    public func reduceScatter<T: BitwiseCopyable>(_ values: [T], counts: [Int], op: ReduceOperation<T>) async throws -> [T] {
        try await ireduceScatter(values, counts: counts, op: op).value
    }

    /// `reduceScatterBlock`, awaited.
    public func reduceScatterBlock<T: BitwiseCopyable>(_ values: [T], op: ReduceOperation<T>) async throws -> [T] {
        try await ireduceScatterBlock(values, op: op).value
    }
}

/// The owned nonblocking v-forms on an intercommunicator (the rules of the blocking forms in
/// Intercommunicator.swift).
extension Communicator {
    fileprivate func startInterGatherv<T: BitwiseCopyable>(
        _ values: [T], counts: [Int], displacements: [Int]?, root: Int
    ) throws -> CollectiveRequest<[T]?> {
        let isRoot = root == MPI.root
        let layout = isRoot ? try byteLayout(T.self, counts: counts, displacements: displacements, receiving: true, "igatherv") : nil
        let input = OwnedBuffer(copying: values), output = OwnedBuffer<T>(zeroedCount: layout?.extent ?? 0)
        let request = try start(spansGroups: true) {
            scheduleInterGather(
                UnsafeRawBufferPointer(input.readable), into: isRoot ? UnsafeMutableRawBufferPointer(output.buffer) : nil, counts: layout?.counts ?? [],
                displacements: layout?.displacements ?? [], root: root, $0)
        }
        return CollectiveRequest(request: request, keeping: [input, output]) { isRoot ? output.array() : nil }
    }

    fileprivate func startInterScatterv<T: BitwiseCopyable>(_ values: [T], counts: [Int], displacements: [Int]?, root: Int) throws -> CollectiveRequest<[T]> {
        let isRoot = root == MPI.root
        let layout = isRoot ? try byteLayout(T.self, counts: counts, displacements: displacements, "iscatterv") : nil
        if let layout, values.count < layout.extent {
            throw MPIError(.invalidCount, "iscatterv: \(values.count) elements at the root, \(layout.extent) to deal out")
        }
        var count = 0
        if !isRoot && root != MPI.procNull {
            guard counts.count == size, counts[rank] >= 0 else {
                throw MPIError(.invalidCount, "iscatterv: the receiving group passes its \(size) counts, got \(counts)")
            }
            count = counts[rank]
        }
        let input = OwnedBuffer(copying: isRoot ? values : []), output = OwnedBuffer<T>(zeroedCount: count)
        let request = try start(spansGroups: true) {
            scheduleInterScatter(
                isRoot ? UnsafeRawBufferPointer(input.readable) : nil, counts: layout?.counts ?? [], displacements: layout?.displacements ?? [],
                into: UnsafeMutableRawBufferPointer(output.buffer), root: root, $0)
        }
        return CollectiveRequest(request: request, keeping: [input, output]) { output.array() }
    }

    fileprivate func startInterReduceScatter<T: BitwiseCopyable>(_ values: [T], counts: [Int], op: ReduceOperation<T>) throws -> CollectiveRequest<[T]> {
        guard counts.count == size, counts.allSatisfy({ $0 >= 0 }) else {
            throw MPIError(.invalidCount, "ireduceScatter: needs this group's \(size) non-negative counts, got \(counts)")
        }
        let input = OwnedBuffer(copying: values), output = OwnedBuffer<T>(zeroedCount: counts[rank])
        let request = try start(spansGroups: true) { scheduleInterReduceScatter(input.readable, counts: counts, into: output.buffer, op: op, $0) }
        return CollectiveRequest(request: request, keeping: [input, output]) { output.array() }
    }
}
