import CShims
import SwiftMPIWireup
#if canImport(Glibc)
import Glibc
#endif

/// Moves packets between the ranks of one host through shared memory, and copies large messages
/// straight from a peer's memory with Cross Memory Attach where the kernel allows it.
///
/// Each rank owns one segment, `/dev/shm/swiftmpi-<job>-<local rank>` (mode 0600), holding one
/// ``SlotRing`` per sending peer: the ring from local rank `s` starts at `s * ringBytes`, followed by
/// a *shared area* whose size and layout belong to the layer above (the engine keeps its collective
/// channels and copy board there; ``sharedArea(ofPeer:)``). Peers attach to each other's segments
/// during wire-up; then every rank unlinks all their names, so nothing is left in /dev/shm whichever way
/// the job ends (the launcher also removes stale names of its job).
///
/// ```
///  segment of local rank r
///  ┌───────────────────┬───────────────────┬─────┬────────────────────────┬─────────────────────────┐
///  │ ring from rank 0  │ ring from rank 1  │ ... │ ring from rank size-1  │ shared area             │
///  │ (slotCount slots) │                   │     │ (own index: unused)    │ (sharedAreaBytes, 64-B  │
///  │                   │                   │     │                        │  aligned, zero-filled)  │
///  └───────────────────┴───────────────────┴─────┴────────────────────────┴─────────────────────────┘
/// ```
///
/// Peers are named by world rank (``attachPeers(worldRankOfLocal:worldSize:pids:)`` gives the mapping); a
/// transport created for tests without one numbers peers by local rank.
public final class SharedMemoryTransport: Transport {
    /// Slots per ring and bytes per slot while a host has few ranks: 64 × (16 KiB + 64 B) ≈ 1 MiB
    /// per ordered pair of ranks (``ringShape(localSize:budget:)`` shrinks them as the host fills up).
    public static let defaultSlotCount = 64
    /// Bytes per slot (header and payload) while a host has few ranks.
    public static let defaultStride = 16 * 1024 + 64
    /// The most bytes of inbound rings one rank's segment holds before ``ringShape(localSize:budget:)``
    /// shrinks each ring; a ring never shrinks below ``minimumSlotCount`` slots of 4 KiB.
    public static let inboundRingBudget = 4 * 1024 * 1024
    /// The fewest slots a ring keeps.
    public static let minimumSlotCount = 4
    /// The slots per ring and the bytes per slot on a host of `localSize` ranks, the same for every
    /// rank of the host. Rings from every other rank of the host share a budget of `budget` bytes
    /// per rank (``inboundRingBudget``, 4 MiB, unless `SWIFTMPI_SHM_RING_BUDGET` says otherwise): up to 4 ranks each ring keeps 64 slots of 16 KiB; beyond,
    /// the slot count halves (down to 8 slots: 16 ranks have 16), then the slot payload (16 → 8 → 4 KiB:
    /// 33 and 65 ranks), then the slot count again down to ``minimumSlotCount`` (from 66 ranks) — so
    /// a rank's rings take at most
    /// max(4 MiB, (localSize − 1) × 4 × (4 KiB + 64 B)): O(N) per rank with a 16.25 KiB term per pair,
    /// where one ring of 1 MiB per pair made a host's rings grow as N² MiB (docs/Design.md,
    /// "Memory per rank"). Messages larger than a slot go by rendezvous (a single copy with Cross
    /// Memory Attach, or fragments through the ring without it), so the smaller slots of a full host
    /// change which protocol carries a 4–16 KiB message, not whether it arrives.
    public static func ringShape(localSize: Int, budget: Int = inboundRingBudget) -> (slotCount: Int, stride: Int) {
        let senders = max(1, localSize - 1)
        var slots = defaultSlotCount
        var payload = defaultStride - SlotRing.slotHeaderLength
        func ringBytes() -> Int { senders * slots * (payload + SlotRing.slotHeaderLength) }
        while ringBytes() > budget && slots > 8 { slots /= 2 }
        while ringBytes() > budget && payload > 4 * 1024 { payload /= 2 }
        while ringBytes() > budget && slots > minimumSlotCount { slots /= 2 }
        return (slots, payload + SlotRing.slotHeaderLength)
    }
    /// Up to this many ranks on a host, every ring's slot headers are mapped at start (one page per
    /// slot; 16 ranks, 16 slots per ring, commit 15 MiB of /dev/shm in all) instead of at their first
    /// message; beyond it that memory would grow with the square of the ranks (a container's default
    /// /dev/shm is 64 MiB), so slots fault in when used.
    public static let prefaultLimit = 16

