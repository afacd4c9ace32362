#if canImport(Glibc)
import Glibc
#endif
import CMPI
import SwiftMPI

/// A C error handler (MPI_Comm_create_errhandler), called as `handler(&comm, &code)`; the C type is
/// variadic, which the x86-64 and AArch64 calling conventions let us call with two arguments.
public typealias CErrorHandler = @convention(c) (UnsafeMutablePointer<MPI_Comm>, UnsafeMutablePointer<Int32>) -> Void

/// A communicator the C program holds, with what the C interface keeps beside it. A class, held
/// unmanaged by its handle, so that a call borrows the communicator in place: no reference counting
/// on the path of every message.
final class CCommunicator {
    let communicator: Communicator
    /// The handler set on it or inherited from a parent that had one set; nil for the default,
    /// which is MPI_COMM_WORLD's handler at the time of the error (MPICH's rule: a program that
    /// sets MPI_ERRORS_RETURN on the world after making communicators gets it on them too). Read
    /// and set under ``CInterfaceLock``.
    var errorHandler: MPI_Errhandler?

    init(_ communicator: Communicator, errorHandler: MPI_Errhandler?) {
        self.communicator = communicator
        self.errorHandler = errorHandler
    }
}

/// The C interface's state: the communicators, datatypes, requests, operations and error handlers
/// behind the program's handles. The world and self communicators have MPICH's predefined handles.
///
/// Every `nonisolated(unsafe)` static of the C interface (here and in the other files of this
/// module) is either set once, while one thread runs (`MPI_Init_thread`: the world and self
/// entries, the thread level), or read and changed under ``CInterfaceLock``, which is on at
/// MPI_THREAD_MULTIPLE; below that level one thread at a time is inside an MPI call, with the
/// happens-before the program's own serialization gives. `@exclusivity(unchecked)` drops the
/// dynamic checks the same rules make unnecessary.
enum CInterface {
    @exclusivity(unchecked) nonisolated(unsafe) static var worldEntry: Unmanaged<CCommunicator>?
    @exclusivity(unchecked) nonisolated(unsafe) static var selfEntry: Unmanaged<CCommunicator>?
    @exclusivity(unchecked) nonisolated(unsafe) static var communicators = HandleTable<Unmanaged<CCommunicator>>(.communicator)
    /// The program's error handler functions by handle, under ``CInterfaceLock``.
    @exclusivity(unchecked) nonisolated(unsafe) private static var userErrorHandlers: [MPI_Errhandler: CErrorHandler] = [:]
    @exclusivity(unchecked) nonisolated(unsafe) static var errorHandlerTable = HandleTable<CErrorHandler>(.errhandler)
    @exclusivity(unchecked) nonisolated(unsafe) static var providedThreadLevel = MPI_THREAD_SINGLE
    @exclusivity(unchecked) nonisolated(unsafe) static var mainThread = pthread_self()
    @exclusivity(unchecked) nonisolated(unsafe) static var finalized = false

    /// The program's error handler function behind `handle`.
    static func userErrorHandler(_ handle: MPI_Errhandler) -> CErrorHandler? { CInterfaceLock.withLock { userErrorHandlers[handle] } }

    /// Records the program's error handler function behind `handle`.
    static func setUserErrorHandler(_ function: CErrorHandler, for handle: MPI_Errhandler) {
        CInterfaceLock.withLock { userErrorHandlers[handle] = function }
    }

    /// The world communicator between MPI_Init and MPI_Finalize.
    static var world: Communicator? { worldEntry?.takeUnretainedValue().communicator }

    /// Starts the C interface's world and self communicators.
    static func start(world: Communicator, self selfCommunicator: Communicator) {
        worldEntry = .passRetained(CCommunicator(world, errorHandler: nil))
        selfEntry = .passRetained(CCommunicator(selfCommunicator, errorHandler: nil))
    }

    /// Ends them (MPI_Finalize).
    static func stop() {
        worldEntry?.release()
        selfEntry?.release()
        worldEntry = nil
        selfEntry = nil
        finalized = true
    }

    /// The entry of the communicator `handle` names.
    @inline(__always)
    static func entry(_ handle: MPI_Comm) throws(CError) -> Unmanaged<CCommunicator> {
        if handle == MPI_COMM_WORLD, let worldEntry { return worldEntry }
        if handle == MPI_COMM_SELF, let selfEntry { return selfEntry }
        if let entry = communicators[handle] { return entry }
        if worldEntry == nil && MPI.runningWorld != nil {  // a Swift program's C library, before any handle was asked for
            joinSwiftRuntime()
            return try entry(handle)
        }
        if worldEntry == nil { throw CError(MPI_ERR_OTHER, finalized ? "called after MPI_Finalize" : "called before MPI_Init") }
        throw CError(
            MPI_ERR_COMM,
            handle == MPI_COMM_NULL ? "MPI_COMM_NULL is not a communicator" : "invalid communicator handle 0x\(String(UInt32(bitPattern: handle), radix: 16))")
    }

    /// Runs `body` with the communicator `handle` names, borrowed where it is stored.
    @inline(__always)
    static func withCommunicator<R>(_ handle: MPI_Comm, _ body: (borrowing Communicator) throws -> R) throws -> R {
        try entry(handle)._withUnsafeGuaranteedRef { try body($0.communicator) }
    }

    /// A copy of the communicator `handle` names.
    static func communicator(_ handle: MPI_Comm) throws(CError) -> Communicator {
        try entry(handle).takeUnretainedValue().communicator
    }

    /// The error handler of `comm`: its own, else (the default, or a handle that names no
    /// communicator) the world's.
    static func errorHandler(of comm: MPI_Comm) -> MPI_Errhandler {
        let own = try? entry(comm)
        return CInterfaceLock.withLock {
            own?.takeUnretainedValue().errorHandler ?? worldEntry?.takeUnretainedValue().errorHandler ?? MPI_ERRORS_ARE_FATAL
        }
    }

    /// Stores a communicator the program made; it inherits the handler set on `parent`, or the
    /// default when none was.
    static func insert(_ communicator: Communicator?, from parent: MPI_Comm) -> MPI_Comm {
        guard let communicator else { return MPI_COMM_NULL }
        let inherited = (try? entry(parent)).flatMap { entry in CInterfaceLock.withLock { entry.takeUnretainedValue().errorHandler } }
        return communicators.insert(.passRetained(CCommunicator(communicator, errorHandler: inherited)))
    }

    /// Frees a communicator the program made; nil when `handle` names none.
    static func remove(_ handle: MPI_Comm) -> Communicator? {
        guard let entry = communicators.remove(handle) else { return nil }
        defer { entry.release() }
        return entry.takeUnretainedValue().communicator
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
        // MPI's empty status (a null or inactive request's) also has error MPI_SUCCESS; other
        // single completions leave MPI_ERROR alone, as MPI says.
        if status == .empty { pointer.pointee.MPI_ERROR = MPI_SUCCESS }
    }

    /// The byte count a C status holds.
    static func byteCount(of status: UnsafePointer<MPI_Status>) -> Int {
        Int(UInt32(bitPattern: status.pointee.count_lo)) | Int(UInt32(bitPattern: status.pointee.count_hi_and_cancelled) >> 1) << 32
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
