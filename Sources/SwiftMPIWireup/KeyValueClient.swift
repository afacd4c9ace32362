#if canImport(Glibc)
import Glibc
#endif

/// A rank's connection to the launcher's key-value exchange.
///
/// One blocking request at a time; the connection stays open for the rank's lifetime, so the launcher
/// also learns from it when a rank is gone. Not thread-safe: the runtime serializes its use.
public final class KeyValueClient {
    private let fd: Int32
    private let secret: JobSecret
    private var decoder = KeyValueFrameDecoder()

    /// Connects to the exchange at `path` and introduces this process as `rank`.
    public init(path: String, secret: JobSecret, rank: Int) throws(WireupError) {
        self.fd = try UnixSocket.connect(path: path)
        self.secret = secret
        do {
            _ = try request(.hello(rank: rank, pid: getpid()))
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    /// Publishes `value` under `key`.
    public func put(_ key: String, _ value: [UInt8]) throws(WireupError) {
        _ = try request(.put(key: key, value: value))
    }

    /// The value under `key`, or nil if nobody has put it.
    public func get(_ key: String) throws(WireupError) -> [UInt8]? {
        switch try request(.get(key: key)) {
        case .ok(let value): return value
        case .notFound: return nil
        case .error(let message): throw .refused(message)
        }
    }

    /// Returns once every rank of the job has called fence; every earlier put is then visible.
    public func fence() throws(WireupError) { _ = try request(.fence) }

    /// Tells the launcher this rank finalized.
    public func finalize() throws(WireupError) { _ = try request(.finalize) }

    /// Asks the launcher to end the job with `code`. Best effort: returns when the launcher has
    /// acknowledged, or at once if it is gone.
    public func abort(code: Int32, message: String) {
        _ = try? request(.abort(code: code, message: message))
    }

    /// Sends one request and waits for its response.
    @discardableResult
    public func request(_ request: KeyValueRequest) throws(WireupError) -> KeyValueResponse {
        try UnixSocket.sendAll(fd, request.encoded(secret: secret))
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let response = try decoder.nextResponse() {
                if case .error(let message) = response { throw .refused(message) }
                return response
            }
            let n = try wireupSystemCall("recv") { chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) } }
            if n == 0 { throw .closed }
            decoder.append(chunk[0..<n])
        }
    }
}
