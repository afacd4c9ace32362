#if canImport(Glibc)
import Glibc
#endif
import CMPI
import SwiftMPI

// Parallel I/O (MPI_File_*) over SwiftMPI's `File`. An MPI_File is the address of a CFile (MPICH's
// MPI_File is a pointer too), retained from MPI_File_open to MPI_File_close. Memory of any committed
// datatype is packed before a write and unpacked after a read; views take any datatype the Swift
// `setView` accepts (MPI_File_get_view returns new handles for derived ones, as MPI says: the program
// frees them). The nonblocking and split-collective forms move the data in the call that starts
// them (docs/C-ABI.md). A file's error handler is MPI_ERRORS_RETURN unless set, as MPI says; the one
// set on MPI_FILE_NULL is what later opens and MPI_File_delete use.

/// A file the C program holds: the Swift file, its error handler, the view's handles as the program
/// gave them (MPI_File_get_view returns them), and the result of a split collective in progress.
final class CFile {
    let file: File
    /// Read and set under ``CInterfaceLock``.
    var errorHandler: MPI_Errhandler
    /// The view's element and file types: a predefined handle, or a copy of a derived type (the
    /// program may free its handle after MPI_File_set_view; MPI_File_get_view hands out new ones).
    var elementType = ViewType.predefined(MPI_BYTE)
    var fileType = ViewType.predefined(MPI_BYTE)
    var representation = "native"
    var splitStatus: Status?

    init(_ file: File, errorHandler: MPI_Errhandler) {
        self.file = file
        self.errorHandler = errorHandler
    }
}

/// A datatype of a file view as MPI_File_get_view returns it.
enum ViewType {
    case predefined(MPI_Datatype)
    case derived(CDatatype)

    init(_ handle: MPI_Datatype) throws(CError) {
        let type = try CInterface.datatype(handle)
        self = CInterface.predefinedDatatypes[handle] != nil || CInterface.basicSize(handle) > 0 ? .predefined(handle) : .derived(type)
    }

    /// A handle for the program: the predefined one, or a new derived datatype it must free.
    func handle() -> MPI_Datatype {
        switch self {
        case .predefined(let handle): handle
        case .derived(let type): CInterface.datatypes.insert(type)
        }
    }
}

extension CInterface {
    /// The files MPI_File_c2f has named, by their Fortran integer (0: MPI_FILE_NULL); a closed file's
    /// slot is emptied, so its integer names no file afterwards. Under ``CInterfaceLock``, like the
    /// other C-interface tables.
    @exclusivity(unchecked) nonisolated(unsafe) static var fortranFiles: [MPI_File?] = [nil]

    /// The error handler of MPI_FILE_NULL: new files start with it. Under ``CInterfaceLock``, as
    /// each file's own `errorHandler` is.
    @exclusivity(unchecked) nonisolated(unsafe) static var defaultFileErrorHandler = MPI_ERRORS_RETURN

    /// The CFile an MPI_File names; throws MPI_ERR_FILE for MPI_FILE_NULL.
    static func file(_ handle: MPI_File?) throws(CError) -> CFile {
        guard let handle else { throw CError(MPI_ERR_FILE, "MPI_FILE_NULL is not an open file") }
        return Unmanaged<CFile>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    }

    /// What the handler of `file` (or MPI_FILE_NULL's) makes of `error`.
    static func raise(_ error: CError, in function: String, file: CFile?, handle: MPI_File?) -> Int32 {
        ErrorText.record("\(function): \(error.message)", in: error.errorClass)
        let handler = CInterfaceLock.withLock { file?.errorHandler ?? defaultFileErrorHandler }
        switch handler {
        case MPI_ERRORS_RETURN, MPIR_ERRORS_THROW_EXCEPTIONS:
            return error.errorClass
        case let handler:
            if let user = CInterface.userErrorHandler(handler) {
                var code = error.errorClass
                var fileHandle = handle
                // A file handler has the C type of a communicator's ((MPI_File *, int *, ...)).
                withUnsafeMutablePointer(to: &fileHandle) { pointer in
                    pointer.withMemoryRebound(to: MPI_Comm.self, capacity: 1) { user($0, &code) }
                }
                return code  // what the handler left there (MPICH returns it: a handler may clear the error)
            }
            let rank = world.map { "rank \($0.rank): " } ?? ""
            MPI.abort(error.errorClass, message: "\(rank)\(function): \(error.message) (\(ErrorText.className(error.errorClass)); MPI_ERRORS_ARE_FATAL)")
        }
    }
}

