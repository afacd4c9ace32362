/// Collective operations (MPI chapter 6): every rank of the communicator calls the same collectives
/// in the same order. Blocking forms return results as arrays; nonblocking forms (`i…`) take buffers
/// that must stay valid until their `Request` completes. Contributions whose sizes disagree between
/// ranks throw (`.truncate` or `.invalidCount`) rather than corrupt memory.
extension Communicator {
    /// Builds and runs a blocking collective's schedule. `call` is the collective as the user called
    /// it: hang reports name it, and an error of one of its internal messages is reported as the
    /// collective's (``collectiveError(_:_:)``). Refused on an intercommunicator unless the schedule
    /// is one of its forms (`spansGroups`, InterSchedules.swift).
    func run(_ call: StaticString, root: Int? = nil, spansGroups: Bool = false, _ build: (CollectiveSchedule) throws -> Void) throws {
        if !spansGroups { try refuseOnIntercommunicator() }
        let schedule = CollectiveSchedule()
        try build(schedule)
        do {
            try Request(runtime: runtime, schedule: schedule).wait(
                as: call, "(\(size) ranks\(CollectiveSignature.reportText(root: root))) on \(reportName), collective #\(state.collectiveSequence)")
        } catch let error as MPIError {
            throw collectiveError(error, call)
        }
    }

    /// An error from inside collective `call`, in the user's words: a message longer than the space
    /// the collective expected (`.truncate`) or of the wrong size means the ranks passed counts that
    /// do not agree; the internal message's tag and kind of receive are left out.
    func collectiveError(_ error: MPIError, _ call: StaticString) -> MPIError {
        switch error.code {
        case .truncate, .invalidDatatype:
            let source = error.status.map { " from rank \($0.source)" } ?? ""
            let length = error.status.map { "\($0.byteCount) bytes" } ?? "a message"
            return MPIError(
                error.code,
                "\(call): \(length)\(source) do not fit what this rank expected: the ranks' counts (or datatypes) for \(call) do not agree",
                status: error.status)
        case .processFailed, .transport:
            return MPIError(error.code, "\(call): \(error.message)", status: error.status)
        default:
            return error
        }
    }

    /// Starts a schedule and returns its request (`spansGroups`: as in ``run(_:spansGroups:_:)``).
    func start(spansGroups: Bool = false, _ build: (CollectiveSchedule) throws -> Void) throws -> Request {
        if !spansGroups { try refuseOnIntercommunicator() }
        let schedule = CollectiveSchedule()
        try build(schedule)
        let request = try Request(runtime: runtime, schedule: schedule)
        // Every progress call advances it from now on, whichever request a rank waits for.
        try runtime.withEngine("collective") { $0.nonblockingSchedules.append(schedule) }
        return request
    }

    /// Throws `.invalidRank` unless `root` names a rank, or on an intercommunicator `MPI.root`,
    /// `MPI.procNull` or a rank of the other group.
    func checkRoot(_ root: Int, _ call: StaticString) throws {
        if isIntercommunicator {
            guard root == MPI.root || root == MPI.procNull || (root >= 0 && root < peerCount) else {
                throw MPIError(
                    .invalidRank,
                    "\(call) on an intercommunicator: root \(root) is neither MPI.root, MPI.procNull nor a rank of the other group (0..<\(peerCount))")
            }
            return
        }
        guard root >= 0 && root < size else { throw MPIError(.invalidRank, "\(call): root \(root) is outside 0..<\(size)") }
    }

    /// Blocks of `counts[i]` elements, in rank order or at `displacements[i]` (elements), as byte
    /// counts and offsets, and the elements they span. Blocks a rank receives into (`receiving`) must
    /// not overlap: MPI leaves that undefined, SwiftMPI refuses it.
    func byteLayout<T>(
        _ type: T.Type, counts: [Int], displacements: [Int]? = nil, receiving: Bool = false, _ call: StaticString
    ) throws -> (counts: [Int], displacements: [Int], extent: Int) {
        guard counts.count == peerCount, counts.allSatisfy({ $0 >= 0 }) else {
            throw MPIError(.invalidCount, "\(call): needs \(peerCount) non-negative counts, got \(counts)")
        }
        // Built in one pass each, without intermediate arrays: a small v-form's cost is mostly these.
        let stride = MemoryLayout<T>.stride
        let byteCounts = stride == 1 ? counts : counts.map { $0 * stride }
        guard let displacements else {
            var offsets = [Int](repeating: 0, count: counts.count)
            var offset = 0
            for (index, count) in byteCounts.enumerated() {
                offsets[index] = offset
                offset += count
            }
            return (byteCounts, offsets, offset / max(stride, 1))
        }
        guard displacements.count == peerCount, displacements.allSatisfy({ $0 >= 0 }) else {
            throw MPIError(.invalidArgument, "\(call): needs \(peerCount) non-negative displacements, got \(displacements)")
        }
        let extent = try Self.placementExtent(counts: counts, displacements: displacements, checkingOverlap: receiving, call)
        // An empty block's displacement may lie anywhere, even past the result: it moves nothing, so it is placed at 0.
        var offsets = [Int](repeating: 0, count: counts.count)
        for index in counts.indices where counts[index] > 0 { offsets[index] = displacements[index] * stride }
        return (byteCounts, offsets, extent)
    }

