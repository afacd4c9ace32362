import CMPI
import SwiftMPI

// MPI-4 sessions through C (MPI_Session_init and friends) over SwiftMPI's Session: process sets,
// groups from them (then MPI_Comm_create_from_group), and a session's own error handler.

/// A session the C program holds: SwiftMPI's session and its error handler.
final class CSession {
    let session: Session
    var errorHandler: MPI_Errhandler

    init(_ session: Session, errorHandler: MPI_Errhandler) {
        self.session = session
        self.errorHandler = errorHandler
    }
}

extension CInterface {
    @exclusivity(unchecked) nonisolated(unsafe) static var sessions = HandleTable<CSession>(.session)

    static func session(_ handle: MPI_Session) throws(CError) -> CSession {
        guard let session = sessions[handle] else { throw CError(MPI_ERR_SESSION, "invalid session handle 0x\(String(UInt32(bitPattern: handle), radix: 16))") }
        return session
    }

    /// The error handler of `handle`'s session; for a handle that names none, MPI_COMM_SELF's (MPI-4.1
    /// §9.3: an error not tied to an object goes there).
    static func sessionErrorHandler(_ handle: MPI_Session) -> MPI_Errhandler {
        CInterfaceLock.withLock { sessions[handle]?.errorHandler } ?? errorHandler(of: MPI_COMM_SELF)
    }

    /// A process set's name from C.
    static func psetName(_ name: UnsafePointer<CChar>?) throws(CError) -> String { try string(name, "pset_name") }
}

@_cdecl("PMPI_Session_init")
public func mpiSessionInit(_ info: MPI_Info, _ errhandler: MPI_Errhandler, _ session: UnsafeMutablePointer<MPI_Session>?) -> Int32 {
    cCall("MPI_Session_init", handler: errhandler, object: MPI_SESSION_NULL) {
        guard let session else { throw CError(MPI_ERR_ARG, "a null session pointer") }
        let hints = try CInterface.info(info)
        try CInterface.checkErrorHandler(errhandler)
        // The info key "thread_level" asks for a thread level (MPI-4.1 §11.3.1), as MPI_Init_thread would.
        let level: ThreadLevel
        switch hints["thread_level"] {
        case "MPI_THREAD_MULTIPLE": level = .multiple
        case "MPI_THREAD_SERIALIZED": level = .serialized
        case "MPI_THREAD_FUNNELED": level = .funneled
        case "MPI_THREAD_SINGLE", nil: level = .single
        case let other?:
            throw CError(
                MPI_ERR_ARG,
                "info key thread_level is \"\(other)\"; MPI_THREAD_SINGLE, MPI_THREAD_FUNNELED, MPI_THREAD_SERIALIZED or MPI_THREAD_MULTIPLE")
        }
        if level == .multiple { CInterfaceLock.enable() }
        session.pointee = CInterface.sessions.insert(CSession(try Session.initialize(threadLevel: level), errorHandler: errhandler))
    }
}

@_cdecl("PMPI_Session_finalize")
public func mpiSessionFinalize(_ session: UnsafeMutablePointer<MPI_Session>?) -> Int32 {
    cCall("MPI_Session_finalize", handler: CInterface.sessionErrorHandler(session?.pointee ?? MPI_SESSION_NULL), object: session?.pointee ?? MPI_SESSION_NULL) {
        guard let session else { throw CError(MPI_ERR_ARG, "a null session pointer") }
        try CInterface.session(session.pointee).session.finalize()
        CInterface.sessions.remove(session.pointee)
        session.pointee = MPI_SESSION_NULL
    }
}

@_cdecl("PMPI_Session_get_num_psets")
public func mpiSessionGetNumPsets(_ session: MPI_Session, _ info: MPI_Info, _ count: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Session_get_num_psets", handler: CInterface.sessionErrorHandler(session), object: session) {
        count?.pointee = Int32(try CInterface.session(session).session.processSets.count)
    }
}

@_cdecl("PMPI_Session_get_nth_pset")
public func mpiSessionGetNthPset(
    _ session: MPI_Session, _ info: MPI_Info, _ n: Int32, _ length: UnsafeMutablePointer<Int32>?, _ name: UnsafeMutablePointer<CChar>?
) -> Int32 {
    cCall("MPI_Session_get_nth_pset", handler: CInterface.sessionErrorHandler(session), object: session) {
        guard let length else { throw CError(MPI_ERR_ARG, "a null length pointer") }
        let names = try CInterface.session(session).session.processSets
        guard n >= 0 && Int(n) < names.count else { throw CError(MPI_ERR_ARG, "process set \(n) of \(names.count)") }
        let utf8 = Array(names[Int(n)].utf8)
        // MPI: with pset_len 0 the call only gives the length (with the terminating null).
        if length.pointee > 0 {
            let name = try output(name, "pset_name")
            let copied = min(utf8.count, Int(length.pointee) - 1)
            for index in 0..<copied { name[index] = CChar(bitPattern: utf8[index]) }
            name[copied] = 0
        }
        length.pointee = Int32(utf8.count + 1)
    }
}