/// Runs `body` on the file `handle` names; errors go to its error handler.
func fileCall(_ function: StaticString, _ handle: MPI_File?, _ body: (CFile) throws -> Void) -> Int32 {
    var entry: CFile? = nil
    do {
        let file = try CInterface.file(handle)
        entry = file
        try body(file)
        return MPI_SUCCESS
    } catch {
        let cError = error as? CError ?? (error as? MPIError).map(CError.init) ?? CError(MPI_ERR_INTERN, "\(error)")
        return CInterface.raise(cError, in: "\(function)", file: entry, handle: handle)
    }
}

/// A call on no open file (MPI_File_open, MPI_File_delete): errors go to MPI_FILE_NULL's handler.
func noFileCall(_ function: StaticString, _ body: () throws -> Void) -> Int32 {
    do {
        try body()
        return MPI_SUCCESS
    } catch {
        let cError = error as? CError ?? (error as? MPIError).map(CError.init) ?? CError(MPI_ERR_INTERN, "\(error)")
        return CInterface.raise(cError, in: "\(function)", file: nil, handle: nil)
    }
}

/// A C string argument, checked.
private func string(_ pointer: UnsafePointer<CChar>?, _ what: String) throws(CError) -> String {
    guard let pointer else { throw CError(MPI_ERR_ARG, "a null \(what)") }
    return String(cString: pointer)
}

// MARK: - Opening, closing, deleting

@_cdecl("PMPI_File_open")
public func mpiFileOpen(
    _ comm: MPI_Comm, _ filename: UnsafePointer<CChar>?, _ amode: Int32, _ info: MPI_Info, _ fh: UnsafeMutablePointer<MPI_File?>?
) -> Int32 {
    noFileCall("MPI_File_open") {
        guard let fh else { throw CError(MPI_ERR_ARG, "a null file handle pointer") }
        let communicator = try CInterface.communicator(comm)
        let file = try File.open(
            on: communicator, path: try string(filename, "file name"), mode: File.Mode(rawValue: amode), info: try CInterface.info(info))
        let entry = CFile(file, errorHandler: CInterfaceLock.withLock { CInterface.defaultFileErrorHandler })
        fh.pointee = OpaquePointer(Unmanaged.passRetained(entry).toOpaque())
    }
}

@_cdecl("PMPI_File_close")
public func mpiFileClose(_ fh: UnsafeMutablePointer<MPI_File?>?) -> Int32 {
    guard let fh else { return noFileCall("MPI_File_close") { throw CError(MPI_ERR_ARG, "a null file handle pointer") } }
    let result = fileCall("MPI_File_close", fh.pointee) { entry in try entry.file.close() }
    if result == MPI_SUCCESS, let handle = fh.pointee {
        CInterfaceLock.withLock {
            if let slot = CInterface.fortranFiles.firstIndex(where: { $0 == handle }) { CInterface.fortranFiles[slot] = nil }
        }
        Unmanaged<CFile>.fromOpaque(UnsafeRawPointer(handle)).release()
        fh.pointee = nil
    }
    return result
}

