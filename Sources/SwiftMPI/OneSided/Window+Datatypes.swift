/// The datatype forms of put, get, accumulate and getAccumulate (MPI_Put, MPI_Get, MPI_Accumulate
/// and MPI_Get_accumulate with origin and target datatypes): a halo column, a sub-block or scattered picks of the origin's buffer go
/// to (or come from) a differently shaped region of the target's window, in one call.
///
/// The origin's `count` instances of `datatype` are laid from the buffer's first element and must lie
/// inside it; the target's `targetCount` instances of `targetDatatype` are laid from element `offset`
/// of `target`'s window and must lie inside that (checked at the origin against the size every rank
/// published: `.rmaRange`); both must describe the same number of bytes (`.invalidDatatype`). Nothing
/// moves unless every check passes. Each contiguous run of the target's layout is then one access on
/// the target's path (``path(toRank:)``), so the completion rules are those of the plain forms.
extension Window {
    /// Writes `count` instances of `datatype` from `values` into `target`'s window as `targetCount`
    /// instances of `targetDatatype` from element `offset` (MPI_Put with datatypes).
    public func put(
        _ values: UnsafeBufferPointer<T>, count: Int, datatype: Datatype, to target: Int, at offset: Int, targetCount: Int, targetDatatype: Datatype
    ) throws(MPIError) {
        try typedErrors {
            let region = try TypedRegion(datatype, count: count, in: UnsafeMutableRawBufferPointer(mutating: UnsafeRawBufferPointer(values)), "put")
            guard let runs = try runs(region, target, offset, targetCount, targetDatatype, unit: 1, "put") else { return }
            let packed = region.packed()
            try packed.withUnsafeBytes { try state.put(packed: $0, runs: runs, to: target) }
        }
    }

    /// Writes `count` instances of `datatype` from `values` into `target`'s window as `targetCount`
    /// instances of `targetDatatype` from element `offset` (MPI_Put with datatypes).
    public func put(_ values: [T], count: Int, datatype: Datatype, to target: Int, at offset: Int, targetCount: Int, targetDatatype: Datatype) throws(MPIError)
    {
        try values.withUnsafeBufferPointer { (buffer) throws(MPIError) in
            try put(buffer, count: count, datatype: datatype, to: target, at: offset, targetCount: targetCount, targetDatatype: targetDatatype)
        }
    }

    /// Writes `count` instances of `datatype` from `values` — laid from the slice's first element,
    /// as in point-to-point — into `target`'s window as `targetCount` instances of `targetDatatype`
    /// from element `offset` (MPI_Put with datatypes): an edge of a grid put where it is.
    public func put(
        _ values: ArraySlice<T>, count: Int, datatype: Datatype, to target: Int, at offset: Int, targetCount: Int, targetDatatype: Datatype
    ) throws(MPIError) {
        try values.withUnsafeBufferPointer { (buffer) throws(MPIError) in
            try put(buffer, count: count, datatype: datatype, to: target, at: offset, targetCount: targetCount, targetDatatype: targetDatatype)
        }
    }

    /// Reads `targetCount` instances of `targetDatatype` from element `offset` of `target`'s window
    /// into `count` instances of `datatype` in `values` (MPI_Get with datatypes); returns with the data.
    public func get(
        into values: UnsafeMutableBufferPointer<T>, count: Int, datatype: Datatype, from target: Int, at offset: Int, targetCount: Int,
        targetDatatype: Datatype
    ) throws(MPIError) {
        try typedErrors {
            let region = try TypedRegion(datatype, count: count, in: UnsafeMutableRawBufferPointer(values), "get")
            guard let runs = try runs(region, target, offset, targetCount, targetDatatype, unit: 1, "get") else { return }
            var packed = [UInt8](repeating: 0, count: region.byteCount)
            try packed.withUnsafeMutableBytes { try state.get(packed: $0, runs: runs, from: target, "get") }
            packed.withUnsafeBytes { region.unpack(0..<region.byteCount, from: $0.baseAddress!) }
        }
    }

    /// Reads `targetCount` instances of `targetDatatype` from element `offset` of `target`'s window
    /// into `count` instances of `datatype` in `values` (MPI_Get with datatypes).
    public func get(
        into values: inout [T], count: Int, datatype: Datatype, from target: Int, at offset: Int, targetCount: Int, targetDatatype: Datatype
    ) throws(MPIError) {
        try values.withUnsafeMutableBufferPointer { (buffer) throws(MPIError) in
            try get(into: buffer, count: count, datatype: datatype, from: target, at: offset, targetCount: targetCount, targetDatatype: targetDatatype)
        }
    }

