import Testing

@testable import SwiftMPI

/// The binary encoding of `Codable` values (`send(object:)`, `bcast(object:)`, …): round trips of
/// every kind of value, its size next to JSON's, and malformed bytes that must throw, not crash.
@Suite("compact encoding of Codable values")
struct CompactCodingTests {
    enum Shape: Codable, Equatable {
        case circle(radius: Double)
        case polygon([Point])
        case empty
    }
    struct Point: Codable, Equatable {
        var x: Float
        var y: Float
    }
    struct Record: Codable, Equatable {
        var name: String
        var id: UInt64
        var offset: Int8
        var weights: [Double]
        var labels: [String: Int]
        var parent: Int?
        var missing: String?
        var shapes: [Shape]
        var nested: [[Int16]]
        var flag: Bool
    }

    func roundTrip<Value: Codable & Equatable>(_ value: Value) throws -> [UInt8] {
        let bytes = try CompactEncoder.encode(value)
        let decoded = try bytes.withUnsafeBytes { try CompactDecoder.decode(Value.self, from: $0) }
        #expect(decoded == value)
        return bytes
    }

    @Test("structs, enums with payloads, optionals, dictionaries, nested arrays and extreme integers round-trip")
    func roundTrips() throws {
        let record = Record(
            name: "grid ✓", id: .max, offset: -128, weights: [0, -1.5, .infinity, .leastNonzeroMagnitude], labels: ["a": -1, "b": .max],
            parent: .min, missing: nil, shapes: [.circle(radius: 2), .polygon([Point(x: 1, y: -2)]), .empty], nested: [[], [1, -2, .min]],
            flag: true)
        _ = try roundTrip(record)
        _ = try roundTrip(42)
        _ = try roundTrip("")
        _ = try roundTrip([Int?]([1, nil, 3]))
        _ = try roundTrip([String: [Double]]())
        let nan = try CompactEncoder.encode(Double.nan)
        #expect(try nan.withUnsafeBytes { try CompactDecoder.decode(Double.self, from: $0) }.isNaN)
    }

    @Test("a [Double] takes 9 bytes per element plus a few (JSON about twice that); small integers 2 bytes")
    func compact() throws {
        let values = (0..<1000).map { Double($0) * 1.25e-3 }
        let bytes = try roundTrip(values)
        #expect(bytes.count <= 9 * 1000 + 4)
        #expect(try roundTrip(5).count == 2)
        #expect(try roundTrip(-64).count == 2)
    }

    @Test("a value of another type, or out of range, throws a DecodingError")
    func mismatches() throws {
        let bytes = try CompactEncoder.encode(
            Record(name: "x", id: 1, offset: 0, weights: [], labels: [:], parent: nil, missing: nil, shapes: [], nested: [], flag: false))
        #expect(throws: DecodingError.self) { try bytes.withUnsafeBytes { try CompactDecoder.decode([Int].self, from: $0) } }
        let big = try CompactEncoder.encode(300)
        #expect(throws: DecodingError.self) { try big.withUnsafeBytes { try CompactDecoder.decode(UInt8.self, from: $0) } }
        let negative = try CompactEncoder.encode(-1)
        #expect(throws: DecodingError.self) { try negative.withUnsafeBytes { try CompactDecoder.decode(UInt.self, from: $0) } }
    }

    @Test("malformed bytes throw: cut short, unknown tags, counts beyond the data, trailing bytes, 100 000 nested containers")
    func malformed() throws {
        let good = try CompactEncoder.encode(["alpha": [1.0, 2.0], "beta": [3.0]])
        for cut in 0..<good.count {
            #expect(throws: DecodingError.self) { try Array(good[0..<cut]).withUnsafeBytes { try CompactDecoder.decode([String: [Double]].self, from: $0) } }
        }
        let cases: [[UInt8]] = [
            [42],  // unknown tag
            [8, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F],  // an unkeyed count far beyond the bytes
            [7, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],  // a varint longer than 64 bits
            [3, 2, 0],  // a trailing byte
            [UInt8](repeating: 8, count: 200_000).enumerated().map { $0.offset % 2 == 0 ? 8 : 1 }  // nested far too deep
        ]
        for bytes in cases {
            #expect(throws: DecodingError.self) { try bytes.withUnsafeBytes { try CompactDecoder.decode([[Int]].self, from: $0) } }
        }
        // Random bytes never crash the decoder (each either decodes or throws).
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2000 {
            let length = Int(state % 64)
            let bytes = (0..<length).map { _ in
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                return UInt8(truncatingIfNeeded: state % 11)  // mostly valid tags
            }
            _ = try? bytes.withUnsafeBytes { try CompactDecoder.decode(Record.self, from: $0) }
            _ = try? bytes.withUnsafeBytes { try CompactDecoder.decode([Shape].self, from: $0) }
        }
    }
}