/// MPI_File_c2f: the Fortran integer that names `file` (0 for MPI_FILE_NULL), the same for every
/// call while the file is open.
@_cdecl("PMPI_File_c2f")
public func mpiFileC2F(_ file: MPI_File?) -> MPI_Fint {
    guard let file else { return 0 }
    return CInterfaceLock.withLock {
        if let slot = CInterface.fortranFiles.firstIndex(where: { $0 == file }) { return MPI_Fint(slot) }
        if let free = CInterface.fortranFiles.indices.dropFirst().first(where: { CInterface.fortranFiles[$0] == nil }) {
            CInterface.fortranFiles[free] = file  // a closed file's slot, taken again
            return MPI_Fint(free)
        }
        CInterface.fortranFiles.append(file)
        return MPI_Fint(CInterface.fortranFiles.count - 1)
    }
}

/// MPI_File_f2c: the file a Fortran integer from MPI_File_c2f names; MPI_FILE_NULL for 0, for a
/// closed file's integer and for any other.
@_cdecl("PMPI_File_f2c")
public func mpiFileF2C(_ file: MPI_Fint) -> MPI_File? {
    return CInterfaceLock.withLock {
        guard file > 0, Int(file) < CInterface.fortranFiles.count else { return nil }
        return CInterface.fortranFiles[Int(file)]
    }
}

@_cdecl("PMPI_File_delete")
public func mpiFileDelete(_ filename: UnsafePointer<CChar>?, _ info: MPI_Info) -> Int32 {
    noFileCall("MPI_File_delete") { try File.delete(path: try string(filename, "file name")) }
}

// MARK: - Size, group, mode, info, view

@_cdecl("PMPI_File_set_size")
public func mpiFileSetSize(_ fh: MPI_File?, _ size: MPI_Offset) -> Int32 {
    fileCall("MPI_File_set_size", fh) { try $0.file.setSize(Int(size)) }
}

@_cdecl("PMPI_File_preallocate")
public func mpiFilePreallocate(_ fh: MPI_File?, _ size: MPI_Offset) -> Int32 {
    fileCall("MPI_File_preallocate", fh) { try $0.file.preallocate(Int(size)) }
}

@_cdecl("PMPI_File_get_size")
public func mpiFileGetSize(_ fh: MPI_File?, _ size: UnsafeMutablePointer<MPI_Offset>?) -> Int32 {
    fileCall("MPI_File_get_size", fh) { entry in
        guard let size else { throw CError(MPI_ERR_ARG, "a null size pointer") }
        size.pointee = MPI_Offset(try entry.file.size)
    }
}

@_cdecl("PMPI_File_get_group")
public func mpiFileGetGroup(_ fh: MPI_File?, _ group: UnsafeMutablePointer<MPI_Group>?) -> Int32 {
    fileCall("MPI_File_get_group", fh) { entry in try CInterface.storeGroup(entry.file.communicator.group, into: group) }
}

@_cdecl("PMPI_File_get_amode")
public func mpiFileGetAmode(_ fh: MPI_File?, _ amode: UnsafeMutablePointer<Int32>?) -> Int32 {
    fileCall("MPI_File_get_amode", fh) { entry in
        guard let amode else { throw CError(MPI_ERR_ARG, "a null mode pointer") }
        amode.pointee = entry.file.mode.rawValue
    }
}

@_cdecl("PMPI_File_set_info")
public func mpiFileSetInfo(_ fh: MPI_File?, _ info: MPI_Info) -> Int32 {
    fileCall("MPI_File_set_info", fh) { entry in try entry.file.setInfo(try CInterface.info(info)) }
}

@_cdecl("PMPI_File_get_info")
public func mpiFileGetInfo(_ fh: MPI_File?, _ info: UnsafeMutablePointer<MPI_Info>?) -> Int32 {
    fileCall("MPI_File_get_info", fh) { entry in
        guard let info else { throw CError(MPI_ERR_ARG, "a null info pointer") }
        info.pointee = CInterface.infos.insert(entry.file.info)
    }
}

