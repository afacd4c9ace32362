/// A description of data in memory — MPI's derived datatype: which bytes, from the start of a
/// buffer, a message is made of, and in which order.
///
/// Build one from a predefined element type (`Datatype(Double.self)`) with the constructors below
/// (MPI_Type_vector, MPI_Type_create_subarray, …); then send, receive, broadcast or pack `count`
/// instances of it from an array, a slice or a buffer. Instances follow each other at ``extent``
/// bytes. All quantities are in bytes unless a parameter says "in elements of `of`".
///
/// Datatypes are values: copy them, share them between threads and tasks, and drop them whenever you
/// like — a request in flight keeps what it uses. (There is no commit step: a datatype is flattened
/// once, when it is created, into the run list every transfer walks.)
///
/// Safety: every call that uses a datatype checks, before anything is sent or written, that the
/// bytes it touches (its true lower bound to its true upper bound, repeated `count` times) lie inside
/// the buffer, and throws `.invalidCount` naming both when they do not. Constructors throw
/// `.invalidDatatype` for negative counts, sizes that overflow and empty field lists.
public struct Datatype: Sendable, CustomStringConvertible {
    let map: TypeMap

    init(_ map: TypeMap) { self.map = map }

    /// Which datatype this is, shared by its copies (the C interface gives them one handle).
    package var identity: ObjectIdentifier { ObjectIdentifier(map) }

    /// The predefined datatype of one `T` (MPI_DOUBLE for `Double`, and so on for any bitwise-copyable
    /// type, including your own structs): `MemoryLayout<T>.stride` bytes, padding included, as array
    /// sends move them.
    public init<T: BitwiseCopyable>(_ type: T.Type) {
        let stride = MemoryLayout<T>.stride
        map = TypeMap(
            blocks: stride == 0 ? [] : [TypeBlock(offset: 0, length: stride, count: 1, stride: 0)],
            lowerBound: 0, upperBound: stride, alignment: MemoryLayout<T>.alignment,
            signature: stride == 0 ? [] : [SignaturePiece(elementSize: stride, count: 1)],
            externalSignature: stride == 0 ? [] : [ExternalPiece(elementSize: stride, count: 1, external: .of(T.self))], summary: "\(T.self)")
    }

    /// The bytes of data in one instance (MPI_Type_size).
    public var size: Int { map.size }
    /// The distance in bytes from one instance to the next in a buffer (MPI_Type_get_extent).
    public var extent: Int { map.extent }
    /// Where an instance begins relative to its origin, in bytes (MPI_Type_get_extent's lb).
    public var lowerBound: Int { map.lowerBound }
    /// The lowest byte any instance's data occupies, relative to its origin (MPI_Type_get_true_extent).
    public var trueLowerBound: Int { map.trueLowerBound }
    /// The bytes from the lowest to one past the highest byte of data in one instance.
    public var trueExtent: Int { map.trueUpperBound - map.trueLowerBound }

    /// The bytes from the origin that `count` instances touch (below 0 for a negative lower bound
    /// or extent); empty for no instances. Throws `.invalidCount` when the range overflows. For the
    /// C interface, whose buffers are a pointer (the origin) and not a bounded span.
    package func footprint(count: Int, _ call: StaticString) throws(MPIError) -> Range<Int> {
        count > 0 ? try TypedRegion.footprint(map, count: count, call) : 0..<0
    }
    /// True when an instance's data is one run of bytes, in type-map order, covering its extent:
    /// consecutive instances are plain bytes (the C interface moves such types without packing; a
    /// type whose size equals its extent is not enough — a transpose permutes its bytes).
    package var isDense: Bool { map.isDense }

    /// True when an instance's data is one run from byte 0, in type-map order, and only padding
    /// follows it up to the extent (a C struct's trailing padding): `count` instances can move as
    /// their `count × extent` bytes, padding included (the C interface's v-forms move MPICH's pair
    /// types, such as MPI_DOUBLE_INT, this way).
    package var isLeadingRun: Bool {
        map.lowerBound == 0 && map.blocks.count == 1 && map.blocks[0].count == 1 && map.blocks[0].offset == 0
    }

    /// The number of primitive elements in one instance.
    public var elementCount: Int { map.elementsPerInstance }

    /// The primitive elements of this type's signature in `bytes` bytes of packed instances, a
    /// last partial instance counted element by element; nil when they end inside an element (the C
    /// interface's MPI_Get_elements on a status it holds; Swift has ``Status/elementCount(of:)``).
    package func elementCount(inBytes bytes: Int) -> Int? { map.elementCount(inBytes: bytes) }

    /// The packed bytes of the first `elements` primitive elements of this type's instances in a
    /// row: the inverse of ``elementCount(inBytes:)`` (the C interface's MPI_Status_set_elements);
    /// nil where that many bytes overflow an Int.
    package func byteCount(ofElements elements: Int) -> Int? { map.byteCount(ofElements: elements) }

    /// How the datatype was built, e.g. "vector(count: 4, blockLength: 1, stride: 8, of: Double)".
    public var description: String { map.summary }

