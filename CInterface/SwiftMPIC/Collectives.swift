import CMPI
import SwiftMPI

// Blocking collectives. Data moves as bytes (contiguous datatypes); reductions run on the
// datatype's element type. MPI_IN_PLACE is honoured where MPI allows it.

extension CInterface {
    /// True for MPI_IN_PLACE.
    @inline(__always)
    static func isInPlace(_ pointer: UnsafeRawPointer?) -> Bool { Int(bitPattern: pointer) == -1 }

    /// MPI_ERR_BUFFER when a collective's send buffer is its receive buffer — at its start, or at
    /// `ownBlock` bytes into it, where this rank's own block lands: MPI forbids aliased arguments
    /// (MPI_IN_PLACE says "my data is already there"). Checked as MPICH checks: when data moves, on
    /// intracommunicators, at the root only for a rooted collective (`root`), whose other ranks
    /// ignore one of the two buffers.
    static func checkNotAliased(
        _ send: UnsafeRawPointer?, _ receive: UnsafeMutableRawPointer?, ownBlock: @autoclosure () throws -> Int = 0, moves: Bool, root: Int32? = nil,
        on comm: MPI_Comm
    ) throws {
        guard moves, let send, let receive, !isInPlace(send), !isInPlace(UnsafeRawPointer(receive)) else { return }
        let communicator = try communicator(comm)
        guard !communicator.isIntercommunicator, root.map({ isRoot($0, of: communicator) }) ?? true else { return }
        let own = UnsafeRawPointer(receive) + (try ownBlock())
        guard send == UnsafeRawPointer(receive) || send == own else { return }
        throw CError(MPI_ERR_BUFFER, "the send buffer is the receive buffer (MPI forbids aliased arguments; pass MPI_IN_PLACE as the send buffer instead)")
    }

    /// True when one of an intracommunicator's `counts` (one per rank) is positive: data moves
    /// (empty buffers may share one address, as Python's do).
    static func anyPositive<C: CInteger>(_ counts: UnsafePointer<C>?, _ comm: MPI_Comm) throws -> Bool {
        let communicator = try communicator(comm)
        guard let counts, !communicator.isIntercommunicator else { return false }  // (aliasing is checked on intracommunicators)
        return UnsafeBufferPointer(start: counts, count: communicator.size).contains { $0 > 0 }
    }

    /// The byte offset of this rank's block in a receive buffer whose blocks start at `displacement`
    /// elements of `datatype` (a v-form's displs).
    static func ownBlockOffset<D: CInteger>(_ comm: MPI_Comm, displacement: UnsafePointer<D>?, _ datatype: MPI_Datatype) throws -> Int {
        guard let displacement else { return 0 }
        return try Int(displacement[communicator(comm).rank]) * self.datatype(datatype, forCommunication: false).datatype.extent
    }

    /// The byte offset of this rank's block in a receive buffer of `count` elements of `datatype` per rank.
    static func ownBlockOffset(_ comm: MPI_Comm, count: Int, _ datatype: MPI_Datatype) throws -> Int {
        try communicator(comm).rank * count * self.datatype(datatype, forCommunication: false).datatype.extent
    }

    /// `count` instances of `datatype` at `pointer` as contiguous bytes.
    @inline(__always)
    static func bytes(
        _ pointer: UnsafeRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ function: StaticString
    ) throws(CError) -> UnsafeMutableBufferPointer<UInt8> {
        try bytes(pointer, Int(count), datatype, function)
    }

    /// The same for a count in Int (a per-rank count times the ranks).
    static func bytes(
        _ pointer: UnsafeRawPointer?, _ count: Int, _ datatype: MPI_Datatype, _ function: StaticString
    ) throws(CError) -> UnsafeMutableBufferPointer<UInt8> {
        let buffer = try CBuffer(pointer, count, datatype)
        if case .typed = buffer, let type = try? CInterface.datatype(datatype), type.movesWithPadding, let pointer {
            // A pair type: its instances with their padding (the v-forms move them so).
            return UnsafeMutableBufferPointer(
                start: UnsafeMutablePointer(mutating: pointer.assumingMemoryBound(to: UInt8.self)), count: count * type.datatype.extent)
        }
        return CBuffer.mutableByteBuffer(try buffer.contiguous(function))
    }

    /// The elements of `count` instances of a reducible datatype at `pointer`.
    static func elements<T>(_ pointer: UnsafeRawPointer?, _ count: Int, _: T.Type) -> UnsafeMutableBufferPointer<T> {
        UnsafeMutableBufferPointer(start: count == 0 ? nil : UnsafeMutableRawPointer(mutating: pointer)?.assumingMemoryBound(to: T.self), count: count)
    }
}

extension CInterface {
    /// True at a rooted collective's root: the rank given as root, or on an intercommunicator the
    /// rank that passes MPI_ROOT.
    static func isRoot(_ root: Int32, of communicator: Communicator) -> Bool {
        communicator.isIntercommunicator ? root == MPI_ROOT : communicator.rank == Int(root)
    }

