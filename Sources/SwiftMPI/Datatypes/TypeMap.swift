/// One piece of a flattened type map: `count` runs of `length` contiguous bytes, the first at
/// `offset` from the datatype's origin and each next one `stride` bytes further. A vector is one
/// block; an indexed type is one block per distinct run.
struct TypeBlock: Equatable, BitwiseCopyable {
    var offset: Int
    var length: Int
    var count: Int
    var stride: Int

    /// The lowest and one-past-highest byte the block touches.
    var span: (low: Int, high: Int) {
        let last = offset + (count - 1) * stride
        return (min(offset, last), max(offset, last) + length)
    }
}

/// A run of `count` primitive elements of `elementSize` bytes in a type signature.
struct SignaturePiece: Equatable {
    var elementSize: Int
    var count: Int
}

/// A run of `count` primitive elements of `elementSize` bytes, each written as `external` says in
/// MPI's portable representation (Datatype+External32.swift).
struct ExternalPiece: Equatable {
    var elementSize: Int
    var count: Int
    var external: ExternalRepresentation
}

/// A datatype flattened once, at creation: what the engine, the transports and pack/unpack walk.
///
/// `blocks` lists the data in type-map order (the order MPI packs it in), merged where runs touch
/// and compressed where equal runs repeat at a fixed stride, so a vector of any count is one block
/// and nested types are never re-walked per message. `blockEnds[i]` is the packed size of blocks
/// `0...i`, so a position in the packed stream is found by binary search.
///
/// Immutable after creation, so it is shared freely between threads and between requests in flight
/// (a `Datatype` holds it; a request holds it as long as it uses it). `@unchecked Sendable` for
/// `blockStorage` alone: it is written once, in `init`, read only after, and freed in `deinit`.
final class TypeMap: @unchecked Sendable {
    let blocks: [TypeBlock]
    /// A copy of `blocks` at an address that stays put while the map lives: a rendezvous offer
    /// hands it to the receiver, which reads it from this process's memory (Engine+Typed).
    let blockStorage: UnsafeMutablePointer<TypeBlock>
    let blockEnds: [Int]
    /// The bytes of data in one instance (MPI_Type_size).
    let size: Int
    /// MPI's lower and upper bound (the resized bounds, or the data's bounds with struct alignment).
    let lowerBound: Int
    let upperBound: Int
    /// The bounds of the data alone (MPI_Type_get_true_extent).
    let trueLowerBound: Int
    let trueUpperBound: Int
    /// The largest alignment of any primitive inside (struct extents are rounded up to it).
    let alignment: Int
    /// The primitive elements of one instance, in order, run-length encoded by size.
    let signature: [SignaturePiece]
    /// The same elements with their external32 forms, run-length encoded by size and form; nil when
    /// their forms alternate more than ``SignatureBuilder/externalLimit`` times (external32 packing
    /// then refuses the type). Kept apart from `signature`, whose runs of one size it would split.
    let externalSignature: [ExternalPiece]?
    /// How the type was built, for error messages ("vector(count: 4, blockLength: 1, stride: 8, of: Double)").
    let summary: String
    /// True when `count` instances from the origin are the single byte range starting at
    /// `blocks[0].offset`: the data fills its extent with no gap (a predefined type, a contiguous
    /// type of one). Such data is sent as plain bytes. Stored: typed calls ask on every message.
    let isDense: Bool
    /// The size of every primitive element when they are all one size, else 0.
    let uniformElementSize: Int

    init(
        blocks: [TypeBlock], lowerBound: Int, upperBound: Int, alignment: Int, signature: [SignaturePiece],
        externalSignature: [ExternalPiece]?, summary: String
    ) {
        self.blocks = blocks
        blockStorage = .allocate(capacity: max(blocks.count, 1))
        blockStorage.initialize(from: blocks, count: blocks.count)
        var ends: [Int] = []
        ends.reserveCapacity(blocks.count)
        var total = 0
        var low = Int.max, high = Int.min
        for block in blocks {
            total += block.length * block.count
            ends.append(total)
            let span = block.span
            low = min(low, span.low)
            high = max(high, span.high)
        }
        self.blockEnds = ends
        self.size = total
        self.lowerBound = lowerBound
        self.upperBound = upperBound
        self.trueLowerBound = blocks.isEmpty ? 0 : low
        self.trueUpperBound = blocks.isEmpty ? 0 : high
        self.alignment = alignment
        self.signature = signature
        self.externalSignature = externalSignature
        self.summary = summary
        self.isDense = blocks.count == 1 && blocks[0].count == 1 && blocks[0].length == upperBound - lowerBound
        self.uniformElementSize = signature.count == 1 ? signature[0].elementSize : 0
    }

