import Testing
@testable import SwiftMPIWireup

@Suite("key-value wire format")
struct KeyValueWireTests {
    let secret = JobSecret(bytes: Array(0..<32))!

    @Test("requests survive encoding and decoding, even when split into single bytes")
    func requestRoundTrip() throws {
        let requests: [KeyValueRequest] = [
            .hello(rank: 3, pid: 4242), .put(key: "ep/1", value: [1, 2, 3, 0, 255]), .put(key: "", value: []),
            .get(key: "ep/ü"), .fence, .abort(code: -7, message: "bye"), .finalize
        ]
        var decoder = KeyValueFrameDecoder()
        var decoded: [KeyValueRequest] = []
        for byte in requests.flatMap({ $0.encoded(secret: secret) }) {
            decoder.append([byte])
            while let request = try decoder.nextRequest(secret: secret) { decoded.append(request) }
        }
        #expect(decoded == requests)
        #expect(decoder.pendingByteCount == 0)
    }

    @Test("responses survive encoding and decoding")
    func responseRoundTrip() throws {
        let responses: [KeyValueResponse] = [.ok(value: []), .ok(value: [9, 8]), .notFound, .error("no")]
        var decoder = KeyValueFrameDecoder()
        decoder.append(responses.flatMap { $0.encoded() })
        var decoded: [KeyValueResponse] = []
        while let response = try decoder.nextResponse() { decoded.append(response) }
        #expect(decoded == responses)
    }

    @Test("a wrong secret is refused before the body is read")
    func wrongSecret() {
        let other = JobSecret(bytes: [UInt8](repeating: 1, count: 32))!
        var decoder = KeyValueFrameDecoder()
        decoder.append(KeyValueRequest.fence.encoded(secret: other))
        #expect(throws: WireupError.unauthenticated) { try decoder.nextRequest(secret: secret) }
    }

    @Test("garbage is refused as soon as its first bytes arrive")
    func badMagic() {
        var decoder = KeyValueFrameDecoder()
        decoder.append(Array("GET".utf8))
        #expect(throws: WireupError.malformed("bad magic")) { try decoder.nextRequest(secret: secret) }
    }

    enum Corruption: String, CaseIterable, Sendable {
        case oversizedBody, unknownOperation, wrongVersion, fieldOverrunsBody, trailingBytes

        func apply(to frame: inout [UInt8]) {
            switch self {
            case .oversizedBody: frame.replaceSubrange(40..<44, with: [0xff, 0xff, 0xff, 0x7f])
            case .unknownOperation: frame[5] = 99
            case .wrongVersion: frame[4] = 2
            case .fieldOverrunsBody: frame[44] = 200
            case .trailingBytes: frame += [0]; frame[40] += 1
            }
        }
    }

    @Test("malformed frames throw instead of crashing or waiting", arguments: Corruption.allCases)
    func malformed(corruption: Corruption) {
        var frame = KeyValueRequest.put(key: "k", value: [1]).encoded(secret: secret)
        corruption.apply(to: &frame)
        var decoder = KeyValueFrameDecoder()
        decoder.append(frame)
        #expect(throws: WireupError.self, "\(corruption)") { try decoder.nextRequest(secret: secret) }
    }

    @Test("the secret is never printed and round-trips through hex")
    func secretHandling() throws {
        let fresh = try JobSecret.generate()
        #expect("\(fresh)" == "<secret>")
        #expect(JobSecret(hex: fresh.hex) == fresh)
        #expect(JobSecret(hex: "xyz") == nil)
        #expect(try JobSecret.generate() != fresh)
    }
}

@Suite("launch parameters from the environment")
struct LaunchParametersTests {
    let secret = JobSecret(bytes: Array(0..<32))!

    @Test("no launcher variables means a singleton")
    func singleton() throws {
        #expect(try LaunchParameters.fromEnvironment { _ in nil } == nil)
    }

    @Test("complete variables are parsed")
    func complete() throws {
        let env = [
            "SWIFTMPI_RANK": "2", "SWIFTMPI_SIZE": "4", "SWIFTMPI_KVS": "/tmp/x/kvs.sock",
            "SWIFTMPI_JOB_SECRET": secret.hex, "SWIFTMPI_OVERSUBSCRIBED": "1", "SWIFTMPI_JOB_ID": "j"
        ]
        let parameters = try #require(try LaunchParameters.fromEnvironment { env[$0] })
        #expect(parameters.rank == 2 && parameters.size == 4 && parameters.oversubscribed)
        #expect(parameters.secret == secret && parameters.jobID == "j")
    }

    @Test(
        "invalid variables throw a clear error",
        arguments: [
            ["SWIFTMPI_RANK": "-1", "SWIFTMPI_SIZE": "4"],
            ["SWIFTMPI_RANK": "4", "SWIFTMPI_SIZE": "4"],
            ["SWIFTMPI_RANK": "0", "SWIFTMPI_SIZE": "x"],
            ["SWIFTMPI_RANK": "0", "SWIFTMPI_SIZE": "1"],
            ["SWIFTMPI_RANK": "0", "SWIFTMPI_SIZE": "1", "SWIFTMPI_KVS": "/s", "SWIFTMPI_JOB_SECRET": "abc"]
        ])
    func invalid(env: [String: String]) {
        #expect(throws: WireupError.self) { try LaunchParameters.fromEnvironment { env[$0] } }
    }
}

@Suite("HMAC-SHA-256 for TCP handshakes")
struct HMACTests {
    func hex(_ bytes: [UInt8]) -> String { bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined() }

    @Test("SHA-256 matches the FIPS 180-4 examples")
    func sha256Vectors() {
        #expect(hex(SHA256.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex(SHA256.hash([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            hex(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test("HMAC matches RFC 4231 test cases 1 and 2")
    func hmacVectors() {
        #expect(
            hex(HMACSHA256.authenticate(Array("Hi There".utf8), key: [UInt8](repeating: 0x0b, count: 20)))
                == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(
            hex(HMACSHA256.authenticate(Array("what do ya want for nothing?".utf8), key: Array("Jefe".utf8)))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }
}
