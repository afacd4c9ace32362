/// Intercommunicators (MPI-4.1 §7.6): two disjoint groups, each rank addressing the *other* group's
/// ranks in point-to-point calls — a coupled model's two components talking to each other.
///
/// Point-to-point works as on any communicator, with destinations and sources in the remote group
/// (`remoteSize`). Every collective MPI defines across the two groups is here, blocking and
/// nonblocking, on arrays and buffers (the algorithms: InterSchedules.swift): `barrier`; the rooted
/// `bcast`, `reduce`, `gather(v)` and `scatter(v)` (the root passes `MPI.root`, the rest of its
/// group `MPI.procNull`, the other group the root's rank in it: data goes from the root to the
/// other group or from the other group to the root); `allreduce`, `allgather(v)`, `reduceScatter`
/// and `reduceScatterBlock` (each group gets the other group's reduction or values); `alltoall(v/w)`
/// (block i to rank i of the other group). Counts and displacements describe the other group's
/// ranks, except where a group receives its own share: the receiving group of `scatterv` passes
/// its own counts (rank i reads `counts[i]`), and `reduceScatter`'s counts deal the other group's
/// reduction out over this group. The groups may pass different counts where MPI lets them
/// (`alltoallv`: what one group sends is what the other receives). Scans and the neighbourhood
/// collectives have no intercommunicator form and throw `.invalidArgument` — `merge(high:)` makes
/// an intracommunicator of both groups. Each group's part runs on a private intracommunicator of
/// that group; the groups' leaders (local rank 0) exchange on the intercommunicator's collective
/// context.
extension Communicator {
    /// Whether this is an intercommunicator (MPI_Comm_test_inter).
    public var isIntercommunicator: Bool { state.remoteGroup != nil }

    /// The other group of an intercommunicator (MPI_Comm_remote_group); nil on an intracommunicator.
    public var remoteGroup: Group? { state.remoteGroup }

    /// The size of the other group of an intercommunicator (MPI_Comm_remote_size); nil on an
    /// intracommunicator.
    public var remoteSize: Int? { state.remoteGroup?.size }

    /// An intercommunicator between this communicator's group and another, disjoint one
    /// (MPI_Intercomm_create). Collective over this communicator; `localLeader` is the rank here
    /// that speaks for the group, and `remoteLeader` the other group's leader as a rank of `peer`, a
    /// communicator both leaders belong to (often the world), on which they exchange with `tag`.
    /// Throws `.invalidRank` for a leader out of range and `.invalidArgument` when the groups
    /// overlap or this is itself an intercommunicator.
    public func createIntercommunicator(localLeader: Int, peer: Communicator, remoteLeader: Int, tag: Int) throws(MPIError) -> Communicator {
        try typedErrors {
            let call: StaticString = "createIntercommunicator"
            guard !isIntercommunicator else { throw MPIError(.invalidArgument, "\(call): call it on an intracommunicator of the local group") }
            guard localLeader >= 0 && localLeader < size else { throw MPIError(.invalidRank, "\(call): localLeader \(localLeader) is outside 0..<\(size)") }
            try checkSendTag(tag, call)
            // The leaders swap their groups (as world ranks) over `peer`; each tells its group.
            var remote: [Int] = []
            var count = [0]
            if rank == localLeader {
                guard remoteLeader >= 0 && remoteLeader < peer.size else {
                    throw MPIError(.invalidRank, "\(call): remoteLeader \(remoteLeader) is outside 0..<\(peer.size) of the peer communicator")
                }
                try peer.sendrecv([group.worldRanks.count], to: remoteLeader, sendTag: tag, into: &count, from: remoteLeader, recvTag: tag)
                remote = [Int](repeating: 0, count: count[0])
                try peer.sendrecv(group.worldRanks, to: remoteLeader, sendTag: tag, into: &remote, from: remoteLeader, recvTag: tag)
                count = [remote.count]
            }
            try bcast(&count, root: localLeader)
            if rank != localLeader { remote = [Int](repeating: 0, count: count[0]) }
            try bcast(&remote, root: localLeader)
            guard Set(remote).isDisjoint(with: group.worldRanks) else {
                throw MPIError(.invalidArgument, "\(call): the two groups share processes; an intercommunicator joins disjoint groups")
            }
            // A private intracommunicator of this group, and a context pair free in both groups.
            let localAgreed = try agreeOnContext()
            let localState = CommunicatorState(context: localAgreed.context, channel: localAgreed.channel, group: group)
            let agreed = try Self.agreeAcrossGroups(local: self, leader: localLeader) { combined in
                var theirs = [UInt64](repeating: 0, count: combined.count)
                try peer.sendrecv(combined, to: remoteLeader, sendTag: tag, into: &theirs, from: remoteLeader, recvTag: tag)
                return theirs
            }
            let made = CommunicatorState(
                context: agreed.context, group: group, remoteGroup: Group(worldRanks: remote, myWorldRank: group.myWorldRank), localGroupState: localState)
            made.errorHandler = state.errorHandler
            return Communicator(runtime: runtime, state: made)
        }
    }