@_cdecl("PMPI_File_set_view")
public func mpiFileSetView(
    _ fh: MPI_File?, _ disp: MPI_Offset, _ etype: MPI_Datatype, _ filetype: MPI_Datatype, _ datarep: UnsafePointer<CChar>?, _ info: MPI_Info
) -> Int32 {
    fileCall("MPI_File_set_view", fh) { entry in
        let representation = try string(datarep, "data representation")
        var displacement = Int(disp)
        if disp == MPI_Offset(MPI_DISPLACEMENT_CURRENT) {
            guard entry.file.mode.contains(.sequential) else {
                throw CError(MPI_ERR_ARG, "MPI_DISPLACEMENT_CURRENT is only for files opened MPI_MODE_SEQUENTIAL")
            }
            displacement = try entry.file.byteOffset(ofElement: try entry.file.sharedPosition)
        }
        let (elementType, fileType) = (try CInterface.datatype(etype).datatype, try CInterface.datatype(filetype).datatype)
        do {
            try entry.file.setView(displacement: displacement, elementType: elementType, fileType: fileType, representation: representation)
        } catch let error as MPIError where error.code == .invalidDatatype {
            // A view MPI does not allow is MPI_ERR_IO's class, as in MPICH (ROMIO): its tests expect it.
            throw CError(MPI_ERR_IO, error.rank.map { "rank \($0): " + error.message } ?? error.message)
        }
        try entry.file.setInfo(try CInterface.info(info))
        (entry.elementType, entry.fileType, entry.representation) = (try ViewType(etype), try ViewType(filetype), representation)
    }
}

@_cdecl("PMPI_File_get_view")
public func mpiFileGetView(
    _ fh: MPI_File?, _ disp: UnsafeMutablePointer<MPI_Offset>?, _ etype: UnsafeMutablePointer<MPI_Datatype>?,
    _ filetype: UnsafeMutablePointer<MPI_Datatype>?, _ datarep: UnsafeMutablePointer<CChar>?
) -> Int32 {
    fileCall("MPI_File_get_view", fh) { entry in
        guard let disp, let etype, let filetype else { throw CError(MPI_ERR_ARG, "a null output pointer") }
        disp.pointee = MPI_Offset(entry.file.currentView.displacement)
        etype.pointee = entry.elementType.handle()
        filetype.pointee = entry.fileType.handle()
        if let datarep { CInterface.copy(entry.representation, into: datarep, capacity: Int(MPI_MAX_DATAREP_STRING), length: nil) }
    }
}

/// MPI_File_get_type_extent's work, also MPI_File_get_type_extent_c's (MPI_Aint and MPI_Count are
/// both 64-bit here): the extent in memory, which is also the extent in the file — in "external32"
/// too, as SwiftMPI's external32 views take only types whose elements keep their size there.
private func typeExtent(_ function: StaticString, _ fh: MPI_File?, _ datatype: MPI_Datatype, _ extent: UnsafeMutablePointer<Int>?) -> Int32 {
    fileCall(function, fh) { _ in
        guard let extent else { throw CError(MPI_ERR_ARG, "a null extent pointer") }
        extent.pointee = try CInterface.datatype(datatype, forCommunication: false).datatype.extent
    }
}

@_cdecl("PMPI_File_get_type_extent")
public func mpiFileGetTypeExtent(_ fh: MPI_File?, _ datatype: MPI_Datatype, _ extent: UnsafeMutablePointer<MPI_Aint>?) -> Int32 {
    typeExtent("MPI_File_get_type_extent", fh, datatype, extent)
}

@_cdecl("PMPI_File_get_type_extent_c")
public func mpiFileGetTypeExtentC(_ fh: MPI_File?, _ datatype: MPI_Datatype, _ extent: UnsafeMutablePointer<MPI_Count>?) -> Int32 {
    typeExtent("MPI_File_get_type_extent_c", fh, datatype, extent)
}

@_cdecl("PMPI_File_set_atomicity")
public func mpiFileSetAtomicity(_ fh: MPI_File?, _ flag: Int32) -> Int32 {
    fileCall("MPI_File_set_atomicity", fh) { $0.file.atomicity = flag != 0 }
}

