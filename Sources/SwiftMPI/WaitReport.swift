#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import SwiftMPIWireup

/// What this rank is blocked in, for `swiftmpirun`'s reports of a hung job: on `--timeout`, the first
/// Ctrl-C or SIGTERM, and SIGUSR1 the launcher asks every rank, and each answers one line such as
/// `rank 0: waiting 7.0 s in recv(from: 1, tag: 7, 8 bytes) on world`.
///
/// A wait publishes its call only once it has been idle for a quarter of a second (the engine's wait
/// loop reads the clock every 1024 idle polls, or after each yield or sleep), so the small-message
/// path pays nothing. The
/// launcher hands each rank one end of a socket pair as descriptor 3 (`SWIFTMPI_STATUS_FD=3`); a
/// thread of the rank sleeps in read(2) on it and answers each request with the line.
///
/// Ranks started by a resource manager (`srun`, Open MPI's `mpirun`) have no launcher of ours to ask
/// them, so they answer signals themselves: SIGUSR1 (`scancel --signal=USR1`, or a signal srun
/// forwards) writes the line to the rank's stderr, prefixed `SwiftMPI: `; SIGTERM and SIGINT (a time
/// limit, `scancel`, Ctrl-C of srun or mpirun) write it and then take their default action, so the
/// rank still ends by that signal. Only signals whose disposition is still the default are taken.
enum WaitReport {
    private struct State {
        var call: String?
        var since = 0.0
        var finished = false
        var publications = 0
    }

    private static let state = Mutex(State())

    /// Waits idle for this long before they are published.
    static let publishAfter = 0.25

    /// How many waits were published so far: each builds its call's text (one allocation, after
    /// ``publishAfter`` seconds of idleness), which the allocation check tells apart from the
    /// message path's.
    static var publications: Int { state.withLock { $0.publications } }

    /// A wait in `call` (as the user wrote it) has been idle since `since` (``MPI/wtime()``).
    static func waiting(in call: String, since: Double) {
        state.withLock {
            $0.call = call
            $0.since = since
            $0.publications += 1
        }
    }

    /// The published wait ended.
    static func resumed() { state.withLock { $0.call = nil } }

    /// `MPI.finalize()` returned.
    static func finished() { state.withLock { $0.finished = true } }

    /// This rank's answer.
    static func line(rank: Int) -> String {
        let now = MPI.wtime()
        return state.withLock { state in
            if state.finished { return "rank \(rank): finished (MPI.finalize() returned)" }
            guard let call = state.call else { return "rank \(rank): not waiting in SwiftMPI (computing, or blocked outside it)" }
            let tenths = Int((max(0, now - state.since) * 10).rounded())
            return "rank \(rank): waiting \(tenths / 10).\(tenths % 10) s in \(call)"
        }
    }

    /// Starts the thread that answers the launcher, when the launcher gave this rank a status channel,
    /// or (`underManager`: srun or mpirun started this rank) the thread that answers signals.
    static func startAnswering(rank: Int, underManager: Bool) {
        if let text = WireupEnvironment.value(WireupEnvironment.statusFD), let fd = Int32(text), fd >= 0 {
            unsetenv(WireupEnvironment.statusFD)  // not for programs this rank starts
            guard fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 else { return }
            answering.withLock { $0 = (fd, rank, false) }
            startThread()
        } else if underManager {
            answerSignals(rank: rank)
        }
    }

    /// Starts the detached thread that serves `answering`: launcher requests, or signals.
    private static func startThread() {
        var thread = pthread_t()
        let created = pthread_create(
            &thread, nil,
            { _ in
                WaitReport.serve()
                return nil
            }, nil)
        if created == 0 { pthread_detach(thread) }
    }

    /// The descriptor the thread reads (the launcher's socket, or the signal pipe), and which.
    private static let answering = Mutex<(fd: Int32, rank: Int, signals: Bool)>((-1, 0, false))

