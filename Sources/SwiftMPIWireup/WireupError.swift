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
    /// A connection's ``Handshake`` failed (a stranger, a wrong peer, a proof that does not check, a
    /// timeout).
    case handshake(String)

    /// A one-line explanation.
    public var description: String {
        switch self {
        case .badEnvironment(let why): return "bad launcher environment: \(why)"
        case .malformed(let why): return "malformed key-value message: \(why)"
        case .unauthenticated: return "key-value request without the job secret"
        case .system(let call, let errno): return "\(call): \(SystemError.describe(errno))"
        case .closed: return "the other side closed the connection"
        case .refused(let why): return "the key-value exchange refused the request: \(why)"
        case .pmix(let why): return "PMIx: \(why)"
        case .handshake(let why): return "handshake failed: \(why)"
        }
    }
}

extension WireupError {
    /// ``system(call:errno:)`` for a failed system call.
    public init(_ error: SystemCallError) {
        self = .system(call: error.call.description, errno: error.code)
    }
}

/// ``systemCall(_:_:)`` for the wire-up layer, whose functions throw ``WireupError``.
@inline(__always)
func wireupSystemCall<Result: FixedWidthInteger & SignedInteger>(
    _ call: StaticString, _ body: () -> Result
) throws(WireupError) -> Result {
    do { return try systemCall(call, body) } catch { throw WireupError(error) }
}

/// ``nonblockingSystemCall(_:_:)`` for the wire-up layer, whose functions throw ``WireupError``
/// (and for the TCP transport's handshakes).
@inline(__always)
public func wireupNonblockingSystemCall<Result: FixedWidthInteger & SignedInteger>(
    _ call: StaticString, _ body: () -> Result
) throws(WireupError) -> SystemCallResult<Result> {
    do { return try nonblockingSystemCall(call, body) } catch { throw WireupError(error) }
}
