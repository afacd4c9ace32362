#if canImport(Glibc)
import Glibc
#endif

// The one way SwiftMPI calls a function that reports failure through errno: retry EINTR, read errno
// right after the failing call (before anything else can overwrite it), hand back EAGAIN/EWOULDBLOCK
// as a value where the caller polls, and throw a typed error naming the call otherwise. Functions
// that return an errno instead of setting it (the cshims_ functions) go through
// SystemCallError.check.
//
// It lives in the wire-up layer, the one module the launcher, the transports and the engine all
// import. Everything here is inlined and allocates nothing unless an error is printed, so the
// transports' data paths can use it too.
//
// Failures are thrown, never trapped, whatever the errno (EBADF and EFAULT included): the launcher and
// the wire-up work on descriptors that the environment names (PMI_FD) or that peers close, so
// a bad descriptor is not always this program's bug, and the caller knows what to say about it.

/// A system call that failed: which call, and the errno it left.
///
/// Holds a static name and an integer, so throwing it costs no allocation; the text is made only when
/// the error is printed: `"recv: Connection reset by peer (ECONNRESET)"`.
public struct SystemCallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The function that failed, as written in C (`"recv"`, `"cshims_spawn"`).
    public let call: StaticString
    /// The errno value it reported.
    public let code: Int32

    /// An error for `call` failing with errno `code`.
    @inline(__always)
    public init(_ call: StaticString, code: Int32) {
        self.call = call
        self.code = code
    }

    /// Throws unless `status` is 0: for the functions that return 0 or a positive errno instead of
    /// setting errno (every `cshims_` function, `pthread_*`, `posix_spawn`, verbs calls).
    @inline(__always)
    public static func check(_ call: StaticString, _ status: Int32) throws(SystemCallError) {
        if status != 0 { throw SystemCallError(call, code: status) }
    }

    /// `"call: Text of the error (ENAME)"`.
    public var description: String { "\(call): \(SystemError.describe(code))" }

    public static func == (left: SystemCallError, right: SystemCallError) -> Bool {
        left.code == right.code && left.call.description == right.call.description
    }
}

/// What a nonblocking call did (see ``nonblockingSystemCall(_:_:)``).
public enum SystemCallResult<Value> {
    /// The call succeeded and returned this value.
    case done(Value)
    /// The descriptor is not ready (EAGAIN or EWOULDBLOCK): nothing happened; try again when poll(2)
    /// reports it ready.
    case wouldBlock
}

extension SystemCallResult: Sendable where Value: Sendable {}
extension SystemCallResult: Equatable where Value: Equatable {}

/// Calls `body` — one call of a C function that returns -1 and sets errno on failure (read, send,
/// poll, socket, ...) — until it is not interrupted, and returns its result.
///
/// `body` must make that one call and return its result directly: errno is read as soon as `body`
/// returns. EINTR is retried; any other errno, EAGAIN included, is thrown as
/// ``SystemCallError`` naming `call` (use ``nonblockingSystemCall(_:_:)`` on nonblocking descriptors).
///
/// ```swift
/// let n = try systemCall("recv") { recv(fd, buffer.baseAddress, buffer.count, 0) }
/// ```
@inline(__always)
public func systemCall<Result: FixedWidthInteger & SignedInteger>(
    _ call: StaticString, _ body: () -> Result
) throws(SystemCallError) -> Result {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = errno
        if code != EINTR { throw SystemCallError(call, code: code) }
    }
}

/// ``systemCall(_:_:)`` for nonblocking descriptors: EAGAIN and EWOULDBLOCK come back as
/// ``SystemCallResult/wouldBlock``, not as an error.
///
/// ```swift
/// switch try nonblockingSystemCall("send") { send(fd, bytes, count, MSG_DONTWAIT | MSG_NOSIGNAL) } {
/// case .done(let sent): offset += sent
/// case .wouldBlock: return  // poll for POLLOUT first
/// }
/// ```
@inline(__always)
public func nonblockingSystemCall<Result: FixedWidthInteger & SignedInteger>(
    _ call: StaticString, _ body: () -> Result
) throws(SystemCallError) -> SystemCallResult<Result> {
    while true {
        let result = body()
        if result != -1 { return .done(result) }
        let code = errno
        if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
        if code != EINTR { throw SystemCallError(call, code: code) }
    }
}

/// Calls `body` — one call of a C function that returns -1 and sets errno on failure — once, and
/// returns its result or throws its errno, EINTR included: for the calls that must not simply be
/// made again when interrupted (connect(2), whose connection goes on in the background; close(2),
/// whose descriptor is gone even when it reports EINTR).
@inline(__always)
public func systemCallOnce<Result: FixedWidthInteger & SignedInteger>(
    _ call: StaticString, _ body: () -> Result
) throws(SystemCallError) -> Result {
    let result = body()
    if result != -1 { return result }
    throw SystemCallError(call, code: errno)
}

