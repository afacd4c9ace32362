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
        // The map is taken once, by the region (no other reference is made on the message path).
        self.origin = buffer.baseAddress
        self.map = type.map
        self.count = count
        if count > 0 && map.size > 0 { try checkInside(buffer.count, call) }
    }

    /// Throws `.invalidCount`, naming `call` and the footprint, unless the region's footprint lies in
    /// the `bufferBytes` bytes from its origin.
    @inline(never)
    private func checkInside(_ bufferBytes: Int, _ call: StaticString) throws(MPIError) {
        let footprint = try Self.footprint(map, count: count, call)
        guard footprint.lowerBound >= 0, footprint.upperBound <= bufferBytes else {
            throw MPIError(
                .invalidCount,
                "\(call): \(count) × \(Datatype(map)) occupies bytes \(footprint) from the buffer's start, but the buffer has \(bufferBytes) bytes")
        }
    }

    /// For a dense datatype (its data fills its extent: a predefined type, contiguous instances of
    /// one) or an empty one, the checked byte range `count` instances occupy in `buffer`; nil for
    /// other datatypes.
    /// The fast path of typed calls: no region is built, so no reference is taken on the type.
    @inline(__always)
    static func denseBytes(_ type: Datatype, count: Int, in buffer: UnsafeRawBufferPointer, _ call: StaticString) throws(MPIError) -> UnsafeRawBufferPointer? {
        let map = type.map
        guard map.isDense || map.size == 0, count >= 0 else { return nil }
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
            map: TypeMap(
                blocks: blocks, lowerBound: 0, upperBound: byteCount, alignment: 1, signature: [], externalSignature: [], summary: "\(byteCount) bytes"),
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

    /// The region as bytes a receive may take as they are: contiguous data whose elements are all
    /// one size (each message then checked to be a whole number of `elementBytes`), else nil (the
    /// receive goes as a region, unpacked and checked element by element).
    var receivableBytes: (bytes: UnsafeMutableRawBufferPointer, elementBytes: Int)? {
        let elementBytes = map.uniformElementSize
        guard let bytes = contiguousBytes, elementBytes > 0 || byteCount == 0 else { return nil }
        return (bytes, elementBytes)
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
        transfer(range, packed: target, packing: true)
    }

    /// Copies `range.count` bytes from `source` into packed positions `range` of the region.
    func unpack(_ range: Range<Int>, from source: UnsafeRawPointer) {
        transfer(range, packed: UnsafeMutableRawPointer(mutating: source), packing: false)
    }

    /// Pack (`packing`) or unpack packed positions `range` to or from `packed`. The walk of
    /// ``TypeMap/forEachRun(origin:count:range:_:)``, with the whole elements of a strided block
    /// copied in one tight loop per element length (a column of doubles: a load and a store each).
    @inline(__always)
    private func transfer(_ range: Range<Int>, packed: UnsafeMutableRawPointer, packing: Bool) {
        let size = map.size
        guard size > 0, !range.isEmpty, let origin else { return }
        let blocks = map.blockStorage, blockCount = map.blocks.count, extent = map.extent
        var position = range.lowerBound
        var instance = position / size
        var (index, blockStart) = map.block(containing: position - instance * size)
        var inBlock = position - instance * size - blockStart
        while position < range.upperBound && instance < count {
            if blockCount == 1 && blocks[0].count == 1 && inBlock == 0 {
                // One run per instance (a resized element, a record of one field): the whole
                // instances are elements `extent` apart, copied in the same tight loop.
                let whole = min(count - instance, (range.upperBound - position) / size)
                if whole > 0 {
                    copyElements(
                        origin + (instance * extent + blocks[0].offset), stride: extent, packed + (position - range.lowerBound), length: size,
                        count: whole, packing: packing)
                    position += whole * size
                    instance += whole
                    continue
                }
            }
            let block = blocks[index]
            var element = inBlock / block.length
            var skip = inBlock - element * block.length
            let base = origin + (instance * extent + block.offset)
            while element < block.count && position < range.upperBound {
                if skip == 0 {
                    let whole = min(block.count - element, (range.upperBound - position) / block.length)
                    if whole > 0 {
                        copyElements(
                            base + element * block.stride, stride: block.stride, packed + (position - range.lowerBound), length: block.length,
                            count: whole, packing: packing)
                        position += whole * block.length
                        element += whole
                        continue
                    }
                }
                let length = min(block.length - skip, range.upperBound - position)
                let memory = base + (element * block.stride + skip), buffer = packed + (position - range.lowerBound)
                if packing { buffer.copyMemory(from: memory, byteCount: length) } else { memory.copyMemory(from: buffer, byteCount: length) }
                position += length
                skip = 0
                element += 1
            }
            inBlock = 0
            index += 1
            if index == blockCount {
                index = 0
                instance += 1
            }
        }
    }
}

/// Copies `count` elements of `length` bytes, `stride` apart in memory, to or from consecutive
/// places in `packed`: short lengths (one element of a column or record) as plain loads and stores,
/// longer ones with memcpy — whose call costs more than a short copy.
@inline(__always)
private func copyElements(
    _ memory: UnsafeMutableRawPointer, stride: Int, _ packed: UnsafeMutableRawPointer, length: Int, count: Int, packing: Bool
) {
    @inline(__always)
    func each<Word: BitwiseCopyable>(_ word: Word.Type) {
        let size = MemoryLayout<Word>.size
        if packing {
            for e in 0..<count { packed.storeBytes(of: memory.loadUnaligned(fromByteOffset: e * stride, as: Word.self), toByteOffset: e * size, as: Word.self) }
        } else {
            for e in 0..<count { memory.storeBytes(of: packed.loadUnaligned(fromByteOffset: e * size, as: Word.self), toByteOffset: e * stride, as: Word.self) }
        }
    }
    switch length {
    case 8: each(UInt64.self)
    case 4: each(UInt32.self)
    case 16: each(SIMD2<UInt64>.self)
    case 2: each(UInt16.self)
    case 1: each(UInt8.self)
    default:
        for e in 0..<count {
            if packing {
                (packed + e * length).copyMemory(from: memory + e * stride, byteCount: length)
            } else {
                (memory + e * stride).copyMemory(from: packed + e * length, byteCount: length)
            }
        }
    }
}
