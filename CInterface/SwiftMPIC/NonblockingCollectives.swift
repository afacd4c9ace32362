import CMPI
import SwiftMPI

// Nonblocking collectives on the program's buffers (they must stay valid until the request completes).

/// Stores a started collective's request.
private func store(_ started: Request?, _ comm: MPI_Comm, into request: UnsafeMutablePointer<MPI_Request>?) throws(CError) {
    guard let request else { throw CError(MPI_ERR_REQUEST, "a null request pointer") }
    guard let started else { throw CError(MPI_ERR_INTERN, "the collective did not start") }
    request.pointee = CInterface.requests.insert(CRequest(started, comm))
}

/// Stores a started reduction's request, with what completes it.
private func storeReduction(_ started: CStartedReduction?, _ comm: MPI_Comm, into request: UnsafeMutablePointer<MPI_Request>?) throws(CError) {
    guard let started else { throw CError(MPI_ERR_INTERN, "the reduction did not start") }
    try started.store(comm, into: request)
}

/// Stores a started collective's request; with staged (packed) buffers, completing it unpacks
/// `unpacking` into the program's buffer, and both stagings live until then.
private func store(
    _ started: Request, _ comm: MPI_Comm, into request: UnsafeMutablePointer<MPI_Request>?, unpacking staged: CStaging?, keeping stagedInput: CStaging?
) throws(CError) {
    guard staged != nil || stagedInput != nil else { return try store(started, comm, into: request) }
    guard let request else { throw CError(MPI_ERR_REQUEST, "a null request pointer") }
    request.pointee = CInterface.insert(started, comm) {
        try staged?.unpack()
        withExtendedLifetime(stagedInput) {}
    }
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
    mpiIbcastWork("MPI_Ibcast", buffer, Int(count), datatype, root, comm, request)
}

/// MPI_Ibcast's work, also MPI_Ibcast_c's (counts as Int).
func mpiIbcastWork(
    _ function: StaticString, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ datatype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function, on: comm) {
        let communicator = try CInterface.communicator(comm)
        switch try CBuffer(buffer, count, datatype) {
        case .bytes(let raw):
            try store(try communicator.ibcast(CBuffer.mutableByteBuffer(raw), root: CInterface.rank(root)), comm, into: request)
        case .typed(let raw, let count, let type):
            // A non-contiguous datatype: the root packs now, the others unpack when the request completes.
            let swiftRoot = CInterface.rank(root)
            let packed = try CInterface.broadcastPacking(raw, count, type, root: swiftRoot, on: communicator)
            try store(try communicator.ibcast(packed.bytes, root: swiftRoot), comm, into: request) { result in
                guard packed.receives else { return }
                var at = 0
                // (Cannot fail: the buffer and the packed size were checked when the call started.)
                try? type.unpack(from: result, position: &at, into: CBuffer.mutableByteBuffer(raw), count: count)
            }
        }
    }
}

private struct NonblockingReduction: CReduction {
    let communicator: Communicator
    let send: UnsafeRawPointer?
    let receive: UnsafeMutableRawPointer?
    let count: Int
    /// Nil for allreduce.
    let root: Int?

    var buffers: CReductionBuffers { .rooted(communicator, send: send, receive: receive, count: count, root: root) }

    func on(_ buffers: CReductionBuffers) -> Self {
        NonblockingReduction(communicator: communicator, send: buffers.send, receive: buffers.receive, count: count, root: root)
    }

    func run<T: BitwiseCopyable>(_ operation: ReduceOperation<T>) throws -> CStartedReduction? {
        let (isRoot, sends) = communicator.reductionRoles(root: root)
        let result = CInterface.elements(isRoot ? receive : nil, isRoot ? count : 0, T.self)
        let input =
            CInterface.isInPlace(send)
            ? UnsafeBufferPointer(result) : UnsafeBufferPointer(CInterface.elements(sends ? send : nil, sends ? count : 0, T.self))
        if let root { return CStartedReduction(request: try communicator.ireduce(input, into: result, op: operation, root: root)) }
        return CStartedReduction(request: try communicator.iallreduce(input, into: result, op: operation))
    }
}

@_cdecl("PMPI_Iallreduce")
public func mpiIallreduce(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ op: MPI_Op, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIallreduceWork("MPI_Iallreduce", sendbuf, recvbuf, Int(count), datatype, op, comm, request)
}

