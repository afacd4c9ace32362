/// Blocking calls on spans: `Span<T>` for what is sent, `inout MutableSpan<T>` for what is
/// received, `RawSpan` for bytes. Spans come from arrays (`values.span`, `buffer.mutableSpan`) and
/// from any type that lends its storage as a span, so a user's own grid or tensor type needs no
/// `unsafe` code. They are borrowed for the call only, which is why only blocking calls take them:
/// a nonblocking call owns its buffer (``Communicator/irecv(count:of:from:tag:)``, `isend` of an
/// array). The point-to-point forms and `bcast`, `reduce`, `allreduce` take the same paths as the
/// array forms; `gather`, `scatter`, `allgather` and `alltoall` on spans use message schedules
/// (no shared-memory fast path yet) and allocate nothing.
extension Communicator {
    /// Standard-mode blocking send of the span's elements (MPI_Send).
    @inlinable
    public func send<T: BitwiseCopyable>(_ values: Span<T>, to destination: Int, tag: Int) throws(MPIError) {
        try typedErrors { try values.withUnsafeBytes { try blockingSend($0, to: destination, tag: tag, mode: .standard, "send") } }
    }

    /// Standard-mode blocking send of bytes (MPI_Send of MPI_BYTE).
    @inlinable
    public func send(bytes: RawSpan, to destination: Int, tag: Int) throws(MPIError) {
        try typedErrors { try bytes.withUnsafeBytes { try blockingSend($0, to: destination, tag: tag, mode: .standard, "send") } }
    }

    /// Synchronous-mode blocking send (MPI_Ssend).
    @inlinable
    public func ssend<T: BitwiseCopyable>(_ values: Span<T>, to destination: Int, tag: Int) throws(MPIError) {
        try typedErrors { try values.withUnsafeBytes { try blockingSend($0, to: destination, tag: tag, mode: .synchronous, "ssend") } }
    }

    /// Buffered-mode blocking send (MPI_Bsend).
    @inlinable
    public func bsend<T: BitwiseCopyable>(_ values: Span<T>, to destination: Int, tag: Int) throws(MPIError) {
        try typedErrors { try values.withUnsafeBytes { try blockingSend($0, to: destination, tag: tag, mode: .buffered, "bsend") } }
    }

    /// Ready-mode blocking send (MPI_Rsend).
    @inlinable
    public func rsend<T: BitwiseCopyable>(_ values: Span<T>, to destination: Int, tag: Int) throws(MPIError) {
        try typedErrors { try values.withUnsafeBytes { try blockingSend($0, to: destination, tag: tag, mode: .ready, "rsend") } }
    }

    /// Blocking receive into the span (MPI_Recv): up to `buffer.count` elements; the status says
    /// how many arrived.
    @discardableResult
    @inlinable  // specialized in the caller: a generic MutableSpan costs metadata lookups per call
    public func recv<T: BitwiseCopyable>(into buffer: inout MutableSpan<T>, from source: Int, tag: Int) throws(MPIError) -> Status {
        try typedErrors { try buffer.withUnsafeMutableBytes { try blockingReceive($0, from: source, tag: tag, "recv") } }
    }

    /// Sends `values` and receives into `buffer` at once (MPI_Sendrecv); returns the receive's status.
    @discardableResult
    public func sendrecv<T: BitwiseCopyable, U: BitwiseCopyable>(
        _ values: Span<T>, to destination: Int, sendTag: Int, into buffer: inout MutableSpan<U>, from source: Int, recvTag: Int
    ) throws(MPIError) -> Status {
        try typedErrors {
            try values.withUnsafeBytes { sendBytes in
                try buffer.withUnsafeMutableBytes { receiveBytes in
                    try sendrecvBytes(sendBytes, to: destination, sendTag: sendTag, into: receiveBytes, from: source, recvTag: recvTag)
                }
            }
        }
    }

