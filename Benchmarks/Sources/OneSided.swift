#if canImport(Glibc)
import Glibc
#endif
import SwiftMPI

/// OSU's one-sided benchmarks (osu_put_latency, osu_get_latency, osu_put_bw, osu_get_bw,
/// osu_put_bibw, osu_acc_latency, osu_fop_latency, osu_cas_latency, osu_get_acc_latency): rank 0
/// accesses rank 1's window (in put-bibw both ranks put into the other's), completing each access
/// (latency) or each round of `-W` accesses (bandwidth) as `-s` says, with OSU's names: flush (a
/// shared lock taken once), flush_local, lock, lock_all, pscw, fence. Latency is per access (not
/// halved); bandwidth in MB/s (10^6), both directions counted in put-bibw (as OSU).
extension BenchRunner {
    func oneSided(_ benchmark: Benchmark) throws {
        let atomic = benchmark == .fopLatency || benchmark == .casLatency
        let accumulating = benchmark == .accLatency || benchmark == .getAccLatency
        let words = try Window<Int64>.allocate(count: 1, on: world)
        defer { try? words.free() }
        // Accumulates add 4-byte integers (OSU's default MPI_INT: SIZE / 4 of them).
        let integers = accumulating ? try Window<Int32>.allocate(count: max(options.maxSize / 4, 1), on: world) : nil
        defer { try? integers?.free() }
        let addends = [Int32](repeating: 1, count: max(options.maxSize / 4, 1))
        let peer = 1 - world.rank
        for size in atomic ? [8] : options.sizes {
            let (iterations, warmup) = options.counts(for: size, benchmark: benchmark)
            let perRound = benchmark.isBandwidth ? options.window : 1
            // As OSU: bandwidth runs put or get the round's accesses side by side (SIZE × window bytes).
            let exposed = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(size * perRound, 1))
            exposed.initialize(repeating: 0)
            var window: Window<UInt8>?
            var base = 0  // where the peer's buffer starts in its window (a dynamic window's attach offset)
            if !atomic && !accumulating {
                switch options.windowCreation {
                case "create": window = try Window<UInt8>.create(exposing: exposed, on: world)
                case "dynamic":
                    let dynamic = try Window<UInt8>.createDynamic(on: world)
                    let offset = try dynamic.attach(exposed)
                    base = try world.allgather([offset])[peer]
                    window = dynamic
                default: window = try Window<UInt8>.allocate(count: exposed.count, on: world)
                }
            }
            defer {
                if options.windowCreation == "dynamic" { try? window?.detach(exposed) }
                try? window?.free()
                exposed.deallocate()
            }
            try barrier()
            let source = UnsafeBufferPointer(rebasing: sendBuffer[0..<size])
            let destination = UnsafeMutableBufferPointer(rebasing: windowBuffers[0..<size])
            var value: Int64 = 0
            var slot = 0
            let access: () throws -> Void =
                switch benchmark {
                case .putLatency, .putBW, .putBiBW:
                    {
                        try window!.put(source, to: peer, at: base + slot * size)
                        slot = (slot + 1) % perRound
                    }
                case .getLatency, .getBW:
                    {
                        try window!.get(into: destination, from: peer, at: base + slot * size)
                        slot = (slot + 1) % perRound
                    }
                case .accLatency:
                    {
                        try addends.withUnsafeBufferPointer {
                            try integers!.accumulate(UnsafeBufferPointer(rebasing: $0[0..<(size / 4)]), to: peer, at: 0, op: .sum)
                        }
                    }
                case .getAccLatency: { _ = try integers!.getAccumulate(Array(addends[0..<(size / 4)]), to: peer, at: 0, op: .sum) }
                case .fopLatency: { value = try words.fetchAndOp(1, to: peer, at: 0, op: .sum) }
                default: { value = try words.compareAndSwap(value, value + 1, at: 0, in: peer) }
                }
            let synchronizer = Synchronizer(window: window, integers: integers, words: words, peer: peer)
            let elapsed = try timedAccesses(
                iterations: iterations, warmup: warmup, perRound: perRound, bothWays: benchmark == .putBiBW, synchronizer, access: access)
            if world.rank == 0 {
                let accesses = Double(iterations * perRound) * (benchmark == .putBiBW ? 2 : 1)
                let result = benchmark.isBandwidth ? Double(size) * accesses / elapsed / 1e6 : elapsed * 1e6 / accesses
                report(benchmark, size: size, result: (result, nil))
            }
        }
    }

    /// The synchronization calls on whichever window the benchmark uses.
    private struct Synchronizer {
        let window: Window<UInt8>?
        let integers: Window<Int32>?
        let words: Window<Int64>
        let peer: Int

        func lock() throws {
            if let window {
                try window.lock(.shared, rank: peer)
            } else if let integers {
                try integers.lock(.shared, rank: peer)
            } else {
                try words.lock(.shared, rank: peer)
            }
        }
        func unlock() throws {
            if let window { try window.unlock(rank: peer) } else if let integers { try integers.unlock(rank: peer) } else { try words.unlock(rank: peer) }
        }
        func lockAll() throws { if let window { try window.lockAll() } else if let integers { try integers.lockAll() } else { try words.lockAll() } }
        func unlockAll() throws { if let window { try window.unlockAll() } else if let integers { try integers.unlockAll() } else { try words.unlockAll() } }
        func fence() throws { if let window { try window.fence() } else if let integers { try integers.fence() } else { try words.fence() } }
        func flush() throws {
            if let window { try window.flush(rank: peer) } else if let integers { try integers.flush(rank: peer) } else { try words.flush(rank: peer) }
        }
        func flushLocal() throws {
            if let window {
                try window.flushLocal(rank: peer)
            } else if let integers {
                try integers.flushLocal(rank: peer)
            } else {
                try words.flushLocal(rank: peer)
            }
        }
        var group: Group { window?.group ?? integers?.group ?? words.group }
        func start(_ peers: Group) throws {
            if let window { try window.start(peers) } else if let integers { try integers.start(peers) } else { try words.start(peers) }
        }
        func complete() throws { if let window { try window.complete() } else if let integers { try integers.complete() } else { try words.complete() } }
        func post(_ peers: Group) throws {
            if let window { try window.post(peers) } else if let integers { try integers.post(peers) } else { try words.post(peers) }
        }
        func wait() throws { if let window { try window.wait() } else if let integers { try integers.wait() } else { try words.wait() } }
    }

    /// Runs `iterations` rounds (after `warmup`) of `perRound` accesses by rank 0 (by both ranks when
    /// `bothWays`), each round completed as `-s` says; returns rank 0's seconds for the timed rounds.
    private func timedAccesses(
        iterations: Int, warmup: Int, perRound: Int, bothWays: Bool, _ sync: Synchronizer, access: () throws -> Void
    ) throws -> Double {
        let mode = options.synchronization
        let origin = world.rank == 0 || bothWays
        var start = 0.0
        switch mode {
        case "fence":
            try sync.fence()
            for round in 0..<(warmup + iterations) {
                if round == warmup { start = MPI.wtime() }
                if origin { for _ in 0..<perRound { try access() } }
                try sync.fence()
            }
            return MPI.wtime() - start
        case "pscw":
            let peers = try sync.group.include([sync.peer])
            for round in 0..<(warmup + iterations) {
                if round == warmup { start = MPI.wtime() }
                if bothWays || world.rank == 1 { try sync.post(peers) }
                if origin {
                    try sync.start(peers)
                    for _ in 0..<perRound { try access() }
                    try sync.complete()
                }
                if bothWays || world.rank == 1 { try sync.wait() }
            }
            let elapsed = MPI.wtime() - start
            try world.barrier()
            return elapsed
        default:
            break
        }
        if world.rank == 0 {
            let heldLock = mode == "flush" || mode == "flush_local"
            if heldLock { try sync.lock() }
            for round in 0..<(warmup + iterations) {
                if round == warmup { start = MPI.wtime() }
                if mode == "lock" { try sync.lock() } else if mode == "lock_all" { try sync.lockAll() }
                for _ in 0..<perRound { try access() }
                switch mode {
                case "lock": try sync.unlock()
                case "lock_all": try sync.unlockAll()
                case "flush_local": try sync.flushLocal()
                default: try sync.flush()
                }
            }
            let elapsed = MPI.wtime() - start
            if heldLock { try sync.unlock() }
            try world.barrier()
            return elapsed
        }
        try world.barrier()  // rank 1 serves rank 0's accesses while it waits here
        return 0
    }
}
