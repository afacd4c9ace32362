#if canImport(Glibc)
import Glibc
#endif
@_exported import CMPI  // MPI_Comm and the other handle types, and the MPI_ functions, for Swift code
import SwiftMPI

// Swift objects as C handles and C handles as Swift objects, so that a Swift rank can call a C
// library taking `MPI_Comm` (HDF5, ScaLAPACK, PETSc, ...) on the same runtime, and use in Swift what
// such a library made. `import SwiftMPIC` (the C interface's module) brings these in; the program
// then links the C interface, and the library's MPI_ calls resolve to it (docs/C-ABI.md).
//
// The C interface joins the runtime a Swift `MPI.initialize()` started at the first handle asked
// for (or the first C call on MPI_COMM_WORLD): C code then sees MPI as initialized, with the
// world's thread level. At `.multiple` the C interface's lock is on from that join: a program whose
// threads call C before anything joined (no handle asked for, no call naming a communicator)
// must let one thread make that first call.

extension CInterface {
    /// Starts the C interface's world and self communicators over the runtime Swift code started,
    /// unless it is running already (or MPI is not initialized).
    static func joinSwiftRuntime() {
        guard worldEntry == nil, !finalized, let world = MPI.runningWorld, let selfCommunicator = try? MPI.commSelf else { return }
        let level = MPI.threadLevel ?? .single
        if level == .multiple { CInterfaceLock.enable() }
        CInterfaceLock.withLock {
            guard worldEntry == nil else { return }  // another thread joined first
            start(world: world, self: selfCommunicator)
            providedThreadLevel =
                switch level {
                case .single: MPI_THREAD_SINGLE
                case .funneled: MPI_THREAD_FUNNELED
                case .serialized: MPI_THREAD_SERIALIZED
                case .multiple: MPI_THREAD_MULTIPLE
                }
            mainThread = pthread_self()
        }
    }

    /// The C handle of a Swift object, or the call's error as Swift's.
    fileprivate static func swiftCall<R>(_ body: () throws(CError) -> R) throws(MPIError) -> R {
        do {
            return try body()
        } catch {
            throw MPIError(error.errorClass == MPI_ERR_ARG ? .invalidArgument : .notInitialized, error.message)
        }
    }

    fileprivate static func requireRunning(_ what: String) throws(CError) {
        joinSwiftRuntime()
        guard worldEntry != nil else {
            throw CError(MPI_ERR_OTHER, "\(what): MPI is not running (call MPI.initialize() first, and not after MPI.finalize())")
        }
    }

    fileprivate static func hex(_ handle: Int32) -> String { "0x" + String(UInt32(bitPattern: handle), radix: 16) }

    /// The Swift object a C handle names, found by `find`; a handle it rejects is `.invalidArgument`
    /// naming `call` and the handle.
    fileprivate static func object<R>(
        _ call: String, _ handle: Int32, requiresRunning: Bool = true, _ find: (Int32) throws(CError) -> R
    ) throws(MPIError) -> R {
        try swiftCall { () throws(CError) -> R in
            if requiresRunning { try requireRunning("\(call)(mpiHandle:)") }
            do throws(CError) {
                return try find(handle)
            } catch {
                throw CError(MPI_ERR_ARG, "\(call)(mpiHandle: \(hex(handle))): \(error.message)")
            }
        }
    }
}

