#if canImport(Glibc)
import Glibc
#endif

/// Recovery mode without swiftmpirun's coordinator (`SWIFTMPI_RECOVERY=1` under `srun --no-kill`,
/// or `SWIFTMPI_RECOVERY_AGREEMENT=peers`): revokes and agreements travel between the members
/// themselves, as ``WireKind/recovery`` packets (docs/Recovery.md, "Agreement among the members").
///
/// An agreement's coordinator is its lowest member not known here to have failed. Every member
/// sends its contribution there; the coordinator decides once every member it does not know failed
/// has contributed, and sends the decision to them. A coordinator that took over from failed lower
/// members first asks every member (a query that names the failed ones): a member that already
/// holds a decision answers with it and the new coordinator passes that one on, so every survivor
/// returns the same result. A member accepts a decision only from the coordinator it currently
/// sends to; once it has turned to a new one, a late decision of the old is ignored. Every member
/// keeps its last decisions per communicator to answer members that lag behind.
extension Engine {
    /// One agreement: the communicator's context pair, its lowest member (communicators that share
    /// a context id have no member in common) and its number on that communicator.
    struct AgreementKey: Hashable {
        var pair: UInt32
        var lowest: Int
        var sequence: Int
    }

    /// What this rank knows of one agreement (made by its start here or by a peer's packet,
    /// whichever comes first).
    final class PeerAgreement {
        /// The members (world ranks, increasing); empty until it starts here.
        var members: [Int] = []
        /// This rank's contribution, once it started here.
        var contribution: Contribution?
        /// Contributions received, by member (this rank coordinates, or may come to).
        var received: [Int: Contribution] = [:]
        /// Decisions offered, by the member that sent them (accepted from the coordinator only).
        var offered: [Int: RecoveryLink.AgreementResult] = [:]
        /// The result, the same on every survivor once set.
        var decision: RecoveryLink.AgreementResult?
        /// Where this rank's contribution went last (nil: nowhere yet; this rank for itself).
        var sentTo: Int?
        /// This rank took over as coordinator and has asked the members.
        var queried = false
        /// Something arrived since ``Engine/advanceAgreement(_:)`` last looked, and the
        /// ``RecoveryState/epoch`` it last looked at.
        var changed = true
        var epoch = -1
        /// When it last said again what it waits for, and whether it waited before.
        var nudgedAt = 0.0
        var nudgedBefore = false
    }

    /// A member's words (and-combined) and values (max-combined), and the members it holds failed.
    struct Contribution {
        var words: [UInt64]
        var maxima: [Int]
        var failed: [Int] = []
    }

    /// The subkinds of a ``WireKind/recovery`` packet (in the header's tag).
    enum RecoveryPacket: Int32 {
        /// The communicator on the header's context was revoked by the sender.
        case revoke = 1
        /// The sender's contribution (payload: ``encode(_:_:_:)`` of words, maxima, nothing).
        case contribute = 2
        /// A decision (payload: words, maxima, failed ranks).
        case decide = 3
        /// The sender coordinates now (payload: the members it knows failed).
        case query = 4
    }

    /// Starts agreement `key` here with this rank's contribution.
    func startAgreement(_ key: AgreementKey, members: [Int], words: [UInt64], maxima: [Int]) {
        let agreement = peerAgreement(key)
        agreement.members = members.sorted()
        agreement.contribution = Contribution(words: words, maxima: maxima)
        agreement.changed = true
        // The last decisions stay to answer members that lag behind: no member can be more than
        // one agreement behind another on the same communicator (each needs everyone's contribution).
        for old in recovery.peerAgreements.keys where old.pair == key.pair && old.lowest == key.lowest && old.sequence < key.sequence - 2 {
            recovery.peerAgreements[old] = nil
        }
    }

