/// Decodes ``CompactCoding``'s bytes into `Decodable` values.
struct CompactDecoder {
    /// The value of type `Value` that `bytes` encode. Throws `DecodingError` when the bytes are cut
    /// short, malformed, or describe another type; never reads outside `bytes`.
    static func decode<Value: Decodable>(_ type: Value.Type, from bytes: UnsafeRawBufferPointer) throws -> Value {
        var reader = ByteReader(bytes: bytes)
        let root = try reader.value(depth: 0)
        guard reader.offset == bytes.count else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "\(bytes.count - reader.offset) bytes after the value"))
        }
        return try decodeValue(Value.self, from: root, codingPath: [])
    }
}

/// A decoded value, before it becomes the caller's type.
indirect enum DecodedValue {
    case null, bool(Bool), signed(Int64), unsigned(UInt64), float(Float), double(Double), string(String)
    case unkeyed([DecodedValue]), keyed([String: DecodedValue])

    var kind: String {
        switch self {
        case .null: "nil"
        case .bool: "a Bool"
        case .signed, .unsigned: "an integer"
        case .float, .double: "a floating-point number"
        case .string: "a String"
        case .unkeyed: "an unkeyed container"
        case .keyed: "a keyed container"
        }
    }
}

/// Reads values out of bytes, checking every length against what is left.
private struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    private func corrupted(_ what: String) -> DecodingError {
        .dataCorrupted(.init(codingPath: [], debugDescription: "\(what) at byte \(offset) of \(bytes.count)"))
    }

    mutating func byte() throws -> UInt8 {
        guard offset < bytes.count else { throw corrupted("the encoding ends early") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func varint() throws -> UInt64 {
        var number: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let next = try byte()
            guard shift < 64 else { throw corrupted("a varint longer than 64 bits") }
            number |= UInt64(next & 0x7F) << shift
            if next & 0x80 == 0 { return number }
            shift += 7
        }
    }

    mutating func count() throws -> Int {
        let number = try varint()
        guard number <= UInt64(bytes.count - offset) else { throw corrupted("a count of \(number) with \(bytes.count - offset) bytes left") }
        return Int(number)
    }

    mutating func fixed(_ size: Int) throws -> UInt64 {
        guard bytes.count - offset >= size else { throw corrupted("a \(size)-byte number cut short") }
        var number: UInt64 = 0
        for index in 0..<size { number |= UInt64(bytes[offset + index]) << (8 * UInt64(index)) }
        offset += size
        return number
    }

    mutating func string() throws -> String {
        let length = try count()
        defer { offset += length }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]), as: UTF8.self)
    }

    /// One value; containers nest at most 512 deep (a hostile message cannot exhaust the stack).
    mutating func value(depth: Int) throws -> DecodedValue {
        guard depth < 512 else { throw corrupted("containers nested more than 512 deep") }
        let tagByte = try byte()
        guard let tag = CompactCoding.Tag(rawValue: tagByte) else { throw corrupted("unknown tag \(tagByte)") }
        switch tag {
        case .null: return .null
        case .no: return .bool(false)
        case .yes: return .bool(true)
        case .signed:
            let zigzag = try varint()
            return .signed(Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1))
        case .unsigned: return .unsigned(try varint())
        case .float: return .float(Float(bitPattern: UInt32(try fixed(4))))
        case .double: return .double(Double(bitPattern: try fixed(8)))
        case .string: return .string(try string())
        case .unkeyed:
            let items = try count()
            var values: [DecodedValue] = []
            values.reserveCapacity(items)
            for _ in 0..<items { values.append(try value(depth: depth + 1)) }
            return .unkeyed(values)
        case .keyed:
            let entries = try count()
            var values: [String: DecodedValue] = [:]
            for _ in 0..<entries {
                let key = try string()
                values[key] = try value(depth: depth + 1)
            }
            return .keyed(values)
        }
    }
}

private func mismatch<T>(_ type: T.Type, _ value: DecodedValue, _ codingPath: [any CodingKey]) -> DecodingError {
    .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "expected \(T.self), found \(value.kind)"))
}

/// An integer of type `T` from a decoded number, if it fits.
private func integer<T: FixedWidthInteger>(_ type: T.Type, _ value: DecodedValue, _ codingPath: [any CodingKey]) throws -> T {
    let converted: T?
    switch value {
    case .signed(let number): converted = T(exactly: number)
    case .unsigned(let number): converted = T(exactly: number)
    default: throw mismatch(type, value, codingPath)
    }
    guard let converted else {
        throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "\(value) does not fit in \(T.self)"))
    }
    return converted
}

