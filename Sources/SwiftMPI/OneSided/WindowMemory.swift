#if canImport(Glibc)
import Glibc
#endif
import CShims
import SwiftMPIWireup

/// Where a window's memory lives, and which ranks' memory this process reaches with loads and stores.
///
/// - Private: this rank's memory (allocated here, or the user's for `create(exposing:)`), reached by
///   others through messages.
/// - Shared: one segment per host for the window's ranks that share memory (the route between them is
///   shared memory): a lock area (64 bytes per member: its lock word and its accumulate word), then
///   the members' parts in rank order — contiguous for `allocateShared` (as MPI_Win_allocate_shared
///   promises), each rounded up to 64 bytes for `allocate`. Every member maps it, so an origin on the
///   host puts, gets and accumulates by itself, and a target need not call SwiftMPI for that to
///   progress. The segment's name is removed as soon as all members mapped it (and by the launcher
///   at the end of the job if a rank died in between): nothing is left in /dev/shm.
struct WindowMemory {
    /// Where each rank's part is mapped here (nil: reached through messages), by rank in the window.
    var direct: [UnsafeMutableRawPointer?]
    /// Each rank's lock word and accumulate word (two `UInt64`s) for the ranks in ``direct``.
    var lockWords: [UnsafeMutablePointer<UInt64>?]
    /// What to give back at `free`: the mapped segment, or this rank's private allocations.
    var segment: UnsafeMutableRawBufferPointer?
    var privateData: UnsafeMutableRawPointer?
    var privateWords: UnsafeMutablePointer<UInt64>?

    /// Bytes of lock area per member.
    static let lockSlot = 64

    /// Private memory: `bytes` allocated here, or the caller's `exposing` memory.
    static func makePrivate(rank: Int, size: Int, bytes: Int, exposing: UnsafeMutableRawPointer?, allocate: Bool) -> WindowMemory {
        let words = UnsafeMutablePointer<UInt64>.allocate(capacity: 2)
        words.initialize(repeating: 0, count: 2)
        var memory = WindowMemory(direct: Array(repeating: nil, count: size), lockWords: Array(repeating: nil, count: size), privateWords: words)
        if allocate {
            let data = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
            data.initializeMemory(as: UInt8.self, repeating: 0, count: max(bytes, 1))
            memory.privateData = data
            memory.direct[rank] = data
        } else {
            memory.direct[rank] = exposing ?? UnsafeMutableRawPointer(words)  // an empty window's base: never read
        }
        memory.lockWords[rank] = words
        return memory
    }

    /// The shared layout: the lock area's size, each member's part offset, and the segment's size.
    static func sharedLayout(byteCounts: [Int], contiguous: Bool) -> (lockArea: Int, offsets: [Int], total: Int) {
        let lockArea = (byteCounts.count * lockSlot + 4095) / 4096 * 4096
        var offsets: [Int] = []
        var next = 0
        for bytes in byteCounts {
            offsets.append(next)
            next += contiguous ? bytes : (bytes + 63) / 64 * 64
        }
        return (lockArea, offsets, max(lockArea + next, 4096))
    }

    /// Maps one segment for the window's `members` on this host (ranks in the window, ascending);
    /// the lowest creates it. Collective over `communicator` (every rank of the window calls it, also
    /// those with no host peers, with `members == [rank]`), so a failure anywhere throws everywhere.
    static func makeShared(
        on communicator: Communicator, members: [Int], byteCounts: [Int], contiguous: Bool, jobID: String, call: String
    ) throws -> WindowMemory {
        let rank = communicator.rank
        let layout = sharedLayout(byteCounts: members.map { byteCounts[$0] }, contiguous: contiguous)
        let name = SegmentNames.windowName(jobID: jobID, context: communicator.context, leader: communicator.worldRank(members[0]))
        let isLeader = members.count > 1 && members[0] == rank
        var address: UnsafeMutableRawPointer?
        var failure = Int32(0)
        if isLeader { failure = cshims_segment_create(name, layout.total, &address) }
        let created = try communicator.allreduce([Int(failure)], op: .max)[0]
        if created != 0 {
            if isLeader && failure == 0 { cshims_segment_unmap(address, layout.total); cshims_segment_unlink(name) }
            throw MPIError(.transport, "\(call): a window segment of \(layout.total) bytes could not be created: \(String(cString: strerror(Int32(created))))")
        }
        if members.count > 1 && !isLeader { failure = cshims_segment_attach(name, layout.total, &address) }
        let attached = try communicator.allreduce([Int(failure)], op: .max)[0]
        // Every member removes the name (the first one succeeds): a member that goes on and ends the
        // job at once cannot leave it behind for a slower leader.
        if members.count > 1 { cshims_segment_unlink(name) }
        if attached != 0 {
            if members.count > 1 && failure == 0 { cshims_segment_unmap(address, layout.total) }
            throw MPIError(.transport, "\(call): a window segment of \(layout.total) bytes could not be mapped: \(String(cString: strerror(Int32(attached))))")
        }
        guard members.count > 1, let address else {
            return makePrivate(rank: rank, size: communicator.size, bytes: byteCounts[rank], exposing: nil, allocate: true)
        }
        var memory = WindowMemory(
            direct: Array(repeating: nil, count: communicator.size), lockWords: Array(repeating: nil, count: communicator.size),
            segment: UnsafeMutableRawBufferPointer(start: address, count: layout.total))
        for (index, member) in members.enumerated() {
            memory.direct[member] = address + layout.lockArea + layout.offsets[index]
            memory.lockWords[member] = (address + index * lockSlot).assumingMemoryBound(to: UInt64.self)
        }
        return memory
    }

    /// Gives back what this rank mapped or allocated.
    func release() {
        if let segment { cshims_segment_unmap(segment.baseAddress, segment.count) }
        privateData?.deallocate()
        privateWords?.deallocate()
    }
}

/// The reader-writer lock of a window rank (MPI_Win_lock), one `UInt64` in memory the holders may
/// share: the top bit for an exclusive holder, the rest counts shared holders.
enum WindowLockWord {
    static let exclusive: UInt64 = 1 << 63

    /// Takes the lock if it is free (exclusive) or not held exclusively (shared); false otherwise.
    static func tryAcquire(_ word: UnsafeMutablePointer<UInt64>, exclusive: Bool) -> Bool {
        if exclusive {
            var expected: UInt64 = 0
            return cshims_compare_exchange_u64(word, &expected, Self.exclusive)
        }
        var current = cshims_load_acquire_u64(word)
        while current & Self.exclusive == 0 {
            if cshims_compare_exchange_u64(word, &current, current + 1) { return true }
        }
        return false
    }

    /// Gives back a lock taken with ``tryAcquire(_:exclusive:)``.
    static func release(_ word: UnsafeMutablePointer<UInt64>, exclusive: Bool) {
        if exclusive {
            cshims_store_release_u64(word, 0)
        } else {
            _ = cshims_fetch_add_u64(word, UInt64.max)  // minus one
        }
    }

    /// Runs `body` holding the accumulate word (held only for one operation's elements: spins, then
    /// yields).
    static func withAccumulateLock<R>(_ word: UnsafeMutablePointer<UInt64>, _ body: () -> R) -> R {
        var spins = 0
        while true {
            var expected: UInt64 = 0
            if cshims_compare_exchange_u64(word, &expected, 1) { break }
            spins += 1
            if spins > 100 { sched_yield() }
        }
        defer { cshims_store_release_u64(word, 0) }
        return body()
    }
}