    /// This rank's index among the ranks of its host.
    public let localRank: Int
    /// The number of ranks on this host.
    public let localSize: Int
    // The rings' private indices live in manually allocated memory, not in Swift arrays: a mutating
    // access to an array property of a class stays open across the `deliver` callback and so costs a
    // dynamic exclusivity check per message (measured: about a third of a 0-byte ping-pong).
    @usableFromInline let inbound: UnsafeMutableBufferPointer<SlotRing>  // index: sender's local rank
    @exclusivity(unchecked) @usableFromInline var outbound: UnsafeMutableBufferPointer<SlotRing>  // index: receiver's local rank
    @exclusivity(unchecked) @usableFromInline var pollStart = 0
    /// The world rank of each local rank, and the local rank of each world rank (-1: not on this host).
    @exclusivity(unchecked) @usableFromInline var worldRankOfLocal: UnsafeMutableBufferPointer<Int>
    @exclusivity(unchecked) @usableFromInline var localRankOfWorld: UnsafeMutableBufferPointer<Int>
    /// The process id of each local rank (for Cross Memory Attach and liveness checks).
    private var pids: [Int32]
    private let ownName: String
    private let segmentBytes: Int
    private let ringsBytes: Int
    private let sharedAreaBytes: Int
    private let ownSegment: UnsafeMutableRawPointer
    /// Each local rank's doorbell, a 32-bit word after the rings of its segment: 1 while that rank
    /// sleeps in ``waitForInput(milliseconds:)`` (a futex), so a sender that fills one of its rings
    /// wakes it. Indexed by local rank; empty until ``attachPeers(worldRankOfLocal:worldSize:pids:)``.
    @exclusivity(unchecked) @usableFromInline var doorbells = UnsafeMutableBufferPointer<UnsafeMutablePointer<UInt32>>(start: nil, count: 0)
    /// Bytes after the rings for the doorbell (a cache line of its own), which also holds what a
    /// rank tells the ranks of its host at wire-up: its process id (offset 8, ``adoptPublishedPIDs()``)
    /// and a probe address (offset 16, ``publishProbeAddress(_:)``).
    static let doorbellBytes = 64
    static let pidOffset = 8
    static let probeOffset = 16
    private var peerSegments: [UnsafeMutableRawPointer?]
    private var unlinked = false
    private let slotCount: Int
    private let stride: Int

    /// The shape of every ring of this host: slots per ring and bytes per slot.
    public var ringShape: (slotCount: Int, stride: Int) { (slotCount, stride) }

    /// Packets up to one slot's payload; reads and writes of peer memory with Cross Memory Attach.
    public var capabilities: TransportCapabilities {
        TransportCapabilities(
            name: "shm", maxPayload: stride - SlotRing.slotHeaderLength, peerRead: .immediate, peerWrite: .immediate,
            canWaitForInput: true, maxReadSegments: Self.maxSegmentsPerCall, maxWriteSegments: Self.maxSegmentsPerCall)
    }

