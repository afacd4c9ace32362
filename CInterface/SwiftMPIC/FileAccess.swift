import CMPI
import SwiftMPI

// Reading and writing files from C: every data-access call of MPI-IO (explicit offsets, the
// individual, shared and ordered file pointers; independent and collective; blocking, nonblocking
// and split collective) in its `int` form and its large-count `_c` form, each a thin wrapper over
// ``transfer(_:write:_:_:_:_:collective:_:)``. The data moves during the call: a nonblocking form
// returns a request that is already complete, and a split collective's `_begin` does the transfer
// that its `_end` (Files.swift) reports.

/// Moves `count` instances of `datatype` between `buf` and the file at `position` (packed or
/// unpacked through a scratch buffer when the datatype is not contiguous) and returns the status.
private func transfer(
    _ entry: CFile, write: Bool, _ buf: UnsafeRawPointer?, _ count: Int, _ datatype: MPI_Datatype, _ position: File.Position, collective: Bool,
    _ function: StaticString
) throws -> Status {
    var status = Status.empty
    let memoryType = try CInterface.datatype(datatype, forCommunication: false).datatype  // (what an external32 view converts)
    if write {
        try CInterface.withOriginBytes(buf, count, datatype) { bytes in
            status = try entry.file.transfer(
                write: true, UnsafeMutableRawBufferPointer(mutating: bytes), of: memoryType, position, collective: collective, function)
        }
    } else {
        try CInterface.intoOrigin(UnsafeMutableRawPointer(mutating: buf), count, datatype) { bytes in
            status = try entry.file.transfer(write: false, bytes, of: memoryType, position, collective: collective, function)
        }
    }
    return status
}

/// A blocking read or write: its status in `status`.
private func blocking(
    _ function: StaticString, _ fh: MPI_File?, write: Bool, _ buf: UnsafeRawPointer?, _ count: Int, _ datatype: MPI_Datatype,
    _ position: File.Position, collective: Bool, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    fileCall(function, fh) { CInterface.store(try transfer($0, write: write, buf, count, datatype, position, collective: collective, function), into: status) }
}

/// A nonblocking read or write: the data moves now, and `request` is a complete request with its status.
private func nonblocking(
    _ function: StaticString, _ fh: MPI_File?, write: Bool, _ buf: UnsafeRawPointer?, _ count: Int, _ datatype: MPI_Datatype,
    _ position: File.Position, collective: Bool, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    fileCall(function, fh) { entry in
        let status = try transfer(entry, write: write, buf, count, datatype, position, collective: collective, function)
        guard let request else { throw CError(MPI_ERR_ARG, "a null request pointer") }
        request.pointee = CInterface.requests.insert(CRequest(Request.completed(status), MPI_COMM_WORLD))
    }
}

/// A split collective's `_begin`: the data moves now; the `_end` call reports the status.
private func splitBegin(
    _ function: StaticString, _ fh: MPI_File?, write: Bool, _ buf: UnsafeRawPointer?, _ count: Int, _ datatype: MPI_Datatype,
    _ position: File.Position
) -> Int32 {
    fileCall(function, fh) { entry in
        guard entry.splitStatus == nil else { throw CError(MPI_ERR_OTHER, "\(function): a split collective is already in progress on this file") }
        entry.splitStatus = try transfer(entry, write: write, buf, count, datatype, position, collective: true, function)
    }
}

@_cdecl("PMPI_File_write_at")
public func mpiFileWriteAt(
    _ fh: MPI_File?, _ offset: MPI_Offset, _ buf: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    blocking("MPI_File_write_at", fh, write: true, buf, Int(count), datatype, .at(Int(offset)), collective: false, status)
}

@_cdecl("PMPI_File_write_at_c")
public func mpiFileWriteAtC(
    _ fh: MPI_File?, _ offset: MPI_Offset, _ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    blocking("MPI_File_write_at_c", fh, write: true, buf, count, datatype, .at(Int(offset)), collective: false, status)
}

@_cdecl("PMPI_File_write_at_all")
public func mpiFileWriteAtAll(
    _ fh: MPI_File?, _ offset: MPI_Offset, _ buf: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    blocking("MPI_File_write_at_all", fh, write: true, buf, Int(count), datatype, .at(Int(offset)), collective: true, status)
}

@_cdecl("PMPI_File_write_at_all_c")
public func mpiFileWriteAtAllC(
    _ fh: MPI_File?, _ offset: MPI_Offset, _ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    blocking("MPI_File_write_at_all_c", fh, write: true, buf, count, datatype, .at(Int(offset)), collective: true, status)
}

@_cdecl("PMPI_File_read_at")
public func mpiFileReadAt(
    _ fh: MPI_File?, _ offset: MPI_Offset, _ buf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype,
    _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    blocking("MPI_File_read_at", fh, write: false, buf, Int(count), datatype, .at(Int(offset)), collective: false, status)
}

