/// Memory SwiftMPI owns for an operation that outlives the caller's scope: an owned receive
/// (``ReceiveRequest``) or an awaited collective. Requests and the engine keep it alive while the
/// operation may still touch it, so no caller's pointer has to outlive anything.
///
/// Sendable because the engine writes it only while its operation is in flight and the owner reads
/// it only after completion (the request's wait, test or await orders the two); it is never resized.
///
/// Inlinable, with the receive calls that use it: specialized in the caller, a message costs two
/// allocations and one copy instead of generic code per element.
@usableFromInline
final class OwnedBuffer<Element: BitwiseCopyable>: @unchecked Sendable {
    @usableFromInline let buffer: UnsafeMutableBufferPointer<Element>
    /// The caller's array, when its storage is the memory (``init(moving:)``); nil when this object
    /// allocated `buffer` itself.
    @usableFromInline var moved: [Element]?

    /// Room for `count` elements (trivial values: only what an operation wrote is ever read).
    @inlinable
    init(count: Int) {
        buffer = UnsafeMutableBufferPointer(rebasing: UnsafeMutableBufferPointer<Element>.allocate(capacity: Swift.max(count, 1))[0..<count])
        moved = nil
    }

    /// Room for `count` elements whose bytes are all zero (results with gaps between blocks).
    @inlinable
    convenience init(zeroedCount count: Int) {
        self.init(count: count)
        UnsafeMutableRawBufferPointer(buffer).initializeMemory(as: UInt8.self, repeating: 0)
    }

    /// The storage of `values`, moved in: no allocation when the caller gave up its array
    /// (`consume`); a shared array is copied once, as copy-on-write requires.
    @inlinable
    init(moving values: consuming [Element]) {
        moved = values
        // The pointer outlives the closure, which is safe here and only here: the mutating access
        // made the storage unique to this object, which never touches `moved` again until the
        // operation writing through `buffer` has completed (and never resizes it), so the storage
        // neither moves nor is freed meanwhile.
        buffer = moved!.withUnsafeMutableBufferPointer { $0 }
    }

    /// A copy of `values`.
    @inlinable
    convenience init(copying values: [Element]) {
        self.init(count: values.count)
        _ = buffer.initialize(from: values)
    }

    deinit {
        if moved == nil { UnsafeMutableRawPointer(mutating: buffer.baseAddress.unsafelyUnwrapped).deallocate() }
    }

    /// The first `count` elements (all by default) as an array: one allocation and one copy.
    @inlinable
    func array(count: Int? = nil) -> [Element] {
        let length = Swift.min(count ?? buffer.count, buffer.count)
        return [Element](unsafeUninitializedCapacity: length) { target, initialized in
            if length > 0 {
                UnsafeMutableRawPointer(target.baseAddress!).copyMemory(from: buffer.baseAddress!, byteCount: length * MemoryLayout<Element>.stride)
            }
            initialized = length
        }
    }

    /// The elements a receive with `status` wrote (none when it was cancelled); a moved-in array
    /// comes back whole.
    @inlinable
    func elements(_ status: Status) -> [Element] {
        if let moved { return moved }
        return array(count: status.isCancelled ? 0 : status.count(of: Element.self) ?? 0)
    }

    /// The memory, to read from.
    @inlinable
    var readable: UnsafeBufferPointer<Element> { UnsafeBufferPointer(buffer) }
}
