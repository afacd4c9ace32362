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
    /// Starts the round's whole transfer: the send (when the last part is ready) or the receive (at the start).
    private let transfer: () throws -> Request
    private let state = Mutex(State())

    private struct State {
        var ready: [Bool] = []
        var readyCount = 0
        var active = false
        var send: Request?
    }

    init(partitions: Int, isSend: Bool, transfer: @escaping () throws -> Request) {
        self.partitions = partitions
        self.isSend = isSend
        self.transfer = transfer
    }

    /// Begins a round (the persistent request's start) and returns the request that completes it:
    /// a receive, or for a send one that waits for every part and then for the message to leave.
    func begin(_ runtime: Runtime) throws -> Request {
        state.withLock { $0 = State(ready: [Bool](repeating: false, count: partitions), readyCount: 0, active: true, send: nil) }
        guard isSend else { return try transfer() }
        let schedule = CollectiveSchedule()
        schedule.programCompletion = { [self] in
            guard let send = state.withLock({ $0.send }), try send.isComplete() else { return nil }
            return .empty
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
        let send = try typedErrors { try transfer() }
        state.withLock { $0.send = send }
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

extension Communicator {
    /// A persistent request for a partitioned send to `destination` of `partitions` parts from
    /// `bytes`: `count` instances of `datatype` for all the parts together (nil: `bytes` as plain
    /// bytes). See ``PartitionedRound``. Throws `.invalidCount` for fewer than one part or a negative
    /// count, `.invalidRank` or `.invalidTag` for a bad destination or tag.
    package func partitionedSendRequest(
        _ bytes: UnsafeRawBufferPointer, count: Int, datatype: Datatype?, partitions: Int, to destination: Int, tag: Int, _ call: StaticString
    ) throws(MPIError) -> Request {
        try typedErrors {
            guard partitions >= 1, count >= 0 else { throw MPIError(.invalidCount, "\(call): \(count) elements in \(partitions) parts") }
            guard try checkDestination(destination, call) else {
                throw MPIError(.invalidRank, "\(call): a partitioned send to MPI_PROC_NULL is not supported")
            }
            try checkSendTag(tag, call)
            let round = PartitionedRound(partitions: partitions, isSend: true) { [self] in
                if let datatype {
                    return try startSend(bytes, count: count, datatype: datatype, keepAlive: nil, to: destination, tag: tag, mode: .standard, call)
                }
                return try startSend(bytes, keepAlive: nil, to: destination, tag: tag, mode: .standard, call)
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
            try checkReceiveTag(tag, call)
            let round = PartitionedRound(partitions: partitions, isSend: false) { [self] in
                if let datatype {
                    return try startReceive(buffer, count: count, datatype: datatype, keepAlive: nil, from: source, tag: tag, call)
                }
                return try startReceive(buffer, keepAlive: nil, from: source, tag: tag, call)
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
