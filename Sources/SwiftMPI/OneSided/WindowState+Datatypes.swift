/// Put, get and accumulate with datatypes on both sides (MPI_Put and friends with origin and target
/// datatypes): the origin's data is packed by its datatype (checked against the caller's buffer),
/// and the target datatype, laid at the target displacement, is cut into its contiguous runs, each
/// checked to lie inside the target's window before anything moves; then each run is one put, get or
/// accumulate on whichever path reaches the target (a copy on mapped memory, an RDMA write or read,
/// a message). Accumulates stay atomic per element: every run holds whole elements.
extension WindowState {
    /// The contiguous runs (byte offset in `target`'s window, length) of `count` instances of `type`
    /// placed at `byteOffset` there, in type-map order; checks the epoch and that all of them lie in
    /// the window (`.rmaRange`) and, for accumulates (`unit` > 1), that every run holds whole
    /// elements (the packed data is cut at run boundaries) and, in a typed window (`aligned`: its
    /// elements lie at multiples of `unit` bytes), starts on one. Empty for `MPI.procNull` and for no data.
    func targetRuns(
        _ type: Datatype, count: Int, target: Int, byteOffset: Int, unit: Int, aligned: Bool = false, _ call: String
    ) throws -> [(offset: Int, length: Int)] {
        guard count >= 0 else { throw MPIError(.invalidCount, "\(call): a negative target count (\(count))") }
        let map = type.map
        let bytes = map.size * count
        guard bytes > 0 else { return [] }
        let footprint = try TypedRegion.footprint(map, count: count, "Window")
        let (low, lowOverflow) = byteOffset.addingReportingOverflow(footprint.lowerBound)
        guard !lowOverflow else { throw MPIError(.rmaRange, "\(call): the target displacement overflows") }
        // The epoch, the rank and the whole footprint, as one access.
        guard try prepareAccess(target, byteOffset: low, bytes: footprint.count, unit: 1, call) else { return [] }
        var runs: [(offset: Int, length: Int)] = []
        map.forEachRun(origin: byteOffset, count: count, range: 0..<bytes) { address, length, _ in
            runs.append((address, length))
            return true
        }
        if unit > 1, let bad = runs.first(where: { $0.length % unit != 0 || (aligned && $0.offset % unit != 0) }) {
            throw MPIError(
                .invalidDatatype,
                "\(call): the target datatype \(type) cuts elements of \(unit) bytes (a run of \(bad.length) bytes at byte \(bad.offset))")
        }
        return runs
    }

    /// Puts `packed` (the origin's data in type-map order) into `runs` of `target`.
    func put(packed: UnsafeRawBufferPointer, runs: [(offset: Int, length: Int)], to target: Int) throws {
        try forEachRun(runs) { range, offset in try put(UnsafeRawBufferPointer(rebasing: packed[range]), to: target, byteOffset: offset) }
    }

    /// Gets `runs` of `target` into `packed`, in order.
    func get(packed: UnsafeMutableRawBufferPointer, runs: [(offset: Int, length: Int)], from target: Int, _ call: String) throws {
        try forEachRun(runs) { range, offset in
            try get(into: UnsafeMutableRawBufferPointer(rebasing: packed[range]), from: target, byteOffset: offset, call)
        }
    }

    /// Accumulates `packed` into `runs` of `target` with `op`.
    func accumulate(
        packed: UnsafeRawBufferPointer, runs: [(offset: Int, length: Int)], to target: Int, op: AccumulateOperator, kernel: AccumulateKernel
    ) throws {
        try forEachRun(runs) { range, offset in
            try accumulate(UnsafeRawBufferPointer(rebasing: packed[range]), to: target, byteOffset: offset, op: op, kernel: kernel)
        }
    }

    /// Accumulates `packed` into `runs` of `target` with `op` and returns the elements as they were in
    /// `result` (as long as `packed`, in the same order), atomically per element.
    func getAccumulate(
        packed: UnsafeRawBufferPointer, result: UnsafeMutableRawBufferPointer, runs: [(offset: Int, length: Int)], to target: Int,
        op: AccumulateOperator, kernel: AccumulateKernel, _ call: String
    ) throws {
        try forEachRun(runs) { range, offset in
            try getAccumulate(
                UnsafeRawBufferPointer(rebasing: packed[range]), result: UnsafeMutableRawBufferPointer(rebasing: result[range]), to: target,
                byteOffset: offset, op: op, kernel: kernel, call)
        }
    }

    /// Calls `body` with each run's packed byte range and its offset in the target's window, in order.
    private func forEachRun(_ runs: [(offset: Int, length: Int)], _ body: (Range<Int>, Int) throws -> Void) throws {
        var position = 0
        for run in runs {
            try body(position..<(position + run.length), run.offset)
            position += run.length
        }
    }
}
