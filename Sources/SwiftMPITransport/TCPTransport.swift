#if canImport(Glibc)
import Glibc
#endif
import CShims
import SwiftMPIWireup

/// Moves packets between ranks over TCP: the fallback between hosts, and forced with
/// `SWIFTMPI_TRANSPORT=tcp`.
///
/// One connection per pair of ranks, opened at wire-up (so a job either starts fully connected or
/// fails at start, and no first message pays for a handshake): each rank connects to every lower
/// rank and accepts every higher one. Sockets are nonblocking with TCP_NODELAY; a frame's header
/// and payload leave in one `sendmsg` (gather), partial writes are kept and finished by progress,
/// partial reads are reassembled. Progress polls the sockets while a rank waits.
///
/// ```
/// frame   ┌──────┬───────┬──────────┬──────────────┬──────────────────────┐
///         │ kind │ 0 0 0 │ length   │ header (32B) │ payload (length B)   │
///         │ u8   │       │ u32 LE   │ engine's     │ ≤ maxPayload         │
///         └──────┴───────┴──────────┴──────────────┴──────────────────────┘
/// handshake (connector C, acceptor A; nothing else is read before it succeeds):
///   C → A  "SMTC" v1 rank_C nonce_C(16)
///   A → C  "SMTA" v1 rank_A nonce_A(16) HMAC(secret, "accept"  | nonce_C | rank_A | rank_C)
///   C → A                               HMAC(secret, "connect" | nonce_A | rank_C | rank_A)
/// ```
/// The secret never crosses the network. A connection that fails the handshake, or any connection
/// arriving after wire-up, is logged and closed; the job goes on.
public final class TCPTransport {
    /// The largest payload of one frame; larger messages go as several data frames.
    public static let maxPayload = 256 * 1024
    static let frameHeaderLength = 40

    final class Connection {
        let fd: Int32
        var pending: [UInt8] = []
        var pendingStart = 0
        let input: UnsafeMutableRawBufferPointer
        var inputStart = 0
        var inputEnd = 0

        init(fd: Int32) {
            self.fd = fd
            input = .allocate(byteCount: TCPTransport.frameHeaderLength + TCPTransport.maxPayload + 64 * 1024, alignment: 64)
        }

        deinit {
            input.deallocate()
            close(fd)
        }
    }

    public let rank: Int
    public let size: Int
    /// "address:port" where this rank accepts its peers, published at wire-up.
    public let endpoint: String
    private let listenFD: Int32
    private let secret: JobSecret
    var connections: [Connection?]
    /// Peers whose connection broke since the last ``takeFailures()``, with the reason.
    private var failures: [(peer: Int, reason: String)] = []
    private var strayCheck = 0

    /// The transport's limits.
    public var limits: TransportLimits { TransportLimits(maxPayload: Self.maxPayload, canReadPeerMemory: false) }

