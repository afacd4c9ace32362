#if canImport(Glibc)
import Glibc
#endif

// Lost hosts over TCP, without heartbeats of its own: recovery mode among the ranks (under srun,
// where no launcher of SwiftMPI's watches the hosts) must find a peer whose host vanished — cut off
// the network, powered off — within a few seconds, and must never take a live peer that computes
// for a lost one. Both questions are put to the kernels, which answer for their processes:
//
// - an idle connection is probed by TCP keepalive (first probe after 1 s of silence, then every
//   second; after `timeout - 1` probes unanswered the socket fails with ETIMEDOUT, and the next
//   read reports the peer failed);
// - a connection with data in flight that stays unacknowledged (the kernel retransmits it) while
//   no acknowledgement at all has come for `timeout` seconds is found by ``unreachablePeers()``,
//   which recovery mode's idle waits ask four times a second (a live
//   peer that does not read still acknowledges: its window closes, and the probes of a closed window
//   are acknowledged too);
// - a connection being made gives up after `timeout` seconds instead of 30 (the handshake of TCP
//   itself is the kernel's work, not the peer's).
//
// A peer's kernel answers while the peer computes or stops in a debugger, so none of this fails a
// live rank; only a host that stopped answering at all (or a network that drops everything).

extension TCPTransport {
    /// Turns on the detection of peers whose host stopped answering: their connections break
    /// within about `seconds` (at least 1; whole seconds for idle connections), reported as
    /// failures like any broken connection. Only for connections made after this call.
    public func detectLostHosts(after seconds: Double) {
        lostHostTimeout = max(1, seconds)
    }

    /// Keepalive on `fd`: silent for a second, probed every second, failed after the probes of
    /// `timeout` seconds go unanswered.
    static func probeWhenIdle(_ fd: Int32, timeout: Double) {
        var on: Int32 = 1, idle: Int32 = 1, interval: Int32 = 1
        var count = Int32(max(1, (timeout - 1).rounded(.up)))
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
            if info.tcpi_unacked > 0 && info.tcpi_backoff > 0 && info.tcpi_last_ack_recv >= limit,
                !lost.contains(where: { $0.peer == peer })
            {
                lost.append((peer, "rank \(peer)'s host acknowledged nothing for \(info.tcpi_last_ack_recv) ms: it is unreachable"))
            }
        }
        return lost
    }
}

extension Double {
    /// One decimal ("2.0", "30.0").
    var formatted1: String {
        let tenths = Int((self * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
