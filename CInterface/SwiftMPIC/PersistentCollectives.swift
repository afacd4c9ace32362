import CMPI
import SwiftMPI

// Persistent collectives (MPI-4 MPI_Bcast_init and the rest): each start runs the nonblocking
// collective (PMPI_Ibcast, …) with the arguments given at init, through SwiftMPI's persistent
// requests. Count, displacement and datatype arrays are copied at init (not those MPI says are
// ignored: a non-root's, or the send side's in place); the buffers must stay (MPI).
// The arguments are checked at each start, where MPI_Start reports an error; the info argument is
// accepted and has no keys SwiftMPI reads.

/// Makes a persistent request whose start calls `start` (a C nonblocking collective) and takes
/// over the request it made, with what completes it (the copy-out of a non-contiguous result).
private func persistentCollective(
    _ function: StaticString, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?,
    start: @escaping (UnsafeMutablePointer<MPI_Request>) -> Int32
) -> Int32 {
    cCall(function, on: comm) {
        guard let request else { throw CError(MPI_ERR_REQUEST, "a null request pointer") }
        let communicator = try CInterface.communicator(comm)
        // The handle is known only after insertion; the start closure reads it from this box.
        final class Handle { var value = MPI_REQUEST_NULL }
        let outer = Handle()
        let made = communicator.persistentCollective {
            var inner = MPI_REQUEST_NULL
            let status = start(&inner)
            guard status == MPI_SUCCESS, let started = CInterface.requests.take(inner) else {
                throw CError(status == MPI_SUCCESS ? MPI_ERR_INTERN : status, "\(function): the collective did not start")
            }
            CInterfaceLock.withLock {
                if let completion = CInterface.completions.removeValue(forKey: inner) { CInterface.completions[outer.value] = completion }
            }
            return started
        }
        outer.value = CInterface.requests.insert(CRequest(made, comm, persistent: true, hasCompletion: true))
        request.pointee = outer.value
    }
}

/// A copy of an argument array of one entry per rank, made at init: the program may reuse its
/// array once the init call returned. Its memory stays put while the request lives.
private final class Pinned<Element> {
    let address: UnsafePointer<Element>
    private let memory: UnsafeMutableBufferPointer<Element>

    init(_ source: UnsafeBufferPointer<Element>) {
        memory = .allocate(capacity: max(source.count, 1))
        _ = memory.initialize(fromContentsOf: source)
        address = UnsafePointer(memory.baseAddress!)
    }

    deinit { memory.deallocate() }
}

/// `count` entries of `pointer`, pinned; nil for a nil pointer.
private func pinned<Element>(_ pointer: UnsafePointer<Element>?, count: Int) -> Pinned<Element>? {
    pointer.map { Pinned(UnsafeBufferPointer(start: $0, count: count)) }
}

/// How many neighbors a topology communicator receives from and sends to (0 for an invalid one:
/// the start then reports it).
private func neighborCounts(_ comm: MPI_Comm) -> (sources: Int, destinations: Int) {
    guard let communicator = try? CInterface.communicator(comm), let neighbors = try? CInterface.neighbors(communicator) else { return (0, 0) }
    return (neighbors.sources.count, neighbors.destinations.count)
}

/// `pointer`'s entries, one per rank (`peers`: per remote rank on an intercommunicator), pinned;
/// nil for a nil pointer or an invalid communicator (the start then reports it).
private func pinned<Element>(_ pointer: UnsafePointer<Element>?, _ comm: MPI_Comm, peers: Bool = true) -> Pinned<Element>? {
    guard let pointer, let communicator = try? CInterface.communicator(comm) else { return nil }
    return Pinned(UnsafeBufferPointer(start: pointer, count: peers ? communicator.peerCount : communicator.size))
}

@_cdecl("PMPI_Barrier_init")
public func mpiBarrierInit(_ comm: MPI_Comm, _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?) -> Int32 {
    persistentCollective("MPI_Barrier_init", comm, request) { PMPI_Ibarrier(comm, $0) }
}

