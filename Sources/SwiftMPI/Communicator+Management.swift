extension MPI {
    /// The color that leaves a rank out of `split` (MPI_UNDEFINED): `split` then returns nil.
    public static let undefined = Int.min

    /// A communicator of this rank alone (MPI_COMM_SELF), named `self`: every use between
    /// `MPI.initialize()` and `MPI.finalize()` gives the same communicator. Its context id is taken
    /// from this process's unbounded range, which no later agreement hands out again. Throws
    /// `.notInitialized` outside that span.
    public static var commSelf: Communicator {
        get throws(MPIError) {
            guard let runtime = Runtime.current else { throw MPIError(.notInitialized, "MPI.commSelf: call MPI.initialize() first") }
            let state = try typedErrors {
                try runtime.withEngine("MPI.commSelf") { engine in
                    if let made = runtime.selfCommunicator { return made }
                    let context = engine.contextIds.takeLocal()
                    let made = CommunicatorState(context: context, channel: nil, group: Group(worldRanks: [runtime.rank], myWorldRank: runtime.rank))
                    made.name = "self"
                    runtime.selfCommunicator = made
                    return made
                }
            }
            return Communicator(runtime: runtime, state: state)
        }
    }
}

/// The kinds of `splitType`.
public enum SplitType: Sendable {
    /// The ranks that share memory with the caller: those of its host (MPI_COMM_TYPE_SHARED).
    case shared
}

extension Communicator {
    /// Agrees with every rank of this communicator on a pair of context ids free in all of them,
    /// and on a collective channel none of them has used (``ContextIds``). Collective.
    /// With `messageCollectivesOnly`, a member asks for collectives by messages (a hint); the result
    /// says whether any member did.
    func agreeOnContext(messageCollectivesOnly: Bool = false) throws -> (context: UInt32, channel: Int, messageCollectivesOnly: Bool) {
        let proposal = try runtime.withEngine("communicator creation") { $0.contextIds.propose() }
        do {
            let maxima = try allreduce(proposal.maxima + [messageCollectivesOnly ? 1 : 0], op: .max)
            let common = try allreduce(proposal.mask, op: .bitwiseAnd)
            let agreed = try runtime.withEngine("communicator creation") { $0.contextIds.settle(common: common, maxima: maxima) }
            return (agreed.context, agreed.channel, maxima[2] != 0)
        } catch {
            _ = try? runtime.withEngine("communicator creation") { $0.contextIds.abandon() }
            throw error
        }
    }

    /// A new communicator with the same ranks and a private context (MPI_Comm_dup): messages on it
    /// never match receives on this one. Collective. The topology is copied, and values stored under
    /// ``AttributeKey``s as their keys' `copy` says; type-keyed attributes are not. The dup of an
    /// intercommunicator is an intercommunicator of the same two groups (collective over both).
    public func dup() throws(MPIError) -> Communicator {
        try typedErrors {
            if let remoteGroup = state.remoteGroup { return try interDuplicate(remoteGroup) }
            let agreed = try agreeOnContext()
            return duplicate((agreed.context, agreed.channel))
        }
    }

    /// ``dup()`` without blocking the thread (MPI_Comm_idup, in Swift's terms), also of an
    /// intercommunicator: the agreement on the new context runs as nonblocking allreduces that the task awaits, so other tasks (at thread
    /// level `.serialized` or `.multiple`) and this rank's own pending requests progress meanwhile.
    /// Collective, in the same order as the other collectives on this communicator.
    public func idup() async throws -> Communicator {
        let started = try startDup()
        _ = try? await started.request.value  // (`finish` waits for it again and reports its error)
        return try started.finish()
    }

