import Synchronization

/// The sending side of partitioned communication (MPI-4 `MPI_Psend_init`): one message of
/// `partitions` equal parts, each filled (often by its own thread) and declared ready with
/// ``pready(_:)``. The request owns the message's memory: a part is written through
/// ``withPartition(_:_:)`` between ``start()`` and its `pready`.
///
/// SwiftMPI sends the message when its last part is ready (MPI lets an implementation choose when
/// parts travel); the receiver's ``PartitionedReceive/parrived(_:)`` then reports every part at once.
/// Marking parts ready from several threads needs thread level `.multiple`. Partitioned messages
/// match only partitioned receives, in the order the two sides made their requests for a pair of
/// ranks and a tag (MPI-4.1 §4.2.2), never an ordinary receive with the same tag.
public final class PartitionedSend<Element: BitwiseCopyable>: Sendable {
    /// Where the message goes: the communicator's partitioned matching space (PartitionedRequests.swift).
    private let channel: Communicator
    private let memory: OwnedBuffer<Element>
    private let destination: Int, wireTag: Int
    /// The number of parts.
    public let partitions: Int
    private let state = Mutex(State())

    private struct State {
        var ready: [Bool] = []
        var readyCount = 0
        var active = false
        var send: Request?
    }

    init(_ channel: Communicator, count: Int, partitions: Int, destination: Int, wireTag: Int) {
        self.channel = channel
        memory = OwnedBuffer(zeroedCount: count * partitions)
        self.partitions = partitions
        self.destination = destination
        self.wireTag = wireTag
    }

    /// Elements per part.
    public var partitionCount: Int { memory.buffer.count / Swift.max(partitions, 1) }

    /// Begins a round (MPI_Start): no part is ready. Throws `.invalidArgument` while the last
    /// round's message is still being sent (wait for it first).
    public func start() throws(MPIError) {
        try state.withLock { (state: inout State) throws(MPIError) in
            guard !state.active else { throw MPIError(.invalidArgument, "PartitionedSend.start(): the last round is still active; wait for it") }
            state = State(ready: [Bool](repeating: false, count: partitions), readyCount: 0, active: true, send: nil)
        }
    }

    /// Lets `body` write part `partition` (no copy); throws `.invalidRank` for a part outside
    /// `0..<partitions` and `.invalidArgument` outside a round or once the part is ready.
    public func withPartition<R>(_ partition: Int, _ body: (inout MutableSpan<Element>) throws -> R) throws -> R {
        try checkPartition(partition, "withPartition")
        try state.withLock { (state: inout State) throws(MPIError) in
            guard state.active, !state.ready[partition] else {
                throw MPIError(.invalidArgument, "PartitionedSend.withPartition(\(partition)): call it between start() and pready(\(partition))")
            }
        }
        let part = UnsafeMutableBufferPointer(rebasing: memory.buffer[(partition * partitionCount)..<((partition + 1) * partitionCount)])
        var span = part.mutableSpan
        return try withExtendedLifetime(memory) { try body(&span) }
    }

    /// Declares part `partition` ready (MPI_Pready); the last one sends the message. Throws
    /// `.invalidRank` for a part outside `0..<partitions`, `.invalidArgument` for a part already
    /// ready or outside a round.
    public func pready(_ partition: Int) throws(MPIError) {
        try checkPartition(partition, "pready")
        let complete = try state.withLock { (state: inout State) throws(MPIError) -> Bool in
            guard state.active, !state.ready[partition] else {
                throw MPIError(.invalidArgument, "PartitionedSend.pready(\(partition)): the part is already ready, or no round was started")
            }
            state.ready[partition] = true
            state.readyCount += 1
            return state.readyCount == partitions
        }
        guard complete else { return }
        // The request keeps the memory alive while the message is in flight, even if this object goes.
        let send = try typedErrors {
            try channel.startSend(UnsafeRawBufferPointer(memory.readable), keepAlive: memory, to: destination, tag: wireTag, mode: .standard, "pready")
        }
        state.withLock { $0.send = send }
    }

    /// Waits until the round's message has been sent (MPI_Wait); throws `.invalidArgument` when
    /// not every part was declared ready.
    public func wait() throws(MPIError) {
        let send = try state.withLock { (state: inout State) throws(MPIError) -> Request? in
            guard state.active else { return nil }
            guard state.readyCount == partitions else {
                throw MPIError(.invalidArgument, "PartitionedSend.wait(): \(partitions - state.readyCount) of \(partitions) parts are not ready")
            }
            return state.send
        }
        guard let send else { return }
        try send.wait()
        state.withLock { $0.active = false }
    }

    private func checkPartition(_ partition: Int, _ call: StaticString) throws(MPIError) {
        guard partition >= 0 && partition < partitions else {
            throw MPIError(.invalidRank, "PartitionedSend.\(call): partition \(partition) is outside 0..<\(partitions)")
        }
    }
}

