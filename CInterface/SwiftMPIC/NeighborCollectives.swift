import CMPI
import SwiftMPI

// Neighbourhood collectives on Cartesian and graph topologies (SwiftMPI's neighbour order, which is MPI's).

extension CInterface {
    /// Whom this rank receives from and sends to, in MPI's neighbour order (MPI.procNull past a
    /// non-periodic edge).
    static func neighbors(_ communicator: Communicator) throws -> (sources: [Int], destinations: [Int]) {
        if let topology = communicator.topology {
            var list: [Int] = []
            for dimension in topology.dimensions.indices {
                let (down, up) = try communicator.cartShift(dimension: dimension, displacement: 1)
                list += [down, up]
            }
            return (list, list)
        }
        if let graph = communicator.graphTopology { return (graph.sources, graph.destinations) }
        throw CError(MPI_ERR_TOPOLOGY, "the communicator has no topology")
    }

    /// Copies the blocks of `result` (packed in neighbour order, `counts` bytes each) to their
    /// displacements in `buffer`, leaving the blocks of MPI_PROC_NULL neighbours untouched.
    static func copyNeighborBlocks(_ result: [UInt8], counts: [Int], displacements: [Int], sources: [Int], to buffer: UnsafeMutableRawPointer?) {
        guard let buffer else { return }
        result.withUnsafeBytes { source in
            var offset = 0
            for index in counts.indices {
                if sources[index] != MPI.procNull && counts[index] > 0 {
                    (buffer + displacements[index]).copyMemory(from: source.baseAddress! + offset, byteCount: counts[index])
                }
                offset += counts[index]
            }
        }
    }
}

private func neighborAllgather(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcount: Int, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?,
    _ recvcount: Int, _ recvtype: MPI_Datatype, _ comm: MPI_Comm, alltoall: Bool
) throws -> Request {
    let communicator = try CInterface.communicator(comm)
    let (sources, destinations) = try CInterface.neighbors(communicator)
    let input = UnsafeBufferPointer(try CInterface.bytes(sendbuf, Int(sendcount) * (alltoall ? destinations.count : 1), sendtype, function))
    let output = try CInterface.bytes(recvbuf, Int(recvcount) * sources.count, recvtype, function)
    return alltoall ? try communicator.ineighborAlltoall(input, into: output) : try communicator.ineighborAllgather(input, into: output)
}

@_cdecl("PMPI_Neighbor_allgather")
public func mpiNeighborAllgather(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm
) -> Int32 {
    mpiNeighborAllgatherWork("MPI_Neighbor_allgather", sendbuf, Int(sendcount), sendtype, recvbuf, Int(recvcount), recvtype, comm)
}

/// MPI_Neighbor_allgather's work, also MPI_Neighbor_allgather_c's (counts as Int).
func mpiNeighborAllgatherWork(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcount: Int, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm
) -> Int32 {
    cCall(function, on: comm) {
        _ = try neighborAllgather(function, sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, alltoall: false).wait()
    }
}

@_cdecl("PMPI_Ineighbor_allgather")
public func mpiIneighborAllgather(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIneighborAllgatherWork("MPI_Ineighbor_allgather", sendbuf, Int(sendcount), sendtype, recvbuf, Int(recvcount), recvtype, comm, request)
}

/// MPI_Ineighbor_allgather's work, also MPI_Ineighbor_allgather_c's (counts as Int).
func mpiIneighborAllgatherWork(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcount: Int, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function, on: comm) {
        guard let request else { throw CError(MPI_ERR_REQUEST, "a null request pointer") }
        let started = try neighborAllgather(function, sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, alltoall: false)
        request.pointee = CInterface.requests.insert(CRequest(started, comm))
    }
}

@_cdecl("PMPI_Neighbor_alltoall")
public func mpiNeighborAlltoall(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm
) -> Int32 {
    mpiNeighborAlltoallWork("MPI_Neighbor_alltoall", sendbuf, Int(sendcount), sendtype, recvbuf, Int(recvcount), recvtype, comm)
}