@_cdecl("PMPI_File_get_atomicity")
public func mpiFileGetAtomicity(_ fh: MPI_File?, _ flag: UnsafeMutablePointer<Int32>?) -> Int32 {
    fileCall("MPI_File_get_atomicity", fh) { entry in
        guard let flag else { throw CError(MPI_ERR_ARG, "a null flag pointer") }
        flag.pointee = entry.file.atomicity ? 1 : 0
    }
}

@_cdecl("PMPI_File_sync")
public func mpiFileSync(_ fh: MPI_File?) -> Int32 {
    fileCall("MPI_File_sync", fh) { try $0.file.sync() }
}

// MARK: - Split collectives' ends (their `_begin` calls, in FileAccess.swift, move the data)

private func end(_ entry: CFile, _ function: StaticString, _ status: UnsafeMutablePointer<MPI_Status>?) throws {
    guard let done = entry.splitStatus else { throw CError(MPI_ERR_OTHER, "\(function) without its _begin") }
    entry.splitStatus = nil
    CInterface.store(done, into: status)
}

@_cdecl("PMPI_File_write_at_all_end")
public func mpiFileWriteAtAllEnd(_ fh: MPI_File?, _ buf: UnsafeRawPointer?, _ status: UnsafeMutablePointer<MPI_Status>?) -> Int32 {
    fileCall("MPI_File_write_at_all_end", fh) { try end($0, "MPI_File_write_at_all_end", status) }
}

@_cdecl("PMPI_File_read_at_all_end")
public func mpiFileReadAtAllEnd(_ fh: MPI_File?, _ buf: UnsafeMutableRawPointer?, _ status: UnsafeMutablePointer<MPI_Status>?) -> Int32 {
    fileCall("MPI_File_read_at_all_end", fh) { try end($0, "MPI_File_read_at_all_end", status) }
}

@_cdecl("PMPI_File_write_all_end")
public func mpiFileWriteAllEnd(_ fh: MPI_File?, _ buf: UnsafeRawPointer?, _ status: UnsafeMutablePointer<MPI_Status>?) -> Int32 {
    fileCall("MPI_File_write_all_end", fh) { try end($0, "MPI_File_write_all_end", status) }
}

@_cdecl("PMPI_File_read_all_end")
public func mpiFileReadAllEnd(_ fh: MPI_File?, _ buf: UnsafeMutableRawPointer?, _ status: UnsafeMutablePointer<MPI_Status>?) -> Int32 {
    fileCall("MPI_File_read_all_end", fh) { try end($0, "MPI_File_read_all_end", status) }
}

@_cdecl("PMPI_File_write_ordered_end")
public func mpiFileWriteOrderedEnd(_ fh: MPI_File?, _ buf: UnsafeRawPointer?, _ status: UnsafeMutablePointer<MPI_Status>?) -> Int32 {
    fileCall("MPI_File_write_ordered_end", fh) { try end($0, "MPI_File_write_ordered_end", status) }
}

@_cdecl("PMPI_File_read_ordered_end")
public func mpiFileReadOrderedEnd(_ fh: MPI_File?, _ buf: UnsafeMutableRawPointer?, _ status: UnsafeMutablePointer<MPI_Status>?) -> Int32 {
    fileCall("MPI_File_read_ordered_end", fh) { try end($0, "MPI_File_read_ordered_end", status) }
}

// MARK: - Pointers

/// The Swift whence for an MPI_SEEK_* value.
private func whence(_ value: Int32) throws(CError) -> File.Whence {
    switch value {
    case MPI_SEEK_SET: .start
    case MPI_SEEK_CUR: .current
    case MPI_SEEK_END: .end
    default: throw CError(MPI_ERR_ARG, "whence must be MPI_SEEK_SET, MPI_SEEK_CUR or MPI_SEEK_END, not \(value)")
    }
}

@_cdecl("PMPI_File_seek")
public func mpiFileSeek(_ fh: MPI_File?, _ offset: MPI_Offset, _ whenceValue: Int32) -> Int32 {
    fileCall("MPI_File_seek", fh) { try $0.file.seek(to: Int(offset), from: try whence(whenceValue)) }
}

