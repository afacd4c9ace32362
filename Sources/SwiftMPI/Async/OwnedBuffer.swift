/// Memory SwiftMPI owns for an operation that outlives the caller's scope: an owned receive
/// (``ReceiveRequest``) or an awaited collective. Requests and the engine keep it alive while the
/// operation may still touch it, so no caller's pointer has to outlive anything.
///
/// Sendable because the engine writes it only while its operation is in flight and the owner reads
/// it only after completion (the request's wait, test or await orders the two); it is never resized.
final class OwnedBuffer<Element: BitwiseCopyable>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Element>

    /// Room for `count` elements (trivial values: only what an operation wrote is ever read).
    init(count: Int) {
        buffer = UnsafeMutableBufferPointer(rebasing: UnsafeMutableBufferPointer<Element>.allocate(capacity: Swift.max(count, 1))[0..<count])
    }

    /// A copy of `values`.
    convenience init(copying values: [Element]) {
        self.init(count: values.count)
        _ = buffer.initialize(from: values)
    }

    deinit { UnsafeMutableRawPointer(mutating: buffer.baseAddress.unsafelyUnwrapped).deallocate() }

    /// The first `count` elements (all by default) as an array.
    func array(count: Int? = nil) -> [Element] { Array(buffer[0..<Swift.min(count ?? buffer.count, buffer.count)]) }

    /// The elements a receive with `status` wrote (none when it was cancelled).
    func elements(_ status: Status) -> [Element] {
        array(count: status.isCancelled ? 0 : status.count(of: Element.self) ?? 0)
    }

    var readable: UnsafeBufferPointer<Element> { UnsafeBufferPointer(buffer) }
}
