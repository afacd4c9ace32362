import SwiftMPIWireup

/// Recovery from failed ranks (ULFM: User-Level Failure Mitigation, as Open MPI 5 ships it with
/// `MPIX_Comm_revoke`, `MPIX_Comm_shrink`, `MPIX_Comm_agree` and `MPIX_Comm_failure_ack`).
///
/// In recovery mode (`swiftmpirun --enable-recovery`) a failed rank does not end the job: every
/// operation that involves it ends with `.processFailed` — point-to-point calls naming it, wildcard
/// receives on communicators that contain it until their failures are acknowledged, and every
/// collective on such a communicator — and the others go on. The survivors agree that something
/// went wrong (``agree(_:)-(Int)``), ``revoke()`` the communicator so that every member leaves what it
/// was doing, ``shrink()`` it to the survivors and go on from a checkpoint. docs/Recovery.md has the
/// pattern, the detection times and what the launcher does.
extension MPI {
    /// True when this job runs in recovery mode (`swiftmpirun --enable-recovery`, or
    /// `SWIFTMPI_RECOVERY=1`): a failed rank ends only what involves it, and ``Communicator/revoke()``,
    /// ``Communicator/agree(_:)-(Int)`` and ``Communicator/shrink()`` work. False before
    /// `MPI.initialize()` and after `MPI.finalize()`.
    public static var recoveryMode: Bool { Runtime.current?.engine.recovery.enabled ?? false }
}

extension Communicator {
    /// The ranks of this communicator (of the remote group on an intercommunicator) known here to
    /// have failed, in increasing order. Local knowledge: another member may know of more or fewer
    /// until an ``agree(_:)-(Int)`` or ``shrink()``.
    public var failedRanks: [Int] {
        (try? runtime.withEngine("failedRanks") { engine in
            if RecoveryLink.pending.load(ordering: .relaxed) != 0 { engine.absorbRecoveryNotices() }
            return state.worldRanks.indices.filter { engine.failedPeers[state.worldRanks[$0]] != nil }
        }) ?? []
    }

    /// True once this communicator was revoked, here or by another member.
    public var isRevoked: Bool {
        (try? runtime.withEngine("isRevoked") { engine in
            if RecoveryLink.pending.load(ordering: .relaxed) != 0 { engine.absorbRecoveryNotices() }
            return engine.isRevoked(context)
        }) ?? false
    }

    /// Acknowledges the failures known now (MPIX_Comm_failure_ack): wildcard receives
    /// (`MPI.anySource`) on this communicator work again as long as no further rank fails.
    /// Returns the acknowledged ranks (``acknowledgedFailures``). Collectives still fail while the
    /// communicator contains a failed rank: ``shrink()`` makes one that does not.
    @discardableResult
    public func acknowledgeFailures() -> [Int] {
        (try? runtime.withEngine("acknowledgeFailures") { engine in
            if RecoveryLink.pending.load(ordering: .relaxed) != 0 { engine.absorbRecoveryNotices() }
            let failed = state.worldRanks.filter { engine.failedPeers[$0] != nil }
            engine.recovery.acknowledged[context & ~1, default: []].formUnion(failed)
            return acknowledged(engine)
        }) ?? []
    }

    /// The ranks whose failure was acknowledged with ``acknowledgeFailures()``
    /// (MPIX_Comm_failure_get_acked), in increasing order.
    public var acknowledgedFailures: [Int] { (try? runtime.withEngine("acknowledgedFailures") { acknowledged($0) }) ?? [] }

    private func acknowledged(_ engine: Engine) -> [Int] {
        let acknowledged = engine.recovery.acknowledged[context & ~1] ?? []
        return state.worldRanks.indices.filter { acknowledged.contains(state.worldRanks[$0]) }
    }

    /// Revokes the communicator (MPIX_Comm_revoke): every pending and later operation on it, on
    /// every member, ends with `.revoked` — but ``agree(_:)-(Int)``, ``shrink()`` and the failure
    /// queries, which work on a revoked communicator. A member blocked in a receive or a collective
    /// that can no longer complete leaves it this way. Local and immediate here; the other members
    /// learn of it within milliseconds, through the launcher (`swiftmpirun --enable-recovery`) or
    /// from this rank directly (under `srun`, and outside recovery mode: at their next progress).
    ///
    /// Works outside recovery mode too, as ULFM's revoke does without failures: a program may
    /// revoke a communicator to interrupt its members (the job still ends when a rank fails).
    public func revoke() throws(MPIError) {
        try typedErrors {
            let members = state.group.worldRanks + (state.remoteGroup?.worldRanks ?? [])
            try runtime.withEngine("revoke") { engine in
                engine.revokeLocally(context, "revoked by world rank \(runtime.rank)")
                if !RecoveryLink.coordinated { engine.sendRevoke(context & ~1, to: members) }
            }
            if RecoveryLink.coordinated { _ = RecoveryLink.send("revoke \(context & ~1) \(RecoveryLine.list(members))") }
        }
    }

    /// Agrees on `flag` with every member that has not failed (MPIX_Comm_agree): returns the
    /// bitwise and of the survivors' flags, the same on every survivor, however ranks fail during
    /// the call. Works on a revoked communicator. Afterwards ``failedRanks`` includes every member
    /// the agreement found failed.
    ///
    /// - Throws: `.invalidArgument` outside recovery mode or on an intercommunicator.
    public func agree(_ flag: Int) throws(MPIError) -> Int {
        let result = try agreement(words: [UInt64(bitPattern: Int64(flag))], maxima: [], "agree")
        return Int(Int64(bitPattern: result.words.first ?? 0))
    }