    deinit { blockStorage.deallocate() }

    /// MPI's extent: the distance between consecutive instances in a buffer.
    var extent: Int { upperBound - lowerBound }

    /// The average bytes of one contiguous run of data (how well scattered copies pay off).
    var averageRunLength: Int {
        let runs = blocks.reduce(0) { $0 + $1.count }
        return runs == 0 ? 0 : size / runs
    }

    /// The number of primitive elements in one instance.
    var elementsPerInstance: Int { signature.reduce(0) { $0 + $1.count } }

    /// The primitive elements in `bytes` bytes of packed instances, or nil when they end inside an
    /// element (MPI_Get_elements; also how a receive sees a signature mismatch).
    func elementCount(inBytes bytes: Int) -> Int? {
        guard size > 0 else { return 0 }
        let whole = bytes / size
        var rest = bytes - whole * size
        var elements = whole * elementsPerInstance
        for piece in signature where rest > 0 {
            let taken = min(piece.count, rest / piece.elementSize)
            elements += taken
            rest -= taken * piece.elementSize
            if taken < piece.count { break }
        }
        return rest == 0 ? elements : nil
    }

    /// The packed bytes of the first `elements` primitive elements of instances in a row (the
    /// inverse of ``elementCount(inBytes:)``; MPI_Status_set_elements); nil where that overflows.
    func byteCount(ofElements elements: Int) -> Int? {
        let perInstance = elementsPerInstance
        guard perInstance > 0 else { return 0 }
        var rest = elements % perInstance
        var partial = 0  // the bytes of a last, partial instance (fewer than `size`)
        for piece in signature where rest > 0 {
            let taken = min(piece.count, rest)
            partial += taken * piece.elementSize
            rest -= taken
        }
        let (whole, overflow) = (elements / perInstance).multipliedReportingOverflow(by: size)
        let (bytes, overflowAgain) = whole.addingReportingOverflow(partial)
        return overflow || overflowAgain ? nil : bytes
    }

    /// The block holding packed position `position` (0 ≤ position < size) and where that block starts.
    @inline(__always)
    func block(containing position: Int) -> (index: Int, start: Int) {
        var low = 0, high = blockEnds.count - 1
        while low < high {
            let middle = (low + high) / 2
            if blockEnds[middle] > position { high = middle } else { low = middle + 1 }
        }
        return (low, low == 0 ? 0 : blockEnds[low - 1])
    }

    /// Calls `body(address, length, packedPosition)` for every contiguous run of the packed bytes
    /// `range` of `count` instances whose origin is at address `origin` (an address in this or in
    /// another process: nothing is dereferenced here). Stops early when `body` returns false.
    @inline(__always)
    func forEachRun(origin: Int, count: Int, range: Range<Int>, _ body: (Int, Int, Int) -> Bool) {
        guard size > 0, !range.isEmpty else { return }
        var position = range.lowerBound
        var instance = position / size
        var (index, blockStart) = block(containing: position - instance * size)
        var inBlock = position - instance * size - blockStart
        let extent = self.extent
        while position < range.upperBound && instance < count {
            let block = blocks[index]
            var element = inBlock / block.length
            var skip = inBlock - element * block.length
            let base = origin &+ instance &* extent &+ block.offset
            while element < block.count && position < range.upperBound {
                let length = min(block.length - skip, range.upperBound - position)
                if !body(base &+ element &* block.stride &+ skip, length, position) { return }
                position += length
                skip = 0
                element += 1
            }
            inBlock = 0
            index += 1
            if index == blocks.count {
                index = 0
                instance += 1
            }
        }
    }
}

/// Builds a block list in type-map order, merging as it goes (see ``TypeMap``).
struct BlockBuilder {
    private(set) var blocks: [TypeBlock] = []