    /// Rank `rank`'s block of a buffer holding one block per rank (MPI_IN_PLACE's data).
    static func ownBlock(of buffer: UnsafeMutableBufferPointer<UInt8>, rank: Int, size: Int) -> UnsafeMutableBufferPointer<UInt8> {
        let block = buffer.count / max(size, 1)
        return UnsafeMutableBufferPointer(rebasing: buffer[(rank * block)..<((rank + 1) * block)])
    }

    /// A broadcast of `count` instances of a non-contiguous `type` at `raw` travels packed: the
    /// bytes (the root's data packed, elsewhere room for it) and whether this rank receives them
    /// (not the root, nor an intercommunicator's MPI_PROC_NULL ranks).
    static func broadcastPacking(
        _ raw: UnsafeRawBufferPointer, _ count: Int, _ type: Datatype, root: Int, on communicator: Communicator
    ) throws -> (bytes: [UInt8], receives: Bool) {
        let sends = root == MPI.root || (!communicator.isIntercommunicator && root == communicator.rank)
        var packed = [UInt8](repeating: 0, count: try type.packSize(count: count))
        var position = 0
        if sends { try type.pack(from: CBuffer.byteBuffer(raw), count: count, into: &packed, position: &position) }
        return (packed, !sends && root != MPI.procNull)
    }
}

@_cdecl("PMPI_Barrier")
public func mpiBarrier(_ comm: MPI_Comm) -> Int32 {
    cCall("MPI_Barrier", on: comm) { try CInterface.communicator(comm).barrier() }
}

@_cdecl("PMPI_Bcast")
public func mpiBcast(_ buffer: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm) -> Int32 {
    mpiBcastWork("MPI_Bcast", buffer, Int(count), datatype, root, comm)
}

/// MPI_Bcast's work, also MPI_Bcast_c's (counts as Int).
func mpiBcastWork(
    _ function: StaticString, _ buffer: UnsafeMutableRawPointer?, _ count: Int, _ datatype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm
) -> Int32 {
    cCall(function, on: comm) {
        let communicator = try CInterface.communicator(comm)
        switch try CBuffer(buffer, count, datatype) {
        case .bytes(let raw):
            var span = CBuffer.mutableByteBuffer(raw).mutableSpan
            try communicator.bcast(&span, root: CInterface.rank(root))
        case .typed(let raw, let count, let type):
            // A non-contiguous datatype: the root packs, the packed bytes travel, the others unpack.
            let swiftRoot = CInterface.rank(root)
            var packed = try CInterface.broadcastPacking(raw, count, type, root: swiftRoot, on: communicator)
            try communicator.bcast(&packed.bytes, root: swiftRoot)
            var position = 0
            if packed.receives { try type.unpack(from: packed.bytes, position: &position, into: CBuffer.mutableByteBuffer(raw), count: count) }
        }
    }
}

private struct ReduceCall: CReduction {
    let communicator: Communicator
    let send: UnsafeRawPointer?
    let receive: UnsafeMutableRawPointer?
    let count: Int
    let root: Int

    var buffers: CReductionBuffers { .rooted(communicator, send: send, receive: receive, count: count, root: root) }

    func on(_ buffers: CReductionBuffers) -> Self {
        ReduceCall(communicator: communicator, send: buffers.send, receive: buffers.receive, count: count, root: root)
    }

    func run<T: BitwiseCopyable>(_ operation: ReduceOperation<T>) throws -> CStartedReduction? {
        let (isRoot, sends) = communicator.reductionRoles(root: root)
        var result = CInterface.elements(isRoot ? receive : nil, isRoot ? count : 0, T.self).mutableSpan
        if CInterface.isInPlace(send) {
            guard isRoot else { throw CError(MPI_ERR_BUFFER, "MPI_IN_PLACE as the send buffer is for the root only") }
            let input = Array(CInterface.elements(receive, count, T.self))
            try communicator.reduce(input.span, into: &result, op: operation, root: root)
        } else {
            try communicator.reduce(CInterface.elements(sends ? send : nil, sends ? count : 0, T.self).span, into: &result, op: operation, root: root)
        }
        return nil
    }
}

@_cdecl("PMPI_Reduce")
public func mpiReduce(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ op: MPI_Op, _ root: Int32,
    _ comm: MPI_Comm
) -> Int32 {
    mpiReduceWork("MPI_Reduce", sendbuf, recvbuf, Int(count), datatype, op, root, comm)
}