extension Communicator {
    /// The `MPI_Comm` that names this communicator in C: `MPI_COMM_WORLD` and `MPI_COMM_SELF` for
    /// those two, and for any other a handle made at the first use — every copy of the communicator
    /// gets the same one — valid until MPI is finalized. C code must not free a handle it did not
    /// make (MPI's rule for libraries); a handle C code made (`MPI_Comm_dup`) is returned as it is.
    /// Throws `.notInitialized` when MPI is not running.
    public var mpiHandle: MPI_Comm {
        get throws(MPIError) {
            try CInterface.swiftCall { () throws(CError) -> MPI_Comm in
                try CInterface.requireRunning("Communicator.mpiHandle")
                let context = contextId
                if let world = CInterface.world, world.contextId == context { return MPI_COMM_WORLD }
                if let selfEntry = CInterface.selfEntry, selfEntry.takeUnretainedValue().communicator.contextId == context { return MPI_COMM_SELF }
                return CInterfaceLock.withLock {  // (one step: two threads asking get one handle)
                    if let known = CInterface.communicators.firstHandle(where: { $0.takeUnretainedValue().communicator.contextId == context }) {
                        return known
                    }
                    return CInterface.insert(self, from: MPI_COMM_WORLD)
                }
            }
        }
    }

    /// The communicator a C handle names: `MPI_COMM_WORLD`, `MPI_COMM_SELF`, or one C code made
    /// (it stays C's to free). Throws `.invalidArgument` for `MPI_COMM_NULL` or a handle that names
    /// no communicator.
    public init(mpiHandle: MPI_Comm) throws(MPIError) {
        self = try CInterface.object("Communicator", mpiHandle) { handle throws(CError) in try CInterface.communicator(handle) }
    }
}

extension Datatype {
    /// MPI's predefined handles of the Swift element types C programs use.
    private static let predefinedHandles: [String: (size: Int, handle: MPI_Datatype)] = [
        "Int8": (1, MPI_SIGNED_CHAR), "UInt8": (1, MPI_UNSIGNED_CHAR), "Int16": (2, MPI_SHORT), "UInt16": (2, MPI_UNSIGNED_SHORT),
        "Int32": (4, MPI_INT), "UInt32": (4, MPI_UNSIGNED), "Int64": (8, MPI_LONG), "UInt64": (8, MPI_UNSIGNED_LONG),
        "Int": (8, MPI_LONG), "UInt": (8, MPI_UNSIGNED_LONG), "Float": (4, MPI_FLOAT), "Double": (8, MPI_DOUBLE),
        "Bool": (1, MPI_C_BOOL)
    ]

    /// The `MPI_Datatype` that names this datatype in C: for a Swift integer, `Float`, `Double` or
    /// `Bool` element, MPI's predefined handle (`Datatype(Double.self)` is `MPI_DOUBLE`, `Int` is
    /// `MPI_LONG`, `Int32` is `MPI_INT`); for any other, a committed handle made at the first use and
    /// shared by the datatype's copies, valid until C frees it (`MPI_Type_free`) or MPI is
    /// finalized. Throws `.notInitialized` when MPI is not running.
    public var mpiHandle: MPI_Datatype {
        get throws(MPIError) {
            try CInterface.swiftCall { () throws(CError) -> MPI_Datatype in
                try CInterface.requireRunning("Datatype.mpiHandle")
                if let predefined = Self.predefinedHandles[description], predefined.size == size, size == extent { return predefined.handle }
                let identity = identity
                return CInterfaceLock.withLock {
                    if let known = CInterface.datatypes.firstHandle(where: { $0.datatype.identity == identity }) { return known }
                    return CInterface.datatypes.insert(CDatatype(self, committed: true))
                }
            }
        }
    }

    /// The datatype a C handle names: a predefined one (`MPI_DOUBLE`, `MPI_INT`, …) or one C code
    /// built (it stays C's to free; this copy lives on after that). Throws `.invalidArgument` for
    /// `MPI_DATATYPE_NULL` or a handle that names no datatype.
    public init(mpiHandle: MPI_Datatype) throws(MPIError) {
        self = try CInterface.object("Datatype", mpiHandle, requiresRunning: false) { handle throws(CError) in
            try CInterface.datatype(handle, forCommunication: false).datatype
        }
    }
}

