#if canImport(Glibc)
import Glibc
#endif
import SwiftMPITransport

extension Engine: PacketSink {
    /// Moves everything that can move now: queued sends, shared copies, arrived packets, transport
    /// events. Returns true when anything happened.
    @discardableResult
    func progress() -> Bool {
        var progressed = false
        if outboxCount > 0 { progressed = drainOutboxes() }
        if !sharedCopies.isEmpty && finishSharedCopies() { progressed = true }
        if routes.poll(into: self) > 0 { progressed = true }
        if routes.hasEvents {
            for event in routes.takeEvents() {
                switch event {
                case .readCompleted(let token):
                    if token & WindowState.RemoteAccess.tokenFlag != 0 { finishRemoteAccess(token) } else { finishRead(token) }
                case .writeCompleted(let token): finishRemoteAccess(token)  // only one-sided calls write
                case .peerFailed(let peer, let reason): failPeer(peer, reason)
                }
            }
            progressed = true
        }
        if !progressed && !helpRequests.isEmpty { progressed = helpWithSharedCopy() }
        if windowsWithWaitingLocks > 0 && grantWaitingLocks() { progressed = true }
        if !nonblockingSchedules.isEmpty && !advancingSchedules && advanceSchedules() { progressed = true }
        if !progressed && recovery.enabled && recoveryIdle() { progressed = true }
        return progressed
    }

    /// Advances every nonblocking collective that has not completed, so that waiting on one request
    /// (or on anything) moves the others on: MPI's progress rule (ranks may complete outstanding
    /// collectives in different orders). A schedule leaves the list once it completed or failed; its
    /// request finds that (or the error) when tested or waited on.
    func advanceSchedules() -> Bool {
        advancingSchedules = true
        defer { advancingSchedules = false }
        var progressed = false
        var index = 0
        while index < nonblockingSchedules.count {
            if (try? nonblockingSchedules[index].advance()) ?? true {
                nonblockingSchedules.swapAt(index, nonblockingSchedules.count - 1)
                nonblockingSchedules.removeLast()
                progressed = true
            } else {
                index += 1
            }
        }
        return progressed
    }

    /// A transport asks where a large payload may be read to: data fragments go straight into their
    /// receive buffer.
    func placement(from peer: Int, kind: PacketKind, header: PacketHeader, length: Int) -> UnsafeMutableRawPointer? {
        guard kind == WireKind.data.rawValue else { return nil }
        return fragmentPlacement(MatchHeader(header), length: length, from: peer)
    }

    /// Handles one arrived packet. Packets that make no sense (unknown kind, unknown operation id,
    /// short payload) are dropped: a peer cannot make this rank crash or write out of bounds.
    func deliver(from peer: Int, kind: PacketKind, header: PacketHeader, payload: UnsafeRawBufferPointer) {
        handle(kind, MatchHeader(header), payload, from: peer)
    }

    /// The packet dispatch (``deliver(from:kind:header:payload:)``; internal for the fuzz tests).
    func handle(_ rawKind: PacketKind, _ header: MatchHeader, _ payload: UnsafeRawBufferPointer, from peer: Int) {
        switch WireKind(rawValue: rawKind) {
        case .eager:
            // (No receive on a dead context is ever posted: only unexpected messages can be for one.)
            if let operation = takePostedMatch(header) {
                deliverEager(operation, header, payload, from: peer)
            } else if anyFault && refuseIfDead(header, offered: false, from: peer) {
            } else {
                if header.flags & MatchHeader.Flags.ready != 0 { warnReadySend(header) }
                unexpected.append(UnexpectedMessage(header: header, peer: peer, payload: Array(payload), offer: nil))
                statistics.queuedUnexpected(length: unexpected.count)
            }
        case .rendezvous:
            guard payload.count >= MemoryLayout<RendezvousOffer>.size else { return }
            let offer = payload.loadUnaligned(as: RendezvousOffer.self)
            // The message's first bytes, when the offer carries them (RendezvousOffer.Flags.prefixed).
            let prefix =
                offer.flags & RendezvousOffer.Flags.prefixed != 0
                ? UnsafeRawBufferPointer(rebasing: payload[MemoryLayout<RendezvousOffer>.size...]) : UnsafeRawBufferPointer(start: nil, count: 0)
            if let operation = takePostedMatch(header) {
                acceptRendezvous(operation, header, offer, prefix: prefix, from: peer)
            } else if anyFault && refuseIfDead(header, offered: true, from: peer) {
            } else {
                if header.flags & MatchHeader.Flags.ready != 0 { warnReadySend(header) }
                unexpected.append(UnexpectedMessage(header: header, peer: peer, payload: prefix.isEmpty ? [] : Array(prefix), offer: offer))
                statistics.queuedUnexpected(length: unexpected.count)
            }
        case .clearToSend: clearedToSend(header, from: peer)
        case .data: receiveFragment(header, payload, from: peer)
        case .ack: acknowledged(header, from: peer)
        case .share: requestedHelp(header, from: peer)
        case .rma: windows[header.context]?.serve(header, payload, from: peer, engine: self)
        case .rmaReply: windows[header.context]?.receiveReply(header, payload)
        case .recovery: receiveRecovery(header, payload, from: peer)
        case nil: return
        }
    }