/// MPI_Reduce's work, also MPI_Reduce_c's (counts as Int).
func mpiReduceWork(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: Int, _ datatype: MPI_Datatype, _ op: MPI_Op,
    _ root: Int32, _ comm: MPI_Comm
) -> Int32 {
    cCall(function, on: comm) {
        try CInterface.checkNotAliased(sendbuf, recvbuf, moves: count > 0, root: root, on: comm)
        let communicator = try CInterface.communicator(comm)
        if communicator.isIntercommunicator && root == MPI_PROC_NULL {  // every other argument is ignored (MPI)
            _ = try communicator.reduce([UInt8](), op: .sum, root: MPI.procNull)
            return
        }
        let call = ReduceCall(communicator: communicator, send: sendbuf, receive: recvbuf, count: try CInterface.count(count), root: CInterface.rank(root))
        try CInterface.reduce(datatype, op, call)
    }
}

private struct AllreduceCall: CReduction {
    let communicator: Communicator
    let send: UnsafeRawPointer?
    let receive: UnsafeMutableRawPointer?
    let count: Int

    var buffers: CReductionBuffers { CReductionBuffers(send: send, receive: receive, sendCount: count, receiveCount: count) }

    func on(_ buffers: CReductionBuffers) -> Self {
        AllreduceCall(communicator: communicator, send: buffers.send, receive: buffers.receive, count: count)
    }

    func run<T: BitwiseCopyable>(_ operation: ReduceOperation<T>) throws -> CStartedReduction? {
        var result = CInterface.elements(receive, count, T.self).mutableSpan
        if CInterface.isInPlace(send) {
            try communicator.allreduce(inPlace: &result, op: operation)
        } else {
            try communicator.allreduce(CInterface.elements(send, count, T.self).span, into: &result, op: operation)
        }
        return nil
    }
}

@_cdecl("PMPI_Allreduce")
public func mpiAllreduce(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ op: MPI_Op, _ comm: MPI_Comm
) -> Int32 {
    mpiAllreduceWork("MPI_Allreduce", sendbuf, recvbuf, Int(count), datatype, op, comm)
}

/// MPI_Allreduce's work, also MPI_Allreduce_c's (counts as Int).
func mpiAllreduceWork(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: Int, _ datatype: MPI_Datatype, _ op: MPI_Op,
    _ comm: MPI_Comm
) -> Int32 {
    cCall(function, on: comm) {
        try CInterface.checkNotAliased(sendbuf, recvbuf, moves: count > 0, on: comm)
        let call = AllreduceCall(communicator: try CInterface.communicator(comm), send: sendbuf, receive: recvbuf, count: try CInterface.count(count))
        try CInterface.reduce(datatype, op, call)
    }
}

@_cdecl("PMPI_Gather")
public func mpiGather(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32,
    _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm
) -> Int32 {
    mpiGatherWork("MPI_Gather", sendbuf, Int(sendcount), sendtype, recvbuf, Int(recvcount), recvtype, root, comm)
}

/// MPI_Gather's work, also MPI_Gather_c's (counts as Int).
func mpiGatherWork(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcount: Int, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int,
    _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm
) -> Int32 {
    cCall(function, on: comm) {
        try CInterface.checkNotAliased(
            sendbuf, recvbuf, ownBlock: try CInterface.ownBlockOffset(comm, count: recvcount, recvtype), moves: sendcount > 0, root: root, on: comm)
        let communicator = try CInterface.communicator(comm)
        let isRoot = CInterface.isRoot(root, of: communicator)
        var staged: CStaging?, stagedInput: CStaging?
        let inPlace = CInterface.isInPlace(sendbuf)
        let output =
            isRoot
            ? try CInterface.bytes(recvbuf, Int(recvcount) * communicator.peerCount, recvtype, reads: inPlace, staging: &staged)
            : .init(start: nil, count: 0)
        var result = output.mutableSpan
        if inPlace {
            guard isRoot else { throw CError(MPI_ERR_BUFFER, "MPI_IN_PLACE as the send buffer is for the root only") }
            let own = Array(CInterface.ownBlock(of: output, rank: communicator.rank, size: communicator.size))
            try communicator.gather(own.span, into: &result, root: CInterface.rank(root))
        } else {
            let input = try CInterface.bytes(sendbuf, Int(sendcount), sendtype, reads: true, staging: &stagedInput)
            try communicator.gather(UnsafeBufferPointer(input).span, into: &result, root: CInterface.rank(root))
            withExtendedLifetime(stagedInput) {}  // the packed input lives until the call is over
        }
        try staged?.unpack()
    }
}

@_cdecl("PMPI_Scatter")
public func mpiScatter(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32,
    _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm
) -> Int32 {
    mpiScatterWork("MPI_Scatter", sendbuf, Int(sendcount), sendtype, recvbuf, Int(recvcount), recvtype, root, comm)
}

