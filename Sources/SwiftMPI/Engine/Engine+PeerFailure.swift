#if canImport(Glibc)
import Glibc
#endif

extension Engine {
    /// How long a rank that sees a peer fail waits, once, before the failure becomes an error here.
    static let launcherGrace: UInt32 = 50_000  // µs

    /// A peer failed. The launcher (swiftmpirun, srun) ends the whole job when a rank fails and says
    /// so in one line, and it is about to end this rank too (SIGTERM, ~10 ms after the death here):
    /// waiting briefly, once, lets the job end with that one line instead of every survivor also
    /// printing the error it would otherwise throw now. A rank that outlives the wait (it ignores
    /// SIGTERM, or nothing ends the job) gets the error as before, within the launcher's 0.5 s grace
    /// period before SIGKILL. Failure is rare and fatal, so the pause costs nothing that matters.
    func giveLauncherTimeToEndJob() {
        guard !waitedForLauncher else { return }  // (recovery mode sets it at start: no pause)
        waitedForLauncher = true
        usleep(Self.launcherGrace)
    }

    /// A peer is gone: every operation that depends on it completes with `.processFailed` (sends to it,
    /// receives naming it, and wildcard receives, which it might have matched), and so will every
    /// later one. In recovery mode there is no pause for the launcher (it does not end the job),
    /// wildcard receives end only on communicators that contain the peer, and those communicators'
    /// collectives die (``failCommunicators(containing:_:)``).
    func failPeer(_ peer: Int, _ reason: String) {
        guard failedPeers[peer] == nil else { return }
        giveLauncherTimeToEndJob()
        // Known from the launcher or the other ranks, the link may still be up: the transport must
        // stop writing into the receive buffers ended below before their owners free them.
        routes.abandon(peer: peer, reason: reason)
        failedPeers[peer] = reason
        anyPeerFailed = true
        anyFault = true
        let error = MPIError(.processFailed, "rank \(peer) failed: \(reason)")
        outboxCount -= outboxes[peer].count
        for item in outboxes[peer] {
            switch item {
            case .message(let operation), .stream(let operation):
                operation.error = error
                finishSend(operation)
            case .control, .packet:
                break
            }
        }
        outboxes[peer].removeAll()
        for id in waitingSends.ids where waitingSends.lookup(id)?.destination == peer {
            if let operation = waitingSends.remove(id) {
                operation.error = error
                finishSend(operation)
            }
        }
        var index = 0
        while index < posted.count {
            let operation = posted[index]
            if (operation.pattern.source == MPI.anySourceCode && !recovery.enabled) || operation.peer == peer {
                _ = posted.remove(at: index)
                operation.error = error
                operation.isComplete = true
            } else {
                index += 1
            }
        }
        for id in waitingReceives.ids {
            if let operation = waitingReceives.lookup(id), operation.peer == peer {
                _ = waitingReceives.remove(id)
                operation.error = error
                operation.isComplete = true
            }
        }
        // Shared copies from it: it will finish no chunk now (it is gone, so the descriptor is free).
        for copy in sharedCopies where copy.peer == peer {
            freeCopyDescriptors.append(copy.descriptorIndex)
            copy.operation.error = error
            copy.operation.isComplete = true
        }
        sharedCopies.removeAll { $0.peer == peer }
        if recovery.enabled { failCommunicators(containing: peer, reason) }
    }

    /// Asks the transports whether their peers are alive (the ones whose links outlive a dead peer:
    /// shared memory); throws `.processFailed`, naming `call`, for the first one gone. The wait ends
    /// with that error; the peer's other operations are left as they are (a transport whose link
    /// breaks reports the failure itself, and then ``failPeer(_:_:)`` fails them all). In recovery
    /// mode the shared-memory transport reports nothing here: ``recoveryIdle()`` fails gone peers
    /// instead, so that a wait ends only if it involves one. (This function is inlined into every
    /// wait loop: anything more in it cost ~12 % of the 8-byte message rate, measured.)
    func checkPeersAlive(_ call: @autoclosure () -> String) throws(MPIError) {
        if let (_, reason) = lookForDeadPeers().first {
            giveLauncherTimeToEndJob()
            throw MPIError(.processFailed, "\(call()): \(reason)")
        }
    }

    /// ``Routes/checkPeers()``, after making sure a connection exists or is being made to the source
    /// of every posted receive reached over TCP: connections are made at a peer's first packet, so
    /// a peer that dies before it sends anything is noticed only by connecting to it.
    @inline(never)
    func lookForDeadPeers() -> [(peer: Int, reason: String)] {
        if routes.tcp != nil {
            var index = 0
            while index < posted.count {
                routes.expectPackets(from: posted[index].peer)
                index += 1
            }
        }
        return routes.checkPeers()
    }
}
