import CMPI
import SwiftMPI

// Nonblocking v-forms, reduce-scatters and alltoallw: SwiftMPI runs them on arrays (its owned
// nonblocking collectives); the completing wait or test copies the result into the program's buffer.

/// Stores the request of an owned nonblocking collective; `copy` puts its result into the program's
/// buffer when a wait or test completes it.
func store<Result>(
    _ started: CollectiveRequest<Result>, _ comm: MPI_Comm, into request: UnsafeMutablePointer<MPI_Request>?,
    copy: @escaping (Result) -> Void
) throws(CError) {
    guard let request else { throw CError(MPI_ERR_REQUEST, "a null request pointer") }
    request.pointee = CInterface.insert(started.request, comm) { copy(try started.wait()) }
}

@_cdecl("PMPI_Igatherv")
public func mpiIgatherv(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<Int32>?,
    _ displs: UnsafePointer<Int32>?, _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIgathervWork("MPI_Igatherv", sendbuf, Int(sendcount), sendtype, recvbuf, recvcounts, displs, recvtype, root, comm, request)
}

/// MPI_Igatherv's work, also MPI_Igatherv_c's (counts as Int, arrays of either width).
func mpiIgathervWork<C: CInteger, D: CInteger>(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcount: Int, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?,
    _ recvcounts: UnsafePointer<C>?, _ displs: UnsafePointer<D>?, _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function, on: comm) {
        try CInterface.checkNotAliased(sendbuf, recvbuf, moves: sendcount > 0, root: root, on: comm)
        let communicator = try CInterface.communicator(comm)
        let isRoot = CInterface.isRoot(root, of: communicator)
        let inPlace = CInterface.isInPlace(sendbuf)
        if inPlace && !isRoot { throw CError(MPI_ERR_BUFFER, "MPI_IN_PLACE as the send buffer is for the root only") }
        let layout = isRoot ? try CInterface.layout(recvcounts, displs, recvtype, size: communicator.peerCount, function) : nil
        if communicator.isIntercommunicator {  // the counts are the other group's, read at the root only
            let own = isRoot || root == MPI_PROC_NULL ? [] : Array(try CInterface.bytes(sendbuf, sendcount, sendtype, function))
            let started = try communicator.igatherv(own, counts: layout?.counts ?? [], displacements: layout?.displacements, root: CInterface.rank(root))
            return try store(started, comm, into: request) { result in
                if let result, let layout { CInterface.copyBlocks(result, layout, to: recvbuf) }
            }
        }
        let own: [UInt8]
        if inPlace, let layout {  // the root's own block is already in place: it travels as it is
            own = CInterface.array(UnsafeRawPointer(recvbuf).map { $0 + layout.displacements[communicator.rank] }, bytes: layout.counts[communicator.rank])
        } else {
            own = Array(try CInterface.bytes(sendbuf, sendcount, sendtype, function))
        }
        var counts = layout?.counts ?? [Int](repeating: 0, count: communicator.size)
        if layout == nil { counts[communicator.rank] = own.count }
        let started = try communicator.igatherv(own, counts: counts, displacements: layout?.displacements, root: Int(root))
        try store(started, comm, into: request) { result in
            if let result, let layout { CInterface.copyBlocks(result, layout, to: recvbuf) }
        }
    }
}

@_cdecl("PMPI_Iscatterv")
public func mpiIscatterv(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<Int32>?, _ displs: UnsafePointer<Int32>?, _ sendtype: MPI_Datatype,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32, _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIscattervWork("MPI_Iscatterv", sendbuf, sendcounts, displs, sendtype, recvbuf, Int(recvcount), recvtype, root, comm, request)
}