/// MPI_Scatter's work, also MPI_Scatter_c's (counts as Int).
func mpiScatterWork(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcount: Int, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int,
    _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm
) -> Int32 {
    cCall(function, on: comm) {
        try CInterface.checkNotAliased(
            UnsafeRawPointer(recvbuf), UnsafeMutableRawPointer(mutating: sendbuf), ownBlock: try CInterface.ownBlockOffset(comm, count: sendcount, sendtype),
            moves: recvcount > 0, root: root, on: comm)
        let communicator = try CInterface.communicator(comm)
        let isRoot = CInterface.isRoot(root, of: communicator)
        var stagedInput: CStaging?, staged: CStaging?
        let input =
            isRoot
            ? try CInterface.bytes(sendbuf, Int(sendcount) * communicator.peerCount, sendtype, reads: true, staging: &stagedInput)
            : .init(start: nil, count: 0)
        if CInterface.isInPlace(recvbuf) {
            guard isRoot else { throw CError(MPI_ERR_BUFFER, "MPI_IN_PLACE as the receive buffer is for the root only") }
            var discard = [UInt8](repeating: 0, count: input.count / max(communicator.size, 1))
            var result = discard.mutableSpan
            try communicator.scatter(UnsafeBufferPointer(input).span, into: &result, root: CInterface.rank(root))
        } else {
            var result = try CInterface.bytes(recvbuf, Int(recvcount), recvtype, reads: false, staging: &staged).mutableSpan
            try communicator.scatter(UnsafeBufferPointer(input).span, into: &result, root: CInterface.rank(root))
            try staged?.unpack()
        }
        withExtendedLifetime(stagedInput) {}  // the packed input lives until the call is over
    }
}

@_cdecl("PMPI_Allgather")
public func mpiAllgather(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm
) -> Int32 {
    mpiAllgatherWork("MPI_Allgather", sendbuf, Int(sendcount), sendtype, recvbuf, Int(recvcount), recvtype, comm)
}

/// MPI_Allgather's work, also MPI_Allgather_c's (counts as Int).
func mpiAllgatherWork(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcount: Int, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm
) -> Int32 {
    cCall(function, on: comm) {
        try CInterface.checkNotAliased(
            sendbuf, recvbuf, ownBlock: try CInterface.ownBlockOffset(comm, count: recvcount, recvtype), moves: sendcount > 0, on: comm)
        let communicator = try CInterface.communicator(comm)
        var staged: CStaging?, stagedInput: CStaging?
        let inPlace = CInterface.isInPlace(sendbuf)
        let output = try CInterface.bytes(recvbuf, Int(recvcount) * communicator.peerCount, recvtype, reads: inPlace, staging: &staged)
        var result = output.mutableSpan
        if inPlace {
            let own = Array(CInterface.ownBlock(of: output, rank: communicator.rank, size: communicator.size))
            try communicator.allgather(own.span, into: &result)
        } else {
            let input = try CInterface.bytes(sendbuf, Int(sendcount), sendtype, reads: true, staging: &stagedInput)
            try communicator.allgather(UnsafeBufferPointer(input).span, into: &result)
            withExtendedLifetime(stagedInput) {}  // the packed input lives until the call is over
        }
        try staged?.unpack()
    }
}

@_cdecl("PMPI_Alltoall")
public func mpiAlltoall(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm
) -> Int32 {
    mpiAlltoallWork("MPI_Alltoall", sendbuf, Int(sendcount), sendtype, recvbuf, Int(recvcount), recvtype, comm)
}

/// MPI_Alltoall's work, also MPI_Alltoall_c's (counts as Int).
func mpiAlltoallWork(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcount: Int, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int,
    _ recvtype: MPI_Datatype, _ comm: MPI_Comm
) -> Int32 {
    cCall(function, on: comm) {
        try CInterface.checkNotAliased(sendbuf, recvbuf, moves: sendcount > 0 && recvcount > 0, on: comm)
        let communicator = try CInterface.communicator(comm)
        var staged: CStaging?, stagedInput: CStaging?
        let inPlace = CInterface.isInPlace(sendbuf)
        let output = try CInterface.bytes(recvbuf, Int(recvcount) * communicator.peerCount, recvtype, reads: inPlace, staging: &staged)
        var result = output.mutableSpan
        if communicator.isIntercommunicator && !inPlace {  // the groups may send different counts
            let peers = communicator.peerCount
            let input = try CInterface.bytes(sendbuf, Int(sendcount) * peers, sendtype, reads: true, staging: &stagedInput)
            let received = try communicator.alltoallv(
                Array(input), sendCounts: [Int](repeating: input.count / max(peers, 1), count: peers),
                receiveCounts: [Int](repeating: output.count / max(peers, 1), count: peers))
            withExtendedLifetime(stagedInput) {}  // the packed input lives until the call is over
            _ = output.initialize(from: received)
        } else if inPlace {
            try communicator.alltoall(Array(output).span, into: &result)
        } else {
            let input = try CInterface.bytes(sendbuf, Int(sendcount) * communicator.peerCount, sendtype, reads: true, staging: &stagedInput)
            try communicator.alltoall(UnsafeBufferPointer(input).span, into: &result)
            withExtendedLifetime(stagedInput) {}  // the packed input lives until the call is over
        }
        try staged?.unpack()
    }
}

