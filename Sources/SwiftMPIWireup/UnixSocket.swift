import CShims
#if canImport(Glibc)
import Glibc
#endif

/// Text for errno values, shared by the launcher and the runtime.
public enum SystemError {
    /// strerror(3) of `code`.
    public static func text(_ code: Int32) -> String { String(cString: strerror(code)) }
}

/// Retries `body` while it fails with EINTR; returns its result, or throws ``WireupError/system(call:errno:)``.
@inline(__always)
public func retryingInterrupts<T: BinaryInteger>(_ call: String, _ body: () -> T) throws(WireupError) -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = errno
        if code != EINTR { throw .system(call: call, errno: code) }
    }
}

/// Unix-domain stream sockets: the transport of the key-value exchange.
public enum UnixSocket {
    /// Creates a listening socket at `path` with mode 0600 (the caller owns the directory, 0700).
    /// Close-on-exec and nonblocking.
    public static func listen(path: String) throws(WireupError) -> Int32 {
        let fd = try retryingInterrupts("socket") { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0) }
        do {
            var address = try makeAddress(path)
            let oldMask = umask(0o177)
            defer { umask(oldMask) }
            _ = try retryingInterrupts("bind") {
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
                }
            }
            _ = try retryingInterrupts("chmod") { chmod(path, 0o600) }
            _ = try retryingInterrupts("listen") { Glibc.listen(fd, 128) }
            return fd
        } catch {
            close(fd)
            throw error
        }
    }

    /// Connects to the socket at `path`; blocking, close-on-exec.
    public static func connect(path: String) throws(WireupError) -> Int32 {
        let fd = try retryingInterrupts("socket") { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        do {
            var address = try makeAddress(path)
            _ = try retryingInterrupts("connect") {
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
                }
            }
            return fd
        } catch {
            close(fd)
            throw error
        }
    }

    /// Writes all of `bytes` to a blocking descriptor (MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE).
    public static func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws(WireupError) {
        var sent = 0
        while sent < bytes.count {
            let n = try retryingInterrupts("send") {
                bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            }
            sent += n
        }
    }

    /// The process id of the peer of a connected socket (SO_PEERCRED), or nil.
    public static func peerPID(_ fd: Int32) -> Int32? {
        var pid: pid_t = 0
        return cshims_socket_peer_pid(fd, &pid) == 0 ? pid : nil
    }

    private static func makeAddress(_ path: String) throws(WireupError) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else {
            throw .badEnvironment("socket path of \(bytes.count) bytes is longer than \(capacity - 1)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }
}
