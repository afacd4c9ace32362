/// The key-value exchange's wire format: length-delimited frames on a Unix stream socket.
///
/// ```
/// request  ┌────────┬─────┬────┬──────────┬──────────────┬────────────┬──────────┐
///          │ "SMKQ" │ ver │ op │ reserved │ secret (32B) │ body length│ body ... │
///          │ 4 B    │ 1 B │ 1B │ 2 B      │              │ u32 LE     │          │
///          └────────┴─────┴────┴──────────┴──────────────┴────────────┴──────────┘
/// response ┌────────┬─────┬────────┬──────────┬────────────┬──────────┐
///          │ "SMKR" │ ver │ status │ reserved │ body length│ body ... │
///          └────────┴─────┴────────┴──────────┴────────────┴──────────┘
/// body     = field*, field = u32 LE length + bytes
/// ```
/// Bodies are at most ``KeyValueWire/maxBodyLength`` bytes; anything else is malformed.
public enum KeyValueWire {
    /// The version this build speaks.
    public static let version: UInt8 = 1
    /// The largest body either side accepts.
    public static let maxBodyLength = 1 << 20
    static let requestMagic: [UInt8] = Array("SMKQ".utf8)
    static let responseMagic: [UInt8] = Array("SMKR".utf8)
    static let requestHeaderLength = 4 + 4 + JobSecret.byteCount + 4
    static let responseHeaderLength = 4 + 4 + 4
}

/// A request from a rank to the launcher.
public enum KeyValueRequest: Equatable, Sendable {
    /// The first request on a connection: which rank speaks, and its process id.
    case hello(rank: Int, pid: Int32)
    /// Publishes `value` under `key` (visible to all ranks after the next fence).
    case put(key: String, value: [UInt8])
    /// Reads the value of `key`.
    case get(key: String)
    /// Waits until every rank of the job has called fence: a barrier that publishes all puts.
    case fence
    /// Ends the whole job with `code` (MPI.abort).
    case abort(code: Int32, message: String)
    /// This rank has completed MPI.finalize and will exit.
    case finalize

    var opcode: UInt8 {
        switch self {
        case .hello: 1
        case .put: 2
        case .get: 3
        case .fence: 4
        case .abort: 5
        case .finalize: 6
        }
    }

    /// The encoded frame, carrying `secret`.
    public func encoded(secret: JobSecret) -> [UInt8] {
        var body = FieldWriter()
        switch self {
        case .hello(let rank, let pid):
            body.integer(UInt32(truncatingIfNeeded: rank))
            body.integer(UInt32(bitPattern: pid))
        case .put(let key, let value):
            body.field(Array(key.utf8))
            body.field(value)
        case .get(let key):
            body.field(Array(key.utf8))
        case .fence, .finalize:
            break
        case .abort(let code, let message):
            body.integer(UInt32(bitPattern: code))
            body.field(Array(message.utf8))
        }
        var frame = KeyValueWire.requestMagic
        frame += [KeyValueWire.version, opcode, 0, 0]
        frame += secret.bytes
        appendLittleEndian(UInt32(body.bytes.count), to: &frame)
        return frame + body.bytes
    }

    /// Decodes a request body for `opcode`.
    static func decode(opcode: UInt8, body: ArraySlice<UInt8>) throws(WireupError) -> KeyValueRequest {
        var reader = FieldReader(body)
        let request: KeyValueRequest
        switch opcode {
        case 1:
            let rank = try reader.integer()
            let pid = try reader.integer()
            request = .hello(rank: Int(rank), pid: Int32(bitPattern: pid))
        case 2:
            request = .put(key: try reader.string(), value: Array(try reader.field()))
        case 3:
            request = .get(key: try reader.string())
        case 4:
            request = .fence
        case 5:
            let code = try reader.integer()
            request = .abort(code: Int32(bitPattern: code), message: try reader.string())
        case 6:
            request = .finalize
        default:
            throw .malformed("unknown operation \(opcode)")
        }
        try reader.expectEnd()
        return request
    }
}

/// The launcher's answer to a request.
public enum KeyValueResponse: Equatable, Sendable {
    /// Done; `value` is the result of a get, empty otherwise.
    case ok(value: [UInt8])
    /// A get for a key nobody has put.
    case notFound
    /// The request was refused, with the reason.
    case error(String)

    /// The encoded frame.
    public func encoded() -> [UInt8] {
        var body = FieldWriter()
        let status: UInt8
        switch self {
        case .ok(let value): status = 0; body.field(value)
        case .notFound: status = 1
        case .error(let message): status = 2; body.field(Array(message.utf8))
        }
        var frame = KeyValueWire.responseMagic
        frame += [KeyValueWire.version, status, 0, 0]
        appendLittleEndian(UInt32(body.bytes.count), to: &frame)
        return frame + body.bytes
    }

    static func decode(status: UInt8, body: ArraySlice<UInt8>) throws(WireupError) -> KeyValueResponse {
        var reader = FieldReader(body)
        let response: KeyValueResponse
        switch status {
        case 0: response = .ok(value: Array(try reader.field()))
        case 1: response = .notFound
        case 2: response = .error(try reader.string())
        default: throw .malformed("unknown status \(status)")
        }
        try reader.expectEnd()
        return response
    }
}