    mutating func append(_ block: TypeBlock) {
        guard block.count > 0, block.length > 0 else { return }
        var block = block
        if block.count > 1 && block.stride == block.length {  // equal runs that touch: one run
            block = TypeBlock(offset: block.offset, length: block.length * block.count, count: 1, stride: 0)
        }
        guard var last = blocks.last else {
            blocks.append(block)
            return
        }
        if last.count == 1 && block.count == 1 && last.offset + last.length == block.offset {
            last.length += block.length
        } else if block.count == 1 && last.length == block.length && last.count > 1
            && block.offset == last.offset + last.count * last.stride
        {
            last.count += 1
        } else if block.count == 1 && last.count == 1 && last.length == block.length && block.offset != last.offset {
            last.stride = block.offset - last.offset
            last.count = 2
        } else if block.count > 1 && last.count > 1 && last.length == block.length && last.stride == block.stride
            && block.offset == last.offset + last.count * last.stride
        {
            last.count += block.count
        } else {
            blocks.append(block)
            return
        }
        blocks[blocks.count - 1] = last
    }

    /// The most runs a flattened block list or signature may hold (~128 MiB of blocks): a type
    /// that would need more — a record of several fields repeated a billion times — is refused
    /// instead of flattened until memory runs out.
    static let maxRuns = 1 << 22

    /// Appends `count` copies of `map`'s blocks, the first at `displacement` and each next `stride`
    /// bytes further. Throws (a bare message) when the copies would pass ``maxRuns``.
    mutating func append(_ map: TypeMap, at displacement: Int, count: Int, stride: Int) throws(MPIError) {
        guard count > 0 else { return }
        if map.blocks.count == 1 {
            let only = map.blocks[0]
            if only.count == 1 {
                append(TypeBlock(offset: displacement + only.offset, length: only.length, count: count, stride: stride))
                return
            }
            if only.count * only.stride == stride {  // the repetition continues the block's own stride
                append(TypeBlock(offset: displacement + only.offset, length: only.length, count: only.count * count, stride: only.stride))
                return
            }
        }
        let (runs, overflow) = count.multipliedReportingOverflow(by: map.blocks.count)
        guard !overflow, blocks.count + runs <= Self.maxRuns else {
            throw MPIError(.invalidDatatype, "it flattens to more than \(Self.maxRuns) separate runs of data")
        }
        for copy in 0..<count {
            for block in map.blocks {
                var moved = block
                moved.offset += displacement + copy * stride
                append(moved)
            }
        }
    }
}

/// Builds a signature, merging neighbours of one element size, and its external32 forms alongside.
struct SignatureBuilder {
    private(set) var pieces: [SignaturePiece] = []
    private(set) var externalPieces: [ExternalPiece]? = []
    /// The most runs an external signature keeps (its elements' forms alternating, as in many
    /// instances of a float-int pair); beyond, the type has none.
    static let externalLimit = 1 << 16

    mutating func append(_ signature: [SignaturePiece], external: [ExternalPiece]?, times: Int) throws(MPIError) {
        guard times > 0 else { return }
        appendExternal(external, times: times)
        if signature.count == 1 {
            append(SignaturePiece(elementSize: signature[0].elementSize, count: signature[0].count * times))
            return
        }
        let (pieces, overflow) = times.multipliedReportingOverflow(by: signature.count)
        guard !overflow, self.pieces.count + pieces <= BlockBuilder.maxRuns else {
            throw MPIError(.invalidDatatype, "its signature alternates element sizes more than \(BlockBuilder.maxRuns) times")
        }
        for _ in 0..<times { for piece in signature { append(piece) } }
    }

    private mutating func append(_ piece: SignaturePiece) {
        guard piece.count > 0 else { return }
        if let last = pieces.last, last.elementSize == piece.elementSize {
            pieces[pieces.count - 1].count += piece.count
        } else {
            pieces.append(piece)
        }
    }

    private mutating func appendExternal(_ external: [ExternalPiece]?, times: Int) {
        guard var built = externalPieces, let external else {
            externalPieces = nil
            return
        }
        externalPieces = nil  // (so `built` is the array's only reference, changed in place)
        func add(_ piece: ExternalPiece) {
            guard piece.count > 0 else { return }
            if let last = built.last, last.elementSize == piece.elementSize, last.external == piece.external {
                built[built.count - 1].count += piece.count
            } else {
                built.append(piece)
            }
        }
        if external.count == 1 {
            var piece = external[0]
            piece.count *= times  // (as the signature's: the type's size, checked first, bounds it)
            add(piece)
        } else {
            let (runs, overflow) = times.multipliedReportingOverflow(by: external.count)
            guard !overflow, built.count + runs <= Self.externalLimit else { return }  // none
            for _ in 0..<times { for piece in external { add(piece) } }
        }
        externalPieces = built
    }
}
