#if canImport(Glibc)
import Glibc
#endif

/// Mutual authentication of a new stream connection by challenge-response over the job secret.
///
/// Used for rank-to-rank TCP connections and for the links between `swiftmpirun` and its per-host
/// daemons. Neither side sends the secret; each proves it holds it by an HMAC over the other's
/// fresh nonce and both identities:
///
/// ```
///   C → A  magic(4) v1 id_C(u32) nonce_C(16)
///   A → C  magic(4) v1 id_A(u32) nonce_A(16) HMAC(secret, "accept"  | nonce_C | id_A | id_C)
///   C → A                                    HMAC(secret, "connect" | nonce_A | id_C | id_A)
///   A → C  magic(4) v0                  (instead of the reply: "we are connecting to each other;
///                                         mine is kept": the TCP transport's tie-break)
/// ```
/// `connect` and `accept` do blocking I/O with a deadline (the launcher's daemon links); the message
/// functions (`hello`, `reply`, `proof`, `verify`) let a caller drive the exchange without blocking
/// (the TCP transport, which connects ranks on demand while progress polls).
public struct Handshake {
    /// Four bytes naming the kind of connection (so a rank link can never be mistaken for a daemon link).
    public let magic: [UInt8]
    public let secret: JobSecret

    /// A handshake for connections of kind `magic` (4 ASCII characters).
    public init(magic: String, secret: JobSecret) {
        self.magic = Array(magic.utf8.prefix(4))
        self.secret = secret
    }

    /// Bytes of the connector's hello: magic, version, id, nonce.
    public static let helloLength = 4 + 1 + 4 + 16
    /// Bytes of the acceptor's reply: magic, version, id, nonce, proof.
    public static let replyLength = 4 + 1 + 4 + 16 + 32
    /// Bytes of the connector's proof.
    public static let proofLength = 32

    /// The connecting side: introduces itself as `id`, checks the acceptor proves the secret and is
    /// `expected` (when given); returns the acceptor's id.
    @discardableResult
    public func connect(_ fd: Int32, id: UInt32, expected: UInt32?, deadline: Double) throws(WireupError) -> UInt32 {
        let (message, nonce) = try hello(id: id)
        try Self.write(fd, message, deadline: deadline)
        let reply = try Self.read(fd, count: Self.replyLength, deadline: deadline)
        let (proof, acceptor) = try proof(answering: reply, nonce: nonce, id: id, expected: expected)
        try Self.write(fd, proof, deadline: deadline)
        return acceptor
    }

    /// The accepting side: answers as `id`; `accept(peer)` may refuse a claimed id before any proof.
    /// Returns the connector's id once it has proved the secret.
    public func accept(_ fd: Int32, id: UInt32, deadline: Double, allow: (UInt32) -> Bool) throws(WireupError) -> UInt32 {
        let hello = try Self.read(fd, count: Self.helloLength, deadline: deadline)
        let (reply, nonce, connector) = try reply(answering: hello, id: id, allow: allow)
        try Self.write(fd, reply, deadline: deadline)
        try verify(proof: try Self.read(fd, count: Self.proofLength, deadline: deadline), nonce: nonce, connector: connector, id: id)
        return connector
    }

    // The three messages, without I/O, for callers that drive the exchange themselves (the TCP
    // transport's connections on demand, made while progress polls).

    /// What an acceptor sends instead of a reply when the two sides are connecting to each other at
    /// once and it keeps its own connection (magic, version 0); the connector then waits for that one.
    public var deferral: [UInt8] { magic + [0] }

    /// The connector's first message, introducing it as `id`, and the nonce the acceptor must sign.
    public func hello(id: UInt32) throws(WireupError) -> (message: [UInt8], nonce: [UInt8]) {
        let nonce = try Self.nonce()
        return (magic + [1] + Self.bytes(id) + nonce, nonce)
    }

    /// Whether `bytes`, the first bytes of a hello, can still begin one (a foreign client is turned
    /// away at its first bytes instead of after a timeout).
    public func canBeginHello(_ bytes: ArraySlice<UInt8>) -> Bool {
        zip(bytes.prefix(5), magic + [1]).allSatisfy { $0 == $1 }
    }

