import CMPI
import SwiftMPI

// Blocking and nonblocking sends and receives, probes, the buffered-send buffer.

@inline(__always)
func blockingSend(
    _ function: StaticString, _ mode: Communicator.Mode, _ buf: UnsafeRawPointer?, _ count: Int, _ datatype: MPI_Datatype,
    _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm
) -> Int32 {
    cCall(function, on: comm) {
        let buffer = try CBuffer(buf, count, datatype)
        let destination = CInterface.rank(dest)
        try CInterface.withCommunicator(comm) { communicator in try send(buffer, mode, destination, Int(tag), communicator) }
    }
}

@inline(__always)
private func send(_ buffer: CBuffer, _ mode: Communicator.Mode, _ destination: Int, _ tag: Int, _ communicator: borrowing Communicator) throws {
    switch buffer {
    case .bytes(let raw):
        let bytes = CBuffer.byteBuffer(raw)
        switch mode {
        case .standard: try communicator.send(bytes, to: destination, tag: Int(tag))
        case .synchronous: try communicator.ssend(bytes, to: destination, tag: Int(tag))
        case .ready: try communicator.rsend(bytes, to: destination, tag: Int(tag))
        case .buffered: try communicator.bsend(bytes, to: destination, tag: Int(tag))
        }
    case .typed(let raw, let count, let type):
        let bytes = CBuffer.byteBuffer(raw)
        switch mode {
        case .standard: try communicator.send(bytes, count: count, datatype: type, to: destination, tag: Int(tag))
        case .synchronous: try communicator.ssend(bytes, count: count, datatype: type, to: destination, tag: Int(tag))
        case .ready: try communicator.rsend(bytes, count: count, datatype: type, to: destination, tag: Int(tag))
        case .buffered: try communicator.bsend(bytes, count: count, datatype: type, to: destination, tag: Int(tag))
        }
    }
}

@_cdecl("PMPI_Send")
public func mpiSend(_ buf: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm) -> Int32 {
    blockingSend("MPI_Send", .standard, buf, Int(count), datatype, dest, tag, comm)
}

@_cdecl("PMPI_Ssend")
public func mpiSsend(_ buf: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm) -> Int32 {
    blockingSend("MPI_Ssend", .synchronous, buf, Int(count), datatype, dest, tag, comm)
}

@_cdecl("PMPI_Rsend")
public func mpiRsend(_ buf: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm) -> Int32 {
    blockingSend("MPI_Rsend", .ready, buf, Int(count), datatype, dest, tag, comm)
}

@_cdecl("PMPI_Bsend")
public func mpiBsend(_ buf: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm) -> Int32 {
    blockingSend("MPI_Bsend", .buffered, buf, Int(count), datatype, dest, tag, comm)
}

@_cdecl("PMPI_Recv")
public func mpiRecv(
    _ buf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ source: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    blockingReceive("MPI_Recv", buf, Int(count), datatype, source, tag, comm, status)
}

/// MPI_Recv's work (also MPI_Recv_c's).
func blockingReceive(
    _ function: StaticString, _ buf: UnsafeMutableRawPointer?, _ count: Int, _ datatype: MPI_Datatype, _ source: Int32, _ tag: Int32,
    _ comm: MPI_Comm, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    cCall(function, on: comm) {
        let buffer = try CBuffer(buf, count, datatype)
        let result = try CInterface.withCommunicator(comm) { communicator in
            switch buffer {
            case .bytes(let raw):
                try communicator.recv(into: CBuffer.mutableByteBuffer(raw), from: CInterface.rank(source), tag: Int(tag))
            case .typed(let raw, let count, let type):
                try communicator.recv(into: CBuffer.mutableByteBuffer(raw), count: count, datatype: type, from: CInterface.rank(source), tag: Int(tag))
            }
        }
        CInterface.store(result, into: status)
    }
}