    /// An intracommunicator of both groups of this intercommunicator (MPI_Intercomm_merge):
    /// the group whose ranks pass `high: false` comes first; when both groups pass the same, the
    /// group whose leader has the lower world rank does. Collective over both groups; every rank of a
    /// group passes the same `high`. Throws `.invalidArgument` on an intracommunicator.
    public func merge(high: Bool) throws(MPIError) -> Communicator {
        try typedErrors {
            guard let remoteGroup = state.remoteGroup else { throw MPIError(.invalidArgument, "merge(high:): only an intercommunicator merges") }
            let local = localCommunicator
            let (channel, tag) = interCollective()
            var highs = [high ? 1 : 0, 0]  // this group's (its leader's), the other's
            if rank == 0 {
                var theirs = [0]
                try channel.sendrecv([highs[0]], to: 0, sendTag: tag, into: &theirs, from: 0, recvTag: tag)
                highs[1] = theirs[0]
            }
            try local.bcast(&highs, root: 0)
            let localFirst = highs[0] != highs[1] ? highs[0] == 0 : group.worldRanks[0] < remoteGroup.worldRanks[0]
            let union = localFirst ? group.worldRanks + remoteGroup.worldRanks : remoteGroup.worldRanks + group.worldRanks
            let agreed = try Self.agreeAcrossGroups(local: local, leader: 0) { combined in
                var theirs = [UInt64](repeating: 0, count: combined.count)
                try channel.sendrecv(combined, to: 0, sendTag: tag, into: &theirs, from: 0, recvTag: tag)
                return theirs
            }
            let merged = CommunicatorState(context: agreed.context, channel: agreed.channel, group: Group(worldRanks: union, myWorldRank: group.myWorldRank))
            merged.errorHandler = state.errorHandler
            return Communicator(runtime: runtime, state: merged)
        }
    }

    /// ``dup()`` of an intercommunicator: the same two groups on a context pair free in both, with
    /// a private communicator of the local group of its own.
    func interDuplicate(_ remoteGroup: Group) throws -> Communicator {
        let local = localCommunicator
        let localAgreed = try local.agreeOnContext()
        let localState = CommunicatorState(context: localAgreed.context, channel: localAgreed.channel, group: group)
        let (channel, tag) = interCollective()
        let agreed = try Self.agreeAcrossGroups(local: local, leader: 0) { combined in
            var theirs = [UInt64](repeating: 0, count: combined.count)
            try channel.sendrecv(combined, to: 0, sendTag: tag, into: &theirs, from: 0, recvTag: tag)
            return theirs
        }
        let made = CommunicatorState(context: agreed.context, group: group, remoteGroup: remoteGroup, localGroupState: localState)
        made.errorHandler = state.errorHandler
        made.keyedAttributes = copiedAttributes()
        return Communicator(runtime: runtime, state: made)
    }

