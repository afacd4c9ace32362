import CShims
#if canImport(Glibc)
import Glibc
#endif

/// Unix-domain stream sockets: the transport of the key-value exchange.
///
/// The launcher and its daemons listen in Linux's abstract socket namespace (an address written
/// `@name`): nothing is created in the file system, so nothing can be left behind when a launcher is
/// killed, and the name is gone with the last descriptor. Abstract addresses have no permission
/// bits, so the servers check every peer's user (``acceptFromOwnUser(_:)``) and every request's job
/// secret. Clients also accept a file-system path.
public enum UnixSocket {
    /// What ``acceptFromOwnUser(_:)`` found.
    public enum Acceptance {
        /// A connection from a process of this process's effective user (close-on-exec, nonblocking).
        case accepted(Int32)
        /// A connection that was closed at once, and why (to be reported).
        case refused(String)
        /// No connection is pending.
        case nonePending
    }

    /// Listens on a fresh abstract address `@<prefix>-<16 random hex digits>` and returns the
    /// descriptor (close-on-exec, nonblocking) and the address to hand to clients.
    public static func listenAbstract(prefix: String) throws(WireupError) -> (fd: Int32, address: String) {
        var attempts = 0
        while true {
            let address = "@\(prefix)-\(try JobSecret.generate().hex.prefix(16))"
            let fd = try wireupSystemCall("socket") {
                socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            }
            do {
                var (socketAddress, length) = try makeAddress(address)
                _ = try wireupSystemCall("bind") {
                    withUnsafePointer(to: &socketAddress) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
                    }
                }
                _ = try wireupSystemCall("listen") { Glibc.listen(fd, 128) }
                return (fd, address)
            } catch {
                close(fd)
                attempts += 1
                // Another process holds this name (64 random bits: someone squatting): draw again.
                guard case .system(call: "bind", errno: EADDRINUSE) = error, attempts < 8 else { throw error }
            }
        }
    }

    /// Accepts one pending connection if its peer runs as this process's effective user; closes it
    /// otherwise. Never blocks.
    public static func acceptFromOwnUser(_ listenFD: Int32) -> Acceptance {
        var fd: Int32 = -1
        guard cshims_accept_nonblocking(listenFD, &fd) == 0 else { return .nonePending }
        var pid: pid_t = 0
        var uid: uid_t = 0
        guard cshims_socket_peer_credentials(fd, &pid, &uid) == 0 else {
            close(fd)
            return .refused("refused a key-value connection whose peer is unknown")
        }
        guard uid == geteuid() else {
            close(fd)
            return .refused("refused key-value connection from pid \(pid): it runs as user \(uid), not as the job's user \(geteuid())")
        }
        return .accepted(fd)
    }

    /// Connects to `address` (`@name` for an abstract address, else a path); blocking, close-on-exec.
    public static func connect(path address: String) throws(WireupError) -> Int32 {
        var (socketAddress, length) = try makeAddress(address)
        while true {
            let fd = try wireupSystemCall("socket") { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
            do {
                _ = try systemCallOnce("connect") {
                    withUnsafePointer(to: &socketAddress) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
                    }
                }
                return fd
            } catch {
                close(fd)
                // An interrupted connect goes on without the caller (calling it again on the same
                // socket fails with EALREADY): start over on a new socket.
                guard error.code == EINTR else { throw WireupError(error) }
            }
        }
    }

    /// Writes all of `bytes` to a blocking descriptor (MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE).
    public static func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws(WireupError) {
        var sent = 0
        while sent < bytes.count {
            let n = try wireupSystemCall("send") {
                bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            }
            sent += n
        }
    }

    /// The process id of the peer of a connected socket (SO_PEERCRED), or nil.
    public static func peerPID(_ fd: Int32) -> Int32? {
        var pid: pid_t = 0
        var uid: uid_t = 0
        return cshims_socket_peer_credentials(fd, &pid, &uid) == 0 ? pid : nil
    }

    /// The socket address of `address` and its length: an abstract name (after `@`) is the bytes
    /// after a leading NUL, counted by the length; a path is NUL-terminated.
    private static func makeAddress(_ address: String) throws(WireupError) -> (sockaddr_un, socklen_t) {
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        let abstract = address.hasPrefix("@")
        let bytes = abstract ? [0] + Array(address.utf8.dropFirst()) : Array(address.utf8)
        let capacity = MemoryLayout.size(ofValue: socketAddress.sun_path)
        let minimum = abstract ? 2 : 1
        guard (minimum..<capacity).contains(bytes.count) else {
            throw .badEnvironment("socket address '\(address)' is empty or longer than \(capacity - 1) bytes")
        }
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
        let length = abstract ? pathOffset + bytes.count : MemoryLayout<sockaddr_un>.size
        return (socketAddress, socklen_t(length))
    }
}
