#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import SwiftMPITransport

/// The point-to-point engine: matching, send protocols and progress, written once for every transport.
///
/// Matching lives here and only here. Transports move packets (``WireKind``) and, where they can,
/// read or write a peer's memory; the route to each peer is chosen once at start-up (``Routes``) and
/// the protocol thresholds follow from what its transport reports. MPI's ordering rules follow from
/// three facts: each route delivers a peer's packets in order, arrived packets are matched against
/// posted receives in post order, and unmatched ones are queued in arrival order (``unexpected``),
/// where new receives search first.
///
/// The engine's jobs, one file each:
///
/// | file                        | job                                                         |
/// |-----------------------------|-------------------------------------------------------------|
/// | Engine+Matching.swift       | posted and unexpected queues, probes                        |
/// | Engine+Send.swift           | protocol choice (one function), outboxes, send completion   |
/// | Engine+Eager.swift          | eager delivery                                              |
/// | Engine+Rendezvous.swift     | rendezvous: single copy, RDMA read, pipelined fragments     |
/// | Engine+SharedCopy.swift     | large shared-memory messages copied by both ranks           |
/// | Engine+Progress.swift       | polling, packet dispatch, waiting and the idle policy       |
/// | Engine+PeerFailure.swift    | failed peers and liveness                                   |
/// | Engine+Recovery.swift       | recovery mode: revoked communicators, failures' reach       |
/// | Engine+Agreement.swift      | recovery mode's revokes and agreements among the members    |
/// | Engine+OneSided.swift       | one-sided requests: windows served, replies received        |
/// | BufferedSendArea.swift      | the buffered-send allocator                                 |
///
/// Not thread-safe by itself: `Runtime` serializes calls when the thread level is `.multiple`.
///
/// The mutable state is marked `@exclusivity(unchecked)`: the engine is entered by one thread at a
/// time and never re-enters itself while it holds an access, so Swift's dynamic exclusivity checks
/// can never fire here, and they cost about a third of a 0-byte shared-memory ping-pong (measured
/// with perf: swift_beginAccess and its thread-local look-ups). Keep it that way: no callbacks into
/// user code while an access to this state is open.
final class Engine {
    /// Work a peer's transport had no room for, kept in order (backpressure as a value, not a wait).
    enum Outgoing {
        /// An eager message or a rendezvous offer.
        case message(SendOperation)
        /// A header-only reply (ack, clearToSend, share).
        case control(WireKind, MatchHeader)
        /// Data fragments of a pipelined rendezvous.
        case stream(SendOperation)
        /// A packet with a payload copied here because the transport had no room (one-sided requests
        /// and replies: ``Engine/sendPacket(_:_:_:to:)``).
        case packet(WireKind, MatchHeader, [UInt8])
    }