    // MARK: - Waiting

    /// Progresses until `done()` is true. Spins while there is something to do; when idle, yields the
    /// CPU at once if oversubscribed, else after a short spin; idle for ``spinBeforeSleep`` on a host
    /// with shared-memory peers, it sleeps on the shared-memory doorbell (woken by a peer's packet;
    /// 1 ms at a time, 10 ms after a second). Every ~second of idleness it asks the transports
    /// whether their peers are alive and throws `.processFailed` if one is gone, so a wait never hangs
    /// on a dead rank.
    ///
    /// With `lock` (thread level `.multiple`, or once tasks await requests), the caller holds it and
    /// the wait lets other threads in: it releases the lock around every sleep, and yields it
    /// whenever another thread is waiting for it (checked every round: one relaxed load, so a
    /// thread that waits alone polls as fast as without the lock).
    @inline(__always)
    func wait(_ call: @autoclosure () -> String, releasing lock: EngineLock? = nil, until done: () -> Bool) throws(MPIError) {
        if done() { return }
        var rounds = 0
        var idle = 0
        var idleSince = 0.0, waitingSince = 0.0, spinningSince = 0.0
        var sleepMilliseconds: Int32 = 0  // > 0 once idle long enough to sleep on shared memory
        // > 0 once idle long enough where nothing can wake this rank (a wait holding the engine lock
        // at thread level .multiple without a shared-memory doorbell, or transports that cannot be
        // waited on): short naps instead of a spin at 100 % CPU.
        var napMicroseconds: UInt32 = 0
        var published = false  // in WaitReport, for the launcher's hang reports
        defer { if published { WaitReport.resumed() } }
        while true {
            if progress() {
                idle = 0
                spinningSince = 0
                sleepMilliseconds = 0
                napMicroseconds = 0
                rounds &+= 1
                if let lock, lock.hasWaiters {
                    lock.unlock()
                    sched_yield()
                    lock.lock()
                }
            } else {
                idle += 1
                if let lock {
                    // Other threads run between these rounds; the sockets are not polled here
                    // (their descriptors belong to whoever holds the lock).
                    if sleepMilliseconds > 0 {
                        routes.sleepOnSharedMemory(milliseconds: sleepMilliseconds, unlocking: lock)
                    } else if napMicroseconds > 0 {
                        lock.unlock()
                        usleep(napMicroseconds)
                        lock.lock()
                    } else if lock.hasWaiters || yieldWhenIdle || idle > 1000 {
                        lock.unlock()
                        sched_yield()
                        lock.lock()
                    }
                } else if sleepMilliseconds > 0 {
                    routes.sleepOnSharedMemory(milliseconds: sleepMilliseconds)
                } else if canWaitForInput && ((yieldWhenIdle && idle > 100) || idle > 200_000) {
                    // Oversubscribed, or idle for long: sleep in the kernel until a socket has data
                    // (at most 1 ms, so shared-memory peers and queued sends are still served).
                    routes.waitForInput(milliseconds: 1)
                } else if napMicroseconds > 0 {
                    usleep(napMicroseconds)
                } else if yieldWhenIdle || idle > 1000 {
                    sched_yield()
                }
                // After a system call (a sleep or a yield, which on a loaded machine may give the
                // CPU away for milliseconds) the clock is cheap next to it; while spinning, every
                // 1024 polls.
                if sleepMilliseconds > 0 || yieldWhenIdle || idle > 1000 || idle & 0x3FF == 0 {
                    let now = MPI.wtime()
                    if idleSince == 0 {
                        idleSince = now
                        waitingSince = now
                    } else {
                        if !published && now - waitingSince > WaitReport.publishAfter {
                            WaitReport.waiting(in: call(), since: waitingSince)
                            published = true
                        }
                        if now - idleSince > 1 {
                            idleSince = now
                            try checkPeersAlive(call())
                        }
                    }
                    if spinningSince == 0 {
                        spinningSince = now
                    } else if now - spinningSince > Self.spinBeforeSleep {
                        if sleepsOnSharedMemory {
                            sleepMilliseconds = now - spinningSince > 1 ? 10 : 1
                        } else {
                            napMicroseconds = now - spinningSince > 1 ? 1000 : 200
                        }
                    }
                }
            }
            if done() { return }
        }
    }

    /// How long a wait polls (and yields) before it sleeps on the shared-memory doorbell: long
    /// enough that message-rate and latency benchmarks never sleep, short enough that a rank blocked
    /// for seconds costs little CPU.
    static let spinBeforeSleep = 0.05
}
