import Testing
@testable import SwiftMPI

/// Every constructor against a type map computed by hand: the byte runs one instance covers, in
/// type-map order (merged where they touch), and MPI's bounds. (Random types against a naive model:
/// the `datatypes` fuzz target, replayed by the corpus test.)
@Suite("derived datatypes: construction")
struct DatatypeTests {
    let double = Datatype(Double.self)
    let int32 = Datatype(Int32.self)

    /// The runs (byte offset, length) of one instance, expanded from the flattened blocks and merged.
    func runs(_ type: Datatype) -> [[Int]] {
        var result: [[Int]] = []
        for block in type.map.blocks {
            for i in 0..<block.count {
                let offset = block.offset + i * block.stride
                if let last = result.last, last[0] + last[1] == offset {
                    result[result.count - 1][1] += block.length
                } else {
                    result.append([offset, block.length])
                }
            }
        }
        return result
    }

    func bounds(_ type: Datatype) -> [Int] { [type.size, type.lowerBound, type.extent, type.trueLowerBound, type.trueExtent] }

    @Test("a predefined type is its element: stride bytes, extent = size")
    func predefined() {
        #expect(runs(double) == [[0, 8]])
        #expect(bounds(double) == [8, 0, 8, 0, 8])
        #expect(double.elementCount == 1)
    }

    @Test("contiguous, vector and hvector: a column of a 4-column matrix is one strided block")
    func vectors() throws {
        #expect(runs(try .contiguous(count: 3, of: double)) == [[0, 24]])
        let column = try Datatype.vector(count: 3, blockLength: 1, stride: 4, of: double)
        #expect(runs(column) == [[0, 8], [32, 8], [64, 8]])
        #expect(column.map.blocks.count == 1)
        #expect(bounds(column) == [24, 0, 72, 0, 72])
        let pairs = try Datatype.vector(count: 2, blockLength: 2, stride: 3, of: int32)
        #expect(runs(pairs) == [[0, 8], [12, 8]])
        #expect(bounds(pairs) == [16, 0, 20, 0, 20])
        let h = try Datatype.hvector(count: 3, blockLength: 1, strideBytes: 32, of: double)
        #expect(runs(h) == runs(column) && bounds(h) == bounds(column))
        let backwards = try Datatype.vector(count: 3, blockLength: 1, stride: -2, of: double)
        #expect(runs(backwards) == [[0, 8], [-16, 8], [-32, 8]])
        #expect(bounds(backwards) == [24, -32, 40, -32, 40])
    }

    @Test("indexed, hindexed, indexedBlock keep type-map order, not address order")
    func indexed() throws {
        let picks = try Datatype.indexed(blockLengths: [2, 1, 3], displacements: [0, 5, 9], of: double)
        #expect(runs(picks) == [[0, 16], [40, 8], [72, 24]])
        #expect(bounds(picks) == [48, 0, 96, 0, 96])
        let reversed = try Datatype.hindexed(blockLengths: [1, 1], displacementsBytes: [16, 0], of: double)
        #expect(runs(reversed) == [[16, 8], [0, 8]])
        let same = try Datatype.indexedBlock(blockLength: 2, displacements: [0, 4, 8], of: double)
        #expect(runs(same) == [[0, 16], [32, 16], [64, 16]] && same.map.blocks.count == 1)
        #expect(bounds(same) == [48, 0, 80, 0, 80])
    }

    @Test("structure: fields in order, extent rounded up to the largest alignment (like a C struct)")
    func structure() throws {
        let record = try Datatype.structure([(offset: 0, count: 1, type: int32), (offset: 8, count: 3, type: double)])
        #expect(runs(record) == [[0, 4], [8, 24]])
        #expect(bounds(record) == [28, 0, 32, 0, 32])
        let padded = try Datatype.structure([(offset: 0, count: 1, type: double), (offset: 8, count: 1, type: int32)])
        #expect(bounds(padded) == [12, 0, 16, 0, 12])
        #expect(padded.map.signature.map { [$0.elementSize, $0.count] } == [[8, 1], [4, 1]])
    }

