// swiftmpi-rma-check: one-sided communication (windows), checked against serial models on every rank.
// Run as real jobs by the test suite:  swiftmpirun -n N swiftmpi-rma-check
// Any mismatch prints "CHECK FAILED ..." and exits 1, which ends the job.
#if canImport(Glibc)
import Glibc
#endif
import SwiftMPI

func require(_ condition: Bool, _ message: @autoclosure () -> String, line: Int = #line) {
    guard condition else {
        let text = "CHECK FAILED (line \(line)) on rank \(worldRank): \(message())\n"
        _ = text.utf8CString.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress!, $0.count - 1) }
        exit(1)
    }
}

/// Runs `body`, which must throw an MPIError with `code`.
func requireError(_ code: MPIError.Code, _ what: String, line: Int = #line, _ body: () throws -> Void) {
    do {
        try body()
        require(false, "\(what): no error", line: line)
    } catch let error as MPIError {
        require(error.code == code, "\(what): \(error.code) instead of \(code): \(error)", line: line)
    } catch {
        require(false, "\(what): \(error)", line: line)
    }
}

let world = try MPI.initialize()
let worldRank = world.rank
let n = world.size
let r = world.rank
let right = (r + 1) % n
let left = (r + n - 1) % n

// MARK: Fence: put, get, accumulate against a serial model, on every kind of window
for kind in ["allocate", "create"] {
    let count = 1000
    var exposed = [Double](repeating: 0, count: count)
    try exposed.withUnsafeMutableBufferPointer { buffer in
        let win =
            kind == "allocate"
            ? try Window<Double>.allocate(count: count, on: world)
            : try Window<Double>.create(exposing: buffer, on: world)
        require(try win.count(ofRank: left) == count, "\(kind): count of rank \(left)")
        try win.fence()
        // Each rank writes its values into the right neighbour's window, at 10..<510.
        let mine = (0..<500).map { Double(r * 10_000 + $0) }
        try win.put(mine, to: right, at: 10)
        try win.fence()
        let local = Array(win.localMemory)
        require(Array(local[10..<510]) == (0..<500).map { Double(left * 10_000 + $0) }, "\(kind): put + fence from rank \(left)")
        require(local[0..<10].allSatisfy { $0 == 0 } && local[510...].allSatisfy { $0 == 0 }, "\(kind): put wrote outside its range")
        // Reads the left neighbour's window (which holds what rank left - 1 put there).
        let read = try win.get(count: 500, from: left, at: 10)
        try win.fence()
        let leftOfLeft = (left + n - 1) % n
        require(read == (0..<500).map { Double(leftOfLeft * 10_000 + $0) }, "\(kind): get + fence from rank \(left)")
        // Every rank adds to every rank's elements 600..<700: sum exact.
        for target in 0..<n { try win.accumulate([Double](repeating: Double(r + 1), count: 100), to: target, at: 600, op: .sum) }
        try win.fence()
        require(Array(win.localMemory[600..<700]).allSatisfy { $0 == Double(n * (n + 1) / 2) }, "\(kind): accumulate sum")
        // max, then replace.
        try win.accumulate([Double(r)], to: 0, at: 800, op: .max)
        try win.fence()
        if r == 0 { require(win.localMemory[800] == Double(n - 1), "\(kind): accumulate max") }
        if r == n - 1 { try win.accumulate([-7], to: 0, at: 801, op: .replace) }
        try win.fence()
        if r == 0 { require(win.localMemory[801] == -7, "\(kind): accumulate replace") }
        try win.free()
    }
    if kind == "create" { require(exposed[600] == Double(n * (n + 1) / 2), "create: the caller's buffer holds the window's data after free") }
}