    /// ``split(color:key:)`` of an intercommunicator: this group splits as an intracommunicator
    /// would, the groups swap their (color, key) pairs through their leaders, and each piece agrees
    /// with the other group's piece of its color on a context pair (their leaders swap proposals).
    func interSplit(_ remoteGroup: Group, color: Int, key: Int) throws -> Communicator? {
        let local = localCommunicator
        let (channel, tag) = interCollective()
        let mine = try local.allgather([color, key])
        var theirs = [Int](repeating: 0, count: 2 * remoteGroup.size)
        if local.rank == 0 { try channel.sendrecv(mine, to: 0, sendTag: tag, into: &theirs, from: 0, recvTag: tag) }
        try local.bcast(&theirs, root: 0)
        guard let piece = try local.split(color: color, key: key) else { return nil }
        // The other group's ranks of this color, by key, then by rank.
        let partners = (0..<remoteGroup.size).filter { theirs[2 * $0] == color }.sorted { (theirs[2 * $0 + 1], $0) < (theirs[2 * $1 + 1], $1) }
        guard let partnerLeader = partners.first else { return nil }
        let agreed = try Self.agreeAcrossGroups(local: piece, leader: 0) { combined in
            var received = [UInt64](repeating: 0, count: combined.count)
            try channel.sendrecv(combined, to: partnerLeader, sendTag: tag, into: &received, from: partnerLeader, recvTag: tag)
            return received
        }
        let made = CommunicatorState(
            context: agreed.context, group: piece.group,
            remoteGroup: Group(worldRanks: partners.map { remoteGroup.worldRanks[$0] }, myWorldRank: group.myWorldRank), localGroupState: piece.state)
        made.errorHandler = state.errorHandler
        return Communicator(runtime: runtime, state: made)
    }

    // MARK: - Collectives across the two groups (the blocking array forms; algorithms: InterSchedules.swift)

    /// No rank returns before every rank of both groups has entered.
    func interBarrier() throws {
        try run("barrier", spansGroups: true) { scheduleInterBarrier($0) }
    }

    /// The root's bytes to every rank of the other group (see the type's notes for `root`).
    func interBcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws {
        try checkRoot(root, "bcast")
        try run("bcast", root: root, spansGroups: true) { scheduleInterBroadcast(bytes, root: root, $0) }
    }

    /// The reduction of the other group's `values` with `op`, in place.
    func interAllreduce<T: BitwiseCopyable>(_ values: inout [T], op: ReduceOperation<T>) throws {
        try values.withUnsafeMutableBufferPointer { buffer in
            try run("allreduce", spansGroups: true) { scheduleInterAllreduce(UnsafeBufferPointer(buffer), into: buffer, op: op, $0) }
        }
    }

    /// The other group's `values`, in its rank order (each of its ranks contributes the same count).
    func interAllgather<T: BitwiseCopyable>(_ values: [T]) throws -> [T] {
        let local = localCommunicator
        let gathered = try local.gather(values, root: 0)
        let (channel, tag) = interCollective()
        var count = [0]
        var result: [T] = []
        if let gathered {
            try channel.sendrecv([gathered.count], to: 0, sendTag: tag, into: &count, from: 0, recvTag: tag)
            result = [T](zeroedCount: count[0])
            try channel.sendrecv(gathered, to: 0, sendTag: tag, into: &result, from: 0, recvTag: tag)
        }
        try local.bcast(&count, root: 0)
        if rank != 0 { result = [T](zeroedCount: count[0]) }
        try local.bcast(&result, root: 0)
        return result
    }

    /// The reduction of the other group's `values` at the root (`root`: see the type's notes; the
    /// root's `values` only give the count); nil on the other ranks.
    func interReduce<T: BitwiseCopyable>(_ values: [T], op: ReduceOperation<T>, root: Int) throws -> [T]? {
        try checkRoot(root, "reduce")
        var result = [T](zeroedCount: root == MPI.root ? values.count : 0)
        try values.withUnsafeBufferPointer { input in
            try result.withUnsafeMutableBufferPointer { output in
                try run("reduce", root: root, spansGroups: true) { scheduleInterReduce(input, into: output, op: op, root: root, $0) }
            }
        }
        return root == MPI.root ? result : nil
    }

    /// The other group's `values` in its rank order at the root; nil on the other ranks.
    func interGather<T: BitwiseCopyable>(_ values: [T], root: Int) throws -> [T]? {
        let (channel, tag) = interCollective()
        switch try interRole(root, "gather") {
        case .root:
            let incoming = try channel.probe(from: 0, tag: tag)
            var result = [T](zeroedCount: incoming.byteCount / Swift.max(MemoryLayout<T>.stride, 1))
            try channel.recv(into: &result, from: 0, tag: tag)
            return result
        case .bystander:
            return nil
        case .contributor:
            if let gathered = try localCommunicator.gather(values, root: 0) { try channel.send(gathered, to: root, tag: tag) }
            return nil
        }
    }

