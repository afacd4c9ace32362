/// The collective algorithms, as schedules over point-to-point messages on the communicator's private
/// collective context, tagged with the collective's sequence number.
///
/// Choices (docs/Design.md): dissemination barrier; binomial-tree broadcast and reduce; recursive
/// doubling allreduce with the standard fold for non-powers of two, and the ring for large vectors; ring allgather; linear gather and
/// scatter (root-posted, nonblocking); all-at-once pairwise alltoall; recursive doubling scan. All are
/// correct for any rank count and for zero-length data; reductions keep rank order for
/// non-commutative operators.
extension Communicator {
    /// The channel and tag for the next collective.
    func nextCollective() -> (channel: Communicator, tag: Int) {
        state.collectiveSequence += 1
        return (collectiveChannel, state.collectiveSequence % MPI.tagUpperBound)
    }

    /// Throws for an intercommunicator: the intra-group algorithms would silently compute something
    /// else there. Every schedule starts through `run` or `start`, which call it unless the schedule
    /// is an intercommunicator form, as does the small allreduce.
    func refuseOnIntercommunicator() throws {
        guard state.remoteGroup == nil else {
            throw MPIError(
                .invalidArgument,
                "this collective has no intercommunicator form (scans and neighbourhood collectives do not span two groups); "
                    + "merge(high:) makes an intracommunicator of both groups")
        }
    }

    func sendBytes(_ bytes: UnsafeRawBufferPointer, to peer: Int, tag: Int) throws -> Request {
        try startSend(bytes, keepAlive: nil, to: peer, tag: tag, mode: .standard, "collective")
    }

    func receiveBytes(_ bytes: UnsafeMutableRawBufferPointer, from peer: Int, tag: Int) throws -> Request {
        try startReceive(bytes, keepAlive: nil, from: peer, tag: tag, "collective")
    }

    func scheduleBarrier(_ schedule: CollectiveSchedule) {
        let (channel, tag) = nextCollective()
        var distance = 1
        while distance < size {
            let step = distance
            schedule.then {
                [
                    try channel.receiveBytes(UnsafeMutableRawBufferPointer(start: nil, count: 0), from: (self.rank - step + self.size) % self.size, tag: tag),
                    try channel.sendBytes(UnsafeRawBufferPointer(start: nil, count: 0), to: (self.rank + step) % self.size, tag: tag)
                ]
            }
            distance *= 2
        }
    }