    /// The elements that blocks of `counts` at `displacements` span (empty blocks count for nothing);
    /// with `checkingOverlap`, throws `.invalidArgument` when two non-empty blocks overlap (where
    /// they are received). Block i is peer i of the call, which errors call `peers` (ranks, or
    /// neighbours).
    static func placementExtent(
        counts: [Int], displacements: [Int], checkingOverlap: Bool, peers: String = "ranks", _ call: StaticString
    ) throws -> Int {
        // One pass: the furthest end, and whether the non-empty blocks already lie in ascending,
        // disjoint order (the usual layout), which needs no sorting to check.
        var extent = 0, end = 0, ordered = true
        for index in counts.indices where counts[index] > 0 {
            let start = displacements[index]
            if start < end { ordered = false }
            end = start + counts[index]
            extent = max(extent, end)
        }
        if checkingOverlap && !ordered {
            let blocks = counts.indices.filter { counts[$0] > 0 }.sorted { displacements[$0] < displacements[$1] }
            for (previous, next) in zip(blocks, blocks.dropFirst()) where displacements[previous] + counts[previous] > displacements[next] {
                throw MPIError(
                    .invalidArgument,
                    "\(call): the blocks of \(peers) \(previous) and \(next) overlap "
                        + "(displacements \(displacements[previous]) and \(displacements[next]), counts \(counts[previous]) and \(counts[next]))"
                )
            }
        }
        return extent
    }

    // MARK: - Blocking

    /// Returns once every rank has entered the barrier (MPI_Barrier).
    public func barrier() throws(MPIError) {
        try tracedCall("barrier") {
            if isIntercommunicator { return try interBarrier() }
            if let shared = state.sharedCollectiveChannel(runtime) { return try shared.barrier(runtime) }
            try agreeOnSignature(.barrier, "barrier")
            // Dissemination with blocking zero-byte messages: eager, so a send never waits for its
            // receiver, and nothing is allocated (no schedule, no requests).
            let (channel, tag) = nextCollective()
            var distance = 1
            while distance < size {
                try channel.blockingSend(
                    UnsafeRawBufferPointer(start: nil, count: 0), to: (rank + distance) % size, tag: tag,
                    mode: .standard, "barrier")
                _ = try channel.blockingReceive(
                    UnsafeMutableRawBufferPointer(start: nil, count: 0), from: (rank - distance + size) % size,
                    tag: tag, "barrier")
                distance *= 2
            }
        }
    }

    /// True when elements of `T` may be read in place from a shared-memory channel (16-byte aligned data).
    @inline(__always)
    private func alignsWithSharedChannel<T>(_ type: T.Type) -> Bool { MemoryLayout<T>.alignment <= 16 }

    /// Vectors up to this many bytes take the blocking small-message allreduce (well below every
    /// transport's eager limit, so blocking sends never wait for their receivers).
    static let smallAllreduceBytes = 1024

    /// Sends the root's `buffer` to every rank; every rank passes a buffer of the same count (MPI_Bcast).
    public func bcast<T: BitwiseCopyable>(_ buffer: inout [T], root: Int) throws(MPIError) {
        try tracedCall("bcast", peer: root, bytes: buffer.count * MemoryLayout<T>.stride) {
            try buffer.withUnsafeMutableBytes { try bcastBytes($0, root: root) }
        }
    }

