#if canImport(Glibc)
import Glibc
#endif
import CMPI
import SwiftMPI

// MPI-4's large-count (`_c`) forms of the remaining point-to-point calls (matched receives,
// isendrecv, sendrecv_replace, buffer attach, persistent receives) and of the neighbourhood
// collectives: the `int` forms' work (the `...Work` functions), with MPI_Count counts and MPI_Aint
// displacements.

@_cdecl("PMPI_Buffer_attach_c")
public func mpiBufferAttachC(_ buffer: UnsafeMutableRawPointer?, _ size: MPI_Count) -> Int32 {
    mpiBufferAttachWork("MPI_Buffer_attach_c", buffer, size)
}

@_cdecl("PMPI_Imrecv_c")
public func mpiImrecvC(
    _ buf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ message: UnsafeMutablePointer<MPI_Message>?,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiImrecvWork("MPI_Imrecv_c", buf, count, datatype, message, request)
}

@_cdecl("PMPI_Ineighbor_allgather_c")
public func mpiIneighborAllgatherC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: MPI_Count,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIneighborAllgatherWork("MPI_Ineighbor_allgather_c", sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, request)
}

@_cdecl("PMPI_Ineighbor_allgatherv_c")
public func mpiIneighborAllgathervC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?,
    _ recvcounts: UnsafePointer<MPI_Count>?, _ displs: UnsafePointer<MPI_Aint>?, _ recvtype: MPI_Datatype, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIneighborAllgathervWork("MPI_Ineighbor_allgatherv_c", sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, recvtype, comm, request)
}

@_cdecl("PMPI_Ineighbor_alltoall_c")
public func mpiIneighborAlltoallC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: MPI_Count,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIneighborAlltoallWork("MPI_Ineighbor_alltoall_c", sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, request)
}

@_cdecl("PMPI_Ineighbor_alltoallv_c")
public func mpiIneighborAlltoallvC(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<MPI_Count>?, _ sdispls: UnsafePointer<MPI_Aint>?, _ sendtype: MPI_Datatype,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<MPI_Count>?, _ rdispls: UnsafePointer<MPI_Aint>?, _ recvtype: MPI_Datatype,
    _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIneighborAlltoallvWork("MPI_Ineighbor_alltoallv_c", sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls, recvtype, comm, request)
}

@_cdecl("PMPI_Ineighbor_alltoallw_c")
public func mpiIneighborAlltoallwC(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<MPI_Count>?, _ sdispls: UnsafePointer<MPI_Aint>?, _ sendtypes: UnsafePointer<MPI_Datatype>?,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<MPI_Count>?, _ rdispls: UnsafePointer<MPI_Aint>?,
    _ recvtypes: UnsafePointer<MPI_Datatype>?, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIneighborAlltoallwWork("MPI_Ineighbor_alltoallw_c", sendbuf, sendcounts, sdispls, sendtypes, recvbuf, recvcounts, rdispls, recvtypes, comm, request)
}

@_cdecl("PMPI_Isendrecv_c")
public func mpiIsendrecvC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ dest: Int32, _ sendtag: Int32, _ recvbuf: UnsafeMutableRawPointer?,
    _ recvcount: MPI_Count, _ recvtype: MPI_Datatype, _ source: Int32, _ recvtag: Int32, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIsendrecvWork("MPI_Isendrecv_c", sendbuf, sendcount, sendtype, dest, sendtag, recvbuf, recvcount, recvtype, source, recvtag, comm, request)
}

@_cdecl("PMPI_Isendrecv_replace_c")
public func mpiIsendrecvReplaceC(
    _ buf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ dest: Int32, _ sendtag: Int32, _ source: Int32, _ recvtag: Int32,
    _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIsendrecvReplaceWork("MPI_Isendrecv_replace_c", buf, count, datatype, dest, sendtag, source, recvtag, comm, request)
}

@_cdecl("PMPI_Mrecv_c")
public func mpiMrecvC(
    _ buf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ message: UnsafeMutablePointer<MPI_Message>?,
    _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    mpiMrecvWork("MPI_Mrecv_c", buf, count, datatype, message, status)
}

@_cdecl("PMPI_Neighbor_allgather_c")
public func mpiNeighborAllgatherC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: MPI_Count,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm
) -> Int32 {
    mpiNeighborAllgatherWork("MPI_Neighbor_allgather_c", sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm)
}

@_cdecl("PMPI_Neighbor_allgatherv_c")
public func mpiNeighborAllgathervC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?,
    _ recvcounts: UnsafePointer<MPI_Count>?, _ displs: UnsafePointer<MPI_Aint>?, _ recvtype: MPI_Datatype, _ comm: MPI_Comm
) -> Int32 {
    mpiNeighborAllgathervWork("MPI_Neighbor_allgatherv_c", sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, recvtype, comm)
}

@_cdecl("PMPI_Neighbor_alltoall_c")
public func mpiNeighborAlltoallC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: MPI_Count,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm
) -> Int32 {
    mpiNeighborAlltoallWork("MPI_Neighbor_alltoall_c", sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm)
}

@_cdecl("PMPI_Neighbor_alltoallv_c")
public func mpiNeighborAlltoallvC(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<MPI_Count>?, _ sdispls: UnsafePointer<MPI_Aint>?, _ sendtype: MPI_Datatype,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<MPI_Count>?, _ rdispls: UnsafePointer<MPI_Aint>?, _ recvtype: MPI_Datatype,
    _ comm: MPI_Comm
) -> Int32 {
    mpiNeighborAlltoallvWork("MPI_Neighbor_alltoallv_c", sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls, recvtype, comm)
}

@_cdecl("PMPI_Neighbor_alltoallw_c")
public func mpiNeighborAlltoallwC(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<MPI_Count>?, _ sdispls: UnsafePointer<MPI_Aint>?, _ sendtypes: UnsafePointer<MPI_Datatype>?,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<MPI_Count>?, _ rdispls: UnsafePointer<MPI_Aint>?,
    _ recvtypes: UnsafePointer<MPI_Datatype>?, _ comm: MPI_Comm
) -> Int32 {
    mpiNeighborAlltoallwWork("MPI_Neighbor_alltoallw_c", sendbuf, sendcounts, sdispls, sendtypes, recvbuf, recvcounts, rdispls, recvtypes, comm)
}

@_cdecl("PMPI_Recv_init_c")
public func mpiRecvInitC(
    _ buf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ source: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiRecvInitWork("MPI_Recv_init_c", buf, count, datatype, source, tag, comm, request)
}

@_cdecl("PMPI_Sendrecv_replace_c")
public func mpiSendrecvReplaceC(
    _ buf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ dest: Int32, _ sendtag: Int32, _ source: Int32, _ recvtag: Int32,
    _ comm: MPI_Comm, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    mpiSendrecvReplaceWork("MPI_Sendrecv_replace_c", buf, count, datatype, dest, sendtag, source, recvtag, comm, status)
}