/// MPI_Iscatterv's work, also MPI_Iscatterv_c's (counts as Int, arrays of either width).
func mpiIscattervWork<C: CInteger, D: CInteger>(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<C>?, _ displs: UnsafePointer<D>?, _ sendtype: MPI_Datatype,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int, _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function, on: comm) {
        try CInterface.checkNotAliased(UnsafeRawPointer(recvbuf), UnsafeMutableRawPointer(mutating: sendbuf), moves: recvcount > 0, root: root, on: comm)
        let communicator = try CInterface.communicator(comm)
        let isRoot = CInterface.isRoot(root, of: communicator)
        let inPlace = CInterface.isInPlace(recvbuf)
        if inPlace && !isRoot { throw CError(MPI_ERR_BUFFER, "MPI_IN_PLACE as the receive buffer is for the root only") }
        let sent = isRoot ? try CInterface.sentBlocks(sendbuf, sendcounts, displs, sendtype, size: communicator.peerCount, function) : nil
        let layout = sent?.layout
        if communicator.isIntercommunicator {  // the root's counts are the other group's; a receiver's own is its recvcount
            let receives = !isRoot && root != MPI_PROC_NULL
            let output = receives ? try CInterface.bytes(recvbuf, recvcount, recvtype, function) : .init(start: nil, count: 0)
            var counts = layout?.counts ?? [Int](repeating: 0, count: communicator.size)
            if receives { counts[communicator.rank] = output.count }
            let values = sent?.values ?? []
            let started = try communicator.iscatterv(values, counts: counts, displacements: layout?.displacements, root: CInterface.rank(root))
            return try store(started, comm, into: request) { part in _ = output.initialize(from: part.prefix(output.count)) }
        }
        // In place, the root's own block stays where it is in the send buffer: its part is discarded.
        let output =
            inPlace
            ? UnsafeMutableBufferPointer<UInt8>(start: nil, count: 0)
            : try CInterface.bytes(recvbuf, recvcount, recvtype, function)
        let values = sent?.values ?? []
        // Counts matter at the root only (MPI); the messages' path reads this rank's own count elsewhere.
        var counts = layout?.counts ?? [Int](repeating: 0, count: communicator.size)
        if layout == nil { counts[communicator.rank] = output.count }
        let started = try communicator.iscatterv(values, counts: counts, displacements: layout?.displacements, root: Int(root))
        try store(started, comm, into: request) { part in _ = output.initialize(from: part.prefix(output.count)) }
    }
}

@_cdecl("PMPI_Iallgatherv")
public func mpiIallgatherv(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<Int32>?,
    _ displs: UnsafePointer<Int32>?, _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIallgathervWork("MPI_Iallgatherv", sendbuf, Int(sendcount), sendtype, recvbuf, recvcounts, displs, recvtype, comm, request)
}

/// MPI_Iallgatherv's work, also MPI_Iallgatherv_c's (counts as Int, arrays of either width).
func mpiIallgathervWork<C: CInteger, D: CInteger>(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcount: Int, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?,
    _ recvcounts: UnsafePointer<C>?, _ displs: UnsafePointer<D>?, _ recvtype: MPI_Datatype, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function, on: comm) {
        try CInterface.checkNotAliased(
            sendbuf, recvbuf, ownBlock: try CInterface.ownBlockOffset(comm, displacement: displs, recvtype), moves: sendcount > 0, on: comm)
        let communicator = try CInterface.communicator(comm)
        let layout = try CInterface.layout(recvcounts, displs, recvtype, size: communicator.peerCount, function)
        let own =
            CInterface.isInPlace(sendbuf)
            ? CInterface.array(UnsafeRawPointer(recvbuf).map { $0 + layout.displacements[communicator.rank] }, bytes: layout.counts[communicator.rank])
            : Array(try CInterface.bytes(sendbuf, sendcount, sendtype, function))
        let started = try communicator.iallgatherv(own, counts: layout.counts, displacements: layout.displacements)
        try store(started, comm, into: request) { CInterface.copyBlocks($0, layout, to: recvbuf) }
    }
}