    /// The root's `values` dealt out in equal parts to the other group's ranks, in rank order;
    /// empty on the root's own group.
    func interScatter<T: BitwiseCopyable>(_ values: [T], root: Int) throws -> [T] {
        let (channel, tag) = interCollective()
        switch try interRole(root, "scatter") {
        case .root:
            try channel.send(values, to: 0, tag: tag)
            return []
        case .bystander:
            return []
        case .contributor:
            var all: [T] = []
            if rank == 0 {
                let incoming = try channel.probe(from: root, tag: tag)
                all = [T](zeroedCount: incoming.byteCount / Swift.max(MemoryLayout<T>.stride, 1))
                try channel.recv(into: &all, from: root, tag: tag)
            }
            return try localCommunicator.scatter(all, root: 0)
        }
    }

    /// Block i of `values` to rank i of the other group; block j of the result from its rank j.
    func interAlltoall<T: BitwiseCopyable>(_ values: [T]) throws -> [T] {
        guard values.count % peerCount == 0 else {
            throw MPIError(.invalidCount, "alltoall: \(values.count) elements do not divide among the other group's \(peerCount) ranks")
        }
        let block = [Int](repeating: values.count / peerCount, count: peerCount)
        return try interAlltoallv(values, sendCounts: block, sendDisplacements: nil, receiveCounts: block, receiveDisplacements: nil, "alltoall")
    }

    /// `counts[j]` elements from rank j of the other group at the root (MPI.root), in rank order or
    /// at `displacements[j]`; every other rank's `counts` are not read. Nil but at the root.
    func interGatherv<T: BitwiseCopyable>(_ values: [T], counts: [Int], displacements: [Int]?, root: Int, _ call: StaticString) throws -> [T]? {
        try checkRoot(root, call)
        let isRoot = root == MPI.root
        let layout = isRoot ? try byteLayout(T.self, counts: counts, displacements: displacements, receiving: true, call) : nil
        var result = [T](zeroedCount: layout?.extent ?? 0)
        try values.withUnsafeBytes { input in
            try result.withUnsafeMutableBytes { output in
                try run(call, spansGroups: true) {
                    scheduleInterGather(
                        input, into: isRoot ? output : nil, counts: layout?.counts ?? [], displacements: layout?.displacements ?? [], root: root, $0)
                }
            }
        }
        return isRoot ? result : nil
    }

    /// The root's (MPI.root) `counts[j]` elements, from the start of block j or `displacements[j]`,
    /// to rank j of the other group, which receives its `counts[rank]` (every rank of that group
    /// passes that group's counts). Empty in the root's group.
    func interScatterv<T: BitwiseCopyable>(_ values: [T], counts: [Int], displacements: [Int]?, root: Int, _ call: StaticString) throws -> [T] {
        try checkRoot(root, call)
        let isRoot = root == MPI.root
        var layout: (counts: [Int], displacements: [Int], extent: Int)?
        var result: [T] = []
        if isRoot {
            layout = try byteLayout(T.self, counts: counts, displacements: displacements, call)
            guard values.count >= layout!.extent else {
                throw MPIError(.invalidCount, "\(call): \(values.count) elements at the root, \(layout!.extent) to deal out")
            }
        } else if root != MPI.procNull {
            guard counts.count == size, counts[rank] >= 0 else {
                throw MPIError(.invalidCount, "\(call): the receiving group passes its \(size) counts, got \(counts)")
            }
            result = [T](zeroedCount: counts[rank])
        }
        try values.withUnsafeBytes { input in
            try result.withUnsafeMutableBytes { output in
                try run(call, spansGroups: true) {
                    scheduleInterScatter(
                        isRoot ? input : nil, counts: layout?.counts ?? [], displacements: layout?.displacements ?? [], into: output, root: root, $0)
                }
            }
        }
        return result
    }

    /// `values` to every rank of the other group; its rank j's `counts[j]` elements in rank order
    /// or at `displacements[j]`.
    func interAllgatherv<T: BitwiseCopyable>(_ values: [T], counts: [Int], displacements: [Int]?, _ call: StaticString) throws -> [T] {
        let layout = try byteLayout(T.self, counts: counts, displacements: displacements, receiving: true, call)
        var result = [T](zeroedCount: layout.extent)
        try values.withUnsafeBytes { input in
            try result.withUnsafeMutableBytes { output in
                try run(call, spansGroups: true) {
                    scheduleInterAllgatherv(input, into: output, counts: layout.counts, displacements: layout.displacements, $0)
                }
            }
        }
        return result
    }

