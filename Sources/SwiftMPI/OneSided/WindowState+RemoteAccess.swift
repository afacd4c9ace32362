#if canImport(Glibc)
import Glibc
#endif
import SwiftMPITransport

/// Puts and gets done by the transport itself — RDMA WRITE and READ over verbs — on targets whose
/// memory is neither mapped here nor reached only through messages: the target's CPU takes no part,
/// so they complete while the target computes outside SwiftMPI.
///
/// At creation every rank that reaches some other rank of the window through a transport with
/// asynchronous peer reads and writes registers its window memory for the window's lifetime
/// (``Transport/exposeLasting(_:)``) and the ranks exchange (address, key) — only when some rank asked,
/// so windows on one host cost nothing more. A put of up to ``RemoteAccess/slotBytes`` is copied
/// into a registered staging slot and written from there (the call returns at once; the slot is free
/// again when the write completes); a larger put is written from the caller's memory and the call
/// returns when the write completed (the origin's buffer is then free, as for every put here). A get
/// reads into a slot (or straight into the caller's memory when larger) and returns with the data.
/// Flush, unlock, unlockAll, complete and fence first wait for every write of the window: a Reliable
/// Connected queue pair completes a write once the target acknowledged it, so the data is in the
/// target's memory. Accumulates, atomics and locks still go as messages (docs/Design.md: verbs
/// atomics are atomic only among themselves, not with the target's CPU and its host's ranks, which
/// update the same words with loads and stores).
extension WindowState {
    /// The transport-side state of a window that reads and writes peers' memory.
    final class RemoteAccess {
        /// The bit that tells a one-sided transfer's token from the engine's rendezvous reads.
        static let tokenFlag: UInt32 = 1 << 31
        /// The slot number of a transfer from or into the caller's memory.
        static let noSlot = 0xFFF
        /// Staging slots per window, and their size: puts and gets up to this size go through them.
        static let slotCount = 32
        static let slotBytes = 8192

        /// Each rank's window memory as the transport reaches it (nil: mapped here, or messages).
        let remote: [RemoteMemory?]
        /// This rank's registration of its own memory, and the peer whose route made it.
        let exposure: (memory: ExposedMemory, peer: Int)?
        /// This window's slot in the engine's ``Engine/remoteAccessWindows`` (set when registered).
        var window = 0
        /// Reads and writes started and not yet completed.
        var pending = 0
        /// The staging slots (allocated and registered at the first transfer) and their registration.
        var staging: UnsafeMutableRawPointer?
        var stagingExposure: (memory: ExposedMemory, peer: Int)?
        var freeSlots = Array((0..<RemoteAccess.slotCount).reversed())
        /// Per slot: it holds a get's data (kept until the get copied it out), and the read is done.
        var slotIsRead = [Bool](repeating: false, count: RemoteAccess.slotCount)
        var slotDone = [Bool](repeating: false, count: RemoteAccess.slotCount)

        init(remote: [RemoteMemory?], exposure: (memory: ExposedMemory, peer: Int)?) {
            self.remote = remote
            self.exposure = exposure
        }

        /// The token of a transfer of this window through `slot` (or ``noSlot``).
        func token(slot: Int) -> UInt32 { Self.tokenFlag | UInt32(window) << 12 | UInt32(slot) }

        /// The window and slot a token names.
        static func decode(_ token: UInt32) -> (window: Int, slot: Int) { (Int((token & ~tokenFlag) >> 12), Int(token & 0xFFF)) }

        /// Slot `slot`'s memory.
        func slot(_ slot: Int) -> UnsafeMutableRawPointer { staging! + slot * Self.slotBytes }

        /// A transfer finished: a put's slot is free again, a get's holds the data.
        func finished(slot: Int) {
            pending -= 1
            slotFinished(slot)
        }

        /// `slot`'s transfer is done (also one that completed when it was started: nothing pending).
        func slotFinished(_ slot: Int) {
            guard slot != Self.noSlot, slot < Self.slotCount else { return }
            if slotIsRead[slot] { slotDone[slot] = true } else { freeSlots.append(slot) }
        }
    }

