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
        let bytes = max(options.maxSize, 8)
        let window: Window<UInt8>
        if options.windowCreation == "create" {
            window = try Window<UInt8>.create(exposing: receiveBuffer, on: world)
        } else {
            window = try Window<UInt8>.allocate(count: bytes, on: world)
        }
        let words = try Window<Int64>.allocate(count: 1, on: world)
        defer {
            try? window.free()
            try? words.free()
        }
        let sizes = benchmark == .fopLatency || benchmark == .casLatency ? [8] : options.sizes
        for size in sizes {
            let (iterations, warmup) = options.counts(for: size, benchmark: benchmark)
            try barrier()
            let source = UnsafeBufferPointer(rebasing: sendBuffer[0..<size])
            let destination = UnsafeMutableBufferPointer(rebasing: windowBuffers[0..<size])
            var value: Int64 = 0
            let access: () throws -> Void =
                switch benchmark {
                case .putLatency, .putBW: { try window.put(source, to: 1, at: 0) }
                case .getLatency, .getBW: { try window.get(into: destination, from: 1, at: 0) }
                case .accLatency: { try window.accumulate(source, to: 1, at: 0, op: .sum) }
                case .getAccLatency: { _ = try window.getAccumulate(Array(source), to: 1, at: 0, op: .sum) }
                case .fopLatency: { value = try words.fetchAndOp(1, to: 1, at: 0, op: .sum) }
                default: { value = try words.compareAndSwap(value, value + 1, at: 0, in: 1) }
                }
            let target = benchmark == .fopLatency || benchmark == .casLatency ? nil as Window<UInt8>? : window
            let elapsed = try timedAccesses(
                iterations: iterations, warmup: warmup, perRound: benchmark.isBandwidth ? options.window : 1, window: target, words: words,
                access: access)
            if world.rank == 0 {
                let accesses = Double(iterations * (benchmark.isBandwidth ? options.window : 1))
                let result = benchmark.isBandwidth ? Double(size) * accesses / elapsed / 1e6 : elapsed * 1e6 / accesses
                report(benchmark, size: size, result: (result, nil))
            }
        }
    }

    /// Runs `iterations` rounds (after `warmup`) of `perRound` accesses by rank 0, each round
    /// completed as `-s` says; returns rank 0's seconds for the timed rounds.
    private func timedAccesses(
        iterations: Int, warmup: Int, perRound: Int, window: Window<UInt8>?, words: Window<Int64>, access: () throws -> Void
    ) throws -> Double {
        let sync = options.synchronization
        func lock() throws {
            if let window { try window.lock(.shared, rank: 1) } else { try words.lock(.shared, rank: 1) }
        }
        func unlock() throws {
            if let window { try window.unlock(rank: 1) } else { try words.unlock(rank: 1) }
        }
        func fence() throws {
            if let window { try window.fence() } else { try words.fence() }
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
                if sync == "lock" {
                    try unlock()
                } else if let window {
                    try window.flush(rank: 1)
                } else {
                    try words.flush(rank: 1)
                }
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
