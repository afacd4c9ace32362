#if canImport(Glibc)
import Glibc
#endif
import CMPI
import SwiftMPI

// MPI-4's large-count (`_c`) forms of point-to-point and the datatype queries: the same work as the
// `int` forms (the helpers take Int counts), with counts and sizes as MPI_Count. (The datatype
// constructors' `_c` forms are in DatatypeConstructors.swift, beside their `int` forms.)

@_cdecl("PMPI_Send_c")
public func mpiSendC(_ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm) -> Int32 {
    blockingSend("MPI_Send_c", .standard, buf, count, datatype, dest, tag, comm)
}

@_cdecl("PMPI_Ssend_c")
public func mpiSsendC(_ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm) -> Int32 {
    blockingSend("MPI_Ssend_c", .synchronous, buf, count, datatype, dest, tag, comm)
}

@_cdecl("PMPI_Rsend_c")
public func mpiRsendC(_ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm) -> Int32 {
    blockingSend("MPI_Rsend_c", .ready, buf, count, datatype, dest, tag, comm)
}

@_cdecl("PMPI_Bsend_c")
public func mpiBsendC(_ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm) -> Int32 {
    blockingSend("MPI_Bsend_c", .buffered, buf, count, datatype, dest, tag, comm)
}

@_cdecl("PMPI_Recv_c")
public func mpiRecvC(
    _ buf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ source: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    blockingReceive("MPI_Recv_c", buf, count, datatype, source, tag, comm, status)
}

@_cdecl("PMPI_Isend_c")
public func mpiIsendC(
    _ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblockingSend("MPI_Isend_c", .standard, buf, count, datatype, dest, tag, comm, request)
}

@_cdecl("PMPI_Issend_c")
public func mpiIssendC(
    _ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblockingSend("MPI_Issend_c", .synchronous, buf, count, datatype, dest, tag, comm, request)
}

@_cdecl("PMPI_Irsend_c")
public func mpiIrsendC(
    _ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblockingSend("MPI_Irsend_c", .ready, buf, count, datatype, dest, tag, comm, request)
}

@_cdecl("PMPI_Ibsend_c")
public func mpiIbsendC(
    _ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblockingSend("MPI_Ibsend_c", .buffered, buf, count, datatype, dest, tag, comm, request)
}

@_cdecl("PMPI_Irecv_c")
public func mpiIrecvC(
    _ buf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ source: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblockingReceive("MPI_Irecv_c", buf, count, datatype, source, tag, comm, request)
}

@_cdecl("PMPI_Sendrecv_c")
public func mpiSendrecvC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ dest: Int32, _ sendtag: Int32,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: MPI_Count, _ recvtype: MPI_Datatype, _ source: Int32, _ recvtag: Int32,
    _ comm: MPI_Comm, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    cCall("MPI_Sendrecv_c", on: comm) {
        try sendrecv(sendbuf, sendcount, sendtype, dest, sendtag, recvbuf, recvcount, recvtype, source, recvtag, comm, status)
    }
}

@_cdecl("PMPI_Get_count_c")
public func mpiGetCountC(_ status: UnsafePointer<MPI_Status>?, _ datatype: MPI_Datatype, _ count: UnsafeMutablePointer<MPI_Count>?) -> Int32 {
    cCall("MPI_Get_count_c") { count?.pointee = try CInterface.instanceCount(status, datatype) ?? MPI_Count(MPI_UNDEFINED) }
}

@_cdecl("PMPI_Get_elements_c")
public func mpiGetElementsC(_ status: UnsafePointer<MPI_Status>?, _ datatype: MPI_Datatype, _ count: UnsafeMutablePointer<MPI_Count>?) -> Int32 {
    cCall("MPI_Get_elements_c") { count?.pointee = try CInterface.elementCount(status, datatype) ?? MPI_Count(MPI_UNDEFINED) }
}

@_cdecl("PMPI_Type_size_c")
public func mpiTypeSizeC(_ datatype: MPI_Datatype, _ size: UnsafeMutablePointer<MPI_Count>?) -> Int32 {
    cCall("MPI_Type_size_c") { try output(size, "size").pointee = try CInterface.datatype(datatype, forCommunication: false).size }
}

@_cdecl("PMPI_Type_get_extent_c")
public func mpiTypeGetExtentC(_ datatype: MPI_Datatype, _ lowerBound: UnsafeMutablePointer<MPI_Count>?, _ extent: UnsafeMutablePointer<MPI_Count>?) -> Int32 {
    cCall("MPI_Type_get_extent_c") {
        let type = try CInterface.datatype(datatype, forCommunication: false).datatype
        try output(lowerBound, "lb").pointee = type.lowerBound
        try output(extent, "extent").pointee = type.extent
    }
}

@_cdecl("PMPI_Type_get_true_extent_c")
public func mpiTypeGetTrueExtentC(
    _ datatype: MPI_Datatype, _ lowerBound: UnsafeMutablePointer<MPI_Count>?, _ extent: UnsafeMutablePointer<MPI_Count>?
) -> Int32 {
    cCall("MPI_Type_get_true_extent_c") {
        let type = try CInterface.datatype(datatype, forCommunication: false).datatype
        try output(lowerBound, "true_lb").pointee = type.trueLowerBound
        try output(extent, "true_extent").pointee = type.trueExtent
    }
}

@_cdecl("PMPI_Pack_size_c")
public func mpiPackSizeC(_ count: MPI_Count, _ datatype: MPI_Datatype, _ comm: MPI_Comm, _ size: UnsafeMutablePointer<MPI_Count>?) -> Int32 {
    cCall("MPI_Pack_size_c", on: comm) {
        size?.pointee = try CInterface.datatype(datatype).datatype.packSize(count: try CInterface.count(count))
    }
}

@_cdecl("PMPI_Status_set_elements_c")
public func mpiStatusSetElementsC(_ status: UnsafeMutablePointer<MPI_Status>?, _ datatype: MPI_Datatype, _ count: MPI_Count) -> Int32 {
    setElements("MPI_Status_set_elements_c", status, datatype, count)
}