@_cdecl("PMPI_Session_get_pset_info")
public func mpiSessionGetPsetInfo(_ session: MPI_Session, _ name: UnsafePointer<CChar>?, _ info: UnsafeMutablePointer<MPI_Info>?) -> Int32 {
    cCall("MPI_Session_get_pset_info", handler: CInterface.sessionErrorHandler(session), object: session) {
        guard let info else { throw CError(MPI_ERR_ARG, "a null info pointer") }
        let group = try Group(session: try CInterface.session(session).session, pset: try CInterface.psetName(name))
        info.pointee = CInterface.infos.insert(try Info(["mpi_size": "\(group.size)"]))
    }
}

@_cdecl("PMPI_Session_get_info")
public func mpiSessionGetInfo(_ session: MPI_Session, _ info: UnsafeMutablePointer<MPI_Info>?) -> Int32 {
    cCall("MPI_Session_get_info", handler: CInterface.sessionErrorHandler(session), object: session) {
        guard let info else { throw CError(MPI_ERR_ARG, "a null info pointer") }
        let level = try CInterface.session(session).session.threadLevel
        let name =
            switch level {
            case .single: "MPI_THREAD_SINGLE"
            case .funneled: "MPI_THREAD_FUNNELED"
            case .serialized: "MPI_THREAD_SERIALIZED"
            case .multiple: "MPI_THREAD_MULTIPLE"
            }
        info.pointee = CInterface.infos.insert(try Info(["thread_level": name]))
    }
}

@_cdecl("PMPI_Group_from_session_pset")
public func mpiGroupFromSessionPset(_ session: MPI_Session, _ name: UnsafePointer<CChar>?, _ group: UnsafeMutablePointer<MPI_Group>?) -> Int32 {
    cCall("MPI_Group_from_session_pset", handler: CInterface.sessionErrorHandler(session), object: session) {
        try CInterface.storeGroup(try Group(session: try CInterface.session(session).session, pset: try CInterface.psetName(name)), into: group)
    }
}

@_cdecl("PMPI_Session_create_errhandler")
public func mpiSessionCreateErrhandler(_ function: CErrorHandler?, _ handler: UnsafeMutablePointer<MPI_Errhandler>?) -> Int32 {
    // (A session's handler has a communicator handler's C type: (MPI_Session *, int *, ...).)
    mpiCommCreateErrhandler(function, handler)
}

@_cdecl("PMPI_Session_set_errhandler")
public func mpiSessionSetErrhandler(_ session: MPI_Session, _ handler: MPI_Errhandler) -> Int32 {
    cCall("MPI_Session_set_errhandler", handler: CInterface.sessionErrorHandler(session), object: session) {
        try CInterface.checkErrorHandler(handler)
        try CInterface.session(session).errorHandler = handler
    }
}

@_cdecl("PMPI_Session_get_errhandler")
public func mpiSessionGetErrhandler(_ session: MPI_Session, _ handler: UnsafeMutablePointer<MPI_Errhandler>?) -> Int32 {
    cCall("MPI_Session_get_errhandler", handler: CInterface.sessionErrorHandler(session), object: session) {
        handler?.pointee = try CInterface.session(session).errorHandler
    }
}

@_cdecl("PMPI_Session_call_errhandler")
public func mpiSessionCallErrhandler(_ session: MPI_Session, _ code: Int32) -> Int32 {
    cCall("MPI_Session_call_errhandler", handler: CInterface.sessionErrorHandler(session), object: session) {
        let handler = try CInterface.session(session).errorHandler
        switch handler {
        case MPI_ERRORS_RETURN, MPIR_ERRORS_THROW_EXCEPTIONS:
            return
        case MPI_ERRORS_ARE_FATAL, MPI_ERRORS_ABORT:
            MPI.abort(code, message: "MPI_Session_call_errhandler: error \(code) raised by the program (MPI_ERRORS_ARE_FATAL)")
        default:
            guard let function = CInterface.userErrorHandler(handler) else { return }
            var sessionHandle = session
            var errorCode = code
            function(&sessionHandle, &errorCode)
        }
    }
}