// MARK: v-forms (through the array forms: the blocks are copied in and out)

extension CInterface {
    /// Per-rank counts and displacements in bytes for a contiguous datatype.
    static func layout<C: CInteger, D: CInteger>(
        _ counts: UnsafePointer<C>?, _ displacements: UnsafePointer<D>?, _ datatype: MPI_Datatype, size: Int, _ function: StaticString
    ) throws(CError) -> (counts: [Int], displacements: [Int], extent: Int) {
        guard let counts, let displacements else { throw CError(MPI_ERR_ARG, "null counts or displacements") }
        let type = try CInterface.datatype(datatype)
        guard type.isContiguous || type.movesWithPadding else { throw CError.unsupported("\(function)", "non-contiguous datatypes in this call") }
        // (A pair type's instances move with their padding: `extent` bytes each, as a contiguous type's.)
        let unit = type.datatype.extent
        var byteCounts: [Int] = []
        var byteDisplacements: [Int] = []
        for rank in 0..<size {
            byteCounts.append(try CBuffer.product(try CInterface.count(counts[rank]), unit))
            byteDisplacements.append(try CBuffer.product(Int(displacements[rank]), unit))
        }
        return (byteCounts, byteDisplacements, byteCounts.indices.map { byteDisplacements[$0] + byteCounts[$0] }.max() ?? 0)
    }

    /// The blocks a v-form's root sends (`counts[i]` instances of `datatype` at `displacements[i]`
    /// extents from `buffer`) as bytes with their byte layout: the buffer's bytes as they are for a
    /// contiguous datatype, each block packed in rank order for any other.
    static func sentBlocks<C: CInteger, D: CInteger>(
        _ buffer: UnsafeRawPointer?, _ counts: UnsafePointer<C>?, _ displacements: UnsafePointer<D>?, _ datatype: MPI_Datatype, size: Int,
        _ function: StaticString
    ) throws -> (values: [UInt8], layout: (counts: [Int], displacements: [Int], extent: Int)) {
        let type = try CInterface.datatype(datatype)
        if type.isContiguous || type.movesWithPadding {  // (as the receivers' v-form buffers move them)
            let layout = try CInterface.layout(counts, displacements, datatype, size: size, function)
            return (CInterface.array(buffer, bytes: layout.extent), layout)
        }
        guard let counts, let displacements else { throw CError(MPI_ERR_ARG, "null counts or displacements") }
        var packed: [UInt8] = []
        var layout: (counts: [Int], displacements: [Int], extent: Int) = ([], [], 0)
        for rank in 0..<size {
            let start = packed.count
            let offset = try CBuffer.product(Int(displacements[rank]), type.datatype.extent)
            let origin = buffer.map { $0 + offset }
            switch try CBuffer(origin, try CInterface.count(counts[rank]), datatype) {
            case .bytes(let raw):
                packed += raw
            case .typed(let raw, let count, let blockType):
                var position = packed.count
                packed += [UInt8](repeating: 0, count: try blockType.packSize(count: count))
                try blockType.pack(from: CBuffer.byteBuffer(raw), count: count, into: &packed, position: &position)
            }
            layout.counts.append(packed.count - start)
            layout.displacements.append(start)
        }
        layout.extent = packed.count
        return (packed, layout)
    }

    /// Copies each rank's block of `result` (laid out by `layout`) to `buffer`, leaving the gaps alone.
    static func copyBlocks(_ result: [UInt8], _ layout: (counts: [Int], displacements: [Int], extent: Int), to buffer: UnsafeMutableRawPointer?) {
        guard let buffer else { return }
        result.withUnsafeBytes { source in
            for rank in layout.counts.indices where layout.counts[rank] > 0 {
                (buffer + layout.displacements[rank]).copyMemory(from: source.baseAddress! + layout.displacements[rank], byteCount: layout.counts[rank])
            }
        }
    }

    static func array(_ pointer: UnsafeRawPointer?, bytes: Int) -> [UInt8] {
        guard let pointer, bytes > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: bytes))
    }
}

@_cdecl("PMPI_Gatherv")
public func mpiGatherv(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<Int32>?,
    _ displs: UnsafePointer<Int32>?, _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm
) -> Int32 {
    mpiGathervWork("MPI_Gatherv", sendbuf, Int(sendcount), sendtype, recvbuf, recvcounts, displs, recvtype, root, comm)
}