    /// Creates this rank's segment. Peers attach later with ``attachPeers(worldRankOfLocal:worldSize:pids:)``.
    /// `sharedAreaBytes` are added after the rings for the layer above (``sharedArea(ofPeer:)``). The
    /// rings' shape is ``ringShape(localSize:budget:)``'s for `ringBudget` unless `slotCount` and
    /// `stride` say otherwise (every rank of the host must pass the same).
    public init(
        jobID: String, localRank: Int, localSize: Int, sharedAreaBytes: Int = 0,
        ringBudget: Int = inboundRingBudget, slotCount: Int? = nil, stride: Int? = nil
    ) throws(TransportError) {
        self.localRank = localRank
        self.localSize = localSize
        let shape = Self.ringShape(localSize: localSize, budget: ringBudget)
        let slotCount = slotCount ?? shape.slotCount
        let stride = stride ?? shape.stride
        self.slotCount = slotCount
        self.stride = stride
        let ringBytes = SlotRing.byteCount(slotCount: slotCount, stride: stride)
        ringsBytes = ringBytes * localSize
        self.sharedAreaBytes = (sharedAreaBytes + 63) / 64 * 64
        segmentBytes = ringsBytes + Self.doorbellBytes + self.sharedAreaBytes
        ownName = Self.segmentName(jobID: jobID, localRank: localRank)
        // From here until the name is unlinked, the death of the launcher that started this rank
        // removes the name instead of leaving it in /dev/shm (cshims_name_guard_begin; a no-op
        // for processes started without a parent-death signal; one guarded name per process).
        _ = cshims_name_guard_begin(ownName)
        var address: UnsafeMutableRawPointer?
        let error = cshims_segment_create(ownName, segmentBytes, &address)
        guard error == 0, let address else {
            cshims_name_guard_end()
            throw TransportError("cannot create shared-memory segment \(ownName) of \(segmentBytes) bytes", errno: error)
        }
        ownSegment = address
        inbound = .allocate(capacity: localSize)
        for index in 0..<localSize {
            (inbound.baseAddress! + index).initialize(to: SlotRing(base: address + index * ringBytes, slotCount: slotCount, stride: stride))
            if index != localRank && localSize <= Self.prefaultLimit { inbound[index].prefault() }
        }
        outbound = UnsafeMutableBufferPointer(start: nil, count: 0)
        peerSegments = Array(repeating: nil, count: localSize)
        worldRankOfLocal = .allocate(capacity: localSize)
        for index in 0..<localSize { worldRankOfLocal[index] = index }
        localRankOfWorld = .allocate(capacity: localSize)
        for index in 0..<localSize { localRankOfWorld[index] = index }
        pids = Array(repeating: 0, count: localSize)
        (address + ringsBytes + Self.pidOffset).storeBytes(of: getpid(), as: Int32.self)
    }

    /// Takes each local rank's process id from its segment (written when the segment was created),
    /// instead of from the `pids` of ``attachPeers(worldRankOfLocal:worldSize:pids:)``: wire-up then
    /// exchanges no process ids. Call after attaching.
    public func adoptPublishedPIDs() {
        for local in 0..<localSize {
            guard let segment = local == localRank ? ownSegment : peerSegments[local] else { continue }
            pids[local] = (segment + ringsBytes + Self.pidOffset).load(as: Int32.self)
        }
    }

    /// Publishes `address`, a word of this process's memory, for ranks of this host to read with
    /// Cross Memory Attach to find out whether the kernel lets them (``probeAddress(ofPeer:)``).
    public func publishProbeAddress(_ address: UInt64) {
        (ownSegment + ringsBytes + Self.probeOffset).storeBytes(of: address, as: UInt64.self)
    }

    /// The probe address `peer` (a world rank on this host) published, with its process id; nil when
    /// its segment is not mapped.
    public func probeAddress(ofPeer peer: Int) -> (address: UInt64, pid: Int32)? {
        guard peer >= 0, peer < localRankOfWorld.count else { return nil }
        let local = localRankOfWorld[peer]
        guard local >= 0, let segment = local == localRank ? ownSegment : peerSegments[local] else { return nil }
        return ((segment + ringsBytes + Self.probeOffset).load(as: UInt64.self), pids[local])
    }

    /// The segment name of `localRank` in job `jobID`.
    public static func segmentName(jobID: String, localRank: Int) -> String { SegmentNames.name(jobID: jobID, localRank: localRank) }

