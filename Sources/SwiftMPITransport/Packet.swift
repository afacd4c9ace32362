/// The fixed-size header a packet carries. Its layout belongs to the layer above (the engine); the
/// transports only move its 32 bytes, so they never know tags, communicators or matching.
@frozen
public struct PacketHeader: BitwiseCopyable, Sendable {
    public var word0: UInt64
    public var word1: UInt64
    public var word2: UInt64
    public var word3: UInt64

    /// An all-zero header.
    @inlinable
    public init() { (word0, word1, word2, word3) = (0, 0, 0, 0) }
}

/// Identifies the engine's handler for a packet (an active-message id, as in UCX).
public typealias PacketKind = UInt8

/// A transport failure, with what was attempted.
public struct TransportError: Error, CustomStringConvertible, Sendable {
    /// What failed and why.
    public let description: String
    /// The errno, when a system call failed.
    public let errno: Int32

    /// Creates an error.
    public init(_ description: String, errno: Int32 = 0) {
        self.description = description
        self.errno = errno
    }
}
