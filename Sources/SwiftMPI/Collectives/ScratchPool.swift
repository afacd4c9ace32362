import Synchronization

/// The collective schedules' larger scratch buffers, kept between collectives instead of going back
/// to malloc.
///
/// Why: glibc hands buffers of 128 KiB and more out as fresh mappings, and returns the top of its heap
/// to the kernel once more than 128 KiB there is free, so a collective that took and freed two 64 KiB
/// scratch buffers paid page faults for both on every call — a 2-rank reduce of 64 KiB took 28.6 µs
/// where the same run with those thresholds raised took 9.7 (release, 2026-12-06; Open MPI 5.9).
///
/// What is kept: buffers of ``smallest`` bytes and more (smaller ones are quick to get from malloc),
/// sized up to a power of two so that neighbouring sizes share them, at most ``largest`` bytes each
/// and ``budget`` bytes in all per process (a node of 256 ranks keeps at most 2 GiB); a buffer is
/// reused for requests of at least a quarter of its size. Thread-safe (a mutex: nonblocking
/// collectives may end on another thread than the one that started them).
enum ScratchPool {
    /// Buffers smaller than this are not kept.
    static let smallest = 16 * 1024
    /// Buffers larger than this are not kept.
    static let largest = 4 * 1024 * 1024
    /// The most bytes kept in all.
    static let budget = 8 * 1024 * 1024
    /// Every buffer's alignment (a cache line: enough for every element type).
    private static let alignment = 64

    /// The buffers kept, as addresses and sizes (plain numbers, which the mutex may hold).
    private struct Kept: ~Copyable {
        var buffers: [(address: UInt, count: Int)] = []
        var bytes = 0
    }
    private static let kept = Mutex(Kept())

    /// The bytes kept now (for tests).
    static var keptBytes: Int { kept.withLock { $0.bytes } }

    /// A buffer of at least `byteCount` bytes (at least 1), aligned to 64 bytes.
    static func take(_ byteCount: Int) -> UnsafeMutableRawBufferPointer {
        let wanted = max(1, byteCount)
        guard wanted >= smallest, wanted <= largest else { return .allocate(byteCount: wanted, alignment: alignment) }
        let reused: (address: UInt, count: Int)? = kept.withLock { kept in
            guard let index = kept.buffers.firstIndex(where: { $0.count >= wanted && $0.count / 4 <= wanted }) else { return nil }
            kept.bytes -= kept.buffers[index].count
            return kept.buffers.remove(at: index)
        }
        if let reused { return UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(bitPattern: reused.address), count: reused.count) }
        var size = smallest
        while size < wanted { size <<= 1 }
        return .allocate(byteCount: size, alignment: alignment)
    }

    /// Gives a buffer from ``take(_:)`` back: kept if it qualifies and fits the budget, else freed.
    static func give(_ buffer: UnsafeMutableRawBufferPointer) {
        guard buffer.count >= smallest, buffer.count <= largest else { return buffer.deallocate() }
        let entry = (address: UInt(bitPattern: buffer.baseAddress), count: buffer.count)
        let keptIt = kept.withLock { kept in
            guard kept.bytes + entry.count <= budget else { return false }
            kept.buffers.append(entry)
            kept.bytes += entry.count
            return true
        }
        if !keptIt { buffer.deallocate() }
    }
}