    /// Maps every peer's segment; call once all peers have created theirs (after a fence).
    /// `worldRankOfLocal[l]` is the world rank of local rank `l` (of `worldSize` ranks) and `pids[l]`
    /// its process id; without them peers are named by local rank and memory access uses no pid.
    public func attachPeers(worldRankOfLocal worldRanks: [Int]? = nil, worldSize: Int? = nil, pids: [Int32]? = nil) throws(TransportError) {
        if let worldRanks, let worldSize {
            // Every local rank must name a distinct world rank: a gap or a duplicate would attribute
            // packets to the wrong rank, or leave a peer without a ring.
            guard worldRanks.count == localSize, worldRanks.allSatisfy({ $0 >= 0 && $0 < worldSize }),
                Set(worldRanks).count == localSize
            else {
                throw TransportError("the world ranks of this host's \(localSize) local ranks are incomplete or repeated: \(worldRanks)")
            }
            localRankOfWorld.deallocate()
            localRankOfWorld = .allocate(capacity: worldSize)
            localRankOfWorld.initialize(repeating: -1)
            for (local, world) in worldRanks.enumerated() {
                worldRankOfLocal[local] = world
                localRankOfWorld[world] = local
            }
        }
        if let pids, pids.count == localSize { self.pids = pids }
        let ringBytes = SlotRing.byteCount(slotCount: slotCount, stride: stride)
        var rings: [SlotRing] = []
        for peer in 0..<localSize {
            let base: UnsafeMutableRawPointer
            if peer == localRank {
                base = ownSegment
            } else {
                let name = ownName.dropLast("\(localRank)".count) + "\(peer)"
                var address: UnsafeMutableRawPointer?
                let error = cshims_segment_attach(String(name), segmentBytes, &address)
                guard error == 0, let address else {
                    throw TransportError("cannot attach shared-memory segment \(name) of local rank \(peer)", errno: error)
                }
                peerSegments[peer] = address
                base = address
            }
            rings.append(SlotRing(base: base + localRank * ringBytes, slotCount: slotCount, stride: stride))
            if peer != localRank && localSize <= Self.prefaultLimit { rings[peer].prefault() }
        }
        let storage = UnsafeMutableBufferPointer<SlotRing>.allocate(capacity: rings.count)
        _ = storage.initialize(from: rings)
        outbound = storage
        let bells = UnsafeMutableBufferPointer<UnsafeMutablePointer<UInt32>>.allocate(capacity: localSize)
        for peer in 0..<localSize {
            let segment = peer == localRank ? ownSegment : peerSegments[peer]!
            (bells.baseAddress! + peer).initialize(to: (segment + ringsBytes).assumingMemoryBound(to: UInt32.self))
        }
        doorbells = bells
    }

    /// The shared area of the segment of the rank `peer` (this rank's own included), or nil if it
    /// is not on this host or not mapped: `sharedAreaBytes` (as created), 64-byte aligned and
    /// zero-filled at creation. What is stored there and who writes it is the caller's business.
    public func sharedArea(ofPeer peer: Int) -> UnsafeMutableRawPointer? {
        guard sharedAreaBytes > 0, peer >= 0, peer < localRankOfWorld.count else { return nil }
        let local = localRankOfWorld[peer]
        guard local >= 0, let segment = local == localRank ? ownSegment : peerSegments[local] else { return nil }
        return segment + ringsBytes + Self.doorbellBytes
    }

    /// Removes the segment names of every rank on this host (mappings stay valid); call once all
    /// peers have attached (after wire-up's last fence). Every rank removes them all, not only its
    /// own: a rank that passes the fence first and ends the job at once (`MPI.abort`) has then
    /// already removed the name of a peer killed before that peer's own removal ran.
    public func unlinkHostSegments() {
        unlinkOwnSegment()
        for peer in 0..<localSize where peer != localRank {
            _ = cshims_segment_unlink(String(ownName.dropLast("\(localRank)".count)) + "\(peer)")
        }
    }

    /// Removes this rank's segment name (mappings stay valid); call once all peers have attached.
    public func unlinkOwnSegment() {
        guard !unlinked else { return }
        unlinked = true
        _ = cshims_segment_unlink(ownName)
        cshims_name_guard_end()
    }