@_cdecl("PMPI_File_get_position")
public func mpiFileGetPosition(_ fh: MPI_File?, _ offset: UnsafeMutablePointer<MPI_Offset>?) -> Int32 {
    fileCall("MPI_File_get_position", fh) { entry in
        guard let offset else { throw CError(MPI_ERR_ARG, "a null offset pointer") }
        offset.pointee = MPI_Offset(entry.file.position)
    }
}

@_cdecl("PMPI_File_seek_shared")
public func mpiFileSeekShared(_ fh: MPI_File?, _ offset: MPI_Offset, _ whenceValue: Int32) -> Int32 {
    fileCall("MPI_File_seek_shared", fh) { try $0.file.seekShared(to: Int(offset), from: try whence(whenceValue)) }
}

@_cdecl("PMPI_File_get_position_shared")
public func mpiFileGetPositionShared(_ fh: MPI_File?, _ offset: UnsafeMutablePointer<MPI_Offset>?) -> Int32 {
    fileCall("MPI_File_get_position_shared", fh) { entry in
        guard let offset else { throw CError(MPI_ERR_ARG, "a null offset pointer") }
        offset.pointee = MPI_Offset(try entry.file.sharedPosition)
    }
}

@_cdecl("PMPI_File_get_byte_offset")
public func mpiFileGetByteOffset(_ fh: MPI_File?, _ offset: MPI_Offset, _ disp: UnsafeMutablePointer<MPI_Offset>?) -> Int32 {
    fileCall("MPI_File_get_byte_offset", fh) { entry in
        guard let disp else { throw CError(MPI_ERR_ARG, "a null displacement pointer") }
        disp.pointee = MPI_Offset(try entry.file.byteOffset(ofElement: Int(offset)))
    }
}

// MARK: - Error handlers

@_cdecl("PMPI_File_create_errhandler")
public func mpiFileCreateErrhandler(_ function: CErrorHandler?, _ handler: UnsafeMutablePointer<MPI_Errhandler>?) -> Int32 {
    mpiCommCreateErrhandler(function, handler)  // the same C shape: (MPI_File *, int *, ...)
}

@_cdecl("PMPI_File_set_errhandler")
public func mpiFileSetErrhandler(_ fh: MPI_File?, _ handler: MPI_Errhandler) -> Int32 {
    noFileCall("MPI_File_set_errhandler") {
        let predefined = [MPI_ERRORS_ARE_FATAL, MPI_ERRORS_RETURN, MPI_ERRORS_ABORT, MPIR_ERRORS_THROW_EXCEPTIONS]
        guard predefined.contains(handler) || CInterface.userErrorHandler(handler) != nil else {
            throw CError(MPI_ERR_ARG, "invalid error handler")
        }
        let file = fh == nil ? nil : try CInterface.file(fh)
        CInterfaceLock.withLock {
            if let file { file.errorHandler = handler } else { CInterface.defaultFileErrorHandler = handler }
        }
    }
}

@_cdecl("PMPI_File_get_errhandler")
public func mpiFileGetErrhandler(_ fh: MPI_File?, _ handler: UnsafeMutablePointer<MPI_Errhandler>?) -> Int32 {
    noFileCall("MPI_File_get_errhandler") {
        guard let handler else { throw CError(MPI_ERR_ARG, "a null error handler pointer") }
        let file = fh == nil ? nil : try CInterface.file(fh)
        handler.pointee = CInterfaceLock.withLock { file?.errorHandler ?? CInterface.defaultFileErrorHandler }
    }
}

@_cdecl("PMPI_File_call_errhandler")
public func mpiFileCallErrhandler(_ fh: MPI_File?, _ errorcode: Int32) -> Int32 {
    let entry = try? CInterface.file(fh)
    _ = CInterface.raise(CError(errorcode, "called by the program (MPI_File_call_errhandler)"), in: "MPI_File_call_errhandler", file: entry, handle: fh)
    return MPI_SUCCESS
}
