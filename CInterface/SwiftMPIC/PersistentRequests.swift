import CMPI
import SwiftMPI

// Persistent point-to-point requests: made once, started many times (MPI_Send_init, MPI_Start).

@inline(__always)
private func sendInit(
    _ function: StaticString, _ mode: Communicator.Mode, _ buf: UnsafeRawPointer?, _ count: Int, _ datatype: MPI_Datatype,
    _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function, on: comm) {
        guard let request else { throw CError(MPI_ERR_REQUEST, "a null request pointer") }
        let buffer = try CBuffer(buf, count, datatype)
        let destination = CInterface.rank(dest)
        let made = try CInterface.withCommunicator(comm) { communicator -> Request in
            switch buffer {
            case .bytes(let raw):
                try communicator.sendInit(CBuffer.byteBuffer(raw), to: destination, tag: Int(tag), mode: mode)
            case .typed(let raw, let count, let type):
                try communicator.sendInit(CBuffer.byteBuffer(raw), count: count, datatype: type, to: destination, tag: Int(tag), mode: mode)
            }
        }
        request.pointee = CInterface.requests.insert(CRequest(made, comm, persistent: true))
    }
}

@_cdecl("PMPI_Send_init")
public func mpiSendInit(
    _ buf: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    sendInit("MPI_Send_init", .standard, buf, Int(count), datatype, dest, tag, comm, request)
}

@_cdecl("PMPI_Ssend_init")
public func mpiSsendInit(
    _ buf: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    sendInit("MPI_Ssend_init", .synchronous, buf, Int(count), datatype, dest, tag, comm, request)
}

@_cdecl("PMPI_Bsend_init")
public func mpiBsendInit(
    _ buf: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    sendInit("MPI_Bsend_init", .buffered, buf, Int(count), datatype, dest, tag, comm, request)
}

@_cdecl("PMPI_Rsend_init")
public func mpiRsendInit(
    _ buf: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    sendInit("MPI_Rsend_init", .ready, buf, Int(count), datatype, dest, tag, comm, request)
}

@_cdecl("PMPI_Recv_init")
public func mpiRecvInit(
    _ buf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ source: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiRecvInitWork("MPI_Recv_init", buf, Int(count), datatype, source, tag, comm, request)
}

/// MPI_Recv_init's work, also MPI_Recv_init_c's (counts as Int).
func mpiRecvInitWork(
    _ function: StaticString, _ buf: UnsafeMutableRawPointer?, _ count: Int, _ datatype: MPI_Datatype, _ source: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function, on: comm) {
        guard let request else { throw CError(MPI_ERR_REQUEST, "a null request pointer") }
        let buffer = try CBuffer(buf, count, datatype)
        let made = try CInterface.withCommunicator(comm) { communicator -> Request in
            switch buffer {
            case .bytes(let raw):
                try communicator.recvInit(into: CBuffer.mutableByteBuffer(raw), from: CInterface.rank(source), tag: Int(tag))
            case .typed(let raw, let count, let type):
                try communicator.recvInit(into: CBuffer.mutableByteBuffer(raw), count: count, datatype: type, from: CInterface.rank(source), tag: Int(tag))
            }
        }
        request.pointee = CInterface.requests.insert(CRequest(made, comm, persistent: true))
    }
}

@_cdecl("PMPI_Start")
public func mpiStart(_ request: UnsafeMutablePointer<MPI_Request>?) -> Int32 {
    cCall("MPI_Start") {
        guard let request, let entry = try CInterface.request(request.pointee), entry.isPersistent else {
            throw CError(MPI_ERR_REQUEST, "MPI_Start needs a persistent request")
        }
        try entry.request.start()
    }
}

@_cdecl("PMPI_Startall")
public func mpiStartall(_ count: Int32, _ requests: UnsafeMutablePointer<MPI_Request>?) -> Int32 {
    cCall("MPI_Startall") {
        let count = try CInterface.count(count)
        guard count == 0 || requests != nil else { throw CError(MPI_ERR_REQUEST, "a null request array") }
        var started: [Request] = []
        for index in 0..<count {
            guard let entry = try CInterface.request(requests![index]), entry.isPersistent else {
                throw CError(MPI_ERR_REQUEST, "MPI_Startall needs persistent requests (entry \(index) is not)")
            }
            started.append(entry.request)
        }
        try Request.startAll(started)
    }
}

// MARK: MPI-4's large-count (`_c`) forms

@_cdecl("PMPI_Send_init_c")
public func mpiSendInitC(
    _ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    sendInit("MPI_Send_init_c", .standard, buf, count, datatype, dest, tag, comm, request)
}

@_cdecl("PMPI_Ssend_init_c")
public func mpiSsendInitC(
    _ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    sendInit("MPI_Ssend_init_c", .synchronous, buf, count, datatype, dest, tag, comm, request)
}

@_cdecl("PMPI_Rsend_init_c")
public func mpiRsendInitC(
    _ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    sendInit("MPI_Rsend_init_c", .ready, buf, count, datatype, dest, tag, comm, request)
}

@_cdecl("PMPI_Bsend_init_c")
public func mpiBsendInitC(
    _ buf: UnsafeRawPointer?, _ count: MPI_Count, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    sendInit("MPI_Bsend_init_c", .buffered, buf, count, datatype, dest, tag, comm, request)
}
