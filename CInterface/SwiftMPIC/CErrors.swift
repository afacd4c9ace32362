#if canImport(Glibc)
import Glibc
#endif
import CMPI
import SwiftMPI

/// A failed C call: MPI's error class and the text `MPI_Error_string` gives for it.
struct CError: Error {
    let errorClass: Int32
    let message: String

    init(_ errorClass: Int32, _ message: String) {
        self.errorClass = errorClass
        self.message = message
    }

    /// The class MPI gives a SwiftMPI error, with its message.
    init(_ error: MPIError) {
        let errorClass: Int32 =
            switch error.code {
            case .invalidRank: MPI_ERR_RANK
            case .invalidTag: MPI_ERR_TAG
            case .invalidCount: MPI_ERR_COUNT
            case .invalidDatatype: MPI_ERR_TYPE
            case .truncate: MPI_ERR_TRUNCATE
            case .bufferExhausted: MPI_ERR_BUFFER
            case .processFailed: MPIX_ERR_PROC_FAILED
            case .processFailedPending: MPIX_ERR_PROC_FAILED_PENDING
            case .revoked: MPIX_ERR_REVOKED
            case .collectiveMismatch: MPI_ERR_NOT_SAME
            case .rmaSynchronization: MPI_ERR_RMA_SYNC
            case .rmaRange: MPI_ERR_RMA_RANGE
            case .invalidArgument: MPI_ERR_ARG
            case .notInitialized, .alreadyInitialized, .alreadyFinalized: MPI_ERR_OTHER
            case .cancelled: MPI_ERR_REQUEST
            case .internalError: MPI_ERR_INTERN
            case .noSuchFile: MPI_ERR_NO_SUCH_FILE
            case .fileExists: MPI_ERR_FILE_EXISTS
            case .accessDenied: MPI_ERR_ACCESS
            case .noSpace: MPI_ERR_NO_SPACE
            case .readOnly: MPI_ERR_READ_ONLY
            case .io: MPI_ERR_IO
            case .invalidMode: MPI_ERR_AMODE
            case .badFile: MPI_ERR_BAD_FILE
            case .notSame: MPI_ERR_NOT_SAME
            case .unsupportedDataRepresentation: MPI_ERR_UNSUPPORTED_DATAREP
            default: MPI_ERR_OTHER
            }
        self.init(errorClass, error.message)
    }

    /// A call of a feature SwiftMPI's C interface does not have yet.
    static func unsupported(_ function: String, _ what: String = "") -> CError {
        CError(MPI_ERR_UNSUPPORTED_OPERATION, "\(function) is not supported by SwiftMPI yet\(what.isEmpty ? "" : ": \(what)")")
    }
}

/// What MPI_Error_string says about each class, followed by the last message raised in it.
enum ErrorText {
    /// The last message raised in each class, under ``CInterfaceLock``.
    @exclusivity(unchecked) nonisolated(unsafe) private static var lastMessages: [Int32: String] = [:]

    /// The last message raised in `errorClass`.
    static func lastMessage(_ errorClass: Int32) -> String? { CInterfaceLock.withLock { lastMessages[errorClass] } }

    /// Records `text` as the last message raised in `errorClass` (out of line: error paths only).
    @inline(never)
    static func record(_ text: String, in errorClass: Int32) { CInterfaceLock.withLock { lastMessages[errorClass] = text } }

    static func className(_ errorClass: Int32) -> String {
        switch errorClass {
        case MPI_SUCCESS: "MPI_SUCCESS: no error"
        case MPI_ERR_BUFFER: "MPI_ERR_BUFFER: invalid buffer"
        case MPI_ERR_COUNT: "MPI_ERR_COUNT: invalid count"
        case MPI_ERR_TYPE: "MPI_ERR_TYPE: invalid datatype"
        case MPI_ERR_TAG: "MPI_ERR_TAG: invalid tag"
        case MPI_ERR_COMM: "MPI_ERR_COMM: invalid communicator"
        case MPI_ERR_RANK: "MPI_ERR_RANK: invalid rank"
        case MPI_ERR_ROOT: "MPI_ERR_ROOT: invalid root"
        case MPI_ERR_GROUP: "MPI_ERR_GROUP: invalid group"
        case MPI_ERR_OP: "MPI_ERR_OP: invalid reduction operation"
        case MPI_ERR_ARG: "MPI_ERR_ARG: invalid argument"
        case MPI_ERR_TRUNCATE: "MPI_ERR_TRUNCATE: message truncated"
        case MPI_ERR_OTHER: "MPI_ERR_OTHER: other error"
        case MPI_ERR_INTERN: "MPI_ERR_INTERN: internal error"
        case MPI_ERR_IN_STATUS: "MPI_ERR_IN_STATUS: error code in status"
        case MPI_ERR_PENDING: "MPI_ERR_PENDING: pending request"
        case MPI_ERR_REQUEST: "MPI_ERR_REQUEST: invalid request"
        case MPI_ERR_NOT_SAME: "MPI_ERR_NOT_SAME: ranks disagree in a collective call"
        case MPI_ERR_PROC_ABORTED: "MPI_ERR_PROC_ABORTED: a peer process failed"
        case MPIX_ERR_PROC_FAILED: "MPIX_ERR_PROC_FAILED: a process failed"
        case MPIX_ERR_PROC_FAILED_PENDING: "MPIX_ERR_PROC_FAILED_PENDING: a wildcard receive waits for the acknowledgement of a failure"
        case MPIX_ERR_REVOKED: "MPIX_ERR_REVOKED: the communicator was revoked"
        case MPI_ERR_UNSUPPORTED_OPERATION: "MPI_ERR_UNSUPPORTED_OPERATION: unsupported operation"
        case MPI_ERR_KEYVAL: "MPI_ERR_KEYVAL: invalid attribute key"
        case MPI_ERR_INFO: "MPI_ERR_INFO: invalid info object"
        default: "MPI error class \(errorClass)"
        }
    }