    /// Moves agreement `key` on (sends the contribution where it belongs, decides when this rank
    /// coordinates and has heard from everyone) and returns its result once there is one. About
    /// once a second while it waits it says again what it waits for (the contribution to its
    /// coordinator, a query to the members it misses): idempotent, and a transport that finds a
    /// peer dead only when sending to it (verbs) then finds it.
    func advanceAgreement(_ key: AgreementKey) -> RecoveryLink.AgreementResult? {
        guard let agreement = recovery.peerAgreements[key], let contribution = agreement.contribution else { return nil }
        if let decision = agreement.decision { return decision }
        let now = MPI.wtime()
        let nudge = now - agreement.nudgedAt > 1
        guard nudge || agreement.changed || agreement.epoch != recovery.epoch else { return nil }
        if nudge { agreement.nudgedAt = now }
        agreement.changed = false
        agreement.epoch = recovery.epoch
        // A member's decision that names this rank failed, from whichever member: the others went
        // on without it (even were this rank the lowest, which then never takes over).
        if let named = agreement.offered.values.first(where: { isWellFormed($0, for: agreement) && $0.failed.contains(rank) }) {
            leaveIfNamedFailed(named, key)
        }
        let live = agreement.members.filter { $0 == rank || failedPeers[$0] == nil }
        guard let coordinator = live.first else { return nil }
        if coordinator != rank {
            if let decision = agreement.offered[coordinator], isWellFormed(decision, for: agreement) {
                return accept(decision, key, agreement)
            }
            if agreement.sentTo != coordinator || nudge {
                agreement.sentTo = coordinator
                let known = agreement.members.filter { failedPeers[$0] != nil }  // what it decides on includes them
                sendRecovery(.contribute, key, encode(contribution.words, contribution.maxima, known), to: coordinator)
            }
            return nil
        }
        agreement.sentTo = rank
        let failed = agreement.members.filter { failedPeers[$0] != nil }
        if let lowestFailed = failed.first, lowestFailed < rank, !agreement.queried {  // this rank took over
            agreement.queried = true
            for member in live where member != rank { sendRecovery(.query, key, encode([], [], failed), to: member) }
        }
        // After a take-over, a decision a member holds stands (the lowest such member's, should
        // there be several: they are all the one decision of a failed coordinator).
        if agreement.queried,
            let holder = agreement.members.first(where: { agreement.offered[$0].map { isWellFormed($0, for: agreement) } ?? false })
        {
            leaveIfNamedFailed(agreement.offered[holder]!, key)
            return decide(key, agreement, agreement.offered[holder]!, live)
        }
        let missing = live.filter { $0 != rank && agreement.received[$0] == nil }
        guard missing.isEmpty else {
            for member in missing {
                routes.expectPackets(from: member)  // a connection to each: its end is noticed
                if nudge && agreement.nudgedBefore { sendRecovery(.query, key, encode([], [], failed), to: member) }
            }
            agreement.nudgedBefore = true
            return nil
        }
        var combined = contribution
        for member in live where member != rank {
            let theirs = agreement.received[member]!
            for index in combined.words.indices where index < theirs.words.count { combined.words[index] &= theirs.words[index] }
            for index in combined.maxima.indices where index < theirs.maxima.count {
                combined.maxima[index] = max(combined.maxima[index], theirs.maxima[index])
            }
        }
        // The failed set is every failure a survivor knows of: a member that one of them holds
        // failed is failed for all (were it alive, it leaves when it hears so), so that no two
        // survivors go on disagreeing about who is there.
        var known = Set(failed)
        for member in live where member != rank {
            known.formUnion(agreement.received[member]!.failed.filter { agreement.members.contains($0) && $0 != member })
        }
        return decide(key, agreement, RecoveryLink.AgreementResult(words: combined.words, maxima: combined.maxima, failed: known.sorted()), live)
    }

    /// True when `decision` can be this agreement's: as many words and values as this rank's
    /// contribution, and failed ranks that are members.
    private func isWellFormed(_ decision: RecoveryLink.AgreementResult, for agreement: PeerAgreement) -> Bool {
        guard let contribution = agreement.contribution else { return false }
        return decision.words.count == contribution.words.count && decision.maxima.count == contribution.maxima.count
            && decision.failed.allSatisfy { agreement.members.contains($0) }
    }

    /// Takes the coordinator's decision. One that names this rank failed means the others went on
    /// without it (they took a broken connection for its death): it cannot rejoin them, so it
    /// leaves the job with a line saying why, as a failed rank would have (not at the final
    /// meeting of `MPI.finalize()`, whose failed ranks include those that finished first).
    private func accept(_ decision: RecoveryLink.AgreementResult, _ key: AgreementKey, _ agreement: PeerAgreement) -> RecoveryLink.AgreementResult {
        leaveIfNamedFailed(decision, key)
        agreement.decision = decision
        return decision
    }