    @Test("nested: a vector of structures and a subarray of vectors")
    func nested() throws {
        let record = try Datatype.structure([(offset: 0, count: 1, type: int32), (offset: 8, count: 1, type: double)])  // extent 16
        let everyOther = try Datatype.vector(count: 2, blockLength: 1, stride: 2, of: record)
        #expect(runs(everyOther) == [[0, 4], [8, 8], [32, 4], [40, 8]])
        #expect(bounds(everyOther) == [24, 0, 48, 0, 48])
        let pair = try Datatype.vector(count: 2, blockLength: 1, stride: 2, of: int32)  // ints 0 and 2, extent 12
        let block = try Datatype.subarray(sizes: [2, 3], subsizes: [1, 2], starts: [1, 1], of: pair)
        // Row 1, columns 1 and 2 of a 2×3 array of 12-byte elements: elements 4 and 5 at 48 and 60.
        #expect(runs(block) == [[48, 4], [56, 8], [68, 4]])
        #expect(bounds(block) == [16, 0, 72, 48, 24])
    }

    @Test("subarray: row-major and column-major 4×4 blocks of an 8×6 grid")
    func subarray() throws {
        let block = try Datatype.subarray(sizes: [8, 6], subsizes: [4, 4], starts: [2, 2], of: double)
        #expect(runs(block) == (2..<6).map { [($0 * 6 + 2) * 8, 32] })
        #expect(bounds(block) == [128, 0, 384, (2 * 6 + 2) * 8, (3 * 6 + 4) * 8])
        let fortran = try Datatype.subarray(sizes: [8, 6], subsizes: [2, 1], starts: [1, 3], of: double, order: .columnMajor)
        #expect(runs(fortran) == [[(3 * 8 + 1) * 8, 16]])
    }

    @Test("darray: block and cyclic distributions of a 4×6 array over a 2×2 grid")
    func darray() throws {
        // Rank 3 is grid row 1, column 1: rows 2..<4 (blocks of 2) and columns 1, 3, 5 (cyclic(1) over 2).
        let part = try Datatype.darray(
            size: 4, rank: 3, globalSizes: [4, 6], distributions: [.block(), .cyclic()], processGrid: [2, 2], of: double)
        #expect(runs(part) == [2, 3].flatMap { row in [1, 3, 5].map { [(row * 6 + $0) * 8, 8] } })
        #expect(part.lowerBound == 0 && part.extent == 4 * 6 * 8)
        let whole = try Datatype.darray(size: 1, rank: 0, globalSizes: [3], distributions: [.none], processGrid: [1], of: int32)
        #expect(runs(whole) == [[0, 12]])
    }

    @Test("resized sets bounds and keeps the data; dup is the same type")
    func resized() throws {
        let column = try Datatype.vector(count: 4, blockLength: 1, stride: 8, of: double)
        let packed = try column.resized(lowerBound: 0, extent: 8)
        #expect(runs(packed) == runs(column))
        #expect(bounds(packed) == [32, 0, 8, 0, 200])
        #expect(runs(packed.dup()) == runs(packed) && packed.dup().extent == 8)
    }

    @Test("construction refuses negative counts, mismatched lists, empty records and overflow")
    func refusals() {
        func refused(_ build: () throws -> Datatype) -> Bool {
            do {
                _ = try build()
                return false
            } catch let error as MPIError {
                return error.code == .invalidDatatype
            } catch {
                return false
            }
        }
        #expect(refused { try .contiguous(count: -1, of: double) })
        #expect(refused { try .vector(count: 2, blockLength: -1, stride: 2, of: double) })
        #expect(refused { try .indexed(blockLengths: [1, 2], displacements: [0], of: double) })
        #expect(refused { try .structure([]) })
        #expect(refused { try .vector(count: 2, blockLength: 1, stride: Int.max / 4, of: double) })
        #expect(refused { try .contiguous(count: Int.max / 4, of: double) })
        #expect(refused { try .subarray(sizes: [4], subsizes: [3], starts: [2], of: double) })
        #expect(refused { try .darray(size: 3, rank: 0, globalSizes: [4], distributions: [.block()], processGrid: [2], of: double) })
        // A negative extent is MPI's (instances step backwards): made, and checked against the
        // buffer like any other — a second instance would start before the array.
        let backwards = try! double.resized(lowerBound: 0, extent: -8)
        #expect(backwards.extent == -8 && backwards.size == 8)
        var packed = [UInt8](repeating: 0, count: 16)
        var position = 0
        #expect((try? backwards.pack(from: [1.0, 2.0], count: 1, into: &packed, position: &position)) != nil && position == 8)
        position = 0
        #expect(throws: MPIError.self) { try backwards.pack(from: [1.0, 2.0], count: 2, into: &packed, position: &position) }
        // A record of two separate fields repeated 2^40 times would flatten to 2^41 runs: refused at
        // once rather than flattened until memory runs out; the same for signatures that alternate.
        let record = try! Datatype.structure([(offset: 0, count: 1, type: int32), (offset: 8, count: 1, type: double)])
        #expect(refused { try .contiguous(count: 1 << 40, of: record) })
        let packedRecord = try! Datatype.structure([(offset: 0, count: 1, type: int32), (offset: 4, count: 1, type: Datatype(Int16.self))])
        #expect(packedRecord.map.blocks.count == 1 && packedRecord.map.signature.count == 2)
        #expect(refused { try .vector(count: 1 << 40, blockLength: 1, stride: 1, of: packedRecord) })
    }