@inline(__always)
func nonblockingSend(
    _ function: StaticString, _ mode: Communicator.Mode, _ buf: UnsafeRawPointer?, _ count: Int, _ datatype: MPI_Datatype,
    _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function, on: comm) {
        guard let request else { throw CError(MPI_ERR_REQUEST, "a null request pointer") }
        let buffer = try CBuffer(buf, count, datatype)
        let destination = CInterface.rank(dest)
        // The request goes into the table where it is made, so that its reference moves there
        // without a retain and a release.
        request.pointee = try CInterface.withCommunicator(comm) { communicator -> MPI_Request in
            let started: Request
            switch buffer {
            case .bytes(let raw):
                let bytes = CBuffer.byteBuffer(raw)
                switch mode {
                case .standard: started = try communicator.isend(bytes, to: destination, tag: Int(tag))
                case .synchronous: started = try communicator.issend(bytes, to: destination, tag: Int(tag))
                case .ready: started = try communicator.irsend(bytes, to: destination, tag: Int(tag))
                case .buffered: started = try communicator.ibsend(bytes, to: destination, tag: Int(tag))
                }
            case .typed(let raw, let count, let type):
                started = try communicator.isend(CBuffer.byteBuffer(raw), count: count, datatype: type, to: destination, tag: Int(tag), mode: mode)
            }
            return CInterface.requests.insert(CRequest(consume started, comm))
        }
    }
}

@_cdecl("PMPI_Isend")
public func mpiIsend(
    _ buf: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblockingSend("MPI_Isend", .standard, buf, Int(count), datatype, dest, tag, comm, request)
}

@_cdecl("PMPI_Issend")
public func mpiIssend(
    _ buf: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblockingSend("MPI_Issend", .synchronous, buf, Int(count), datatype, dest, tag, comm, request)
}

@_cdecl("PMPI_Irsend")
public func mpiIrsend(
    _ buf: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblockingSend("MPI_Irsend", .ready, buf, Int(count), datatype, dest, tag, comm, request)
}

@_cdecl("PMPI_Ibsend")
public func mpiIbsend(
    _ buf: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ dest: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblockingSend("MPI_Ibsend", .buffered, buf, Int(count), datatype, dest, tag, comm, request)
}

@_cdecl("PMPI_Irecv")
public func mpiIrecv(
    _ buf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ source: Int32, _ tag: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    nonblockingReceive("MPI_Irecv", buf, Int(count), datatype, source, tag, comm, request)
}

/// MPI_Irecv's work (also MPI_Irecv_c's).
func nonblockingReceive(
    _ function: StaticString, _ buf: UnsafeMutableRawPointer?, _ count: Int, _ datatype: MPI_Datatype, _ source: Int32, _ tag: Int32,
    _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function, on: comm) {
        guard let request else { throw CError(MPI_ERR_REQUEST, "a null request pointer") }
        let buffer = try CBuffer(buf, count, datatype)
        request.pointee = try CInterface.withCommunicator(comm) { communicator -> MPI_Request in
            let started: Request
            switch buffer {
            case .bytes(let raw):
                started = try communicator.irecv(into: CBuffer.mutableByteBuffer(raw), from: CInterface.rank(source), tag: Int(tag))
            case .typed(let raw, let count, let type):
                started = try communicator.irecv(
                    into: CBuffer.mutableByteBuffer(raw), count: count, datatype: type, from: CInterface.rank(source), tag: Int(tag))
            }
            return CInterface.requests.insert(CRequest(consume started, comm))
        }
    }
}

@_cdecl("PMPI_Sendrecv")
public func mpiSendrecv(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ dest: Int32, _ sendtag: Int32,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32, _ recvtype: MPI_Datatype, _ source: Int32, _ recvtag: Int32,
    _ comm: MPI_Comm, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    cCall("MPI_Sendrecv", on: comm) {
        try sendrecv(sendbuf, Int(sendcount), sendtype, dest, sendtag, recvbuf, Int(recvcount), recvtype, source, recvtag, comm, status)
    }
}

