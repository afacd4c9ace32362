/// The binary encoding of `Codable` values that SwiftMPI sends (`send(object:)`, `bcast(object:)`,
/// …): compact, self-describing, and the same on every platform SwiftMPI runs on.
///
/// Each value is one tag byte and its payload: nil (0), false (1), true (2), a signed integer as a
/// zigzag LEB128 varint (3), an unsigned one as a varint (4), Float (5) and Double (6) as 4 and 8
/// little-endian bytes, a string as a varint byte count and UTF-8 (7), an unkeyed container as a
/// varint count and its values (8), a keyed one as a varint count and (string key, value) pairs
/// (9). A `[Double]` of n elements takes 9 n + ~3 bytes (JSON: ~18 n), an `Int` 2–11 bytes.
enum CompactCoding {
    enum Tag: UInt8 {
        case null = 0, no, yes, signed, unsigned, float, double, string, unkeyed, keyed
    }
}

/// Encodes `Encodable` values into ``CompactCoding``'s bytes.
struct CompactEncoder {
    /// The bytes of `value`. Throws `EncodingError` when the value's `encode(to:)` does.
    static func encode<Value: Encodable>(_ value: Value) throws -> [UInt8] {
        let root = EncodedSlot()
        try value.encode(to: CompactEncoding(slot: root, codingPath: []))
        var bytes: [UInt8] = []
        root.write(into: &bytes)
        return bytes
    }
}

/// One value being encoded (containers fill theirs after they are made, hence references).
final class EncodedSlot {
    enum Value {
        case null, bool(Bool), signed(Int64), unsigned(UInt64), float(Float), double(Double), string(String)
        case unkeyed(EncodedList), keyed(EncodedObject)
    }
    var value = Value.null

