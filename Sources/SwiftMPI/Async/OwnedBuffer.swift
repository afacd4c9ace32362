/// Memory SwiftMPI owns for an operation that outlives the caller's scope: a persistent owned
/// receive (``PersistentReceive``) or a nonblocking or awaited collective on arrays. Requests and the engine keep it alive while the
/// operation may still touch it, so no caller's pointer has to outlive anything.
///
/// Sendable because the engine writes it only while its operation is in flight and the owner reads
/// it only after completion (the request's wait, test or await orders the two); it is never resized.
///
/// Inlinable: specialized in the caller, it costs one allocation and copies by `memcpy` instead of
/// generic code per element.
@usableFromInline
final class OwnedBuffer<Element: BitwiseCopyable>: @unchecked Sendable {
    @usableFromInline let buffer: UnsafeMutableBufferPointer<Element>

    /// Room for `count` elements (trivial values: only what an operation wrote is ever read).
    @inlinable
    init(count: Int) {
        buffer = UnsafeMutableBufferPointer(rebasing: UnsafeMutableBufferPointer<Element>.allocate(capacity: Swift.max(count, 1))[0..<count])
    }

    /// Room for `count` elements whose bytes are all zero (results with gaps between blocks).
    @inlinable
    convenience init(zeroedCount count: Int) {
        self.init(count: count)
        UnsafeMutableRawBufferPointer(buffer).initializeMemory(as: UInt8.self, repeating: 0)
    }

    /// A copy of `values`.
    @inlinable
    convenience init(copying values: [Element]) {
        self.init(count: values.count)
        _ = buffer.initialize(from: values)
    }

    deinit {
        UnsafeMutableRawPointer(mutating: buffer.baseAddress.unsafelyUnwrapped).deallocate()
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

    /// The elements a receive with `status` wrote (none when it was cancelled).
    @inlinable
    func elements(_ status: Status) -> [Element] {
        array(count: status.isCancelled ? 0 : status.count(of: Element.self) ?? 0)
    }

    /// The memory, to read from.
    @inlinable
    var readable: UnsafeBufferPointer<Element> { UnsafeBufferPointer(buffer) }
}
