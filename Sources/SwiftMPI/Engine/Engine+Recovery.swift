import Synchronization

/// What the engine knows for recovery mode (`swiftmpirun --enable-recovery`; docs/Recovery.md):
/// dead contexts, acknowledged failures and agreements started, by the communicator's context pair
/// (its point-to-point context, which is even; collectives use the odd one above).
final class RecoveryState {
    /// Recovery mode is on: a failed peer fails only what involves it, and the job goes on.
    var enabled = false
    /// Contexts on which nothing more can be sent or received, with the error operations on them
    /// meet: both contexts of a revoked communicator (`.revoked`), the collective context of a
    /// communicator with a failed member (`.processFailed`).
    var deadContexts: [UInt32: MPIError] = [:]
    /// Contexts found free of failed members at an ``epoch`` (so the members are scanned once per
    /// communicator and failure, not per message).
    var healthyAt: [UInt32: Int] = [:]
    /// Failures acknowledged per communicator (world ranks; ``Communicator/acknowledgeFailures()``).
    var acknowledged: [UInt32: Set<Int>] = [:]
    /// Agreements started per communicator (each agreement's key names its number).
    var agreements: [UInt32: Int] = [:]
    /// Agreements among the members themselves (no coordinator of swiftmpirun's;
    /// Engine+Agreement.swift), the last few per communicator.
    var peerAgreements: [Engine.AgreementKey: Engine.PeerAgreement] = [:]
    /// Incremented by every failure and revoke seen here: waits that poll shared memory (the
    /// shared-memory collectives) look again at their communicator when it changes.
    var epoch = 0
    /// Idle progress rounds, and when shared-memory peers and TCP peers' hosts were last checked
    /// (``Engine/recoveryIdle()``).
    var idleRounds = 0
    var lastLivenessCheck = 0.0
    var lastHostCheck = 0.0
}

/// The members (world ranks) of this process's communicators by context pair: in recovery mode a
/// failure fails the collectives of exactly the communicators that contain the failed rank, and
/// the wildcard receives on them; in any mode a revoke passes through them. Filled when a
/// communicator's state is made (not a hot path; the group's array is shared, not copied); read
/// when a failure or a revoke arrives.
enum CommunicatorMembers {
    private static let members = Mutex<[UInt32: [Int]]>([:])
    /// An intercommunicator's pair → its local group's private communicator's context.
    private static let links = Mutex<[UInt32: UInt32]>([:])

    /// Records `worldRanks` as the members of the communicator on `context`'s pair (and, for an
    /// intercommunicator, the context of its local group's communicator, revoked with it).
    static func record(_ context: UInt32, _ worldRanks: [Int], linked: UInt32? = nil) {
        members.withLock { $0[context & ~1] = worldRanks }
        links.withLock { $0[context & ~1] = linked }  // (nil clears a link a freed communicator left)
    }

    /// The context revoked with `context`'s (an intercommunicator's local group's), if any.
    static func linked(to context: UInt32) -> UInt32? { links.withLock { $0[context & ~1] } }

    /// The members of the communicator on `context`'s pair, if recorded.
    static func of(_ context: UInt32) -> [Int]? { members.withLock { $0[context & ~1] } }

    /// The context pairs of the communicators that contain world rank `rank`.
    static func containing(_ rank: Int) -> [UInt32] { members.withLock { $0.filter { $0.value.contains(rank) }.map(\.key) } }

    /// Forgets a freed communicator's pair (which may be reused).
    static func forget(_ context: UInt32) {
        members.withLock { $0[context & ~1] = nil }
        links.withLock { $0[context & ~1] = nil }
    }
}

extension Engine {
    /// Applies what the launcher's recovery coordinator said (``RecoveryLink``): failures and
    /// revokes. Called when a progress round found nothing else to do (``recoveryIdle()``).
    @inline(never)
    func absorbRecoveryNotices() {
        for notice in RecoveryLink.takeNotices() {
            switch notice {
            case .failed(let peer, let reason):
                if peer >= 0 && peer < size && peer != rank { failPeer(peer, reason) }
            case .revoked(let context, let by):
                revokeLocally(context, by >= 0 ? "revoked by world rank \(by)" : "revoked by another member")
            }
        }
    }

