import CMPI
import SwiftMPI

// MPI-4's partitioned communication (MPI_Psend_init, MPI_Precv_init, MPI_Pready, MPI_Pready_range,
// MPI_Pready_list, MPI_Parrived) over the Swift runtime's request-driven partitioned transfers
// (PartitionedRequests.swift): persistent requests, started with MPI_Start(all) and completed by
// the wait and test calls. The message leaves when its last part is ready, and its parts arrive
// together (MPI lets an implementation choose when parts travel). The info argument has no keys
// SwiftMPI reads.

/// MPI_Psend_init's and MPI_Precv_init's work: `partitions` parts of `count` instances each.
private func partitionedInit(
    _ function: StaticString, send: Bool, _ buf: UnsafeRawPointer?, _ partitions: Int32, _ count: MPI_Count, _ datatype: MPI_Datatype,
    _ peer: Int32, _ tag: Int32, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function, on: comm) {
        guard let request else { throw CError(MPI_ERR_REQUEST, "a null request pointer") }
        guard partitions >= 1 else { throw CError(MPI_ERR_ARG, "\(partitions) partitions (at least one)") }
        let total = try CBuffer.product(try CInterface.count(count), Int(partitions))
        let buffer = try CBuffer(buf, total, datatype)
        let made = try CInterface.withCommunicator(comm) { communicator throws(MPIError) -> Request in
            let (raw, instances, type): (UnsafeRawBufferPointer, Int, Datatype?) =
                switch buffer {
                case .bytes(let raw): (raw, raw.count, nil)
                case .typed(let raw, let instances, let type): (raw, instances, type)
                }
            return send
                ? try communicator.partitionedSendRequest(
                    raw, count: instances, datatype: type, partitions: Int(partitions), to: CInterface.rank(peer), tag: Int(tag), function)
                : try communicator.partitionedReceiveRequest(
                    UnsafeMutableRawBufferPointer(mutating: raw), count: instances, datatype: type, partitions: Int(partitions),
                    from: CInterface.rank(peer), tag: Int(tag), function)
        }
        request.pointee = CInterface.requests.insert(CRequest(made, comm, persistent: true))
    }
}

@_cdecl("PMPI_Psend_init")
public func mpiPsendInit(
    _ buf: UnsafeRawPointer?, _ partitions: Int32, _ count: MPI_Count, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    partitionedInit("MPI_Psend_init", send: true, buf, partitions, count, datatype, dest, tag, comm, request)
}

@_cdecl("PMPI_Precv_init")
public func mpiPrecvInit(
    _ buf: UnsafeMutableRawPointer?, _ partitions: Int32, _ count: MPI_Count, _ datatype: MPI_Datatype, _ source: Int32, _ tag: Int32,
    _ comm: MPI_Comm, _ info: MPI_Info, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    partitionedInit("MPI_Precv_init", send: false, buf, partitions, count, datatype, source, tag, comm, request)
}

/// Runs `body` on the partitioned request `handle` names; errors go to its communicator's handler.
private func partitionedCall(_ function: StaticString, _ handle: MPI_Request, _ body: (Request) throws -> Void) -> Int32 {
    let comm = (try? CInterface.request(handle))??.comm ?? MPI_COMM_WORLD
    return cCall(function, on: comm) {
        guard let entry = try CInterface.request(handle) else { throw CError(MPI_ERR_REQUEST, "MPI_REQUEST_NULL is not a partitioned request") }
        // (MPICH's class too: a request not started, or whose round a wait or test completed.)
        guard entry.request.isActive else { throw CError(MPI_ERR_REQUEST, "the request is not active (start it with MPI_Start)") }
        try entry.withRequest(body)
    }
}

@_cdecl("PMPI_Pready")
public func mpiPready(_ partition: Int32, _ request: MPI_Request) -> Int32 {
    partitionedCall("MPI_Pready", request) { try $0.partitionReady(Int(partition), "MPI_Pready") }
}

@_cdecl("PMPI_Pready_range")
public func mpiPreadyRange(_ low: Int32, _ high: Int32, _ request: MPI_Request) -> Int32 {
    partitionedCall("MPI_Pready_range", request) { request in
        guard low <= high else { throw CError(MPI_ERR_ARG, "partition_low \(low) is above partition_high \(high)") }
        for partition in low...high { try request.partitionReady(Int(partition), "MPI_Pready_range") }
    }
}

@_cdecl("PMPI_Pready_list")
public func mpiPreadyList(_ length: Int32, _ partitions: UnsafePointer<Int32>?, _ request: MPI_Request) -> Int32 {
    partitionedCall("MPI_Pready_list", request) { request in
        let list = try CInterface.ints(partitions, length)
        for partition in list { try request.partitionReady(partition, "MPI_Pready_list") }
    }
}

@_cdecl("PMPI_Parrived")
public func mpiParrived(_ request: MPI_Request, _ partition: Int32, _ flag: UnsafeMutablePointer<Int32>?) -> Int32 {
    partitionedCall("MPI_Parrived", request) { request in
        guard let flag else { throw CError(MPI_ERR_ARG, "a null flag pointer") }
        flag.pointee = try request.partitionArrived(Int(partition), "MPI_Parrived") ? 1 : 0
    }
}