@_cdecl("PMPI_Bcast_init")
public func mpiBcastInit(
    _ buffer: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm, _ info: MPI_Info,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    persistentCollective("MPI_Bcast_init", comm, request) { PMPI_Ibcast(buffer, count, datatype, root, comm, $0) }
}

@_cdecl("PMPI_Reduce_init")
public func mpiReduceInit(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ op: MPI_Op, _ root: Int32,
    _ comm: MPI_Comm, _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    persistentCollective("MPI_Reduce_init", comm, request) { PMPI_Ireduce(sendbuf, recvbuf, count, datatype, op, root, comm, $0) }
}

@_cdecl("PMPI_Allreduce_init")
public func mpiAllreduceInit(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ op: MPI_Op, _ comm: MPI_Comm,
    _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    persistentCollective("MPI_Allreduce_init", comm, request) { PMPI_Iallreduce(sendbuf, recvbuf, count, datatype, op, comm, $0) }
}

@_cdecl("PMPI_Reduce_scatter_block_init")
public func mpiReduceScatterBlockInit(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32, _ datatype: MPI_Datatype, _ op: MPI_Op,
    _ comm: MPI_Comm, _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    persistentCollective("MPI_Reduce_scatter_block_init", comm, request) {
        PMPI_Ireduce_scatter_block(sendbuf, recvbuf, recvcount, datatype, op, comm, $0)
    }
}

@_cdecl("PMPI_Reduce_scatter_init")
public func mpiReduceScatterInit(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<Int32>?, _ datatype: MPI_Datatype,
    _ op: MPI_Op, _ comm: MPI_Comm, _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    let recvcountsCopy = pinned(recvcounts, comm, peers: false)
    return persistentCollective("MPI_Reduce_scatter_init", comm, request) { request in
        PMPI_Ireduce_scatter(sendbuf, recvbuf, recvcountsCopy?.address, datatype, op, comm, request)
    }
}

@_cdecl("PMPI_Scan_init")
public func mpiScanInit(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ op: MPI_Op, _ comm: MPI_Comm,
    _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    persistentCollective("MPI_Scan_init", comm, request) { PMPI_Iscan(sendbuf, recvbuf, count, datatype, op, comm, $0) }
}

@_cdecl("PMPI_Exscan_init")
public func mpiExscanInit(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ op: MPI_Op, _ comm: MPI_Comm,
    _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    persistentCollective("MPI_Exscan_init", comm, request) { PMPI_Iexscan(sendbuf, recvbuf, count, datatype, op, comm, $0) }
}

@_cdecl("PMPI_Gather_init")
public func mpiGatherInit(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32,
    _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm, _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    persistentCollective("MPI_Gather_init", comm, request) {
        PMPI_Igather(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm, $0)
    }
}

@_cdecl("PMPI_Gatherv_init")
public func mpiGathervInit(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?,
    _ recvcounts: UnsafePointer<Int32>?, _ displs: UnsafePointer<Int32>?, _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm,
    _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    let atRoot = (try? CInterface.communicator(comm)).map { CInterface.isRoot(root, of: $0) } ?? false  // the arrays count there only
    let recvcountsCopy = atRoot ? pinned(recvcounts, comm) : nil
    let displsCopy = atRoot ? pinned(displs, comm) : nil
    return persistentCollective("MPI_Gatherv_init", comm, request) { request in
        PMPI_Igatherv(sendbuf, sendcount, sendtype, recvbuf, recvcountsCopy?.address, displsCopy?.address, recvtype, root, comm, request)
    }
}

@_cdecl("PMPI_Scatter_init")
public func mpiScatterInit(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32,
    _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm, _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    persistentCollective("MPI_Scatter_init", comm, request) {
        PMPI_Iscatter(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm, $0)
    }
}