@_cdecl("PMPI_File_read_at_c")
public func mpiFileReadAtC(
    _ fh: MPI_File?, _ offset: MPI_Offset, _ buf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype,
    _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    blocking("MPI_File_read_at_c", fh, write: false, buf, count, datatype, .at(Int(offset)), collective: false, status)
}

@_cdecl("PMPI_File_read_at_all")
public func mpiFileReadAtAll(
    _ fh: MPI_File?, _ offset: MPI_Offset, _ buf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype,
    _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    blocking("MPI_File_read_at_all", fh, write: false, buf, Int(count), datatype, .at(Int(offset)), collective: true, status)
}

@_cdecl("PMPI_File_read_at_all_c")
public func mpiFileReadAtAllC(
    _ fh: MPI_File?, _ offset: MPI_Offset, _ buf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype,
    _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    blocking("MPI_File_read_at_all_c", fh, write: false, buf, count, datatype, .at(Int(offset)), collective: true, status)
}

@_cdecl("PMPI_File_write")
public func mpiFileWrite(
    _ fh: MPI_File?, _ buf: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    blocking("MPI_File_write", fh, write: true, buf, Int(count), datatype, .individual, collective: false, status)
}

@_cdecl("PMPI_File_write_c")
public func mpiFileWriteC(
    _ fh: MPI_File?, _ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    blocking("MPI_File_write_c", fh, write: true, buf, count, datatype, .individual, collective: false, status)
}

@_cdecl("PMPI_File_write_all")
public func mpiFileWriteAll(
    _ fh: MPI_File?, _ buf: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    blocking("MPI_File_write_all", fh, write: true, buf, Int(count), datatype, .individual, collective: true, status)
}

@_cdecl("PMPI_File_write_all_c")
public func mpiFileWriteAllC(
    _ fh: MPI_File?, _ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    blocking("MPI_File_write_all_c", fh, write: true, buf, count, datatype, .individual, collective: true, status)
}

@_cdecl("PMPI_File_read")
public func mpiFileRead(
    _ fh: MPI_File?, _ buf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    blocking("MPI_File_read", fh, write: false, buf, Int(count), datatype, .individual, collective: false, status)
}

@_cdecl("PMPI_File_read_c")
public func mpiFileReadC(
    _ fh: MPI_File?, _ buf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    blocking("MPI_File_read_c", fh, write: false, buf, count, datatype, .individual, collective: false, status)
}

@_cdecl("PMPI_File_read_all")
public func mpiFileReadAll(
    _ fh: MPI_File?, _ buf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    blocking("MPI_File_read_all", fh, write: false, buf, Int(count), datatype, .individual, collective: true, status)
}

@_cdecl("PMPI_File_read_all_c")
public func mpiFileReadAllC(
    _ fh: MPI_File?, _ buf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    blocking("MPI_File_read_all_c", fh, write: false, buf, count, datatype, .individual, collective: true, status)
}

@_cdecl("PMPI_File_write_shared")
public func mpiFileWriteShared(
    _ fh: MPI_File?, _ buf: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    blocking("MPI_File_write_shared", fh, write: true, buf, Int(count), datatype, .shared, collective: false, status)
}

@_cdecl("PMPI_File_write_shared_c")
public func mpiFileWriteSharedC(
    _ fh: MPI_File?, _ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    blocking("MPI_File_write_shared_c", fh, write: true, buf, count, datatype, .shared, collective: false, status)
}

@_cdecl("PMPI_File_read_shared")
public func mpiFileReadShared(
    _ fh: MPI_File?, _ buf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    blocking("MPI_File_read_shared", fh, write: false, buf, Int(count), datatype, .shared, collective: false, status)
}

@_cdecl("PMPI_File_read_shared_c")
public func mpiFileReadSharedC(
    _ fh: MPI_File?, _ buf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    blocking("MPI_File_read_shared_c", fh, write: false, buf, count, datatype, .shared, collective: false, status)
}

@_cdecl("PMPI_File_write_ordered")
public func mpiFileWriteOrdered(
    _ fh: MPI_File?, _ buf: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    blocking("MPI_File_write_ordered", fh, write: true, buf, Int(count), datatype, .ordered, collective: true, status)
}

@_cdecl("PMPI_File_write_ordered_c")
public func mpiFileWriteOrderedC(
    _ fh: MPI_File?, _ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    blocking("MPI_File_write_ordered_c", fh, write: true, buf, count, datatype, .ordered, collective: true, status)
}

@_cdecl("PMPI_File_read_ordered")
public func mpiFileReadOrdered(
    _ fh: MPI_File?, _ buf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    blocking("MPI_File_read_ordered", fh, write: false, buf, Int(count), datatype, .ordered, collective: true, status)
}

