/// Communicators made by a group's members alone (MPI_Comm_create_group, MPI_Comm_create_from_group).
///
/// The members agree on a context pair as other creations do (``ContextIds``), but by point-to-point
/// messages among themselves instead of a collective over a parent: every member sends its proposal
/// to the group's first member, which combines them and sends the result back (linear in the group's
/// size). These messages travel on a context reserved for them (``groupCreationContext``) with the
/// caller's tag, so creations by different groups, or by one group with different tags, cannot take
/// each other's messages, and a group's successive creations with one tag stay in order.
extension Communicator {
    /// The context of group-creation messages: above every context a communicator takes (the
    /// unbounded range would need about two billion creations to reach it).
    static let groupCreationContext = UInt32.max - 1

    /// The communicator of `group`, a subset of this one, made by the group's members only
    /// (MPI_Comm_create_group): ranks outside the group do not call it. Groups made at the same time
    /// with overlapping members must use different `tag`s. Throws `.invalidArgument` when the group
    /// has processes outside this communicator or the caller is not in it, `.invalidTag` for a tag
    /// outside 0...`MPI.tagUpperBound`.
    public func createGroup(_ group: Group, tag: Int) throws(MPIError) -> Communicator {
        try typedErrors {
            let mine = Set(self.group.worldRanks)
            guard group.worldRanks.allSatisfy(mine.contains) else {
                throw MPIError(.invalidArgument, "createGroup: the group has processes outside this communicator")
            }
            try checkSendTag(tag, "createGroup")
            let made = try Communicator(runtime: runtime, group: group, tag: tag, "createGroup")
            made.state.errorHandler = state.errorHandler
            return made
        }
    }

    /// The communicator of `group` (MPI_Comm_create_from_group), made by the group's members only;
    /// for groups of a ``Session``'s process sets, or any other group. Members that make
    /// communicators at the same time from overlapping groups must use different `tag`s (MPI's
    /// string tags; SwiftMPI maps each to a message tag by a hash). Throws `.invalidArgument` when the
    /// caller is not in the group, `.notInitialized` when neither `MPI.initialize()` nor a session is.
    public init(group: Group, tag: String) throws(MPIError) {
        // (The module's typedErrors: the communicator's own, which consults its error handler, needs
        // a communicator.)
        let runtime = try SwiftMPI.typedErrors { try Runtime.running("Communicator(group:tag:)") }
        self = try SwiftMPI.typedErrors { try Communicator(runtime: runtime, group: group, tag: Self.messageTag(tag), "Communicator(group:tag:)") }
    }

    /// An intercommunicator between `localGroup`, which this rank belongs to, and the disjoint
    /// `remoteGroup`, made by the members of both groups without a parent communicator
    /// (MPI_Intercomm_create_from_groups; for groups of a ``Session``'s process sets, or any
    /// others). Every member of both groups passes the same `tag`, each group its own leader
    /// (`localLeader`, a rank of `localGroup`) and the other's (`remoteLeader`, a rank of
    /// `remoteGroup`); the leaders exchange the groups' proposals as ``createIntercommunicator(localLeader:peer:remoteLeader:tag:)``
    /// does, on the context reserved for group creations. Throws `.invalidArgument` when the caller
    /// is not in `localGroup` or the groups overlap, `.invalidRank` for a leader outside its group.
    public init(localGroup: Group, localLeader: Int, remoteGroup: Group, remoteLeader: Int, tag: String) throws(MPIError) {
        let call: StaticString = "Communicator(localGroup:localLeader:remoteGroup:remoteLeader:tag:)"
        let runtime = try SwiftMPI.typedErrors { try Runtime.running("\(call)") }
        self = try SwiftMPI.typedErrors {
            guard remoteLeader >= 0 && remoteLeader < remoteGroup.size else {
                throw MPIError(.invalidRank, "\(call): remoteLeader \(remoteLeader) is outside 0..<\(remoteGroup.size) of the remote group")
            }
            let messageTag = Self.messageTag(tag)
            let local = try Communicator(runtime: runtime, group: localGroup, tag: messageTag, call)
            defer { local.free() }
            return try local.createIntercommunicator(
                localLeader: localLeader, peer: Self.groupCreationMessages(runtime), remoteLeader: remoteGroup.worldRanks[remoteLeader], tag: messageTag)
        }
    }

    /// Every process, addressed by world rank, on ``groupCreationContext``.
    private static func groupCreationMessages(_ runtime: Runtime) -> Communicator {
        Communicator(
            runtime: runtime,
            state: CommunicatorState(
                context: Self.groupCreationContext, channel: nil, group: Group(worldRanks: Array(0..<runtime.size), myWorldRank: runtime.rank)))
    }

    /// The agreement among `group`'s members, by messages with `tag` on ``groupCreationContext``.
    private init(runtime: Runtime, group: Group, tag: Int, _ call: StaticString) throws {
        guard let me = group.rank else { throw MPIError(.invalidArgument, "\(call): only the group's members call it (this rank is not in it)") }
        let members = group.worldRanks
        let messages = Self.groupCreationMessages(runtime)
        let proposal = try runtime.withEngine(call) { $0.contextIds.propose() }
        do {
            // One message each way: the maxima (context, channel), then the mask.
            var combined = proposal.maxima.map { UInt64($0) } + proposal.mask
            if me == 0 {
                var theirs = [UInt64](repeating: 0, count: combined.count)
                for member in members.dropFirst() {
                    try messages.recv(into: &theirs, from: member, tag: tag)
                    for index in 0..<2 { combined[index] = max(combined[index], theirs[index]) }
                    for index in 2..<combined.count { combined[index] &= theirs[index] }
                }
                for member in members.dropFirst() { try messages.send(combined, to: member, tag: tag) }
            } else {
                try messages.send(combined, to: members[0], tag: tag)
                try messages.recv(into: &combined, from: members[0], tag: tag)
            }
            let agreed = try runtime.withEngine(call) {
                $0.contextIds.settle(common: Array(combined[2...]), maxima: [Int(combined[0]), Int(combined[1])])
            }
            self.init(runtime: runtime, state: CommunicatorState(context: agreed.context, channel: agreed.channel, group: group))
        } catch {
            _ = try? runtime.withEngine(call) { $0.contextIds.abandon() }
            throw error
        }
    }

    /// A string tag as a message tag: FNV-1a, folded into 0...`MPI.tagUpperBound`.
    static func messageTag(_ tag: String) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in tag.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0100_0000_01b3 }
        return Int(hash % UInt64(MPI.tagUpperBound + 1))
    }
}