    /// Listens on `address` (IPv4, port chosen by the kernel).
    public init(rank: Int, size: Int, address: String, secret: JobSecret) throws(TransportError) {
        self.rank = rank
        self.size = size
        self.secret = secret
        connections = Array(repeating: nil, count: size)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TransportError("socket failed", errno: errno) }
        var socketAddress = sockaddr_in()
        socketAddress.sin_family = sa_family_t(AF_INET)
        guard inet_pton(AF_INET, address, &socketAddress.sin_addr) == 1 else {
            close(fd)
            throw TransportError("'\(address)' is not an IPv4 address")
        }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 128) == 0 else {
            let code = errno
            close(fd)
            throw TransportError("cannot listen on \(address)", errno: code)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listenFD = fd
        endpoint = "\(address):\(UInt16(bigEndian: socketAddress.sin_port))"
    }

    deinit { close(listenFD) }

    // MARK: - Wire-up

    /// Connects to every lower rank at `endpoints[peer]` and accepts every higher rank, authenticating
    /// each connection; `peers` are the ranks this transport serves. Throws when a peer cannot be
    /// reached or the handshakes do not complete within `timeout` seconds.
    public func connect(peers: [Int], endpoints: [Int: String], timeout: Double = 30) throws(TransportError) {
        let deadline = Self.now() + timeout
        for peer in peers where peer < rank {
            guard let endpoint = endpoints[peer] else { throw TransportError("rank \(peer) published no TCP endpoint") }
            let fd = try Self.open(endpoint, deadline: deadline)
            do {
                try handshakeAsConnector(fd, peer: peer, deadline: deadline)
            } catch {
                close(fd)
                throw error
            }
            try adopt(fd, peer: peer)
        }
        var missing = Set(peers.filter { $0 > rank })
        while !missing.isEmpty {
            guard Self.now() < deadline else {
                throw TransportError("ranks \(missing.sorted()) did not connect within \(Int(timeout)) s")
            }
            var request = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
            guard Glibc.poll(&request, 1, 100) > 0 else { continue }
            var fd: Int32 = -1
            guard cshims_accept_nonblocking(listenFD, &fd) == 0 else { continue }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
            do {
                let peer = try handshakeAsAcceptor(fd, deadline: min(deadline, Self.now() + 5))
                guard missing.remove(peer) != nil else {
                    throw TransportError("rank \(peer) connected twice or is not expected")
                }
                try adopt(fd, peer: peer)
            } catch {
                Self.log("rank \(rank): rejected a TCP connection from \(Self.peerName(fd)): \(error)")
                close(fd)
            }
        }
        _ = fcntl(listenFD, F_SETFL, fcntl(listenFD, F_GETFL) | O_NONBLOCK)
    }

    private func adopt(_ fd: Int32, peer: Int) throws(TransportError) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var bufferSize: Int32 = 4 << 20
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufferSize, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufferSize, socklen_t(MemoryLayout<Int32>.size))
        guard fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0 else {
            throw TransportError("fcntl(O_NONBLOCK) failed", errno: errno)
        }
        connections[peer] = Connection(fd: fd)
    }

    private func handshakeAsConnector(_ fd: Int32, peer: Int, deadline: Double) throws(TransportError) {
        let nonce = try Self.nonce()
        try Self.write(fd, Array("SMTC".utf8) + [1] + Self.bytes(UInt32(rank)) + nonce, deadline: deadline)
        let reply = try Self.read(fd, count: 4 + 1 + 4 + 16 + 32, deadline: deadline)
        guard Array(reply[0..<5]) == Array("SMTA".utf8) + [1] else { throw TransportError("bad handshake reply from rank \(peer)") }
        let acceptor = Self.integer(reply[5..<9])
        guard acceptor == UInt32(peer) else { throw TransportError("expected rank \(peer), reached rank \(acceptor)") }
        let acceptorNonce = Array(reply[9..<25])
        let expected = mac("accept", nonce, acceptor, UInt32(rank))
        guard HMACSHA256.equal(Array(reply[25..<57]), expected) else {
            throw TransportError("rank \(peer) at this address does not hold the job secret")
        }
        try Self.write(fd, mac("connect", acceptorNonce, UInt32(rank), acceptor), deadline: deadline)
    }

    private func handshakeAsAcceptor(_ fd: Int32, deadline: Double) throws(TransportError) -> Int {
        let hello = try Self.read(fd, count: 4 + 1 + 4 + 16, deadline: deadline)
        guard Array(hello[0..<5]) == Array("SMTC".utf8) + [1] else { throw TransportError("not a SwiftMPI handshake") }
        let connector = Self.integer(hello[5..<9])
        guard Int(connector) > rank, Int(connector) < size else { throw TransportError("claims rank \(connector)") }
        let nonce = try Self.nonce()
        try Self.write(fd, Array("SMTA".utf8) + [1] + Self.bytes(UInt32(rank)) + nonce
                       + mac("accept", Array(hello[9..<25]), UInt32(rank), connector), deadline: deadline)
        let proof = try Self.read(fd, count: 32, deadline: deadline)
        guard HMACSHA256.equal(proof, mac("connect", nonce, connector, UInt32(rank))) else {
            throw TransportError("claims rank \(connector) without the job secret")
        }
        return Int(connector)
    }

    private func mac(_ label: String, _ nonce: [UInt8], _ first: UInt32, _ second: UInt32) -> [UInt8] {
        HMACSHA256.authenticate(Array(label.utf8) + nonce + Self.bytes(first) + Self.bytes(second), key: secret.bytes)
    }

    // MARK: - Data path

    /// Sends one frame to `peer` if nothing of an earlier frame is still waiting; false means no
    /// resources now. A frame the kernel takes only partly is finished by later progress (its rest
    /// is copied, so the caller's buffer is free when this returns true).
    public func trySend(to peer: Int, kind: PacketKind, header: PacketHeader, payload: UnsafeRawBufferPointer) -> Bool {
        guard let connection = connections[peer] else { return true }  // failed peer: dropped, reported by poll
        if connection.pendingStart < connection.pending.count {
            flush(connection, peer: peer)
            if connection.pendingStart < connection.pending.count { return false }
        }
        var frame = (kind, UInt8(0), UInt16(0), UInt32(truncatingIfNeeded: payload.count), header)
        let total = Self.frameHeaderLength + payload.count
        let written: Int = withUnsafeMutableBytes(of: &frame) { head in
            var vectors = [iovec(iov_base: head.baseAddress, iov_len: Self.frameHeaderLength),
                           iovec(iov_base: UnsafeMutableRawPointer(mutating: payload.baseAddress), iov_len: payload.count)]
            return vectors.withUnsafeMutableBufferPointer { iov in
                var message = msghdr()
                message.msg_iov = iov.baseAddress
                message.msg_iovlen = payload.count > 0 ? 2 : 1
                while true {
                    let n = sendmsg(connection.fd, &message, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                    if n >= 0 { return n }
                    if errno == EINTR { continue }
                    return errno == EAGAIN ? 0 : -1
                }
            }
        }
        if written < 0 {
            fail(peer, "send failed: \(SystemError.text(errno))")
            return true
        }
        if written < total {  // keep the rest, in order
            connection.pending.removeAll(keepingCapacity: true)
            connection.pendingStart = 0
            withUnsafeBytes(of: &frame) { head in
                if written < Self.frameHeaderLength { connection.pending += head[written..<Self.frameHeaderLength] }
            }
            let payloadSent = max(0, written - Self.frameHeaderLength)
            if payload.count > payloadSent { connection.pending += payload[payloadSent...] }
        }
        return true
    }

    private func flush(_ connection: Connection, peer: Int) {
        while connection.pendingStart < connection.pending.count {
            let n = connection.pending.withUnsafeBytes {
                send(connection.fd, $0.baseAddress! + connection.pendingStart, $0.count - connection.pendingStart, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if n > 0 {
                connection.pendingStart += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                if n < 0 && errno != EAGAIN { fail(peer, "send failed: \(SystemError.text(errno))") }
                return
            }
        }
        connection.pending.removeAll(keepingCapacity: true)
        connection.pendingStart = 0
    }

    /// True while some frame has bytes the kernel has not taken yet.
    public var hasPendingOutput: Bool {
        connections.contains { $0.map { $0.pendingStart < $0.pending.count } ?? false }
    }

    /// Reads what has arrived and hands each whole frame to `deliver` (sender's rank, kind, header,
    /// payload valid during the call). Returns the number of frames delivered.
    public func poll(_ deliver: (Int, PacketKind, PacketHeader, UnsafeRawBufferPointer) -> Void) -> Int {
        var delivered = 0
        for peer in 0..<size {
            guard let connection = connections[peer] else { continue }
            if connection.pendingStart < connection.pending.count { flush(connection, peer: peer) }
            delivered += receive(connection, peer: peer, deliver)
        }
        strayCheck &+= 1
        if strayCheck & 0x3FF == 0 { rejectStrays() }
        return delivered
    }

    private func receive(_ connection: Connection, peer: Int, _ deliver: (Int, PacketKind, PacketHeader, UnsafeRawBufferPointer) -> Void) -> Int {
        let input = connection.input
        if connection.inputStart > 0 && input.count - connection.inputEnd < 64 * 1024 {
            let remaining = connection.inputEnd - connection.inputStart
            if remaining > 0 { input.baseAddress!.copyMemory(from: input.baseAddress! + connection.inputStart, byteCount: remaining) }
            connection.inputStart = 0
            connection.inputEnd = remaining
        }
        let n = recv(connection.fd, input.baseAddress! + connection.inputEnd, input.count - connection.inputEnd, Int32(MSG_DONTWAIT))
        if n == 0 {
            fail(peer, "connection closed by rank \(peer)")
            return 0
        }
        if n < 0 {
            if errno != EAGAIN && errno != EINTR { fail(peer, "receive failed: \(SystemError.text(errno))") }
            return 0
        }
        connection.inputEnd += n
        var delivered = 0
        while connection.inputEnd - connection.inputStart >= Self.frameHeaderLength {
            let frame = input.baseAddress! + connection.inputStart
            let length = Int(frame.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            guard length <= Self.maxPayload else {
                fail(peer, "malformed frame of \(length) bytes from rank \(peer)")
                return delivered
            }
            guard connection.inputEnd - connection.inputStart >= Self.frameHeaderLength + length else { break }
            let kind = frame.load(as: UInt8.self)
            let header = frame.loadUnaligned(fromByteOffset: 8, as: PacketHeader.self)
            deliver(peer, kind, header, UnsafeRawBufferPointer(start: frame + Self.frameHeaderLength, count: length))
            connection.inputStart += Self.frameHeaderLength + length
            delivered += 1
        }
        if connection.inputStart == connection.inputEnd { connection.inputStart = 0; connection.inputEnd = 0 }
        return delivered
    }

    /// Peers whose connections broke since the last call, with the reasons.
    public func takeFailures() -> [(peer: Int, reason: String)] {
        defer { failures.removeAll() }
        return failures
    }

    /// True when some connection broke and has not been reported yet.
    public var hasFailures: Bool { !failures.isEmpty }

    private func fail(_ peer: Int, _ reason: String) {
        connections[peer] = nil
        failures.append((peer, reason))
    }

    /// Every pair connected at wire-up, so any later connection is a stranger: logged and closed.
    private func rejectStrays() {
        while true {
            var fd: Int32 = -1
            if cshims_accept_nonblocking(listenFD, &fd) != 0 { return }
            Self.log("rank \(rank): rejected a TCP connection from \(Self.peerName(fd)): it arrived after wire-up without a handshake")
            close(fd)
        }
    }

    /// Waits up to `milliseconds` for any connection to become readable (used when idle and
    /// oversubscribed, instead of spinning).
    public func waitForInput(milliseconds: Int32) {
        var requests = connections.compactMap { $0.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) } }
        guard !requests.isEmpty else { return }
        _ = Glibc.poll(&requests, nfds_t(requests.count), milliseconds)
    }

    // MARK: - Helpers

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }

    static func log(_ line: String) {
        let bytes = Array("SwiftMPI: \(line)\n".utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress!, $0.count) }
    }

    static func peerName(_ fd: Int32) -> String {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
        } == 0
        guard ok else { return "an unknown address" }
        var text = [CChar](repeating: 0, count: 64)
        inet_ntop(AF_INET, &address.sin_addr, &text, socklen_t(text.count))
        return text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) } + ":\(UInt16(bigEndian: address.sin_port))"
    }

    static func bytes(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }

    static func integer(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    static func nonce() throws(TransportError) -> [UInt8] {
        do { return Array(try JobSecret.generate().bytes.prefix(16)) } catch { throw TransportError("no randomness: \(error)") }
    }

    /// Opens a blocking TCP connection to "address:port", retrying while the peer is not listening yet.
    static func open(_ endpoint: String, deadline: Double) throws(TransportError) -> Int32 {
        let parts = endpoint.split(separator: ":")
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        guard parts.count == 2, let port = UInt16(parts[1]), inet_pton(AF_INET, String(parts[0]), &address.sin_addr) == 1 else {
            throw TransportError("malformed TCP endpoint '\(endpoint)'")
        }
        address.sin_port = port.bigEndian
        while true {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw TransportError("socket failed", errno: errno) }
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if result == 0 { return fd }
            let code = errno
            close(fd)
            guard now() < deadline, code == ECONNREFUSED || code == EINTR || code == ETIMEDOUT else {
                throw TransportError("cannot connect to \(endpoint)", errno: code)
            }
            usleep(10_000)
        }
    }

    static func write(_ fd: Int32, _ bytes: [UInt8], deadline: Double) throws(TransportError) {
        var offset = 0
        while offset < bytes.count {
            var request = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            guard Glibc.poll(&request, 1, Int32(max(0, (deadline - now()) * 1000))) > 0 else { throw TransportError("handshake timed out") }
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw TransportError("handshake send failed", errno: errno)
            }
            offset += n
        }
    }

    static func read(_ fd: Int32, count: Int, deadline: Double) throws(TransportError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            var request = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard Glibc.poll(&request, 1, Int32(max(0, (deadline - now()) * 1000))) > 0 else { throw TransportError("handshake timed out") }
            let n = bytes.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + offset, count - offset, 0) }
            if n == 0 { throw TransportError("connection closed during the handshake") }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw TransportError("handshake receive failed", errno: errno)
            }
            offset += n
        }
        return bytes
    }
}