    func write(into bytes: inout [UInt8]) {
        switch value {
        case .null: bytes.append(CompactCoding.Tag.null.rawValue)
        case .bool(let flag): bytes.append(flag ? CompactCoding.Tag.yes.rawValue : CompactCoding.Tag.no.rawValue)
        case .signed(let number):
            bytes.append(CompactCoding.Tag.signed.rawValue)
            writeVarint(UInt64(bitPattern: (number << 1) ^ (number >> 63)), into: &bytes)
        case .unsigned(let number):
            bytes.append(CompactCoding.Tag.unsigned.rawValue)
            writeVarint(number, into: &bytes)
        case .float(let number):
            bytes.append(CompactCoding.Tag.float.rawValue)
            withUnsafeBytes(of: number.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        case .double(let number):
            bytes.append(CompactCoding.Tag.double.rawValue)
            withUnsafeBytes(of: number.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        case .string(let text):
            bytes.append(CompactCoding.Tag.string.rawValue)
            writeString(text, into: &bytes)
        case .unkeyed(let list):
            bytes.append(CompactCoding.Tag.unkeyed.rawValue)
            writeVarint(UInt64(list.items.count), into: &bytes)
            for item in list.items { item.write(into: &bytes) }
        case .keyed(let object):
            bytes.append(CompactCoding.Tag.keyed.rawValue)
            writeVarint(UInt64(object.entries.count), into: &bytes)
            for (key, item) in object.entries {
                writeString(key, into: &bytes)
                item.write(into: &bytes)
            }
        }
    }

    private func writeString(_ text: String, into bytes: inout [UInt8]) {
        let utf8 = text.utf8
        writeVarint(UInt64(utf8.count), into: &bytes)
        bytes.append(contentsOf: utf8)
    }

    private func writeVarint(_ number: UInt64, into bytes: inout [UInt8]) {
        var rest = number
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }
}

final class EncodedList { var items: [EncodedSlot] = [] }
final class EncodedObject { var entries: [(String, EncodedSlot)] = [] }

private struct CompactEncoding: Encoder {
    let slot: EncodedSlot
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let object: EncodedObject
        if case .keyed(let existing) = slot.value {
            object = existing
        } else {
            object = EncodedObject()
            slot.value = .keyed(object)
        }
        return KeyedEncodingContainer(KeyedContainer<Key>(object: object, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let list: EncodedList
        if case .unkeyed(let existing) = slot.value {
            list = existing
        } else {
            list = EncodedList()
            slot.value = .unkeyed(list)
        }
        return UnkeyedContainer(list: list, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleContainer(slot: slot, codingPath: codingPath) }
}

/// Sets a slot from a primitive; nil when `value` is not one (it then encodes itself).
private func primitive<Value: Encodable>(_ value: Value) -> EncodedSlot.Value? {
    switch value {
    case let flag as Bool: .bool(flag)
    case let text as String: .string(text)
    case let number as Double: .double(number)
    case let number as Float: .float(number)
    case let number as Int: .signed(Int64(number))
    case let number as Int8: .signed(Int64(number))
    case let number as Int16: .signed(Int64(number))
    case let number as Int32: .signed(Int64(number))
    case let number as Int64: .signed(number)
    case let number as UInt: .unsigned(UInt64(number))
    case let number as UInt8: .unsigned(UInt64(number))
    case let number as UInt16: .unsigned(UInt64(number))
    case let number as UInt32: .unsigned(UInt64(number))
    case let number as UInt64: .unsigned(number)
    default: nil
    }
}

private func encodeValue<Value: Encodable>(_ value: Value, into slot: EncodedSlot, codingPath: [any CodingKey]) throws {
    if let primitive = primitive(value) {
        slot.value = primitive
    } else {
        try value.encode(to: CompactEncoding(slot: slot, codingPath: codingPath))
    }
}

private struct SingleContainer: SingleValueEncodingContainer {
    let slot: EncodedSlot
    let codingPath: [any CodingKey]
    mutating func encodeNil() throws { slot.value = .null }
    mutating func encode<T: Encodable>(_ value: T) throws { try encodeValue(value, into: slot, codingPath: codingPath) }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let list: EncodedList
    let codingPath: [any CodingKey]
    var count: Int { list.items.count }

    private func next() -> EncodedSlot {
        let slot = EncodedSlot()
        list.items.append(slot)
        return slot
    }
    private var itemPath: [any CodingKey] { codingPath + [IndexKey(intValue: list.items.count)] }

    mutating func encodeNil() throws { _ = next() }
    mutating func encode<T: Encodable>(_ value: T) throws {
        let path = itemPath
        try encodeValue(value, into: next(), codingPath: path)
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let path = itemPath
        return CompactEncoding(slot: next(), codingPath: path).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = itemPath
        return CompactEncoding(slot: next(), codingPath: path).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder {
        let path = itemPath
        return CompactEncoding(slot: next(), codingPath: path)
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let object: EncodedObject
    let codingPath: [any CodingKey]

    private func slot(for key: any CodingKey) -> EncodedSlot {
        let slot = EncodedSlot()
        object.entries.append((key.stringValue, slot))
        return slot
    }

    mutating func encodeNil(forKey key: Key) throws { _ = slot(for: key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try encodeValue(value, into: slot(for: key), codingPath: codingPath + [key])
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        CompactEncoding(slot: slot(for: key), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        CompactEncoding(slot: slot(for: key), codingPath: codingPath + [key]).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder {
        CompactEncoding(slot: slot(for: SuperKey()), codingPath: codingPath + [SuperKey()])
    }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        CompactEncoding(slot: slot(for: key), codingPath: codingPath + [key])
    }
}

/// The key of an unkeyed container's element, for coding paths in errors.
struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }
    init(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}

/// The key `superEncoder()` and `superDecoder()` use.
struct SuperKey: CodingKey {
    var stringValue: String { "super" }
    var intValue: Int? { nil }
    init() {}
    init?(stringValue: String) { self.init() }
    init?(intValue: Int) { nil }
}