    private func leaveIfNamedFailed(_ decision: RecoveryLink.AgreementResult, _ key: AgreementKey) {
        guard key.lowest >= 0 && decision.failed.contains(rank) else { return }
        report("rank \(rank): the other ranks agreed that this rank failed (it lost its connections to them); it leaves the job")
        fflush(nil)
        _exit(1)
    }

    /// Records `decision` as agreement `key`'s and sends it to the other live members.
    private func decide(
        _ key: AgreementKey, _ agreement: PeerAgreement, _ decision: RecoveryLink.AgreementResult, _ live: [Int]
    ) -> RecoveryLink.AgreementResult {
        agreement.decision = decision
        let payload = encode(decision.words, decision.maxima, decision.failed)
        for member in live where member != rank { sendRecovery(.decide, key, payload, to: member) }
        return decision
    }

    /// The members a revoke is passed on to: those 2^k places before and after `rank` in the
    /// members' order — O(log n) each, and every member is reached within O(log n) hops however
    /// the revoke entered (n log n packets in all, not n²).
    static func overlayNeighbours(of rank: Int, among members: [Int]) -> [Int] {
        let sorted = members.sorted()
        guard let index = sorted.firstIndex(of: rank), sorted.count > 1 else { return [] }
        var neighbours: Set<Int> = []
        var distance = 1
        while distance < sorted.count {
            neighbours.insert(sorted[(index + distance) % sorted.count])
            neighbours.insert(sorted[(index - distance % sorted.count + sorted.count) % sorted.count])
            distance *= 2
        }
        neighbours.remove(rank)
        return neighbours.sorted()
    }

    /// Tells the other members of the communicator on `pair` (world ranks) that it was revoked.
    func sendRevoke(_ pair: UInt32, to members: [Int]) {
        for member in Set(members) where member != rank && failedPeers[member] == nil {
            sendRecovery(.revoke, AgreementKey(pair: pair, lowest: 0, sequence: 0), [], to: member)
        }
    }

    /// Handles a ``WireKind/recovery`` packet. Malformed ones, and all but revokes outside recovery
    /// mode, are dropped.
    @inline(never)
    func receiveRecovery(_ header: MatchHeader, _ payload: UnsafeRawBufferPointer, from peer: Int) {
        guard let kind = RecoveryPacket(rawValue: header.tag), recovery.enabled || kind == .revoke else { return }
        let key = AgreementKey(pair: header.context & ~1, lowest: Int(header.source), sequence: Int(truncatingIfNeeded: header.length))
        if kind == .revoke {
            // In recovery mode passed on by every member that learns of it first: a revoking rank
            // that dies before it has told everyone still revokes the communicator for all. (Outside
            // it no rank dies, and the revoking rank tells every member itself: no member's extra
            // copy can come late, after the communicator was freed, to revoke the next one on its
            // context ids.)
            guard !isRevoked(key.pair) else { return }
            revokeLocally(key.pair, "revoked by world rank \(peer)")
            guard recovery.enabled else { return }
            sendRevoke(key.pair, to: Self.overlayNeighbours(of: rank, among: CommunicatorMembers.of(key.pair) ?? []).filter { $0 != peer })
            return
        }
        guard let (words, maxima, failed) = decode(payload) else { return }
        // (A bound on what packets can make this rank keep: agreements are few and short-lived.)
        guard recovery.peerAgreements[key] != nil || recovery.peerAgreements.values.count(where: { $0.contribution == nil }) < Self.maximumAgreements
        else { return }
        let agreement = peerAgreement(key)
        agreement.changed = true
        switch kind {
        case .contribute:
            if let decision = agreement.decision {  // it asks a member that already has the result
                answer(peer, key, decision)
            } else {
                agreement.received[peer] = Contribution(words: words, maxima: maxima, failed: failed)
            }
        case .decide:
            agreement.offered[peer] = RecoveryLink.AgreementResult(words: words, maxima: maxima, failed: failed)
        case .query:
            // (Only ranks below the sender can have made it the coordinator; it cannot name itself.
            // A sender this rank holds failed is heard only for the answer below.)
            let heard = failedPeers[peer] == nil
            for failedRank in failed where heard && failedRank >= 0 && failedRank < peer && failedRank != rank && failedPeers[failedRank] == nil {
                failPeer(failedRank, "failed (reported by world rank \(peer))")
            }
            if let decision = agreement.decision {
                answer(peer, key, decision)
            } else if agreement.contribution != nil, agreement.sentTo != peer {
                // (It coordinates now: the failures it named make it this rank's coordinator too.)
                agreement.sentTo = peer
                let mine = agreement.contribution!
                sendRecovery(.contribute, key, encode(mine.words, mine.maxima, agreement.members.filter { failedPeers[$0] != nil }), to: peer)
            }
        case .revoke:
            break
        }
    }

