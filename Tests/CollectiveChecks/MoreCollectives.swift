// reduceScatterBlock, iexscan, MPI.commSelf and communicator names, against serial computations.
import Dispatch
import SwiftMPI

func checkMoreCollectives(_ world: Communicator) throws {
    let n = world.size, r = world.rank
    for block in [0, 1, 5] {
        let values = (0..<(block * n)).map { r * 1000 + $0 }
        let mine = try world.reduceScatterBlock(values, op: .sum)
        let expected = (0..<block).map { k in (0..<n).reduce(0) { $0 + $1 * 1000 + r * block + k } }
        require(mine == expected, "reduceScatterBlock of \(block) per rank: \(mine), expected \(expected)")
    }
    do {
        _ = try world.reduceScatterBlock([Int](repeating: 1, count: n + 1), op: .sum)
        require(n == 1, "reduceScatterBlock of \(n + 1) elements over \(n) ranks accepted")
    } catch let error {
        require(error.code == .invalidCount, "reduceScatterBlock count: \(error)")
    }

    var prefix = [Int](repeating: -5, count: 3)
    let contribution = [r + 1, 2 * r, 7]
    try contribution.withUnsafeBufferPointer { input in
        try prefix.withUnsafeMutableBufferPointer { output in _ = try world.iexscan(input, into: output, op: .sum).wait() }
    }
    let expectedPrefix = r == 0 ? [-5, -5, -5] : [r * (r + 1) / 2, r * (r - 1), 7 * r]
    require(prefix == expectedPrefix, "iexscan: \(prefix), expected \(expectedPrefix)")

    require(MPI.universeSize == n && MPI.appNumber == 0 && !MPI.wtimeIsGlobal && MPI.tagUpperBound >= 32767, "predefined attributes")
    let alone = try MPI.commSelf
    require(alone.size == 1 && alone.rank == 0 && alone.name == "self", "MPI.commSelf: rank \(alone.rank) of \(alone.size), \(alone.name)")
    require(try alone.allreduce([r], op: .sum) == [r], "allreduce on MPI.commSelf")
    var echo = [0]
    _ = try alone.sendrecv([r + 40], to: 0, sendTag: 3, into: &echo, from: 0, recvTag: 3)
    require(echo == [r + 40], "sendrecv on MPI.commSelf")
    let again = try MPI.commSelf
    again.name = "mine"
    require(alone.name == "mine", "MPI.commSelf is one communicator")
    // A communicator made after commSelf took a context id still works across the ranks.
    let copy = try world.dup()
    require(world.name == "world" && copy.name.isEmpty, "default names: \(world.name) and '\(copy.name)'")
    copy.name = "copy of world"
    require(copy.name == "copy of world" && world.name == "world", "names are per communicator")
    require(try copy.allreduce([1], op: .sum) == [n], "a communicator made after MPI.commSelf")
}

/// Persistent collectives: fixed once, started many times with new contents, alone and with startAll.
func checkPersistentCollectives(_ world: Communicator) throws {
    let n = world.size, r = world.rank
    let input = UnsafeMutableBufferPointer<Int>.allocate(capacity: 4)
    let output = UnsafeMutableBufferPointer<Int>.allocate(capacity: 4)
    let shared = UnsafeMutableBufferPointer<Int>.allocate(capacity: 3)
    let gathered = UnsafeMutableBufferPointer<Int>.allocate(capacity: 2 * n)
    defer { [input, output, shared, gathered].forEach { $0.deallocate() } }
    let allreduce = world.allreduceInit(UnsafeBufferPointer(input), into: output, op: .sum)
    let root = n - 1
    let bcast = try world.bcastInit(shared, root: root)
    let barrier = world.barrierInit()
    let ring = try world.cartCreate(dims: [n], periods: [true])!
    let neighbors = ring.neighborAllgatherInit(UnsafeBufferPointer(rebasing: input[0..<1]), into: gathered)
    require(allreduce.isPersistent && bcast.isPersistent && barrier.isPersistent, "persistent collectives are persistent")
    require(try allreduce.wait().byteCount == 0, "an inactive persistent collective completes at once")
    for round in 0..<5 {
        for k in 0..<4 { input[k] = round * 100 + r * 10 + k }
        if r == root { for k in 0..<3 { shared[k] = round * 7 + k } }
        try allreduce.start()
        try allreduce.wait()
        let expected = (0..<4).map { k in (0..<n).reduce(0) { $0 + round * 100 + $1 * 10 + k } }
        require(Array(output) == expected, "allreduceInit round \(round): \(Array(output))")
        try Request.startAll([bcast, barrier, neighbors])
        try Request.waitAll([bcast, barrier, neighbors])
        require(Array(shared) == (0..<3).map { round * 7 + $0 }, "bcastInit round \(round): \(Array(shared))")
        let down = (r - 1 + n) % n, up = (r + 1) % n
        require(Array(gathered[0..<2]) == [round * 100 + down * 10, round * 100 + up * 10], "neighborAllgatherInit round \(round)")
    }
    do {
        try allreduce.start()
        try allreduce.start()
        require(false, "an active persistent collective started again")
    } catch let error {
        require(error.code == .invalidArgument, "starting an active persistent collective: \(error)")
    }
    try allreduce.wait()
}

