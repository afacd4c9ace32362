#if canImport(Glibc)
import Glibc
#endif
import SwiftMPI

/// OSU's one-sided benchmarks (osu_put_latency, osu_get_latency, osu_put_bw, osu_get_bw,
/// osu_acc_latency, osu_fop_latency, osu_cas_latency, osu_get_acc_latency): rank 0 accesses rank 1's
/// window, completing each access (latency) or each window of `-W` accesses (bandwidth) as `-s`
/// says: flush (the lock taken once, shared, as OSU's default), lock (lock and unlock around each),
/// fence (collective, both ranks). Latency is per access (not halved); bandwidth in MB/s (10^6).
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
        for size in atomic ? [8] : options.sizes {
            let (iterations, warmup) = options.counts(for: size, benchmark: benchmark)
            let perRound = benchmark.isBandwidth ? options.window : 1
            // As OSU: bandwidth runs put or get the round's accesses side by side (SIZE × window bytes).
            let exposed = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(size * perRound, 1))
            exposed.initialize(repeating: 0)
            let window: Window<UInt8>? =
                atomic || accumulating
                ? nil
                : options.windowCreation == "create"
                    ? try Window<UInt8>.create(exposing: exposed, on: world) : try Window<UInt8>.allocate(count: exposed.count, on: world)
            defer {
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
                case .putLatency, .putBW:
                    {
                        try window!.put(source, to: 1, at: slot * size)
                        slot = (slot + 1) % perRound
                    }
                case .getLatency, .getBW:
                    {
                        try window!.get(into: destination, from: 1, at: slot * size)
                        slot = (slot + 1) % perRound
                    }
                case .accLatency:
                    {
                        try addends.withUnsafeBufferPointer {
                            try integers!.accumulate(UnsafeBufferPointer(rebasing: $0[0..<(size / 4)]), to: 1, at: 0, op: .sum)
                        }
                    }
                case .getAccLatency: { _ = try integers!.getAccumulate(Array(addends[0..<(size / 4)]), to: 1, at: 0, op: .sum) }
                case .fopLatency: { value = try words.fetchAndOp(1, to: 1, at: 0, op: .sum) }
                default: { value = try words.compareAndSwap(value, value + 1, at: 0, in: 1) }
                }
            let elapsed = try timedAccesses(
                iterations: iterations, warmup: warmup, perRound: perRound, window: window, integers: integers, words: words, access: access)
            if world.rank == 0 {
                let accesses = Double(iterations * perRound)
                let result = benchmark.isBandwidth ? Double(size) * accesses / elapsed / 1e6 : elapsed * 1e6 / accesses
                report(benchmark, size: size, result: (result, nil))
            }
        }
    }

    /// Runs `iterations` rounds (after `warmup`) of `perRound` accesses by rank 0, each round
    /// completed as `-s` says; returns rank 0's seconds for the timed rounds.
    private func timedAccesses(
        iterations: Int, warmup: Int, perRound: Int, window: Window<UInt8>?, integers: Window<Int32>?, words: Window<Int64>,
        access: () throws -> Void
    ) throws -> Double {
        let sync = options.synchronization
        func lock() throws {
            if let window {
                try window.lock(.shared, rank: 1)
            } else if let integers {
                try integers.lock(.shared, rank: 1)
            } else {
                try words.lock(.shared, rank: 1)
            }
        }
        func unlock() throws {
            if let window { try window.unlock(rank: 1) } else if let integers { try integers.unlock(rank: 1) } else { try words.unlock(rank: 1) }
        }
        func fence() throws {
            if let window { try window.fence() } else if let integers { try integers.fence() } else { try words.fence() }
        }
        func flush() throws {
            if let window { try window.flush(rank: 1) } else if let integers { try integers.flush(rank: 1) } else { try words.flush(rank: 1) }
        }
        var start = 0.0
        if sync == "fence" {
            try fence()
            for round in 0..<(warmup + iterations) {
                if round == warmup { start = MPI.wtime() }
                if world.rank == 0 { for _ in 0..<perRound { try access() } }
                try fence()
            }
            return MPI.wtime() - start
        }
        if world.rank == 0 {
            if sync == "flush" { try lock() }
            for round in 0..<(warmup + iterations) {
                if round == warmup { start = MPI.wtime() }
                if sync == "lock" { try lock() }
                for _ in 0..<perRound { try access() }
                if sync == "lock" { try unlock() } else { try flush() }
            }
            let elapsed = MPI.wtime() - start
            if sync == "flush" { try unlock() }
            try world.barrier()
            return elapsed
        }
        try world.barrier()  // rank 1 serves rank 0's accesses while it waits here
        return 0
    }
}