@_cdecl("PMPI_Scatterv_init")
public func mpiScattervInit(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<Int32>?, _ displs: UnsafePointer<Int32>?, _ sendtype: MPI_Datatype,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32, _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm, _ info: MPI_Info,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    let atRoot = (try? CInterface.communicator(comm)).map { CInterface.isRoot(root, of: $0) } ?? false  // the arrays count there only
    let sendcountsCopy = atRoot ? pinned(sendcounts, comm) : nil
    let displsCopy = atRoot ? pinned(displs, comm) : nil
    return persistentCollective("MPI_Scatterv_init", comm, request) { request in
        PMPI_Iscatterv(sendbuf, sendcountsCopy?.address, displsCopy?.address, sendtype, recvbuf, recvcount, recvtype, root, comm, request)
    }
}

@_cdecl("PMPI_Allgather_init")
public func mpiAllgatherInit(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    persistentCollective("MPI_Allgather_init", comm, request) {
        PMPI_Iallgather(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, $0)
    }
}

@_cdecl("PMPI_Allgatherv_init")
public func mpiAllgathervInit(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?,
    _ recvcounts: UnsafePointer<Int32>?, _ displs: UnsafePointer<Int32>?, _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ info: MPI_Info,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    let recvcountsCopy = pinned(recvcounts, comm)
    let displsCopy = pinned(displs, comm)
    return persistentCollective("MPI_Allgatherv_init", comm, request) { request in
        PMPI_Iallgatherv(sendbuf, sendcount, sendtype, recvbuf, recvcountsCopy?.address, displsCopy?.address, recvtype, comm, request)
    }
}

@_cdecl("PMPI_Alltoall_init")
public func mpiAlltoallInit(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    persistentCollective("MPI_Alltoall_init", comm, request) {
        PMPI_Ialltoall(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, $0)
    }
}

@_cdecl("PMPI_Alltoallv_init")
public func mpiAlltoallvInit(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<Int32>?, _ sdispls: UnsafePointer<Int32>?, _ sendtype: MPI_Datatype,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<Int32>?, _ rdispls: UnsafePointer<Int32>?, _ recvtype: MPI_Datatype,
    _ comm: MPI_Comm, _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    let inPlace = CInterface.isInPlace(sendbuf)  // the send arrays are ignored then (and may be anything)
    let sendcountsCopy = inPlace ? nil : pinned(sendcounts, comm)
    let sdisplsCopy = inPlace ? nil : pinned(sdispls, comm)
    let recvcountsCopy = pinned(recvcounts, comm)
    let rdisplsCopy = pinned(rdispls, comm)
    return persistentCollective("MPI_Alltoallv_init", comm, request) { request in
        PMPI_Ialltoallv(
            sendbuf, sendcountsCopy?.address, sdisplsCopy?.address, sendtype, recvbuf, recvcountsCopy?.address, rdisplsCopy?.address, recvtype, comm, request)
    }
}

@_cdecl("PMPI_Alltoallw_init")
public func mpiAlltoallwInit(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<Int32>?, _ sdispls: UnsafePointer<Int32>?, _ sendtypes: UnsafePointer<MPI_Datatype>?,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<Int32>?, _ rdispls: UnsafePointer<Int32>?,
    _ recvtypes: UnsafePointer<MPI_Datatype>?, _ comm: MPI_Comm, _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    let inPlace = CInterface.isInPlace(sendbuf)  // the send arrays are ignored then (and may be anything)
    let sendcountsCopy = inPlace ? nil : pinned(sendcounts, comm)
    let sdisplsCopy = inPlace ? nil : pinned(sdispls, comm)
    let sendtypesCopy = inPlace ? nil : pinned(sendtypes, comm)
    let recvcountsCopy = pinned(recvcounts, comm)
    let rdisplsCopy = pinned(rdispls, comm)
    let recvtypesCopy = pinned(recvtypes, comm)
    return persistentCollective("MPI_Alltoallw_init", comm, request) { request in
        PMPI_Ialltoallw(
            sendbuf, sendcountsCopy?.address, sdisplsCopy?.address, sendtypesCopy?.address, recvbuf, recvcountsCopy?.address, rdisplsCopy?.address,
            recvtypesCopy?.address, comm, request)
    }
}