/// The receiving side of partitioned communication (MPI-4 `MPI_Precv_init`): ``start()`` posts the
/// receive of one message of `partitions` parts into memory the request owns; ``parrived(_:)``
/// says whether a part has arrived, and ``wait()`` returns the whole message.
public final class PartitionedReceive<Element: BitwiseCopyable>: Sendable {
    /// Where the message comes from: the communicator's partitioned matching space.
    private let channel: Communicator
    private let memory: OwnedBuffer<Element>
    private let source: Int, tag: Int, wireTag: Int
    /// The number of parts.
    public let partitions: Int
    private let receive = Mutex<Request?>(nil)

    init(_ channel: Communicator, count: Int, partitions: Int, source: Int, tag: Int, wireTag: Int) {
        self.channel = channel
        memory = OwnedBuffer(zeroedCount: count * partitions)
        self.partitions = partitions
        self.source = source
        self.tag = tag
        self.wireTag = wireTag
    }

    /// Posts the round's receive (MPI_Start); throws `.invalidArgument` while the last round is
    /// active.
    public func start() throws(MPIError) {
        try receive.withLock { (receive: inout Request?) throws(MPIError) in
            guard receive == nil else { throw MPIError(.invalidArgument, "PartitionedReceive.start(): the last round is still active; wait for it") }
            receive = try typedErrors {
                try channel.startReceive(UnsafeMutableRawBufferPointer(memory.buffer), keepAlive: memory, from: source, tag: wireTag, "precvInit")
            }
        }
    }

    /// Whether part `partition` has arrived (MPI_Parrived); progresses the receive. Throws
    /// `.invalidRank` for a part outside `0..<partitions`, `.invalidArgument` outside a round, and
    /// the receive's error.
    public func parrived(_ partition: Int) throws(MPIError) -> Bool {
        guard partition >= 0 && partition < partitions else {
            throw MPIError(.invalidRank, "PartitionedReceive.parrived: partition \(partition) is outside 0..<\(partitions)")
        }
        guard let request = receive.withLock({ $0 }) else {
            throw MPIError(.invalidArgument, "PartitionedReceive.parrived(\(partition)): no round was started")
        }
        return try request.test() != nil
    }

    /// Waits for the whole message and returns it with its status (MPI_Wait); ends the round.
    public func wait() throws(MPIError) -> ([Element], Status) {
        guard let request = receive.withLock({ $0 }) else {
            throw MPIError(.invalidArgument, "PartitionedReceive.wait(): no round was started")
        }
        let status = try request.wait()
        receive.withLock { $0 = nil }
        return (memory.array(), Status(source: status.source, tag: tag, byteCount: status.byteCount))
    }
}

extension Communicator {
    /// A partitioned send of `partitions` parts of `count` elements each to `destination`
    /// (MPI_Psend_init); see ``PartitionedSend``. Throws `.invalidCount` for a negative count or
    /// fewer than one part, `.invalidRank` for a bad destination, `.invalidTag` for a tag outside
    /// 0..<65536 (the tags partitioned communication takes here).
    public func psendInit<T: BitwiseCopyable>(
        count: Int, of type: T.Type, partitions: Int, to destination: Int, tag: Int
    ) throws(MPIError) -> PartitionedSend<T> {
        try typedErrors {
            guard count >= 0, partitions >= 1, !count.multipliedReportingOverflow(by: partitions).overflow else {
                throw MPIError(.invalidCount, "psendInit: \(partitions) parts of \(count) elements")
            }
            guard try checkDestination(destination, "psendInit") else {
                throw MPIError(.invalidRank, "psendInit: a partitioned send to MPI.procNull is not supported")
            }
            let (channel, wireTag) = try partitionedMatching(peer: destination, tag: tag, send: true, "psendInit")
            return PartitionedSend(channel, count: count, partitions: partitions, destination: destination, wireTag: wireTag)
        }
    }

    /// A partitioned receive of `partitions` parts of `count` elements each from `source`
    /// (MPI_Precv_init); see ``PartitionedReceive``. The sender's parts and counts must describe
    /// the same number of elements. Throws as ``psendInit(count:of:partitions:to:tag:)``.
    public func precvInit<T: BitwiseCopyable>(
        count: Int, of type: T.Type, partitions: Int, from source: Int, tag: Int
    ) throws(MPIError) -> PartitionedReceive<T> {
        try typedErrors {
            guard count >= 0, partitions >= 1, !count.multipliedReportingOverflow(by: partitions).overflow else {
                throw MPIError(.invalidCount, "precvInit: \(partitions) parts of \(count) elements")
            }
            guard source >= 0 && source < peerCount else {
                throw MPIError(.invalidRank, "precvInit: source \(source) is outside 0..<\(peerCount) (a partitioned receive names its sender)")
            }
            let (channel, wireTag) = try partitionedMatching(peer: source, tag: tag, send: false, "precvInit")
            return PartitionedReceive(channel, count: count, partitions: partitions, source: source, tag: tag, wireTag: wireTag)
        }
    }
}
