#if canImport(Glibc)
import Glibc
#endif
import CMPI
import SwiftMPI

// MPI-4's large-count (`_c`) forms of the collectives: the `int` forms' work
// (the `...Work` functions), with MPI_Count counts and, in the v- and w-forms, MPI_Aint displacements.

@_cdecl("PMPI_Bcast_c")
public func mpiBcastC(_ buffer: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm) -> Int32 {
    mpiBcastWork("MPI_Bcast_c", buffer, count, datatype, root, comm)
}

@_cdecl("PMPI_Reduce_c")
public func mpiReduceC(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ op: MPI_Op, _ root: Int32,
    _ comm: MPI_Comm
) -> Int32 {
    mpiReduceWork("MPI_Reduce_c", sendbuf, recvbuf, count, datatype, op, root, comm)
}

@_cdecl("PMPI_Allreduce_c")
public func mpiAllreduceC(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ op: MPI_Op, _ comm: MPI_Comm
) -> Int32 {
    mpiAllreduceWork("MPI_Allreduce_c", sendbuf, recvbuf, count, datatype, op, comm)
}

@_cdecl("PMPI_Gather_c")
public func mpiGatherC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: MPI_Count,
    _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm
) -> Int32 {
    mpiGatherWork("MPI_Gather_c", sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm)
}

@_cdecl("PMPI_Scatter_c")
public func mpiScatterC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: MPI_Count,
    _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm
) -> Int32 {
    mpiScatterWork("MPI_Scatter_c", sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm)
}

@_cdecl("PMPI_Allgather_c")
public func mpiAllgatherC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: MPI_Count,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm
) -> Int32 {
    mpiAllgatherWork("MPI_Allgather_c", sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm)
}

@_cdecl("PMPI_Alltoall_c")
public func mpiAlltoallC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: MPI_Count,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm
) -> Int32 {
    mpiAlltoallWork("MPI_Alltoall_c", sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm)
}

@_cdecl("PMPI_Reduce_scatter_block_c")
public func mpiReduceScatterBlockC(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: MPI_Count, _ datatype: MPI_Datatype, _ op: MPI_Op, _ comm: MPI_Comm
) -> Int32 {
    mpiReduceScatterBlockWork("MPI_Reduce_scatter_block_c", sendbuf, recvbuf, recvcount, datatype, op, comm)
}

@_cdecl("PMPI_Scan_c")
public func mpiScanC(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ op: MPI_Op, _ comm: MPI_Comm
) -> Int32 {
    mpiScanWork("MPI_Scan_c", sendbuf, recvbuf, count, datatype, op, comm)
}

@_cdecl("PMPI_Exscan_c")
public func mpiExscanC(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ op: MPI_Op, _ comm: MPI_Comm
) -> Int32 {
    mpiExscanWork("MPI_Exscan_c", sendbuf, recvbuf, count, datatype, op, comm)
}

@_cdecl("PMPI_Ibcast_c")
public func mpiIbcastC(
    _ buffer: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIbcastWork("MPI_Ibcast_c", buffer, count, datatype, root, comm, request)
}

@_cdecl("PMPI_Iallreduce_c")
public func mpiIallreduceC(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ op: MPI_Op, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIallreduceWork("MPI_Iallreduce_c", sendbuf, recvbuf, count, datatype, op, comm, request)
}

@_cdecl("PMPI_Ireduce_c")
public func mpiIreduceC(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ op: MPI_Op, _ root: Int32,
    _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIreduceWork("MPI_Ireduce_c", sendbuf, recvbuf, count, datatype, op, root, comm, request)
}

@_cdecl("PMPI_Igather_c")
public func mpiIgatherC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: MPI_Count,
    _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIgatherWork("MPI_Igather_c", sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm, request)
}

@_cdecl("PMPI_Iscatter_c")
public func mpiIscatterC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: MPI_Count,
    _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIscatterWork("MPI_Iscatter_c", sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm, request)
}

@_cdecl("PMPI_Iallgather_c")
public func mpiIallgatherC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: MPI_Count,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIallgatherWork("MPI_Iallgather_c", sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, request)
}

@_cdecl("PMPI_Ialltoall_c")
public func mpiIalltoallC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: MPI_Count,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIalltoallWork("MPI_Ialltoall_c", sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, request)
}

@_cdecl("PMPI_Ireduce_scatter_block_c")
public func mpiIreduceScatterBlockC(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: MPI_Count, _ datatype: MPI_Datatype, _ op: MPI_Op, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIreduceScatterBlockWork("MPI_Ireduce_scatter_block_c", sendbuf, recvbuf, recvcount, datatype, op, comm, request)
}

@_cdecl("PMPI_Iscan_c")
public func mpiIscanC(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ op: MPI_Op, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIscanWork("MPI_Iscan_c", sendbuf, recvbuf, count, datatype, op, comm, request)
}

@_cdecl("PMPI_Iexscan_c")
public func mpiIexscanC(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ op: MPI_Op, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIexscanWork("MPI_Iexscan_c", sendbuf, recvbuf, count, datatype, op, comm, request)
}