    /// Alltoallv across the groups: counts and displacements per rank of the other group.
    func interAlltoallv<T: BitwiseCopyable>(
        _ values: [T], sendCounts: [Int], sendDisplacements: [Int]?, receiveCounts: [Int], receiveDisplacements: [Int]?, _ call: StaticString
    ) throws -> [T] {
        let send = try byteLayout(T.self, counts: sendCounts, displacements: sendDisplacements, call)
        let receive = try byteLayout(T.self, counts: receiveCounts, displacements: receiveDisplacements, receiving: true, call)
        guard values.count >= send.extent else { throw MPIError(.invalidCount, "\(call): \(values.count) elements, \(send.extent) to send") }
        var result = [T](zeroedCount: receive.extent)
        try values.withUnsafeBytes { input in
            try result.withUnsafeMutableBytes { output in
                try run(call, spansGroups: true) {
                    scheduleInterAlltoall(
                        input, sendCounts: send.counts, sendDisplacements: send.displacements, into: output, receiveCounts: receive.counts,
                        receiveDisplacements: receive.displacements, $0)
                }
            }
        }
        return result
    }

    /// The other group's reduction of `values`, `counts[i]` elements of it to this group's rank i
    /// (`counts` has this group's size entries; their sum is the other group's `values.count`).
    func interReduceScatter<T: BitwiseCopyable>(_ values: [T], counts: [Int], op: ReduceOperation<T>, _ call: StaticString) throws -> [T] {
        guard counts.count == size, counts.allSatisfy({ $0 >= 0 }) else {
            throw MPIError(.invalidCount, "\(call): needs this group's \(size) non-negative counts, got \(counts)")
        }
        var result = [T](zeroedCount: counts[rank])
        try values.withUnsafeBufferPointer { input in
            try result.withUnsafeMutableBufferPointer { output in
                try run(call, spansGroups: true) { scheduleInterReduceScatter(input, counts: counts, into: output, op: op, $0) }
            }
        }
        return result
    }

    /// A rank's part in a rooted collective on an intercommunicator, from its `root` argument.
    private enum InterRole { case root, bystander, contributor }

    private func interRole(_ root: Int, _ call: StaticString) throws -> InterRole {
        switch root {
        case MPI.root: return .root
        case MPI.procNull: return .bystander
        case 0..<peerCount: return .contributor
        default:
            throw MPIError(
                .invalidRank, "\(call) on an intercommunicator: root \(root) is neither MPI.root, MPI.procNull nor a rank of the other group (0..<\(peerCount))"
            )
        }
    }

    /// The private intracommunicator of an intercommunicator's local group.
    var localCommunicator: Communicator { Communicator(runtime: runtime, state: state.localGroupState!) }

    /// The channel and tag of the next exchange between the groups' leaders.
    func interCollective() -> (channel: Communicator, tag: Int) {
        state.collectiveSequence += 1
        return (collectiveChannel, state.collectiveSequence % MPI.tagUpperBound)
    }

    /// Agrees on a context pair (and collective channel) free in every member of both groups: each
    /// group combines its members' proposals on `local`, the leaders swap the results (`swap` runs
    /// on the leader only), and each group receives the combination of both from its leader.
    static func agreeAcrossGroups(local: Communicator, leader: Int, swap: ([UInt64]) throws -> [UInt64]) throws -> (context: UInt32, channel: Int) {
        let runtime = local.runtime
        let proposal = try runtime.withEngine("intercommunicator") { $0.contextIds.propose() }
        do {
            var combined = try local.allreduce(proposal.maxima.map { UInt64($0) }, op: .max) + (try local.allreduce(proposal.mask, op: .bitwiseAnd))
            if local.rank == leader {
                let theirs = try swap(combined)
                for index in 0..<2 { combined[index] = max(combined[index], theirs[index]) }
                for index in 2..<combined.count { combined[index] &= theirs[index] }
            }
            try local.bcast(&combined, root: leader)
            return try runtime.withEngine("intercommunicator") {
                $0.contextIds.settle(common: Array(combined[2...]), maxima: [Int(combined[0]), Int(combined[1])])
            }
        } catch {
            _ = try? runtime.withEngine("intercommunicator") { $0.contextIds.abandon() }
            throw error
        }
    }
}