    // MARK: - Set-up and release

    /// Whether this rank reaches some rank of the window through a transport that reads and writes
    /// peers' memory by itself; `direct`: the ranks whose memory is mapped here.
    static func wantsRemoteAccess(_ communicator: Communicator, direct: Set<Int>) -> Bool {
        let routes = communicator.runtime.engine.routes
        return (0..<communicator.size).contains { member in
            guard !direct.contains(member) else { return false }
            let capabilities = routes.capabilities[communicator.worldRank(member)]
            return capabilities.peerWrite == .asynchronous && capabilities.peerRead == .asynchronous
        }
    }

    /// Registers this rank's memory (when `wanted`) and exchanges every rank's (address, key).
    /// Collective over `communicator`; made only when some rank wants it.
    static func makeRemoteAccess(on communicator: Communicator, memory: WindowMemory, bytes: Int, wanted: Bool) throws -> RemoteAccess {
        let engine = communicator.runtime.engine
        let routes = engine.routes
        let reachable = (0..<communicator.size).map { member -> Bool in
            guard memory.direct[member] == nil else { return false }
            let capabilities = routes.capabilities[communicator.worldRank(member)]
            return capabilities.peerWrite == .asynchronous && capabilities.peerRead == .asynchronous
        }
        var exposure: (memory: ExposedMemory, peer: Int)?
        if wanted, bytes > 0, let base = memory.direct[communicator.rank], let member = reachable.firstIndex(of: true) {
            let peer = communicator.worldRank(member)
            exposure = try communicator.runtime.withEngine("window creation") { engine in
                engine.routes.exposeLasting(UnsafeMutableRawBufferPointer(start: base, count: bytes), to: peer).map { ($0, peer) }
            }
        }
        let published = exposure.map { [Int(bitPattern: UInt(truncatingIfNeeded: $0.memory.remote.address)), Int($0.memory.remote.key), 1] } ?? [0, 0, 0]
        let table = try communicator.allgather(published)
        let remote = (0..<communicator.size).map { member -> RemoteMemory? in
            guard reachable[member], table[3 * member + 2] == 1 else { return nil }
            return RemoteMemory(address: UInt64(UInt(bitPattern: table[3 * member])), key: UInt32(truncatingIfNeeded: table[3 * member + 1]))
        }
        return RemoteAccess(remote: remote, exposure: exposure)
    }

    /// Ends the registrations and gives back the staging slots. Inside `withEngine`, at free.
    func releaseRemoteAccess(engine: Engine) {
        guard let access = remoteAccess else { return }
        if let exposure = access.exposure { engine.routes.endLastingExposure(exposure.memory, from: exposure.peer) }
        if let staging = access.stagingExposure { engine.routes.conceal(staging.memory, from: staging.peer) }
        access.staging?.deallocate()
        access.staging = nil
        if access.window < engine.remoteAccessWindows.count { engine.remoteAccessWindows[access.window] = nil }
    }

    // MARK: - Data movement

    /// MPI_Put of `bytes` to `target`'s memory at `remote` (already offset).
    func remotePut(_ bytes: UnsafeRawBufferPointer, to target: Int, at remote: RemoteMemory, _ call: String) throws {
        let access = remoteAccess!
        let peer = communicator.worldRank(target)
        if bytes.count <= RemoteAccess.slotBytes {
            let slot = try takeSlot(access, peer: peer, call)
            try runtime.withEngine("put") { engine in
                let staging = access.slot(slot)
                staging.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
                access.slotIsRead[slot] = false
                let result = engine.routes.write(
                    to: peer, remote: remote, from: UnsafeRawBufferPointer(start: staging, count: bytes.count), token: access.token(slot: slot))
                try started(result, access, slot: slot, "\(call): RDMA write to rank \(target)")
            }
            return
        }
        try runtime.withEngine("put") { engine in
            let result = engine.routes.write(to: peer, remote: remote, from: bytes, token: access.token(slot: RemoteAccess.noSlot))
            try started(result, access, slot: RemoteAccess.noSlot, "\(call): RDMA write to rank \(target)")
        }
        try awaitRemoteAccess(call)  // the caller's buffer is free again when the call returns
    }