    deinit {
        unlinkOwnSegment()
        for case let segment? in peerSegments { _ = cshims_segment_unmap(segment, segmentBytes) }
        _ = cshims_segment_unmap(ownSegment, segmentBytes)
        inbound.deallocate()
        outbound.deallocate()
        doorbells.deallocate()
        worldRankOfLocal.deallocate()
        localRankOfWorld.deallocate()
    }

    /// Sends one packet to `peer` if its ring has room; false means no resources now: the caller
    /// keeps the packet and retries after progressing.
    @inlinable
    public func trySend(to peer: Int, kind: PacketKind, header: PacketHeader, payload: UnsafeRawBufferPointer) -> Bool {
        let local = localRankOfWorld[peer]
        guard outbound[local].tryWrite(kind: kind, header: header, payload: payload) else { return false }
        // A hint, read without ordering: a receiver about to sleep checks its rings after raising
        // its doorbell, and sleeps at most a millisecond, so a wake-up missed in that race costs at
        // most that (a fence here would cost every message more).
        if cshims_load_relaxed_u32(doorbells[local]) != 0 { ring(local) }
        return true
    }

    /// Wakes local rank `local`, asleep in ``waitForInput(milliseconds:)``.
    @usableFromInline
    func ring(_ local: Int) { _ = cshims_futex_wake(doorbells[local], 1) }

    /// Sleeps until a peer fills one of this rank's rings (it rings the doorbell) or `milliseconds`
    /// pass. The engine calls it only after a long idle spell (``TransportCapabilities/canWaitForInput``).
    public func waitForInput(milliseconds: Int32) {
        waitForInput(milliseconds: milliseconds, releasing: {}, retaking: {})
    }

    /// ``waitForInput(milliseconds:)`` for a caller that serializes this transport with a lock: the
    /// rings are read with it held, `release` runs just before the sleep and `retake` just after
    /// (both run once, also when a packet is already waiting), so other threads can use the
    /// transport meanwhile. The doorbell itself is a shared word: sleeping on it needs no lock.
    public func waitForInput(milliseconds: Int32, releasing release: () -> Void, retaking retake: () -> Void) {
        guard doorbells.count == localSize else {
            release()
            retake()
            return
        }
        let bell = doorbells[localRank]
        cshims_store_fenced_u32(bell, 1)
        var pending = false
        for local in 0..<localSize where local != localRank && inbound[local].hasPacket { pending = true }
        release()
        if !pending { _ = cshims_futex_wait(bell, 1, milliseconds) }
        retake()
        cshims_store_release_u32(bell, 0)
    }

    /// Hands arrived packets to `sink`, at most 16 per peer; returns how many were delivered.
    @inlinable
    public func poll<Sink: PacketSink>(into sink: Sink) -> Int {
        var delivered = 0
        let count = localSize
        var local = pollStart
        for _ in 0..<count {
            if local != localRank {
                var taken = 0
                let peer = worldRankOfLocal[local]
                while taken < 16, inbound[local].tryRead({ sink.deliver(from: peer, kind: $0, header: $1, payload: $2) }) { taken += 1 }
                delivered += taken
            }
            local = local + 1 == count ? 0 : local + 1
        }
        pollStart = pollStart + 1 == count ? 0 : pollStart + 1
        return delivered
    }

    /// Any memory of this process can be read by a peer on this host with Cross Memory Attach: no
    /// registration, the address is enough.
    public func expose(_ bytes: UnsafeRawBufferPointer) -> ExposedMemory? {
        ExposedMemory(remote: RemoteMemory(address: UInt64(UInt(bitPattern: bytes.baseAddress))))
    }

    /// Copies from `peer`'s memory with Cross Memory Attach (process_vm_readv), at once.
    public func read(from peer: Int, remote: RemoteMemory, into local: UnsafeMutableRawBufferPointer, token: UInt32) -> BulkResult {
        guard local.count > 0 else { return .completed }
        let error = cshims_cma_read(pid(of: peer), local.baseAddress!, UnsafeRawPointer(bitPattern: UInt(remote.address)), local.count)
        return Self.result(error)
    }