private func decodeValue<T: Decodable>(_ type: T.Type, from value: DecodedValue, codingPath: [any CodingKey]) throws -> T {
    switch type {
    case is Bool.Type:
        guard case .bool(let flag) = value else { throw mismatch(type, value, codingPath) }
        return flag as! T
    case is String.Type:
        guard case .string(let text) = value else { throw mismatch(type, value, codingPath) }
        return text as! T
    case is Double.Type:
        switch value {
        case .double(let number): return number as! T
        case .float(let number): return Double(number) as! T
        default: throw mismatch(type, value, codingPath)
        }
    case is Float.Type:
        guard case .float(let number) = value else { throw mismatch(type, value, codingPath) }
        return number as! T
    case is Int.Type: return try integer(Int.self, value, codingPath) as! T
    case is Int8.Type: return try integer(Int8.self, value, codingPath) as! T
    case is Int16.Type: return try integer(Int16.self, value, codingPath) as! T
    case is Int32.Type: return try integer(Int32.self, value, codingPath) as! T
    case is Int64.Type: return try integer(Int64.self, value, codingPath) as! T
    case is UInt.Type: return try integer(UInt.self, value, codingPath) as! T
    case is UInt8.Type: return try integer(UInt8.self, value, codingPath) as! T
    case is UInt16.Type: return try integer(UInt16.self, value, codingPath) as! T
    case is UInt32.Type: return try integer(UInt32.self, value, codingPath) as! T
    case is UInt64.Type: return try integer(UInt64.self, value, codingPath) as! T
    default: return try T(from: CompactDecoding(value: value, codingPath: codingPath))
    }
}

private struct CompactDecoding: Decoder {
    let value: DecodedValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .keyed(let entries) = value else { throw mismatch([String: DecodedValue].self, value, codingPath) }
        return KeyedDecodingContainer(KeyedReader<Key>(entries: entries, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .unkeyed(let items) = value else { throw mismatch([DecodedValue].self, value, codingPath) }
        return UnkeyedReader(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleReader(value: value, codingPath: codingPath) }
}

private struct SingleReader: SingleValueDecodingContainer {
    let value: DecodedValue
    let codingPath: [any CodingKey]
    func decodeNil() -> Bool {
        if case .null = value { return true }
        return false
    }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(type, from: value, codingPath: codingPath) }
}

private struct UnkeyedReader: UnkeyedDecodingContainer {
    let items: [DecodedValue]
    let codingPath: [any CodingKey]
    var currentIndex = 0
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    private mutating func next<T>(_ type: T.Type) throws -> (DecodedValue, [any CodingKey]) {
        let path = codingPath + [IndexKey(intValue: currentIndex)]
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(codingPath: path, debugDescription: "the unkeyed container has only \(items.count) values"))
        }
        defer { currentIndex += 1 }
        return (items[currentIndex], path)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, case .null = items[currentIndex] else { return false }
        currentIndex += 1
        return true
    }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (value, path) = try next(type)
        return try decodeValue(type, from: value, codingPath: path)
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (value, path) = try next(KeyedDecodingContainer<NestedKey>.self)
        return try CompactDecoding(value: value, codingPath: path).container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (value, path) = try next([DecodedValue].self)
        return try CompactDecoding(value: value, codingPath: path).unkeyedContainer()
    }
    mutating func superDecoder() throws -> any Decoder {
        let (value, path) = try next(DecodedValue.self)
        return CompactDecoding(value: value, codingPath: path)
    }
}

private struct KeyedReader<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let entries: [String: DecodedValue]
    let codingPath: [any CodingKey]
    var allKeys: [Key] { entries.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { entries[key.stringValue] != nil }

    private func entry<T>(_ key: any CodingKey, _ type: T.Type) throws -> DecodedValue {
        guard let value = entries[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no value for key '\(key.stringValue)'"))
        }
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        if case .null = try entry(key, DecodedValue.self) { return true }
        return false
    }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decodeValue(type, from: try entry(key, type), codingPath: codingPath + [key])
    }
    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try CompactDecoding(value: try entry(key, DecodedValue.self), codingPath: codingPath + [key]).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try CompactDecoding(value: try entry(key, DecodedValue.self), codingPath: codingPath + [key]).unkeyedContainer()
    }
    func superDecoder() throws -> any Decoder {
        CompactDecoding(value: entries[SuperKey().stringValue] ?? .null, codingPath: codingPath + [SuperKey()])
    }
    func superDecoder(forKey key: Key) throws -> any Decoder {
        CompactDecoding(value: try entry(key, DecodedValue.self), codingPath: codingPath + [key])
    }
}