    /// ``agree(_:)-(Int)`` that also returns the members the agreement found failed, in increasing
    /// order: the same value and the same ranks on every survivor. (MPIX_Comm_agree raises
    /// MPIX_ERR_PROC_FAILED when one of them was not acknowledged by the caller: this is how.)
    public func agreeReportingFailures(_ flag: Int) throws(MPIError) -> (value: Int, failedRanks: [Int]) {
        let result = try agreement(words: [UInt64(bitPattern: Int64(flag))], maxima: [], "agree")
        let failed = Set(result.failed)
        return (Int(Int64(bitPattern: result.words.first ?? 0)), state.group.worldRanks.indices.filter { failed.contains(state.group.worldRanks[$0]) })
    }

    /// ``agree(_:)-(Int)`` of a Boolean: true when every survivor passed true.
    public func agree(_ flag: Bool) throws(MPIError) -> Bool { try agree(flag ? 1 : 0) & 1 == 1 }

    /// A communicator of this one's members that have not failed, in the same order
    /// (MPIX_Comm_shrink). Collective over the survivors, and it works on a revoked communicator:
    /// every survivor gets a communicator of the same ranks, however ranks fail during the call. The
    /// new communicator keeps this one's error handler (not its attributes or topology).
    ///
    /// - Throws: `.invalidArgument` outside recovery mode or on an intercommunicator.
    public func shrink() throws(MPIError) -> Communicator {
        try typedErrors {
            let proposal = try runtime.withEngine("shrink") { $0.contextIds.propose() }
            let result: RecoveryLink.AgreementResult
            do {
                result = try agreement(words: proposal.mask, maxima: proposal.maxima, "shrink")
            } catch {
                _ = try? runtime.withEngine("shrink") { $0.contextIds.abandon() }
                throw error
            }
            let agreed = try runtime.withEngine("shrink") { $0.contextIds.settle(common: result.words, maxima: result.maxima) }
            let failed = Set(result.failed)
            let survivors = Group(worldRanks: state.group.worldRanks.filter { !failed.contains($0) }, myWorldRank: state.group.myWorldRank)
            let made = CommunicatorState(context: agreed.context, channel: agreed.channel, group: survivors)
            made.errorHandler = state.errorHandler
            return Communicator(runtime: runtime, state: made)
        }
    }

    /// Sends this rank's contribution to the launcher's coordinator, or to the members' own
    /// (Engine+Agreement.swift) where no launcher coordinates, and waits (progressing) for the
    /// result, which every survivor gets alike; applies the failures it reports.
    private func agreement(words: [UInt64], maxima: [Int], _ call: StaticString) throws(MPIError) -> RecoveryLink.AgreementResult {
        try typedErrors {
            guard !isIntercommunicator else { throw MPIError(.invalidArgument, "\(call): on an intercommunicator (not supported yet)") }
            let members = state.group.worldRanks
            let key = try runtime.withEngine(call) { engine in
                guard engine.recovery.enabled else { throw Self.needsRecoveryMode(call) }
                let pair = context & ~1
                let sequence = engine.recovery.agreements[pair, default: 0]
                engine.recovery.agreements[pair] = sequence + 1
                return Engine.AgreementKey(pair: pair, lowest: members.min() ?? 0, sequence: sequence)
            }
            var result: RecoveryLink.AgreementResult?
            let name = Communicator.reportName(context: context, size: size)
            if RecoveryLink.coordinated {
                let line = "\(key.pair).\(key.lowest).\(key.sequence)"
                _ = RecoveryLink.send("agree \(line) \(RecoveryLine.list(members)) \(RecoveryLine.list(words, radix: 16)) \(RecoveryLine.list(maxima))")
                try runtime.wait(call, "(\(size) ranks) on \(name), through the launcher") { _ in
                    if result == nil { result = RecoveryLink.takeResult(line) }
                    return result != nil
                }
            } else {
                try runtime.withEngine(call) { $0.startAgreement(key, members: members, words: words, maxima: maxima) }
                try runtime.wait(call, "(\(size) ranks) on \(name), among the members") { engine in
                    if result == nil { result = engine.advanceAgreement(key) }
                    return result != nil
                }
            }
            let agreed = result!
            try runtime.withEngine(call) { engine in
                for peer in agreed.failed where peer >= 0 && peer < engine.size && peer != engine.rank && engine.failedPeers[peer] == nil {
                    engine.failPeer(peer, "failed (found by \(call))")
                }
            }
            return agreed
        }
    }

    /// `MPI.finalize()` in recovery mode under a resource manager: an agreement of every world rank
    /// that has not failed (the manager's fence would wait for the failed ones too), then what it
    /// sent is delivered, so no survivor leaves while another still waits for its decision.
    static func finalAgreement(_ runtime: Runtime) throws(MPIError) {
        try SwiftMPI.typedErrors {
            let key = Engine.AgreementKey(pair: 0, lowest: -1, sequence: 0)  // the world's, apart from its agreements
            try runtime.withEngine("MPI.finalize()") { $0.startAgreement(key, members: Array(0..<runtime.size), words: [], maxima: []) }
            try runtime.wait("MPI.finalize()", ", for every rank that has not failed to call it") { $0.advanceAgreement(key) != nil }
            try runtime.wait("MPI.finalize()") { $0.outboxCount == 0 && !$0.routes.hasPendingOutput }
        }
    }

    private static func needsRecoveryMode(_ call: StaticString) -> MPIError {
        MPIError(.invalidArgument, "\(call): needs recovery mode (swiftmpirun --enable-recovery, or SWIFTMPI_RECOVERY=1)")
    }
}