// MARK: Large transfers: bigger than any packet
do {
    let count = 300_000  // 2.4 MB
    let win = try Window<Double>.allocate(count: count, on: world)
    try win.fence()
    try win.put((0..<count).map { Double($0) + Double(r) / 8 }, to: right, at: 0)
    try win.fence()
    require(Array(win.localMemory) == (0..<count).map { Double($0) + Double(left) / 8 }, "large put")
    var back = [Double](repeating: -1, count: count - 5)
    try win.get(into: &back, from: right, at: 5)
    try win.fence()
    require(back == (5..<count).map { Double($0) + Double(r) / 8 }, "large get")
    try win.accumulate([Double](repeating: 1, count: count), to: right, at: 0, op: .sum)
    try win.fence()
    require(Array(win.localMemory) == (0..<count).map { Double($0) + Double(left) / 8 + 1 }, "large accumulate")
    try win.free()
}

// MARK: Integer operators, getAccumulate, fetchAndOp, compareAndSwap
do {
    let win = try Window<Int64>.allocate(count: 8, on: world)
    win.localMemory[1] = 1  // the product's start
    try win.fence()
    try win.accumulate([Int64(1) << r], to: 0, at: 0, op: .bitwiseOr)
    try win.accumulate([Int64(r + 1)], to: 0, at: 1, op: .product)
    try win.fence()
    if r == 0 {
        require(win.localMemory[0] == (Int64(1) << n) - 1, "bitwiseOr: \(win.localMemory[0])")
        require(win.localMemory[1] == (1...Int64(n)).reduce(1, *), "product")
    }
    // Serialized through fences: each rank in turn swaps in its rank + 100 and sees the previous one's.
    for turn in 0..<n {
        if r == turn {
            let old = try win.getAccumulate([Int64(r + 100)], to: n - 1, at: 2, op: .replace)
            require(old == [turn == 0 ? 0 : Int64(turn - 1 + 100)], "getAccumulate replace: \(old)")
            let same = try win.fetchAndOp(0, to: n - 1, at: 2, op: .noOp)
            require(same == Int64(r + 100), "fetchAndOp noOp")
        }
        try win.fence()
    }
    try win.free()
}

// MARK: minloc and maxloc on (value, index) pairs: the extreme value and, on ties, the lowest index
do {
    let win = try Window<ValueAndIndex<Double>>.allocate(count: 2, on: world)
    win.localMemory[0] = ValueAndIndex(.infinity, -1)
    win.localMemory[1] = ValueAndIndex(-.infinity, -1)
    try win.fence()
    // Values 5, 4, 3, ... down to a floor of 2: ranks from 3 on tie at 2, so the lowest of them wins.
    let value = Double(max(5 - r, 2))
    try win.accumulate([ValueAndIndex(value, r)], to: 0, at: 0, op: .minloc())
    try win.accumulate([ValueAndIndex(value, r)], to: 0, at: 1, op: .maxloc())
    try win.fence()
    let lowest = ValueAndIndex(Double(max(5 - (n - 1), 2)), min(n - 1, 3))
    if r == 0 {
        let low = win.localMemory[0], high = win.localMemory[1]
        require(low == lowest, "minloc: \(low)")
        require(high == ValueAndIndex(5, 0), "maxloc: \(high)")
    }
    try win.fence()
    try win.lock(.exclusive, rank: 0)
    let old = try win.fetchAndOp(ValueAndIndex(-1, r), to: 0, at: 0, op: .minloc())
    try win.unlock(rank: 0)
    // The first rank to take the lock sees the minloc above; the others a -1 some rank put there.
    require(old == lowest || (old.value == -1 && old.index < n), "fetchAndOp minloc returned \(old)")
    try win.fence()
    if r == 0 { require(win.localMemory[0] == ValueAndIndex(-1, 0), "minloc ties go to the lowest index: \(win.localMemory[0])") }
    requireError(.invalidArgument, "a user operator on pairs") {
        try win.accumulate([ValueAndIndex(1, r)], to: 0, at: 0, op: .custom("first") { a, _ in a })
    }
    try win.free()
}

