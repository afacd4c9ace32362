#if canImport(Glibc)
import Glibc
#endif
import CMPI
import SwiftMPI

// Starting and ending MPI, the clock, versions, error classes and strings, error handlers.

private func initialize(_ required: Int32, _ function: StaticString) -> Int32 {
    cCall(function) {
        guard CInterface.world == nil else {
            throw CError(MPI_ERR_OTHER, CInterface.finalized ? "MPI cannot be initialized again after MPI_Finalize" : "MPI is already initialized")
        }
        // Every level is provided; MPI_THREAD_MULTIPLE turns on the C interface's lock (and the
        // runtime's), which the lower levels do without.
        let provided = min(max(required, MPI_THREAD_SINGLE), MPI_THREAD_MULTIPLE)
        let level: ThreadLevel =
            switch provided {
            case MPI_THREAD_SINGLE: .single
            case MPI_THREAD_FUNNELED: .funneled
            case MPI_THREAD_SERIALIZED: .serialized
            default: .multiple
            }
        if level == .multiple { CInterfaceLock.enable() }
        CInterface.start(world: try MPI.initialize(threadLevel: level), self: try MPI.commSelf)
        CInterface.providedThreadLevel = provided
        CInterface.mainThread = pthread_self()
    }
}

@_cdecl("PMPI_Init")
public func mpiInit(_ argc: UnsafeMutablePointer<Int32>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> Int32 {
    initialize(MPI_THREAD_SINGLE, "MPI_Init")
}

@_cdecl("PMPI_Init_thread")
public func mpiInitThread(
    _ argc: UnsafeMutablePointer<Int32>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?,
    _ required: Int32, _ provided: UnsafeMutablePointer<Int32>?
) -> Int32 {
    let result = initialize(required, "MPI_Init_thread")
    provided?.pointee = CInterface.providedThreadLevel
    return result
}

@_cdecl("PMPI_Finalize")
public func mpiFinalize() -> Int32 {
    cCall("MPI_Finalize") {
        // MPI: attributes on MPI_COMM_SELF are deleted first (libraries hook their cleanup there).
        CInterface.deleteAttributes(of: MPI_COMM_SELF)
        CInterface.deleteAttributes(of: MPI_COMM_WORLD)
        try MPI.finalize()
        CInterface.stop()
    }
}

@_cdecl("PMPI_Initialized")
public func mpiInitialized(_ flag: UnsafeMutablePointer<Int32>?) -> Int32 {
    flag?.pointee = CInterface.world != nil || CInterface.finalized || MPI.isInitialized ? 1 : 0
    return MPI_SUCCESS
}

@_cdecl("PMPI_Finalized")
public func mpiFinalized(_ flag: UnsafeMutablePointer<Int32>?) -> Int32 {
    flag?.pointee = CInterface.finalized ? 1 : 0
    return MPI_SUCCESS
}

@_cdecl("PMPI_Query_thread")
public func mpiQueryThread(_ provided: UnsafeMutablePointer<Int32>?) -> Int32 {
    provided?.pointee = CInterface.providedThreadLevel
    return MPI_SUCCESS
}

@_cdecl("PMPI_Is_thread_main")
public func mpiIsThreadMain(_ flag: UnsafeMutablePointer<Int32>?) -> Int32 {
    flag?.pointee = pthread_equal(pthread_self(), CInterface.mainThread) != 0 ? 1 : 0
    return MPI_SUCCESS
}

@_cdecl("PMPI_Abort")
public func mpiAbort(_ comm: MPI_Comm, _ errorCode: Int32) -> Int32 {
    let rank = CInterface.world.map { "rank \($0.rank): " } ?? ""
    MPI.abort(errorCode, message: "\(rank)MPI_Abort(\(errorCode)) called")
}

@_cdecl("PMPI_Wtime")
public func mpiWtime() -> Double { MPI.wtime() }

@_cdecl("PMPI_Wtick")
public func mpiWtick() -> Double { MPI.wtick() }

@_cdecl("PMPI_Get_processor_name")
public func mpiGetProcessorName(_ name: UnsafeMutablePointer<CChar>?, _ length: UnsafeMutablePointer<Int32>?) -> Int32 {
    CInterface.copy(MPI.processorName, into: name, capacity: Int(MPI_MAX_PROCESSOR_NAME), length: length)
    return MPI_SUCCESS
}

@_cdecl("PMPI_Get_version")
public func mpiGetVersion(_ version: UnsafeMutablePointer<Int32>?, _ subversion: UnsafeMutablePointer<Int32>?) -> Int32 {
    version?.pointee = MPI_VERSION
    subversion?.pointee = MPI_SUBVERSION
    return MPI_SUCCESS
}

@_cdecl("PMPI_Get_library_version")
public func mpiGetLibraryVersion(_ version: UnsafeMutablePointer<CChar>?, _ length: UnsafeMutablePointer<Int32>?) -> Int32 {
    let text = "SwiftMPI (MPICH 4.0.2 ABI, MPI \(MPI_VERSION).\(MPI_SUBVERSION))"
    CInterface.copy(text, into: version, capacity: Int(MPI_MAX_LIBRARY_VERSION_STRING), length: length)
    return MPI_SUCCESS
}

@_cdecl("PMPI_Error_string")
public func mpiErrorString(_ code: Int32, _ string: UnsafeMutablePointer<CChar>?, _ length: UnsafeMutablePointer<Int32>?) -> Int32 {
    let added = CInterfaceLock.withLock { CInterface.addedErrors[code] != nil ? CInterface.addedErrorStrings[code] ?? "" : nil }
    let text = added ?? ErrorText.text(code)
    CInterface.copy(text, into: string, capacity: Int(MPI_MAX_ERROR_STRING), length: length)
    return MPI_SUCCESS
}

@_cdecl("PMPI_Error_class")
public func mpiErrorClass(_ code: Int32, _ errorClass: UnsafeMutablePointer<Int32>?) -> Int32 {
    if let added = CInterfaceLock.withLock({ CInterface.addedErrors[code] }) {
        errorClass?.pointee = added
        return MPI_SUCCESS
    }
    guard code >= 0, code <= MPI_ERR_LASTCODE else {
        return CInterface.raise(CError(MPI_ERR_ARG, "\(code) is not an error code"), in: "MPI_Error_class", on: MPI_COMM_WORLD)
    }
    errorClass?.pointee = code
    return MPI_SUCCESS
}

@_cdecl("PMPI_Comm_set_errhandler")
public func mpiCommSetErrhandler(_ comm: MPI_Comm, _ handler: MPI_Errhandler) -> Int32 {
    cCall("MPI_Comm_set_errhandler", on: comm) {
        _ = try CInterface.communicator(comm)
        try CInterface.checkErrorHandler(handler)
        let entry = try CInterface.entry(comm).takeUnretainedValue()
        CInterfaceLock.withLock { entry.errorHandler = handler }
    }
}

@_cdecl("PMPI_Comm_get_errhandler")
public func mpiCommGetErrhandler(_ comm: MPI_Comm, _ handler: UnsafeMutablePointer<MPI_Errhandler>?) -> Int32 {
    cCall("MPI_Comm_get_errhandler", on: comm) {
        // The handler set on it, or inherited from a parent that had one set; MPI_ERRORS_ARE_FATAL
        // for the default (which raises on MPI_COMM_WORLD's handler), as MPICH answers.
        let entry = try CInterface.entry(comm)
        try output(handler, "errhandler").pointee = CInterfaceLock.withLock { entry.takeUnretainedValue().errorHandler } ?? MPI_ERRORS_ARE_FATAL
    }
}

@_cdecl("PMPI_Comm_call_errhandler")
public func mpiCommCallErrhandler(_ comm: MPI_Comm, _ code: Int32) -> Int32 {
    _ = CInterface.raise(CError(code, "raised by the program"), in: "MPI_Comm_call_errhandler", on: comm)
    return MPI_SUCCESS
}

@_cdecl("PMPI_Comm_create_errhandler")
public func mpiCommCreateErrhandler(_ function: CErrorHandler?, _ handler: UnsafeMutablePointer<MPI_Errhandler>?) -> Int32 {
    cCall("MPI_Comm_create_errhandler") {
        guard let function, let handler else { throw CError(MPI_ERR_ARG, "a null function or handle pointer") }
        let handle = CInterface.errorHandlerTable.insert(function)
        CInterface.setUserErrorHandler(function, for: handle)
        handler.pointee = handle
    }
}

@_cdecl("PMPI_Errhandler_free")
public func mpiErrhandlerFree(_ handler: UnsafeMutablePointer<MPI_Errhandler>?) -> Int32 {
    cCall("MPI_Errhandler_free") {
        guard let handler else { throw CError(MPI_ERR_ARG, "a null handle pointer") }
        guard handler.pointee != MPI_ERRHANDLER_NULL else { throw CError(MPI_ERR_ARG, "MPI_ERRHANDLER_NULL cannot be freed") }
        // Communicators using the handler keep calling it (MPI frees it when they are freed); the
        // handle itself becomes MPI_ERRHANDLER_NULL.
        handler.pointee = MPI_ERRHANDLER_NULL
    }
}

extension CInterface {
    /// Throws unless `handler` is a predefined error handler or one the program made.
    static func checkErrorHandler(_ handler: MPI_Errhandler) throws(CError) {
        let predefined = [MPI_ERRORS_ARE_FATAL, MPI_ERRORS_RETURN, MPI_ERRORS_ABORT, MPIR_ERRORS_THROW_EXCEPTIONS]
        guard predefined.contains(handler) || CInterface.userErrorHandler(handler) != nil else {
            throw CError(MPI_ERR_ARG, "invalid error handler 0x\(String(UInt32(bitPattern: handler), radix: 16))")
        }
    }
}