/// MPI_Gatherv's work, also MPI_Gatherv_c's (counts as Int, arrays of either width).
func mpiGathervWork<C: CInteger, D: CInteger>(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcount: Int, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?,
    _ recvcounts: UnsafePointer<C>?, _ displs: UnsafePointer<D>?, _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm
) -> Int32 {
    cCall(function, on: comm) {
        try CInterface.checkNotAliased(sendbuf, recvbuf, moves: sendcount > 0, root: root, on: comm)
        let communicator = try CInterface.communicator(comm)
        let isRoot = CInterface.isRoot(root, of: communicator)
        let layout = isRoot ? try CInterface.layout(recvcounts, displs, recvtype, size: communicator.peerCount, function) : nil
        if communicator.isIntercommunicator {  // the counts are the other group's, read at the root only
            let own = isRoot || root == MPI_PROC_NULL ? [] : Array(try CInterface.bytes(sendbuf, sendcount, sendtype, function))
            let result = try communicator.gatherv(own, counts: layout?.counts ?? [], displacements: layout?.displacements ?? [], root: CInterface.rank(root))
            if let result, let layout { CInterface.copyBlocks(result, layout, to: recvbuf) }
            return
        }
        let own: [UInt8]
        if CInterface.isInPlace(sendbuf), let layout {
            own = CInterface.array(UnsafeRawPointer(recvbuf).map { $0 + layout.displacements[communicator.rank] }, bytes: layout.counts[communicator.rank])
        } else {
            own = Array(try CInterface.bytes(sendbuf, sendcount, sendtype, function))
        }
        // Counts matter at the root only (MPI); elsewhere this rank's own count is all the Swift call reads.
        var counts = layout?.counts ?? [Int](repeating: 0, count: communicator.size)
        if layout == nil { counts[communicator.rank] = own.count }
        let displacements = layout?.displacements ?? [Int](repeating: 0, count: communicator.size)
        if let result = try communicator.gatherv(own, counts: counts, displacements: displacements, root: Int(root)), let layout {
            CInterface.copyBlocks(result, layout, to: recvbuf)
        }
    }
}

@_cdecl("PMPI_Scatterv")
public func mpiScatterv(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<Int32>?, _ displs: UnsafePointer<Int32>?, _ sendtype: MPI_Datatype,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32, _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm
) -> Int32 {
    mpiScattervWork("MPI_Scatterv", sendbuf, sendcounts, displs, sendtype, recvbuf, Int(recvcount), recvtype, root, comm)
}

/// MPI_Scatterv's work, also MPI_Scatterv_c's (counts as Int, arrays of either width).
func mpiScattervWork<C: CInteger, D: CInteger>(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<C>?, _ displs: UnsafePointer<D>?, _ sendtype: MPI_Datatype,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int, _ recvtype: MPI_Datatype, _ root: Int32, _ comm: MPI_Comm
) -> Int32 {
    cCall(function, on: comm) {
        try CInterface.checkNotAliased(UnsafeRawPointer(recvbuf), UnsafeMutableRawPointer(mutating: sendbuf), moves: recvcount > 0, root: root, on: comm)
        let communicator = try CInterface.communicator(comm)
        let isRoot = CInterface.isRoot(root, of: communicator)
        let sent = isRoot ? try CInterface.sentBlocks(sendbuf, sendcounts, displs, sendtype, size: communicator.peerCount, function) : nil
        let layout = sent?.layout
        let values = sent?.values ?? []
        if communicator.isIntercommunicator {  // the root's counts are the other group's; a receiver's own is its recvcount
            let receives = !isRoot && root != MPI_PROC_NULL
            let output = receives ? try CInterface.bytes(recvbuf, recvcount, recvtype, function) : .init(start: nil, count: 0)
            var counts = layout?.counts ?? [Int](repeating: 0, count: communicator.size)
            if receives { counts[communicator.rank] = output.count }
            let part = try communicator.scatterv(values, counts: counts, displacements: layout?.displacements ?? [], root: CInterface.rank(root))
            _ = output.initialize(from: part)
            return
        }
        let inPlace = CInterface.isInPlace(recvbuf)
        if inPlace && !isRoot { throw CError(MPI_ERR_BUFFER, "MPI_IN_PLACE as the receive buffer is for the root only") }
        let output = inPlace ? UnsafeMutableBufferPointer<UInt8>(start: nil, count: 0) : try CInterface.bytes(recvbuf, recvcount, recvtype, function)
        // MPI gives the counts at the root only; Swift's scatterv wants them on every rank (a rank's
        // part of a shared-memory step lies after the parts of the ranks before it): the root sends them.
        var counts = layout?.counts ?? [Int](repeating: 0, count: communicator.size)
        try communicator.bcast(&counts, root: Int(root))
        let displacements = layout?.displacements ?? [Int](repeating: 0, count: communicator.size)
        let part = try communicator.scatterv(values, counts: counts, displacements: displacements, root: Int(root))
        if inPlace { return }
        guard part.count <= output.count else { throw CError(MPI_ERR_TRUNCATE, "a part of \(part.count) bytes for a buffer of \(output.count)") }
        _ = output.initialize(from: part)
    }
}