// MARK: A fetch-and-op work queue under contention: every ticket handed out exactly once
do {
    let perRank = 200
    let win = try Window<Int>.allocate(count: 1, on: world)
    try win.fence()
    try win.fence()
    try win.lockAll()
    var tickets: [Int] = []
    for _ in 0..<perRank { tickets.append(try win.fetchAndOp(1, to: n / 2, at: 0, op: .sum)) }
    try win.unlockAll()
    let all = try world.allgather(tickets)
    require(all.sorted() == Array(0..<(n * perRank)), "fetchAndOp tickets are not 0..<\(n * perRank)")
    try win.fence()
    if r == n / 2 { require(win.localMemory[0] == n * perRank, "fetchAndOp counter") }
    try win.fence()
    try win.free()
}

// MARK: An exclusive-lock counter (get, put, unlock) and a compare-and-swap mutex
do {
    let rounds = 50
    let win = try Window<Int64>.allocate(count: 4, on: world)
    try win.fence()
    try win.fence()
    for _ in 0..<rounds {
        try win.lock(.exclusive, rank: 0)
        let value = try win.get(count: 1, from: 0, at: 0)[0]
        try win.put([value + 1], to: 0, at: 0)
        try win.unlock(rank: 0)
    }
    for _ in 0..<rounds {
        try win.lockAll()
        // Spin on the mutex word (element 1 of the last rank): 0 free, else holder + 1.
        while try win.compareAndSwap(0, Int64(r + 1), at: 1, in: n - 1) != 0 {}
        let value = try win.get(count: 1, from: n - 1, at: 2)[0]
        try win.put([value + 1], to: n - 1, at: 2)
        try win.flush(rank: n - 1)
        let released = try win.compareAndSwap(Int64(r + 1), 0, at: 1, in: n - 1)
        require(released == Int64(r + 1), "compareAndSwap mutex held by \(released - 1), not by this rank")
        try win.unlockAll()
    }
    try world.barrier()
    try win.lock(.shared, rank: 0)
    let counter = try win.get(count: 1, from: 0, at: 0)[0]
    try win.unlock(rank: 0)
    try win.lock(.shared, rank: n - 1)
    let guarded = try win.get(count: 1, from: n - 1, at: 2)[0]
    try win.unlock(rank: n - 1)
    require(counter == Int64(n * rounds), "exclusive-lock counter \(counter), not \(n * rounds)")
    require(guarded == Int64(n * rounds), "compare-and-swap mutex counter \(guarded), not \(n * rounds)")
    try world.barrier()
    try win.free()
}

// MARK: Post, start, complete, wait: a ring, twice
do {
    let win = try Window<Int32>.allocate(count: 4, on: world)
    let leftGroup = try world.group.include([left])
    let rightGroup = try world.group.include([right])
    for round in 0..<2 {
        try win.post(leftGroup)  // the left neighbour writes here
        try win.start(rightGroup)
        try win.put([Int32(r), Int32(round)], to: right, at: 0)
        try win.accumulate([1], to: right, at: 2, op: .sum)
        try win.complete()
        try win.wait()
        let local = Array(win.localMemory)
        require(local[0] == Int32(left) && local[1] == Int32(round) && local[2] == Int32(round + 1), "post/start/complete/wait round \(round): \(local)")
    }
    try win.fence()
    if n > 1 {
        let posted = try world.group.include([right])
        try win.post(posted)
        require(!(try win.test()) || n == 1, "test() before the origin completed")  // the right neighbour has not started
        try world.barrier()
        try win.start(try world.group.include([left]))
        try win.complete()
        while try !win.test() {}
    }
    try win.free()
}