    /// The acceptor's answer, as `id`, to a connector's ``helloLength``-byte `hello`; `allow` may
    /// refuse the claimed id. Returns the reply, the nonce the connector must sign, and its id.
    public func reply(
        answering hello: [UInt8], id: UInt32, allow: (UInt32) -> Bool
    ) throws(WireupError) -> (message: [UInt8], nonce: [UInt8], connector: UInt32) {
        guard hello.count == Self.helloLength, Array(hello[0..<5]) == magic + [1] else { throw .handshake("not a SwiftMPI handshake") }
        let connector = Self.integer(hello[5..<9])
        guard allow(connector) else { throw .handshake("unexpected peer id \(connector)") }
        let nonce = try Self.nonce()
        return (magic + [1] + Self.bytes(id) + nonce + mac("accept", Array(hello[9..<25]), id, connector), nonce, connector)
    }

    /// The connector's proof, as `id`, answering the acceptor's ``replyLength``-byte `reply` to its
    /// hello with `nonce`: checks the acceptor proved the secret and is `expected` (when given).
    /// Returns the proof and the acceptor's id.
    public func proof(
        answering reply: [UInt8], nonce: [UInt8], id: UInt32, expected: UInt32?
    ) throws(WireupError) -> (message: [UInt8], acceptor: UInt32) {
        guard reply.count == Self.replyLength, Array(reply[0..<5]) == magic + [1] else { throw .handshake("bad reply") }
        let acceptor = Self.integer(reply[5..<9])
        if let expected, acceptor != expected { throw .handshake("expected peer \(expected), reached \(acceptor)") }
        guard HMACSHA256.equal(Array(reply[25..<57]), mac("accept", nonce, acceptor, id)) else { throw .unauthenticated }
        return (mac("connect", Array(reply[9..<25]), id, acceptor), acceptor)
    }

    /// Checks the connector `connector`'s ``proofLength``-byte `proof` over the acceptor's `nonce`
    /// (the acceptor being `id`).
    public func verify(proof: [UInt8], nonce: [UInt8], connector: UInt32, id: UInt32) throws(WireupError) {
        guard proof.count == Self.proofLength, HMACSHA256.equal(proof, mac("connect", nonce, connector, id)) else { throw .unauthenticated }
    }

    private func mac(_ label: String, _ nonce: [UInt8], _ first: UInt32, _ second: UInt32) -> [UInt8] {
        HMACSHA256.authenticate(Array(label.utf8) + nonce + Self.bytes(first) + Self.bytes(second), key: secret.bytes)
    }

    /// Seconds on a monotonic clock.
    public static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }

    static func bytes(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }

    static func integer(_ bytes: ArraySlice<UInt8>) -> UInt32 { bytes.reversed().reduce(0) { $0 << 8 | UInt32($1) } }

    static func nonce() throws(WireupError) -> [UInt8] { Array(try JobSecret.generate().bytes.prefix(16)) }

    /// Writes all of `bytes` to `fd` before `deadline`.
    public static func write(_ fd: Int32, _ bytes: [UInt8], deadline: Double) throws(WireupError) {
        var offset = 0
        while offset < bytes.count {
            try wait(fd, for: POLLOUT, deadline: deadline)
            let sent = try wireupNonblockingSystemCall("send") {
                bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            }
            if case .done(let n) = sent { offset += n }
        }
    }

    /// Reads exactly `count` bytes from `fd` before `deadline`.
    public static func read(_ fd: Int32, count: Int, deadline: Double) throws(WireupError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            try wait(fd, for: POLLIN, deadline: deadline)
            let received = try wireupNonblockingSystemCall("recv") {
                bytes.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + offset, count - offset, 0) }
            }
            guard case .done(let n) = received else { continue }
            if n == 0 { throw .closed }
            offset += n
        }
        return bytes
    }

    /// Waits until `fd` is ready for `events` (POLLIN, POLLOUT); throws when `deadline` passes first.
    private static func wait(_ fd: Int32, for events: Int32, deadline: Double) throws(WireupError) {
        var request = pollfd(fd: fd, events: Int16(events), revents: 0)
        // The time left is computed again if poll is interrupted and called anew.
        let ready = try wireupSystemCall("poll") { poll(&request, 1, Int32(max(0, (deadline - now()) * 1000))) }
        guard ready > 0 else { throw .handshake("timed out") }
    }
}

