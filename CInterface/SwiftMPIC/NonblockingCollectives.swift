import CMPI
import SwiftMPI

// Nonblocking collectives on the program's buffers (they must stay valid until the request completes).

/// Stores a started collective's request.
private func store(_ started: Request?, _ comm: MPI_Comm, into request: UnsafeMutablePointer<MPI_Request>?) throws(CError) {
    guard let request else { throw CError(MPI_ERR_REQUEST, "a null request pointer") }
    guard let started else { throw CError(MPI_ERR_INTERN, "the collective did not start") }
    request.pointee = CInterface.requests.insert(CRequest(started, comm))
}

@_cdecl("PMPI_Ibarrier")
public func mpiIbarrier(_ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?) -> Int32 {
    cCall("MPI_Ibarrier", on: comm) { try store(try CInterface.communicator(comm).ibarrier(), comm, into: request) }
}

@_cdecl("PMPI_Ibcast")
public func mpiIbcast(
    _ buffer: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall("MPI_Ibcast", on: comm) {
        let communicator = try CInterface.communicator(comm)
        try store(try communicator.ibcast(try CInterface.bytes(buffer, count, datatype, "MPI_Ibcast"), root: CInterface.rank(root)), comm, into: request)
    }
}

private struct NonblockingReduction: CReduction {
    let communicator: Communicator
    let send: UnsafeRawPointer?
    let receive: UnsafeMutableRawPointer?
    let count: Int
    /// Nil for allreduce.
    let root: Int?

    func run<T: BitwiseCopyable>(_ operation: ReduceOperation<T>) throws -> Request? {
        let isRoot = root == nil || communicator.rank == root
        let result = CInterface.elements(isRoot ? receive : nil, isRoot ? count : 0, T.self)
        let input = CInterface.isInPlace(send) ? UnsafeBufferPointer(result) : UnsafeBufferPointer(CInterface.elements(send, count, T.self))
        if let root { return try communicator.ireduce(input, into: result, op: operation, root: root) }
        return try communicator.iallreduce(input, into: result, op: operation)
    }
}

@_cdecl("PMPI_Iallreduce")
public func mpiIallreduce(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ op: MPI_Op, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall("MPI_Iallreduce", on: comm) {
        let call = NonblockingReduction(
            communicator: try CInterface.communicator(comm), send: sendbuf, receive: recvbuf, count: try CInterface.count(count), root: nil)
        try store(try CInterface.reduce(datatype, op, call), comm, into: request)
    }
}

@_cdecl("PMPI_Ireduce")
public func mpiIreduce(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ op: MPI_Op, _ root: Int32,
    _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall("MPI_Ireduce", on: comm) {
        let call = NonblockingReduction(
            communicator: try CInterface.communicator(comm), send: sendbuf, receive: recvbuf, count: try CInterface.count(count), root: Int(root))
        try store(try CInterface.reduce(datatype, op, call), comm, into: request)
    }
}

@_cdecl("PMPI_Igather")
public func mpiIgather(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32,
    _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall("MPI_Igather", on: comm) {
        let communicator = try CInterface.communicator(comm)
        guard !CInterface.isInPlace(sendbuf) else { throw CError.unsupported("MPI_Igather", "MPI_IN_PLACE") }
        let isRoot = communicator.rank == Int(root)
        let output = isRoot ? try CInterface.bytes(recvbuf, Int(recvcount) * communicator.size, recvtype, "MPI_Igather") : .init(start: nil, count: 0)
        let input = UnsafeBufferPointer(try CInterface.bytes(sendbuf, sendcount, sendtype, "MPI_Igather"))
        try store(try communicator.igather(input, into: output, root: Int(root)), comm, into: request)
    }
}

@_cdecl("PMPI_Iscatter")
public func mpiIscatter(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32,
    _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall("MPI_Iscatter", on: comm) {
        let communicator = try CInterface.communicator(comm)
        guard !CInterface.isInPlace(recvbuf) else { throw CError.unsupported("MPI_Iscatter", "MPI_IN_PLACE") }
        let isRoot = communicator.rank == Int(root)
        let input = isRoot ? try CInterface.bytes(sendbuf, Int(sendcount) * communicator.size, sendtype, "MPI_Iscatter") : .init(start: nil, count: 0)
        let output = try CInterface.bytes(recvbuf, recvcount, recvtype, "MPI_Iscatter")
        try store(try communicator.iscatter(UnsafeBufferPointer(input), into: output, root: Int(root)), comm, into: request)
    }
}

@_cdecl("PMPI_Iallgather")
public func mpiIallgather(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall("MPI_Iallgather", on: comm) {
        let communicator = try CInterface.communicator(comm)
        guard !CInterface.isInPlace(sendbuf) else { throw CError.unsupported("MPI_Iallgather", "MPI_IN_PLACE") }
        let output = try CInterface.bytes(recvbuf, Int(recvcount) * communicator.size, recvtype, "MPI_Iallgather")
        let input = UnsafeBufferPointer(try CInterface.bytes(sendbuf, sendcount, sendtype, "MPI_Iallgather"))
        try store(try communicator.iallgather(input, into: output), comm, into: request)
    }
}

@_cdecl("PMPI_Ialltoall")
public func mpiIalltoall(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall("MPI_Ialltoall", on: comm) {
        let communicator = try CInterface.communicator(comm)
        guard !CInterface.isInPlace(sendbuf) else { throw CError.unsupported("MPI_Ialltoall", "MPI_IN_PLACE") }
        let output = try CInterface.bytes(recvbuf, Int(recvcount) * communicator.size, recvtype, "MPI_Ialltoall")
        let input = UnsafeBufferPointer(try CInterface.bytes(sendbuf, Int(sendcount) * communicator.size, sendtype, "MPI_Ialltoall"))
        try store(try communicator.ialltoall(input, into: output), comm, into: request)
    }
}