@_cdecl("PMPI_Allgatherv")
public func mpiAllgatherv(
    _ sendbuf: UnsafeRawPointer?, _ sendcount: Int32, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<Int32>?,
    _ displs: UnsafePointer<Int32>?, _ recvtype: MPI_Datatype, _ comm: MPI_Comm
) -> Int32 {
    mpiAllgathervWork("MPI_Allgatherv", sendbuf, Int(sendcount), sendtype, recvbuf, recvcounts, displs, recvtype, comm)
}

/// MPI_Allgatherv's work, also MPI_Allgatherv_c's (counts as Int, arrays of either width).
func mpiAllgathervWork<C: CInteger, D: CInteger>(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcount: Int, _ sendtype: MPI_Datatype, _ recvbuf: UnsafeMutableRawPointer?,
    _ recvcounts: UnsafePointer<C>?, _ displs: UnsafePointer<D>?, _ recvtype: MPI_Datatype, _ comm: MPI_Comm
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
        let result = try communicator.allgatherv(own, counts: layout.counts, displacements: layout.displacements)
        CInterface.copyBlocks(result, layout, to: recvbuf)
    }
}

@_cdecl("PMPI_Alltoallv")
public func mpiAlltoallv(
    _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<Int32>?, _ sdispls: UnsafePointer<Int32>?, _ sendtype: MPI_Datatype,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<Int32>?, _ rdispls: UnsafePointer<Int32>?, _ recvtype: MPI_Datatype,
    _ comm: MPI_Comm
) -> Int32 {
    mpiAlltoallvWork("MPI_Alltoallv", sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls, recvtype, comm)
}

/// MPI_Alltoallv's work, also MPI_Alltoallv_c's (counts as Int, arrays of either width).
func mpiAlltoallvWork<C: CInteger, D: CInteger>(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ sendcounts: UnsafePointer<C>?, _ sdispls: UnsafePointer<D>?, _ sendtype: MPI_Datatype,
    _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<C>?, _ rdispls: UnsafePointer<D>?, _ recvtype: MPI_Datatype, _ comm: MPI_Comm
) -> Int32 {
    cCall(function, on: comm) {
        try CInterface.checkNotAliased(
            sendbuf, recvbuf, moves: try CInterface.anyPositive(sendcounts, comm) && CInterface.anyPositive(recvcounts, comm), on: comm)
        let communicator = try CInterface.communicator(comm)
        let receive = try CInterface.layout(recvcounts, rdispls, recvtype, size: communicator.peerCount, function)
        let send =
            CInterface.isInPlace(sendbuf)
            ? receive : try CInterface.layout(sendcounts, sdispls, sendtype, size: communicator.peerCount, function)
        let values = CInterface.array(CInterface.isInPlace(sendbuf) ? UnsafeRawPointer(recvbuf) : sendbuf, bytes: send.extent)
        let result = try communicator.alltoallv(
            values, sendCounts: send.counts, sendDisplacements: send.displacements, recvCounts: receive.counts, recvDisplacements: receive.displacements)
        CInterface.copyBlocks(result, receive, to: recvbuf)
    }
}

// MARK: Reduce-scatters and scans (through the array forms)

private struct ArrayReduction: CReduction {
    enum Kind { case reduceScatterBlock(Int), reduceScatter([Int]), scan, exscan }
    let communicator: Communicator
    let send: UnsafeRawPointer?
    let receive: UnsafeMutableRawPointer?
    let inputCount: Int
    let kind: Kind

    /// The instances this rank's result has.
    private var resultCount: Int {
        switch kind {
        case .reduceScatterBlock(let count): count
        case .reduceScatter(let counts): counts[communicator.rank]
        case .scan: inputCount
        case .exscan: communicator.rank == 0 ? 0 : inputCount  // (rank 0's is undefined: left as it is)
        }
    }

    var buffers: CReductionBuffers { CReductionBuffers(send: send, receive: receive, sendCount: inputCount, receiveCount: resultCount) }

    func on(_ buffers: CReductionBuffers) -> Self {
        ArrayReduction(communicator: communicator, send: buffers.send, receive: buffers.receive, inputCount: inputCount, kind: kind)
    }

    func run<T: BitwiseCopyable>(_ operation: ReduceOperation<T>) throws -> CStartedReduction? {
        let source = CInterface.isInPlace(send) ? UnsafeRawPointer(receive) : send
        let input = Array(CInterface.elements(source, inputCount, T.self))
        let result: [T]?
        switch kind {
        case .reduceScatterBlock: result = try communicator.reduceScatterBlock(input, op: operation)
        case .reduceScatter(let counts): result = try communicator.reduceScatter(input, counts: counts, op: operation)
        case .scan: result = try communicator.scan(input, op: operation)
        case .exscan: result = try communicator.exscan(input, op: operation)
        }
        if let result { _ = CInterface.elements(receive, result.count, T.self).initialize(from: result) }
        return nil
    }
}

