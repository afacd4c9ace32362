import CShims

/// The synchronization calls of a window, shared by ``Window`` and the C interface's windows: epochs
/// as MPI-4.1 §12.5 defines them, on both paths (``WindowState``).
extension WindowState {
    /// MPI_Win_fence. Collective. With `noSucceed` (MPI_MODE_NOSUCCEED) no fence epoch follows: calls
    /// need another epoch until the next fence.
    func fence(noSucceed: Bool = false, _ call: String) throws {
        try checkOpen(call)
        guard locks.isEmpty && !lockedAll && accessGroup == nil && exposureGroup == nil else {
            throw MPIError(.rmaSynchronization, "\(call): a lock, lockAll, start or post epoch is still open on this rank")
        }
        // A target's report of a bad access is thrown after the barrier, so that no rank waits in it.
        var refused: MPIError?
        do { try flushAll(call) } catch let error as MPIError where error.code == .rmaRange { refused = error }
        try communicator.barrier()
        cshims_memory_fence()
        fenceOpen = !noSucceed
        if let refused { throw refused }
    }

    /// A lock or lockAll starts a passive-target epoch: not inside a start() access epoch, and it
    /// ends the epoch a fence may have opened (MPI-4.1 §12.5: a fence followed by a lock opens no
    /// fence epoch; calls after the unlock need a new epoch).
    private func beginPassiveEpoch(_ call: String) throws {
        guard accessGroup == nil else {
            throw MPIError(.rmaSynchronization, "\(call): a start() access epoch is open on this rank (complete() it first)")
        }
        fenceOpen = false
    }

    /// MPI_Win_lock: waits until this rank holds `target`'s lock.
    func lock(exclusive: Bool, rank target: Int, noCheck: Bool = false, _ call: String) throws {
        try checkOpen(call)
        if target == MPI.procNull { return }
        guard target >= 0 && target < size else { throw MPIError(.invalidRank, "\(call): rank \(target) is outside 0..<\(size)") }
        if unlockableRanks.contains(target) {
            throw MPIError(.rmaSynchronization, "\(call): rank \(target) made the window with the hint no_locks=true, so it is not locked")
        }
        guard locks[target] == nil && !lockedAll else {
            throw MPIError(.rmaSynchronization, "\(call): this rank already holds rank \(target)'s lock (unlock it first)")
        }
        try beginPassiveEpoch(call)
        if noCheck {
            noCheckLocks.insert(target)  // MPI_MODE_NOCHECK: nothing to take
        } else if target == rank && servesMessages {
            // This rank's own lock, which other ranks request by messages: it queues behind them
            // (they asked first), in one first-come first-served queue, so that neither a loop of
            // local lock and unlock starves them nor their stream of requests starves it.
            try runtime.withEngine("lock") { engine in
                if waitingLocks.isEmpty && WindowLockWord.tryAcquire(ownLock, exclusive: exclusive) {
                    ownLockGranted = true
                } else {
                    if waitingLocks.isEmpty { engine.windowsWithWaitingLocks += 1 }
                    waitingLocks.append((rank, exclusive, -1))
                }
            }
            try runtime.wait("Window.lock", "(rank: \(target))") { _ in ownLockGranted }
            ownLockGranted = false
        } else if let word = memory.lockWords[target] {
            try runtime.wait("Window.lock", "(rank: \(target))") { _ in WindowLockWord.tryAcquire(word, exclusive: exclusive) }
        } else {
            try runtime.withEngine("lock") { engine in sendControl(.lock, to: target, flags: exclusive ? 1 : 0, engine: engine) }
            try awaitReplies("lock(rank: \(target))")
        }
        locks[target] = exclusive ? .exclusive : .shared
        accessible[target] = true
    }

    /// MPI_Win_unlock: the calls of the epoch are complete at `target`, and its lock released.
    func unlock(rank target: Int, _ call: String) throws {
        try checkOpen(call)
        if target == MPI.procNull { return }
        guard target >= 0 && target < size, let kind = locks[target] else {
            throw MPIError(.rmaSynchronization, "\(call): this rank does not hold rank \(target)'s lock")
        }
        try release(target, exclusive: kind == .exclusive, "\(call)(rank: \(target))")
        locks[target] = nil
        accessible[target] = false
    }

    private func release(_ target: Int, exclusive: Bool, _ call: String) throws {
        try awaitRemoteAccess(call)  // the epoch's RDMA writes are in the target's memory first
        if noCheckLocks.remove(target) != nil { return try flush(target, call) }
        if let word = memory.lockWords[target] {
            cshims_memory_fence()
            WindowLockWord.release(word, exclusive: exclusive)
            if target == rank { try serveMessages() }  // grants the lock to a rank waiting for it by messages
            return
        }
        try runtime.withEngine("unlock") { engine in
            sendControl(.unlock, to: target, engine: engine)
            if isUnflushed[target] {
                isUnflushed[target] = false
                unflushed.removeAll { $0 == target }
            }
        }
        try awaitReplies(call)
    }

    /// MPI_Win_lock_all: every rank's lock, shared. The lock words mapped here are taken at once;
    /// the lock of a rank reached by messages at the first access to it in the epoch
    /// (``lockLazily(_:_:)``), as MPI allows (a lock call may return before the lock is held), so an
    /// epoch of a 1 000-node job that touches a few neighbours sends a few lock requests, not N.
    func lockAll(noCheck: Bool = false, _ call: String) throws {
        try checkOpen(call)
        if let target = unlockableRanks.min() {
            throw MPIError(.rmaSynchronization, "\(call): rank \(target) made the window with the hint no_locks=true, so not every rank is locked")
        }
        guard locks.isEmpty && !lockedAll else { throw MPIError(.rmaSynchronization, "\(call): this rank already holds a lock on the window") }
        try beginPassiveEpoch(call)
        if noCheck {  // MPI_MODE_NOCHECK: no lock anywhere; unlockAll completes the calls (a flush)
            noCheckAll = true
            lockedAll = true
            return
        }
        for target in 0..<size {
            if let word = memory.lockWords[target] {
                try runtime.wait("Window.lockAll", "(rank: \(target))") { _ in WindowLockWord.tryAcquire(word, exclusive: false) }
            }
        }
        lockedAll = true
    }

