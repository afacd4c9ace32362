/// The collectives across an intercommunicator's two groups as schedules (MPI-4.1 §6.2.2), so that
/// their blocking, nonblocking and buffer forms share one algorithm each, as the intracommunicator
/// ones do.
///
/// Each group's own part runs on the group's private intracommunicator (`localCommunicator`, its
/// algorithms as on any communicator); the groups meet on the intercommunicator's collective
/// context, whose point-to-point peers are the other group's ranks:
/// - barrier, allreduce, reduce-scatter and allgather: each group combines at its leader (local
///   rank 0), the leaders swap, and each leader hands the other group's part on to its group;
/// - bcast, reduce: the root and the other group's leader exchange, the leader's group broadcasts
///   or reduces;
/// - gather(v), scatter(v): the root exchanges with every rank of the other group directly (as the
///   intracommunicator forms do with every rank);
/// - allgatherv, alltoall(v/w): every rank exchanges with every rank of the other group directly
///   (allgatherv's blocks have counts only the receiving group knows, so no leader could collect
///   them).
/// A message shorter than its receiver expected throws `.invalidCount` (the groups' counts do not
/// agree); a longer one `.truncate`. A leader that finds what it relays wrong still relays it and
/// then tells its group, whose ranks all throw: nobody waits forever, nobody keeps wrong data
/// without an error.
extension Communicator {
    /// Whether `root` makes this rank the root of a rooted collective: its own rank on an
    /// intracommunicator, `MPI.root` on an intercommunicator.
    func isRoot(_ root: Int) -> Bool { isIntercommunicator ? root == MPI.root : rank == root }

    /// Adds a step that posts the receives `post` returns (from ranks of the other group) and the
    /// sends `sending` returns and, after them, a step that checks each receive filled its buffer.
    /// A leader that relays what it receives to its group (`relaying`) defers its error, so that it
    /// still takes part in the group's steps; ``scheduleVerdict(_:_:_:)`` then tells the group.
    private func receiveWhole(
        _ schedule: CollectiveSchedule, _ call: StaticString, relaying: Bool = false,
        _ post: @escaping () throws -> [(request: Request, bytes: Int, from: Int)], sending: @escaping () throws -> [Request] = { [] }
    ) {
        var posted: [(request: Request, bytes: Int, from: Int)] = []
        schedule.then(deferringErrors: true) {
            posted = try post()
            return posted.map(\.request) + (try sending())
        }
        schedule.then { [unowned schedule] in
            defer { posted = [] }
            for (request, bytes, from) in posted {
                let mismatch = "from rank \(from) of the other group where \(bytes) were expected: the groups' counts do not agree"
                let failure: any Error
                do {
                    let arrived = try request.wait().byteCount
                    guard arrived != bytes else { continue }
                    failure = MPIError(.invalidCount, "\(call): \(arrived) bytes arrived \(mismatch)")
                } catch let error as MPIError where error.code == .truncate {
                    failure = MPIError(.invalidCount, "\(call): \(error.status.map { "\($0.byteCount)" } ?? "more") bytes arrived \(mismatch)")
                } catch {
                    failure = error
                }
                if relaying {
                    schedule.deferFailure(failure, replacing: true)
                    return []
                }
                throw failure
            }
            return []
        }
    }

    /// The leader (local rank 0) tells its group whether what it relayed was right: every rank of
    /// the group then fails with it (one byte, broadcast in the group).
    private func scheduleVerdict(_ local: Communicator, _ call: StaticString, _ schedule: CollectiveSchedule) {
        let verdict = schedule.scratch(UInt8.self, count: 1)
        verdict[0] = 0
        if local.rank == 0 {
            schedule.then { [unowned schedule] in
                verdict[0] = schedule.deferredFailure == nil ? 0 : 1
                return []
            }
        }
        local.scheduleBroadcast(UnsafeMutableRawBufferPointer(verdict), root: 0, schedule)
        schedule.then { [unowned schedule] in
            if verdict[0] != 0 && schedule.deferredFailure == nil {
                schedule.deferFailure(
                    MPIError(.invalidCount, "\(call): the other group's contribution does not match this group's counts (this group's leader found it)"))
            }
            return []
        }
    }

    /// No rank leaves before every rank of both groups has entered.
    func scheduleInterBarrier(_ schedule: CollectiveSchedule) {
        let local = localCommunicator
        let (channel, tag) = interCollective()
        let none = UnsafeMutableRawBufferPointer(start: nil, count: 0)
        local.scheduleBarrier(schedule)
        if rank == 0 {
            schedule.then {
                [try channel.receiveBytes(none, from: 0, tag: tag), try channel.sendBytes(UnsafeRawBufferPointer(none), to: 0, tag: tag)]
            }
        }
        local.scheduleBroadcast(none, root: 0, schedule)
    }

