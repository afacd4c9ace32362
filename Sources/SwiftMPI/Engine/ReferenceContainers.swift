/// Containers of object references in manually managed memory, for the engine's per-message paths:
/// an array property of a class pays a uniqueness check on every mutation, `popLast` and `append`
/// are not inlined, and `remove(at: 0)` shifts the whole array. Each container owns its elements
/// (+1 each); the engine calls ``release()`` when it goes away. Not thread-safe: the engine's lock
/// (or its single thread) serializes every access.

/// A stack of reusable objects (the engine's operation pools).
struct ReferenceStack<Element: AnyObject> {
    private var storage: UnsafeMutablePointer<Element>
    private var capacity: Int
    /// The number of elements.
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        storage = .allocate(capacity: self.capacity)
    }

    /// Pushes `element`, taking over the caller's reference.
    @inline(__always)
    mutating func push(_ element: consuming Element) {
        if count == capacity { grow() }
        (storage + count).initialize(to: element)
        count += 1
    }

    /// Pops the most recently pushed element (the one likeliest in cache), or nil.
    @inline(__always)
    mutating func pop() -> Element? {
        guard count > 0 else { return nil }
        count -= 1
        return (storage + count).move()
    }

    private mutating func grow() {
        let larger = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
        larger.moveInitialize(from: storage, count: count)
        storage.deallocate()
        storage = larger
        capacity *= 2
    }

    /// Releases every element and the storage.
    mutating func release() {
        storage.deinitialize(count: count)
        storage.deallocate()
        count = 0
        capacity = 0
    }
}

/// A first-in, first-out queue of receives (the engine's posted receives), in a ring: removing the
/// oldest element, the usual match, moves nothing; removing another shifts only the elements after it.
struct ReceiveQueue {
    private var storage: UnsafeMutablePointer<ReceiveOperation>
    private var mask: Int
    private var head = 0
    /// The number of receives queued.
    private(set) var count = 0

    /// A queue with room for `capacity` receives before it grows (rounded up to a power of two).
    init(capacity: Int) {
        var size = 1
        while size < capacity { size *= 2 }
        mask = size - 1
        storage = .allocate(capacity: size)
    }

    /// The `index`-th oldest receive.
    @inline(__always)
    subscript(index: Int) -> ReceiveOperation { storage[(head + index) & mask] }

    /// Appends `operation`, taking over the caller's reference.
    @inline(__always)
    mutating func append(_ operation: consuming ReceiveOperation) {
        if count == mask + 1 { grow() }
        (storage + ((head + count) & mask)).initialize(to: operation)
        count += 1
    }

    /// Removes and returns the `index`-th oldest receive, keeping the others in order.
    @inline(__always)
    mutating func remove(at index: Int) -> ReceiveOperation {
        precondition(index >= 0 && index < count, "ReceiveQueue.remove(at:) out of range")
        let removed = (storage + ((head + index) & mask)).move()
        if index == 0 {
            head = (head + 1) & mask
        } else {
            for later in index..<(count - 1) {  // close the gap
                (storage + ((head + later) & mask)).moveInitialize(from: storage + ((head + later + 1) & mask), count: 1)
            }
        }
        count -= 1
        return removed
    }

    /// The position of the oldest receive that matches `header`, or nil. Each receive is looked at in
    /// place (borrowed): no reference counting per comparison, on the path of every message.
    @inline(__always)
    func firstMatch(_ header: MatchHeader) -> Int? {
        var index = 0
        while index < count {
            if storage[(head + index) & mask].matches(header) { return index }
            index += 1
        }
        return nil
    }

    /// The position of `operation` (by identity), or nil.
    func firstIndex(of operation: ReceiveOperation) -> Int? {
        (0..<count).first { self[$0] === operation }
    }

    /// Every queued receive, oldest first (a copy; not for per-message paths).
    var elements: [ReceiveOperation] { (0..<count).map { self[$0] } }

    private mutating func grow() {
        let size = (mask + 1) * 2
        let larger = UnsafeMutablePointer<ReceiveOperation>.allocate(capacity: size)
        for index in 0..<count { (larger + index).moveInitialize(from: storage + ((head + index) & mask), count: 1) }
        storage.deallocate()
        storage = larger
        mask = size - 1
        head = 0
    }

    /// Releases every receive and the storage.
    mutating func release() {
        for index in 0..<count { (storage + ((head + index) & mask)).deinitialize(count: 1) }
        storage.deallocate()
        count = 0
    }
}
