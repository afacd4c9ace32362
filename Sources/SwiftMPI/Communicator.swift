/// A group of ranks and a private context in which they exchange messages (MPI_Comm).
///
/// A message sent on one communicator never matches a receive on another: every packet carries the
/// communicator's context id. A `Communicator` is a small value, `Sendable`; calls from several
/// threads at once need `MPI.initialize(threadLevel: .multiple)`.
public struct Communicator: Sendable {
    /// This process's rank in the communicator, in `0..<size`.
    public let rank: Int
    /// The number of ranks in the communicator.
    public let size: Int
    let runtime: Runtime
    /// The context id of this communicator's point-to-point traffic; collective traffic uses
    /// `context + 1` (``collectiveChannel``), so the two can never match each other.
    let context: UInt32
    let state: CommunicatorState
    /// How many ranks point-to-point calls address: `size`, or on an intercommunicator the remote
    /// group's size.
    let peerCount: Int

    init(runtime: Runtime, state: CommunicatorState, context: UInt32? = nil) {
        self.runtime = runtime
        self.state = state
        self.context = context ?? state.context
        self.rank = state.group.rank!
        self.size = state.group.size
        self.peerCount = state.worldRanks.count
    }

    /// The world rank of peer `rank` (of the remote group on an intercommunicator).
    @inline(__always)
    func worldRank(_ rank: Int) -> Int { state.worldRanks[rank] }

    /// The context id of this communicator's point-to-point traffic, for the package's own checks
    /// (that `free()` lets ids be reused).
    package var contextId: UInt32 { context }

    /// The same communicator on its private collective context.
    var collectiveChannel: Communicator { Communicator(runtime: runtime, state: state, context: state.context + 1) }

    /// The communicator's group (MPI_Comm_group).
    public var group: Group { state.group }

    // MARK: - Argument checks shared by every call

    /// Checks a destination; returns false for `MPI.procNull` (the call then completes at once).
    @inline(__always)
    func checkDestination(_ destination: Int, _ call: StaticString) throws -> Bool {
        if destination >= 0 && destination < peerCount { return true }
        if destination == MPI.procNull { return false }
        throw MPIError(.invalidRank, "\(call): destination rank \(destination) is outside 0..<\(peerCount)")
    }

    /// Checks a source (ranks, `MPI.anySource`); returns false for `MPI.procNull`.
    @inline(__always)
    func checkSource(_ source: Int, _ call: StaticString) throws -> Bool {
        if (source >= 0 && source < peerCount) || source == MPI.anySource { return true }
        if source == MPI.procNull { return false }
        throw MPIError(.invalidRank, "\(call): source rank \(source) is outside 0..<\(peerCount) and not MPI.anySource")
    }

    @inline(__always)
    func checkSendTag(_ tag: Int, _ call: StaticString) throws {
        // (The private collective context takes negative tags too: partitioned messages use them.)
        guard (tag >= 0 && tag <= MPI.tagUpperBound) || context != state.context else {
            throw MPIError(.invalidTag, "\(call): tag \(tag) is outside 0...\(MPI.tagUpperBound)")
        }
    }

    @inline(__always)
    func checkReceiveTag(_ tag: Int, _ call: StaticString) throws {
        guard (tag >= 0 && tag <= MPI.tagUpperBound) || tag == MPI.anyTag || context != state.context else {
            throw MPIError(.invalidTag, "\(call): tag \(tag) is outside 0...\(MPI.tagUpperBound) and not MPI.anyTag")
        }
    }

    @inline(__always)
    func envelope(tag: Int) -> Envelope {
        Envelope(context: context, source: Int32(truncatingIfNeeded: rank), tag: Int32(truncatingIfNeeded: tag))
    }

    /// What a receive or probe from `source` (or `MPI.anySource`) with `tag` (or `MPI.anyTag`) on this
    /// communicator accepts.
    @inline(__always)
    func pattern(source: Int, tag: Int) -> MatchPattern {
        MatchPattern(context: context, source: Int32(truncatingIfNeeded: source), tag: Int32(truncatingIfNeeded: tag))
    }
}