    let rank: Int
    let size: Int
    /// This process (named in rendezvous offers).
    let processID = getpid()
    /// The transports and the route to each peer.
    let routes: Routes
    /// Per peer: messages up to this many bytes go eagerly; larger ones by rendezvous.
    let eagerLimits: [Int]
    /// Per peer: the largest payload of one packet (data fragments of a pipelined rendezvous).
    let fragmentSizes: [Int]
    /// True when some route can sleep in the kernel until input arrives (idle waits use it).
    let canWaitForInput: Bool
    /// True when a long idle wait can sleep on the shared-memory doorbell.
    let sleepsOnSharedMemory: Bool
    /// A number for this rank's host, equal on ranks that share memory (for `splitType(.shared)`).
    @exclusivity(unchecked) var hostIndex = 0
    /// The world ranks on this host, by local rank (set at wire-up; empty for a singleton).
    var ranksOnThisHost: [Int] = []
    /// The job's hosts and each world rank's host: read at their first use (``Runtime/hostMap()``).
    var hostNames: [String] = []
    var hostOfRank: [Int] = []
    /// Peers whose connection failed, with the reason; every operation involving them fails.
    @exclusivity(unchecked) var failedPeers: [Int: String] = [:]
    /// True once any peer failed (one load on the eager path instead of the dictionary's count).
    @exclusivity(unchecked) var anyPeerFailed = false
    /// True once a peer failed or a communicator was revoked here: operations then look for the
    /// error they meet (``faultError(context:peer:_:)``), off the path of a healthy job. Set with the
    /// engine locked and never cleared; also read without the lock (a request's wait and a
    /// shared-memory collective step look before they lock, then look again), hence atomic: a
    /// relaxed load, a plain load on x86.
    var anyFault: Bool {
        @inline(__always) get { anyFaultFlag.load(ordering: .relaxed) }
        set { anyFaultFlag.store(newValue, ordering: .relaxed) }
    }
    private let anyFaultFlag = Atomic<Bool>(false)
    /// True once a peer's failure gave the launcher its moment to end the job (``giveLauncherTimeToEndJob()``).
    @exclusivity(unchecked) var waitedForLauncher = false
    /// Rendezvous messages from this many bytes are read from the sender's memory where the route
    /// reads peer memory at once (Cross Memory Attach), when allowed.
    /// (Changed through the control variable `SWIFTMPI_SINGLE_COPY_THRESHOLD`, between calls.)
    @exclusivity(unchecked) var singleCopyThreshold: Int
    /// False once a read of peer memory was forbidden by the system (or when disabled).
    @exclusivity(unchecked) var singleCopyAllowed: Bool
    /// Rendezvous messages on shared memory from ``SharedCopy/threshold`` bytes are copied by both
    /// ranks (when single copies are allowed); false when turned off (`SWIFTMPI_SHARED_COPY=0`) —
    /// and on a sender whose write into a receiver failed, so it stops offering help.
    @exclusivity(unchecked) var sharedCopyAllowed = true
    /// This rank's copy-board descriptors not in use, the copies in flight, and the last generation.
    @exclusivity(unchecked) var freeCopyDescriptors = Array((0..<SharedArea.copyDescriptorCount).reversed())
    @exclusivity(unchecked) var sharedCopies: [SharedCopy] = []
    /// Sender: `share` requests not yet helped with, oldest first (helped with only when idle).
    @exclusivity(unchecked) var helpRequests: [(header: MatchHeader, peer: Int)] = []
    @exclusivity(unchecked) var copyGeneration: UInt32 = 0
    /// What shared copies did here (printed at finalize with `SWIFTMPI_DEBUG=1`).
    @exclusivity(unchecked) var sharedCopyCounts = (received: 0, chunksRead: 0, chunksWritten: 0)
    /// Non-contiguous messages received by scattered reads, and packed fragments sent (`SWIFTMPI_DEBUG=1`).
    @exclusivity(unchecked) var typedCounts = (scatteredReads: 0, packedFragments: 0)
    /// True when waiting ranks must yield the CPU (oversubscribed, or asked to).
    let yieldWhenIdle: Bool

    @exclusivity(unchecked) var posted = ReceiveQueue(capacity: 64)
    @exclusivity(unchecked) var unexpected: [UnexpectedMessage] = []
    @exclusivity(unchecked) var waitingSends = OperationTable<SendOperation>()
    @exclusivity(unchecked) var waitingReceives = OperationTable<ReceiveOperation>()
    @exclusivity(unchecked) var outboxes: [[Outgoing]]
    @exclusivity(unchecked) var outboxCount = 0
    /// While ``drainOutboxes()`` transmits: the items at the front of the queue it is draining that
    /// are already sent (they leave the queue together when it stops); 0 otherwise.
    @exclusivity(unchecked) var outboxSentAhead = 0
    @exclusivity(unchecked) var sendPool = ReferenceStack<SendOperation>(capacity: 16)
    @exclusivity(unchecked) var receivePool = ReferenceStack<ReceiveOperation>(capacity: 16)
    @exclusivity(unchecked) var bufferedArea: BufferedSendArea?
    /// Recently made requests, reused once nobody else holds them (``Request/make(_:send:status:)``).
    /// (A raw buffer, not an array: an array's copy-on-write check on every store cost ~7% of 8-byte
    /// message rate.)
    let requestPool: UnsafeMutablePointer<Request?> = {
        let pool = UnsafeMutablePointer<Request?>.allocate(capacity: Request.poolSize)
        pool.initialize(repeating: nil, count: Request.poolSize)
        return pool
    }()
    @exclusivity(unchecked) var requestCursor = 0
    /// The runtime that owns this engine (requests refer to it); set once at start, nil for engines
    /// driven directly (tests). Weak would cost an atomic load per request; `unowned(unsafe)` is
    /// safe because the runtime owns the engine and outlives every use of this reference: the engine
    /// is reached only through its runtime (or, in tests, without one, when this stays nil).
    unowned(unsafe) var runtime: Runtime?
    @exclusivity(unchecked) var warnedAboutReadySend = false
    /// The context ids and collective channels this process hands to new communicators.
    @exclusivity(unchecked) var contextIds = ContextIds()
    /// The job's id (names shared-memory segments of one-sided windows); set at wire-up.
    var jobID = "singleton-\(getpid())"
    /// The one-sided windows of this rank by context id (``Engine/sendPacket(_:_:_:to:)``), and how
    /// many of them have lock requests waiting (retried while progressing).
    @exclusivity(unchecked) var windows: [UInt32: WindowState] = [:]
    @exclusivity(unchecked) var windowsWithWaitingLocks = 0
    /// The nonblocking collectives that have not completed, advanced by every progress call
    /// (``advanceSchedules()``), and whether that is under way (a step may progress).
    @exclusivity(unchecked) var nonblockingSchedules: [CollectiveSchedule] = []
    @exclusivity(unchecked) var advancingSchedules = false
    /// Windows that read and write peers' memory with the transport (RDMA), by their slot in the
    /// tokens of those transfers (``WindowState/RemoteAccess``).
    @exclusivity(unchecked) var remoteAccessWindows: [WindowState?] = []

