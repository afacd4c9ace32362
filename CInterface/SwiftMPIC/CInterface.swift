#if canImport(Glibc)
import Glibc
#endif
import CMPI
import SwiftMPI

/// A C error handler (MPI_Comm_create_errhandler), called as `handler(&comm, &code)`; the C type is
/// variadic, which the x86-64 and AArch64 calling conventions let us call with two arguments.
public typealias CErrorHandler = @convention(c) (UnsafeMutablePointer<MPI_Comm>, UnsafeMutablePointer<Int32>) -> Void

/// A communicator the C program holds, with what the C interface keeps beside it.
struct CCommunicator {
    var communicator: Communicator
    var errorHandler: MPI_Errhandler = MPI_ERRORS_ARE_FATAL
}

/// The C interface's state: the communicators, datatypes, requests, operations and error handlers
/// behind the program's handles. The world and self communicators have MPICH's predefined handles.
enum CInterface {
    nonisolated(unsafe) static var world: Communicator?
    nonisolated(unsafe) static var selfCommunicator: Communicator?
    nonisolated(unsafe) static var worldErrorHandler = MPI_ERRORS_ARE_FATAL
    nonisolated(unsafe) static var selfErrorHandler = MPI_ERRORS_ARE_FATAL
    nonisolated(unsafe) static var communicators = HandleTable<CCommunicator>(.communicator)
    nonisolated(unsafe) static var userErrorHandlers: [MPI_Errhandler: CErrorHandler] = [:]
    nonisolated(unsafe) static var errorHandlerTable = HandleTable<CErrorHandler>(.errhandler)
    nonisolated(unsafe) static var providedThreadLevel = MPI_THREAD_SINGLE
    nonisolated(unsafe) static var mainThread = pthread_self()
    nonisolated(unsafe) static var finalized = false

    /// The communicator `handle` names.
    @inline(__always)
    static func communicator(_ handle: MPI_Comm) throws(CError) -> Communicator {
        if handle == MPI_COMM_WORLD, let world { return world }
        if handle == MPI_COMM_SELF, let selfCommunicator { return selfCommunicator }
        if let entry = communicators[handle] { return entry.communicator }
        if world == nil { throw CError(MPI_ERR_OTHER, finalized ? "called after MPI_Finalize" : "called before MPI_Init") }
        throw CError(
            MPI_ERR_COMM,
            handle == MPI_COMM_NULL ? "MPI_COMM_NULL is not a communicator" : "invalid communicator handle 0x\(String(UInt32(bitPattern: handle), radix: 16))")
    }

    /// The error handler of `comm` (MPI_ERRORS_ARE_FATAL for a handle that names none).
    static func errorHandler(of comm: MPI_Comm) -> MPI_Errhandler {
        switch comm {
        case MPI_COMM_WORLD: worldErrorHandler
        case MPI_COMM_SELF: selfErrorHandler
        default: communicators[comm]?.errorHandler ?? worldErrorHandler
        }
    }

    /// Stores a communicator the program made; it inherits `parent`'s error handler.
    static func insert(_ communicator: Communicator?, from parent: MPI_Comm) -> MPI_Comm {
        guard let communicator else { return MPI_COMM_NULL }
        return communicators.insert(CCommunicator(communicator: communicator, errorHandler: errorHandler(of: parent)))
    }

    /// A C rank as SwiftMPI's (the wildcards and MPI_PROC_NULL have other values in Swift).
    @inline(__always)
    static func rank(_ rank: Int32) -> Int {
        switch rank {
        case MPI_ANY_SOURCE: MPI.anySource
        case MPI_PROC_NULL: MPI.procNull
        case MPI_ROOT: MPI.root
        default: Int(rank)
        }
    }

    /// A SwiftMPI rank as C's.
    @inline(__always)
    static func cRank(_ rank: Int) -> Int32 {
        switch rank {
        case MPI.anySource: MPI_ANY_SOURCE
        case MPI.procNull: MPI_PROC_NULL
        default: Int32(truncatingIfNeeded: rank)
        }
    }

    /// Writes `status` where the program asked for it (not to MPI_STATUS_IGNORE), with MPICH's
    /// encoding of the byte count and the cancelled bit.
    @inline(__always)
    static func store(_ status: Status, into pointer: UnsafeMutablePointer<MPI_Status>?) {
        guard let pointer, Int(bitPattern: pointer) != 1 else { return }
        pointer.pointee.count_lo = Int32(truncatingIfNeeded: status.byteCount)
        pointer.pointee.count_hi_and_cancelled = Int32(truncatingIfNeeded: (status.byteCount >> 32) << 1) | (status.isCancelled ? 1 : 0)
        pointer.pointee.MPI_SOURCE = cRank(status.source)
        pointer.pointee.MPI_TAG = Int32(truncatingIfNeeded: status.tag)
    }

    /// The byte count a C status holds.
    static func byteCount(of status: UnsafePointer<MPI_Status>) -> Int {
        Int(UInt32(bitPattern: status.pointee.count_lo)) | Int(status.pointee.count_hi_and_cancelled >> 1) << 32
    }

    /// Writes a Swift string into a C buffer of `capacity` bytes (NUL-terminated, cut to fit) and
    /// stores its length.
    static func copy(_ text: String, into buffer: UnsafeMutablePointer<CChar>?, capacity: Int, length: UnsafeMutablePointer<Int32>?) {
        let bytes = Array(text.utf8.prefix(capacity - 1))
        if let buffer {
            for (index, byte) in bytes.enumerated() { buffer[index] = CChar(bitPattern: byte) }
            buffer[bytes.count] = 0
        }
        length?.pointee = Int32(bytes.count)
    }
}