/// MPI_Sendrecv's work (also MPI_Sendrecv_replace's): post the receive, start the send, wait for
/// both, so there is no deadlock whatever the sizes.
func sendrecv(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int, _ sendtype: MPI_Datatype, _ dest: Int32, _ sendtag: Int32,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int, _ recvtype: MPI_Datatype, _ source: Int32, _ recvtag: Int32,
    _ comm: MPI_Comm, _ status: UnsafeMutablePointer<MPI_Status>?
) throws {
    let communicator = try CInterface.communicator(comm)
    // Swift's send-receive pair: if the send cannot start or fails, the receive is withdrawn (or,
    // already matched, finished) before the error returns, so nothing writes into recvbuf after.
    let pair = try communicator.startPair(
        receive: {
            switch try CBuffer(recvbuf, recvcount, recvtype) {
            case .bytes(let raw):
                try communicator.irecv(into: CBuffer.mutableByteBuffer(raw), from: CInterface.rank(source), tag: Int(recvtag))
            case .typed(let raw, let count, let type):
                try communicator.irecv(into: CBuffer.mutableByteBuffer(raw), count: count, datatype: type, from: CInterface.rank(source), tag: Int(recvtag))
            }
        },
        send: {
            switch try CBuffer(sendbuf, sendcount, sendtype) {
            case .bytes(let raw):
                try communicator.isend(CBuffer.byteBuffer(raw), to: CInterface.rank(dest), tag: Int(sendtag))
            case .typed(let raw, let count, let type):
                try communicator.isend(CBuffer.byteBuffer(raw), count: count, datatype: type, to: CInterface.rank(dest), tag: Int(sendtag))
            }
        })
    CInterface.store(try communicator.waitPair(pair), into: status)
}

@_cdecl("PMPI_Probe")
public func mpiProbe(_ source: Int32, _ tag: Int32, _ comm: MPI_Comm, _ status: UnsafeMutablePointer<MPI_Status>?) -> Int32 {
    cCall("MPI_Probe", on: comm) {
        CInterface.store(try CInterface.communicator(comm).probe(from: CInterface.rank(source), tag: Int(tag)), into: status)
    }
}

@_cdecl("PMPI_Iprobe")
public func mpiIprobe(
    _ source: Int32, _ tag: Int32, _ comm: MPI_Comm, _ flag: UnsafeMutablePointer<Int32>?, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    cCall("MPI_Iprobe", on: comm) {
        let found = try CInterface.communicator(comm).iprobe(from: CInterface.rank(source), tag: Int(tag))
        flag?.pointee = found == nil ? 0 : 1
        if let found { CInterface.store(found, into: status) }
    }
}

extension CInterface {
    /// The program's buffer given to MPI_Buffer_attach, returned by MPI_Buffer_detach (SwiftMPI
    /// keeps its own area of the same size). Under ``CInterfaceLock``.
    @exclusivity(unchecked) nonisolated(unsafe) static var attachedBuffer: (UnsafeMutableRawPointer?, Int)?
}

@_cdecl("PMPI_Buffer_attach")
public func mpiBufferAttach(_ buffer: UnsafeMutableRawPointer?, _ size: Int32) -> Int32 {
    mpiBufferAttachWork("MPI_Buffer_attach", buffer, Int(size))
}

/// MPI_Buffer_attach's work, also MPI_Buffer_attach_c's (counts as Int).
func mpiBufferAttachWork(_ function: StaticString, _ buffer: UnsafeMutableRawPointer?, _ size: Int) -> Int32 {
    cCall(function) {
        guard size >= 0 else { throw CError(MPI_ERR_ARG, "negative buffer size \(size)") }
        try MPI.attachBuffer(bytes: size)
        CInterfaceLock.withLock { CInterface.attachedBuffer = (buffer, size) }
    }
}

@_cdecl("PMPI_Buffer_detach")
public func mpiBufferDetach(_ bufferAddress: UnsafeMutableRawPointer?, _ size: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Buffer_detach") {
        _ = try MPI.detachBuffer()
        let attached = CInterfaceLock.withLock { CInterface.attachedBuffer.take() }
        bufferAddress?.storeBytes(of: attached?.0, as: UnsafeMutableRawPointer?.self)
        size?.pointee = Int32(exactly: attached?.1 ?? 0) ?? MPI_UNDEFINED
    }
}

@_cdecl("PMPI_Buffer_detach_c")
public func mpiBufferDetachC(_ bufferAddress: UnsafeMutableRawPointer?, _ size: UnsafeMutablePointer<MPI_Count>?) -> Int32 {
    cCall("MPI_Buffer_detach_c") {
        _ = try MPI.detachBuffer()
        let attached = CInterfaceLock.withLock { CInterface.attachedBuffer.take() }
        bufferAddress?.storeBytes(of: attached?.0, as: UnsafeMutableRawPointer?.self)
        size?.pointee = attached?.1 ?? 0
    }
}

@_cdecl("PMPI_Buffer_flush")
public func mpiBufferFlush() -> Int32 {
    cCall("MPI_Buffer_flush") { try MPI.flushBuffer() }
}

