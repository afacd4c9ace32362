import Synchronization

/// Partitioned communication through persistent ``Request``s over the caller's own memory: the C
/// interface's MPI_Psend_init, MPI_Precv_init, MPI_Pready and MPI_Parrived (the Swift API is
/// ``PartitionedSend`` and ``PartitionedReceive``, which own their memory). Each start of the
/// request begins a round. On the sending side ``Request/partitionReady(_:)`` marks parts ready
/// and the message leaves with the last one; the request completes when it has been sent. On the
/// receiving side the round's receive is posted at the start and completes the request when the
/// whole message is in; parts arrive together, as ``PartitionedReceive`` documents.
///
/// `@unchecked Sendable`: the round's mutable state is behind a `Mutex`, and `transfer` only
/// captures the program's buffer, which MPI requires to stay valid while the request lives.
final class PartitionedRound: @unchecked Sendable {
    let partitions: Int
    let isSend: Bool
    /// The program's tag (the messages carry another, PartitionedRequests' matching tag).
    private let tag: Int
    /// Starts the round's whole transfer: the send (when the last part is ready) or the receive (at the start).
    private let transfer: () throws -> Request
    private let state = Mutex(State())

    private struct State {
        var ready: [Bool] = []
        var readyCount = 0
        var active = false
        /// The round's send or receive, once started.
        var transfer: Request?
        /// Why the round's send could not start (the request then completes with it).
        var failure: MPIError?
    }

    init(partitions: Int, isSend: Bool, tag: Int, transfer: @escaping () throws -> Request) {
        self.partitions = partitions
        self.isSend = isSend
        self.tag = tag
        self.transfer = transfer
    }

    /// Begins a round (the persistent request's start) and returns the request that completes it
    /// once the round's transfer has: for a send, after every part was ready and the message left;
    /// for a receive (posted now), with the message's status under the program's tag.
    func begin(_ runtime: Runtime) throws -> Request {
        let receive = isSend ? nil : try transfer()
        state.withLock { $0 = State(ready: [Bool](repeating: false, count: partitions), readyCount: 0, active: true, transfer: receive) }
        let schedule = CollectiveSchedule()
        schedule.programCompletion = { [self] in
            let (transfer, failure) = state.withLock { ($0.transfer, $0.failure) }
            if let failure { throw failure }
            guard let transfer, try transfer.isComplete() else { return nil }
            guard !isSend else { return .empty }
            let status = transfer.settledStatus
            return Status(source: status.source, tag: tag, byteCount: status.byteCount)
        }
        return try Request(runtime: runtime, schedule: schedule)
    }

    /// Marks `partition` ready; the last part sends the message.
    func ready(_ partition: Int, _ call: StaticString) throws(MPIError) {
        guard isSend else { throw MPIError(.invalidArgument, "\(call): the request is a partitioned receive, not a send") }
        try check(partition, call)
        let last = try state.withLock { (state: inout State) throws(MPIError) -> Bool in
            guard state.active else { throw MPIError(.invalidArgument, "\(call): the partitioned send was not started (MPI_Start)") }
            guard !state.ready[partition] else { throw MPIError(.invalidArgument, "\(call): partition \(partition) is already ready in this round") }
            state.ready[partition] = true
            state.readyCount += 1
            return state.readyCount == partitions
        }
        guard last else { return }
        do {
            let send = try typedErrors { try transfer() }
            state.withLock { $0.transfer = send }
        } catch {
            state.withLock { $0.failure = error }  // the request completes with it too
            throw error
        }
    }

    /// Checks that `partition` names a part of a started round.
    func checkArrival(_ partition: Int, _ call: StaticString) throws(MPIError) {
        guard !isSend else { throw MPIError(.invalidArgument, "\(call): the request is a partitioned send, not a receive") }
        try check(partition, call)
        guard state.withLock({ $0.active }) else { throw MPIError(.invalidArgument, "\(call): the partitioned receive was not started (MPI_Start)") }
    }

    private func check(_ partition: Int, _ call: StaticString) throws(MPIError) {
        guard partition >= 0 && partition < partitions else {
            throw MPIError(.invalidArgument, "\(call): partition \(partition) is outside 0..<\(partitions)")
        }
    }
}

/// A direction, peer and tag of partitioned requests (``CommunicatorState/partitionedInits``).
struct PartitionedPeer: Hashable {
    var send: Bool
    var peer: Int
    var tag: Int
}

extension Communicator {
    /// Tags of partitioned requests stay below this (their messages' tags carry them).
    static let partitionedTagLimit = 1 << 16

