/// `count` instances of a datatype at an origin in this process's memory, checked to lie inside the
/// caller's buffer: what a typed call hands to the engine, and what pack and unpack walk.
///
/// The packed form of a region is its data bytes in type-map order (MPI_Pack's format, here without
/// any header): `byteCount` bytes. Positions below are positions in that packed stream.
struct TypedRegion {
    /// The datatype's origin (instance 0 starts at its lower bound from here); nil only when empty.
    let origin: UnsafeMutableRawPointer?
    let map: TypeMap
    let count: Int

    /// The packed size: the bytes of data in the region.
    var byteCount: Int { map.size * count }

    /// Checks that `count` instances of `type` from `buffer`'s start lie inside `buffer`, naming
    /// `call` and the footprint when not (`.invalidCount`).
    init(_ type: Datatype, count: Int, in buffer: UnsafeMutableRawBufferPointer, _ call: StaticString) throws(MPIError) {
        guard count >= 0 else { throw MPIError(.invalidCount, "\(call): negative count \(count) of \(type)") }
        let map = type.map
        if count > 0 && map.size > 0 {
            let footprint = try Self.footprint(map, count: count, call)
            guard footprint.lowerBound >= 0, footprint.upperBound <= buffer.count else {
                throw MPIError(
                    .invalidCount,
                    "\(call): \(count) × \(type) occupies bytes \(footprint) from the buffer's start, but the buffer has \(buffer.count) bytes")
            }
        }
        self.origin = buffer.baseAddress
        self.map = map
        self.count = count
    }

    /// For a dense datatype (its data fills its extent: a predefined type, contiguous instances of
    /// one), the checked byte range `count` instances occupy in `buffer`; nil for other datatypes.
    /// The fast path of typed calls: no region is built, so no reference is taken on the type.
    @inline(__always)
    static func denseBytes(_ type: Datatype, count: Int, in buffer: UnsafeRawBufferPointer, _ call: StaticString) throws(MPIError) -> UnsafeRawBufferPointer? {
        let map = type.map
        guard map.dense, count >= 0 else { return nil }
        let start = map.trueLowerBound, (bytes, overflow) = map.size.multipliedReportingOverflow(by: count)
        guard !overflow, start >= 0, bytes <= buffer.count - start || bytes == 0 else {
            throw MPIError(
                .invalidCount,
                "\(call): \(count) × \(type) occupies bytes \(start)..<\(start &+ bytes) from the buffer's start, but the buffer has \(buffer.count) bytes")
        }
        return UnsafeRawBufferPointer(start: bytes == 0 ? buffer.baseAddress : buffer.baseAddress.map { $0 + start }, count: bytes)
    }

    /// A region the caller has checked (or memory of another process, never dereferenced here).
    init(unchecked origin: UnsafeMutableRawPointer?, map: TypeMap, count: Int) {
        self.origin = origin
        self.map = map
        self.count = count
    }

    /// `byteCount` contiguous bytes at `start`, as a region (one block).
    init(contiguous start: UnsafeMutableRawPointer?, byteCount: Int) {
        let blocks = byteCount > 0 ? [TypeBlock(offset: 0, length: byteCount, count: 1, stride: 0)] : []
        self.init(
            unchecked: start,
            map: TypeMap(blocks: blocks, lowerBound: 0, upperBound: byteCount, alignment: 1, signature: [], summary: "\(byteCount) bytes"),
            count: 1)
    }

    /// The bytes from the origin that `count` instances of `map` touch: true lower bound .. true
    /// upper bound, repeated at the extent.
    static func footprint(_ map: TypeMap, count: Int, _ call: StaticString) throws(MPIError) -> Range<Int> {
        let (reach, overflow) = (count - 1).multipliedReportingOverflow(by: map.extent)
        let (low, o1) = map.trueLowerBound.addingReportingOverflow(min(0, reach))
        let (high, o2) = map.trueUpperBound.addingReportingOverflow(max(0, reach))
        guard !overflow, !o1, !o2 else { throw MPIError(.invalidCount, "\(call): \(count) instances of a \(map.extent)-byte extent overflow") }
        return low..<high
    }

    /// The region as one contiguous byte range, when its data is one (dense types: sent as plain bytes).
    var contiguousBytes: UnsafeMutableRawBufferPointer? {
        guard map.isDense || count == 0 || map.size == 0 else { return nil }
        guard let origin, byteCount > 0 else { return UnsafeMutableRawBufferPointer(start: origin, count: 0) }
        return UnsafeMutableRawBufferPointer(start: origin + map.blockStorage[0].offset, count: byteCount)
    }

    /// The origin as a number, for address arithmetic that may refer to another process.
    var originAddress: Int { Int(bitPattern: origin) }

    /// The whole region packed into a new array.
    func packed() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: byteCount) { buffer, count in
            if let base = buffer.baseAddress { pack(0..<byteCount, into: base) }
            count = byteCount
        }
    }

    /// Copies packed bytes `range` of the region to `target` (which receives `range.count` bytes).
    func pack(_ range: Range<Int>, into target: UnsafeMutableRawPointer) {
        let start = range.lowerBound
        map.forEachRun(origin: originAddress, count: count, range: range) { address, length, position in
            copyRun(to: target + (position - start), from: UnsafeRawPointer(bitPattern: address).unsafelyUnwrapped, length)
            return true
        }
    }

    /// Copies `range.count` bytes from `source` into packed positions `range` of the region.
    func unpack(_ range: Range<Int>, from source: UnsafeRawPointer) {
        let start = range.lowerBound
        map.forEachRun(origin: originAddress, count: count, range: range) { address, length, position in
            copyRun(to: UnsafeMutableRawPointer(bitPattern: address).unsafelyUnwrapped, from: source + (position - start), length)
            return true
        }
    }
}

/// Copies one run: the short lengths of columns and records (one element of 1 to 16 bytes) as
/// plain loads and stores, longer ones with memcpy — whose call costs more than a short copy
/// (a 4-byte-block vector packed 2-3× faster this way).
@inline(__always)
private func copyRun(to target: UnsafeMutableRawPointer, from source: UnsafeRawPointer, _ length: Int) {
    switch length {
    case 8: target.storeBytes(of: source.loadUnaligned(as: UInt64.self), as: UInt64.self)
    case 4: target.storeBytes(of: source.loadUnaligned(as: UInt32.self), as: UInt32.self)
    case 16:
        target.storeBytes(of: source.loadUnaligned(as: UInt64.self), as: UInt64.self)
        target.storeBytes(of: source.loadUnaligned(fromByteOffset: 8, as: UInt64.self), toByteOffset: 8, as: UInt64.self)
    case 2: target.storeBytes(of: source.loadUnaligned(as: UInt16.self), as: UInt16.self)
    case 1: target.storeBytes(of: source.load(as: UInt8.self), as: UInt8.self)
    default: target.copyMemory(from: source, byteCount: length)
    }
}