/// MPI_Neighbor_alltoall's work, also MPI_Neighbor_alltoall_c's (counts as Int).
func mpiNeighborAlltoallWork(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcount: Int, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm
) -> Int32 {
    cCall(function, on: comm) {
        _ = try neighborAllgather(function, sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, alltoall: true).wait()
    }
}

@_cdecl("PMPI_Ineighbor_alltoall")
public func mpiIneighborAlltoall(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIneighborAlltoallWork("MPI_Ineighbor_alltoall", sendbuf, Int(sendcount), sendtype, recvbuf, Int(recvcount), recvtype, comm, request)
}

/// MPI_Ineighbor_alltoall's work, also MPI_Ineighbor_alltoall_c's (counts as Int).
func mpiIneighborAlltoallWork(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcount: Int, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function, on: comm) {
        guard let request else { throw CError(MPI_ERR_REQUEST, "a null request pointer") }
        let started = try neighborAllgather(function, sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm, alltoall: true)
        request.pointee = CInterface.requests.insert(CRequest(started, comm))
    }
}

@_cdecl("PMPI_Neighbor_allgatherv")
public func mpiNeighborAllgatherv(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<Int32>?,
    _ displs: UnsafePointer<Int32>?, _ recvtype: MPI_Datatype, _ comm: MPI_Comm
) -> Int32 {
    mpiNeighborAllgathervWork("MPI_Neighbor_allgatherv", sendbuf, Int(sendcount), sendtype, recvbuf, recvcounts, displs, recvtype, comm)
}

/// MPI_Neighbor_allgatherv's work, also MPI_Neighbor_allgatherv_c's (counts as Int, arrays of either width).
func mpiNeighborAllgathervWork<G0: CInteger, G1: CInteger>(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcount: Int, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?,
    _ recvcounts: UnsafePointer<G0>?, _ displs: UnsafePointer<G1>?, _ recvtype: MPI_Datatype, _ comm: MPI_Comm
) -> Int32 {
    cCall(function, on: comm) {
        let communicator = try CInterface.communicator(comm)
        let (sources, _) = try CInterface.neighbors(communicator)
        let layout = try CInterface.layout(recvcounts, displs, recvtype, size: sources.count, function)
        let own = Array(try CInterface.bytes(sendbuf, sendcount, sendtype, function))
        let result = try communicator.neighborAllgatherv(own, counts: layout.counts)
        CInterface.copyNeighborBlocks(result, counts: layout.counts, displacements: layout.displacements, sources: sources, to: recvbuf)
    }
}

@_cdecl("PMPI_Neighbor_alltoallv")
public func mpiNeighborAlltoallv(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<Int32>?, _ sdispls: UnsafePointer<Int32>?, _ sendtype: MPI_Datatype,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<Int32>?, _ rdispls: UnsafePointer<Int32>?, _ recvtype: MPI_Datatype,
    _ comm: MPI_Comm
) -> Int32 {
    mpiNeighborAlltoallvWork("MPI_Neighbor_alltoallv", sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls, recvtype, comm)
}

/// MPI_Neighbor_alltoallv's work, also MPI_Neighbor_alltoallv_c's (counts as Int, arrays of either width).
func mpiNeighborAlltoallvWork<G0: CInteger, G1: CInteger, G2: CInteger, G3: CInteger>(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<G0>?, _ sdispls: UnsafePointer<G1>?, _ sendtype: MPI_Datatype,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<G2>?, _ rdispls: UnsafePointer<G3>?, _ recvtype: MPI_Datatype, _ comm: MPI_Comm
) -> Int32 {
    cCall(function, on: comm) {
        let communicator = try CInterface.communicator(comm)
        let (sources, destinations) = try CInterface.neighbors(communicator)
        let send = try CInterface.layout(sendcounts, sdispls, sendtype, size: destinations.count, function)
        let receive = try CInterface.layout(recvcounts, rdispls, recvtype, size: sources.count, function)
        // The blocks to send, packed in neighbour order.
        var packed: [UInt8] = []
        if let sendbuf {
            for index in send.counts.indices where send.counts[index] > 0 {
                packed += UnsafeRawBufferPointer(start: sendbuf + send.displacements[index], count: send.counts[index])
            }
        }
        let result = try communicator.neighborAlltoallv(packed, sendCounts: send.counts, receiveCounts: receive.counts)
        CInterface.copyNeighborBlocks(result, counts: receive.counts, displacements: receive.displacements, sources: sources, to: recvbuf)
    }
}

