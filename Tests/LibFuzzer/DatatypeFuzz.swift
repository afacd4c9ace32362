// The `datatypes` target: random derived datatypes, built from the input's bytes, checked against a
// naive model that expands MPI's definitions element by element.
import SwiftMPI

/// A type map the slow way: every primitive element (byte offset, size) in order, and the bounds by
/// MPI's definitions.
struct NaiveType {
    var entries: [(offset: Int, size: Int)]
    var lowerBound: Int
    var upperBound: Int
    var alignment: Int

    var extent: Int { upperBound - lowerBound }

    static func primitive(size: Int, alignment: Int) -> NaiveType {
        NaiveType(entries: [(0, size)], lowerBound: 0, upperBound: size, alignment: alignment)
    }

    /// Copies of `type` at each displacement, in order; bounds over the copies that exist.
    static func copies(of type: NaiveType, at displacements: [Int], alignment: Int) -> NaiveType {
        var result = NaiveType(entries: [], lowerBound: 0, upperBound: 0, alignment: alignment)
        var lower = Int.max, upper = Int.min
        for displacement in displacements {
            result.entries += type.entries.map { ($0.offset + displacement, $0.size) }
            lower = min(lower, displacement + type.lowerBound)
            upper = max(upper, displacement + type.upperBound)
        }
        if lower != Int.max { (result.lowerBound, result.upperBound) = (lower, upper) }
        return result
    }
}

/// Reads the input a byte at a time (zeros once it runs out).
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    mutating func next() -> Int {
        defer { index += 1 }
        return index < bytes.count ? Int(bytes[index]) : 0
    }

    mutating func next(in range: ClosedRange<Int>) -> Int { range.lowerBound + next() % range.count }
}

/// Builds a random datatype and its model, at most `depth` constructors deep.
func randomDatatype(_ reader: inout ByteReader, depth: Int) throws -> (Datatype, NaiveType) {
    let choice = depth == 0 ? 0 : reader.next() % 10
    switch choice {
    case 1:
        let (inner, model) = try randomDatatype(&reader, depth: depth - 1)
        let count = reader.next(in: 0...3)
        return (
            try .contiguous(count: count, of: inner),
            .copies(of: model, at: (0..<count).map { $0 * model.extent }, alignment: model.alignment)
        )
    case 2, 3:
        let (inner, model) = try randomDatatype(&reader, depth: depth - 1)
        let count = reader.next(in: 0...3), blockLength = reader.next(in: 0...2)
        let type: Datatype, strideBytes: Int
        if choice == 2 {
            let stride = reader.next(in: -3...4)
            (type, strideBytes) = (try .vector(count: count, blockLength: blockLength, stride: stride, of: inner), stride * model.extent)
        } else {
            strideBytes = reader.next(in: -16...31)
            type = try .hvector(count: count, blockLength: blockLength, strideBytes: strideBytes, of: inner)
        }
        let displacements = (0..<count).flatMap { i in (0..<blockLength).map { i * strideBytes + $0 * model.extent } }
        return (type, .copies(of: model, at: displacements, alignment: model.alignment))
    case 4, 5, 6:
        let (inner, model) = try randomDatatype(&reader, depth: depth - 1)
        let blocks = reader.next(in: 0...3)
        let sameLength = reader.next(in: 0...2)
        let lengths = (0..<blocks).map { _ in choice == 6 ? sameLength : reader.next(in: 0...2) }
        let inBytes = choice == 5
        let displacements = (0..<blocks).map { _ in inBytes ? reader.next(in: -8...40) : reader.next(in: -2...6) }
        let type: Datatype =
            switch choice {
            case 4: try .indexed(blockLengths: lengths, displacements: displacements, of: inner)
            case 5: try .hindexed(blockLengths: lengths, displacementsBytes: displacements, of: inner)
            default: try .indexedBlock(blockLength: sameLength, displacements: displacements, of: inner)
            }
        let bytes = inBytes ? displacements : displacements.map { $0 * model.extent }
        let all = zip(bytes, lengths).flatMap { start, length in (0..<length).map { start + $0 * model.extent } }
        return (type, .copies(of: model, at: all, alignment: model.alignment))
    case 7:
        let fieldCount = reader.next(in: 1...3)
        var fields: [(offset: Int, count: Int, type: Datatype)] = []
        var model = NaiveType(entries: [], lowerBound: 0, upperBound: 0, alignment: 1)
        var lower = Int.max, upper = Int.min
        for _ in 0..<fieldCount {
            let (inner, innerModel) = try randomDatatype(&reader, depth: depth - 1)
            let offset = reader.next(in: 0...40), count = reader.next(in: 0...2)
            fields.append((offset, count, inner))
            let part = NaiveType.copies(of: innerModel, at: (0..<count).map { offset + $0 * innerModel.extent }, alignment: 1)
            model.entries += part.entries
            if count > 0 {
                lower = min(lower, part.lowerBound)
                upper = max(upper, part.upperBound)
                model.alignment = max(model.alignment, innerModel.alignment)
            }
        }
        if lower != Int.max { (model.lowerBound, model.upperBound) = (lower, upper) }
        let a = model.alignment
        model.upperBound = model.lowerBound + (model.extent + a - 1) / a * a
        return (try .structure(fields), model)
    case 8:
        let (inner, model) = try randomDatatype(&reader, depth: depth - 1)
        let lower = reader.next(in: -8...8), extent = reader.next(in: 0...40)
        return (
            try inner.resized(lowerBound: lower, extent: extent),
            NaiveType(entries: model.entries, lowerBound: lower, upperBound: lower + extent, alignment: model.alignment)
        )
    case 9:
        let (inner, model) = try randomDatatype(&reader, depth: depth - 1)
        let sizes = [reader.next(in: 1...4), reader.next(in: 1...4)]
        let subsizes = sizes.map { reader.next(in: 0...$0) }
        let starts = zip(sizes, subsizes).map { size, sub in reader.next(in: 0...(size - sub)) }
        let displacements = (0..<subsizes[0]).flatMap { i in
            (0..<subsizes[1]).map { j in ((starts[0] + i) * sizes[1] + starts[1] + j) * model.extent }
        }
        var result = NaiveType.copies(of: model, at: displacements, alignment: model.alignment)
        (result.lowerBound, result.upperBound) = (0, sizes[0] * sizes[1] * model.extent)
        return (try .subarray(sizes: sizes, subsizes: subsizes, starts: starts, of: inner), result)
    default:
        switch reader.next() % 4 {
        case 0: return (Datatype(UInt8.self), .primitive(size: 1, alignment: 1))
        case 1: return (Datatype(Int16.self), .primitive(size: 2, alignment: 2))
        case 2: return (Datatype(Int32.self), .primitive(size: 4, alignment: 4))
        default: return (Datatype(Double.self), .primitive(size: 8, alignment: 8))
        }
    }
}