    @Test("status counts whole instances and primitive elements (MPI_Get_count, MPI_Get_elements)")
    func counts() throws {
        let record = try Datatype.structure([(offset: 0, count: 1, type: int32), (offset: 8, count: 3, type: double)])  // 28 bytes, 4 elements
        #expect(Status(source: 0, tag: 0, byteCount: 56).count(of: record) == 2)
        #expect(Status(source: 0, tag: 0, byteCount: 56 + 12).count(of: record) == nil)
        #expect(Status(source: 0, tag: 0, byteCount: 56 + 12).elementCount(of: record) == 8 + 2)
        #expect(Status(source: 0, tag: 0, byteCount: 56 + 6).elementCount(of: record) == nil)
    }

    @Test("one datatype used by many tasks at once packs the same bytes in each")
    func sharedBetweenTasks() async throws {
        let column = try Datatype.vector(count: 64, blockLength: 1, stride: 64, of: double)
        let grid = (0..<(64 * 64)).map(Double.init)
        let results = try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var bytes = [UInt8](repeating: 0, count: 512)
                    var position = 0
                    try column.pack(from: grid, count: 1, into: &bytes, position: &position)
                    return bytes
                }
            }
            return try await group.reduce(into: [[UInt8]]()) { $0.append($1) }
        }
        #expect(results.count == 8 && Set(results).count == 1)
    }

    @Test("pack and unpack round-trip a column; a short output or a buffer too small is refused, nothing written")
    func packing() throws {
        let grid = (0..<48).map(Double.init)  // 8 × 6
        let column = try Datatype.vector(count: 8, blockLength: 1, stride: 6, of: double)
        var bytes = [UInt8](repeating: 0, count: try column.packSize(count: 1) + 8)
        var position = 8
        try column.pack(from: grid[2...], count: 1, into: &bytes, position: &position)
        #expect(position == 72)
        let values = bytes[8...].withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
        let expected: [Double] = (0..<8).map { Double($0 * 6 + 2) }
        #expect(values == expected)
        var back = [Double](repeating: -1, count: 48)
        position = 8
        try column.unpack(from: bytes, position: &position, into: &back[2...], count: 1)
        let expectedBack: [Double] = (0..<48).map { $0 % 6 == 2 ? Double($0) : -1 }
        #expect(back == expectedBack)
        var small = [UInt8](repeating: 0, count: 63)
        position = 0
        #expect(throws: MPIError.self) { try column.pack(from: grid, count: 1, into: &small, position: &position) }
        #expect(position == 0 && small.allSatisfy { $0 == 0 })
        #expect(throws: MPIError.self) { try column.pack(from: grid[6...], count: 1, into: &bytes, position: &position) }
    }

    @Test("one run per instance (a resized 1-, 3- or 8-byte element): packed and unpacked in pieces that start and end inside instances")
    func packingOneRunPerInstance() throws {
        for length in [1, 3, 8] {
            let type = try Datatype.contiguous(count: length, of: Datatype(UInt8.self)).resized(lowerBound: 0, extent: length + 2)
            let count = 7, extent = length + 2
            var memory = (0..<(count * extent)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 1) }
            let expected = (0..<count).flatMap { memory[($0 * extent)..<($0 * extent + length)] }
            // Pieces of 5 bytes: they start and end inside instances for every length but 1.
            let cuts = Array(stride(from: 0, to: count * length, by: 5)) + [count * length]
            var packed = [UInt8](repeating: 0, count: count * length)
            memory.withUnsafeMutableBytes { raw in
                let region = TypedRegion(unchecked: raw.baseAddress, map: type.map, count: count)
                packed.withUnsafeMutableBytes { out in
                    for (low, high) in zip(cuts, cuts.dropFirst()) { region.pack(low..<high, into: out.baseAddress! + low) }
                }
            }
            #expect(packed == expected, "packing \(length)-byte instances")
            var back = [UInt8](repeating: 0xEE, count: count * extent)
            back.withUnsafeMutableBytes { raw in
                let region = TypedRegion(unchecked: raw.baseAddress, map: type.map, count: count)
                packed.withUnsafeBytes { source in
                    for (low, high) in zip(cuts, cuts.dropFirst()) { region.unpack(low..<high, from: source.baseAddress! + low) }
                }
            }
            let expectedBack = (0..<(count * extent)).map { $0 % extent < length ? memory[$0] : 0xEE }
            #expect(back == expectedBack, "unpacking \(length)-byte instances, the gaps untouched")
        }
    }

    @Test("external32 packing: each element big-endian in its external size, round-tripped; a type without an external form refused")
    func external32() throws {
        struct Record {
            var id: Int32
            var weight: Double
            var flag: Bool
            var count: UInt16
        }
        let fields = try Datatype.structure([
            (offset: MemoryLayout<Record>.offset(of: \.id)!, count: 1, type: int32),
            (offset: MemoryLayout<Record>.offset(of: \.weight)!, count: 1, type: double),
            (offset: MemoryLayout<Record>.offset(of: \.flag)!, count: 1, type: Datatype(Bool.self)),
            (offset: MemoryLayout<Record>.offset(of: \.count)!, count: 1, type: Datatype(UInt16.self))
        ])
        let records = [Record(id: 0x0102_0304, weight: -2.5, flag: true, count: 0xABCD), Record(id: -1, weight: 1, flag: false, count: 7)]
        #expect(try fields.externalPackSize(count: 2) == 2 * 15)
        var bytes = [UInt8](repeating: 0, count: 32)
        var position = 1
        try fields.packExternal(from: records, count: 2, into: &bytes, position: &position)
        #expect(position == 31)
        #expect(Array(bytes[1..<16]) == [1, 2, 3, 4, 0xC0, 0x04, 0, 0, 0, 0, 0, 0, 1, 0xAB, 0xCD])
        #expect(Array(bytes[16..<20]) == [0xFF, 0xFF, 0xFF, 0xFF])
        var back = [Record](repeating: Record(id: 0, weight: 0, flag: false, count: 0), count: 2)
        position = 1
        try fields.unpackExternal(from: bytes, position: &position, into: &back, count: 2)
        #expect(position == 31 && back[0].id == 0x0102_0304 && back[0].weight == -2.5 && back[0].flag && back[0].count == 0xABCD)
        #expect(back[1].id == -1 && back[1].weight == 1 && !back[1].flag && back[1].count == 7)
        // A program's own struct as one element: SwiftMPI does not know its fields.
        let opaque = Datatype(Record.self)
        #expect(throws: MPIError.self) { try opaque.externalPackSize(count: 1) }
        position = 0
        #expect(throws: MPIError.self) { try opaque.packExternal(from: records, count: 1, into: &bytes, position: &position) }
        // Elements of one size but different kinds (a float-int pair) stay one run of the signature,
        // so millions of instances are still a datatype; external32 keeps their kinds up to a limit.
        let pair = try Datatype.structure([(offset: 0, count: 1, type: Datatype(Float.self)), (offset: 4, count: 1, type: int32)])
        let many = try Datatype.contiguous(count: 3_000_000, of: pair)
        #expect(many.map.signature.count == 1 && many.size == 24_000_000)
        #expect(throws: MPIError.self) { try many.externalPackSize(count: 1) }
        #expect(try Datatype.contiguous(count: 1000, of: pair).externalPackSize(count: 1) == 8000)
        // Too little room: nothing written.
        var small = [UInt8](repeating: 0, count: 20)
        position = 0
        #expect(throws: MPIError.self) { try fields.packExternal(from: records, count: 2, into: &small, position: &position) }
        #expect(position == 0 && small.allSatisfy { $0 == 0 })
    }
}