@_cdecl("PMPI_Ineighbor_allgatherv")
public func mpiIneighborAllgatherv(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<Int32>?,
    _ displs: UnsafePointer<Int32>?, _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIneighborAllgathervWork("MPI_Ineighbor_allgatherv", sendbuf, Int(sendcount), sendtype, recvbuf, recvcounts, displs, recvtype, comm, request)
}

/// MPI_Ineighbor_allgatherv's work, also MPI_Ineighbor_allgatherv_c's (counts as Int, arrays of either width).
func mpiIneighborAllgathervWork<G0: CInteger, G1: CInteger>(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcount: Int, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?,
    _ recvcounts: UnsafePointer<G0>?, _ displs: UnsafePointer<G1>?, _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function, on: comm) {
        guard let request else { throw CError(MPI_ERR_REQUEST, "a null request pointer") }
        let communicator = try CInterface.communicator(comm)
        let (sources, _) = try CInterface.neighbors(communicator)
        let layout = try CInterface.layout(recvcounts, displs, recvtype, size: sources.count, function)
        let own = Array(try CInterface.bytes(sendbuf, sendcount, sendtype, function))
        let started = try communicator.ineighborAllgatherv(own, counts: layout.counts)
        request.pointee = CInterface.insert(started.request, comm) {
            CInterface.copyNeighborBlocks(try started.wait(), counts: layout.counts, displacements: layout.displacements, sources: sources, to: recvbuf)
        }
    }
}

@_cdecl("PMPI_Ineighbor_alltoallv")
public func mpiIneighborAlltoallv(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<Int32>?, _ sdispls: UnsafePointer<Int32>?, _ sendtype: MPI_Datatype,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<Int32>?, _ rdispls: UnsafePointer<Int32>?, _ recvtype: MPI_Datatype,
    _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIneighborAlltoallvWork("MPI_Ineighbor_alltoallv", sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls, recvtype, comm, request)
}

/// MPI_Ineighbor_alltoallv's work, also MPI_Ineighbor_alltoallv_c's (counts as Int, arrays of either width).
func mpiIneighborAlltoallvWork<G0: CInteger, G1: CInteger, G2: CInteger, G3: CInteger>(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<G0>?, _ sdispls: UnsafePointer<G1>?, _ sendtype: MPI_Datatype,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<G2>?, _ rdispls: UnsafePointer<G3>?, _ recvtype: MPI_Datatype, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function, on: comm) {
        guard let request else { throw CError(MPI_ERR_REQUEST, "a null request pointer") }
        let communicator = try CInterface.communicator(comm)
        let (sources, destinations) = try CInterface.neighbors(communicator)
        let send = try CInterface.layout(sendcounts, sdispls, sendtype, size: destinations.count, function)
        let receive = try CInterface.layout(recvcounts, rdispls, recvtype, size: sources.count, function)
        var packed: [UInt8] = []
        if let sendbuf {
            for index in send.counts.indices where send.counts[index] > 0 {
                packed += UnsafeRawBufferPointer(start: sendbuf + send.displacements[index], count: send.counts[index])
            }
        }
        let started = try communicator.ineighborAlltoallv(packed, sendCounts: send.counts, receiveCounts: receive.counts)
        request.pointee = CInterface.insert(started.request, comm) {
            CInterface.copyNeighborBlocks(try started.wait(), counts: receive.counts, displacements: receive.displacements, sources: sources, to: recvbuf)
        }
    }
}

