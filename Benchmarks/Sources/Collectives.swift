import SwiftMPI

/// One row of an OSU non-blocking collective benchmark: µs per call, averaged over the ranks.
struct OverlapRow {
    /// The collective started, computation for as long as `pure`, then the wait (OSU's "Overall").
    var overall: Double
    /// The computation alone.
    var compute: Double
    /// The collective started and waited for at once (OSU's "Pure Comm.").
    var pure: Double

    /// OSU's overlap: the share of the collective's time hidden behind the computation, 0–100 %.
    var overlap: Double { max(0, 100 - (overall - compute) / pure * 100) }
}

extension BenchRunner {
    /// osu_barrier, osu_bcast, osu_allreduce, osu_gatherv, …: each call timed alone (a barrier on
    /// the private communicator separates calls), the average per rank, then averaged over ranks.
    /// The collectives that have them use the forms on caller memory (spans; allreduce in place on
    /// an array), as OSU's C calls write into buffers allocated once; the v-forms, reduce-scatter and
    /// alltoall's v and w forms return arrays (an allocation per call, which OSU's C does not make).
    /// Sizes are bytes per rank, of Double (reductions) or of UInt8; the v-forms give every rank the
    /// same count (as OSU does); reduce-scatter splits the vector as evenly as it can (OSU's
    /// portion and remainder), reduce-scatter-block gives each rank the quotient (OSU's portion).
    func collective(_ benchmark: Benchmark, _ size: Int, _ iterations: Int, _ warmup: Int) throws -> Double {
        var doubles = [Double](repeating: 1, count: max(size / 8, benchmark.reduces ? 1 : 0))
        var bytes = [UInt8](repeating: 1, count: size)
        let perRank = [UInt8](repeating: 2, count: size)
        let blocks = [UInt8](repeating: 3, count: size * world.size)
        let counts = [Int](repeating: size, count: world.size)
        let displacements = (0..<world.size).map { $0 * size }
        let bytesType = [Datatype](repeating: Datatype(UInt8.self), count: world.size)
        var received = [UInt8](repeating: 0, count: size * world.size)
        var part = [UInt8](repeating: 0, count: size)
        var results = [Double](repeating: 0, count: doubles.count)
        let split = evenSplit(doubles.count)
        let blockInput = Array(doubles.prefix(doubles.count / world.size * world.size))
        var total = 0.0
        for i in 0..<(iterations + warmup) {
            let start = MPI.wtime()
            switch benchmark {
            case .barrier: try world.barrier()
            case .bcast: try world.bcast(&bytes, root: 0)
            case .allreduce: try world.allreduce(inPlace: &doubles, op: .sum)
            case .reduce:
                var output = results.mutableSpan
                try world.reduce(doubles.span, into: &output, op: .sum, root: 0)
            case .gather:
                var output = received.mutableSpan
                try world.gather(perRank.span, into: &output, root: 0)
            case .scatter:
                var output = part.mutableSpan
                try world.scatter(blocks.span, into: &output, root: 0)
            case .allgather:
                var output = received.mutableSpan
                try world.allgather(perRank.span, into: &output)
            case .alltoall:
                var output = received.mutableSpan
                try world.alltoall(blocks.span, into: &output)
            case .gatherv: _ = try world.gatherv(perRank, counts: counts, displacements: displacements, root: 0)
            case .scatterv: _ = try world.scatterv(blocks, counts: counts, displacements: displacements, root: 0)
            case .allgatherv: _ = try world.allgatherv(perRank, counts: counts, displacements: displacements)
            case .alltoallv:
                _ = try world.alltoallv(
                    blocks, sendCounts: counts, sendDisplacements: displacements, recvCounts: counts, recvDisplacements: displacements)
            case .alltoallw:
                try world.alltoallw(
                    blocks, sendCounts: counts, sendDisplacements: displacements, sendTypes: bytesType, into: &received, receiveCounts: counts,
                    receiveDisplacements: displacements, receiveTypes: bytesType)
            case .reduceScatter: _ = try world.reduceScatter(doubles, counts: split, op: .sum)
            case .reduceScatterBlock: _ = try world.reduceScatterBlock(blockInput, op: .sum)
            default: break
            }
            if i >= warmup { total += MPI.wtime() - start }
            try barrier()
        }
        return try averageOverRanks(total * 1e6 / Double(iterations))
    }