// MARK: Shared windows: one segment, direct loads and stores, contiguous parts
if let node = try world.splitType(.shared) {
    let count = 16 + node.rank
    let win = try Window<UInt64>.allocateShared(count: count, on: node)
    let mine = win.localMemory
    for i in 0..<count { mine[i] = UInt64(node.rank * 1000 + i) }
    try win.fence()
    for other in 0..<node.size {
        let part = try win.localMemory(ofRank: other)
        require(part.count == 16 + other, "shared part of rank \(other) has \(part.count) elements")
        require(Array(part) == (0..<(16 + other)).map { UInt64(other * 1000 + $0) }, "shared part of rank \(other)")
        if other > 0 {
            let previous = try win.localMemory(ofRank: other - 1)
            require(previous.baseAddress! + previous.count == part.baseAddress!, "shared parts \(other - 1) and \(other) are not contiguous")
        }
    }
    try win.fence()
    try win.free()
    node.free()
}

// MARK: Dynamic windows: memory attached later, reached at the offsets attach gives
do {
    let win = try Window<Int64>.createDynamic(on: world)
    var local = [Int64](repeating: 0, count: 8)
    try local.withUnsafeMutableBufferPointer { buffer in
        let offset = try win.attach(buffer)
        var where_ = [0]  // where the right neighbour's buffer is
        try world.sendrecv([offset], to: left, sendTag: 3, into: &where_, from: right, recvTag: 3)
        let rightOffset = where_[0]
        try win.fence()
        try win.put([Int64(r), Int64(r * 10)], to: right, at: rightOffset + 2)
        try win.accumulate([5], to: right, at: rightOffset + 7, op: .sum)
        try win.fence()
        let back = try win.get(count: 2, from: right, at: rightOffset + 2)
        try win.fence()
        require(back == [Int64(r), Int64(r * 10)], "dynamic get \(back)")
        require(Array(buffer) == [0, 0, Int64(left), Int64(left * 10), 0, 0, 0, 5], "dynamic put/accumulate \(Array(buffer))")
        // Outside the attached buffer: the target refuses, the origin's next completion says so.
        try win.put([1], to: right, at: rightOffset + 8)
        requireError(.rmaRange, "put past an attached buffer, reported by the fence") { try win.fence() }
        try win.detach(buffer)
        requireError(.invalidArgument, "detach twice") { try win.detach(buffer) }
    }
    try win.fence()
    try win.free()
}

// MARK: Passive target: the target sleeps outside SwiftMPI
if n > 1 {
    let win = try Window<Int>.allocate(count: 1, on: world)
    let direct = try world.allreduce([(try? win.localMemory(ofRank: 0)) != nil ? 1 : 0], op: .min)[0] == 1
    try world.barrier()
    if r == 0 {
        usleep(1_000_000)
        let woke = MPI.wtime()
        _ = try world.allreduce([woke], op: .max)
        try win.lock(.shared, rank: 0)
        require(win.localMemory[0] == n - 1, "passive target: \(win.localMemory[0]) accumulates arrived, not \(n - 1)")
        try win.unlock(rank: 0)
    } else {
        try win.lock(.exclusive, rank: 0)
        try win.accumulate([1], to: 0, at: 0, op: .sum)
        try win.unlock(rank: 0)
        let finished = MPI.wtime()
        let woke = try world.allreduce([0.0], op: .max)[0]
        // On shared memory the origin does it all; by messages the target serves it when it wakes.
        if direct { require(finished < woke, "passive target on shared memory waited for the sleeping target") }
    }
    try win.free()
    if r == 0 {
        print("passive target: \(direct ? "completed while the target slept (shared memory)" : "completed when the target called SwiftMPI (messages)")")
    }
}

