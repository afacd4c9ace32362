/// The memory behind `MPI.attachBuffer(bytes:)`: a first-fit allocator for buffered sends.
final class BufferedSendArea {
    let storage: UnsafeMutableRawBufferPointer
    private var used: [Range<Int>] = []  // sorted, disjoint

    init(bytes: Int) {
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
    }

    deinit { storage.deallocate() }

    var isIdle: Bool { used.isEmpty }
    var capacity: Int { storage.count }
    var freeBytes: Int { storage.count - used.reduce(0) { $0 + $1.count } }

    /// Reserves `count` bytes (rounded up to 8, plus ``MPI/bufferedSendOverhead``) or returns nil. A
    /// message of n bytes needs at most n + 71 bytes, so an area sized by MPI's rule (n +
    /// MPI_BSEND_OVERHEAD per message, 96 in the C interface's ABI) always holds them.
    func allocate(_ count: Int) -> Range<Int>? {
        let needed = (count + 7) / 8 * 8 + MPI.bufferedSendOverhead
        var start = 0
        for (index, range) in used.enumerated() {
            if range.lowerBound - start >= needed {
                used.insert(start..<(start + needed), at: index)
                return start..<(start + needed)
            }
            start = range.upperBound
        }
        guard storage.count - start >= needed else { return nil }
        used.append(start..<(start + needed))
        return start..<(start + needed)
    }

    func release(_ range: Range<Int>) {
        if let index = used.firstIndex(of: range) { used.remove(at: index) }
    }
}