extension Group {
    /// The `MPI_Group` that names this group in C: `MPI_GROUP_EMPTY` for an empty group, else a
    /// handle made at the first use and the same for equal groups after that, valid until C frees
    /// it (`MPI_Group_free`) or MPI is finalized. Throws `.notInitialized` when MPI is not running.
    public var mpiHandle: MPI_Group {
        get throws(MPIError) {
            try CInterface.swiftCall { () throws(CError) -> MPI_Group in
                try CInterface.requireRunning("Group.mpiHandle")
                if size == 0 { return MPI_GROUP_EMPTY }
                return CInterfaceLock.withLock {
                    if let known = CInterface.groups.firstHandle(where: { $0 == self }) { return known }
                    return CInterface.groups.insert(self)
                }
            }
        }
    }

    /// The group a C handle names (it stays C's to free). Throws `.invalidArgument` for
    /// `MPI_GROUP_NULL` or a handle that names no group.
    public init(mpiHandle: MPI_Group) throws(MPIError) {
        self = try CInterface.object("Group", mpiHandle) { handle throws(CError) in try CInterface.group(handle) }
    }
}

extension Request {
    /// Hands this request to C: a new `MPI_Request` that C code completes as its own (`MPI_Wait`,
    /// `MPI_Test`, … free the handle then, as for any nonpersistent request), its errors going to
    /// `MPI_COMM_WORLD`'s error handler. Waiting on it in Swift as well is allowed (the request
    /// completes once). Throws `.notInitialized` when MPI is not running.
    public func makeMPIHandle() throws(MPIError) -> MPI_Request {
        try CInterface.swiftCall { () throws(CError) -> MPI_Request in
            try CInterface.requireRunning("Request.makeMPIHandle()")
            return CInterface.requests.insert(CRequest(self, MPI_COMM_WORLD))
        }
    }

    /// Takes over a request C code started (`MPI_Isend`, `MPI_Irecv`, `MPI_Ibarrier`, …): the
    /// handle is freed and set to `MPI_REQUEST_NULL`, and the request is Swift's to wait on, test,
    /// cancel or `await`. Throws `.invalidArgument` for `MPI_REQUEST_NULL`, a handle that names no
    /// request, a persistent request (it belongs to its C handle until `MPI_Request_free`) and a
    /// collective whose result C copies out at completion.
    public static func takeOver(mpiHandle handle: inout MPI_Request) throws(MPIError) -> Request {
        let taken = try CInterface.swiftCall { () throws(CError) -> Request in
            let prefix = "Request.takeOver(mpiHandle: \(CInterface.hex(handle)))"
            guard let entry = try? CInterface.request(handle) else {
                throw CError(MPI_ERR_ARG, "\(prefix): not a request (MPI_REQUEST_NULL or an invalid handle)")
            }
            guard !entry.isPersistent, !entry.hasCompletion else {
                throw CError(MPI_ERR_ARG, "\(prefix): a \(entry.isPersistent ? "persistent request" : "collective that copies its result out") stays with C")
            }
            return CInterface.requests.take(handle)!
        }
        handle = MPI_REQUEST_NULL
        return taken
    }
}

extension ReduceOperation {
    /// The `MPI_Op` of a built-in operator (`.sum` is `MPI_SUM`, `.max` `MPI_MAX`, `.minloc()`
    /// `MPI_MINLOC`, …), for passing to a C library; nil for a ``custom(_:commutative:_:)``
    /// operator, which has no C function behind it.
    public var mpiHandle: MPI_Op? {
        guard isBuiltIn else { return nil }
        return switch name {
        case "sum": MPI_SUM
        case "product": MPI_PROD
        case "min": MPI_MIN
        case "max": MPI_MAX
        case "logicalAnd": MPI_LAND
        case "logicalOr": MPI_LOR
        case "logicalXor": MPI_LXOR
        case "bitwiseAnd": MPI_BAND
        case "bitwiseOr": MPI_BOR
        case "bitwiseXor": MPI_BXOR
        case "minloc": MPI_MINLOC
        case "maxloc": MPI_MAXLOC
        default: nil
        }
    }
}
