#if canImport(Glibc)
import Glibc
#endif
import SwiftMPI

/// `free()` releases a communicator's context ids: `cycles` dup/free and split/free cycles all reuse
/// the first freed pair, without growth in this process's resident memory; a pair still held by one
/// member is not handed out again until it frees it too; a communicator on a reused pair carries its
/// own traffic and collectives (shared-memory channels are not reused).
func checkContextReuse(_ world: Communicator, cycles: Int) throws {
    let n = world.size, r = world.rank
    let first = try world.dup()
    let reused = first.contextId
    first.free()
    // Warm up (pools, queues and the allocator reach their size), then measure.
    for _ in 0..<1000 { try world.dup().free() }
    let before = residentBytes()
    for cycle in 0..<cycles {
        let made = cycle % 2 == 0 ? try world.dup() : try world.split(color: 0, key: -r)!
        require(made.contextId == reused, "cycle \(cycle): context \(made.contextId), expected the freed \(reused)")
        made.free()
    }
    let grown = residentBytes() - before
    require(grown < 8 << 20, "\(cycles) create/free cycles grew resident memory by \(grown >> 10) KiB")

    // Rank 0 keeps a communicator the others have freed: the next one gets another pair.
    let held = try world.dup()
    if r != 0 || n == 1 { held.free() }
    let next = try world.dup()
    require(n == 1 ? next.contextId == held.contextId : next.contextId != held.contextId, "a pair still held by rank 0 was handed out again")
    // Both work side by side: traffic on one never matches receives on the other.
    if n > 1 {
        if r == 0 {
            try next.send([1], to: 1, tag: 5)
            try held.send([2], to: 1, tag: 5)
        } else if r == 1 {
            var value = [0]
            try held.recv(into: &value, from: 0, tag: 5)
            require(value == [2], "held communicator received \(value)")
            try next.recv(into: &value, from: 0, tag: 5)
            require(value == [1], "next communicator received \(value)")
        }
    }
    let sums = try next.allreduce([r], op: .sum)
    require(sums == [n * (n - 1) / 2], "allreduce on a reused context: \(sums)")
    if r == 0 && n > 1 { held.free() }
    next.free()
    let again = try world.dup()
    require(again.contextId == reused, "after every member freed them, the lowest pair is reused: \(again.contextId)")
    try again.barrier()
    again.free()
}

/// This process's resident memory in bytes (the second field of /proc/self/statm, in pages).
func residentBytes() -> Int {
    let descriptor = open("/proc/self/statm", O_RDONLY)
    guard descriptor >= 0 else { return 0 }
    defer { close(descriptor) }
    var bytes = [UInt8](repeating: 0, count: 256)
    let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
    guard count > 0 else { return 0 }
    let fields = String(decoding: bytes[0..<count], as: UTF8.self).split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * sysconf(Int32(_SC_PAGESIZE))
}