    /// osu_ibcast, osu_iallreduce, …, OSU's way: each call started and waited for at once (the pure
    /// communication time), then started, followed by computation for that long and the wait (the
    /// overall time); OSU's default of no MPI_Test during the computation. Buffer forms where
    /// SwiftMPI has them (ibarrier, ibcast, ireduce, iallreduce, igather, iscatter, iallgather,
    /// ialltoall); the array forms for the others, whose start copies the input into the request.
    func nonblockingCollective(_ benchmark: Benchmark, _ size: Int, _ iterations: Int, _ warmup: Int) throws -> OverlapRow {
        let ranks = world.size
        let input = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(size * ranks, 1))
        let output = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(size * ranks, 1))
        let doubles = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(size / 8 * ranks, 1))
        let results = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(size / 8 * ranks, 1))
        defer {
            for buffer in [input, output] { buffer.deallocate() }
            for buffer in [doubles, results] { buffer.deallocate() }
        }
        input.initialize(repeating: 1)
        output.initialize(repeating: 0)
        doubles.initialize(repeating: 1)
        results.initialize(repeating: 0)
        let elements = size / 8
        let perRank = [UInt8](repeating: 2, count: size), blocks = [UInt8](repeating: 3, count: size * ranks)
        let vector = [Double](repeating: 1, count: elements), block = [Double](repeating: 1, count: elements / ranks * ranks)
        let counts = [Int](repeating: size, count: ranks), displacements = (0..<ranks).map { $0 * size }
        let bytesType = [Datatype](repeating: Datatype(UInt8.self), count: ranks)
        let received = [UInt8](repeating: 0, count: size * ranks)
        let split = evenSplit(elements)
        let bytes = UnsafeBufferPointer(rebasing: input[..<size]), all = UnsafeBufferPointer(input)
        let vectorIn = UnsafeBufferPointer(rebasing: doubles[..<elements])
        let vectorOut = UnsafeMutableBufferPointer(rebasing: results[..<elements])

        func start() throws -> Request {
            switch benchmark {
            case .ibarrier: try world.ibarrier()
            case .ibcast: try world.ibcast(UnsafeMutableBufferPointer(rebasing: input[..<size]), root: 0)
            case .iallreduce: try world.iallreduce(vectorIn, into: vectorOut, op: .sum)
            case .ireduce: try world.ireduce(vectorIn, into: vectorOut, op: .sum, root: 0)
            case .igather: try world.igather(bytes, into: output, root: 0)
            case .iscatter: try world.iscatter(all, into: UnsafeMutableBufferPointer(rebasing: output[..<size]), root: 0)
            case .iallgather: try world.iallgather(bytes, into: output)
            case .ialltoall: try world.ialltoall(all, into: output)
            case .igatherv: try world.igatherv(perRank, counts: counts, displacements: displacements, root: 0).request
            case .iscatterv: try world.iscatterv(blocks, counts: counts, displacements: displacements, root: 0).request
            case .iallgatherv: try world.iallgatherv(perRank, counts: counts, displacements: displacements).request
            case .ialltoallv:
                try world.ialltoallv(
                    blocks, sendCounts: counts, sendDisplacements: displacements, receiveCounts: counts, receiveDisplacements: displacements
                ).request
            case .ialltoallw:
                try world.ialltoallw(
                    blocks, sendCounts: counts, sendDisplacements: displacements, sendTypes: bytesType, into: received, receiveCounts: counts,
                    receiveDisplacements: displacements, receiveTypes: bytesType
                ).request
            case .ireduceScatter: try world.ireduceScatter(vector, counts: split, op: .sum).request
            case .ireduceScatterBlock: try world.ireduceScatterBlock(block, op: .sum).request
            default: throw BenchError(description: "\(benchmark.rawValue) is not a non-blocking collective")
            }
        }

        var pure = 0.0
        for i in 0..<(iterations + warmup) {
            let begin = MPI.wtime()
            try start().wait()
            if i >= warmup { pure += MPI.wtime() - begin }
            try barrier()
        }
        let computeSeconds = pure / Double(iterations)
        var overall = 0.0, compute = 0.0
        for i in 0..<(iterations + warmup) {
            let begin = MPI.wtime()
            let request = try start()
            let computeBegin = MPI.wtime()
            computeOnHost(for: computeSeconds)
            let computeEnd = MPI.wtime()
            try request.wait()
            if i >= warmup {
                overall += MPI.wtime() - begin
                compute += computeEnd - computeBegin
            }
            try barrier()
        }
        let perCall = 1e6 / Double(iterations)
        let averages = try averagesOverRanks([overall * perCall, compute * perCall, pure * perCall])
        return OverlapRow(overall: averages[0], compute: averages[1], pure: averages[2])
    }

    /// Several values averaged over the ranks (meaningful on rank 0), each rank's taken from that
    /// rank in turn: one exchange for all, so no rank's values can be mixed with another's.
    private func averagesOverRanks(_ values: [Double]) throws -> [Double] {
        var totals = values
        if control.rank == 0 {
            var incoming = values
            for source in 1..<control.size {
                try control.recv(into: &incoming, from: source, tag: 2)
                for k in totals.indices { totals[k] += incoming[k] }
            }
        } else {
            try control.send(values, to: 0, tag: 2)
        }
        return totals.map { $0 / Double(control.size) }
    }

    /// `count` elements split over the ranks as OSU's reduce-scatter splits them: the quotient
    /// each, the remainder one more to the first ranks.
    private func evenSplit(_ count: Int) -> [Int] {
        let ranks = world.size
        return (0..<ranks).map { count / ranks + ($0 < count % ranks ? 1 : 0) }
    }
}

/// OSU's dummy computation: a 25 × 25 matrix loop repeated until `seconds` have passed.
private func computeOnHost(for seconds: Double) {
    let dimension = 25
    var x = [Double](repeating: 0, count: dimension)
    let y = [Double](repeating: 1, count: dimension)
    let a = [Double](repeating: 2, count: dimension * dimension)
    var elapsed = 0.0
    while elapsed < seconds {
        let begin = MPI.wtime()
        for i in 0..<dimension {
            for j in 0..<dimension { x[i] = x[i] + a[i * dimension + j] * a[j * dimension + i] + y[j] }
        }
        elapsed += MPI.wtime() - begin
    }
    blackHole(x)
}

/// Keeps the computation's result alive, so the optimizer cannot remove the loop.
@inline(never)
private func blackHole(_ values: [Double]) {
    if values.first == -1 { print("") }
}
