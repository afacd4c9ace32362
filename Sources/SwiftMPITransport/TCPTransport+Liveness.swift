#if canImport(Glibc)
import Glibc
#endif

// Lost hosts over TCP, without heartbeats of its own: recovery mode among the ranks (under srun,
// where no launcher of SwiftMPI's watches the hosts) must find a peer whose host vanished — cut off
// the network, powered off — within a few seconds, and must not take a live peer that computes for
// a lost one. Both questions are put to the kernels, which answer for their processes. With the
// timeout T (SWIFTMPI_HEARTBEAT_TIMEOUT, default 2 s):
//
// - an idle connection is probed by TCP keepalive: first probe after 1 s of silence, then one a
//   second, and the socket fails with ETIMEDOUT (the next read reports the peer failed) once
//   max(2, T - 1) probes in a row went unanswered — after max(3, T) s; one lost probe is forgiven;
// - a connection whose data the kernel keeps retransmitting (two timeouts in a row at least), or
//   whose peer's closed window goes unanswered, while nothing at all came back on it for T
//   seconds, is found by ``unreachablePeers()``, which recovery mode's idle waits ask four times a
//   second (a live peer that does not read still acknowledges, with a closed window, and answers
//   the probes of that window);
// - a connection being made gives up after max(4, 2T) seconds instead of 30: three SYNs, so that a
//   peer whose accept queue overflowed once (it computes while many connect) is still reached.
//
// A peer's kernel answers while the peer computes or stops in a debugger, so a live rank is taken
// for lost only if its host drops every packet for that long.

extension TCPTransport {
    /// Turns on the detection of peers whose host stopped answering: their connections break
    /// within about `seconds` (at least 1; whole seconds for idle connections), reported as
    /// failures like any broken connection. Only for connections made after this call.
    public func detectLostHosts(after seconds: Double) {
        lostHostTimeout = max(1, seconds)
    }

    /// Keepalive on `fd`: silent for a second, probed every second, failed after max(2, T - 1)
    /// probes in a row go unanswered (at most 127, the kernel's limit).
    static func probeWhenIdle(_ fd: Int32, timeout: Double) {
        var on: Int32 = 1, idle: Int32 = 1, interval: Int32 = 1
        var count = Int32(min(127, max(2, (timeout - 1).rounded(.up))))
        let size = socklen_t(MemoryLayout<Int32>.size)
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, size)
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE, &idle, size)
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPINTVL, &interval, size)
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPCNT, &count, size)
    }

    /// Peers whose connection has data the kernel keeps retransmitting while nothing at all came
    /// back for the lost-host timeout; empty unless ``detectLostHosts(after:)`` turned that on.
    /// (Not ``checkPeers()``, which ends any wait: in recovery mode only what involves them ends.)
    public func unreachablePeers() -> [(peer: Int, reason: String)] {
        guard let lostHostTimeout else { return [] }
        let limit = UInt32(lostHostTimeout * 1000)
        var lost: [(peer: Int, reason: String)] = []
        for (peer, connection) in active where !connection.broken && !failed[peer] {
            var info = tcp_info()
            var length = socklen_t(MemoryLayout<tcp_info>.size)
            guard getsockopt(connection.fd, Int32(IPPROTO_TCP), TCP_INFO, &info, &length) == 0 else { continue }
            let silent = min(info.tcpi_last_ack_recv, info.tcpi_last_data_recv)  // ms since anything came back
            let stuck = (info.tcpi_unacked > 0 && info.tcpi_backoff >= 2) || info.tcpi_probes >= 2
            if stuck && silent >= limit, !lost.contains(where: { $0.peer == peer }) {
                lost.append((peer, "rank \(peer)'s host answered nothing for \(silent) ms: it is unreachable"))
            }
        }
        return lost
    }
}