    /// Where the partitioned request being made for `peer` and `tag` sends or receives: this
    /// communicator's private collective context, whose collectives use non-negative tags and no
    /// wildcards, with the negative tag −2 − (tag · 2^15 + (k mod (2^15 − 1))) for the k-th such request
    /// made here. Partitioned messages so match no ordinary message (MPI-4.1 §4.2.2) and pair up
    /// in the order of the two sides' init calls, exactly while fewer than 2^15 − 1 requests of one
    /// pair and tag are in use at once. Throws `.invalidTag` for a tag outside 0..<65536.
    func partitionedMatching(peer: Int, tag: Int, send: Bool, _ call: StaticString) throws(MPIError) -> (Communicator, Int) {
        guard tag >= 0 && tag < Self.partitionedTagLimit else {
            throw MPIError(.invalidTag, "\(call): tag \(tag) is outside 0..<\(Self.partitionedTagLimit) (the tags partitioned communication takes)")
        }
        let key = PartitionedPeer(send: send, peer: peer, tag: tag)
        let index = try typedErrors {
            try runtime.withEngine(call) { _ in
                defer { state.partitionedInits[key, default: 0] &+= 1 }
                return state.partitionedInits[key, default: 0] % 0x7FFF
            }
        }
        return (collectiveChannel, -2 - (tag << 15 | index))
    }

    /// A persistent request for a partitioned send to `destination` of `partitions` parts from
    /// `bytes`: `count` instances of `datatype` for all the parts together (nil: `bytes` as plain
    /// bytes). See ``PartitionedRound``. Throws `.invalidCount` for fewer than one part or a negative
    /// count, `.invalidRank` for a bad destination, `.invalidTag` for a tag outside 0..<65536.
    package func partitionedSendRequest(
        _ bytes: UnsafeRawBufferPointer, count: Int, datatype: Datatype?, partitions: Int, to destination: Int, tag: Int, _ call: StaticString
    ) throws(MPIError) -> Request {
        try typedErrors {
            guard partitions >= 1, count >= 0 else { throw MPIError(.invalidCount, "\(call): \(count) elements in \(partitions) parts") }
            guard try checkDestination(destination, call) else {
                throw MPIError(.invalidRank, "\(call): a partitioned send to MPI_PROC_NULL is not supported")
            }
            let (channel, wireTag) = try partitionedMatching(peer: destination, tag: tag, send: true, call)
            let round = PartitionedRound(partitions: partitions, isSend: true, tag: tag) {
                if let datatype {
                    return try channel.startSend(bytes, count: count, datatype: datatype, keepAlive: nil, to: destination, tag: wireTag, mode: .standard, call)
                }
                return try channel.startSend(bytes, keepAlive: nil, to: destination, tag: wireTag, mode: .standard, call)
            }
            return Request(runtime: runtime, persistent: .partitioned(round))
        }
    }

    /// A persistent request for a partitioned receive from `source` of `partitions` parts into
    /// `buffer`: `count` instances of `datatype` in all (nil: plain bytes). Throws as
    /// ``partitionedSendRequest(_:count:datatype:partitions:to:tag:_:)``.
    package func partitionedReceiveRequest(
        _ buffer: UnsafeMutableRawBufferPointer, count: Int, datatype: Datatype?, partitions: Int, from source: Int, tag: Int, _ call: StaticString
    ) throws(MPIError) -> Request {
        try typedErrors {
            guard partitions >= 1, count >= 0 else { throw MPIError(.invalidCount, "\(call): \(count) elements in \(partitions) parts") }
            guard source >= 0 && source < peerCount else {
                throw MPIError(.invalidRank, "\(call): source \(source) is outside 0..<\(peerCount) (a partitioned receive names its sender)")
            }
            let (channel, wireTag) = try partitionedMatching(peer: source, tag: tag, send: false, call)
            let round = PartitionedRound(partitions: partitions, isSend: false, tag: tag) {
                if let datatype {
                    return try channel.startReceive(buffer, count: count, datatype: datatype, keepAlive: nil, from: source, tag: wireTag, call)
                }
                return try channel.startReceive(buffer, keepAlive: nil, from: source, tag: wireTag, call)
            }
            return Request(runtime: runtime, persistent: .partitioned(round))
        }
    }
}

extension Request {
    /// Marks part `partition` of a partitioned send's round ready (MPI_Pready); the last part sends
    /// the message. Throws `.invalidArgument` for a request that is not a started partitioned send,
    /// a part outside `0..<partitions` or one already ready.
    package func partitionReady(_ partition: Int, _ call: StaticString) throws(MPIError) {
        guard let round = partitionedRound else { throw MPIError(.invalidArgument, "\(call): not a partitioned request") }
        try round.ready(partition, call)
    }

    /// Whether part `partition` of a partitioned receive's round has arrived (MPI_Parrived);
    /// progresses, and leaves the request's result for its wait or test. Throws as
    /// ``partitionReady(_:_:)``, and the receive's error.
    package func partitionArrived(_ partition: Int, _ call: StaticString) throws(MPIError) -> Bool {
        guard let round = partitionedRound else { throw MPIError(.invalidArgument, "\(call): not a partitioned request") }
        try round.checkArrival(partition, call)
        return try peek(call)
    }
}