/// Text for errno values, shared by the launcher and the runtime.
public enum SystemError {
    /// strerror(3) of `code`: `"Connection reset by peer"`.
    public static func text(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// The text and the symbolic name of `code`: `"Connection reset by peer (ECONNRESET)"`.
    public static func describe(_ code: Int32) -> String { "\(text(code)) (\(name(code)))" }

    /// The symbolic name of `code` (`"ECONNRESET"`), or `"errno N"` for a value not listed here.
    /// (glibc's strerrorname_np is not visible to Swift; the values come from Glibc, so the names
    /// are right on every architecture.)
    public static func name(_ code: Int32) -> String {
        switch code {
        case EPERM: return "EPERM"
        case ENOENT: return "ENOENT"
        case ESRCH: return "ESRCH"
        case EINTR: return "EINTR"
        case EIO: return "EIO"
        case ENXIO: return "ENXIO"
        case E2BIG: return "E2BIG"
        case ENOEXEC: return "ENOEXEC"
        case EBADF: return "EBADF"
        case ECHILD: return "ECHILD"
        case EAGAIN: return "EAGAIN"
        case ENOMEM: return "ENOMEM"
        case EACCES: return "EACCES"
        case EFAULT: return "EFAULT"
        case EBUSY: return "EBUSY"
        case EEXIST: return "EEXIST"
        case EXDEV: return "EXDEV"
        case ENODEV: return "ENODEV"
        case ENOTDIR: return "ENOTDIR"
        case EISDIR: return "EISDIR"
        case EINVAL: return "EINVAL"
        case ENFILE: return "ENFILE"
        case EMFILE: return "EMFILE"
        case ENOTTY: return "ENOTTY"
        case ETXTBSY: return "ETXTBSY"
        case EFBIG: return "EFBIG"
        case ENOSPC: return "ENOSPC"
        case ESPIPE: return "ESPIPE"
        case EROFS: return "EROFS"
        case EMLINK: return "EMLINK"
        case EPIPE: return "EPIPE"
        case EDOM: return "EDOM"
        case ERANGE: return "ERANGE"
        case EDEADLK: return "EDEADLK"
        case ENAMETOOLONG: return "ENAMETOOLONG"
        case ENOLCK: return "ENOLCK"
        case ENOSYS: return "ENOSYS"
        case ENOTEMPTY: return "ENOTEMPTY"
        case ELOOP: return "ELOOP"
        case ENOMSG: return "ENOMSG"
        case EIDRM: return "EIDRM"
        case ENODATA: return "ENODATA"
        case ETIME: return "ETIME"
        case ENOLINK: return "ENOLINK"
        case EPROTO: return "EPROTO"
        case EBADMSG: return "EBADMSG"
        case EOVERFLOW: return "EOVERFLOW"
        case ELIBACC: return "ELIBACC"
        case EILSEQ: return "EILSEQ"
        case ENOTSOCK: return "ENOTSOCK"
        case EDESTADDRREQ: return "EDESTADDRREQ"
        case EMSGSIZE: return "EMSGSIZE"
        case EPROTOTYPE: return "EPROTOTYPE"
        case ENOPROTOOPT: return "ENOPROTOOPT"
        case EPROTONOSUPPORT: return "EPROTONOSUPPORT"
        case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT"
        case ENOTSUP: return "ENOTSUP"
        case EPFNOSUPPORT: return "EPFNOSUPPORT"
        case EAFNOSUPPORT: return "EAFNOSUPPORT"
        case EADDRINUSE: return "EADDRINUSE"
        case EADDRNOTAVAIL: return "EADDRNOTAVAIL"
        case ENETDOWN: return "ENETDOWN"
        case ENETUNREACH: return "ENETUNREACH"
        case ENETRESET: return "ENETRESET"
        case ECONNABORTED: return "ECONNABORTED"
        case ECONNRESET: return "ECONNRESET"
        case ENOBUFS: return "ENOBUFS"
        case EISCONN: return "EISCONN"
        case ENOTCONN: return "ENOTCONN"
        case ESHUTDOWN: return "ESHUTDOWN"
        case ETOOMANYREFS: return "ETOOMANYREFS"
        case ETIMEDOUT: return "ETIMEDOUT"
        case ECONNREFUSED: return "ECONNREFUSED"
        case EHOSTDOWN: return "EHOSTDOWN"
        case EHOSTUNREACH: return "EHOSTUNREACH"
        case EALREADY: return "EALREADY"
        case EINPROGRESS: return "EINPROGRESS"
        case ESTALE: return "ESTALE"
        case EDQUOT: return "EDQUOT"
        case ECANCELED: return "ECANCELED"
        case EOWNERDEAD: return "EOWNERDEAD"
        case ENOTRECOVERABLE: return "ENOTRECOVERABLE"
        default: return "errno \(code)"
        }
    }
}