    /// MPI_Error_string's text for `code` (SwiftMPI's codes are its classes).
    static func text(_ code: Int32) -> String {
        let name = className(code)
        guard let last = lastMessage(code) else { return name }
        return "\(name) (last: \(last))"
    }
}

extension CInterface {
    /// Hands `error`, raised by `function` on `comm`, to the communicator's error handler and returns
    /// the code the function returns (when the handler returns at all).
    static func raise(_ error: CError, in function: String, on comm: MPI_Comm) -> Int32 {
        raise(error, in: function, handler: errorHandler(of: comm), object: comm)
    }

    /// Hands `error` to `handler`, which a call on `object` (a communicator's or a session's handle,
    /// which a program's handler receives) raised.
    static func raise(_ error: CError, in function: String, handler: MPI_Errhandler, object: Int32) -> Int32 {
        let text = "\(function): \(error.message)"
        ErrorText.record(text, in: error.errorClass)
        switch handler {
        case MPI_ERRORS_RETURN, MPIR_ERRORS_THROW_EXCEPTIONS:
            return error.errorClass
        case MPI_ERRORS_ARE_FATAL, MPI_ERRORS_ABORT:
            let rank = world.map { "rank \($0.rank): " } ?? ""
            MPI.abort(error.errorClass, message: "\(rank)\(text) (\(ErrorText.className(error.errorClass)); MPI_ERRORS_ARE_FATAL)")
        default:
            if let function = CInterface.userErrorHandler(handler) {
                var objectHandle = object
                var code = error.errorClass
                function(&objectHandle, &code)
                return code  // what the handler left there (MPICH returns it: a handler may clear the error)
            }
            return error.errorClass
        }
    }
}

/// Runs `body`, the work of the C function `function` on `comm`, and returns MPI_SUCCESS or what the
/// communicator's error handler makes of the error it throws.
@inline(__always)
func cCall(_ function: StaticString, on comm: MPI_Comm = MPI_COMM_WORLD, _ body: () throws -> Void) -> Int32 {
    do {
        try body()
        return MPI_SUCCESS
    } catch let error as CError {
        return CInterface.raise(error, in: "\(function)", on: comm)
    } catch let error as MPIError {
        return CInterface.raise(CError(error), in: "\(function)", on: comm)
    } catch {
        return CInterface.raise(CError(MPI_ERR_INTERN, "\(error)"), in: "\(function)", on: comm)
    }
}

/// Runs `body`, the work of the C function `function`, and returns MPI_SUCCESS or what `handler`
/// makes of the error it throws, as raised on `object` (a session's calls, and those that name the
/// handler to use: MPI_Session_init, MPI_Comm_create_from_group).
func cCall(_ function: StaticString, handler: @autoclosure () -> MPI_Errhandler, object: Int32, _ body: () throws -> Void) -> Int32 {
    do {
        try body()
        return MPI_SUCCESS
    } catch let error as CError {
        return CInterface.raise(error, in: "\(function)", handler: handler(), object: object)
    } catch let error as MPIError {
        return CInterface.raise(CError(error), in: "\(function)", handler: handler(), object: object)
    } catch {
        return CInterface.raise(CError(MPI_ERR_INTERN, "\(error)"), in: "\(function)", handler: handler(), object: object)
    }
}

/// The output argument `pointer` (named `name` in the MPI standard) of a C call, which MPI requires:
/// MPI_ERR_ARG naming it when the program passed NULL (as MPICH checks).
@inline(__always)
func output<T>(_ pointer: UnsafeMutablePointer<T>?, _ name: StaticString) throws(CError) -> UnsafeMutablePointer<T> {
    guard let pointer else { throw CError(MPI_ERR_ARG, "a null \(name) pointer") }
    return pointer
}

/// The body of every function SwiftMPI's C interface does not implement yet (CMPI/unsupported.c):
/// MPI_ERR_UNSUPPORTED_OPERATION through the world's error handler, naming the function.
@_cdecl("swiftmpi_unsupported")
public func unsupported(_ function: UnsafePointer<CChar>) -> Int32 {
    let name = String(cString: function)
    return CInterface.raise(CError.unsupported(name), in: name, on: MPI_COMM_WORLD)
}