/// IPv4 TCP helpers shared by the TCP transport and the launcher's daemon links.
public enum TCPSocket {
    /// Listens on `address` ("a.b.c.d"), port chosen by the kernel; returns the descriptor and port.
    public static func listen(address: String) throws(WireupError) -> (fd: Int32, port: UInt16) {
        var socketAddress = sockaddr_in()
        socketAddress.sin_family = sa_family_t(AF_INET)
        guard inet_pton(AF_INET, address, &socketAddress.sin_addr) == 1 else {
            throw .badEnvironment("'\(address)' is not an IPv4 address")
        }
        let fd = try wireupSystemCall("socket") { socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        do {
            _ = try systemCall("bind") {
                withUnsafePointer(to: &socketAddress) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
            }
            _ = try systemCall("listen") { Glibc.listen(fd, SOMAXCONN) }
        } catch {
            close(fd)
            throw .system(call: "\(error.call) on \(address)", errno: error.code)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, UInt16(bigEndian: socketAddress.sin_port))
    }

    /// Opens a blocking connection to "address:port", retrying refusals until `deadline`.
    public static func connect(_ endpoint: String, deadline: Double) throws(WireupError) -> Int32 {
        var address = try socketAddress(endpoint)
        while true {
            let fd = try wireupSystemCall("socket") { socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
            do {
                _ = try systemCallOnce("connect") {
                    withUnsafePointer(to: &address) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                    }
                }
                return fd
            } catch {
                close(fd)
                // Refused (the listener is not up yet), timed out, or interrupted (the connection
                // would go on without us): try again on a new socket until the deadline.
                guard Handshake.now() < deadline, error.code == ECONNREFUSED || error.code == EINTR || error.code == ETIMEDOUT else {
                    throw .system(call: "connect to \(endpoint)", errno: error.code)
                }
            }
            usleep(10_000)
        }
    }

    /// Starts a nonblocking connection to "address:port"; ``isConnected(_:)`` says when it is made.
    public static func startConnecting(_ endpoint: String) throws(WireupError) -> Int32 {
        var address = try socketAddress(endpoint)
        let fd = try wireupSystemCall("socket") {
            socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        }
        do {
            // Once: an interrupted connect goes on in the background, like one in progress.
            _ = try systemCallOnce("connect") {
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
            }
        } catch let error where error.code == EINPROGRESS || error.code == EINTR {
            // under way: isConnected(_:) tells when it is made
        } catch {
            close(fd)
            throw .system(call: "connect to \(endpoint)", errno: error.code)
        }
        return fd
    }

    /// Whether a connection from ``startConnecting(_:)`` is made: false while it is under way;
    /// throws the reason it failed (refused, unreachable, timed out).
    public static func isConnected(_ fd: Int32) throws(WireupError) -> Bool {
        var request = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&request, 1, 0) > 0 else { return false }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        if error != 0 { throw .system(call: "connect", errno: error) }
        return true
    }

    /// The IPv4 socket address of "address:port".
    private static func socketAddress(_ endpoint: String) throws(WireupError) -> sockaddr_in {
        let parts = endpoint.split(separator: ":")
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        guard parts.count == 2, let port = UInt16(parts[1]), inet_pton(AF_INET, String(parts[0]), &address.sin_addr) == 1 else {
            throw .badEnvironment("malformed TCP endpoint '\(endpoint)'")
        }
        address.sin_port = port.bigEndian
        return address
    }

    /// "a.b.c.d:port" of the peer of `fd`, for log lines.
    public static func peerName(_ fd: Int32) -> String {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok =
            withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
            } == 0
        guard ok else { return "an unknown address" }
        var text = [CChar](repeating: 0, count: 64)
        inet_ntop(AF_INET, &address.sin_addr, &text, socklen_t(text.count))
        return text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) } + ":\(UInt16(bigEndian: address.sin_port))"
    }
}