    /// Scratch memory for packing non-contiguous messages (grown on demand), and the segment lists of
    /// scattered reads (``segmentBatch`` local, then as many remote); allocated on first use.
    @exclusivity(unchecked) var packStorage = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    @exclusivity(unchecked) var segmentStorage = UnsafeMutableBufferPointer<MemorySegment>(start: nil, count: 0)
    // Observers last, so that the fields the message path uses keep their places (and cache lines).
    /// The recorder of `--trace`/`--profile`, which sees user point-to-point messages leave and
    /// match; nil when off (set and cleared by the runtime, between calls).
    @exclusivity(unchecked) var tracer: Tracer? { didSet { observing = tracer != nil || counters != nil } }
    /// The per-transport message counters while a performance-variable handle counts them; nil
    /// otherwise (``PerformanceCounters``).
    @exclusivity(unchecked) var counters: PerformanceCounters? { didSet { observing = tracer != nil || counters != nil } }
    /// True while a tracer or the counters watch messages: the message path's one test.
    @exclusivity(unchecked) var observing = false
    /// The process's other performance counts (always kept: rendezvous sends, unexpected arrivals).
    let statistics = PerformanceCounters.shared
    /// Revoked communicators, acknowledged failures, agreements (recovery mode; Engine+Recovery.swift):
    /// last, with the other state the message path never touches.
    let recovery = RecoveryState()

    deinit {
        packStorage.deallocate()
        segmentStorage.deallocate()
        posted.release()
        sendPool.release()
        receivePool.release()
        requestPool.deinitialize(count: Request.poolSize)
        requestPool.deallocate()
    }

    init(rank: Int, routes: Routes, singleCopyAllowed: Bool, singleCopyThreshold: Int, yieldWhenIdle: Bool) {
        self.rank = rank
        self.size = routes.count
        self.routes = routes
        // Limits are data the transports report; the protocol thresholds follow from them, once.
        self.fragmentSizes = routes.capabilities.map(\.maxPayload)
        self.eagerLimits = routes.capabilities.map(\.eagerLimit)
        self.canWaitForInput = routes.canWaitForInput
        self.sleepsOnSharedMemory = routes.canSleepOnSharedMemory
        self.singleCopyThreshold = singleCopyThreshold
        self.singleCopyAllowed = singleCopyAllowed
        self.yieldWhenIdle = yieldWhenIdle
        self.outboxes = Array(repeating: [], count: routes.count)
        unexpected.reserveCapacity(64)
    }

    // MARK: - Pools

    /// At least `byteCount` bytes of scratch memory for packing, valid until the next call.
    func packScratch(_ byteCount: Int) -> UnsafeMutableRawBufferPointer {
        if packStorage.count < max(byteCount, 1) {
            packStorage.deallocate()
            packStorage = .allocate(byteCount: max(byteCount, 4096, packStorage.count * 2), alignment: 16)
        }
        return packStorage
    }

    /// The segment lists of a scattered read: [0, segmentBatch) local, then remote.
    var segmentScratch: UnsafeMutableBufferPointer<MemorySegment> {
        if segmentStorage.count == 0 { segmentStorage = .allocate(capacity: 2 * Self.segmentBatch) }
        return segmentStorage
    }

    @inline(__always)
    func makeSend() -> SendOperation {
        let operation = sendPool.pop() ?? SendOperation()
        operation.reset()
        return operation
    }

    @inline(__always)
    func recycle(_ operation: consuming SendOperation) {
        operation.reset()
        sendPool.push(operation)
    }

    @inline(__always)
    func makeReceive() -> ReceiveOperation {
        let operation = receivePool.pop() ?? ReceiveOperation()
        operation.reset()
        return operation
    }

    @inline(__always)
    func recycle(_ operation: consuming ReceiveOperation) {
        operation.reset()
        operation.isComplete = true
        receivePool.push(operation)
    }
}