// MARK: Datatype forms: a row into a column, a column into every other element, accumulate by column
do {
    let nx = 6, ny = 5
    let double = Datatype(Double.self)
    let column = try Datatype.vector(count: ny, blockLength: 1, stride: nx, of: double)
    let everyOther = try Datatype.vector(count: ny, blockLength: 1, stride: 2, of: double)
    let win = try Window<Double>.allocate(count: nx * ny, on: world)
    try win.fence()
    let row = (0..<ny).map { Double(r * 100 + $0) }
    try win.put(row, count: ny, datatype: double, to: right, at: 2, targetCount: 1, targetDatatype: column)
    try win.fence()
    let grid = Array(win.localMemory)
    for y in 0..<ny { require(grid[y * nx + 2] == Double(left * 100 + y), "datatype put: row \(y) of column 2 holds \(grid[y * nx + 2])") }
    require(grid.enumerated().allSatisfy { $0.offset % nx == 2 || $0.element == 0 }, "datatype put wrote outside column 2: \(grid)")
    // Read the left neighbour's column 2 into every other element of a buffer twice as long.
    var picked = [Double](repeating: -1, count: 2 * ny)
    try win.get(into: &picked, count: 1, datatype: everyOther, from: left, at: 2, targetCount: 1, targetDatatype: column)
    let leftOfLeft = (left + n - 1) % n
    for y in 0..<ny {
        require(picked[2 * y] == Double(leftOfLeft * 100 + y) && picked[2 * y + 1] == -1, "datatype get: \(picked)")
    }
    try win.fence()  // rank 0 has read its grid before anyone accumulates into it
    // Every rank adds 1 to column 4 of rank 0: n in each of its elements.
    try win.accumulate(
        [Double](repeating: 1, count: ny), count: ny, datatype: double, to: 0, at: 4, targetCount: 1, targetDatatype: column, op: .sum)
    try win.fence()
    if r == 0 { for y in 0..<ny { require(win.localMemory[y * nx + 4] == Double(n), "datatype accumulate: row \(y)") } }
    try win.fence()
    // Rank 0's column 4 holds n everywhere; each rank adds r + 1 and gets what was there into every
    // other element of its result: the old values seen, in order, are n plus earlier ranks' addends.
    var previous = [Double](repeating: -1, count: 2 * ny)
    try win.lock(.exclusive, rank: 0)
    try win.getAccumulate(
        [Double](repeating: Double(r + 1), count: ny), count: ny, datatype: double, into: &previous, resultCount: 1,
        resultDatatype: everyOther, to: 0, at: 4, targetCount: 1, targetDatatype: column, op: .sum)
    try win.unlock(rank: 0)
    require((0..<ny).allSatisfy { previous[2 * $0 + 1] == -1 && previous[2 * $0] == previous[0] }, "datatype getAccumulate layout: \(previous)")
    let seen = try world.allgather([previous[0]])
    require(Set(seen).count == n && seen.allSatisfy { $0 >= Double(n) }, "datatype getAccumulate: old values \(seen)")
    try win.fence()
    if r == 0 { require(win.localMemory[4] == Double(n + n * (n + 1) / 2), "datatype getAccumulate sum: \(win.localMemory[4])") }
    // Mistakes are caught at the origin before anything moves.
    requireError(.rmaRange, "a column from element 2 of row 1 runs past the window") {
        try win.put(row, count: ny, datatype: double, to: right, at: nx + 2, targetCount: 1, targetDatatype: column)
    }
    requireError(.invalidDatatype, "origin and target byte counts differ") {
        try win.put(row, count: ny - 1, datatype: double, to: right, at: 2, targetCount: 1, targetDatatype: column)
    }
    requireError(.invalidCount, "an origin layout past the origin's buffer") {
        try win.put(row, count: 1, datatype: column, to: right, at: 0, targetCount: ny, targetDatatype: double)
    }
    let halves = try Datatype.hindexed(blockLengths: [8], displacementsBytes: [4], of: Datatype(UInt8.self))
    requireError(.invalidDatatype, "an accumulate whose target layout cuts elements") {
        try win.accumulate([1], count: 1, datatype: double, to: right, at: 0, targetCount: 1, targetDatatype: halves, op: .sum)
    }
    try win.fence()
    try win.free()
}