@_cdecl("PMPI_File_read_ordered_c")
public func mpiFileReadOrderedC(
    _ fh: MPI_File?, _ buf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    blocking("MPI_File_read_ordered_c", fh, write: false, buf, count, datatype, .ordered, collective: true, status)
}

@_cdecl("PMPI_File_iwrite_at")
public func mpiFileIwriteAt(
    _ fh: MPI_File?, _ offset: MPI_Offset, _ buf: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblocking("MPI_File_iwrite_at", fh, write: true, buf, Int(count), datatype, .at(Int(offset)), collective: false, request)
}

@_cdecl("PMPI_File_iwrite_at_c")
public func mpiFileIwriteAtC(
    _ fh: MPI_File?, _ offset: MPI_Offset, _ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblocking("MPI_File_iwrite_at_c", fh, write: true, buf, count, datatype, .at(Int(offset)), collective: false, request)
}

@_cdecl("PMPI_File_iwrite_at_all")
public func mpiFileIwriteAtAll(
    _ fh: MPI_File?, _ offset: MPI_Offset, _ buf: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblocking("MPI_File_iwrite_at_all", fh, write: true, buf, Int(count), datatype, .at(Int(offset)), collective: true, request)
}

@_cdecl("PMPI_File_iwrite_at_all_c")
public func mpiFileIwriteAtAllC(
    _ fh: MPI_File?, _ offset: MPI_Offset, _ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblocking("MPI_File_iwrite_at_all_c", fh, write: true, buf, count, datatype, .at(Int(offset)), collective: true, request)
}

@_cdecl("PMPI_File_iread_at")
public func mpiFileIreadAt(
    _ fh: MPI_File?, _ offset: MPI_Offset, _ buf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblocking("MPI_File_iread_at", fh, write: false, buf, Int(count), datatype, .at(Int(offset)), collective: false, request)
}

@_cdecl("PMPI_File_iread_at_c")
public func mpiFileIreadAtC(
    _ fh: MPI_File?, _ offset: MPI_Offset, _ buf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblocking("MPI_File_iread_at_c", fh, write: false, buf, count, datatype, .at(Int(offset)), collective: false, request)
}

@_cdecl("PMPI_File_iread_at_all")
public func mpiFileIreadAtAll(
    _ fh: MPI_File?, _ offset: MPI_Offset, _ buf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblocking("MPI_File_iread_at_all", fh, write: false, buf, Int(count), datatype, .at(Int(offset)), collective: true, request)
}

@_cdecl("PMPI_File_iread_at_all_c")
public func mpiFileIreadAtAllC(
    _ fh: MPI_File?, _ offset: MPI_Offset, _ buf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblocking("MPI_File_iread_at_all_c", fh, write: false, buf, count, datatype, .at(Int(offset)), collective: true, request)
}

@_cdecl("PMPI_File_iwrite")
public func mpiFileIwrite(
    _ fh: MPI_File?, _ buf: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblocking("MPI_File_iwrite", fh, write: true, buf, Int(count), datatype, .individual, collective: false, request)
}

@_cdecl("PMPI_File_iwrite_c")
public func mpiFileIwriteC(
    _ fh: MPI_File?, _ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblocking("MPI_File_iwrite_c", fh, write: true, buf, count, datatype, .individual, collective: false, request)
}

@_cdecl("PMPI_File_iwrite_all")
public func mpiFileIwriteAll(
    _ fh: MPI_File?, _ buf: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblocking("MPI_File_iwrite_all", fh, write: true, buf, Int(count), datatype, .individual, collective: true, request)
}

@_cdecl("PMPI_File_iwrite_all_c")
public func mpiFileIwriteAllC(
    _ fh: MPI_File?, _ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblocking("MPI_File_iwrite_all_c", fh, write: true, buf, count, datatype, .individual, collective: true, request)
}

@_cdecl("PMPI_File_iread")
public func mpiFileIread(
    _ fh: MPI_File?, _ buf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblocking("MPI_File_iread", fh, write: false, buf, Int(count), datatype, .individual, collective: false, request)
}

@_cdecl("PMPI_File_iread_c")
public func mpiFileIreadC(
    _ fh: MPI_File?, _ buf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblocking("MPI_File_iread_c", fh, write: false, buf, count, datatype, .individual, collective: false, request)
}

@_cdecl("PMPI_File_iread_all")
public func mpiFileIreadAll(
    _ fh: MPI_File?, _ buf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblocking("MPI_File_iread_all", fh, write: false, buf, Int(count), datatype, .individual, collective: true, request)
}

@_cdecl("PMPI_File_iread_all_c")
public func mpiFileIreadAllC(
    _ fh: MPI_File?, _ buf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblocking("MPI_File_iread_all_c", fh, write: false, buf, count, datatype, .individual, collective: true, request)
}

