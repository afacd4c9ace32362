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
enum WaitReport {
    private struct State {
        var call: String?
        var since = 0.0
        var finished = false
    }

    private static let state = Mutex(State())

    /// Waits idle for this long before they are published.
    static let publishAfter = 0.25

    /// A wait in `call` (as the user wrote it) has been idle since `since` (``MPI/wtime()``).
    static func waiting(in call: String, since: Double) {
        state.withLock {
            $0.call = call
            $0.since = since
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

    /// Starts the thread that answers the launcher, when the launcher gave this rank a status channel.
    static func startAnswering(rank: Int) {
        guard let text = WireupEnvironment.value(WireupEnvironment.statusFD), let fd = Int32(text), fd >= 0 else { return }
        unsetenv(WireupEnvironment.statusFD)  // not for programs this rank starts
        guard fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 else { return }
        answering.withLock { $0 = (fd, rank) }
        var thread = pthread_t()
        let created = pthread_create(
            &thread, nil,
            { _ in
                WaitReport.answerRequests()
                return nil
            }, nil)
        if created == 0 { pthread_detach(thread) }
    }

    private static let answering = Mutex<(fd: Int32, rank: Int)>((-1, 0))

    /// Answers each request byte with one line until the launcher closes its end.
    private static func answerRequests() {
        let (fd, rank) = answering.withLock { $0 }
        var request: UInt8 = 0
        while true {
            let count = read(fd, &request, 1)
            if count < 0 && errno == EINTR { continue }
            guard count == 1 else { break }
            let reply = Array((line(rank: rank) + "\n").utf8)
            var written = 0
            while written < reply.count {
                let n = reply[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { break }
                written += n
            }
        }
        close(fd)
    }
}
