import SwiftMPITransport

extension Engine {
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