/// MPI_Iallreduce's work, also MPI_Iallreduce_c's (counts as Int).
func mpiIallreduceWork(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: Int, _ datatype: MPI_Datatype, _ op: MPI_Op,
    _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function, on: comm) {
        try CInterface.checkNotAliased(sendbuf, recvbuf, moves: count > 0, on: comm)
        let call = NonblockingReduction(
            communicator: try CInterface.communicator(comm), send: sendbuf, receive: recvbuf, count: try CInterface.count(count), root: nil)
        try storeReduction(try CInterface.reduce(datatype, op, call), comm, into: request)
    }
}

@_cdecl("PMPI_Ireduce")
public func mpiIreduce(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ op: MPI_Op, _ root: Int32,
    _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIreduceWork("MPI_Ireduce", sendbuf, recvbuf, Int(count), datatype, op, root, comm, request)
}

/// MPI_Ireduce's work, also MPI_Ireduce_c's (counts as Int).
func mpiIreduceWork(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: Int, _ datatype: MPI_Datatype, _ op: MPI_Op,
    _ root: Int32, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function, on: comm) {
        try CInterface.checkNotAliased(sendbuf, recvbuf, moves: count > 0, root: root, on: comm)
        let communicator = try CInterface.communicator(comm)
        if communicator.isIntercommunicator && root == MPI_PROC_NULL {  // every other argument is ignored (MPI)
            return try store(
                try communicator.ireduce(UnsafeBufferPointer<UInt8>(start: nil, count: 0), into: .init(start: nil, count: 0), op: .sum, root: MPI.procNull),
                comm, into: request)
        }
        let call = NonblockingReduction(
            communicator: try CInterface.communicator(comm), send: sendbuf, receive: recvbuf, count: try CInterface.count(count),
            root: CInterface.rank(root))
        try storeReduction(try CInterface.reduce(datatype, op, call), comm, into: request)
    }
}

@_cdecl("PMPI_Igather")
public func mpiIgather(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32,
    _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIgatherWork("MPI_Igather", sendbuf, Int(sendcount), sendtype, recvbuf, Int(recvcount), recvtype, root, comm, request)
}

/// MPI_Igather's work, also MPI_Igather_c's (counts as Int).
func mpiIgatherWork(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcount: Int, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int,
    _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function, on: comm) {
        try CInterface.checkNotAliased(
            sendbuf, recvbuf, ownBlock: try CInterface.ownBlockOffset(comm, count: recvcount, recvtype), moves: sendcount > 0, root: root, on: comm)
        let communicator = try CInterface.communicator(comm)
        let isRoot = CInterface.isRoot(root, of: communicator)
        let inPlace = CInterface.isInPlace(sendbuf)
        var staged: CStaging?, stagedInput: CStaging?  // non-contiguous datatypes, packed
        let output =
            isRoot
            ? try CInterface.bytes(recvbuf, Int(recvcount) * communicator.peerCount, recvtype, reads: inPlace, staging: &staged)
            : .init(start: nil, count: 0)
        let input: UnsafeBufferPointer<UInt8>
        if inPlace {
            // The root's own block is already in place: it is the input (the schedule's copy of a
            // rank's own block is a memmove, harmless onto itself).
            guard isRoot else { throw CError(MPI_ERR_BUFFER, "MPI_IN_PLACE as the send buffer is for the root only") }
            input = UnsafeBufferPointer(CInterface.ownBlock(of: output, rank: communicator.rank, size: communicator.size))
        } else if communicator.isIntercommunicator && (root == MPI_ROOT || root == MPI_PROC_NULL) {
            input = .init(start: nil, count: 0)  // the root's group sends nothing
        } else {
            input = UnsafeBufferPointer(try CInterface.bytes(sendbuf, Int(sendcount), sendtype, reads: true, staging: &stagedInput))
        }
        try store(
            try communicator.igather(input, into: output, root: CInterface.rank(root)), comm, into: request, unpacking: staged, keeping: stagedInput)
    }
}

@_cdecl("PMPI_Iscatter")
public func mpiIscatter(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32,
    _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIscatterWork("MPI_Iscatter", sendbuf, Int(sendcount), sendtype, recvbuf, Int(recvcount), recvtype, root, comm, request)
}