@_cdecl("PMPI_Neighbor_allgather_init")
public func mpiNeighborAllgatherInit(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    persistentCollective("MPI_Neighbor_allgather_init", comm, request) {
        PMPI_Ineighbor_allgather(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, $0)
    }
}

@_cdecl("PMPI_Neighbor_allgatherv_init")
public func mpiNeighborAllgathervInit(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?,
    _ recvcounts: UnsafePointer<Int32>?, _ displs: UnsafePointer<Int32>?, _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ info: MPI_Info,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    let sources = neighborCounts(comm).sources
    let recvcountsCopy = pinned(recvcounts, count: sources)
    let displsCopy = pinned(displs, count: sources)
    return persistentCollective("MPI_Neighbor_allgatherv_init", comm, request) {
        PMPI_Ineighbor_allgatherv(sendbuf, sendcount, sendtype, recvbuf, recvcountsCopy?.address, displsCopy?.address, recvtype, comm, $0)
    }
}

@_cdecl("PMPI_Neighbor_alltoall_init")
public func mpiNeighborAlltoallInit(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    persistentCollective("MPI_Neighbor_alltoall_init", comm, request) {
        PMPI_Ineighbor_alltoall(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, $0)
    }
}

@_cdecl("PMPI_Neighbor_alltoallv_init")
public func mpiNeighborAlltoallvInit(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<Int32>?, _ sdispls: UnsafePointer<Int32>?, _ sendtype: MPI_Datatype,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<Int32>?, _ rdispls: UnsafePointer<Int32>?, _ recvtype: MPI_Datatype,
    _ comm: MPI_Comm, _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    let (sources, destinations) = neighborCounts(comm)
    let sendcountsCopy = pinned(sendcounts, count: destinations)
    let sdisplsCopy = pinned(sdispls, count: destinations)
    let recvcountsCopy = pinned(recvcounts, count: sources)
    let rdisplsCopy = pinned(rdispls, count: sources)
    return persistentCollective("MPI_Neighbor_alltoallv_init", comm, request) {
        PMPI_Ineighbor_alltoallv(
            sendbuf, sendcountsCopy?.address, sdisplsCopy?.address, sendtype, recvbuf, recvcountsCopy?.address, rdisplsCopy?.address, recvtype, comm,
            $0)
    }
}

@_cdecl("PMPI_Neighbor_alltoallw_init")
public func mpiNeighborAlltoallwInit(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<Int32>?, _ sdispls: UnsafePointer<MPI_Aint>?, _ sendtypes: UnsafePointer<MPI_Datatype>?,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<Int32>?, _ rdispls: UnsafePointer<MPI_Aint>?,
    _ recvtypes: UnsafePointer<MPI_Datatype>?, _ comm: MPI_Comm, _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    let (sources, destinations) = neighborCounts(comm)
    let sendcountsCopy = pinned(sendcounts, count: destinations), sdisplsCopy = pinned(sdispls, count: destinations)
    let sendtypesCopy = pinned(sendtypes, count: destinations)
    let recvcountsCopy = pinned(recvcounts, count: sources), rdisplsCopy = pinned(rdispls, count: sources)
    let recvtypesCopy = pinned(recvtypes, count: sources)
    return persistentCollective("MPI_Neighbor_alltoallw_init", comm, request) {
        PMPI_Ineighbor_alltoallw(
            sendbuf, sendcountsCopy?.address, sdisplsCopy?.address, sendtypesCopy?.address, recvbuf, recvcountsCopy?.address, rdisplsCopy?.address,
            recvtypesCopy?.address, comm, $0)
    }
}

// MARK: MPI-4's large-count (`_c`) forms: each starts the large-count nonblocking form, as the `int` forms start theirs.

@_cdecl("PMPI_Bcast_init_c")
public func mpiBcastInitC(
    _ buffer: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm, _ info: MPI_Info,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    persistentCollective("MPI_Bcast_init_c", comm, request) { PMPI_Ibcast_c(buffer, count, datatype, root, comm, $0) }
}

