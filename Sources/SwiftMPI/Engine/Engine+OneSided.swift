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

    /// A window's RDMA read or write finished (its token: ``WindowState/RemoteAccess/token(window:slot:)``).
    func finishRemoteAccess(_ token: UInt32) {
        let (window, slot) = WindowState.RemoteAccess.decode(token)
        guard window < remoteAccessWindows.count, let state = remoteAccessWindows[window] else { return }
        state.remoteAccess?.finished(slot: slot)
    }

    /// A slot in ``remoteAccessWindows`` for `window` (reused after a window is freed).
    func addRemoteAccessWindow(_ window: WindowState) -> Int {
        if let free = remoteAccessWindows.firstIndex(where: { $0 == nil }) {
            remoteAccessWindows[free] = window
            return free
        }
        remoteAccessWindows.append(window)
        return remoteAccessWindows.count - 1
    }
}