@_cdecl("PMPI_Ialltoallv")
public func mpiIalltoallv(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<Int32>?, _ sdispls: UnsafePointer<Int32>?, _ sendtype: MPI_Datatype,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<Int32>?, _ rdispls: UnsafePointer<Int32>?, _ recvtype: MPI_Datatype,
    _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIalltoallvWork("MPI_Ialltoallv", sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls, recvtype, comm, request)
}

/// MPI_Ialltoallv's work, also MPI_Ialltoallv_c's (counts as Int, arrays of either width).
func mpiIalltoallvWork<C: CInteger, D: CInteger>(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<C>?, _ sdispls: UnsafePointer<D>?, _ sendtype: MPI_Datatype,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<C>?, _ rdispls: UnsafePointer<D>?, _ recvtype: MPI_Datatype, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function, on: comm) {
        try CInterface.checkNotAliased(
            sendbuf, recvbuf, moves: try CInterface.anyPositive(sendcounts, comm) && CInterface.anyPositive(recvcounts, comm), on: comm)
        let communicator = try CInterface.communicator(comm)
        let receive = try CInterface.layout(recvcounts, rdispls, recvtype, size: communicator.peerCount, function)
        let inPlace = CInterface.isInPlace(sendbuf)
        let send = inPlace ? receive : try CInterface.layout(sendcounts, sdispls, sendtype, size: communicator.peerCount, function)
        let values = CInterface.array(inPlace ? UnsafeRawPointer(recvbuf) : sendbuf, bytes: send.extent)
        let started = try communicator.ialltoallv(
            values, sendCounts: send.counts, sendDisplacements: send.displacements, receiveCounts: receive.counts,
            receiveDisplacements: receive.displacements)
        try store(started, comm, into: request) { CInterface.copyBlocks($0, receive, to: recvbuf) }
    }
}

private struct NonblockingReduceScatter: CReduction {
    let communicator: Communicator
    let send: UnsafeRawPointer?
    let receive: UnsafeMutableRawPointer?
    let counts: [Int]
    let isBlock: Bool

    var buffers: CReductionBuffers {
        CReductionBuffers(send: send, receive: receive, sendCount: counts.reduce(0, +), receiveCount: counts[communicator.rank])
    }

    func on(_ buffers: CReductionBuffers) -> Self {
        NonblockingReduceScatter(communicator: communicator, send: buffers.send, receive: buffers.receive, counts: counts, isBlock: isBlock)
    }

    func run<T: BitwiseCopyable>(_ operation: ReduceOperation<T>) throws -> CStartedReduction? {
        let source = CInterface.isInPlace(send) ? UnsafeRawPointer(receive) : send
        let input = Array(CInterface.elements(source, counts.reduce(0, +), T.self))
        let started =
            isBlock ? try communicator.ireduceScatterBlock(input, op: operation) : try communicator.ireduceScatter(input, counts: counts, op: operation)
        let output = CInterface.elements(receive, counts[communicator.rank], T.self)
        return CStartedReduction(request: started.request) { _ = output.initialize(from: try started.wait().prefix(output.count)) }
    }
}

@_cdecl("PMPI_Ireduce_scatter_block")
public func mpiIreduceScatterBlock(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32, _ datatype: MPI_Datatype, _ op: MPI_Op, _ comm: MPI_Comm,
    _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIreduceScatterBlockWork("MPI_Ireduce_scatter_block", sendbuf, recvbuf, Int(recvcount), datatype, op, comm, request)
}

/// MPI_Ireduce_scatter_block's work, also MPI_Ireduce_scatter_block_c's (counts as Int).
func mpiIreduceScatterBlockWork(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int, _ datatype: MPI_Datatype, _ op: MPI_Op,
    _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function, on: comm) {
        try CInterface.checkNotAliased(sendbuf, recvbuf, moves: recvcount > 0, on: comm)
        let communicator = try CInterface.communicator(comm)
        let counts = [Int](repeating: try CInterface.count(recvcount), count: communicator.size)
        let call = NonblockingReduceScatter(communicator: communicator, send: sendbuf, receive: recvbuf, counts: counts, isBlock: true)
        guard let started = try CInterface.reduce(datatype, op, call) else { throw CError(MPI_ERR_INTERN, "the reduce-scatter did not start") }
        try started.store(comm, into: request)
    }
}