/// Splits a byte stream into frames; one decoder per connection and direction.
///
/// Feed it bytes as they arrive with ``append(_:)``; take whole frames with ``nextRequest(secret:)`` or
/// ``nextResponse()``. Anything malformed or unauthenticated throws, and the connection must then be
/// closed: the stream can no longer be trusted.
public struct KeyValueFrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0

    /// An empty decoder.
    public init() {}

    /// Adds received bytes.
    public mutating func append<C: Collection<UInt8>>(_ bytes: C) {
        if start > 0 && start == buffer.count { buffer.removeAll(keepingCapacity: true); start = 0 }
        buffer.append(contentsOf: bytes)
    }

    /// Bytes received but not yet consumed by a whole frame.
    public var pendingByteCount: Int { buffer.count - start }

    /// The next whole request, nil if more bytes are needed. Verifies magic and version first, then the
    /// secret (before the body is even looked at), then the body.
    /// A nil `secret` skips that check: only for requests forwarded over an authenticated daemon link.
    public mutating func nextRequest(secret: JobSecret?) throws(WireupError) -> KeyValueRequest? {
        let available = buffer.count - start
        try checkPrefix(KeyValueWire.requestMagic, available: available)
        guard available >= KeyValueWire.requestHeaderLength else { return nil }
        let opcode = buffer[start + 5]
        let secretRange = (start + 8)..<(start + 8 + JobSecret.byteCount)
        if let secret, !secret.matches(buffer[secretRange]) { throw .unauthenticated }
        let length = try bodyLength(at: secretRange.upperBound)
        let total = KeyValueWire.requestHeaderLength + length
        guard available >= total else { return nil }
        let body = buffer[(start + KeyValueWire.requestHeaderLength)..<(start + total)]
        let request = try KeyValueRequest.decode(opcode: opcode, body: body)
        start += total
        return request
    }

    /// The next whole response, nil if more bytes are needed.
    public mutating func nextResponse() throws(WireupError) -> KeyValueResponse? {
        let available = buffer.count - start
        try checkPrefix(KeyValueWire.responseMagic, available: available)
        guard available >= KeyValueWire.responseHeaderLength else { return nil }
        let length = try bodyLength(at: start + 8)
        let total = KeyValueWire.responseHeaderLength + length
        guard available >= total else { return nil }
        let response = try KeyValueResponse.decode(
            status: buffer[start + 5], body: buffer[(start + KeyValueWire.responseHeaderLength)..<(start + total)])
        start += total
        return response
    }

    /// Checks magic and version as soon as their bytes arrive, so garbage is refused at once.
    private func checkPrefix(_ magic: [UInt8], available: Int) throws(WireupError) {
        for i in 0..<min(available, 4) where buffer[start + i] != magic[i] {
            throw .malformed("bad magic")
        }
        if available > 4 && buffer[start + 4] != KeyValueWire.version {
            throw .malformed("unsupported version \(buffer[start + 4])")
        }
    }

    private func bodyLength(at offset: Int) throws(WireupError) -> Int {
        let length = Int(readLittleEndianUInt32(buffer, at: offset))
        guard length <= KeyValueWire.maxBodyLength else {
            throw .malformed("body of \(length) bytes exceeds \(KeyValueWire.maxBodyLength)")
        }
        return length
    }
}

struct FieldWriter {
    var bytes: [UInt8] = []
    mutating func field(_ value: [UInt8]) {
        appendLittleEndian(UInt32(value.count), to: &bytes)
        bytes += value
    }
    mutating func integer(_ value: UInt32) { field(withUnsafeBytes(of: value.littleEndian) { Array($0) }) }
}

struct FieldReader {
    private let body: ArraySlice<UInt8>
    private var offset: Int
    init(_ body: ArraySlice<UInt8>) { self.body = body; offset = body.startIndex }

    mutating func field() throws(WireupError) -> ArraySlice<UInt8> {
        guard body.endIndex - offset >= 4 else { throw .malformed("truncated field length") }
        let length = Int(readLittleEndianUInt32(body, at: offset))
        offset += 4
        guard length <= body.endIndex - offset else { throw .malformed("field of \(length) bytes overruns the body") }
        defer { offset += length }
        return body[offset..<(offset + length)]
    }
    mutating func integer() throws(WireupError) -> UInt32 {
        let bytes = try field()
        guard bytes.count == 4 else { throw .malformed("integer field of \(bytes.count) bytes") }
        return readLittleEndianUInt32(bytes, at: bytes.startIndex)
    }
    mutating func string() throws(WireupError) -> String {
        let bytes = try field()
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .malformed("text is not UTF-8") }
        return text
    }
    func expectEnd() throws(WireupError) {
        guard offset == body.endIndex else { throw .malformed("\(body.endIndex - offset) trailing bytes") }
    }
}

func appendLittleEndian(_ value: UInt32, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
}

func readLittleEndianUInt32<C: Collection<UInt8>>(_ bytes: C, at offset: C.Index) -> UInt32 where C.Index == Int {
    var value: UInt32 = 0
    for i in 0..<4 { value |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
    return value
}
