import CMPI
import SwiftMPI

// Matched probes (MPI_Mprobe, MPI_Mrecv): a probed message is taken off the queue and received later.

extension CInterface {
    @exclusivity(unchecked) nonisolated(unsafe) static var messages = HandleTable<(message: Message, communicator: Communicator)>(.message)

    /// Stores a matched message (MPI_MESSAGE_NO_PROC for a probe of MPI_PROC_NULL).
    static func storeMessage(_ message: Message, on communicator: Communicator, source: Int32, into handle: UnsafeMutablePointer<MPI_Message>?) {
        handle?.pointee = source == MPI_PROC_NULL ? MPI_Message(bitPattern: 0x6C00_0000) : messages.insert((message, communicator))
    }

    /// Takes the message `handle` names out of the table (it is received once).
    static func takeMessage(_ handle: UnsafeMutablePointer<MPI_Message>?) throws(CError) -> (message: Message, communicator: Communicator)? {
        guard let handle else { throw CError(MPI_ERR_ARG, "a null message pointer") }
        if handle.pointee == MPI_Message(bitPattern: 0x6C00_0000) {  // MPI_MESSAGE_NO_PROC
            handle.pointee = MPI_MESSAGE_NULL
            return nil
        }
        guard let message = messages.remove(handle.pointee) else { throw CError(MPI_ERR_REQUEST, "invalid message handle") }
        handle.pointee = MPI_MESSAGE_NULL
        return message
    }
}

@_cdecl("PMPI_Mprobe")
public func mpiMprobe(
    _ source: Int32, _ tag: Int32, _ comm: MPI_Comm, _ message: UnsafeMutablePointer<MPI_Message>?, _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    cCall("MPI_Mprobe", on: comm) {
        let communicator = try CInterface.communicator(comm)
        let found = try communicator.mprobe(from: CInterface.rank(source), tag: Int(tag))
        CInterface.storeMessage(found, on: communicator, source: source, into: message)
        CInterface.store(found.status, into: status)
    }
}

@_cdecl("PMPI_Improbe")
public func mpiImprobe(
    _ source: Int32, _ tag: Int32, _ comm: MPI_Comm, _ flag: UnsafeMutablePointer<Int32>?, _ message: UnsafeMutablePointer<MPI_Message>?,
    _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    cCall("MPI_Improbe", on: comm) {
        let communicator = try CInterface.communicator(comm)
        let found = try communicator.improbe(from: CInterface.rank(source), tag: Int(tag))
        flag?.pointee = found == nil ? 0 : 1
        if let found {
            CInterface.storeMessage(found, on: communicator, source: source, into: message)
            CInterface.store(found.status, into: status)
        }
    }
}

@_cdecl("PMPI_Mrecv")
public func mpiMrecv(
    _ buf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ message: UnsafeMutablePointer<MPI_Message>?,
    _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    mpiMrecvWork("MPI_Mrecv", buf, Int(count), datatype, message, status)
}

/// MPI_Mrecv's work, also MPI_Mrecv_c's (counts as Int).
func mpiMrecvWork(
    _ function: StaticString, _ buf: UnsafeMutableRawPointer?, _ count: Int, _ datatype: MPI_Datatype, _ message: UnsafeMutablePointer<MPI_Message>?,
    _ status: UnsafeMutablePointer<MPI_Status>?
) -> Int32 {
    cCall(function) {
        let buffer = try CBuffer(buf, count, datatype)
        guard let matched = try CInterface.takeMessage(message) else { return CInterface.store(.procNull, into: status) }
        let received: Status
        switch buffer {
        case .bytes(let raw): received = try matched.communicator.mrecv(matched.message, into: CBuffer.mutableByteBuffer(raw))
        case .typed(let raw, let count, let type):
            received = try matched.communicator.mrecv(matched.message, into: CBuffer.mutableByteBuffer(raw), count: count, datatype: type)
        }
        CInterface.store(received, into: status)
    }
}

@_cdecl("PMPI_Imrecv")
public func mpiImrecv(
    _ buf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ message: UnsafeMutablePointer<MPI_Message>?,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiImrecvWork("MPI_Imrecv", buf, Int(count), datatype, message, request)
}

/// MPI_Imrecv's work, also MPI_Imrecv_c's (counts as Int).
func mpiImrecvWork(
    _ function: StaticString, _ buf: UnsafeMutableRawPointer?, _ count: Int, _ datatype: MPI_Datatype, _ message: UnsafeMutablePointer<MPI_Message>?,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function) {
        guard let request else { throw CError(MPI_ERR_REQUEST, "a null request pointer") }
        let buffer = try CBuffer(buf, count, datatype)
        guard let matched = try CInterface.takeMessage(message) else {
            let done = try GeneralizedRequest()
            done.complete(status: .procNull)
            request.pointee = CInterface.requests.insert(CRequest(done.request, MPI_COMM_WORLD))
            return
        }
        let started: Request
        switch buffer {
        case .bytes(let raw): started = try matched.communicator.imrecv(matched.message, into: CBuffer.mutableByteBuffer(raw))
        case .typed(let raw, let count, let type):
            started = try matched.communicator.imrecv(matched.message, into: CBuffer.mutableByteBuffer(raw), count: count, datatype: type)
        }
        request.pointee = CInterface.requests.insert(CRequest(started, MPI_COMM_WORLD))
    }
}