@_cdecl("PMPI_Ireduce_scatter")
public func mpiIreduceScatter(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<Int32>?, _ datatype: MPI_Datatype, _ op: MPI_Op,
    _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIreduceScatterWork("MPI_Ireduce_scatter", sendbuf, recvbuf, recvcounts, datatype, op, comm, request)
}

/// MPI_Ireduce_scatter's work, also MPI_Ireduce_scatter_c's (counts as Int, arrays of either width).
func mpiIreduceScatterWork<C: CInteger>(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<C>?, _ datatype: MPI_Datatype,
    _ op: MPI_Op, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function, on: comm) {
        try CInterface.checkNotAliased(sendbuf, recvbuf, moves: try CInterface.anyPositive(recvcounts, comm), on: comm)
        let communicator = try CInterface.communicator(comm)
        let counts = try CInterface.array(recvcounts, communicator.size) { (value: C) throws(CError) in try CInterface.count(value) }
        let call = NonblockingReduceScatter(communicator: communicator, send: sendbuf, receive: recvbuf, counts: counts, isBlock: false)
        guard let started = try CInterface.reduce(datatype, op, call) else { throw CError(MPI_ERR_INTERN, "the reduce-scatter did not start") }
        try started.store(comm, into: request)
    }
}

// MARK: alltoallw

extension CInterface {
    /// Alltoallw's per-rank blocks: counts, byte displacements and datatypes, and the bytes they span
    /// (`int` counts and displacements, or MPI_Aint displacements as the neighbourhood alltoallw's,
    /// or the large-count forms' MPI_Count and MPI_Aint).
    static func wLayout<C: CInteger, D: CInteger>(
        _ counts: UnsafePointer<C>?, _ displacements: UnsafePointer<D>?, _ types: UnsafePointer<MPI_Datatype>?, size: Int
    ) throws(CError) -> (counts: [Int], displacements: [Int], types: [Datatype], extent: Int) {
        try wLayout(counts, displacements: try array(displacements, size) { (value: D) throws(CError) in Int(value) }, types, size: size)
    }

    private static func wLayout<C: CInteger>(
        _ counts: UnsafePointer<C>?, displacements: [Int], _ types: UnsafePointer<MPI_Datatype>?, size: Int
    ) throws(CError) -> (counts: [Int], displacements: [Int], types: [Datatype], extent: Int) {
        let counts = try array(counts, size) { (value: C) throws(CError) in try CInterface.count(value) }
        let types = try array(types, size) { (handle: MPI_Datatype) throws(CError) in try CInterface.datatype(handle) }
        // An empty block moves nothing: its displacement (which a program may leave unset) is not
        // read, and the block is placed at 0.
        let placed = counts.indices.map { counts[$0] > 0 ? displacements[$0] : 0 }
        let extent = counts.indices.map { placed[$0] + types[$0].footprint(count: counts[$0]) }.max() ?? 0
        return (counts, placed, types.map(\.datatype), extent)
    }
}

@_cdecl("PMPI_Alltoallw")
public func mpiAlltoallw(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<Int32>?, _ sdispls: UnsafePointer<Int32>?, _ sendtypes: UnsafePointer<MPI_Datatype>?,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<Int32>?, _ rdispls: UnsafePointer<Int32>?, _ recvtypes: UnsafePointer<MPI_Datatype>?,
    _ comm: MPI_Comm
) -> Int32 {
    mpiAlltoallwWork("MPI_Alltoallw", sendbuf, sendcounts, sdispls, sendtypes, recvbuf, recvcounts, rdispls, recvtypes, comm)
}