@_cdecl("PMPI_File_iwrite_shared")
public func mpiFileIwriteShared(
    _ fh: MPI_File?, _ buf: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblocking("MPI_File_iwrite_shared", fh, write: true, buf, Int(count), datatype, .shared, collective: false, request)
}

@_cdecl("PMPI_File_iwrite_shared_c")
public func mpiFileIwriteSharedC(
    _ fh: MPI_File?, _ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblocking("MPI_File_iwrite_shared_c", fh, write: true, buf, count, datatype, .shared, collective: false, request)
}

@_cdecl("PMPI_File_iread_shared")
public func mpiFileIreadShared(
    _ fh: MPI_File?, _ buf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblocking("MPI_File_iread_shared", fh, write: false, buf, Int(count), datatype, .shared, collective: false, request)
}

@_cdecl("PMPI_File_iread_shared_c")
public func mpiFileIreadSharedC(
    _ fh: MPI_File?, _ buf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblocking("MPI_File_iread_shared_c", fh, write: false, buf, count, datatype, .shared, collective: false, request)
}

@_cdecl("PMPI_File_write_at_all_begin")
public func mpiFileWriteAtAllBegin(_ fh: MPI_File?, _ offset: MPI_Offset, _ buf: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype) -> Int32 {
    splitBegin("MPI_File_write_at_all_begin", fh, write: true, buf, Int(count), datatype, .at(Int(offset)))
}

@_cdecl("PMPI_File_write_at_all_begin_c")
public func mpiFileWriteAtAllBeginC(_ fh: MPI_File?, _ offset: MPI_Offset, _ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype) -> Int32 {
    splitBegin("MPI_File_write_at_all_begin_c", fh, write: true, buf, count, datatype, .at(Int(offset)))
}

@_cdecl("PMPI_File_read_at_all_begin")
public func mpiFileReadAtAllBegin(_ fh: MPI_File?, _ offset: MPI_Offset, _ buf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype) -> Int32 {
    splitBegin("MPI_File_read_at_all_begin", fh, write: false, buf, Int(count), datatype, .at(Int(offset)))
}

@_cdecl("PMPI_File_read_at_all_begin_c")
public func mpiFileReadAtAllBeginC(
    _ fh: MPI_File?, _ offset: MPI_Offset, _ buf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype
) -> Int32 {
    splitBegin("MPI_File_read_at_all_begin_c", fh, write: false, buf, count, datatype, .at(Int(offset)))
}

@_cdecl("PMPI_File_write_all_begin")
public func mpiFileWriteAllBegin(_ fh: MPI_File?, _ buf: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype) -> Int32 {
    splitBegin("MPI_File_write_all_begin", fh, write: true, buf, Int(count), datatype, .individual)
}

@_cdecl("PMPI_File_write_all_begin_c")
public func mpiFileWriteAllBeginC(_ fh: MPI_File?, _ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype) -> Int32 {
    splitBegin("MPI_File_write_all_begin_c", fh, write: true, buf, count, datatype, .individual)
}

@_cdecl("PMPI_File_read_all_begin")
public func mpiFileReadAllBegin(_ fh: MPI_File?, _ buf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype) -> Int32 {
    splitBegin("MPI_File_read_all_begin", fh, write: false, buf, Int(count), datatype, .individual)
}

@_cdecl("PMPI_File_read_all_begin_c")
public func mpiFileReadAllBeginC(_ fh: MPI_File?, _ buf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype) -> Int32 {
    splitBegin("MPI_File_read_all_begin_c", fh, write: false, buf, count, datatype, .individual)
}

@_cdecl("PMPI_File_write_ordered_begin")
public func mpiFileWriteOrderedBegin(_ fh: MPI_File?, _ buf: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype) -> Int32 {
    splitBegin("MPI_File_write_ordered_begin", fh, write: true, buf, Int(count), datatype, .ordered)
}

@_cdecl("PMPI_File_write_ordered_begin_c")
public func mpiFileWriteOrderedBeginC(_ fh: MPI_File?, _ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype) -> Int32 {
    splitBegin("MPI_File_write_ordered_begin_c", fh, write: true, buf, count, datatype, .ordered)
}

@_cdecl("PMPI_File_read_ordered_begin")
public func mpiFileReadOrderedBegin(_ fh: MPI_File?, _ buf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype) -> Int32 {
    splitBegin("MPI_File_read_ordered_begin", fh, write: false, buf, Int(count), datatype, .ordered)
}

@_cdecl("PMPI_File_read_ordered_begin_c")
public func mpiFileReadOrderedBeginC(_ fh: MPI_File?, _ buf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype) -> Int32 {
    splitBegin("MPI_File_read_ordered_begin_c", fh, write: false, buf, count, datatype, .ordered)
}