    /// Binomial tree from `root`.
    func scheduleBroadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int, _ schedule: CollectiveSchedule) {
        if size > 2 && buffer.count >= Self.largeBroadcastBytes {
            return scheduleScatterAllgatherBroadcast(buffer, root: root, schedule)
        }
        let (channel, tag) = nextCollective()
        let relative = (rank - root + size) % size
        var mask = 1
        while mask < size {
            if relative & mask != 0 {
                let parent = (relative - mask + root) % size
                schedule.then { [try channel.receiveBytes(buffer, from: parent, tag: tag)] }
                break
            }
            mask <<= 1
        }
        var children: [Int] = []
        mask >>= 1
        while mask > 0 {
            if relative + mask < size { children.append((relative + mask + root) % size) }
            mask >>= 1
        }
        if !children.isEmpty {
            schedule.then { try children.map { try channel.sendBytes(UnsafeRawBufferPointer(buffer), to: $0, tag: tag) } }
        }
    }

    /// Messages from this size on are broadcast by scatter and allgather on three or more ranks.
    static let largeBroadcastBytes = 256 * 1024

    /// Van de Geijn's long-message broadcast: a binomial scatter deals block i to relative rank i,
    /// then a ring allgather circulates the blocks. Every rank sends and receives about 2 × the
    /// message instead of the root sending it log2(size) times (MPICH and Open MPI do the same).
    private func scheduleScatterAllgatherBroadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int, _ schedule: CollectiveSchedule) {
        let (channel, tag) = nextCollective()
        let relative = (rank - root + size) % size
        let blockBytes = (buffer.count + size - 1) / size
        /// The bytes of relative blocks `first..<end` (empty past the end of the message).
        func blocks(_ first: Int, _ end: Int) -> UnsafeMutableRawBufferPointer {
            let lower = min(first * blockBytes, buffer.count), upper = min(end * blockBytes, buffer.count)
            return UnsafeMutableRawBufferPointer(rebasing: buffer[lower..<upper])
        }
        func actual(_ relativeRank: Int) -> Int { (relativeRank + root) % size }
        // Scatter: receive this subtree's blocks from the parent, hand the children theirs.
        var mask = 1
        while mask < size {
            if relative & mask != 0 {
                let parent = relative - mask
                let range = blocks(relative, min(relative + mask, size))
                schedule.then { [try channel.receiveBytes(range, from: actual(parent), tag: tag)] }
                break
            }
            mask <<= 1
        }
        mask >>= 1
        var sends: [(peer: Int, bytes: UnsafeRawBufferPointer)] = []
        while mask > 0 {
            let child = relative + mask
            if child < size { sends.append((actual(child), UnsafeRawBufferPointer(blocks(child, min(child + mask, size))))) }
            mask >>= 1
        }
        if !sends.isEmpty {
            schedule.then { try sends.map { try channel.sendBytes($0.bytes, to: $0.peer, tag: tag) } }
        }
        // Ring allgather: in step k, pass block (relative - k) right and take block (relative - k - 1) from the left.
        let right = actual((relative + 1) % size), left = actual((relative - 1 + size) % size)
        for step in 0..<(size - 1) {
            let outgoing = (relative - step + size) % size, incoming = (relative - step - 1 + size) % size
            schedule.then {
                [
                    try channel.receiveBytes(blocks(incoming, incoming + 1), from: left, tag: tag),
                    try channel.sendBytes(UnsafeRawBufferPointer(blocks(outgoing, outgoing + 1)), to: right, tag: tag)
                ]
            }
        }
    }

    /// Binomial tree to `root`; the result lands in `result` at the root. Non-commutative operators
    /// reduce to rank 0 (where the tree keeps rank order) and then move to the root.
    func scheduleReduce<T>(
        _ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>?, op: ReduceOperation<T>,
        root: Int, _ schedule: CollectiveSchedule
    ) {
        let (channel, tag) = nextCollective()
        let count = values.count
        let treeRoot = op.isCommutative ? root : 0
        let relative = (rank - treeRoot + size) % size
        let accumulator = schedule.scratch(T.self, count: count)
        let incoming = schedule.scratch(T.self, count: count)
        schedule.then {
            if count > 0 { _ = accumulator.initialize(from: values) }
            return []
        }
        var mask = 1
        while mask < size {
            if relative & mask == 0 {
                let child = relative | mask
                if child < size {
                    let peer = (child + treeRoot) % size
                    schedule.then { [try channel.receiveBytes(UnsafeMutableRawBufferPointer(incoming), from: peer, tag: tag)] }
                    schedule.then {
                        if count > 0 { op.apply(accumulator.baseAddress!, incoming.baseAddress!, into: accumulator.baseAddress!, count: count) }
                        return []
                    }
                }
            } else {
                let parent = ((relative & ~mask) + treeRoot) % size
                schedule.then { [try channel.sendBytes(UnsafeRawBufferPointer(accumulator), to: parent, tag: tag)] }
                break
            }
            mask <<= 1
        }
        if treeRoot != root {
            if rank == treeRoot { schedule.then { [try channel.sendBytes(UnsafeRawBufferPointer(accumulator), to: root, tag: tag)] } }
            if rank == root { schedule.then { [try channel.receiveBytes(UnsafeMutableRawBufferPointer(accumulator), from: treeRoot, tag: tag)] } }
        }
        if rank == root, let result {
            schedule.then {
                if count > 0 { result.baseAddress!.update(from: accumulator.baseAddress!, count: count) }
                return []
            }
        }
    }

    /// Allreduce: the ring (reduce-scatter, then allgather: each rank sends 2(p−1)/p of the data) for
    /// large vectors and commutative operators; recursive doubling (log p rounds of the whole vector)
    /// otherwise, which is what latency needs and what keeps non-commutative operators in rank order.
    func scheduleAllreduce<T>(
        _ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>, op: ReduceOperation<T>,
        _ schedule: CollectiveSchedule
    ) {
        if op.isCommutative && size > 2 && values.count >= size && values.count * MemoryLayout<T>.stride >= Self.ringAllreduceThreshold {
            scheduleRingAllreduce(values, into: result, op: op, schedule)
        } else {
            scheduleRecursiveDoublingAllreduce(values, into: result, op: op, schedule)
        }
    }

    /// Vectors from this many bytes use the ring allreduce.
    static let ringAllreduceThreshold = 64 * 1024

    private func scheduleRingAllreduce<T>(
        _ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>,
        op: ReduceOperation<T>, _ schedule: CollectiveSchedule
    ) {
        let (channel, tag) = nextCollective()
        let count = values.count, p = size
        let right = (rank + 1) % p, left = (rank - 1 + p) % p
        let base = count / p, extra = count % p
        func range(_ block: Int) -> Range<Int> {
            let start = block * base + min(block, extra)
            return start..<(start + base + (block < extra ? 1 : 0))
        }
        let incoming = schedule.scratch(T.self, count: base + 1)
        schedule.then {
            if result.baseAddress != UnsafeMutablePointer(mutating: values.baseAddress) {
                result.baseAddress!.update(from: values.baseAddress!, count: count)
            }
            return []
        }
        for step in 0..<(p - 1) {  // reduce-scatter: afterwards rank r holds block r+1 fully reduced
            let sending = range((rank - step + p) % p), receiving = range((rank - step - 1 + p) % p)
            schedule.then {
                [
                    try channel.receiveBytes(
                        UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(incoming)[0..<(receiving.count * MemoryLayout<T>.stride)]),
                        from: left, tag: tag),
                    try channel.sendBytes(UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: result[sending])), to: right, tag: tag)
                ]
            }
            schedule.then {
                let target = result.baseAddress! + receiving.lowerBound
                op.apply(target, incoming.baseAddress!, into: target, count: receiving.count)
                return []
            }
        }
        for step in 0..<(p - 1) {  // allgather of the reduced blocks
            let sending = range((rank + 1 - step + p) % p), receiving = range((rank - step + p) % p)
            schedule.then {
                [
                    try channel.receiveBytes(UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: result[receiving])), from: left, tag: tag),
                    try channel.sendBytes(UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: result[sending])), to: right, tag: tag)
                ]
            }
        }
    }

    /// Recursive doubling; ranks beyond the largest power of two fold into a partner first.
    private func scheduleRecursiveDoublingAllreduce<T>(
        _ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>,
        op: ReduceOperation<T>, _ schedule: CollectiveSchedule
    ) {
        let (channel, tag) = nextCollective()
        let count = values.count
        let incoming = schedule.scratch(T.self, count: count)
        let combine = { (lowerFirst: Bool) in
            if count > 0 {
                if lowerFirst {
                    op.apply(incoming.baseAddress!, result.baseAddress!, into: result.baseAddress!, count: count)
                } else {
                    op.apply(result.baseAddress!, incoming.baseAddress!, into: result.baseAddress!, count: count)
                }
            }
        }
        schedule.then {
            if count > 0 && result.baseAddress != UnsafeMutablePointer(mutating: values.baseAddress) {
                result.baseAddress!.update(from: values.baseAddress!, count: count)
            }
            return []
        }
        var powerOfTwo = 1
        while powerOfTwo * 2 <= size { powerOfTwo *= 2 }
        let remainder = size - powerOfTwo
        var newRank: Int
        if rank < 2 * remainder {
            if rank % 2 == 0 {
                schedule.then { [try channel.sendBytes(UnsafeRawBufferPointer(result), to: self.rank + 1, tag: tag)] }
                newRank = -1
            } else {
                schedule.then { [try channel.receiveBytes(UnsafeMutableRawBufferPointer(incoming), from: self.rank - 1, tag: tag)] }
                schedule.then {
                    combine(true); return []
                }
                newRank = rank / 2
            }
        } else {
            newRank = rank - remainder
        }
        if newRank >= 0 {
            var mask = 1
            while mask < powerOfTwo {
                let partnerNew = newRank ^ mask
                let partner = partnerNew < remainder ? partnerNew * 2 + 1 : partnerNew + remainder
                schedule.then {
                    [
                        try channel.receiveBytes(UnsafeMutableRawBufferPointer(incoming), from: partner, tag: tag),
                        try channel.sendBytes(UnsafeRawBufferPointer(result), to: partner, tag: tag)
                    ]
                }
                schedule.then {
                    combine(partner < self.rank); return []
                }
                mask <<= 1
            }
        }
        if rank < 2 * remainder {
            if rank % 2 == 0 {
                schedule.then { [try channel.receiveBytes(UnsafeMutableRawBufferPointer(result), from: self.rank + 1, tag: tag)] }
            } else {
                schedule.then { [try channel.sendBytes(UnsafeRawBufferPointer(result), to: self.rank - 1, tag: tag)] }
            }
        }
    }

    /// Root posts a receive per rank; everybody else sends. Byte counts and displacements per rank.
    func scheduleGather(
        _ values: UnsafeRawBufferPointer, into result: UnsafeMutableRawBufferPointer?, counts: [Int],
        displacements: [Int], root: Int, _ schedule: CollectiveSchedule
    ) {
        let (channel, tag) = nextCollective()
        schedule.then {
            guard self.rank == root, let result else { return [try channel.sendBytes(values, to: root, tag: tag)] }
            func target(_ peer: Int) -> UnsafeMutableRawBufferPointer {
                UnsafeMutableRawBufferPointer(rebasing: result[displacements[peer]..<(displacements[peer] + counts[peer])])
            }
            // Checked before any receive is posted: a step that throws leaves nothing in flight.
            let own = target(root)
            guard values.count <= own.count else {
                throw MPIError(.truncate, "gather: root contributes \(values.count) bytes where \(own.count) are expected")
            }
            if values.count > 0 { own.baseAddress!.copyMemory(from: values.baseAddress!, byteCount: values.count) }
            var requests: [Request] = []
            for peer in 0..<self.size where peer != root {
                requests.append(try channel.receiveBytes(target(peer), from: peer, tag: tag))
            }
            return requests
        }
    }

    /// Root sends each rank its part; everybody else receives.
    func scheduleScatter(
        _ values: UnsafeRawBufferPointer?, counts: [Int], displacements: [Int],
        into result: UnsafeMutableRawBufferPointer, root: Int, _ schedule: CollectiveSchedule
    ) {
        let (channel, tag) = nextCollective()
        schedule.then {
            guard self.rank == root, let values else { return [try channel.receiveBytes(result, from: root, tag: tag)] }
            func part(_ peer: Int) -> UnsafeRawBufferPointer {
                UnsafeRawBufferPointer(rebasing: values[displacements[peer]..<(displacements[peer] + counts[peer])])
            }
            // Checked before any send starts: a step that throws leaves nothing in flight.
            let own = part(root)
            guard own.count <= result.count else {
                throw MPIError(.truncate, "scatter: \(own.count) bytes for the root do not fit \(result.count)")
            }
            if own.count > 0 { result.baseAddress!.copyMemory(from: own.baseAddress!, byteCount: own.count) }
            var requests: [Request] = []
            for peer in 0..<self.size where peer != root {
                requests.append(try channel.sendBytes(part(peer), to: peer, tag: tag))
            }
            return requests
        }
    }

    /// Ring: in step k each rank passes on the block it received in step k-1.
    func scheduleAllgather(
        _ values: UnsafeRawBufferPointer, into result: UnsafeMutableRawBufferPointer, counts: [Int],
        displacements: [Int], _ schedule: CollectiveSchedule
    ) {
        let (channel, tag) = nextCollective()
        let right = (rank + 1) % size, left = (rank - 1 + size) % size
        func block(_ owner: Int) -> UnsafeMutableRawBufferPointer {
            UnsafeMutableRawBufferPointer(rebasing: result[displacements[owner]..<(displacements[owner] + counts[owner])])
        }
        schedule.then {
            let own = block(self.rank)
            guard values.count == own.count else {
                throw MPIError(.invalidCount, "allgather: rank \(self.rank) contributes \(values.count) bytes where \(own.count) are expected")
            }
            if values.count > 0 { own.baseAddress!.copyMemory(from: values.baseAddress!, byteCount: values.count) }
            return []
        }
        for step in 0..<(size - 1) {
            schedule.then {
                let sending = (self.rank - step + self.size) % self.size
                let receiving = (self.rank - step - 1 + self.size) % self.size
                return [
                    try channel.receiveBytes(block(receiving), from: left, tag: tag),
                    try channel.sendBytes(UnsafeRawBufferPointer(block(sending)), to: right, tag: tag)
                ]
            }
        }
    }

    /// Every pair exchanges its blocks directly, all messages posted at once.
    func scheduleAlltoall(
        _ values: UnsafeRawBufferPointer, sendCounts: [Int], sendDisplacements: [Int],
        into result: UnsafeMutableRawBufferPointer, receiveCounts: [Int], receiveDisplacements: [Int],
        _ schedule: CollectiveSchedule
    ) {
        let (channel, tag) = nextCollective()
        schedule.then {
            var requests: [Request] = []
            for offset in 0..<self.size {
                let to = (self.rank + offset) % self.size, from = (self.rank - offset + self.size) % self.size
                let outgoing = UnsafeRawBufferPointer(rebasing: values[sendDisplacements[to]..<(sendDisplacements[to] + sendCounts[to])])
                let incoming = UnsafeMutableRawBufferPointer(rebasing: result[receiveDisplacements[from]..<(receiveDisplacements[from] + receiveCounts[from])])
                if offset == 0 {
                    guard outgoing.count == incoming.count else {
                        throw MPIError(.invalidCount, "alltoall: rank \(self.rank) sends itself \(outgoing.count) bytes but expects \(incoming.count)")
                    }
                    if outgoing.count > 0 { incoming.baseAddress!.copyMemory(from: outgoing.baseAddress!, byteCount: outgoing.count) }
                } else {
                    requests.append(try channel.receiveBytes(incoming, from: from, tag: tag))
                    requests.append(try channel.sendBytes(outgoing, to: to, tag: tag))
                }
            }
            return requests
        }
    }

    /// Recursive doubling prefix reduction (inclusive, or exclusive: rank 0's result is undefined).
    func scheduleScan<T>(
        _ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>, op: ReduceOperation<T>,
        exclusive: Bool, _ schedule: CollectiveSchedule
    ) {
        let (channel, tag) = nextCollective()
        let count = values.count
        let partial = schedule.scratch(T.self, count: count)
        let incoming = schedule.scratch(T.self, count: count)
        var resultDefined = !exclusive
        schedule.then {
            if count > 0 {
                _ = partial.initialize(from: values)
                if !exclusive { result.baseAddress!.update(from: values.baseAddress!, count: count) }
            }
            return []
        }
        var mask = 1
        while mask < size {
            let partner = rank ^ mask
            if partner < size {
                schedule.then {
                    [
                        try channel.receiveBytes(UnsafeMutableRawBufferPointer(incoming), from: partner, tag: tag),
                        try channel.sendBytes(UnsafeRawBufferPointer(partial), to: partner, tag: tag)
                    ]
                }
                schedule.then {
                    guard count > 0 else { return [] }
                    if self.rank > partner {
                        op.apply(incoming.baseAddress!, partial.baseAddress!, into: partial.baseAddress!, count: count)
                        if resultDefined {
                            op.apply(incoming.baseAddress!, result.baseAddress!, into: result.baseAddress!, count: count)
                        } else {
                            result.baseAddress!.update(from: incoming.baseAddress!, count: count)
                            resultDefined = true
                        }
                    } else {
                        op.apply(partial.baseAddress!, incoming.baseAddress!, into: partial.baseAddress!, count: count)
                    }
                    return []
                }
            }
            mask <<= 1
        }
    }
}