    /// In a lockAll epoch, takes `target`'s shared lock before the first access to it by messages
    /// (or RDMA): one request and its grant.
    @inline(__always)
    func lockLazily(_ target: Int, _ call: String) throws {
        guard lockedAll, lazyLocks[target] != 2, !noCheckAll, memory.lockWords[target] == nil else { return }
        try runtime.withEngine("lockAll") { engine in
            if lazyLocks[target] == 0 {
                lazyLocks[target] = 1
                sendControl(.lock, to: target, flags: 0, engine: engine)
            }
        }
        try awaitReplies("\(call): lockAll's lock on rank \(target)")
        lazyLocks[target] = 2
    }

    /// MPI_Win_unlock_all.
    func unlockAll(_ call: String) throws {
        try checkOpen(call)
        guard lockedAll else { throw MPIError(.rmaSynchronization, "\(call): no lockAll() epoch is open on this rank") }
        cshims_memory_fence()
        try awaitRemoteAccess(call)
        if noCheckAll {
            try flushAll(call)
            noCheckAll = false
            lockedAll = false
            return
        }
        try runtime.withEngine("unlockAll") { engine in
            for target in 0..<size {
                if let word = memory.lockWords[target] {
                    WindowLockWord.release(word, exclusive: false)
                } else if lazyLocks[target] != 0 {  // its reply comes after the epoch's requests were applied
                    sendControl(.unlock, to: target, engine: engine)
                    lazyLocks[target] = 0
                    isUnflushed[target] = false
                }
            }
            unflushed.removeAll()
        }
        try awaitReplies(call)
        lockedAll = false
    }

    /// MPI_Win_post: exposes this rank's window to `origins` (ranks of the window). Does not block.
    func post(_ origins: [Int], _ call: String) throws {
        try checkOpen(call)
        guard exposureGroup == nil else { throw MPIError(.rmaSynchronization, "\(call): an exposure epoch is open already (wait first)") }
        cshims_memory_fence()
        try runtime.withEngine("post") { engine in
            for origin in origins {
                if origin == rank { postsReceived[origin] += 1 } else { sendControl(.post, to: origin, engine: engine) }
            }
        }
        exposureGroup = origins
    }

    /// MPI_Win_start: waits until every rank of `targets` has posted.
    func start(_ targets: [Int], _ call: String) throws {
        try checkOpen(call)
        guard accessGroup == nil else { throw MPIError(.rmaSynchronization, "\(call): an access epoch is open already (complete first)") }
        try runtime.wait("Window.start", "(\(targets.count) ranks)") { _ in targets.allSatisfy { self.postsReceived[$0] > 0 } }
        for target in targets { postsReceived[target] -= 1 }
        cshims_memory_fence()
        accessGroup = targets
        for target in targets { accessible[target] = true }
    }

    /// MPI_Win_complete: the targets' wait returns after every call of the epoch.
    func complete(_ call: String) throws {
        try checkOpen(call)
        guard let targets = accessGroup else { throw MPIError(.rmaSynchronization, "\(call): no start() epoch is open on this rank") }
        cshims_memory_fence()
        try awaitRemoteAccess(call)  // the targets' wait returns after the RDMA writes landed
        try runtime.withEngine("complete") { engine in
            for target in targets {
                if target == rank {
                    completesReceived[target] += 1
                } else {
                    sendControl(.complete, to: target, engine: engine)  // after the target's requests
                    if isUnflushed[target] {
                        isUnflushed[target] = false
                        unflushed.removeAll { $0 == target }
                    }
                }
            }
        }
        accessGroup = nil
        for target in targets { accessible[target] = locks[target] != nil }
    }

    /// MPI_Win_wait: waits until every rank of the exposure completed.
    func wait(_ call: String) throws {
        try checkOpen(call)
        guard let origins = exposureGroup else { throw MPIError(.rmaSynchronization, "\(call): no post() exposure is open on this rank") }
        try runtime.wait("Window.wait", "(\(origins.count) ranks)") { _ in origins.allSatisfy { self.completesReceived[$0] > 0 } }
        endExposure(origins)
    }

    /// MPI_Win_test: ``wait(_:)`` if it would not block.
    func test(_ call: String) throws -> Bool {
        try checkOpen(call)
        guard let origins = exposureGroup else { throw MPIError(.rmaSynchronization, "\(call): no post() exposure is open on this rank") }
        try runtime.withEngine("test") { engine in _ = engine.progress() }
        guard origins.allSatisfy({ completesReceived[$0] > 0 }) else { return false }
        endExposure(origins)
        return true
    }

    private func endExposure(_ origins: [Int]) {
        for origin in origins { completesReceived[origin] -= 1 }
        cshims_memory_fence()
        exposureGroup = nil
    }

    /// `group`'s ranks as ranks of the window; every member must be one.
    func windowRanks(_ group: Group, _ call: String) throws -> [Int] {
        try group.translateRanks(Array(0..<group.size), to: communicator.group).enumerated().map { index, rank in
            guard let rank else { throw MPIError(.invalidRank, "\(call): rank \(index) of the group is not a rank of the window") }
            return rank
        }
    }
}