/// A random datatype agrees with its model: size, bounds, true bounds, and what it packs from a
/// buffer of distinct bytes; unpacking what it packed writes back the same bytes; a buffer one byte
/// too short is refused with `.invalidCount`.
func datatypes(_ input: UnsafeRawBufferPointer) {
    var reader = ByteReader(bytes: input)
    let depth = reader.next(in: 0...3)
    guard let (type, model) = try? randomDatatype(&reader, depth: depth) else { fatalError("datatypes: a valid construction threw") }
    let count = reader.next(in: 0...3)
    let size = model.entries.reduce(0) { $0 + $1.size }
    func fail(_ what: String) -> Never { fatalError("datatypes: \(type): \(what)") }
    if type.size != size { fail("size \(type.size), expected \(size)") }
    if type.lowerBound != model.lowerBound || type.extent != model.extent {
        fail("bounds \(type.lowerBound)+\(type.extent), expected \(model.lowerBound)+\(model.extent)")
    }
    let low = model.entries.map(\.offset).min() ?? 0
    let high = model.entries.map { $0.offset + $0.size }.max() ?? 0
    if size > 0 && (type.trueLowerBound != low || type.trueExtent != high - low) {
        fail("true bounds \(type.trueLowerBound)+\(type.trueExtent), expected \(low)+\(high - low)")
    }
    // A buffer's first byte is the datatype's origin (there is nothing before it to reach), so
    // instances reaching below it are refused.
    let reach = (count - 1) * model.extent
    let first = low + min(0, reach), last = high + max(0, reach)
    let source = (0..<max(last, 0)).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
    var packed = [UInt8](repeating: 0, count: (try? type.packSize(count: count)) ?? -1)
    var position = 0
    if size > 0 && count > 0 && first < 0 {
        expectInvalidCount("a footprint below the origin") { try type.pack(from: source, count: count, into: &packed, position: &position) }
        return
    }
    var expected: [UInt8] = []
    for instance in 0..<count {
        for entry in model.entries {
            let start = instance * model.extent + entry.offset
            expected += source[start..<(start + entry.size)]
        }
    }
    do {
        try type.pack(from: source, count: count, into: &packed, position: &position)
    } catch {
        fail("pack threw \(error)")
    }
    if packed != expected || position != expected.count { fail("packed \(packed), expected \(expected)") }
    var restored = [UInt8](repeating: 0, count: source.count)
    position = 0
    do {
        try type.unpack(from: packed, position: &position, into: &restored, count: count)
    } catch {
        fail("unpack threw \(error)")
    }
    var repacked = [UInt8](repeating: 0, count: packed.count)
    position = 0
    try? type.pack(from: restored, count: count, into: &repacked, position: &position)
    if repacked != packed { fail("unpack then pack gave \(repacked), expected \(packed)") }
    if size > 0 && count > 0 {
        position = 0
        expectInvalidCount("a buffer one byte short") { try type.pack(from: source.dropLast(), count: count, into: &packed, position: &position) }
    }

    func expectInvalidCount(_ what: String, _ body: () throws -> Void) {
        do {
            try body()
            fail("\(what) was accepted")
        } catch let error as MPIError where error.code == .invalidCount {
        } catch {
            fail("\(what) threw \(error)")
        }
    }
}

/// Deterministic pseudo-random inputs: the seeds the corpus test replays (thousands of datatypes).
func datatypeSeeds() -> [[UInt8]] {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    return (0..<3000).map { _ in
        (0..<64).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }
}
