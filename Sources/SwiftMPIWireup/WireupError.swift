/// Failures of the wire-up between ranks and the launcher.
public enum WireupError: Error, Equatable, CustomStringConvertible {
    /// A launcher variable is present but invalid.
    case badEnvironment(String)
    /// A key-value frame could not be parsed (bad magic, version, length or field layout).
    case malformed(String)
    /// A request did not carry the job's secret.
    case unauthenticated
    /// A system call failed.
    case system(call: String, errno: Int32)
    /// The other side closed the connection.
    case closed
    /// The server answered a request with an error.
    case refused(String)
    /// A call into the resource manager's PMIx library failed.
    case pmix(String)

    /// A one-line explanation.
    public var description: String {
        switch self {
        case .badEnvironment(let why): return "bad launcher environment: \(why)"
        case .malformed(let why): return "malformed key-value message: \(why)"
        case .unauthenticated: return "key-value request without the job secret"
        case .system(let call, let errno): return "\(call) failed: \(SystemError.text(errno)) (errno \(errno))"
        case .closed: return "the key-value exchange closed the connection"
        case .refused(let why): return "the key-value exchange refused the request: \(why)"
        case .pmix(let why): return "PMIx: \(why)"
        }
    }
}