    /// A copy (MPI_Type_dup). Datatypes are values, so this is the datatype itself.
    public func dup() -> Datatype { self }

    // MARK: Constructors

    /// `count` instances of `type`, one after the other (MPI_Type_contiguous).
    public static func contiguous(count: Int, of type: Datatype) throws(MPIError) -> Datatype {
        try check(count: count, "contiguous")
        return try compose(
            "contiguous(count: \(count), of: \(type))", [(0, count, type)], alignToLargestField: false, emptyAlignment: type.map.alignment)
    }

    /// `count` blocks of `blockLength` instances of `type`, block starts `stride` instances of `type`
    /// apart (MPI_Type_vector): a column of a row-major matrix is `vector(count: rows, blockLength: 1,
    /// stride: columns, of: element)`.
    public static func vector(count: Int, blockLength: Int, stride: Int, of type: Datatype) throws(MPIError) -> Datatype {
        let strideBytes = try multiply(stride, type.extent, "vector")
        return try strided(
            count: count, blockLength: blockLength, strideBytes: strideBytes, of: type,
            "vector(count: \(count), blockLength: \(blockLength), stride: \(stride), of: \(type))")
    }

    /// Like ``vector(count:blockLength:stride:of:)`` with the stride in bytes (MPI_Type_create_hvector).
    public static func hvector(count: Int, blockLength: Int, strideBytes: Int, of type: Datatype) throws(MPIError) -> Datatype {
        try strided(
            count: count, blockLength: blockLength, strideBytes: strideBytes, of: type,
            "hvector(count: \(count), blockLength: \(blockLength), strideBytes: \(strideBytes), of: \(type))")
    }

    /// Blocks of `blockLengths[i]` instances of `type` at `displacements[i]` instances of `type` from
    /// the origin, in that order (MPI_Type_indexed).
    public static func indexed(blockLengths: [Int], displacements: [Int], of type: Datatype) throws(MPIError) -> Datatype {
        var bytes: [Int] = []
        for displacement in displacements { bytes.append(try multiply(displacement, type.extent, "indexed")) }
        return try blocks(
            "indexed(blockLengths: \(listed(blockLengths)), displacements: \(listed(displacements)), of: \(type))",
            lengths: blockLengths, displacements: bytes, of: type)
    }

    /// Like ``indexed(blockLengths:displacements:of:)`` with displacements in bytes (MPI_Type_create_hindexed).
    public static func hindexed(blockLengths: [Int], displacementsBytes: [Int], of type: Datatype) throws(MPIError) -> Datatype {
        try blocks(
            "hindexed(blockLengths: \(listed(blockLengths)), displacementsBytes: \(listed(displacementsBytes)), of: \(type))",
            lengths: blockLengths, displacements: displacementsBytes, of: type)
    }

    /// Blocks of `blockLength` instances of `type` at each displacement, in instances of `type`
    /// (MPI_Type_create_indexed_block).
    public static func indexedBlock(blockLength: Int, displacements: [Int], of type: Datatype) throws(MPIError) -> Datatype {
        var bytes: [Int] = []
        for displacement in displacements { bytes.append(try multiply(displacement, type.extent, "indexedBlock")) }
        return try blocks(
            "indexedBlock(blockLength: \(blockLength), displacements: \(listed(displacements)), of: \(type))",
            lengths: Array(repeating: blockLength, count: displacements.count), displacements: bytes, of: type)
    }

    /// Like ``indexedBlock(blockLength:displacements:of:)`` with displacements in bytes
    /// (MPI_Type_create_hindexed_block).
    public static func hindexedBlock(blockLength: Int, displacementsBytes: [Int], of type: Datatype) throws(MPIError) -> Datatype {
        try blocks(
            "hindexedBlock(blockLength: \(blockLength), displacementsBytes: \(listed(displacementsBytes)), of: \(type))",
            lengths: Array(repeating: blockLength, count: displacementsBytes.count), displacements: displacementsBytes, of: type)
    }

    /// A record: `count` instances of each field's type at its byte offset, in the order given
    /// (MPI_Type_create_struct). As in C MPI, the extent is rounded up to the largest alignment of
    /// any field, so an array of records steps like an array of the matching C (or Swift) struct.
    public static func structure(_ fields: [(offset: Int, count: Int, type: Datatype)]) throws(MPIError) -> Datatype {
        guard !fields.isEmpty else { throw MPIError(.invalidDatatype, "structure: no fields (a record needs at least one)") }
        for field in fields { try check(count: field.count, "structure") }
        let summary = "structure([" + fields.map { "(offset: \($0.offset), count: \($0.count), type: \($0.type))" }.joined(separator: ", ") + "])"
        return try compose(summary, fields.map { ($0.offset, $0.count, $0.type) }, alignToLargestField: true)
    }