@_cdecl("PMPI_Reduce_scatter_block")
public func mpiReduceScatterBlock(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int32, _ datatype: MPI_Datatype, _ op: MPI_Op, _ comm: MPI_Comm
) -> Int32 {
    mpiReduceScatterBlockWork("MPI_Reduce_scatter_block", sendbuf, recvbuf, Int(recvcount), datatype, op, comm)
}

/// MPI_Reduce_scatter_block's work, also MPI_Reduce_scatter_block_c's (counts as Int).
func mpiReduceScatterBlockWork(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ recvcount: Int, _ datatype: MPI_Datatype, _ op: MPI_Op,
    _ comm: MPI_Comm
) -> Int32 {
    cCall(function, on: comm) {
        try CInterface.checkNotAliased(sendbuf, recvbuf, moves: recvcount > 0, on: comm)
        let communicator = try CInterface.communicator(comm)
        let count = try CInterface.count(recvcount)
        try CInterface.reduce(
            datatype, op,
            ArrayReduction(communicator: communicator, send: sendbuf, receive: recvbuf, inputCount: count * communicator.size, kind: .reduceScatterBlock(count))
        )
    }
}

@_cdecl("PMPI_Reduce_scatter")
public func mpiReduceScatter(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<Int32>?, _ datatype: MPI_Datatype, _ op: MPI_Op,
    _ comm: MPI_Comm
) -> Int32 {
    mpiReduceScatterWork("MPI_Reduce_scatter", sendbuf, recvbuf, recvcounts, datatype, op, comm)
}

/// MPI_Reduce_scatter's work, also MPI_Reduce_scatter_c's (counts as Int, arrays of either width).
func mpiReduceScatterWork<C: CInteger>(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ recvcounts: UnsafePointer<C>?, _ datatype: MPI_Datatype,
    _ op: MPI_Op, _ comm: MPI_Comm
) -> Int32 {
    cCall(function, on: comm) {
        try CInterface.checkNotAliased(sendbuf, recvbuf, moves: try CInterface.anyPositive(recvcounts, comm), on: comm)
        let communicator = try CInterface.communicator(comm)
        guard let recvcounts else { throw CError(MPI_ERR_ARG, "null receive counts") }
        var counts: [Int] = []
        for rank in 0..<communicator.size { counts.append(try CInterface.count(recvcounts[rank])) }
        try CInterface.reduce(
            datatype, op,
            ArrayReduction(
                communicator: communicator, send: sendbuf, receive: recvbuf, inputCount: counts.reduce(0, +), kind: .reduceScatter(counts)))
    }
}

@_cdecl("PMPI_Scan")
public func mpiScan(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ op: MPI_Op, _ comm: MPI_Comm
) -> Int32 {
    mpiScanWork("MPI_Scan", sendbuf, recvbuf, Int(count), datatype, op, comm)
}

/// MPI_Scan's work, also MPI_Scan_c's (counts as Int).
func mpiScanWork(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: Int, _ datatype: MPI_Datatype, _ op: MPI_Op,
    _ comm: MPI_Comm
) -> Int32 {
    cCall(function, on: comm) {
        try CInterface.checkNotAliased(sendbuf, recvbuf, moves: count > 0, on: comm)
        let communicator = try CInterface.communicator(comm)
        try CInterface.reduce(
            datatype, op, ArrayReduction(communicator: communicator, send: sendbuf, receive: recvbuf, inputCount: try CInterface.count(count), kind: .scan))
    }
}

@_cdecl("PMPI_Exscan")
public func mpiExscan(
    _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: Int32, _ datatype: MPI_Datatype, _ op: MPI_Op, _ comm: MPI_Comm
) -> Int32 {
    mpiExscanWork("MPI_Exscan", sendbuf, recvbuf, Int(count), datatype, op, comm)
}

/// MPI_Exscan's work, also MPI_Exscan_c's (counts as Int).
func mpiExscanWork(
    _ function: StaticString, _ sendbuf: UnsafeRawPointer?, _ recvbuf: UnsafeMutableRawPointer?, _ count: Int, _ datatype: MPI_Datatype, _ op: MPI_Op,
    _ comm: MPI_Comm
) -> Int32 {
    cCall(function, on: comm) {
        try CInterface.checkNotAliased(sendbuf, recvbuf, moves: count > 0, on: comm)
        let communicator = try CInterface.communicator(comm)
        try CInterface.reduce(
            datatype, op, ArrayReduction(communicator: communicator, send: sendbuf, receive: recvbuf, inputCount: try CInterface.count(count), kind: .exscan))
    }
}

extension Communicator {
    /// The ranks a rooted or all-to-all collective exchanges blocks with: this group's, or on an
    /// intercommunicator the other group's.
    var peerCount: Int { remoteSize ?? size }
}