    /// Combines `count` instances of `datatype` from `values` into `target`'s window, laid as
    /// `targetCount` instances of `targetDatatype` from element `offset`, element by element with `op`
    /// (MPI_Accumulate with datatypes; atomic per element). The target layout must hold whole
    /// elements of `T` (`.invalidDatatype` otherwise).
    public func accumulate(
        _ values: [T], count: Int, datatype: Datatype, to target: Int, at offset: Int, targetCount: Int, targetDatatype: Datatype,
        op: ReduceOperation<T>
    ) throws(MPIError) {
        try typedErrors {
            let code = try accumulateOperator(op, "accumulate")
            try values.withUnsafeBytes { bytes in
                let region = try TypedRegion(datatype, count: count, in: UnsafeMutableRawBufferPointer(mutating: bytes), "accumulate")
                guard let runs = try runs(region, target, offset, targetCount, targetDatatype, unit: Self.stride, "accumulate") else { return }
                let packed = region.packed()
                try packed.withUnsafeBytes { try state.accumulate(packed: $0, runs: runs, to: target, op: code, kernel: state.kernel) }
            }
        }
    }

    /// Combines `count` instances of `datatype` from `values` into `target`'s window, laid as
    /// `targetCount` instances of `targetDatatype` from element `offset`, with `op`, and returns what
    /// those elements held before, laid out in `result` as `resultCount` instances of
    /// `resultDatatype` (MPI_Get_accumulate with datatypes; atomic per element; with `.noOp` an
    /// atomic read). The result layout must hold the same bytes as the target's, inside `result`.
    public func getAccumulate(
        _ values: [T], count: Int, datatype: Datatype, into result: inout [T], resultCount: Int, resultDatatype: Datatype, to target: Int,
        at offset: Int, targetCount: Int, targetDatatype: Datatype, op: ReduceOperation<T>
    ) throws(MPIError) {
        try typedErrors {
            let code = try accumulateOperator(op, "getAccumulate")
            try values.withUnsafeBytes { bytes in
                try result.withUnsafeMutableBytes { resultBytes in
                    let origin = try TypedRegion(datatype, count: count, in: UnsafeMutableRawBufferPointer(mutating: bytes), "getAccumulate")
                    let old = try TypedRegion(resultDatatype, count: resultCount, in: resultBytes, "getAccumulate")
                    guard old.byteCount == origin.byteCount else {
                        throw MPIError(
                            .invalidDatatype,
                            "getAccumulate: the result's \(resultCount) × \(resultDatatype) hold \(old.byteCount) bytes, the origin's \(origin.byteCount)")
                    }
                    guard let runs = try runs(origin, target, offset, targetCount, targetDatatype, unit: Self.stride, "getAccumulate") else { return }
                    let packed = origin.packed()
                    var previous = [UInt8](repeating: 0, count: old.byteCount)
                    try packed.withUnsafeBytes { packedBytes in
                        try previous.withUnsafeMutableBytes { into in
                            try state.getAccumulate(
                                packed: packedBytes, result: into, runs: runs, to: target, op: code, kernel: state.kernel, "getAccumulate")
                        }
                    }
                    previous.withUnsafeBytes { old.unpack(0..<old.byteCount, from: $0.baseAddress!) }
                }
            }
        }
    }

    /// The target's runs for an access whose origin is `region`; nil when there is nothing to move.
    private func runs(
        _ region: TypedRegion, _ target: Int, _ offset: Int, _ targetCount: Int, _ targetDatatype: Datatype, unit: Int, _ call: String
    ) throws -> [(offset: Int, length: Int)]? {
        guard targetCount >= 0 else { throw MPIError(.invalidCount, "\(call): a negative target count (\(targetCount))") }
        let targetBytes = targetDatatype.size * targetCount
        guard region.byteCount == targetBytes else {
            throw MPIError(
                .invalidDatatype,
                "\(call): the origin's \(region.count) × \(region.map.summary) hold \(region.byteCount) bytes, "
                    + "the target's \(targetCount) × \(targetDatatype) \(targetBytes)"
            )
        }
        let (byteOffset, overflow) = offset.multipliedReportingOverflow(by: Self.stride)
        guard !overflow else { throw MPIError(.rmaRange, "\(call): element offset \(offset) overflows") }
        let runs = try state.targetRuns(targetDatatype, count: targetCount, target: target, byteOffset: byteOffset, unit: unit, aligned: true, call)
        return runs.isEmpty ? nil : runs
    }
}