    /// ``bcast(_:root:)`` of raw bytes.
    func bcastBytes(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws {
        if isIntercommunicator { return try interBcast(bytes, root: root) }
        try checkRoot(root, "bcast")
        if let shared = state.sharedCollectiveChannel(runtime) {
            if try shared.bcast(bytes, root: root, runtime) { return }
        } else {
            try agreeOnSignature(.bcast, root: root, bytes: bytes.count, "bcast")
        }
        try run("bcast", root: root) { scheduleBroadcast(bytes, root: root, $0) }
    }

    /// Combines every rank's `values` element-wise with `op`; the result at `root`, nil elsewhere (MPI_Reduce).
    @_specialize(where T == Double) @_specialize(where T == Float) @_specialize(where T == Int) @_specialize(where T == Int32)
    public func reduce<T: BitwiseCopyable>(_ values: [T], op: ReduceOperation<T>, root: Int) throws(MPIError) -> [T]? {
        try tracedCall("reduce", peer: root, bytes: values.count * MemoryLayout<T>.stride) {
            if isIntercommunicator { return try interReduce(values, op: op, root: root) }
            var result = values
            try values.withUnsafeBufferPointer { input in
                try result.withUnsafeMutableBufferPointer { output in try reduceBuffers(input, into: output, op: op, root: root) }
            }
            return rank == root ? result : nil
        }
    }

    /// ``reduce(_:op:root:)`` between buffers: `output` (as many elements as `input`) is written at
    /// the root only.
    func reduceBuffers<T: BitwiseCopyable>(
        _ input: UnsafeBufferPointer<T>, into output: UnsafeMutableBufferPointer<T>, op: ReduceOperation<T>, root: Int
    ) throws {
        try checkRoot(root, "reduce")
        if alignsWithSharedChannel(T.self), let shared = state.sharedCollectiveChannel(runtime) {
            if try shared.reduce(input, into: output, op: op, root: root, runtime, "reduce") { return }
        } else {
            try agreeOnSignature(.reduce, root: root, bytes: input.count * MemoryLayout<T>.stride, "reduce")
        }
        try run("reduce", root: root) { scheduleReduce(input, into: rank == root ? output : nil, op: op, root: root, $0) }
    }

    /// In-place reduce (MPI_IN_PLACE): at `root`, `values` becomes the result; elsewhere it is unchanged.
    public func reduce<T: BitwiseCopyable>(inPlace values: inout [T], op: ReduceOperation<T>, root: Int) throws(MPIError) {
        if let result = try reduce(values, op: op, root: root) { values = result }
    }

    /// Combines every rank's `values` element-wise; every rank gets the result (MPI_Allreduce).
    public func allreduce<T: BitwiseCopyable>(_ values: [T], op: ReduceOperation<T>) throws(MPIError) -> [T] {
        var result = values
        try allreduce(inPlace: &result, op: op)
        return result
    }

    /// In-place allreduce (MPI_IN_PLACE).
    @_specialize(where T == Double) @_specialize(where T == Float) @_specialize(where T == Int) @_specialize(where T == Int32)
    public func allreduce<T: BitwiseCopyable>(inPlace values: inout [T], op: ReduceOperation<T>) throws(MPIError) {
        try tracedCall("allreduce", bytes: values.count * MemoryLayout<T>.stride) {
            if isIntercommunicator { return try interAllreduce(&values, op: op) }
            try values.withUnsafeMutableBufferPointer { try allreduceBuffer($0, op: op) }
        }
    }

    /// ``allreduce(inPlace:op:)`` on a buffer.
    @inline(__always)
    func allreduceBuffer<T: BitwiseCopyable>(_ buffer: UnsafeMutableBufferPointer<T>, op: ReduceOperation<T>) throws {
        try refuseOnIntercommunicator()
        if alignsWithSharedChannel(T.self), let shared = state.sharedCollectiveChannel(runtime) {
            if try shared.reduce(UnsafeBufferPointer(buffer), into: buffer, op: op, root: nil, runtime, "allreduce") { return }
        } else {
            try agreeOnSignature(.allreduce, bytes: buffer.count * MemoryLayout<T>.stride, "allreduce")
        }
        if buffer.count * MemoryLayout<T>.stride <= Self.smallAllreduceBytes {
            return try smallAllreduce(buffer, op: op)
        }
        try run("allreduce") { scheduleAllreduce(UnsafeBufferPointer(buffer), into: buffer, op: op, $0) }
    }

    /// Every rank's `values` (the same count everywhere), concatenated in rank order at `root`; nil
    /// elsewhere (MPI_Gather).
    public func gather<T: BitwiseCopyable>(_ values: [T], root: Int) throws(MPIError) -> [T]? {
        try tracedCall("gather", peer: root, bytes: values.count * MemoryLayout<T>.stride) {
            if isIntercommunicator { return try interGather(values, root: root) }
            try checkRoot(root, "gather")
            var agreed = false
            if let shared = state.sharedCollectiveChannel(runtime) {
                // One channel step without count arrays: every contribution if they fit, their sizes in any case.
                let (fits, result) = try values.withUnsafeBytes { try shared.gatherEqualParts($0, as: T.self, root: root, runtime) }
                if fits { return result }
                agreed = true
            }
            return try gatherv(values, counts: [Int](repeating: values.count, count: size), root: root, "gather", agreed: agreed)
        }
    }

    /// Like `gather(_:root:)` with `counts[i]` elements from rank i (used at the root) (MPI_Gatherv).
    public func gatherv<T: BitwiseCopyable>(_ values: [T], counts: [Int], root: Int) throws(MPIError) -> [T]? {
        try tracedCall("gatherv", peer: root, bytes: values.count * MemoryLayout<T>.stride) {
            try gatherv(values, counts: counts, root: root, "gatherv")
        }
    }

    /// Like `gatherv(_:counts:root:)` with rank i's elements placed at `displacements[i]` (in
    /// elements) of the root's result, which spans the furthest block; elements no block covers are
    /// zero. Blocks must not overlap (MPI_Gatherv).
    public func gatherv<T: BitwiseCopyable>(_ values: [T], counts: [Int], displacements: [Int], root: Int) throws(MPIError) -> [T]? {
        try tracedCall("gatherv", peer: root, bytes: values.count * MemoryLayout<T>.stride) {
            try gatherv(values, counts: counts, displacements: displacements, root: root, "gatherv")
        }
    }

    /// (`agreed`: the ranks already agreed on this gather in a channel step; go straight to messages.)
    private func gatherv<T: BitwiseCopyable>(
        _ values: [T], counts: [Int], displacements: [Int]? = nil, root: Int, _ call: StaticString, agreed: Bool = false
    ) throws -> [T]? {
        if isIntercommunicator { return try interGatherv(values, counts: counts, displacements: displacements, root: root, call) }
        try checkRoot(root, call)
        // Displacements matter at the root only: a root that refuses its own still takes the others'
        // contributions (in rank order, then discarded) before it throws, so that they do not hang.
        var refused: MPIError?
        var layout = try byteLayout(T.self, counts: counts, call)
        if rank == root, let displacements {
            do {
                layout = try byteLayout(T.self, counts: counts, displacements: displacements, receiving: true, call)
            } catch let error as MPIError {
                refused = error
            }
        }
        var result = [T](zeroedCount: rank == root ? layout.extent : 0)
        try values.withUnsafeBytes { input in
            try result.withUnsafeMutableBytes { output in
                if !agreed, let shared = state.sharedCollectiveChannel(runtime) {
                    let done = try shared.gather(
                        input, into: rank == root ? output : nil, counts: layout.counts, displacements: layout.displacements,
                        root: root, runtime, call)
                    if done { return }
                } else if !agreed {
                    try agreeOnSignature(.gather, root: root, call)
                }
                try run(call, root: root) {
                    scheduleGather(
                        input, into: rank == root ? output : nil, counts: layout.counts,
                        displacements: layout.displacements, root: root, $0)
                }
            }
        }
        if let refused { throw refused }
        return rank == root ? result : nil
    }

    /// `gather(_:root:)` in place (MPI_Gather with MPI_IN_PLACE at the root): at the root `buffer`
    /// holds `size` equal parts with its own already at part `root`, and receives everyone's; elsewhere
    /// `buffer` is this rank's contribution and stays as it is.
    public func gather<T: BitwiseCopyable>(inPlace buffer: inout [T], root: Int) throws(MPIError) {
        try tracedCall("gather") {
            try checkRoot(root, "gather")
            guard rank == root else {
                _ = try gather(buffer, root: root)
                return
            }
            guard buffer.count % size == 0 else {
                throw MPIError(.invalidCount, "gather: \(buffer.count) elements at the root do not divide among \(size) ranks")
            }
            let part = buffer.count / size
            if let gathered = try gather(Array(buffer[(root * part)..<((root + 1) * part)]), root: root) { buffer = gathered }
        }
    }

    /// `scatter(_:root:)` in place (MPI_Scatter with MPI_IN_PLACE at the root): at the root `buffer`
    /// holds every part and is left as it is (its own part stays where it is); elsewhere `buffer` is
    /// replaced by this rank's part.
    public func scatter<T: BitwiseCopyable>(inPlace buffer: inout [T], root: Int) throws(MPIError) {
        if rank == root {
            _ = try scatter(buffer, root: root)
        } else {
            buffer = try scatter([], root: root)
        }
    }

    /// `allgather(_:)` in place (MPI_Allgather with MPI_IN_PLACE): `buffer` holds `size` equal parts
    /// with this rank's own at part `rank`, and receives everyone's.
    public func allgather<T: BitwiseCopyable>(inPlace buffer: inout [T]) throws(MPIError) {
        guard buffer.count % size == 0 else {
            throw MPIError(.invalidCount, "allgather: \(buffer.count) elements do not divide among \(size) ranks")
        }
        let part = buffer.count / size
        buffer = try allgather(Array(buffer[(rank * part)..<((rank + 1) * part)]))
    }

    /// The root's `values` dealt out in equal parts, part i to rank i (MPI_Scatter). `values` is read
    /// at the root only; its count must divide by `size`.
    public func scatter<T: BitwiseCopyable>(_ values: [T], root: Int) throws(MPIError) -> [T] {
        try tracedCall("scatter", peer: root, bytes: values.count * MemoryLayout<T>.stride) {
            if isIntercommunicator { return try interScatter(values, root: root) }
            try checkRoot(root, "scatter")
            var count = [values.count]
            if let shared = state.sharedCollectiveChannel(runtime) {
                // One channel step: the root's values if they fit (then every rank takes its part), and
                // their count in any case.
                let (part, total) = try values.withUnsafeBytes { try shared.scatterEqualParts(rank == root ? $0 : nil, as: T.self, root: root, runtime) }
                if let part { return part }
                count[0] = total
            } else {
                try agreeOnSignature(.scatter, root: root, "scatter")
                try count.withUnsafeMutableBytes { bytes in try run("scatter", root: root) { scheduleBroadcast(bytes, root: root, $0) } }  // the count
            }
            guard count[0] % size == 0 else {
                throw MPIError(.invalidCount, "scatter: \(count[0]) elements at the root do not divide among \(size) ranks")
            }
            // (Agreed above, in the channel step or before the count; the span form takes the same steps.)
            return try scatterv(values, counts: [Int](repeating: count[0] / size, count: size), root: root, "scatter", agreed: true)
        }
    }

    /// The root's `values` dealt out, `counts[i]` elements to rank i (every rank passes the same
    /// counts) (MPI_Scatterv).
    public func scatterv<T: BitwiseCopyable>(_ values: [T], counts: [Int], root: Int) throws(MPIError) -> [T] {
        try tracedCall("scatterv", peer: root, bytes: values.count * MemoryLayout<T>.stride) {
            try scatterv(values, counts: counts, root: root, "scatterv")
        }
    }

    /// Like `scatterv(_:counts:root:)` with rank i's part taken from `displacements[i]` (in
    /// elements) of the root's `values` (MPI_Scatterv); parts may overlap.
    public func scatterv<T: BitwiseCopyable>(_ values: [T], counts: [Int], displacements: [Int], root: Int) throws(MPIError) -> [T] {
        try tracedCall("scatterv", peer: root, bytes: values.count * MemoryLayout<T>.stride) {
            try scatterv(values, counts: counts, displacements: displacements, root: root, "scatterv")
        }
    }

    /// (`agreed`: the ranks already agreed on this scatter in a channel step; go straight to messages.)
    private func scatterv<T: BitwiseCopyable>(
        _ values: [T], counts: [Int], displacements: [Int]? = nil, root: Int, _ call: StaticString, agreed: Bool = false
    ) throws -> [T] {
        if isIntercommunicator { return try interScatterv(values, counts: counts, displacements: displacements, root: root, call) }
        try checkRoot(root, call)
        let layout = try byteLayout(T.self, counts: counts, displacements: rank == root ? displacements : nil, call)
        if rank == root, values.count < layout.extent {
            throw MPIError(.invalidCount, "\(call): \(values.count) elements at the root, \(layout.extent) to deal out")
        }
        var result = [T](zeroedCount: counts[rank])
        try values.withUnsafeBytes { input in
            try result.withUnsafeMutableBytes { output in
                if !agreed, let shared = state.sharedCollectiveChannel(runtime) {
                    let done = try shared.scatter(
                        rank == root ? input : nil, counts: layout.counts, displacements: layout.displacements, into: output,
                        root: root, runtime, call)
                    if done { return }
                } else if !agreed {
                    try agreeOnSignature(.scatter, root: root, call)
                }
                try run(call, root: root) {
                    scheduleScatter(
                        rank == root ? input : nil, counts: layout.counts, displacements: layout.displacements,
                        into: output, root: root, $0)
                }
            }
        }
        return result
    }

    /// Every rank's `values` (the same count everywhere), concatenated in rank order (MPI_Allgather).
    public func allgather<T: BitwiseCopyable>(_ values: [T]) throws(MPIError) -> [T] {
        try tracedCall("allgather", bytes: values.count * MemoryLayout<T>.stride) {
            if isIntercommunicator { return try interAllgather(values) }
            var result = [T](zeroedCount: values.count * size)
            var output = result.mutableSpan
            try allgather(values.span, into: &output)  // the channel's equal-part step first, where there is one
            return result
        }
    }

    /// Like `allgather(_:)` with `counts[i]` elements from rank i (MPI_Allgatherv).
    public func allgatherv<T: BitwiseCopyable>(_ values: [T], counts: [Int]) throws(MPIError) -> [T] {
        try tracedCall("allgatherv", bytes: values.count * MemoryLayout<T>.stride) {
            try allgatherv(values, counts: counts, "allgatherv")
        }
    }

    /// Like `allgatherv(_:counts:)` with rank i's elements placed at `displacements[i]` (in
    /// elements) of the result, which spans the furthest block; elements no block covers are zero.
    /// Blocks must not overlap (MPI_Allgatherv).
    public func allgatherv<T: BitwiseCopyable>(_ values: [T], counts: [Int], displacements: [Int]) throws(MPIError) -> [T] {
        try tracedCall("allgatherv", bytes: values.count * MemoryLayout<T>.stride) {
            try allgatherv(values, counts: counts, displacements: displacements, "allgatherv")
        }
    }

    private func allgatherv<T: BitwiseCopyable>(_ values: [T], counts: [Int], displacements: [Int]? = nil, _ call: StaticString) throws -> [T] {
        if isIntercommunicator { return try interAllgatherv(values, counts: counts, displacements: displacements, call) }
        let layout = try byteLayout(T.self, counts: counts, displacements: displacements, receiving: true, call)
        var result = [T](zeroedCount: layout.extent)
        try values.withUnsafeBytes { input in
            try result.withUnsafeMutableBytes { output in
                try allgatherBytes(input, into: output, counts: layout.counts, displacements: layout.displacements, call)
            }
        }
        return result
    }

    /// Block i of `values` goes to rank i; the result holds block j from rank j (MPI_Alltoall).
    /// `values.count` must divide by `size`.
    public func alltoall<T: BitwiseCopyable>(_ values: [T]) throws(MPIError) -> [T] {
        try tracedCall("alltoall", bytes: values.count * MemoryLayout<T>.stride) {
            if isIntercommunicator { return try interAlltoall(values) }
            guard values.count % size == 0 else {
                throw MPIError(.invalidCount, "alltoall: \(values.count) elements do not divide among \(size) ranks")
            }
            var result = [T](zeroedCount: values.count)
            var output = result.mutableSpan
            try alltoall(values.span, into: &output)  // the channel's equal-block step first, where there is one
            return result
        }
    }

    /// `sendCounts[i]` elements to rank i, `receiveCounts[j]` from rank j, blocks in rank order (MPI_Alltoallv).
    public func alltoallv<T: BitwiseCopyable>(_ values: [T], sendCounts: [Int], receiveCounts: [Int]) throws(MPIError) -> [T] {
        try tracedCall("alltoallv", bytes: values.count * MemoryLayout<T>.stride) {
            try alltoallv(values, sendCounts: sendCounts, receiveCounts: receiveCounts, "alltoallv")
        }
    }

    /// Like `alltoallv(_:sendCounts:receiveCounts:)` with the block for rank i taken from
    /// `sendDisplacements[i]` of `values` and the block from rank j placed at `recvDisplacements[j]`
    /// of the result (in elements), which spans the furthest block; elements no block covers are
    /// zero. Received blocks must not overlap (MPI_Alltoallv).
    public func alltoallv<T: BitwiseCopyable>(
        _ values: [T], sendCounts: [Int], sendDisplacements: [Int], recvCounts: [Int], recvDisplacements: [Int]
    ) throws(MPIError) -> [T] {
        try tracedCall("alltoallv", bytes: values.count * MemoryLayout<T>.stride) {
            try alltoallv(
                values, sendCounts: sendCounts, sendDisplacements: sendDisplacements, receiveCounts: recvCounts,
                receiveDisplacements: recvDisplacements, "alltoallv")
        }
    }

    private func alltoallv<T: BitwiseCopyable>(
        _ values: [T], sendCounts: [Int], sendDisplacements: [Int]? = nil, receiveCounts: [Int], receiveDisplacements: [Int]? = nil,
        _ call: StaticString
    ) throws -> [T] {
        if isIntercommunicator {
            return try interAlltoallv(
                values, sendCounts: sendCounts, sendDisplacements: sendDisplacements, receiveCounts: receiveCounts,
                receiveDisplacements: receiveDisplacements, call)
        }
        let send = try byteLayout(T.self, counts: sendCounts, displacements: sendDisplacements, call)
        let receive = try byteLayout(T.self, counts: receiveCounts, displacements: receiveDisplacements, receiving: true, call)
        guard values.count >= send.extent else {
            throw MPIError(.invalidCount, "\(call): \(values.count) elements, \(send.extent) to send")
        }
        var result = [T](zeroedCount: receive.extent)
        try values.withUnsafeBytes { input in
            try result.withUnsafeMutableBytes { output in
                try alltoallBytes(
                    input, sendCounts: send.counts, sendDisplacements: send.displacements, into: output, receiveCounts: receive.counts,
                    receiveDisplacements: receive.displacements, call)
            }
        }
        return result
    }

    /// The blocking allgather(v) of an intracommunicator on byte layouts: one step of the
    /// shared-memory channel where the ranks share a host and the contributions fit it, else the
    /// message algorithm (after the opt-in agreement). `channelTried`: the ranks already took a
    /// channel step for this call (its equal-part form), which agreed on it and found it too large.
    func allgatherBytes(
        _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, counts: [Int], displacements: [Int], _ call: StaticString,
        channelTried: Bool = false
    ) throws {
        if !channelTried {
            if let shared = state.sharedCollectiveChannel(runtime) {
                if try shared.allgather(input, into: output, counts: counts, displacements: displacements, runtime, call) { return }
            } else {
                try agreeOnSignature(.allgather, call)
            }
        }
        try run(call) { scheduleAllgather(input, into: output, counts: counts, displacements: displacements, $0) }
    }

    /// The blocking alltoall(v) of an intracommunicator on byte layouts, as ``allgatherBytes``.
    func alltoallBytes(
        _ input: UnsafeRawBufferPointer, sendCounts: [Int], sendDisplacements: [Int], into output: UnsafeMutableRawBufferPointer,
        receiveCounts: [Int], receiveDisplacements: [Int], _ call: StaticString, channelTried: Bool = false
    ) throws {
        if !channelTried {
            if let shared = state.sharedCollectiveChannel(runtime) {
                let done = try shared.alltoall(
                    input, sendCounts: sendCounts, sendDisplacements: sendDisplacements, into: output, receiveCounts: receiveCounts,
                    receiveDisplacements: receiveDisplacements, runtime, call)
                if done { return }
            } else {
                try agreeOnSignature(.alltoall, call)
            }
        }
        try run(call) {
            scheduleAlltoall(
                input, sendCounts: sendCounts, sendDisplacements: sendDisplacements, into: output, receiveCounts: receiveCounts,
                receiveDisplacements: receiveDisplacements, $0)
        }
    }

    /// Reduces every rank's `values` and deals the result out, `counts[i]` elements to rank i
    /// (MPI_Reduce_scatter). On an intercommunicator each group gets the other group's reduction:
    /// `counts` has this group's entries, and their sum is the other group's `values.count`.
    public func reduceScatter<T: BitwiseCopyable>(_ values: [T], counts: [Int], op: ReduceOperation<T>) throws(MPIError) -> [T] {
        try tracedCall("reduceScatter", bytes: values.count * MemoryLayout<T>.stride) { try reduceScatterUntraced(values, counts: counts, op: op) }
    }

    private func reduceScatterUntraced<T: BitwiseCopyable>(_ values: [T], counts: [Int], op: ReduceOperation<T>) throws(MPIError) -> [T] {
        if isIntercommunicator { return try tracedCall("reduceScatter") { try interReduceScatter(values, counts: counts, op: op, "reduceScatter") } }
        guard counts.count == size, counts.reduce(0, +) == values.count else {
            throw MPIError(.invalidCount, "reduceScatter: counts \(counts) must have \(size) entries summing to \(values.count)")
        }
        let reduced = try reduce(values, op: op, root: 0) ?? []
        return try scatterv(reduced, counts: counts, root: 0)
    }

    /// Reduces every rank's `values` and deals the result out in equal blocks, block i to rank i
    /// (MPI_Reduce_scatter_block). `values.count` must divide by `size`; on an intercommunicator
    /// each group gets the other group's reduction, in blocks of `values.count / size` (the two
    /// groups' `values` have the same count).
    public func reduceScatterBlock<T: BitwiseCopyable>(_ values: [T], op: ReduceOperation<T>) throws(MPIError) -> [T] {
        guard values.count % size == 0 else {
            throw MPIError(.invalidCount, "reduceScatterBlock: \(values.count) elements do not divide among \(size) ranks")
        }
        return try reduceScatter(values, counts: [Int](repeating: values.count / size, count: size), op: op)
    }

    /// Inclusive prefix reduction: rank i gets op over ranks 0...i (MPI_Scan).
    public func scan<T: BitwiseCopyable>(_ values: [T], op: ReduceOperation<T>) throws(MPIError) -> [T] {
        try tracedCall("scan", bytes: values.count * MemoryLayout<T>.stride) {
            var result = values
            try agreeOnSignature(.scan, bytes: values.count * MemoryLayout<T>.stride, "scan")
            try values.withUnsafeBufferPointer { input in
                try result.withUnsafeMutableBufferPointer { output in
                    try run("scan") { scheduleScan(input, into: output, op: op, exclusive: false, $0) }
                }
            }
            return result
        }
    }

    /// Exclusive prefix reduction: rank i gets op over ranks 0..<i; nil at rank 0 (MPI_Exscan).
    public func exscan<T: BitwiseCopyable>(_ values: [T], op: ReduceOperation<T>) throws(MPIError) -> [T]? {
        try tracedCall("exscan", bytes: values.count * MemoryLayout<T>.stride) {
            var result = values
            try agreeOnSignature(.exscan, bytes: values.count * MemoryLayout<T>.stride, "exscan")
            try values.withUnsafeBufferPointer { input in
                try result.withUnsafeMutableBufferPointer { output in
                    try run("exscan") { scheduleScan(input, into: output, op: op, exclusive: true, $0) }
                }
            }
            return rank == 0 ? nil : result
        }
    }

    /// Recursive doubling (with the fold for non-powers of two) over blocking eager messages: the
    /// same exchanges as the scheduled algorithm, without its per-call allocations.
    private func smallAllreduce<T>(_ result: UnsafeMutableBufferPointer<T>, op: ReduceOperation<T>) throws {
        let (channel, tag) = nextCollective()
        let count = result.count
        guard size > 1 else { return }
        try withUnsafeTemporaryAllocation(of: T.self, capacity: max(count, 1)) { incoming in
            let incomingBytes = UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: incoming[0..<count]))
            let resultBytes = UnsafeRawBufferPointer(result)
            // A contribution of another size is the ranks' mistake, reported as the channel reports it
            // (a longer one would truncate, a shorter one would silently reduce stale elements).
            func receive(from partner: Int) throws {
                let received: Int
                do {
                    received = try channel.blockingReceive(incomingBytes, from: partner, tag: tag, "allreduce").byteCount
                } catch let error as MPIError where error.code == .truncate {
                    received = error.status?.byteCount ?? incomingBytes.count + 1
                }
                guard received == incomingBytes.count else {
                    throw MPIError(
                        .invalidCount,
                        "allreduce: rank \(partner) contributes \(received) bytes, rank \(rank) \(incomingBytes.count): "
                            + "the ranks' counts for allreduce do not agree"
                    )
                }
            }
            func exchange(with partner: Int) throws {
                try channel.blockingSend(resultBytes, to: partner, tag: tag, mode: .standard, "allreduce")
                try receive(from: partner)
                if count > 0 {
                    if partner < rank {
                        op.apply(incoming.baseAddress!, result.baseAddress!, into: result.baseAddress!, count: count)
                    } else {
                        op.apply(result.baseAddress!, incoming.baseAddress!, into: result.baseAddress!, count: count)
                    }
                }
            }
            var powerOfTwo = 1
            while powerOfTwo * 2 <= size { powerOfTwo *= 2 }
            let remainder = size - powerOfTwo
            var newRank = rank - remainder
            if rank < 2 * remainder {
                if rank % 2 == 0 {
                    try channel.blockingSend(resultBytes, to: rank + 1, tag: tag, mode: .standard, "allreduce")
                    newRank = -1
                } else {
                    try receive(from: rank - 1)
                    if count > 0 { op.apply(incoming.baseAddress!, result.baseAddress!, into: result.baseAddress!, count: count) }
                    newRank = rank / 2
                }
            }
            if newRank >= 0 {
                var mask = 1
                while mask < powerOfTwo {
                    let partnerNew = newRank ^ mask
                    try exchange(with: partnerNew < remainder ? partnerNew * 2 + 1 : partnerNew + remainder)
                    mask <<= 1
                }
            }
            if rank < 2 * remainder {
                if rank % 2 == 0 {
                    _ = try channel.blockingReceive(UnsafeMutableRawBufferPointer(result), from: rank + 1, tag: tag, "allreduce")
                } else {
                    try channel.blockingSend(resultBytes, to: rank - 1, tag: tag, mode: .standard, "allreduce")
                }
            }
        }
    }

    // MARK: - Nonblocking
    // On an intercommunicator these run the forms of InterSchedules.swift: rooted ones take `MPI.root`,
    // `MPI.procNull` or the root's rank in the other group, and counts describe the other group.

    /// Nonblocking barrier (MPI_Ibarrier).
    public func ibarrier() throws(MPIError) -> Request {
        try tracedCall("ibarrier") {
            if isIntercommunicator { return try start(spansGroups: true) { scheduleInterBarrier($0) } }
            return try start { scheduleBarrier($0) }
        }
    }

    /// Nonblocking broadcast of `buffer` from `root` (MPI_Ibcast).
    public func ibcast<T: BitwiseCopyable>(_ buffer: UnsafeMutableBufferPointer<T>, root: Int) throws(MPIError) -> Request {
        try tracedCall("ibcast") {
            try checkRoot(root, "ibcast")
            if isIntercommunicator { return try start(spansGroups: true) { scheduleInterBroadcast(UnsafeMutableRawBufferPointer(buffer), root: root, $0) } }
            return try start { scheduleBroadcast(UnsafeMutableRawBufferPointer(buffer), root: root, $0) }
        }
    }

    /// Nonblocking reduce into `result` (used at the root only) (MPI_Ireduce).
    public func ireduce<T: BitwiseCopyable>(
        _ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>,
        op: ReduceOperation<T>, root: Int
    ) throws(MPIError) -> Request {
        try tracedCall("ireduce") {
            try checkRoot(root, "ireduce")
            let output = isRoot(root) ? result : nil
            if isIntercommunicator { return try start(spansGroups: true) { scheduleInterReduce(values, into: output, op: op, root: root, $0) } }
            return try start { scheduleReduce(values, into: output, op: op, root: root, $0) }
        }
    }

    /// Nonblocking allreduce into `result` (which may be `values`' memory) (MPI_Iallreduce).
    public func iallreduce<T: BitwiseCopyable>(
        _ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>,
        op: ReduceOperation<T>
    ) throws(MPIError) -> Request {
        try tracedCall("iallreduce") {
            guard result.count >= values.count else {
                throw MPIError(.invalidCount, "iallreduce: result buffer of \(result.count) for \(values.count) elements")
            }
            let output = UnsafeMutableBufferPointer(rebasing: result[0..<values.count])
            if isIntercommunicator { return try start(spansGroups: true) { scheduleInterAllreduce(values, into: output, op: op, $0) } }
            return try start { scheduleAllreduce(values, into: output, op: op, $0) }
        }
    }

    /// Nonblocking allgather: `result` holds `size * values.count` elements (MPI_Iallgather); on an
    /// intercommunicator the other group's values, `result.count / remoteSize` from each rank.
    public func iallgather<T: BitwiseCopyable>(_ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>) throws(MPIError) -> Request {
        try tracedCall("iallgather") {
            if isIntercommunicator {
                return try start(spansGroups: true) { scheduleInterAllgather(UnsafeRawBufferPointer(values), into: UnsafeMutableRawBufferPointer(result), $0) }
            }
            let layout = try byteLayout(T.self, counts: [Int](repeating: values.count, count: size), "iallgather")
            guard result.count >= values.count * size else { throw MPIError(.invalidCount, "iallgather: result buffer too small") }
            return try start {
                scheduleAllgather(
                    UnsafeRawBufferPointer(values), into: UnsafeMutableRawBufferPointer(result),
                    counts: layout.counts, displacements: layout.displacements, $0)
            }
        }
    }

    /// Nonblocking gather into `result` at the root (MPI_Igather); on an intercommunicator `result`
    /// (at `MPI.root`) holds `result.count / remoteSize` elements from each rank of the other group.
    public func igather<T: BitwiseCopyable>(_ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>, root: Int) throws(MPIError) -> Request
    {
        try tracedCall("igather") {
            try checkRoot(root, "igather")
            let block = isIntercommunicator && isRoot(root) ? result.count / Swift.max(peerCount, 1) : values.count
            let layout = try byteLayout(T.self, counts: [Int](repeating: block, count: peerCount), "igather")
            if isRoot(root), result.count < block * peerCount { throw MPIError(.invalidCount, "igather: result buffer too small") }
            let output = isRoot(root) ? UnsafeMutableRawBufferPointer(result) : nil
            if isIntercommunicator {
                return try start(spansGroups: true) {
                    scheduleInterGather(
                        UnsafeRawBufferPointer(values), into: output, counts: layout.counts, displacements: layout.displacements, root: root, $0)
                }
            }
            return try start {
                scheduleGather(UnsafeRawBufferPointer(values), into: output, counts: layout.counts, displacements: layout.displacements, root: root, $0)
            }
        }
    }

    /// Nonblocking scatter of equal parts of the root's `values` into `result` (MPI_Iscatter); on an
    /// intercommunicator the root (`MPI.root`) deals `values.count / remoteSize` elements to each
    /// rank of the other group.
    public func iscatter<T: BitwiseCopyable>(
        _ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>, root: Int
    ) throws(MPIError) -> Request {
        try tracedCall("iscatter") {
            try checkRoot(root, "iscatter")
            let block = isIntercommunicator && isRoot(root) ? values.count / Swift.max(peerCount, 1) : result.count
            let layout = try byteLayout(T.self, counts: [Int](repeating: block, count: peerCount), "iscatter")
            if isRoot(root), values.count < block * peerCount { throw MPIError(.invalidCount, "iscatter: the root's buffer is too small") }
            let input = isRoot(root) ? UnsafeRawBufferPointer(values) : nil
            if isIntercommunicator {
                return try start(spansGroups: true) {
                    scheduleInterScatter(
                        input, counts: layout.counts, displacements: layout.displacements, into: UnsafeMutableRawBufferPointer(result), root: root, $0)
                }
            }
            return try start {
                scheduleScatter(input, counts: layout.counts, displacements: layout.displacements, into: UnsafeMutableRawBufferPointer(result), root: root, $0)
            }
        }
    }

    /// Nonblocking alltoall: block i of `values` to rank i (MPI_Ialltoall); on an intercommunicator
    /// to rank i of the other group, whose rank j's block lands as block j of `result` (blocks of
    /// `result.count / remoteSize` elements).
    public func ialltoall<T: BitwiseCopyable>(_ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>) throws(MPIError) -> Request {
        try tracedCall("ialltoall") {
            guard values.count % peerCount == 0, isIntercommunicator ? result.count % peerCount == 0 : result.count >= values.count else {
                throw MPIError(.invalidCount, "ialltoall: \(values.count) elements for \(peerCount) ranks into \(result.count)")
            }
            let send = try byteLayout(T.self, counts: [Int](repeating: values.count / peerCount, count: peerCount), "ialltoall")
            if isIntercommunicator {
                let receive = try byteLayout(T.self, counts: [Int](repeating: result.count / peerCount, count: peerCount), "ialltoall")
                return try start(spansGroups: true) {
                    scheduleInterAlltoall(
                        UnsafeRawBufferPointer(values), sendCounts: send.counts, sendDisplacements: send.displacements,
                        into: UnsafeMutableRawBufferPointer(result), receiveCounts: receive.counts, receiveDisplacements: receive.displacements, $0)
                }
            }
            return try start {
                scheduleAlltoall(
                    UnsafeRawBufferPointer(values), sendCounts: send.counts, sendDisplacements: send.displacements,
                    into: UnsafeMutableRawBufferPointer(result), receiveCounts: send.counts,
                    receiveDisplacements: send.displacements, $0)
            }
        }
    }

    /// Nonblocking inclusive scan into `result` (MPI_Iscan).
    public func iscan<T: BitwiseCopyable>(
        _ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>,
        op: ReduceOperation<T>
    ) throws(MPIError) -> Request {
        try tracedCall("iscan") {
            try startScan(values, into: result, op: op, exclusive: false, "iscan")
        }
    }

    private func startScan<T: BitwiseCopyable>(
        _ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>, op: ReduceOperation<T>, exclusive: Bool,
        _ call: StaticString
    ) throws -> Request {
        guard result.count >= values.count else { throw MPIError(.invalidCount, "\(call): result buffer too small") }
        return try start { scheduleScan(values, into: result, op: op, exclusive: exclusive, $0) }
    }

    /// Starts `exscan(_:op:)` into `result`: rank i gets op over ranks 0..<i; rank 0's `result`
    /// is left as it was (MPI_Iexscan).
    public func iexscan<T: BitwiseCopyable>(
        _ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>,
        op: ReduceOperation<T>
    ) throws(MPIError) -> Request {
        try tracedCall("iexscan") {
            try startScan(values, into: result, op: op, exclusive: true, "iexscan")
        }
    }
}

extension Array where Element: BitwiseCopyable {
    /// An array of `count` elements whose bytes are all zero.
    init(zeroedCount count: Int) {
        self.init(unsafeUninitializedCapacity: count) { buffer, initialized in
            UnsafeMutableRawBufferPointer(buffer).initializeMemory(as: UInt8.self, repeating: 0)
            initialized = count
        }
    }
}