/// MPI_Iscatter's work, also MPI_Iscatter_c's (counts as Int).
func mpiIscatterWork(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcount: Int, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int,
    _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function, on: comm) {
        try CInterface.checkNotAliased(
            UnsafeRawPointer(recvbuf), UnsafeMutableRawPointer(mutating: sendbuf), ownBlock: try CInterface.ownBlockOffset(comm, count: sendcount, sendtype),
            moves: recvcount > 0, root: root, on: comm)
        let communicator = try CInterface.communicator(comm)
        let isRoot = CInterface.isRoot(root, of: communicator)
        var staged: CStaging?, stagedInput: CStaging?  // non-contiguous datatypes, packed
        let input =
            isRoot
            ? try CInterface.bytes(sendbuf, Int(sendcount) * communicator.peerCount, sendtype, reads: true, staging: &stagedInput)
            : .init(start: nil, count: 0)
        let output: UnsafeMutableBufferPointer<UInt8>
        if CInterface.isInPlace(recvbuf) {  // the root's block stays where it is
            guard isRoot else { throw CError(MPI_ERR_BUFFER, "MPI_IN_PLACE as the receive buffer is for the root only") }
            output = CInterface.ownBlock(of: input, rank: communicator.rank, size: communicator.size)
        } else if communicator.isIntercommunicator && (root == MPI_ROOT || root == MPI_PROC_NULL) {
            output = .init(start: nil, count: 0)  // the root's group receives nothing
        } else {
            output = try CInterface.bytes(recvbuf, Int(recvcount), recvtype, reads: false, staging: &staged)
        }
        try store(
            try communicator.iscatter(UnsafeBufferPointer(input), into: output, root: CInterface.rank(root)), comm, into: request, unpacking: staged,
            keeping: stagedInput)
    }
}

@_cdecl("PMPI_Iallgather")
public func mpiIallgather(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIallgatherWork("MPI_Iallgather", sendbuf, Int(sendcount), sendtype, recvbuf, Int(recvcount), recvtype, comm, request)
}

/// MPI_Iallgather's work, also MPI_Iallgather_c's (counts as Int).
func mpiIallgatherWork(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcount: Int, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function, on: comm) {
        try CInterface.checkNotAliased(
            sendbuf, recvbuf, ownBlock: try CInterface.ownBlockOffset(comm, count: recvcount, recvtype), moves: sendcount > 0, on: comm)
        let communicator = try CInterface.communicator(comm)
        let output = try CInterface.bytes(recvbuf, Int(recvcount) * communicator.peerCount, recvtype, function)
        let input =
            CInterface.isInPlace(sendbuf)
            ? UnsafeBufferPointer(CInterface.ownBlock(of: output, rank: communicator.rank, size: communicator.size))
            : UnsafeBufferPointer(try CInterface.bytes(sendbuf, sendcount, sendtype, function))
        try store(try communicator.iallgather(input, into: output), comm, into: request)
    }
}

@_cdecl("PMPI_Ialltoall")
public func mpiIalltoall(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIalltoallWork("MPI_Ialltoall", sendbuf, Int(sendcount), sendtype, recvbuf, Int(recvcount), recvtype, comm, request)
}

/// MPI_Ialltoall's work, also MPI_Ialltoall_c's (counts as Int).
func mpiIalltoallWork(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcount: Int, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function, on: comm) {
        try CInterface.checkNotAliased(sendbuf, recvbuf, moves: sendcount > 0 && recvcount > 0, on: comm)
        let communicator = try CInterface.communicator(comm)
        let output = try CInterface.bytes(recvbuf, Int(recvcount) * communicator.peerCount, recvtype, function)
        guard CInterface.isInPlace(sendbuf) else {
            let input = UnsafeBufferPointer(try CInterface.bytes(sendbuf, Int(sendcount) * communicator.peerCount, sendtype, function))
            return try store(try communicator.ialltoall(input, into: output), comm, into: request)
        }
        // In place: the blocks to send are a copy of the receive buffer, kept until completion.
        guard let request else { throw CError(MPI_ERR_REQUEST, "a null request pointer") }
        let copy = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(output.count, 1))
        _ = copy.initialize(from: output)
        do {
            let started = try communicator.ialltoall(UnsafeBufferPointer(rebasing: copy[0..<output.count]), into: output)
            request.pointee = CInterface.insert(started, comm) { copy.deallocate() }
        } catch {
            copy.deallocate()
            throw error
        }
    }
}
