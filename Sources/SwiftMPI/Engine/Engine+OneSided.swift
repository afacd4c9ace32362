import SwiftMPITransport

extension Engine {
    /// Sends a one-sided request or reply to world rank `peer`, after whatever is queued for it: on
    /// the wire at once when the transport has room (nothing allocated), else a copy of `payload`
    /// waits in the outbox. Either way `payload` may change as soon as this returns, so a put is
    /// complete at the origin when its call returns. The requests of a window are served by
    /// ``WindowState/serve(_:_:from:engine:)`` in the packet dispatch.
    func sendRMA(_ kind: WireKind, _ header: MatchHeader, _ payload: UnsafeRawBufferPointer, to peer: Int) {
        if outboxes[peer].isEmpty && routes.trySend(to: peer, kind: kind, header: header, payload: payload) { return }
        outboxes[peer].append(.packet(kind, header, Array(payload)))
        outboxCount += 1
    }

    /// Grants the lock requests windows could not grant when they arrived (their holders have
    /// gone since); true when any was.
    func grantWaitingLocks() -> Bool {
        var granted = false
        for window in windows.values where !window.waitingLocks.isEmpty {
            if window.grantWaitingLocks(engine: self) { granted = true }
        }
        return granted
    }
}
