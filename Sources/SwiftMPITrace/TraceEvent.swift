/// One rank's record of a traced job (`swiftmpirun --trace DIR`, `--profile`): what the rank did, on
/// its own clock, and how that clock relates to rank 0's.
///
/// The runtime records events into a fixed ring in memory (nothing is written while the job runs);
/// at `MPI.finalize()` and `MPI.abort` it encodes them with ``TraceFile`` into `DIR/rank.N.trace`.
/// ``PerfettoTrace`` merges the ranks into one trace-event JSON file and ``Profile`` sums them up.
/// This module is shared by the runtime and the launcher and depends on neither.
package struct RankTrace: Equatable, Sendable {
    /// The rank in the world communicator.
    package var rank: Int
    /// The number of ranks in the job.
    package var size: Int
    /// The host the rank ran on.
    package var host: String
    /// When the rank's runtime started and stopped recording (`MPI.initialize()` and
    /// `MPI.finalize()`, or the abort), in nanoseconds of the rank's monotonic clock.
    package var started: UInt64
    package var ended: UInt64
    /// Events the ring had no room for: the oldest are kept, later ones are counted here.
    package var dropped: Int
    /// Nanoseconds to add to this rank's times to get rank 0's clock (0 on rank 0), and the half
    /// round trip of the best measurement, which bounds the error.
    package var clockOffset: Int64
    package var clockUncertainty: UInt64
    /// The events in the order they were recorded.
    package var events: [TraceEvent]

    /// A rank's record.
    package init(
        rank: Int, size: Int, host: String = "", started: UInt64 = 0, ended: UInt64 = 0, dropped: Int = 0, clockOffset: Int64 = 0,
        clockUncertainty: UInt64 = 0, events: [TraceEvent] = []
    ) {
        self.rank = rank
        self.size = size
        self.host = host
        self.started = started
        self.ended = ended
        self.dropped = dropped
        self.clockOffset = clockOffset
        self.clockUncertainty = clockUncertainty
        self.events = events
    }

    /// `time` of this rank's clock on rank 0's clock.
    package func aligned(_ time: UInt64) -> Int64 { Int64(bitPattern: time) &+ clockOffset }
}

/// One thing a rank did.
package struct TraceEvent: Equatable, Sendable {
    /// What the event is.
    package enum Kind: String, Sendable {
        /// A call of the MPI API, as the user wrote it (`send`, `recv`, `wait`, `allreduce`, …),
        /// from entry to return.
        case call = "C"
        /// A point-to-point message leaving this rank (`name`: its protocol and transport, such as
        /// `eager over shm`); `peer` is the destination.
        case send = "S"
        /// A point-to-point message matched by a receive of this rank (`name`: how its data came,
        /// such as `rendezvous (single copy) over shm`); `peer` is its source.
        case receive = "R"
        /// A region of the user's own (`MPI.traceRegion("solve") { … }`).
        case region = "G"
    }

    package var kind: Kind
    /// The call's or region's name, or for messages the protocol.
    package var name: String
    /// The communicator's context id (even: point-to-point; odd: its collectives' context).
    package var context: UInt32
    /// The partner as a world rank (destination, source, or a collective's root); -1 when none,
    /// -2 for `MPI.anySource`.
    package var peer: Int
    /// The tag; -1 when none.
    package var tag: Int
    /// The bytes the call or message moves (for a collective: this rank's contribution).
    package var bytes: Int
    /// Start and end in nanoseconds of the rank's monotonic clock (equal for messages).
    package var start: UInt64
    package var end: UInt64

    /// An event.
    package init(_ kind: Kind, _ name: String, context: UInt32 = 0, peer: Int = -1, tag: Int = -1, bytes: Int = 0, start: UInt64, end: UInt64) {
        self.kind = kind
        self.name = name
        self.context = context
        self.peer = peer
        self.tag = tag
        self.bytes = bytes
        self.start = start
        self.end = end
    }

    /// The context of calls that belong to no communicator (waits on requests).
    package static let noCommunicator: UInt32 = 0xFFFF_FFFE

    /// The communicator as reports name it: `world`, `comm <context>`, or `-` for none.
    package var communicator: String {
        let base = context & ~1
        return base == 0 ? "world" : base == Self.noCommunicator ? "-" : "comm \(base)"
    }
}

extension RankTrace {
    /// `traces` in rank order with one trace per rank (the first given for a rank wins): what every
    /// merge works on, so that two files claiming one rank cannot mix their events.
    package static func distinct(_ traces: [RankTrace]) -> [RankTrace] {
        var seen = Set<Int>()
        return traces.filter { seen.insert($0.rank).inserted }.sorted { $0.rank < $1.rank }
    }
}