    /// MPI_Comm_idup (``idup()``, and the C interface's): the context agreement's allreduces start now and
    /// progress like any nonblocking collective; once `request` has completed, `finish` settles the
    /// context and returns the duplicate (as ``dup()`` makes it), also of an intercommunicator.
    package func startDup() throws -> (request: Request, finish: () throws -> Communicator) {
        if let remoteGroup = state.remoteGroup { return try startInterDup(remoteGroup) }
        let proposal = try runtime.withEngine("idup") { $0.contextIds.propose() }
        let buffers = DupAgreement(proposal)
        do {
            let maxima = try iallreduce(UnsafeBufferPointer(buffers.maxima), into: buffers.maximaResult, op: .max)
            let masks = try iallreduce(UnsafeBufferPointer(buffers.mask), into: buffers.maskResult, op: .bitwiseAnd)
            return (
                masks,
                {
                    do {
                        _ = try maxima.wait()
                        _ = try masks.wait()
                    } catch {
                        _ = try? self.runtime.withEngine("idup") { $0.contextIds.abandon() }
                        throw error
                    }
                    let agreed = try self.runtime.withEngine("idup") {
                        $0.contextIds.settle(common: Array(buffers.maskResult), maxima: Array(buffers.maximaResult))
                    }
                    return self.duplicate(agreed)
                }
            )
        } catch {
            _ = try? runtime.withEngine("idup") { $0.contextIds.abandon() }
            throw error
        }
    }

    /// ``startDup()`` of an intercommunicator: two agreements at once, both as nonblocking
    /// allreduces — a context for the private communicator of this group (on that group), and a
    /// context pair free in both groups (each group's combination on the group, the other group's
    /// by an allreduce across the intercommunicator, combined here). Their proposals are made
    /// together, so the second proposes no free pairs and takes the next unbounded context
    /// everywhere (``ContextIds``).
    private func startInterDup(_ remoteGroup: Group) throws -> (request: Request, finish: () throws -> Communicator) {
        let local = localCommunicator
        let (localProposal, crossProposal) = try runtime.withEngine("idup") { ($0.contextIds.propose(), $0.contextIds.propose()) }
        let forLocal = DupAgreement(localProposal), ownGroup = DupAgreement(crossProposal), otherGroup = DupAgreement(crossProposal)
        var requests: [Request] = []
        do {
            for (communicator, agreement) in [(local, forLocal), (local, ownGroup), (self, otherGroup)] {
                requests.append(try communicator.iallreduce(UnsafeBufferPointer(agreement.maxima), into: agreement.maximaResult, op: .max))
                requests.append(try communicator.iallreduce(UnsafeBufferPointer(agreement.mask), into: agreement.maskResult, op: .bitwiseAnd))
            }
        } catch {
            for request in requests { _ = try? request.wait() }
            _ = try? runtime.withEngine("idup") {
                $0.contextIds.abandon()
                $0.contextIds.abandon()
            }
            throw error
        }
        let last = requests.removeLast()
        return (
            last,
            {
                do {
                    for request in requests + [last] { try request.wait() }
                } catch {
                    _ = try? self.runtime.withEngine("idup") {
                        $0.contextIds.abandon()
                        $0.contextIds.abandon()
                    }
                    throw error
                }
                let maxima = zip(ownGroup.maximaResult, otherGroup.maximaResult).map { Swift.max($0, $1) }
                let masks = zip(ownGroup.maskResult, otherGroup.maskResult).map { $0 & $1 }
                let (localAgreed, agreed) = try self.runtime.withEngine("idup") {
                    (
                        $0.contextIds.settle(common: Array(forLocal.maskResult), maxima: Array(forLocal.maximaResult)),
                        $0.contextIds.settle(common: masks, maxima: maxima)
                    )
                }
                let localState = CommunicatorState(context: localAgreed.context, channel: localAgreed.channel, group: self.group)
                let made = CommunicatorState(context: agreed.context, group: self.group, remoteGroup: remoteGroup, localGroupState: localState)
                made.errorHandler = self.state.errorHandler
                made.keyedAttributes = self.copiedAttributes()
                return Communicator(runtime: self.runtime, state: made)
            }
        )
    }