@_cdecl("PMPI_Reduce_init_c")
public func mpiReduceInitC(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ op: MPI_Op, _ root: Int32,
    _ comm: MPI_Comm, _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    persistentCollective("MPI_Reduce_init_c", comm, request) { PMPI_Ireduce_c(sendbuf, recvbuf, count, datatype, op, root, comm, $0) }
}

@_cdecl("PMPI_Allreduce_init_c")
public func mpiAllreduceInitC(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ op: MPI_Op, _ comm: MPI_Comm,
    _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    persistentCollective("MPI_Allreduce_init_c", comm, request) { PMPI_Iallreduce_c(sendbuf, recvbuf, count, datatype, op, comm, $0) }
}

@_cdecl("PMPI_Reduce_scatter_block_init_c")
public func mpiReduceScatterBlockInitC(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: MPI_Count, _ datatype: MPI_Datatype, _ op: MPI_Op, _ comm: MPI_Comm,
    _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    persistentCollective("MPI_Reduce_scatter_block_init_c", comm, request) { PMPI_Ireduce_scatter_block_c(sendbuf, recvbuf, recvcount, datatype, op, comm, $0) }
}

@_cdecl("PMPI_Scan_init_c")
public func mpiScanInitC(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ op: MPI_Op, _ comm: MPI_Comm,
    _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    persistentCollective("MPI_Scan_init_c", comm, request) { PMPI_Iscan_c(sendbuf, recvbuf, count, datatype, op, comm, $0) }
}

@_cdecl("PMPI_Exscan_init_c")
public func mpiExscanInitC(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ op: MPI_Op, _ comm: MPI_Comm,
    _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    persistentCollective("MPI_Exscan_init_c", comm, request) { PMPI_Iexscan_c(sendbuf, recvbuf, count, datatype, op, comm, $0) }
}

@_cdecl("PMPI_Gather_init_c")
public func mpiGatherInitC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: MPI_Count,
    _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm, _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    persistentCollective("MPI_Gather_init_c", comm, request) { PMPI_Igather_c(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm, $0) }
}

@_cdecl("PMPI_Scatter_init_c")
public func mpiScatterInitC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: MPI_Count,
    _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm, _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    persistentCollective("MPI_Scatter_init_c", comm, request) { PMPI_Iscatter_c(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm, $0) }
}

@_cdecl("PMPI_Allgather_init_c")
public func mpiAllgatherInitC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: MPI_Count,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    persistentCollective("MPI_Allgather_init_c", comm, request) { PMPI_Iallgather_c(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, $0) }
}

@_cdecl("PMPI_Alltoall_init_c")
public func mpiAlltoallInitC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: MPI_Count,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    persistentCollective("MPI_Alltoall_init_c", comm, request) { PMPI_Ialltoall_c(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, $0) }
}

@_cdecl("PMPI_Neighbor_allgather_init_c")
public func mpiNeighborAllgatherInitC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: MPI_Count,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    persistentCollective("MPI_Neighbor_allgather_init_c", comm, request) {
        PMPI_Ineighbor_allgather_c(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, $0)
    }
}

@_cdecl("PMPI_Neighbor_alltoall_init_c")
public func mpiNeighborAlltoallInitC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: MPI_Count,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    persistentCollective("MPI_Neighbor_alltoall_init_c", comm, request) {
        PMPI_Ineighbor_alltoall_c(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, $0)
    }
}

// The v- and w-forms' large-count inits: counts are MPI_Count and displacements MPI_Aint arrays,
// pinned at init as the `int` forms pin theirs.

@_cdecl("PMPI_Reduce_scatter_init_c")
public func mpiReduceScatterInitC(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<MPI_Count>?, _ datatype: MPI_Datatype,
    _ op: MPI_Op, _ comm: MPI_Comm, _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    let recvcountsCopy = pinned(recvcounts, comm, peers: false)
    return persistentCollective("MPI_Reduce_scatter_init_c", comm, request) { request in
        PMPI_Ireduce_scatter_c(sendbuf, recvbuf, recvcountsCopy?.address, datatype, op, comm, request)
    }
}