@_cdecl("PMPI_Gatherv_c")
public func mpiGathervC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?,
    _ recvcounts: UnsafePointer<MPI_Count>?, _ displs: UnsafePointer<MPI_Aint>?, _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm
) -> Int32 {
    mpiGathervWork("MPI_Gatherv_c", sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, recvtype, root, comm)
}

@_cdecl("PMPI_Scatterv_c")
public func mpiScattervC(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<MPI_Count>?, _ displs: UnsafePointer<MPI_Aint>?, _ sendtype: MPI_Datatype,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: MPI_Count, _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm
) -> Int32 {
    mpiScattervWork("MPI_Scatterv_c", sendbuf, sendcounts, displs, sendtype, recvbuf, recvcount, recvtype, root, comm)
}

@_cdecl("PMPI_Allgatherv_c")
public func mpiAllgathervC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?,
    _ recvcounts: UnsafePointer<MPI_Count>?, _ displs: UnsafePointer<MPI_Aint>?, _ recvtype: MPI_Datatype, _ comm: MPI_Comm
) -> Int32 {
    mpiAllgathervWork("MPI_Allgatherv_c", sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, recvtype, comm)
}

@_cdecl("PMPI_Alltoallv_c")
public func mpiAlltoallvC(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<MPI_Count>?, _ sdispls: UnsafePointer<MPI_Aint>?, _ sendtype: MPI_Datatype,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<MPI_Count>?, _ rdispls: UnsafePointer<MPI_Aint>?, _ recvtype: MPI_Datatype,
    _ comm: MPI_Comm
) -> Int32 {
    mpiAlltoallvWork("MPI_Alltoallv_c", sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls, recvtype, comm)
}

@_cdecl("PMPI_Reduce_scatter_c")
public func mpiReduceScatterC(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<MPI_Count>?, _ datatype: MPI_Datatype, _ op: MPI_Op,
    _ comm: MPI_Comm
) -> Int32 {
    mpiReduceScatterWork("MPI_Reduce_scatter_c", sendbuf, recvbuf, recvcounts, datatype, op, comm)
}

@_cdecl("PMPI_Igatherv_c")
public func mpiIgathervC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?,
    _ recvcounts: UnsafePointer<MPI_Count>?, _ displs: UnsafePointer<MPI_Aint>?, _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIgathervWork("MPI_Igatherv_c", sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, recvtype, root, comm, request)
}

@_cdecl("PMPI_Iscatterv_c")
public func mpiIscattervC(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<MPI_Count>?, _ displs: UnsafePointer<MPI_Aint>?, _ sendtype: MPI_Datatype,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: MPI_Count, _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIscattervWork("MPI_Iscatterv_c", sendbuf, sendcounts, displs, sendtype, recvbuf, recvcount, recvtype, root, comm, request)
}

@_cdecl("PMPI_Iallgatherv_c")
public func mpiIallgathervC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?,
    _ recvcounts: UnsafePointer<MPI_Count>?, _ displs: UnsafePointer<MPI_Aint>?, _ recvtype: MPI_Datatype, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIallgathervWork("MPI_Iallgatherv_c", sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, recvtype, comm, request)
}

@_cdecl("PMPI_Ialltoallv_c")
public func mpiIalltoallvC(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<MPI_Count>?, _ sdispls: UnsafePointer<MPI_Aint>?, _ sendtype: MPI_Datatype,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<MPI_Count>?, _ rdispls: UnsafePointer<MPI_Aint>?, _ recvtype: MPI_Datatype,
    _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIalltoallvWork("MPI_Ialltoallv_c", sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls, recvtype, comm, request)
}

@_cdecl("PMPI_Ireduce_scatter_c")
public func mpiIreduceScatterC(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<MPI_Count>?, _ datatype: MPI_Datatype, _ op: MPI_Op,
    _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIreduceScatterWork("MPI_Ireduce_scatter_c", sendbuf, recvbuf, recvcounts, datatype, op, comm, request)
}

@_cdecl("PMPI_Alltoallw_c")
public func mpiAlltoallwC(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<MPI_Count>?, _ sdispls: UnsafePointer<MPI_Aint>?, _ sendtypes: UnsafePointer<MPI_Datatype>?,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<MPI_Count>?, _ rdispls: UnsafePointer<MPI_Aint>?,
    _ recvtypes: UnsafePointer<MPI_Datatype>?, _ comm: MPI_Comm
) -> Int32 {
    mpiAlltoallwWork("MPI_Alltoallw_c", sendbuf, sendcounts, sdispls, sendtypes, recvbuf, recvcounts, rdispls, recvtypes, comm)
}

@_cdecl("PMPI_Ialltoallw_c")
public func mpiIalltoallwC(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<MPI_Count>?, _ sdispls: UnsafePointer<MPI_Aint>?, _ sendtypes: UnsafePointer<MPI_Datatype>?,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<MPI_Count>?, _ rdispls: UnsafePointer<MPI_Aint>?,
    _ recvtypes: UnsafePointer<MPI_Datatype>?, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIalltoallwWork("MPI_Ialltoallw_c", sendbuf, sendcounts, sdispls, sendtypes, recvbuf, recvcounts, rdispls, recvtypes, comm, request)
}
