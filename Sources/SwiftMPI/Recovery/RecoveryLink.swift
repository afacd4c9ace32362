#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import SwiftMPIWireup

/// This rank's side of the launcher's recovery coordinator (`swiftmpirun --enable-recovery`):
/// notices the launcher pushes (a rank failed, a communicator was revoked, an agreement's result)
/// and the requests this rank sends (revoke, agree).
///
/// The link is the rank's status channel (descriptor 3, ``WaitReport``): the launcher writes `?`
/// for a hang report, or a line starting with `!`, which the status thread hands to ``receive(_:)``;
/// the rank writes its requests as `!` lines on the same socket. Lines are text, one per notice
/// (docs/Recovery.md lists them). The engine takes the notices when it has nothing else to do
/// (``Engine/absorbRecoveryNotices()``): ``pending`` is one atomic load on the idle path.
enum RecoveryLink {
    /// Notices received and not yet taken by the engine (a count; nonzero means look).
    static let pending = Atomic<Int>(0)

    /// What the launcher told this rank.
    enum Notice: Equatable {
        /// World rank `rank` is gone (`reason` as the launcher says it).
        case failed(rank: Int, reason: String)
        /// The communicator whose point-to-point context is `context` was revoked by world rank `by`.
        case revoked(context: UInt32, by: Int)
    }

    /// The launcher's answer to one agreement (``Agreement``).
    struct AgreementResult: Equatable {
        /// The members' words combined with bitwise and.
        var words: [UInt64]
        /// The members' values combined with max.
        var maxima: [Int]
        /// The world ranks of the members that failed before the agreement was decided.
        var failed: [Int]
    }

    private struct Inbox {
        var notices: [Notice] = []
        var results: [String: AgreementResult] = [:]
    }

    private static let inbox = Mutex(Inbox())

    /// Parses one line from the launcher (without its `!` and newline); lines it does not know are
    /// ignored, so a newer launcher's notices cannot break an older rank.
    static func receive(_ line: Substring) {
        // Ranks that agree among themselves learn of failures from their transports alone, as
        // under srun (so SWIFTMPI_RECOVERY_AGREEMENT=peers tests that path under swiftmpirun).
        guard coordinated else { return }
        let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: false)
        switch fields.first {
        case "failed" where fields.count >= 2:
            guard let rank = Int(fields[1]) else { return }
            let reason = line.split(separator: " ", maxSplits: 2).dropFirst(2).first.map(String.init) ?? "failed"
            post(.failed(rank: rank, reason: reason))
        case "revoked" where fields.count >= 2:
            guard let context = UInt32(fields[1]) else { return }
            post(.revoked(context: context, by: fields.count > 2 ? Int(fields[2]) ?? -1 : -1))
        case "agreed" where fields.count >= 5:
            guard let words = RecoveryLine.parse(fields[2], radix: 16, as: UInt64.self), let maxima = RecoveryLine.parse(fields[3]),
                let failed = RecoveryLine.parse(fields[4])
            else { return }
            let key = String(fields[1])
            inbox.withLock { $0.results[key] = AgreementResult(words: words, maxima: maxima, failed: failed) }
            pending.add(1, ordering: .releasing)
        default: return
        }
    }

    private static func post(_ notice: Notice) {
        inbox.withLock { $0.notices.append(notice) }
        pending.add(1, ordering: .releasing)
    }

    /// Takes the notices received so far (the engine applies them in order).
    static func takeNotices() -> [Notice] {
        pending.store(0, ordering: .relaxed)
        return inbox.withLock { inbox in
            defer { inbox.notices.removeAll() }
            return inbox.notices
        }
    }

    /// Takes the result of agreement `key` if it has arrived.
    static func takeResult(_ key: String) -> AgreementResult? {
        inbox.withLock { $0.results.removeValue(forKey: key) }
    }

    /// True when the launcher coordinates revokes and agreements on the status channel
    /// (`swiftmpirun --enable-recovery`); false where the members agree among themselves (under
    /// `srun`, or `SWIFTMPI_RECOVERY_AGREEMENT=peers`). Set once at start-up, before any other
    /// thread runs.
    nonisolated(unsafe) static var coordinated = false

    /// Whether the environment says the launcher coordinates recovery (read before ``start()``).
    static var launcherCoordinates: Bool {
        WireupEnvironment.value(WireupEnvironment.recoveryCoordinator) == "1"
            && WireupEnvironment.value(WireupEnvironment.recoveryAgreement) != "peers"
    }

    /// Reads (and removes from the environment) whether the launcher coordinates recovery.
    static func start() {
        coordinated = launcherCoordinates
        unsetenv(WireupEnvironment.recoveryCoordinator)
    }

    /// Sends a request line (`!` and the newline are added); false when no launcher coordinates
    /// recovery (it could not be answered).
    static func send(_ line: String) -> Bool { coordinated && WaitReport.sendToLauncher("!" + line + "\n") }
}
