import Synchronization

/// What the engine knows for recovery mode (`swiftmpirun --enable-recovery`; docs/Recovery.md):
/// revoked communicators, acknowledged failures and agreements started, each by the communicator's
/// context pair (its point-to-point context, which is even; collectives use the odd one above).
struct RecoveryState {
    /// Recovery mode is on: a failed peer fails only what involves it, and the job goes on.
    var enabled = false
    /// The context pairs of revoked communicators.
    var revoked: Set<UInt32> = []
    /// Failures acknowledged per communicator (world ranks; ``Communicator/acknowledgeFailures()``).
    var acknowledged: [UInt32: Set<Int>] = [:]
    /// Agreements started per communicator (each agreement's key names its number).
    var agreements: [UInt32: Int] = [:]
    /// Incremented by every failure and revoke seen here: waits that poll shared memory (the
    /// shared-memory collectives) look again at their communicator when it changes.
    var epoch = 0
}

/// The members (world ranks) of this process's communicators by context pair, in recovery mode
/// only: a failure then fails the collectives of exactly the communicators that contain the failed
/// rank, and the wildcard receives on them. Filled when a communicator's state is made (not a hot
/// path); read when a failure arrives.
enum CommunicatorMembers {
    /// Set once at start-up, before any communicator exists.
    nonisolated(unsafe) static var recording = false
    private static let members = Mutex<[UInt32: [Int]]>([:])

    /// Records `worldRanks` as the members of the communicator on `context`'s pair.
    static func record(_ context: UInt32, _ worldRanks: [Int]) {
        guard recording else { return }
        members.withLock { $0[context & ~1] = worldRanks }
    }

    /// The members of the communicator on `context`'s pair, if recorded.
    static func of(_ context: UInt32) -> [Int]? { members.withLock { $0[context & ~1] } }

    /// The context pairs of the communicators that contain world rank `rank`.
    static func containing(_ rank: Int) -> [UInt32] { members.withLock { $0.filter { $0.value.contains(rank) }.map(\.key) } }

    /// Forgets a freed communicator's pair (which may be reused).
    static func forget(_ context: UInt32) {
        guard recording else { return }
        members.withLock { $0[context & ~1] = nil }
    }
}

extension Engine {
    /// Applies what the launcher's recovery coordinator said (``RecoveryLink``): failures and
    /// revokes. Called when a progress round found nothing else to do.
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

    /// Revokes the communicator on `context`'s pair here: every pending operation on it completes
    /// with `.revoked`, and so will every later one (but agree, shrink and the failure queries).
    func revokeLocally(_ context: UInt32, _ how: String) {
        let pair = context & ~1
        guard recovery.revoked.insert(pair).inserted else { return }
        recovery.epoch += 1
        anyFault = true
        failOperations(MPIError(.revoked, "the communicator was \(how)")) { $0 & ~1 == pair }
    }

    /// In recovery mode, what a failure of world rank `peer` does beyond its own operations: the
    /// collectives of every communicator that contains it fail (their other members' messages
    /// cannot be completed consistently), and so do the wildcard receives there that have not
    /// acknowledged it.
    func failCommunicators(containing peer: Int, _ reason: String) {
        recovery.epoch += 1
        let pairs = Set(CommunicatorMembers.containing(peer))
        guard !pairs.isEmpty else { return }
        let error = MPIError(.processFailed, "rank \(peer) failed: \(reason)")
        failOperations(error) { context in context & 1 == 1 && pairs.contains(context & ~1) }
        var index = 0
        while index < posted.count {
            let operation = posted[index]
            if operation.pattern.source == MPI.anySourceCode, pairs.contains(operation.pattern.context & ~1) {
                _ = posted.remove(at: index)
                operation.error = error
                operation.isComplete = true
            } else {
                index += 1
            }
        }
    }

    /// Fails every pending send and receive whose context satisfies `affected` with `error`.
    func failOperations(_ error: MPIError, where affected: (UInt32) -> Bool) {
        var failedSends: [SendOperation] = []
        for peer in outboxes.indices where !outboxes[peer].isEmpty {
            let before = outboxes[peer].count
            outboxes[peer].removeAll { item in
                switch item {
                case .message(let operation), .stream(let operation):
                    guard affected(operation.header.context) else { return false }
                    failedSends.append(operation)
                    return true
                case .control, .packet: return false
                }
            }
            outboxCount -= before - outboxes[peer].count
        }
        for id in waitingSends.ids {
            if let operation = waitingSends.lookup(id), affected(operation.header.context) {
                _ = waitingSends.remove(id)
                failedSends.append(operation)
            }
        }
        for operation in failedSends where !operation.isComplete {
            operation.error = error
            finishSend(operation)
        }
        var index = 0
        while index < posted.count {
            let operation = posted[index]
            if affected(operation.pattern.context) {
                _ = posted.remove(at: index)
                operation.error = error
                operation.isComplete = true
            } else {
                index += 1
            }
        }
        for id in waitingReceives.ids {
            if let operation = waitingReceives.lookup(id), affected(operation.pattern.context) {
                _ = waitingReceives.remove(id)
                operation.error = error
                operation.isComplete = true
            }
        }
    }

    /// Forgets what recovery mode knew of a freed communicator (its pair may be taken again).
    func forgetRecoveryState(of context: UInt32) {
        recovery.revoked.remove(context & ~1)
        recovery.acknowledged[context & ~1] = nil
        recovery.agreements[context & ~1] = nil
        CommunicatorMembers.forget(context)
    }

    /// The error an operation on `context` with peer `peer` (a world rank; -1 for a wildcard
    /// receive) meets now, once something failed or was revoked (``anyFault``); nil when none.
    func faultError(context: UInt32, peer: Int, _ call: StaticString) -> MPIError? {
        let pair = context & ~1
        if recovery.revoked.contains(pair) { return MPIError(.revoked, "\(call): the communicator was revoked") }
        if peer >= 0, let reason = failedPeers[peer] { return MPIError(.processFailed, "\(call): rank \(peer) failed: \(reason)") }
        guard recovery.enabled, peer < 0 || context & 1 == 1, let members = CommunicatorMembers.of(context) else { return nil }
        // A wildcard receive, or a collective: fails while a member's failure is not acknowledged
        // (collectives: while any member is failed).
        let acknowledged = context & 1 == 1 ? [] : recovery.acknowledged[pair] ?? []
        if let failed = members.first(where: { failedPeers[$0] != nil && !acknowledged.contains($0) }) {
            return MPIError(.processFailed, "\(call): rank \(failed) of the communicator failed: \(failedPeers[failed]!)")
        }
        return nil
    }
}
