/// What a completed receive (or probe) learned about its message (MPI_Status).
public struct Status: Sendable, Equatable, CustomStringConvertible {
    /// The sender's rank in the communicator (`MPI.procNull` for a receive from procNull).
    public let source: Int
    /// The message's tag (`MPI.anyTag` for a receive from procNull).
    public let tag: Int
    /// The message's length in bytes. After `.truncate`, the length the sender sent.
    public let byteCount: Int
    /// True when the operation was cancelled before it matched.
    public let isCancelled: Bool

    /// Creates a status.
    public init(source: Int, tag: Int, byteCount: Int, isCancelled: Bool = false) {
        self.source = source
        self.tag = tag
        self.byteCount = byteCount
        self.isCancelled = isCancelled
    }

    /// The number of whole `T` elements in the message, or nil when the length is not a multiple of
    /// `T`'s stride (MPI_Get_count's MPI_UNDEFINED).
    public func count<T: BitwiseCopyable>(of type: T.Type) -> Int? {
        let stride = MemoryLayout<T>.stride
        return byteCount % stride == 0 ? byteCount / stride : nil
    }

    /// The status of a receive from `MPI.procNull`: source procNull, tag anyTag, no data.
    public static let procNull = Status(source: MPI.procNull, tag: MPI.anyTag, byteCount: 0)

    /// An empty status (MPI's for a null or inactive request): source anySource, tag anyTag, no data.
    public static let empty = Status(source: MPI.anySource, tag: MPI.anyTag, byteCount: 0)

    /// "source S, tag T, N bytes".
    public var description: String {
        isCancelled ? "cancelled" : "source \(source), tag \(tag), \(byteCount) bytes"
    }
}