// MARK: Passive target by RDMA: puts and gets complete while the target sleeps outside SwiftMPI
for kind in ["allocate", "create"] where n > 1 {
    var exposed = [Int](repeating: 0, count: 4 * n)
    try exposed.withUnsafeMutableBufferPointer { buffer in
        let win = kind == "allocate" ? try Window<Int>.allocate(count: 4 * n, on: world) : try Window<Int>.create(exposing: buffer, on: world)
        let path = try win.path(toRank: 0)
        // MPI_MODE_NOCHECK: nobody locks exclusively meanwhile, so no lock is taken (a lock on a
        // rank reached by RDMA would wait for its grant, which a sleeping target does not give).
        try win.lockAll(noCheck: true)
        try world.barrier()
        if r == 0 {
            // 4 s: the others' put, flush and get across two emulated VMs took over 1 s once, on
            // a CI machine busy with other suites (the check failed although RDMA had not waited).
            usleep(4_000_000)
            _ = try world.allreduce([MPI.wtime()], op: .max)
        } else {
            // Small (staged) and large (from this rank's memory) puts, flushed, then read back.
            try win.put([r, r + 1, r + 2, r + 3], to: 0, at: 4 * r)
            try win.flush(rank: 0)
            require(try win.get(count: 4, from: 0, at: 4 * r) == [r, r + 1, r + 2, r + 3], "\(kind): RDMA get after put + flush")
            let finished = MPI.wtime()
            let woke = try world.allreduce([0.0], op: .max)[0]
            if path != .messages { require(finished < woke, "\(kind): passive target (\(path)) waited for the sleeping target") }
        }
        try win.unlockAll()
        try world.barrier()
        if r == 0 {
            let memory = kind == "allocate" ? Array(win.localMemory) : Array(buffer)
            for origin in 1..<n {
                require(Array(memory[(4 * origin)..<(4 * origin + 4)]) == [origin, origin + 1, origin + 2, origin + 3], "\(kind): rank \(origin)'s put")
            }
        }
        let paths = try world.gather([path == .mapped ? 0 : path == .remoteMemoryAccess ? 1 : 2], root: 0)
        try win.free()
        if r == 0 {
            let names = ["mapped", "RDMA", "messages"]
            print("passive target \(kind): paths to rank 0: \(paths!.dropFirst().map { names[$0] }.joined(separator: " "))")
        }
    }
}

// MARK: Large puts and gets by RDMA: bigger than a staging slot, from and into the caller's memory
if n > 1 {
    let count = 100_000
    let win = try Window<Int32>.allocate(count: count, on: world)
    try win.lockAll()
    let values = (0..<Int32(count)).map { $0 &* 3 &+ Int32(r) }
    try win.put(values, to: right, at: 0)
    try win.flush(rank: right)
    require(try win.get(count: count, from: right, at: 0) == values, "large put then get on rank \(right)")
    try win.unlockAll()
    try world.barrier()
    require(Array(win.localMemory) == (0..<Int32(count)).map { $0 &* 3 &+ Int32(left) }, "large put from rank \(left)")
    try win.free()
}

// MARK: lockAll takes the lock of a rank reached by messages (or RDMA) at the first access to it
if n > 1 {
    var memory = [Int](repeating: 0, count: 1)
    try memory.withUnsafeMutableBufferPointer { buffer in
        let win = try Window<Int>.create(exposing: buffer, on: world)
        if r == 0 { try win.lock(.exclusive, rank: 0) }
        try world.barrier()
        if r == 1 {
            require(try win.path(toRank: 0) != .mapped, "a window over the caller's memory is mapped on rank 0 alone")
            try win.lockAll()  // returns although rank 0 holds its own lock exclusively
            try world.send([1], to: 0, tag: 61)
            try win.put([42], to: 0, at: 0)  // waits here for the lock
            try win.unlockAll()
        }
        if r == 0 {
            _ = try world.recv(count: 1, of: Int.self, from: 1, tag: 61)  // lockAll returned on rank 1
            buffer[0] = 41
            try win.unlock(rank: 0)
        }
        try world.barrier()
        if r == 0 { require(buffer[0] == 42, "lockAll's put landed before the exclusive epoch ended: \(buffer[0])") }
        try win.free()
    }
}