/// MPI_Alltoallw's work, also MPI_Alltoallw_c's (counts as Int, arrays of either width).
func mpiAlltoallwWork<C: CInteger, D: CInteger>(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<C>?, _ sdispls: UnsafePointer<D>?,
    _ sendtypes: UnsafePointer<MPI_Datatype>?, _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<C>?, _ rdispls: UnsafePointer<D>?,
    _ recvtypes: UnsafePointer<MPI_Datatype>?, _ comm: MPI_Comm
) -> Int32 {
    cCall(function, on: comm) {
        try CInterface.checkNotAliased(
            sendbuf, recvbuf, moves: try CInterface.anyPositive(sendcounts, comm) && CInterface.anyPositive(recvcounts, comm), on: comm)
        let communicator = try CInterface.communicator(comm)
        let receive = try CInterface.wLayout(recvcounts, rdispls, recvtypes, size: communicator.peerCount)
        let send = CInterface.isInPlace(sendbuf) ? receive : try CInterface.wLayout(sendcounts, sdispls, sendtypes, size: communicator.peerCount)
        let values = CInterface.array(CInterface.isInPlace(sendbuf) ? UnsafeRawPointer(recvbuf) : sendbuf, bytes: send.extent)
        var buffer = CInterface.array(recvbuf, bytes: receive.extent)
        try communicator.alltoallw(
            values, sendCounts: send.counts, sendDisplacements: send.displacements, sendTypes: send.types, into: &buffer,
            receiveCounts: receive.counts, receiveDisplacements: receive.displacements, receiveTypes: receive.types)
        if let recvbuf, !buffer.isEmpty { buffer.withUnsafeBytes { recvbuf.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
    }
}

@_cdecl("PMPI_Ialltoallw")
public func mpiIalltoallw(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<Int32>?, _ sdispls: UnsafePointer<Int32>?, _ sendtypes: UnsafePointer<MPI_Datatype>?,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<Int32>?, _ rdispls: UnsafePointer<Int32>?, _ recvtypes: UnsafePointer<MPI_Datatype>?,
    _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    mpiIalltoallwWork("MPI_Ialltoallw", sendbuf, sendcounts, sdispls, sendtypes, recvbuf, recvcounts, rdispls, recvtypes, comm, request)
}

/// MPI_Ialltoallw's work, also MPI_Ialltoallw_c's (counts as Int, arrays of either width).
func mpiIalltoallwWork<C: CInteger, D: CInteger>(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<C>?, _ sdispls: UnsafePointer<D>?,
    _ sendtypes: UnsafePointer<MPI_Datatype>?, _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<C>?, _ rdispls: UnsafePointer<D>?,
    _ recvtypes: UnsafePointer<MPI_Datatype>?, _ comm: MPI_Comm, _ request: UnsafeMutablePointer<MPI_Request>?
) -> Int32 {
    cCall(function, on: comm) {
        try CInterface.checkNotAliased(
            sendbuf, recvbuf, moves: try CInterface.anyPositive(sendcounts, comm) && CInterface.anyPositive(recvcounts, comm), on: comm)
        let communicator = try CInterface.communicator(comm)
        let receive = try CInterface.wLayout(recvcounts, rdispls, recvtypes, size: communicator.peerCount)
        // MPI_IN_PLACE: the receive buffer's layout and contents are the data sent (copied now).
        let inPlace = CInterface.isInPlace(sendbuf)
        let send = inPlace ? receive : try CInterface.wLayout(sendcounts, sdispls, sendtypes, size: communicator.peerCount)
        let values = CInterface.array(inPlace ? UnsafeRawPointer(recvbuf) : sendbuf, bytes: send.extent)
        let buffer = CInterface.array(recvbuf, bytes: receive.extent)
        let started = try communicator.ialltoallw(
            values, sendCounts: send.counts, sendDisplacements: send.displacements, sendTypes: send.types, into: buffer,
            receiveCounts: receive.counts, receiveDisplacements: receive.displacements, receiveTypes: receive.types)
        try store(started, comm, into: request) { result in
            if let recvbuf, !result.isEmpty { result.withUnsafeBytes { recvbuf.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
        }
    }
}