    /// The same data with its lower bound and extent set, in bytes (MPI_Type_create_resized): e.g.
    /// a column type resized to one element's extent, so that consecutive columns follow each other.
    /// The extent may be negative, as MPI allows: consecutive instances then step backwards (every
    /// buffer check covers the bytes they reach).
    public func resized(lowerBound: Int, extent: Int) throws(MPIError) -> Datatype {
        let (upper, overflow) = lowerBound.addingReportingOverflow(extent)
        guard !overflow else { throw MPIError(.invalidDatatype, "resized: lower bound \(lowerBound) + extent \(extent) overflows") }
        return Datatype(
            TypeMap(
                blocks: map.blocks, lowerBound: lowerBound, upperBound: upper, alignment: map.alignment,
                signature: map.signature, externalSignature: map.externalSignature,
                summary: "\(self).resized(lowerBound: \(lowerBound), extent: \(extent))"))
    }

    // MARK: Building blocks

    static func check(count: Int, _ call: String) throws(MPIError) {
        guard count >= 0 else { throw MPIError(.invalidDatatype, "\(call): negative count \(count)") }
    }

    static func multiply(_ a: Int, _ b: Int, _ call: String) throws(MPIError) -> Int {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        guard !overflow else { throw MPIError(.invalidDatatype, "\(call): \(a) × \(b) bytes overflows") }
        return product
    }

    private static func strided(count: Int, blockLength: Int, strideBytes: Int, of type: Datatype, _ summary: String) throws(MPIError) -> Datatype {
        try check(count: count, summary)
        try check(count: blockLength, summary)
        var fields: [(Int, Int, Datatype)] = []
        // One field per block would be O(count); a block is a contiguous type repeated at the stride.
        let block = try compose("", [(0, blockLength, type)], alignToLargestField: false, emptyAlignment: type.map.alignment)
        if count > 0 && blockLength > 0 { fields = [(0, count, block)] }
        return try compose(summary, fields, alignToLargestField: false, stride: strideBytes, emptyAlignment: type.map.alignment)
    }

    /// A list for a type's summary: up to 8 values, then how many there are in all (an indexed type
    /// of thousands of blocks would otherwise print, and build, all of them).
    static func listed(_ values: [Int]) -> String {
        let shown = values.prefix(8).map(String.init).joined(separator: ", ")
        return values.count > 8 ? "[\(shown), … (\(values.count) in all)]" : "[\(shown)]"
    }

    private static func blocks(_ summary: String, lengths: [Int], displacements: [Int], of type: Datatype) throws(MPIError) -> Datatype {
        guard lengths.count == displacements.count else {
            throw MPIError(.invalidDatatype, "\(summary): \(lengths.count) block lengths but \(displacements.count) displacements")
        }
        for length in lengths { try check(count: length, summary) }
        return try compose(
            summary, zip(displacements, lengths).map { ($0, $1, type) }, alignToLargestField: false, emptyAlignment: type.map.alignment)
    }

    /// The datatype made of `count` consecutive instances of `type` at each byte displacement (for
    /// `stride` non-nil: the single field is repeated `fields[0].count` times at `stride` bytes, each
    /// a whole `type`), with MPI's bounds: the lowest lower bound and highest upper bound of any
    /// non-empty field.
    static func compose(
        _ summary: String, _ fields: [(displacement: Int, count: Int, type: Datatype)], alignToLargestField: Bool,
        stride: Int? = nil, emptyAlignment: Int = 1
    ) throws(MPIError) -> Datatype {
        var builder = BlockBuilder()
        var signature = SignatureBuilder()
        var lower = Int.max, upper = Int.min
        var alignment = emptyAlignment
        var size = 0
        for field in fields where field.count > 0 {
            let map = field.type.map
            let step = stride ?? map.extent
            let reach = try multiply(field.count - 1, step, summary)
            let (fieldLower, o1) = field.displacement.addingReportingOverflow(map.lowerBound + min(0, reach))
            let (fieldUpper, o2) = field.displacement.addingReportingOverflow(map.upperBound + max(0, reach))
            let (fieldSize, o3) = map.size.multipliedReportingOverflow(by: field.count)
            let (total, o4) = size.addingReportingOverflow(fieldSize)
            guard !o1, !o2, !o3, !o4 else { throw MPIError(.invalidDatatype, "\(summary): the type's size or extent overflows") }
            size = total
            lower = min(lower, fieldLower)
            upper = max(upper, fieldUpper)
            alignment = max(alignment, map.alignment)
            do {
                try builder.append(map, at: field.displacement, count: field.count, stride: step)
                try signature.append(map.signature, external: map.externalSignature, times: field.count)
            } catch {
                throw MPIError(.invalidDatatype, "\(summary): \(error.message)")
            }
        }
        if lower == Int.max { (lower, upper) = (0, 0) }
        if alignToLargestField && alignment > 1 {
            let extent = upper - lower
            upper = lower + (extent + alignment - 1) / alignment * alignment
        }
        return Datatype(
            TypeMap(
                blocks: builder.blocks, lowerBound: lower, upperBound: upper, alignment: alignment, signature: signature.pieces,
                externalSignature: signature.externalPieces, summary: summary))
    }
}
