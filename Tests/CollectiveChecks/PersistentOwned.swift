import SwiftMPI

/// Persistent collectives on owned memory (`allreduceInit(count:of:op:)` and the others): three
/// runs, each with a new contribution given by `start(with:)` or written in place by `withInput`,
/// against the serial answer; then every kind started together and completed with one `waitAll`;
/// then the mistakes a user makes, each an error.
func checkOwnedPersistentCollectives(_ world: Communicator) throws {
    let n = world.size, r = world.rank
    let root = n - 1
    let allreduce = try world.allreduceInit(count: 5, of: Int.self, op: .sum)
    let bcast = try world.bcastInit(count: 4, of: Double.self, root: root)
    let reduce = try world.reduceInit(count: 3, of: Int.self, op: .max, root: 0)
    let gather = try world.gatherInit(count: 2, of: Int32.self, root: root)
    let scatter = try world.scatterInit(count: 3, of: UInt16.self, root: 0)
    let allgather = try world.allgatherInit(count: 1, of: Int.self)
    let alltoall = try world.alltoallInit(count: 2, of: Int.self)
    let scan = try world.scanInit(count: 2, of: Int.self, op: .sum)
    let exscan = try world.exscanInit(count: 2, of: Int.self, op: .sum)
    require(scatter.count == (r == 0 ? 3 * n : 0) && alltoall.count == 2 * n, "persistent owned: contribution counts")
    func runs(_ run: Int) throws {
        try allreduce.start(with: (0..<5).map { $0 + r + run })
        require(try allreduce.wait() == (0..<5).map { n * ($0 + run) + n * (n - 1) / 2 }, "allreduceInit run \(run)")
        if r == root {
            try bcast.withInput { (span: inout MutableSpan<Double>) in
                for i in span.indices { span[i] = Double(run * 10 + i) }
            }
        }
        try bcast.start()
        require(try bcast.wait() == (0..<4).map { Double(run * 10 + $0) }, "bcastInit run \(run)")
        try reduce.start(with: [r, -r, run])
        let maximum = try reduce.wait()
        require(r == 0 ? maximum == [n - 1, 0, run] : maximum == nil, "reduceInit run \(run): \(String(describing: maximum))")
        try gather.start(with: [Int32(r), Int32(run)])
        let gathered = try gather.wait()
        require(r == root ? gathered == (0..<n).flatMap { [Int32($0), Int32(run)] } : gathered == nil, "gatherInit run \(run)")
        try scatter.start(with: r == 0 ? (0..<(3 * n)).map { UInt16($0 + run) } : [])
        require(try scatter.wait() == (0..<3).map { UInt16(3 * r + $0 + run) }, "scatterInit run \(run)")
        try allgather.start(with: [r * run])
        require(try allgather.wait() == (0..<n).map { $0 * run }, "allgatherInit run \(run)")
        try alltoall.start(with: (0..<n).flatMap { to in [r * 100 + to, run] })
        require(try alltoall.wait() == (0..<n).flatMap { from in [from * 100 + r, run] }, "alltoallInit run \(run)")
        try scan.start(with: [r + 1, run])
        require(try scan.wait() == [(r + 1) * (r + 2) / 2, run * (r + 1)], "scanInit run \(run)")
        try exscan.start(with: [r + 1, run])
        let before = try exscan.wait()
        require(r == 0 ? before == nil : before == [r * (r + 1) / 2, run * r], "exscanInit run \(run)")
    }
    for run in 0..<3 { try runs(run) }

    // The v-forms and reduce-scatters: rank i contributes i + 1 elements.
    let counts = (0..<n).map { $0 + 1 }, total = counts.reduce(0, +)
    let gatherv = try world.gathervInit(of: Int.self, counts: counts, displacements: (0..<n).map { 2 * $0 * n }, root: root)
    let scatterv = try world.scattervInit(of: Int.self, counts: counts, root: 0)
    let allgatherv = try world.allgathervInit(of: Int.self, counts: counts)
    let alltoallv = try world.alltoallvInit(of: Int.self, sendCounts: [Int](repeating: r + 1, count: n), recvCounts: counts)
    let reduceScatter = try world.reduceScatterInit(of: Int.self, counts: counts, op: .sum)
    let reduceScatterBlock = try world.reduceScatterBlockInit(count: 2, of: Int.self, op: .sum)
    requireError(.invalidCount) { _ = try world.allgathervInit(of: Int.self, counts: [Int](repeating: 1, count: n + 1)) }
    for run in 0..<2 {
        let mine = (0...r).map { r * 100 + $0 + run }
        try gatherv.start(with: mine)
        let gathered = try gatherv.wait()
        if r == root {
            var expected = [Int](repeating: 0, count: 2 * (n - 1) * n + n)
            for i in 0..<n { for k in 0...i { expected[2 * i * n + k] = i * 100 + k + run } }
            require(gathered == expected, "gathervInit run \(run): \(String(describing: gathered))")
        } else {
            require(gathered == nil, "gathervInit run \(run) off the root")
        }
        try scatterv.start(with: r == 0 ? (0..<total).map { $0 * 3 + run } : [])
        let start = counts[0..<r].reduce(0, +)
        require(try scatterv.wait() == (start..<(start + r + 1)).map { $0 * 3 + run }, "scattervInit run \(run)")
        try allgatherv.start(with: mine)
        require(try allgatherv.wait() == (0..<n).flatMap { i in (0...i).map { i * 100 + $0 + run } }, "allgathervInit run \(run)")
        try alltoallv.start(with: (0..<n).flatMap { to in [Int](repeating: r * 10 + to + run, count: r + 1) })
        require(try alltoallv.wait() == (0..<n).flatMap { from in [Int](repeating: from * 10 + r + run, count: from + 1) }, "alltoallvInit run \(run)")
        try reduceScatter.start(with: (0..<total).map { $0 + run })
        require(try reduceScatter.wait() == (start..<(start + r + 1)).map { n * ($0 + run) }, "reduceScatterInit run \(run)")
        try reduceScatterBlock.start(with: (0..<(2 * n)).map { $0 * (r + 1) })
        require(try reduceScatterBlock.wait() == [2 * r, 2 * r + 1].map { $0 * n * (n + 1) / 2 }, "reduceScatterBlockInit run \(run)")
    }

    // Started together (the same order on every rank), completed by one waitAll.
    let all = [allreduce.request, reduce.request, gather.request, allgather.request]
    try allreduce.start(with: [Int](repeating: 1, count: 5))
    try reduce.start(with: [1, 2, 3])
    try gather.start(with: [7, 8])
    try allgather.start(with: [r])
    try Request.waitAll(all)
    require(try allreduce.wait() == [Int](repeating: n, count: 5), "allreduceInit after waitAll")
    require(r == 0 ? try reduce.wait() == [1, 2, 3] : try reduce.wait() == nil, "reduceInit after waitAll")
    require(try allgather.wait() == Array(0..<n), "allgatherInit after waitAll")
    _ = try gather.wait()

    // Mistakes: a contribution of the wrong length; touching the contribution while a run is
    // active (checked by rank 1 before rank 0, which waits for its token, starts the run, so the run
    // cannot have completed even with the progress thread running); bad arguments.
    requireError(.invalidCount) { try allreduce.start(with: [1, 2]) }
    requireError(.invalidCount) { _ = try world.allreduceInit(count: -1, of: Int.self, op: .sum) }
    requireError(.invalidRank) { _ = try world.bcastInit(count: 1, of: Int.self, root: n) }
    if n > 1 {
        if r == 0 {
            var token: [UInt8] = [0]
            try world.recv(into: &token, from: 1, tag: 950)
        } else {
            try allreduce.start(with: [Int](repeating: 2, count: 5))
        }
        if r == 1 {
            // Before rank 0 starts (it waits for this rank's token), so the run is still active.
            requireError(.invalidArgument) { try allreduce.start(with: [Int](repeating: 3, count: 5)) }
            do {
                try allreduce.withInput { (span: inout MutableSpan<Int>) in span[0] = 99 }
                require(false, "withInput during an active run returned")
            } catch let error as MPIError {
                require(error.code == .invalidArgument, "withInput during an active run: \(error)")
            }
            try world.send([UInt8(1)], to: 0, tag: 950)
        }
        if r == 0 { try allreduce.start(with: [Int](repeating: 2, count: 5)) }
        require(try allreduce.wait() == [Int](repeating: 2 * n, count: 5), "allreduceInit after refused changes")
    }
}

/// Fails the check unless `body` throws an `MPIError` with `code`.
func requireError(_ code: MPIError.Code, line: Int = #line, _ body: () throws -> Void) {
    do {
        try body()
        require(false, "expected \(code), but the call returned", line: line)
    } catch let error as MPIError {
        require(error.code == code, "expected \(code), got \(error)", line: line)
    } catch {
        require(false, "expected \(code), got \(error)", line: line)
    }
}