@_cdecl("PMPI_Buffer_iflush")
public func mpiBufferIflush(_ request: UnsafeMutablePointer<MPI_Request>?) -> Int32 {
    cCall("MPI_Buffer_iflush") {
        guard let request else { throw CError(MPI_ERR_REQUEST, "a null request pointer") }
        request.pointee = CInterface.requests.insert(CRequest(try MPI.iflushBuffer(), MPI_COMM_WORLD))
    }
}

@_cdecl("PMPI_Isendrecv")
public func mpiIsendrecv(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ dest: Int32, _ sendtag: Int32,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32, _ recvtype: MPI_Datatype, _ source: Int32, _ recvtag: Int32,
    _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIsendrecvWork("MPI_Isendrecv", sendbuf, Int(sendcount), sendtype, dest, sendtag, recvbuf, Int(recvcount), recvtype, source, recvtag, comm, request)
}

/// MPI_Isendrecv's work, also MPI_Isendrecv_c's (counts as Int).
func mpiIsendrecvWork(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcount: Int, _ sendtype: MPI_Datatype, _ dest: Int32, _ sendtag: Int32,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int, _ recvtype: MPI_Datatype, _ source: Int32, _ recvtag: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function, on: comm) {
        guard let request else { throw CError(MPI_ERR_REQUEST, "a null request pointer") }
        let communicator = try CInterface.communicator(comm)
        let (destination, origin) = (CInterface.rank(dest), CInterface.rank(source))
        let started: Request
        switch (try CBuffer(sendbuf, sendcount, sendtype), try CBuffer(recvbuf, recvcount, recvtype)) {
        case (.bytes(let send), .bytes(let receive)):
            started = try communicator.isendrecv(
                CBuffer.byteBuffer(send), to: destination, sendTag: Int(sendtag), into: CBuffer.mutableByteBuffer(receive), from: origin,
                recvTag: Int(recvtag))
        case (let send, let receive):
            // A datatype on either side: both as datatypes (contiguous ones as bytes of that many instances).
            let (sendBytes, sendCount, sendType) = send.typed
            let (receiveBytes, receiveCount, receiveType) = receive.typed
            started = try communicator.isendrecv(
                CBuffer.byteBuffer(sendBytes), count: sendCount, datatype: sendType, to: destination, sendTag: Int(sendtag),
                into: CBuffer.mutableByteBuffer(receiveBytes), count: receiveCount, datatype: receiveType, from: origin, recvTag: Int(recvtag))
        }
        request.pointee = CInterface.requests.insert(CRequest(started, comm))
    }
}

@_cdecl("PMPI_Isendrecv_replace")
public func mpiIsendrecvReplace(
    _ buf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ dest: Int32, _ sendtag: Int32, _ source: Int32, _ recvtag: Int32,
    _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIsendrecvReplaceWork("MPI_Isendrecv_replace", buf, Int(count), datatype, dest, sendtag, source, recvtag, comm, request)
}

/// MPI_Isendrecv_replace's work, also MPI_Isendrecv_replace_c's (counts as Int).
func mpiIsendrecvReplaceWork(
    _ function: StaticString, _ buf: UnsafeMutableRawPointer?, _ count: Int, _ datatype: MPI_Datatype, _ dest: Int32, _ sendtag: Int32, _ source: Int32,
    _ recvtag: Int32, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function, on: comm) {
        guard let request else { throw CError(MPI_ERR_REQUEST, "a null request pointer") }
        let communicator = try CInterface.communicator(comm)
        let (destination, origin) = (CInterface.rank(dest), CInterface.rank(source))
        let started: Request
        switch try CBuffer(buf, count, datatype) {
        case .bytes(let bytes):
            started = try communicator.isendrecvReplace(
                CBuffer.mutableByteBuffer(bytes), to: destination, sendTag: Int(sendtag), from: origin, recvTag: Int(recvtag))
        case .typed(let bytes, let count, let type):
            started = try communicator.isendrecvReplace(
                CBuffer.mutableByteBuffer(bytes), count: count, datatype: type, to: destination, sendTag: Int(sendtag), from: origin,
                recvTag: Int(recvtag))
        }
        request.pointee = CInterface.requests.insert(CRequest(started, comm))
    }
}