    /// Broadcasts the root's elements into every rank's span (MPI_Bcast).
    public func bcast<T: BitwiseCopyable>(_ buffer: inout MutableSpan<T>, root: Int) throws(MPIError) {
        try tracedCall("bcast", peer: root, bytes: buffer.count * MemoryLayout<T>.stride) {
            try buffer.withUnsafeMutableBytes { try bcastBytes($0, root: root) }
        }
    }

    /// Reduces every rank's `values` with `op` into `result` at the root (MPI_Reduce); `result`
    /// needs as many elements as `values` there and is not touched elsewhere.
    public func reduce<T: BitwiseCopyable>(_ values: Span<T>, into result: inout MutableSpan<T>, op: ReduceOperation<T>, root: Int) throws(MPIError) {
        try tracedCall("reduce", peer: root, bytes: values.count * MemoryLayout<T>.stride) {
            if isIntercommunicator {  // the root (MPI.root) receives the other group's reduction into `result`
                let contribution = root == MPI.root ? [T](zeroedCount: result.count) : Self.array(values)
                if let reduced = try interReduce(contribution, op: op, root: root) { try Self.copy(reduced, into: &result, "reduce") }
                return
            }
            try values.withUnsafeBufferPointer { input in
                try result.withUnsafeMutableBufferPointer { output in
                    if rank == root && output.count < input.count {
                        throw MPIError(.invalidCount, "reduce: a result of \(output.count) elements for \(input.count)")
                    }
                    try reduceBuffers(input, into: UnsafeMutableBufferPointer(rebasing: output[0..<Swift.min(input.count, output.count)]), op: op, root: root)
                }
            }
        }
    }

    /// Combines every rank's elements with `op`, in place, on every rank (MPI_Allreduce with MPI_IN_PLACE).
    public func allreduce<T: BitwiseCopyable>(inPlace values: inout MutableSpan<T>, op: ReduceOperation<T>) throws(MPIError) {
        try tracedCall("allreduce", bytes: values.count * MemoryLayout<T>.stride) {
            if isIntercommunicator {  // each group gets the other group's reduction
                var combined = Self.array(values.span)
                try interAllreduce(&combined, op: op)
                return try Self.copy(combined, into: &values, "allreduce")
            }
            try values.withUnsafeMutableBufferPointer { try allreduceBuffer($0, op: op) }
        }
    }

    /// Combines every rank's `values` with `op` into `result` on every rank (MPI_Allreduce).
    public func allreduce<T: BitwiseCopyable>(_ values: Span<T>, into result: inout MutableSpan<T>, op: ReduceOperation<T>) throws(MPIError) {
        try tracedCall("allreduce", bytes: values.count * MemoryLayout<T>.stride) {
            guard result.count == values.count else {
                throw MPIError(.invalidCount, "allreduce: a result of \(result.count) elements for \(values.count)")
            }
            if isIntercommunicator {
                var combined = Self.array(values)
                try interAllreduce(&combined, op: op)
                return try Self.copy(combined, into: &result, "allreduce")
            }
            try values.withUnsafeBufferPointer { input in
                try result.withUnsafeMutableBufferPointer { output in
                    if let base = input.baseAddress, input.count > 0 { output.baseAddress!.update(from: base, count: input.count) }
                    try allreduceBuffer(output, op: op)
                }
            }
        }
    }