/// Attribute keys: copy on dup, delete exactly once on replace, remove and free (newest first).
func checkAttributeKeys(_ world: Communicator) throws {
    final class Log { var deleted: [String] = [] }
    let log = Log()
    let counter = AttributeKey<Int>(copy: { $0 + 1 }, delete: { log.deleted.append("counter \($0)") })
    let label = AttributeKey<String>(delete: { log.deleted.append("label \($0)") })  // not copied by dup
    let mine = try world.dup()
    mine.setAttribute(10, for: counter)
    mine.setAttribute("a", for: label)
    let copy = try mine.dup()
    require(copy.attribute(for: counter) == 11 && copy.attribute(for: label) == nil, "dup copies through the keys' copy")
    require(mine.attribute(for: counter) == 10 && mine.attribute(for: label) == "a", "the original keeps its values")
    mine.setAttribute(20, for: counter)
    require(log.deleted == ["counter 10"] && mine.attribute(for: counter) == 20, "replacing deletes the old value: \(log.deleted)")
    mine.removeAttribute(for: label)
    require(log.deleted == ["counter 10", "label a"] && mine.attribute(for: label) == nil, "remove deletes: \(log.deleted)")
    copy.setAttribute("b", for: label)
    copy.free()
    copy.free()
    require(log.deleted == ["counter 10", "label a", "label b", "counter 11"], "free deletes each value once, newest first: \(log.deleted)")
    mine.free()
    require(log.deleted.last == "counter 20" && log.deleted.count == 5, "free: \(log.deleted)")
}

/// idup from a task: the duplicate works and is private; MPI.errorString names and explains codes.
func checkIdup(_ world: Communicator) throws {
    // @unchecked: the task writes the box before it signals `done`; the main thread reads it only after
    // waiting on `done` (the semaphore orders the write before the read).
    final class Box: @unchecked Sendable { var made: Communicator?; var error: (any Error)? }
    let box = Box()
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        do { box.made = try await world.idup() } catch { box.error = error }
        done.signal()
    }
    done.wait()
    guard let made = box.made else { return require(false, "idup: \(String(describing: box.error))") }
    require(made.size == world.size && made.rank == world.rank && made.compare(world) == .congruent, "idup: a congruent copy")
    require(try made.allreduce([world.rank], op: .sum) == [world.size * (world.size - 1) / 2], "allreduce on an idup copy")
    require(MPI.errorString(.truncate) == "truncate: a message longer than the receive buffer", "errorString: \(MPI.errorString(.truncate))")
}

/// In-place gather, scatter and allgather against their plain forms' results.
func checkInPlace(_ world: Communicator) throws {
    let n = world.size, r = world.rank
    let part = 3
    let everyone = (0..<(n * part)).map { $0 / part * 100 + $0 % part }  // part i is [100 i, 100 i + 1, 100 i + 2]
    let mine = Array(everyone[(r * part)..<((r + 1) * part)])
    for root in Array(Set([0, n - 1])).sorted() {
        var gathered = r == root ? everyone.enumerated().map { $0.offset / part == root ? $0.element : -1 } : mine
        try world.gather(inPlace: &gathered, root: root)
        require(gathered == (r == root ? everyone : mine), "gather in place at root \(root): \(gathered)")
        var scattered = r == root ? everyone : [-1]
        try world.scatter(inPlace: &scattered, root: root)
        require(scattered == (r == root ? everyone : mine), "scatter in place from root \(root): \(scattered)")
    }
    var all = everyone.enumerated().map { $0.offset / part == r ? $0.element : -1 }
    try world.allgather(inPlace: &all)
    require(all == everyone, "allgather in place: \(all)")
}