    /// The state of a communicator made from this one: `group` on the agreed context and channel,
    /// with this one's error handler.
    private func childState(_ agreed: (context: UInt32, channel: Int), group: Group, topology: CartesianTopology? = nil) -> CommunicatorState {
        let child = CommunicatorState(context: agreed.context, channel: agreed.channel, group: group, topology: topology)
        child.errorHandler = state.errorHandler
        return child
    }

    /// A communicator like this one (group, topology, attributes as their keys copy them) on `context`.
    func duplicate(_ agreed: (context: UInt32, channel: Int)) -> Communicator {
        let duplicate = childState(agreed, group: group, topology: state.topology)
        duplicate.messageCollectivesOnly = state.messageCollectivesOnly  // dup keeps the hints
        duplicate.graph = state.graph
        duplicate.keyedAttributes = copiedAttributes()
        return Communicator(runtime: runtime, state: duplicate)
    }

    /// Splits into one communicator per `color`, ranks ordered by `key` then by rank here
    /// (MPI_Comm_split). A rank with color `MPI.undefined` gets nil. Collective.
    /// On an intercommunicator, each color's ranks of this group form an intercommunicator with the
    /// other group's ranks of that color (nil where the other group has none).
    public func split(color: Int, key: Int) throws(MPIError) -> Communicator? {
        try typedErrors {
            guard color >= 0 || color == MPI.undefined else {
                throw MPIError(.invalidArgument, "split: color \(color) must be non-negative or MPI.undefined")
            }
            if let remoteGroup = state.remoteGroup { return try interSplit(remoteGroup, color: color, key: key) }
            let agreed = try agreeOnContext()
            let everyone = try allgather([color, key])
            guard color != MPI.undefined else { return nil }
            var members = (0..<size).filter { everyone[2 * $0] == color }
            members.sort { a, b in
                let keyA = everyone[2 * a + 1], keyB = everyone[2 * b + 1]
                return keyA != keyB ? keyA < keyB : a < b
            }
            let group = Group(worldRanks: members.map(worldRank), myWorldRank: self.group.myWorldRank)
            return Communicator(runtime: runtime, state: childState((agreed.context, agreed.channel), group: group))
        }
    }

    /// The communicator of `group`, a subset of this one (MPI_Comm_create); nil on ranks outside it.
    /// Collective over this communicator; every rank must pass the same group. On an
    /// intercommunicator each group passes a group of its own ranks, and the result joins the two
    /// (nil where either is empty).
    public func create(group: Group) throws(MPIError) -> Communicator? {
        try typedErrors {
            let mine = Set(self.group.worldRanks)
            guard group.worldRanks.allSatisfy(mine.contains) else {
                throw MPIError(.invalidArgument, "create: the group has processes outside this communicator")
            }
            if let remoteGroup = state.remoteGroup {
                // Each side passes a group of its own ranks; their members, in group order, are joined.
                let position = group.rank
                return try interSplit(remoteGroup, color: position == nil ? MPI.undefined : 0, key: position ?? 0)
            }
            let agreed = try agreeOnContext()
            guard group.rank != nil else { return nil }
            return Communicator(runtime: runtime, state: childState((agreed.context, agreed.channel), group: group))
        }
    }

    /// Splits by kind; `.shared` gives the ranks of the caller's host (MPI_Comm_split_type).
    public func splitType(_ type: SplitType, key: Int = 0) throws(MPIError) -> Communicator? {
        try typedErrors {
            let host = try runtime.withEngine("splitType") { engine in engine.hostIndex }
            return try split(color: host, key: key)
        }
    }

    /// How this communicator relates to `other` (MPI_Comm_compare).
    public func compare(_ other: Communicator) -> Group.Comparison {
        if state === other.state { return .identical }
        switch group.compare(other.group) {
        case .identical: return .congruent
        case let relation: return relation
        }
    }