    /// Every rank's `values` (equal counts) in rank order into `result` at the root, which needs
    /// `size × values.count` elements there (MPI_Gather).
    public func gather<T: BitwiseCopyable>(_ values: Span<T>, into result: inout MutableSpan<T>, root: Int) throws(MPIError) {
        try tracedCall("gather", peer: root, bytes: values.count * MemoryLayout<T>.stride) {
            if isIntercommunicator {  // the root (MPI.root) receives the other group's values
                if let gathered = try interGather(Self.array(values), root: root) { try Self.copy(gathered, into: &result, "gather") }
                return
            }
            try checkRoot(root, "gather")
            // A root whose result is too short still takes the others' contributions (into scratch
            // memory, then throws), so that no rank waits for one that gave up.
            let short = rank == root && result.count < values.count * size
            var scratch = [UInt8](repeating: 0, count: short ? values.count * size * MemoryLayout<T>.stride : 0)
            try scratch.withUnsafeMutableBytes { scratchBytes in
                try values.withUnsafeBytes { input in
                    try result.withUnsafeMutableBytes { resultBytes in
                        let output = short ? scratchBytes : resultBytes
                        let target = rank == root ? output : nil
                        // One channel step without count arrays when the contributions fit (the array
                        // form's step too, so the two forms agree), else messages.
                        if let shared = state.sharedCollectiveChannel(runtime) {
                            if try shared.gatherEqualParts(input, into: target, root: root, runtime) { return }
                        } else {
                            try agreeOnSignature(.gather, root: root, "gather")
                        }
                        let layout = try byteLayout(T.self, counts: [Int](repeating: values.count, count: size), "gather")
                        try run("gather", root: root) {
                            scheduleGather(input, into: target, counts: layout.counts, displacements: layout.displacements, root: root, $0)
                        }
                    }
                }
            }
            if short { throw MPIError(.invalidCount, "gather: a result of \(result.count) elements for \(size) × \(values.count)") }
        }
    }

    /// The root's `values` in `size` equal parts, part i into rank i's `result` (MPI_Scatter);
    /// `values` is read at the root only.
    public func scatter<T: BitwiseCopyable>(_ values: Span<T>, into result: inout MutableSpan<T>, root: Int) throws(MPIError) {
        try tracedCall("scatter", peer: root, bytes: result.count * MemoryLayout<T>.stride) {
            if isIntercommunicator {  // the root (MPI.root) deals its values out to the other group
                let part = try interScatter(root == MPI.root ? Self.array(values) : [], root: root)
                if !part.isEmpty { try Self.copy(part, into: &result, "scatter") }
                return
            }
            try checkRoot(root, "scatter")
            // A root with too few values announces what it has (every rank then throws) and deals
            // out zeros by messages, so that no rank waits for one that gave up.
            let short = rank == root && values.count < result.count * size
            let scratch = [UInt8](repeating: 0, count: short ? result.count * size * MemoryLayout<T>.stride : 0)
            try scratch.withUnsafeBytes { scratchBytes in
                try values.withUnsafeBytes { input in
                    try result.withUnsafeMutableBytes { output in
                        let stride = Swift.max(MemoryLayout<T>.stride, 1), part = output.count / stride
                        // The root deals out exactly its ranks' parts (its span may be longer).
                        let announced = rank == root ? UnsafeRawBufferPointer(rebasing: input[..<Swift.min(input.count, output.count * size)]) : nil
                        let source = short ? scratchBytes : announced
                        // The root's element count: what the others check their parts against.
                        var total = rank == root ? (announced?.count ?? 0) / stride : part * size  // (an Int, not an array: no allocation)
                        // One channel step when the root's values fit (the array form's step too, so the
                        // two forms agree), else messages.
                        if let shared = state.sharedCollectiveChannel(runtime) {
                            let (done, rootBytes) = try shared.scatterEqualParts(announced, into: output, root: root, runtime)
                            if done { return }
                            total = rootBytes / stride
                        } else {
                            // The root's element count first, as the array form (whose ranks learn their
                            // part from it) sends it: ranks may use either form.
                            try agreeOnSignature(.scatter, root: root, "scatter")
                            try withUnsafeMutableBytes(of: &total) { bytes in try run("scatter", root: root) { scheduleBroadcast(bytes, root: root, $0) } }
                        }
                        let layout = try byteLayout(T.self, counts: [Int](repeating: part, count: size), "scatter")
                        try run("scatter", root: root) {
                            scheduleScatter(source, counts: layout.counts, displacements: layout.displacements, into: output, root: root, $0)
                        }
                        // (Checked once the parts have moved, so that no rank waits for one that gave up.)
                        guard total == part * size else {
                            throw MPIError(
                                .invalidCount,
                                "scatter: the root deals out \(total) elements, this rank expects \(part) of \(size) equal parts: "
                                    + "the ranks' counts for scatter do not agree")
                        }
                    }
                }
            }
        }
    }