// MARK: Request forms (rput, rget, raccumulate) and every flush, in a passive epoch against a serial model
do {
    let win = try Window<Int64>.allocate(count: n + 2, on: world)
    for i in 0..<(n + 2) { win.localMemory[i] = 0 }
    try world.barrier()
    try win.lockAll()
    // Every rank writes its slot of its right neighbour, adds to the last slot, then reads both back.
    let put = try win.rput([Int64(100 + r)], to: right, at: r)
    _ = try put.wait()
    try win.flushLocal(rank: right)
    try win.flush(rank: right)
    let added = try win.raccumulate([Int64(r + 1)], to: right, at: n + 1, op: .sum)
    _ = try added.wait()
    try win.flushLocalAll()
    try win.flushAll()
    try world.barrier()  // every rank's put and accumulate are complete at their targets
    var mine: [Int64] = [0]
    let got = try win.rget(into: &mine, from: right, at: r)
    _ = try got.wait()
    require(mine == [Int64(100 + r)], "rget after rput from rank \(r): \(mine)")
    var total: [Int64] = [0]
    _ = try win.rget(into: &total, from: right, at: n + 1).wait()
    // The right neighbour's last slot got one accumulate: from this rank, its left neighbour.
    require(total == [Int64(r + 1)], "raccumulate into rank \(right): \(total), not \(r + 1)")
    try win.unlockAll()
    try world.barrier()
    try win.free()
    if r == 0 { print("request forms: rput, rget, raccumulate, flush, flushLocal, flushLocalAll, flushAll") }
}

// MARK: Mistakes are reported, not corrupting
do {
    let win = try Window<Float>.allocate(count: 10, on: world)
    requireError(.rmaSynchronization, "put before any epoch") { try win.put([1], to: right, at: 0) }
    requireError(.rmaSynchronization, "unlock without lock") { try win.unlock(rank: right) }
    requireError(.rmaSynchronization, "complete without start") { try win.complete() }
    try win.fence()
    requireError(.rmaRange, "put past the end") { try win.put([1, 2], to: right, at: 9) }
    requireError(.rmaRange, "get at a negative offset") { _ = try win.get(count: 1, from: right, at: -1) }
    requireError(.invalidRank, "put to rank n") { try win.put([1], to: n, at: 0) }
    requireError(.invalidArgument, "accumulate with a user operator") {
        try win.accumulate([1], to: right, at: 0, op: .custom("plusOne") { a, b in a + b + 1 })
    }
    try win.put([], to: right, at: 10)  // nothing, at the end: allowed
    try win.put([5], to: MPI.procNull, at: 99)  // MPI.procNull: nothing
    try win.fence()
    try win.lock(.exclusive, rank: right)
    requireError(.rmaSynchronization, "lock twice") { try win.lock(.shared, rank: right) }
    requireError(.rmaSynchronization, "free with a lock held") { try win.free() }
    try win.unlock(rank: right)
    try win.free()
    requireError(.invalidArgument, "put after free") { try win.put([1], to: right, at: 0) }
    requireError(.invalidArgument, "lock after free") { try win.lock(.shared, rank: right) }
    let flags = try Window<Bool>.allocate(count: 1, on: world)
    try flags.fence()
    try flags.accumulate([true], to: 0, at: 0, op: .logicalOr)
    try flags.fence()
    if r == 0 { require(flags.localMemory[0], "logicalOr on Bool") }
    try flags.free()
    let halves = try Window<Float16>.allocate(count: 2, on: world)
    try halves.fence()
    requireError(.invalidArgument, "sum on Float16 elements (no C MPI type)") { try halves.accumulate([1], to: 0, at: 0, op: .sum) }
    try halves.accumulate([Float16(r)], to: 0, at: 1, op: .replace)
    try halves.fence()
    try halves.free()
}