@_cdecl("PMPI_Neighbor_alltoallw")
public func mpiNeighborAlltoallw(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<Int32>?, _ sdispls: UnsafePointer<MPI_Aint>?, _ sendtypes: UnsafePointer<MPI_Datatype>?,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<Int32>?, _ rdispls: UnsafePointer<MPI_Aint>?,
    _ recvtypes: UnsafePointer<MPI_Datatype>?, _ comm: MPI_Comm
) -> Int32 {
    mpiNeighborAlltoallwWork("MPI_Neighbor_alltoallw", sendbuf, sendcounts, sdispls, sendtypes, recvbuf, recvcounts, rdispls, recvtypes, comm)
}

/// MPI_Neighbor_alltoallw's work, also MPI_Neighbor_alltoallw_c's (counts as Int, arrays of either width).
func mpiNeighborAlltoallwWork<G0: CInteger, G1: CInteger>(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<G0>?, _ sdispls: UnsafePointer<MPI_Aint>?,
    _ sendtypes: UnsafePointer<MPI_Datatype>?, _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<G1>?, _ rdispls: UnsafePointer<MPI_Aint>?,
    _ recvtypes: UnsafePointer<MPI_Datatype>?, _ comm: MPI_Comm
) -> Int32 {
    cCall(function, on: comm) {
        let communicator = try CInterface.communicator(comm)
        let (sources, destinations) = try CInterface.neighbors(communicator)
        let send = try CInterface.wLayout(sendcounts, sdispls, sendtypes, size: destinations.count)
        let receive = try CInterface.wLayout(recvcounts, rdispls, recvtypes, size: sources.count)
        let values = CInterface.array(sendbuf, bytes: send.extent)
        var buffer = CInterface.array(recvbuf, bytes: receive.extent)
        try communicator.neighborAlltoallw(
            values, sendCounts: send.counts, sendDisplacements: send.displacements, sendTypes: send.types, into: &buffer,
            receiveCounts: receive.counts, receiveDisplacements: receive.displacements, receiveTypes: receive.types)
        if let recvbuf, !buffer.isEmpty { buffer.withUnsafeBytes { recvbuf.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
    }
}

@_cdecl("PMPI_Ineighbor_alltoallw")
public func mpiIneighborAlltoallw(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<Int32>?, _ sdispls: UnsafePointer<MPI_Aint>?, _ sendtypes: UnsafePointer<MPI_Datatype>?,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<Int32>?, _ rdispls: UnsafePointer<MPI_Aint>?,
    _ recvtypes: UnsafePointer<MPI_Datatype>?, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIneighborAlltoallwWork("MPI_Ineighbor_alltoallw", sendbuf, sendcounts, sdispls, sendtypes, recvbuf, recvcounts, rdispls, recvtypes, comm, request)
}

/// MPI_Ineighbor_alltoallw's work, also MPI_Ineighbor_alltoallw_c's (counts as Int, arrays of either width).
func mpiIneighborAlltoallwWork<G0: CInteger, G1: CInteger>(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<G0>?, _ sdispls: UnsafePointer<MPI_Aint>?,
    _ sendtypes: UnsafePointer<MPI_Datatype>?, _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<G1>?, _ rdispls: UnsafePointer<MPI_Aint>?,
    _ recvtypes: UnsafePointer<MPI_Datatype>?, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function, on: comm) {
        let communicator = try CInterface.communicator(comm)
        let (sources, destinations) = try CInterface.neighbors(communicator)
        let send = try CInterface.wLayout(sendcounts, sdispls, sendtypes, size: destinations.count)
        let receive = try CInterface.wLayout(recvcounts, rdispls, recvtypes, size: sources.count)
        let started = try communicator.ineighborAlltoallw(
            CInterface.array(sendbuf, bytes: send.extent), sendCounts: send.counts, sendDisplacements: send.displacements, sendTypes: send.types,
            into: CInterface.array(recvbuf, bytes: receive.extent), receiveCounts: receive.counts, receiveDisplacements: receive.displacements,
            receiveTypes: receive.types)
        try store(started, comm, into: request) { result in
            if let recvbuf, !result.isEmpty { result.withUnsafeBytes { recvbuf.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
        }
    }
}