    /// Every rank's `values` (equal counts) in rank order into every rank's `result`
    /// (`size × values.count` elements) (MPI_Allgather).
    public func allgather<T: BitwiseCopyable>(_ values: Span<T>, into result: inout MutableSpan<T>) throws(MPIError) {
        try tracedCall("allgather", bytes: values.count * MemoryLayout<T>.stride) {
            if isIntercommunicator { return try Self.copy(try interAllgather(Self.array(values)), into: &result, "allgather") }
            guard result.count >= values.count * size else {
                throw MPIError(.invalidCount, "allgather: a result of \(result.count) elements for \(size) × \(values.count)")
            }
            try values.withUnsafeBytes { input in
                try result.withUnsafeMutableBytes { output in
                    // The channel's equal-part step first (no count arrays), then the general path.
                    let shared = state.sharedCollectiveChannel(runtime)
                    if let shared, try shared.allgatherEqualParts(input, into: output, runtime) { return }
                    let layout = try byteLayout(T.self, counts: [Int](repeating: values.count, count: size), "allgather")
                    try allgatherBytes(
                        input, into: output, counts: layout.counts, displacements: layout.displacements, "allgather", channelTried: shared != nil)
                }
            }
        }
    }

    /// Block i of `values` (`values.count / size` elements) to rank i; block j of `result` from
    /// rank j (MPI_Alltoall).
    public func alltoall<T: BitwiseCopyable>(_ values: Span<T>, into result: inout MutableSpan<T>) throws(MPIError) {
        try tracedCall("alltoall", bytes: values.count * MemoryLayout<T>.stride) {
            if isIntercommunicator { return try Self.copy(try interAlltoall(Self.array(values)), into: &result, "alltoall") }
            guard values.count % size == 0, result.count >= values.count else {
                throw MPIError(.invalidCount, "alltoall: \(values.count) elements for \(size) ranks into \(result.count)")
            }
            try values.withUnsafeBytes { input in
                try result.withUnsafeMutableBytes { output in
                    // The channel's equal-block step first (no count arrays), then the general path.
                    let shared = state.sharedCollectiveChannel(runtime)
                    if let shared, try shared.alltoallEqualBlocks(input, into: output, runtime) { return }
                    let layout = try byteLayout(T.self, counts: [Int](repeating: values.count / size, count: size), "alltoall")
                    try alltoallBytes(
                        input, sendCounts: layout.counts, sendDisplacements: layout.displacements, into: output, receiveCounts: layout.counts,
                        receiveDisplacements: layout.displacements, "alltoall", channelTried: shared != nil)
                }
            }
        }
    }

    /// A span's elements in an array (for the intercommunicator forms, which take arrays).
    private static func array<T: BitwiseCopyable>(_ values: Span<T>) -> [T] {
        values.withUnsafeBufferPointer { Array($0) }
    }

    /// Copies `values` to the start of `result`, which must hold them.
    private static func copy<T: BitwiseCopyable>(_ values: [T], into result: inout MutableSpan<T>, _ call: StaticString) throws {
        guard result.count >= values.count else { throw MPIError(.invalidCount, "\(call): a result of \(result.count) elements for \(values.count)") }
        result.withUnsafeMutableBufferPointer { output in
            values.withUnsafeBufferPointer { input in
                if let base = input.baseAddress, input.count > 0 { output.baseAddress!.update(from: base, count: input.count) }
            }
        }
    }
}