// MARK: Window hints (info): reported, no_locks honoured, same_size checked, bad values refused on every rank
do {
    let plain = try Window<Int64>.allocate(count: 4, on: world)
    let defaults = plain.info
    require(
        defaults["no_locks"] == "false" && defaults["accumulate_ordering"] == "rar,raw,war,waw" && defaults["accumulate_ops"] == "same_op_no_op"
            && defaults["same_size"] == "false",
        "default hints: \(Array(defaults))")
    try plain.free()
    // Rank 0 promises its part is never locked: nobody locks it, and nobody locks all.
    let info = try Info(
        r == 0
            ? ["no_locks": "true", "accumulate_ordering": "none", "same_size": "true", "same_disp_unit": "true", "a_key_of_another_mpi": "1"]
            : ["same_size": "true"])
    let promised = try Window<Int64>.allocate(count: 4, on: world, info: info)
    if r == 0 {
        require(promised.info["no_locks"] == "true" && promised.info["accumulate_ordering"] == "none", "hints given: \(Array(promised.info))")
        require(promised.info["a_key_of_another_mpi"] == nil, "an unknown key is not reported")
    }
    requireError(.rmaSynchronization, "lock of rank 0, made with no_locks=true") { try promised.lock(.shared, rank: 0) }
    requireError(.rmaSynchronization, "lockAll while rank 0 gave no_locks=true") { try promised.lockAll() }
    if n > 1 {
        try promised.lock(.exclusive, rank: n - 1)  // the other ranks are locked as usual
        try promised.unlock(rank: n - 1)
    }
    try promised.fence()  // fences still work
    try promised.accumulate([1], to: right, at: 0, op: .sum)
    try promised.fence()
    require(promised.localMemory[0] == 1, "an accumulate beside no_locks and accumulate_ordering=none: \(promised.localMemory[0])")
    // setInfo changes the accumulate hints only; a bad value changes nothing.
    try promised.setInfo(try Info(["accumulate_ops": "same_op", "no_locks": "false", "same_size": "false"]))
    require(promised.info["accumulate_ops"] == "same_op" && promised.info["same_size"] == "true", "after setInfo: \(Array(promised.info))")
    requireError(.invalidArgument, "setInfo with one bad value") {
        try promised.setInfo(try Info(["accumulate_ordering": "raw", "accumulate_ops": "any_op"]))
    }
    require(promised.info["accumulate_ordering"] == (r == 0 ? "none" : "rar,raw,war,waw"), "a failed setInfo changed nothing: \(Array(promised.info))")
    requireError(.invalidArgument, "setInfo with same_size=maybe") { try promised.setInfo(try Info(["same_size": "maybe"])) }
    requireError(.rmaSynchronization, "lock of rank 0 after setInfo(no_locks=false): the promise was made at creation") {
        try promised.lock(.shared, rank: 0)
    }
    try promised.free()
    if n > 1 {
        // Rank 0 says the sizes are the same; they are not: every rank throws, nothing hangs.
        requireError(.invalidArgument, "same_size=true with sizes that differ") {
            _ = try Window<Int64>.allocate(count: r + 1, on: world, info: try Info(r == 0 ? ["same_size": "true"] : [:]))
        }
        // One rank's bad value fails the creation everywhere.
        requireError(.invalidArgument, "a bad no_locks value on the last rank") {
            _ = try Window<Int64>.allocate(count: 1, on: world, info: try Info(r == n - 1 ? ["no_locks": "maybe"] : [:]))
        }
    }
    requireError(.invalidArgument, "accumulate_ordering with an order MPI does not name") {
        _ = try Window<Int64>.allocate(count: 1, on: world, info: try Info(["accumulate_ordering": "rar,wow"]))
    }
}

try world.barrier()
if r == 0 { print("one-sided checks passed on \(n) ranks") }
try MPI.finalize()