    /// Recovery mode, when a progress round found nothing to do: applies the launcher's notices
    /// and, every 10 ms or so, fails the shared-memory peers that are gone (its transport does
    /// not report them to the waits in this mode: ``Engine/checkPeersAlive(_:)``), and every 0.25 s
    /// the TCP peers whose host stopped answering. True when it did something.
    @inline(never)
    func recoveryIdle() -> Bool {
        var acted = false
        if RecoveryLink.pending.load(ordering: .relaxed) != 0 {
            absorbRecoveryNotices()
            acted = true
        }
        recovery.idleRounds &+= 1
        if recovery.idleRounds & 63 == 0 {
            let now = MPI.wtime()
            // (One kill(pid, 0) per peer of this host: ~0.3 µs each, paid only while idle.)
            if now - recovery.lastLivenessCheck > Self.livenessPeriod {
                recovery.lastLivenessCheck = now
                for (peer, reason) in routes.sharedMemory?.deadPeers() ?? [] where failedPeers[peer] == nil {
                    failPeer(peer, reason)
                    acted = true
                }
            }
            // Peers whose host stopped answering (TCP among the ranks), four times a second.
            if now - recovery.lastHostCheck > 0.25 {
                recovery.lastHostCheck = now
                for (peer, reason) in routes.tcp?.unreachablePeers() ?? [] where failedPeers[peer] == nil {
                    failPeer(peer, reason)
                    acted = true
                }
            }
        }
        return acted
    }

    /// Seconds between two looks at whether this host's peers still run, while waits are idle in
    /// recovery mode: under srun that is how a killed rank of this host is found.
    static let livenessPeriod = 0.01

    /// True when `context`'s communicator was revoked here.
    func isRevoked(_ context: UInt32) -> Bool { recovery.deadContexts[context & ~1]?.code == .revoked }

    /// Revokes the communicator on `context`'s pair here: operations on it that have not started
    /// moving data end with `.revoked`, messages for it are refused, and so is every later
    /// operation (but agree, shrink and the failure queries).
    func revokeLocally(_ context: UInt32, _ how: String) {
        let pair = context & ~1
        guard !isRevoked(pair) else { return }
        let error = MPIError(.revoked, "the communicator was \(how)")
        kill([pair, pair | 1], error)
        if let linked = CommunicatorMembers.linked(to: pair) { revokeLocally(linked, how) }
    }

    /// In recovery mode, what a failure of world rank `peer` does beyond its own operations: the
    /// collective context of every communicator that contains it dies (its members' collectives
    /// can no longer complete consistently), and wildcard receives there end — but those of the
    /// pointer form of `irecv` (``ReceiveOperation/pendsOnFailure``), which stay posted: their
    /// requests report `.processFailedPending` until the failure is acknowledged.
    func failCommunicators(containing peer: Int, _ reason: String) {
        let pairs = Set(CommunicatorMembers.containing(peer))
        let error = MPIError(.processFailed, "rank \(peer) failed: \(reason)")
        kill(pairs.filter { recovery.deadContexts[$0 | 1] == nil }.map { $0 | 1 }, error)
        var index = 0
        while index < posted.count {
            let operation = posted[index]
            if operation.pattern.source == MPI.anySourceCode, !operation.pendsOnFailure, pairs.contains(operation.pattern.context & ~1) {
                _ = posted.remove(at: index)
                operation.error = error
                operation.isComplete = true
            } else {
                index += 1
            }
        }
    }

    /// Marks `contexts` dead with `error`, ends their operations that have not started moving data
    /// (queued sends, posted receives) and refuses what their peers sent that was not received yet.
    /// Transfers under way — a matched rendezvous being read or streamed, a shared copy — finish as
    /// they would have: their buffers are in a peer's or a transport's hands until then.
    private func kill(_ contexts: [UInt32], _ error: MPIError) {
        recovery.epoch += 1
        anyFault = true
        guard !contexts.isEmpty else { return }
        for context in contexts { recovery.deadContexts[context] = error }
        let dead = Set(contexts)
        var failedSends: [SendOperation] = []
        for peer in outboxes.indices where !outboxes[peer].isEmpty {
            let before = outboxes[peer].count
            outboxes[peer].removeAll { item in
                // A message still in its outbox has not left (a stream has: it finishes).
                guard case .message(let operation) = item, dead.contains(operation.header.context) else { return false }
                failedSends.append(operation)
                return true
            }
            outboxCount -= before - outboxes[peer].count
        }
        for operation in failedSends {
            if waitingSends.lookup(operation.header.senderOperation) === operation { _ = waitingSends.remove(operation.header.senderOperation) }
            operation.error = error
            finishSend(operation)
        }
        var index = 0
        while index < posted.count {
            let operation = posted[index]
            if dead.contains(operation.pattern.context) {
                _ = posted.remove(at: index)
                operation.error = error
                operation.isComplete = true
            } else {
                index += 1
            }
        }
        index = 0
        while index < unexpected.count {
            if dead.contains(unexpected[index].header.context) {
                let message = unexpected.remove(at: index)
                refuse(message.header, offered: message.offer != nil, from: message.peer)
            } else {
                index += 1
            }
        }
    }