    /// The root's `buffer` into `buffer` on every rank of the other group (root: `MPI.root`,
    /// `MPI.procNull`, or the root's rank in the other group).
    func scheduleInterBroadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int, _ schedule: CollectiveSchedule) {
        let (channel, tag) = interCollective()
        switch root {
        case MPI.root:
            schedule.then { [try channel.sendBytes(UnsafeRawBufferPointer(buffer), to: 0, tag: tag)] }
        case MPI.procNull:
            break
        default:
            let local = localCommunicator
            if rank == 0 {
                receiveWhole(schedule, "bcast", relaying: true) { [(try channel.receiveBytes(buffer, from: root, tag: tag), buffer.count, root)] }
            }
            local.scheduleBroadcast(buffer, root: 0, schedule)
            scheduleVerdict(local, "bcast", schedule)
        }
    }

    /// The reduction of the other group's `values` into `result` at the root (its `values` unused).
    func scheduleInterReduce<T>(
        _ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>?, op: ReduceOperation<T>, root: Int, _ schedule: CollectiveSchedule
    ) {
        let (channel, tag) = interCollective()
        switch root {
        case MPI.root:
            guard let result else { return }
            receiveWhole(schedule, "reduce") {
                [(try channel.receiveBytes(UnsafeMutableRawBufferPointer(result), from: 0, tag: tag), result.count * MemoryLayout<T>.stride, 0)]
            }
        case MPI.procNull:
            break
        default:
            let reduced = rank == 0 ? schedule.scratch(T.self, count: values.count) : nil
            localCommunicator.scheduleReduce(values, into: reduced, op: op, root: 0, schedule)
            if let reduced { schedule.then { [try channel.sendBytes(UnsafeRawBufferPointer(reduced), to: root, tag: tag)] } }
        }
    }

    /// The reduction of the other group's `values` into `result` on every rank (`result` may be
    /// `values`' memory: the group's reduction reads it first).
    func scheduleInterAllreduce<T>(
        _ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>, op: ReduceOperation<T>, _ schedule: CollectiveSchedule
    ) {
        let local = localCommunicator
        let (channel, tag) = interCollective()
        let reduced = rank == 0 ? schedule.scratch(T.self, count: values.count) : nil
        local.scheduleReduce(values, into: reduced, op: op, root: 0, schedule)
        if let reduced {
            receiveWhole(schedule, "allreduce", relaying: true) {
                [(try channel.receiveBytes(UnsafeMutableRawBufferPointer(result), from: 0, tag: tag), result.count * MemoryLayout<T>.stride, 0)]
            } sending: {
                [try channel.sendBytes(UnsafeRawBufferPointer(reduced), to: 0, tag: tag)]
            }
        }
        local.scheduleBroadcast(UnsafeMutableRawBufferPointer(result), root: 0, schedule)
        scheduleVerdict(local, "allreduce", schedule)
    }

    /// Every rank of the other group's `values` at the root, rank j's `counts[j]` bytes at byte
    /// `displacements[j]` of `result` (both used at the root only).
    func scheduleInterGather(
        _ values: UnsafeRawBufferPointer, into result: UnsafeMutableRawBufferPointer?, counts: [Int], displacements: [Int], root: Int,
        _ schedule: CollectiveSchedule
    ) {
        let (channel, tag) = interCollective()
        switch root {
        case MPI.root:
            guard let result else { return }
            receiveWhole(schedule, "gather") {
                try (0..<self.peerCount).map { peer in
                    let block = UnsafeMutableRawBufferPointer(rebasing: result[displacements[peer]..<(displacements[peer] + counts[peer])])
                    return (try channel.receiveBytes(block, from: peer, tag: tag), counts[peer], peer)
                }
            }
        case MPI.procNull:
            break
        default:
            schedule.then { [try channel.sendBytes(values, to: root, tag: tag)] }
        }
    }

    /// The root's block j (`counts[j]` bytes at byte `displacements[j]` of `values`, both used at
    /// the root only) into `result` on rank j of the other group.
    func scheduleInterScatter(
        _ values: UnsafeRawBufferPointer?, counts: [Int], displacements: [Int], into result: UnsafeMutableRawBufferPointer, root: Int,
        _ schedule: CollectiveSchedule
    ) {
        let (channel, tag) = interCollective()
        switch root {
        case MPI.root:
            guard let values else { return }
            schedule.then {
                try (0..<self.peerCount).map { peer in
                    try channel.sendBytes(
                        UnsafeRawBufferPointer(rebasing: values[displacements[peer]..<(displacements[peer] + counts[peer])]), to: peer, tag: tag)
                }
            }
        case MPI.procNull:
            break
        default:
            receiveWhole(schedule, "scatter") { [(try channel.receiveBytes(result, from: root, tag: tag), result.count, root)] }
        }
    }

    /// Every rank's `values` (one count per group) gathered at its leader, swapped between the
    /// leaders, and broadcast: `result` holds the other group's values in its rank order.
    func scheduleInterAllgather(_ values: UnsafeRawBufferPointer, into result: UnsafeMutableRawBufferPointer, _ schedule: CollectiveSchedule) {
        let local = localCommunicator
        let (channel, tag) = interCollective()
        let gathered = rank == 0 ? UnsafeMutableRawBufferPointer(schedule.scratch(UInt8.self, count: values.count * size)) : nil
        let layout = (0..<size).map { $0 * values.count }
        local.scheduleGather(values, into: gathered, counts: [Int](repeating: values.count, count: size), displacements: layout, root: 0, schedule)
        if let gathered {
            receiveWhole(schedule, "allgather", relaying: true) {
                [(try channel.receiveBytes(result, from: 0, tag: tag), result.count, 0)]
            } sending: {
                [try channel.sendBytes(UnsafeRawBufferPointer(gathered), to: 0, tag: tag)]
            }
        }
        local.scheduleBroadcast(result, root: 0, schedule)
        scheduleVerdict(local, "allgather", schedule)
    }

    /// `values` to every rank of the other group; its rank j's `counts[j]` bytes land at byte
    /// `displacements[j]` of `result`.
    func scheduleInterAllgatherv(
        _ values: UnsafeRawBufferPointer, into result: UnsafeMutableRawBufferPointer, counts: [Int], displacements: [Int], _ schedule: CollectiveSchedule
    ) {
        let (channel, tag) = interCollective()
        receiveWhole(schedule, "allgatherv") {
            try (0..<self.peerCount).map { peer in
                let block = UnsafeMutableRawBufferPointer(rebasing: result[displacements[peer]..<(displacements[peer] + counts[peer])])
                return (try channel.receiveBytes(block, from: peer, tag: tag), counts[peer], peer)
            }
        } sending: {
            try (0..<self.peerCount).map { try channel.sendBytes(values, to: $0, tag: tag) }
        }
    }

    /// Block i of `values` to rank i of the other group, block j of `result` from its rank j (byte
    /// counts and displacements per rank of the other group).
    func scheduleInterAlltoall(
        _ values: UnsafeRawBufferPointer, sendCounts: [Int], sendDisplacements: [Int], into result: UnsafeMutableRawBufferPointer,
        receiveCounts: [Int], receiveDisplacements: [Int], _ schedule: CollectiveSchedule
    ) {
        let (channel, tag) = interCollective()
        receiveWhole(schedule, "alltoall") {
            try (0..<self.peerCount).map { peer in
                let block = UnsafeMutableRawBufferPointer(
                    rebasing: result[receiveDisplacements[peer]..<(receiveDisplacements[peer] + receiveCounts[peer])])
                return (try channel.receiveBytes(block, from: peer, tag: tag), receiveCounts[peer], peer)
            }
        } sending: {
            try (0..<self.peerCount).map { peer in
                try channel.sendBytes(
                    UnsafeRawBufferPointer(rebasing: values[sendDisplacements[peer]..<(sendDisplacements[peer] + sendCounts[peer])]), to: peer, tag: tag)
            }
        }
    }

    /// The reduction of the other group's `values`, dealt out over this group: `counts[i]` elements
    /// (their sum is the other group's `values.count`) to this group's rank i, into `result`.
    func scheduleInterReduceScatter<T>(
        _ values: UnsafeBufferPointer<T>, counts: [Int], into result: UnsafeMutableBufferPointer<T>, op: ReduceOperation<T>, _ schedule: CollectiveSchedule
    ) {
        let local = localCommunicator
        let (channel, tag) = interCollective()
        let stride = MemoryLayout<T>.stride
        let total = counts.reduce(0, +)
        let leader = rank == 0
        let reduced = leader ? schedule.scratch(T.self, count: values.count) : nil
        let incoming = leader ? schedule.scratch(T.self, count: total) : nil
        local.scheduleReduce(values, into: reduced, op: op, root: 0, schedule)
        if let reduced, let incoming {
            receiveWhole(schedule, "reduceScatter", relaying: true) {
                [(try channel.receiveBytes(UnsafeMutableRawBufferPointer(incoming), from: 0, tag: tag), total * stride, 0)]
            } sending: {
                [try channel.sendBytes(UnsafeRawBufferPointer(reduced), to: 0, tag: tag)]
            }
        }
        var offsets: [Int] = []
        var offset = 0
        for count in counts { offsets.append(offset); offset += count * stride }
        local.scheduleScatter(
            incoming.map { UnsafeRawBufferPointer($0) }, counts: counts.map { $0 * stride }, displacements: offsets,
            into: UnsafeMutableRawBufferPointer(result), root: 0, schedule)
        scheduleVerdict(local, "reduceScatter", schedule)
    }
}