    /// Copies into `peer`'s memory with Cross Memory Attach (process_vm_writev), at once.
    public func write(to peer: Int, remote: RemoteMemory, from local: UnsafeRawBufferPointer, token: UInt32) -> BulkResult {
        guard local.count > 0 else { return .completed }
        let error = cshims_cma_write(pid(of: peer), UnsafeMutableRawPointer(bitPattern: UInt(remote.address)), local.baseAddress!, local.count)
        return Self.result(error)
    }

    /// process_vm_readv's limit (IOV_MAX): one system call per list.
    public static let maxSegmentsPerCall = 1024

    /// Copies scattered memory of `peer` into scattered local memory with one process_vm_readv.
    public func readSegments(
        from peer: Int, remote: UnsafeMutableBufferPointer<MemorySegment>, key: UInt32, into local: UnsafeMutableBufferPointer<MemorySegment>,
        token: UInt32
    ) -> BulkResult {
        segments(peer, local, remote, cshims_cma_readv)
    }

    /// Copies scattered local memory into scattered memory of `peer` with one process_vm_writev.
    public func writeSegments(
        to peer: Int, remote: UnsafeMutableBufferPointer<MemorySegment>, from local: UnsafeMutableBufferPointer<MemorySegment>
    ) -> BulkResult {
        segments(peer, local, remote, cshims_cma_writev)
    }

    /// Hands both segment lists to `copy` (cshims_cma_readv or cshims_cma_writev) for `peer`.
    private func segments(
        _ peer: Int, _ local: UnsafeMutableBufferPointer<MemorySegment>, _ remote: UnsafeMutableBufferPointer<MemorySegment>,
        _ copy: (pid_t, UnsafeMutablePointer<cshims_segment>?, Int, UnsafeMutablePointer<cshims_segment>?, Int) -> Int32
    ) -> BulkResult {
        guard !local.isEmpty || !remote.isEmpty else { return .completed }
        // MemorySegment and cshims_segment are both two 8-byte words, address first (iovec's layout).
        let error = local.withMemoryRebound(to: cshims_segment.self) { local in
            remote.withMemoryRebound(to: cshims_segment.self) { remote in
                copy(pid(of: peer), local.baseAddress, local.count, remote.baseAddress, remote.count)
            }
        }
        return Self.result(error)
    }

    /// A peer whose process is gone: its rings stay mapped, so only the system can tell.
    public func checkPeers() -> [(peer: Int, reason: String)] {
        reportsDeadPeers ? deadPeers() : []
    }

    /// Whether ``checkPeers()`` reports peers that are gone (true); recovery mode turns it off and
    /// asks ``deadPeers()`` itself, so that a wait is not ended by a peer it does not involve.
    public var reportsDeadPeers = true

    /// The local peers that are no longer running, each with why.
    public func deadPeers() -> [(peer: Int, reason: String)] {
        var dead: [(peer: Int, reason: String)] = []
        for local in 0..<localSize where local != localRank && pids[local] > 0 {
            var gone = false
            do { _ = try systemCallOnce("kill") { kill(pids[local], 0) } } catch { gone = error.code == ESRCH }
            if gone {
                dead.append((worldRankOfLocal[local], "rank \(worldRankOfLocal[local]) (pid \(pids[local])) is no longer running"))
            }
        }
        return dead
    }

    private func pid(of peer: Int) -> Int32 {
        guard peer >= 0, peer < localRankOfWorld.count, localRankOfWorld[peer] >= 0 else { return -1 }
        let local = localRankOfWorld[peer]
        return local == localRank ? -1 : pids[local]  // never this process: its own memory is not a peer's
    }

    /// Cross Memory Attach's errnos: forbidden here (seccomp, Yama, a container) or a plain failure.
    private static func result(_ error: Int32) -> BulkResult {
        switch error {
        case 0: .completed
        case EPERM, ENOSYS, EACCES: .forbidden(errno: error)
        default: .failed(errno: error)
        }
    }

    /// Removes every segment name of job `jobID` still in /dev/shm (the launcher's clean-up).
    public static func removeStaleSegments(jobID: String, localSize: Int) {
        SegmentNames.removeStale(jobID: jobID, localSize: localSize)
    }
}