@_cdecl("PMPI_Gatherv_init_c")
public func mpiGathervInitC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?,
    _ recvcounts: UnsafePointer<MPI_Count>?, _ displs: UnsafePointer<MPI_Aint>?, _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm,
    _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    let atRoot = (try? CInterface.communicator(comm)).map { CInterface.isRoot(root, of: $0) } ?? false  // the arrays count there only
    let recvcountsCopy = atRoot ? pinned(recvcounts, comm) : nil
    let displsCopy = atRoot ? pinned(displs, comm) : nil
    return persistentCollective("MPI_Gatherv_init_c", comm, request) { request in
        PMPI_Igatherv_c(sendbuf, sendcount, sendtype, recvbuf, recvcountsCopy?.address, displsCopy?.address, recvtype, root, comm, request)
    }
}

@_cdecl("PMPI_Scatterv_init_c")
public func mpiScattervInitC(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<MPI_Count>?, _ displs: UnsafePointer<MPI_Aint>?, _ sendtype: MPI_Datatype,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: MPI_Count, _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm, _ info: MPI_Info,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    let atRoot = (try? CInterface.communicator(comm)).map { CInterface.isRoot(root, of: $0) } ?? false  // the arrays count there only
    let sendcountsCopy = atRoot ? pinned(sendcounts, comm) : nil
    let displsCopy = atRoot ? pinned(displs, comm) : nil
    return persistentCollective("MPI_Scatterv_init_c", comm, request) { request in
        PMPI_Iscatterv_c(sendbuf, sendcountsCopy?.address, displsCopy?.address, sendtype, recvbuf, recvcount, recvtype, root, comm, request)
    }
}

@_cdecl("PMPI_Allgatherv_init_c")
public func mpiAllgathervInitC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?,
    _ recvcounts: UnsafePointer<MPI_Count>?, _ displs: UnsafePointer<MPI_Aint>?, _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ info: MPI_Info,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    let recvcountsCopy = pinned(recvcounts, comm)
    let displsCopy = pinned(displs, comm)
    return persistentCollective("MPI_Allgatherv_init_c", comm, request) { request in
        PMPI_Iallgatherv_c(sendbuf, sendcount, sendtype, recvbuf, recvcountsCopy?.address, displsCopy?.address, recvtype, comm, request)
    }
}

@_cdecl("PMPI_Alltoallv_init_c")
public func mpiAlltoallvInitC(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<MPI_Count>?, _ sdispls: UnsafePointer<MPI_Aint>?, _ sendtype: MPI_Datatype,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<MPI_Count>?, _ rdispls: UnsafePointer<MPI_Aint>?, _ recvtype: MPI_Datatype,
    _ comm: MPI_Comm, _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    let inPlace = CInterface.isInPlace(sendbuf)  // the send arrays are ignored then (and may be anything)
    let sendcountsCopy = inPlace ? nil : pinned(sendcounts, comm)
    let sdisplsCopy = inPlace ? nil : pinned(sdispls, comm)
    let recvcountsCopy = pinned(recvcounts, comm)
    let rdisplsCopy = pinned(rdispls, comm)
    return persistentCollective("MPI_Alltoallv_init_c", comm, request) { request in
        PMPI_Ialltoallv_c(
            sendbuf, sendcountsCopy?.address, sdisplsCopy?.address, sendtype, recvbuf, recvcountsCopy?.address, rdisplsCopy?.address, recvtype, comm, request)
    }
}