    /// The most agreements packets may begin here before this rank starts them (more are dropped).
    static let maximumAgreements = 4096

    /// True when this rank agreed among the members on the communicator of `context`'s pair: after
    /// `free()` it keeps answering a member still in that agreement, so the pair is not given out
    /// again (Communicator.free).
    func agreedAmongMembers(onPairOf context: UInt32) -> Bool {
        recovery.peerAgreements.keys.contains { $0.pair == context & ~1 }
    }

    private func peerAgreement(_ key: AgreementKey) -> PeerAgreement {
        if let agreement = recovery.peerAgreements[key] { return agreement }
        let agreement = PeerAgreement()
        recovery.peerAgreements[key] = agreement
        return agreement
    }

    /// Answers a member that asks for agreement `key` with its decision — also one this rank holds
    /// failed (a broken connection, not a death, may have made it so): the decision tells it that
    /// the others went on without it, and it leaves the job. To such a member the packet goes only
    /// if its transport takes it at once (never queued for a peer that may be gone).
    private func answer(_ peer: Int, _ key: AgreementKey, _ decision: RecoveryLink.AgreementResult) {
        let payload = encode(decision.words, decision.maxima, decision.failed)
        guard failedPeers[peer] != nil else { return sendRecovery(.decide, key, payload, to: peer) }
        let header = MatchHeader(
            context: key.pair, source: Int32(truncatingIfNeeded: key.lowest), tag: RecoveryPacket.decide.rawValue, length: UInt64(key.sequence))
        _ = payload.withUnsafeBytes { routes.trySend(to: peer, kind: .recovery, header: header, payload: $0) }
    }

    private func sendRecovery(_ kind: RecoveryPacket, _ key: AgreementKey, _ payload: [UInt64], to peer: Int) {
        guard failedPeers[peer] == nil else { return }
        let header = MatchHeader(context: key.pair, source: Int32(truncatingIfNeeded: key.lowest), tag: kind.rawValue, length: UInt64(key.sequence))
        payload.withUnsafeBytes { sendPacket(.recovery, header, $0, to: peer) }
    }

    /// A payload: the three counts, then words, maxima and failed ranks.
    func encode(_ words: [UInt64], _ maxima: [Int], _ failed: [Int]) -> [UInt64] {
        [UInt64(words.count), UInt64(maxima.count), UInt64(failed.count)] + words + maxima.map { UInt64(bitPattern: Int64($0)) }
            + failed.map { UInt64(bitPattern: Int64($0)) }
    }

    /// ``encode(_:_:_:)``'s three lists; nil when the payload does not hold what its counts say.
    private func decode(_ payload: UnsafeRawBufferPointer) -> (words: [UInt64], maxima: [Int], failed: [Int])? {
        let wordSize = MemoryLayout<UInt64>.size
        guard payload.count >= 3 * wordSize, payload.count % wordSize == 0 else { return nil }
        let values = (0..<payload.count / wordSize).map { payload.loadUnaligned(fromByteOffset: $0 * wordSize, as: UInt64.self) }
        let counts = values[0..<3].map { Int(clamping: $0) }
        guard counts.allSatisfy({ $0 <= values.count }), 3 + counts[0] + counts[1] + counts[2] == values.count else { return nil }
        let maximaStart = 3 + counts[0], failedStart = maximaStart + counts[1]
        let words = Array(values[3..<maximaStart])
        let maxima = values[maximaStart..<failedStart].map { Int(Int64(bitPattern: $0)) }
        let failed = values[failedStart...].map { Int(Int64(bitPattern: $0)) }
        return (words, maxima, failed)
    }
}