    /// Receiver: a message for a dead context is dropped; a sender waiting for this rank (a
    /// rendezvous offer, a synchronous send) is answered with a refusing acknowledgement, so it
    /// completes with an error instead of waiting forever.
    @inline(never)
    func refuse(_ header: MatchHeader, offered: Bool, from peer: Int) {
        guard offered || header.flags & MatchHeader.Flags.synchronous != 0 else { return }
        sendControl(.ack, MatchHeader(context: header.context, flags: MatchHeader.Flags.refused, senderOperation: header.senderOperation), to: peer)
    }

    // The message path's checks once something failed (``anyFault``), out of line so that the
    // path stays as small as it was without them.

    /// Receiver: refuses a message for a dead context; false when its context is alive.
    @inline(never)
    func refuseIfDead(_ header: MatchHeader, offered: Bool, from peer: Int) -> Bool {
        guard recovery.deadContexts[header.context] != nil else { return false }
        refuse(header, offered: offered, from: peer)
        return true
    }

    /// Completes a receive with the error it meets (a dead context; after matching, also a failed
    /// source or an unacknowledged failure for a wildcard); false when it meets none.
    @inline(never)
    func failIfFaulty(_ operation: ReceiveOperation, beforeMatching: Bool) -> Bool {
        let error: MPIError?
        if beforeMatching {
            error = recovery.deadContexts[operation.pattern.context].map { MPIError($0.code, "recv: \($0.message)") }
        } else {
            error = faultError(context: operation.pattern.context, peer: operation.peer, "recv")
            // An irecv's wildcard receive is posted all the same (its request reports the failure).
            if operation.pendsOnFailure && operation.peer < 0 && error?.code == .processFailed { return false }
        }
        guard let error else { return false }
        operation.error = error
        operation.isComplete = true
        return true
    }

    /// Completes a send with the error it meets; false when it meets none.
    @inline(never)
    func failIfFaulty(_ operation: SendOperation) -> Bool {
        guard let error = faultError(context: operation.header.context, peer: operation.destination, "send") else { return false }
        operation.error = error
        finishSend(operation)
        return true
    }

    /// True when a send on `context` to `peer` meets no error.
    @inline(never)
    func isHealthy(_ context: UInt32, _ peer: Int) -> Bool { faultError(context: context, peer: peer, "send") == nil }

    /// Forgets what recovery mode knew of a freed communicator (its pair may be taken again).
    func forgetRecoveryState(of context: UInt32) {
        let pair = context & ~1
        recovery.deadContexts[pair] = nil
        recovery.deadContexts[pair | 1] = nil
        recovery.healthyAt[pair] = nil
        recovery.healthyAt[pair | 1] = nil
        recovery.acknowledged[pair] = nil
        recovery.agreements[pair] = nil
        recovery.peerAgreements = recovery.peerAgreements.filter { $0.key.pair != pair }
        CommunicatorMembers.forget(context)
    }

    /// The error an operation on `context` with peer `peer` (a world rank; -1 for a wildcard
    /// receive or a shared-memory collective) meets now, once something failed or was revoked
    /// (``anyFault``); nil when none. A dictionary look-up or two: communicators' members are
    /// scanned once per communicator and failure (``RecoveryState/healthyAt``).
    @inline(never)  // off the message path: called only once something failed (anyFault)
    func faultError(context: UInt32, peer: Int, _ call: StaticString) -> MPIError? {
        if let error = recovery.deadContexts[context] { return MPIError(error.code, "\(call): \(error.message)") }
        if peer >= 0, let reason = failedPeers[peer] { return MPIError(.processFailed, "\(call): rank \(peer) failed: \(reason)") }
        guard recovery.enabled, peer < 0 || context & 1 == 1, recovery.healthyAt[context] != recovery.epoch else { return nil }
        // A wildcard receive, or a collective on a communicator made after a failure was known:
        // fails while a member's failure is not acknowledged (collectives: while any member failed).
        guard let members = CommunicatorMembers.of(context) else { return nil }
        let acknowledged = context & 1 == 1 ? [] : recovery.acknowledged[context & ~1] ?? []
        guard let failed = members.first(where: { failedPeers[$0] != nil && !acknowledged.contains($0) }) else {
            recovery.healthyAt[context] = recovery.epoch
            return nil
        }
        let error = MPIError(.processFailed, "rank \(failed) of the communicator failed: \(failedPeers[failed]!)")
        if context & 1 == 1 { recovery.deadContexts[context] = error }
        return MPIError(.processFailed, "\(call): \(error.message)")
    }
}