@_cdecl("PMPI_Alltoallw_init_c")
public func mpiAlltoallwInitC(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<MPI_Count>?, _ sdispls: UnsafePointer<MPI_Aint>?,
    _ sendtypes: UnsafePointer<MPI_Datatype>?, _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<MPI_Count>?,
    _ rdispls: UnsafePointer<MPI_Aint>?, _ recvtypes: UnsafePointer<MPI_Datatype>?, _ comm: MPI_Comm, _ info: MPI_Info,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    let inPlace = CInterface.isInPlace(sendbuf)  // the send arrays are ignored then (and may be anything)
    let sendcountsCopy = inPlace ? nil : pinned(sendcounts, comm)
    let sdisplsCopy = inPlace ? nil : pinned(sdispls, comm)
    let sendtypesCopy = inPlace ? nil : pinned(sendtypes, comm)
    let recvcountsCopy = pinned(recvcounts, comm)
    let rdisplsCopy = pinned(rdispls, comm)
    let recvtypesCopy = pinned(recvtypes, comm)
    return persistentCollective("MPI_Alltoallw_init_c", comm, request) { request in
        PMPI_Ialltoallw_c(
            sendbuf, sendcountsCopy?.address, sdisplsCopy?.address, sendtypesCopy?.address, recvbuf, recvcountsCopy?.address, rdisplsCopy?.address,
            recvtypesCopy?.address, comm, request)
    }
}

@_cdecl("PMPI_Neighbor_allgatherv_init_c")
public func mpiNeighborAllgathervInitC(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: MPI_Count, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?,
    _ recvcounts: UnsafePointer<MPI_Count>?, _ displs: UnsafePointer<MPI_Aint>?, _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ info: MPI_Info,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    let sources = neighborCounts(comm).sources
    let recvcountsCopy = pinned(recvcounts, count: sources)
    let displsCopy = pinned(displs, count: sources)
    return persistentCollective("MPI_Neighbor_allgatherv_init_c", comm, request) {
        PMPI_Ineighbor_allgatherv_c(sendbuf, sendcount, sendtype, recvbuf, recvcountsCopy?.address, displsCopy?.address, recvtype, comm, $0)
    }
}

@_cdecl("PMPI_Neighbor_alltoallv_init_c")
public func mpiNeighborAlltoallvInitC(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<MPI_Count>?, _ sdispls: UnsafePointer<MPI_Aint>?, _ sendtype: MPI_Datatype,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<MPI_Count>?, _ rdispls: UnsafePointer<MPI_Aint>?, _ recvtype: MPI_Datatype,
    _ comm: MPI_Comm, _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    let (sources, destinations) = neighborCounts(comm)
    let sendcountsCopy = pinned(sendcounts, count: destinations)
    let sdisplsCopy = pinned(sdispls, count: destinations)
    let recvcountsCopy = pinned(recvcounts, count: sources)
    let rdisplsCopy = pinned(rdispls, count: sources)
    return persistentCollective("MPI_Neighbor_alltoallv_init_c", comm, request) {
        PMPI_Ineighbor_alltoallv_c(
            sendbuf, sendcountsCopy?.address, sdisplsCopy?.address, sendtype, recvbuf, recvcountsCopy?.address, rdisplsCopy?.address, recvtype, comm,
            $0)
    }
}

@_cdecl("PMPI_Neighbor_alltoallw_init_c")
public func mpiNeighborAlltoallwInitC(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<MPI_Count>?, _ sdispls: UnsafePointer<MPI_Aint>?,
    _ sendtypes: UnsafePointer<MPI_Datatype>?, _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<MPI_Count>?,
    _ rdispls: UnsafePointer<MPI_Aint>?, _ recvtypes: UnsafePointer<MPI_Datatype>?, _ comm: MPI_Comm, _ info: MPI_Info,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    let (sources, destinations) = neighborCounts(comm)
    let sendcountsCopy = pinned(sendcounts, count: destinations), sdisplsCopy = pinned(sdispls, count: destinations)
    let sendtypesCopy = pinned(sendtypes, count: destinations)
    let recvcountsCopy = pinned(recvcounts, count: sources), rdisplsCopy = pinned(rdispls, count: sources)
    let recvtypesCopy = pinned(recvtypes, count: sources)
    return persistentCollective("MPI_Neighbor_alltoallw_init_c", comm, request) {
        PMPI_Ineighbor_alltoallw_c(
            sendbuf, sendcountsCopy?.address, sdisplsCopy?.address, sendtypesCopy?.address, recvbuf, recvcountsCopy?.address, rdisplsCopy?.address,
            recvtypesCopy?.address, comm, $0)
    }
}