    /// The signals a rank started by a resource manager answers, and the pipe their handler writes
    /// each one's number to (written once, before any handler is installed).
    private static let answeredSignals = [SIGUSR1, SIGTERM, SIGINT]
    nonisolated(unsafe) private static var signalPipe: (read: Int32, write: Int32) = (-1, -1)

    private static func answerSignals(rank: Int) {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        signalPipe = (ends[0], ends[1])
        answering.withLock { $0 = (ends[0], rank, true) }
        startThread()
        for signal in answeredSignals {
            var current = sigaction()
            guard sigaction(signal, nil, &current) == 0, current.__sigaction_handler.sa_handler == nil else { continue }  // not SIG_DFL
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in
                // Async-signal-safe: one write(2) of the signal's number; errno is left as it was.
                let saved = errno
                var number = UInt8(truncatingIfNeeded: signal)
                _ = write(WaitReport.signalPipe.write, &number, 1)
                errno = saved
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(signal, &action, nil)
        }
    }

    /// Serves `answering` until its descriptor closes: each byte from the launcher gets the line back;
    /// each signal number from the pipe gets the line on stderr, and after SIGTERM or SIGINT the
    /// default action is restored and the signal sent again, which ends the process as it would have
    /// without us.
    private static func serve() {
        let (fd, rank, signals) = answering.withLock { $0 }
        var byte: UInt8 = 0
        var notice: [UInt8] = []
        while true {
            // EINTR retried by systemCall; an error or end of file ends the answering thread.
            guard (try? systemCall("read") { read(fd, &byte, 1) }) == 1 else { break }
            guard signals else {
                if !notice.isEmpty || byte == UInt8(ascii: "!") {  // a recovery notice: a line (RecoveryLink)
                    if byte != UInt8(ascii: "\n") {
                        if notice.count < 1 << 20 { notice.append(byte) }
                        continue
                    }
                    RecoveryLink.receive(Substring(decoding: notice.dropFirst(), as: UTF8.self))
                    notice.removeAll(keepingCapacity: true)
                    continue
                }
                _ = sendToLauncher(line(rank: rank) + "\n")  // (takes the lock its closing takes)
                continue
            }
            writeAll(STDERR_FILENO, "SwiftMPI: " + line(rank: rank) + "\n")
            let signal = Int32(byte)
            guard signal != SIGUSR1 else { continue }
            var action = sigaction()
            action.__sigaction_handler.sa_handler = nil  // SIG_DFL
            sigemptyset(&action.sa_mask)
            sigaction(signal, &action, nil)
            kill(getpid(), signal)
        }
        launcherWrites.withLock { _ in answering.withLock { $0.fd = -1 } }  // no write may reach a reused descriptor
        close(fd)
    }

    /// Serializes what this rank writes to the launcher: hang reports from the answering thread,
    /// recovery requests from the calling threads (``RecoveryLink``).
    private static let launcherWrites = Mutex(())

    /// Writes `text` (whole lines) to the launcher's status channel; false when there is none.
    static func sendToLauncher(_ text: String) -> Bool {
        launcherWrites.withLock { _ in
            // Read under the lock that the answering thread takes to close it: never a reused descriptor.
            let (fd, _, signals) = answering.withLock { $0 }
            guard fd >= 0, !signals else { return false }
            return writeAll(fd, text, socket: true)
        }
    }

    /// Writes all of `text`; a `socket` is written with send(MSG_NOSIGNAL), so a launcher gone
    /// is an error here rather than SIGPIPE.
    @discardableResult
    private static func writeAll(_ fd: Int32, _ text: String, socket: Bool = false) -> Bool {
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let chunk = bytes[written...]
            guard
                let n = try? chunk.withUnsafeBytes({ buffer in
                    try systemCall("write") {
                        socket ? send(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL)) : write(fd, buffer.baseAddress, buffer.count)
                    }
                }), n > 0
            else { return false }
            written += n
        }
        return true
    }
}

extension MPI {
    /// How many of this rank's waits were published for hang reports (``WaitReport``): the package's
    /// allocation check subtracts their one allocation each from what it counts.
    package static var waitReportsPublished: Int { WaitReport.publications }
}