    /// MPI_Get into `destination` from `target`'s memory at `remote` (already offset); returns with the data.
    func remoteGet(into destination: UnsafeMutableRawBufferPointer, from target: Int, at remote: RemoteMemory, _ call: String) throws {
        let access = remoteAccess!
        let peer = communicator.worldRank(target)
        guard destination.count <= RemoteAccess.slotBytes else {
            try runtime.withEngine("get") { engine in
                let result = engine.routes.read(from: peer, remote: remote, into: destination, token: access.token(slot: RemoteAccess.noSlot))
                try started(result, access, slot: RemoteAccess.noSlot, "\(call): RDMA read from rank \(target)")
            }
            return try awaitRemoteAccess(call)
        }
        let slot = try takeSlot(access, peer: peer, call)
        try runtime.withEngine("get") { engine in
            access.slotIsRead[slot] = true
            access.slotDone[slot] = false
            let into = UnsafeMutableRawBufferPointer(start: access.slot(slot), count: destination.count)
            let result = engine.routes.read(from: peer, remote: remote, into: into, token: access.token(slot: slot))
            try started(result, access, slot: slot, "\(call): RDMA read from rank \(target)")
        }
        try runtime.wait("Window.", call, until: { engine in access.slotDone[slot] || engine.anyPeerFailed })
        guard access.slotDone[slot] else { throw peerFailure(call) }
        try runtime.withEngine("get") { _ in
            destination.baseAddress!.copyMemory(from: access.slot(slot), byteCount: destination.count)
            access.slotIsRead[slot] = false
            access.freeSlots.append(slot)
        }
    }

    /// Waits until every read and write of the window completed (flush, unlock, complete, fence).
    func awaitRemoteAccess(_ call: String) throws {
        guard let access = remoteAccess else { return }
        try runtime.wait("Window.", call, until: { engine in access.pending == 0 || engine.anyPeerFailed })
        if access.pending > 0 { throw peerFailure(call) }
    }

    /// A free staging slot (allocated and registered at the first use), waiting for one if all are busy.
    private func takeSlot(_ access: RemoteAccess, peer: Int, _ call: String) throws -> Int {
        var taken: Int?
        try runtime.wait("Window.", call) { engine in
            if access.staging == nil {
                let bytes = RemoteAccess.slotCount * RemoteAccess.slotBytes
                let staging = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 4096)
                access.staging = staging
                access.stagingExposure = engine.routes.expose(UnsafeRawBufferPointer(start: staging, count: bytes), to: peer).map { ($0, peer) }
            }
            taken = access.freeSlots.popLast()
            return taken != nil || engine.anyPeerFailed
        }
        guard let taken else { throw peerFailure(call) }
        return taken
    }

    /// Counts a started transfer, or gives its slot back and throws why it could not start.
    private func started(_ result: BulkResult, _ access: RemoteAccess, slot: Int, _ what: String) throws {
        switch result {
        case .started:
            access.pending += 1
            return
        case .completed:
            access.slotFinished(slot)
            return
        case .failed(let errno) where errno == ECONNRESET:
            if slot != RemoteAccess.noSlot { access.freeSlots.append(slot) }
            throw MPIError(.processFailed, "\(what): the peer failed")
        case .failed(let errno), .forbidden(let errno):
            if slot != RemoteAccess.noSlot { access.freeSlots.append(slot) }
            throw MPIError(.transport, "\(what): \(String(cString: strerror(errno)))")
        case .unsupported:
            if slot != RemoteAccess.noSlot { access.freeSlots.append(slot) }
            throw MPIError(.transport, "\(what): the transport cannot")
        }
    }

    private func peerFailure(_ call: String) -> MPIError {
        MPIError(.processFailed, "\(call): \(runtime.engine.failedPeers.values.first ?? "a peer failed")")
    }
}
