/// The memory behind `MPI.attachBuffer(bytes:)`: a first-fit allocator for buffered sends.
final class BufferedSendArea {
    let storage: UnsafeMutableRawBufferPointer
    private var used: [Range<Int>] = []  // sorted, disjoint
    /// The serial number of each of `used`'s messages: the allocations before it.
    private var serials: [Int] = []
    /// Messages buffered so far; the next one's serial number.
    private(set) var allocations = 0

    init(bytes: Int) {
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
    }

    deinit { storage.deallocate() }

    var isIdle: Bool { used.isEmpty }
    var capacity: Int { storage.count }
    var freeBytes: Int { storage.count - used.reduce(0) { $0 + $1.count } }

    /// True while a message buffered before the `serial`-th still holds its space (not yet
    /// delivered): what a buffer flush waits for.
    func holdsMessages(before serial: Int) -> Bool { serials.contains { $0 < serial } }

    /// Reserves `count` bytes (rounded up to 8, plus ``MPI/bufferedSendOverhead``) or returns nil. A
    /// message of n bytes needs at most n + 71 bytes, so an area sized by MPI's rule (n +
    /// MPI_BSEND_OVERHEAD per message, 96 in the C interface's ABI) always holds them.
    func allocate(_ count: Int) -> Range<Int>? {
        let needed = (count + 7) / 8 * 8 + MPI.bufferedSendOverhead
        var start = 0
        var index = used.count
        for (position, range) in used.enumerated() {
            if range.lowerBound - start >= needed {
                index = position
                break
            }
            start = range.upperBound
        }
        guard index < used.count || storage.count - start >= needed else { return nil }
        used.insert(start..<(start + needed), at: index)
        serials.insert(allocations, at: index)
        allocations += 1
        return start..<(start + needed)
    }

    func release(_ range: Range<Int>) {
        if let index = used.firstIndex(of: range) {
            used.remove(at: index)
            serials.remove(at: index)
        }
    }
}