    /// Releases the communicator (MPI_Comm_free): values stored under ``AttributeKey``s are deleted
    /// (their keys' `delete` runs, newest first), the communicator is marked freed, and its context
    /// ids go back to this process's free ones: a communicator created once every member has freed
    /// it may take them again (so creating and freeing communicators in a loop uses no more ids).
    /// Complete its operations first, as MPI requires; later calls on it are erroneous. Freeing twice
    /// does nothing twice; the world and `MPI.commSelf` are never released.
    ///
    /// Returns how many messages sent to this process on the communicator no receive took: they
    /// are dropped (a later communicator may take the same context), and a sender still waiting
    /// for one (a synchronous or large send) fails instead of waiting forever. Nonzero means the
    /// program left a message unreceived; the C interface's MPI_Comm_free reports it as an error.
    @discardableResult
    public func free() -> Int {
        guard !state.isFreed else { return 0 }
        deleteAllAttributes()
        state.isFreed = true
        var dropped = 0
        _ = try? runtime.withEngine("free") { engine in
            // (The world and commSelf stay usable: their messages stay.)
            if state.context != 0 && state.context != runtime.selfCommunicator?.context {
                engine.progress()  // what already arrived (a ring or socket not read yet) counts too
                dropped = engine.discardUnreceived(onContext: state.context)
                if let local = state.localGroupState { dropped += engine.discardUnreceived(onContext: local.context) }
            }
            // In recovery mode a communicator whose members agreed among themselves keeps its ids:
            // a member still in its last agreement may yet ask this rank for the decision
            // (Engine+Agreement.swift), which a communicator taking the pair again would confuse.
            if engine.recovery.enabled && engine.agreedAmongMembers(onPairOf: state.context) { return }
            engine.contextIds.release(state.context)  // the world's and commSelf's are kept
            if let local = state.localGroupState { engine.contextIds.release(local.context) }  // an intercommunicator's own
            if state.context != 0 {  // a pair taken again starts unrevoked, with no members or links left
                engine.forgetRecoveryState(of: state.context)
                if let local = state.localGroupState { engine.forgetRecoveryState(of: local.context) }
            }
        }
        return dropped
    }

    // MARK: - Attributes

    /// Caches `value` on the communicator under its type (the Swift form of MPI attributes): a library
    /// stores its per-communicator state here and finds it again with ``attribute(_:)``.
    public func setAttribute<Value>(_ value: Value) {
        state.attributes[ObjectIdentifier(Value.self)] = value
    }

    /// The value cached under `type`, if any.
    public func attribute<Value>(_ type: Value.Type) -> Value? {
        state.attributes[ObjectIdentifier(Value.self)] as? Value
    }

    /// Removes the value cached under `type`.
    public func removeAttribute<Value>(_ type: Value.Type) {
        state.attributes[ObjectIdentifier(Value.self)] = nil
    }
}

/// The buffers of a nonblocking context agreement (``Communicator/startDup()``), alive until the
/// requests that read and write them are done with them.
private final class DupAgreement {
    let maxima: UnsafeMutableBufferPointer<Int>
    let maximaResult: UnsafeMutableBufferPointer<Int>
    let mask: UnsafeMutableBufferPointer<UInt64>
    let maskResult: UnsafeMutableBufferPointer<UInt64>

    init(_ proposal: (mask: [UInt64], maxima: [Int])) {
        maxima = .allocate(capacity: proposal.maxima.count)
        _ = maxima.initialize(from: proposal.maxima)
        maximaResult = .allocate(capacity: proposal.maxima.count)
        maximaResult.initialize(repeating: 0)
        mask = .allocate(capacity: proposal.mask.count)
        _ = mask.initialize(from: proposal.mask)
        maskResult = .allocate(capacity: proposal.mask.count)
        maskResult.initialize(repeating: 0)
    }

    deinit {
        maxima.deallocate()
        maximaResult.deallocate()
        mask.deallocate()
        maskResult.deallocate()
    }
}
