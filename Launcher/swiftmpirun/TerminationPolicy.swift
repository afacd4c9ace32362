#if canImport(Glibc)
import Glibc
#endif

/// How a job ends, the same for jobs on one host and across hosts.
///
/// The first failure ends the job: ``end(status:line:)`` prints its one line, records the exit status
/// and sends SIGTERM to every rank, then SIGKILL once ``gracePeriod`` has passed (the job's loop calls
/// ``escalateIfDue(now:)``). Signals to the launcher are forwarded: SIGINT once, a second SIGINT kills;
/// SIGTERM, SIGHUP and SIGQUIT are forwarded and followed by SIGKILL after the grace period.
final class TerminationPolicy {
    /// Time between SIGTERM and SIGKILL when the job is ended.
    static let gracePeriod = 0.5

    private(set) var exitStatus: Int32 = 0
    /// True once the job is being ended.
    private(set) var ending = false
    /// When the ranks still running get SIGKILL.
    private(set) var killDeadline: Double?
    private var interruptCount = 0
    /// True once the launcher was interrupted (SIGINT) at least once.
    var interrupted: Bool { interruptCount > 0 }
    /// Sends a signal to every rank still running (directly, or through the hosts' daemons).
    private let signalRanks: (Int32) -> Void
    private let clock: () -> Double

    init(clock: @escaping () -> Double, signalRanks: @escaping (Int32) -> Void) {
        self.clock = clock
        self.signalRanks = signalRanks
    }

    /// Ends the job once: prints `line`, records `status`, and terminates every rank.
    func end(status: Int32, line: String) {
        guard !ending else { return }
        ending = true
        exitStatus = status
        report(line)
        signalRanks(SIGTERM)
        killDeadline = clock() + Self.gracePeriod
    }

    /// Forwards a signal the launcher received (anything but SIGCHLD).
    func forward(_ signal: Int32) {
        if signal == SIGINT {
            interruptCount += 1
            if interruptCount == 1 {
                signalRanks(SIGINT)
            } else {
                report("second interrupt; killing all ranks")
                signalRanks(SIGKILL)
            }
        } else {
            signalRanks(signal)
            if killDeadline == nil { killDeadline = clock() + Self.gracePeriod }
        }
    }

    /// Sends SIGKILL when the grace period is over.
    func escalateIfDue(now: Double) {
        guard let killDeadline, now >= killDeadline else { return }
        signalRanks(SIGKILL)
        self.killDeadline = nil
    }
}
