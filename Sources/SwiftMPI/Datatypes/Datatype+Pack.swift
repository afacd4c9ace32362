/// Packing (MPI_Pack, MPI_Unpack, MPI_Pack_size): `count` instances of a datatype copied to and from
/// a contiguous byte array, at a position that advances — for building one message from several
/// pieces by hand. The packed form is the data bytes in type-map order; pack and unpack with
/// signature-compatible datatypes on both sides.
extension Datatype {
    /// The bytes `count` instances occupy packed (exact: SwiftMPI's packed form has no header).
    public func packSize(count: Int) throws(MPIError) -> Int {
        guard count >= 0 else { throw MPIError(.invalidCount, "packSize: negative count \(count)") }
        let (bytes, overflow) = size.multipliedReportingOverflow(by: count)
        guard !overflow else { throw MPIError(.invalidCount, "packSize: \(count) × \(size) bytes overflows") }
        return bytes
    }

    /// Packs `count` instances from `values` (its first element is the datatype's origin) into
    /// `bytes` at `position`, and advances `position`. Throws `.invalidCount` when the instances lie
    /// outside `values` or do not fit `bytes` from `position`; nothing is written then.
    public func pack<T: BitwiseCopyable>(from values: [T], count: Int, into bytes: inout [UInt8], position: inout Int) throws(MPIError) {
        try values.withUnsafeBytes { raw in Result { () throws(MPIError) in try pack(raw, count: count, into: &bytes, position: &position) } }.get()
    }

    /// Packs from a slice; its first element is the origin.
    public func pack<T: BitwiseCopyable>(from values: ArraySlice<T>, count: Int, into bytes: inout [UInt8], position: inout Int) throws(MPIError) {
        try values.withUnsafeBytes { raw in Result { () throws(MPIError) in try pack(raw, count: count, into: &bytes, position: &position) } }.get()
    }

    /// Packs from a buffer; its first element is the origin.
    public func pack<T: BitwiseCopyable>(from buffer: UnsafeBufferPointer<T>, count: Int, into bytes: inout [UInt8], position: inout Int) throws(MPIError) {
        try pack(UnsafeRawBufferPointer(buffer), count: count, into: &bytes, position: &position)
    }

    /// Unpacks `count` instances from `bytes` at `position` into `values` (its first element is the
    /// origin), and advances `position`. Throws `.invalidCount` when `bytes` holds fewer bytes from
    /// `position` or the instances lie outside `values`; nothing is written then.
    public func unpack<T: BitwiseCopyable>(from bytes: [UInt8], position: inout Int, into values: inout [T], count: Int) throws(MPIError) {
        try values.withUnsafeMutableBytes { raw in Result { () throws(MPIError) in try unpack(bytes, position: &position, into: raw, count: count) } }.get()
    }

    /// Unpacks into a slice; its first element is the origin.
    public func unpack<T: BitwiseCopyable>(from bytes: [UInt8], position: inout Int, into values: inout ArraySlice<T>, count: Int) throws(MPIError) {
        try values.withUnsafeMutableBytes { raw in Result { () throws(MPIError) in try unpack(bytes, position: &position, into: raw, count: count) } }.get()
    }

    /// Unpacks into a buffer; its first element is the origin.
    public func unpack<T: BitwiseCopyable>(
        from bytes: [UInt8], position: inout Int, into buffer: UnsafeMutableBufferPointer<T>, count: Int
    ) throws(MPIError) {
        try unpack(bytes, position: &position, into: UnsafeMutableRawBufferPointer(buffer), count: count)
    }

    private func pack(_ source: UnsafeRawBufferPointer, count: Int, into bytes: inout [UInt8], position: inout Int) throws(MPIError) {
        let region = try checkedRegion(UnsafeMutableRawBufferPointer(mutating: source), count: count, packed: bytes.count, at: position, "pack")
        let start = position
        bytes.withUnsafeMutableBytes { region.pack(0..<region.byteCount, into: $0.baseAddress! + start) }
        position += region.byteCount
    }

    private func unpack(_ bytes: [UInt8], position: inout Int, into target: UnsafeMutableRawBufferPointer, count: Int) throws(MPIError) {
        let region = try checkedRegion(target, count: count, packed: bytes.count, at: position, "unpack")
        let start = position
        bytes.withUnsafeBytes { region.unpack(0..<region.byteCount, from: $0.baseAddress! + start) }
        position += region.byteCount
    }

    /// Packs the `count` instances whose origin is `origin` into `target` (`size × count` bytes),
    /// without checks and without allocating: the caller guarantees that the instances' footprint
    /// and the target are memory it owns. For staging areas the caller laid out itself (the C
    /// interface's user reduction operations).
    package func pack(uncheckedCount count: Int, from origin: UnsafeRawPointer, into target: UnsafeMutableRawPointer) {
        let region = TypedRegion(unchecked: UnsafeMutableRawPointer(mutating: origin), map: map, count: count)
        region.pack(0..<region.byteCount, into: target)
    }

    /// Unpacks `size × count` bytes from `packed` into the `count` instances whose origin is
    /// `origin`, without checks and without allocating (the caller guarantees both are its memory).
    package func unpack(uncheckedCount count: Int, from packed: UnsafeRawPointer, into origin: UnsafeMutableRawPointer) {
        let region = TypedRegion(unchecked: origin, map: map, count: count)
        region.unpack(0..<region.byteCount, from: packed)
    }

    /// `count` instances in `buffer`, checked to lie inside it and to fit the `packed`-byte array
    /// from `position`.
    private func checkedRegion(
        _ buffer: UnsafeMutableRawBufferPointer, count: Int, packed: Int, at position: Int, _ call: StaticString
    ) throws(MPIError) -> TypedRegion {
        let region = try TypedRegion(self, count: count, in: buffer, call)
        guard position >= 0, position <= packed, region.byteCount <= packed - position else {
            throw MPIError(.invalidCount, "\(call): \(region.byteCount) bytes at position \(position) do not fit the \(packed) packed bytes")
        }
        return region
    }
}

extension Status {
    /// The number of whole instances of `type` in the message, or nil when the message ends inside
    /// one (MPI_Get_count with a datatype; nil is MPI_UNDEFINED). A type of size 0 counts 0.
    public func count(of type: Datatype) -> Int? {
        guard type.size > 0 else { return 0 }
        return byteCount % type.size == 0 ? byteCount / type.size : nil
    }

    /// The number of primitive elements of `type`'s signature in the message, counting a last,
    /// partial instance element by element (MPI_Get_elements); nil when the message ends inside a
    /// primitive element.
    public func elementCount(of type: Datatype) -> Int? { type.map.elementCount(inBytes: byteCount) }
}