/// What all handles of one communicator share: its context id, group, topology, attributes, and the
/// sequence number that tags its collectives.
///
/// Sendable because its `let` properties never change and its mutable ones (the collective sequence
/// number, attributes, the freed flag) are changed only under the engine's lock at thread level
/// `.multiple` (inside `Runtime.withEngine`, or, for attributes, `withAttributes`); MPI allows one
/// thread at a time below it.
final class CommunicatorState: @unchecked Sendable {
    let context: UInt32
    /// The intra-host collective channel agreed on at creation (nil: none, for a communicator of
    /// one process); see ``ContextIds``.
    let channel: Int?
    let group: Group
    /// The world rank of each point-to-point peer: the group's, or the remote group's on an
    /// intercommunicator.
    let worldRanks: [Int]
    /// An intercommunicator's other group (nil on an intracommunicator).
    let remoteGroup: Group?
    /// An intercommunicator's private intracommunicator over its local group.
    let localGroupState: CommunicatorState?
    var topology: CartesianTopology?
    var graph: GraphTopology?
    /// The name set with ``Communicator/name`` (nil: the default).
    var name: String?
    var attributes: [ObjectIdentifier: Any] = [:]
    /// Values stored under ``AttributeKey``s, in the order they were set.
    var keyedAttributes: [KeyedAttribute] = []
    var isFreed = false
    /// What calls on the communicator do with their errors (``Communicator/errorHandler``).
    var errorHandler = ErrorHandler.throwing
    /// Set by the hint ``Communicator/sharedMemoryCollectivesHint`` = `false` (agreed by all members).
    var messageCollectivesOnly = false
    /// Incremented by every collective call (all ranks call collectives in the same order).
    var collectiveSequence = 0
    /// How many partitioned requests this process made here, by direction, peer and tag: the
    /// k-th matches the peer's k-th for the same pair and tag (PartitionedRequests.swift).
    var partitionedInits: [PartitionedPeer: Int] = [:]
    @exclusivity(unchecked) private var sharedChannelResolved = false
    @exclusivity(unchecked) private var sharedChannel: SharedCollectiveChannel?

    init(context: UInt32, channel: Int?, group: Group, topology: CartesianTopology? = nil) {
        self.context = context
        self.channel = channel
        self.group = group
        self.worldRanks = group.worldRanks
        self.topology = topology
        self.remoteGroup = nil
        self.localGroupState = nil
        CommunicatorMembers.record(context, worldRanks)
    }

    /// An intercommunicator's state: point-to-point peers are `remoteGroup`'s ranks; collectives run
    /// within the local group on `localGroupState` (a private intracommunicator) and between the
    /// groups' leaders on `context + 1`.
    init(context: UInt32, group: Group, remoteGroup: Group, localGroupState: CommunicatorState) {
        self.context = context
        self.channel = nil
        self.group = group
        self.worldRanks = remoteGroup.worldRanks
        self.topology = nil
        self.remoteGroup = remoteGroup
        self.localGroupState = localGroupState
        // Point-to-point peers are the remote group's; its collectives' local phase runs on the local
        // group's own communicator, revoked with it.
        CommunicatorMembers.record(context, remoteGroup.worldRanks, linked: localGroupState.context)
    }

    /// The intra-host collective fast path, or nil if this communicator does not qualify; looked up
    /// at the first blocking collective (all ranks decide alike; see ``SharedCollectiveChannel``).
    @inline(__always)
    func sharedCollectiveChannel(_ runtime: Runtime) -> SharedCollectiveChannel? {
        if sharedChannelResolved { return sharedChannel }
        sharedChannelResolved = true
        guard runtime.sharedCollectives else { return nil }
        guard let channel else { return nil }
        sharedChannel =
            messageCollectivesOnly
            ? nil
            : SharedCollectiveChannel.make(engine: runtime.engine, channel: channel, context: context, worldRanks: worldRanks, rank: group.rank ?? 0)
        if runtime.debug {
            report(
                "rank \(runtime.rank): communicator of context \(context) (\(worldRanks.count) ranks): small collectives "
                    + "\(sharedChannel == nil ? "by messages" : "through shared memory")"
            )
        }
        return sharedChannel
    }
}
