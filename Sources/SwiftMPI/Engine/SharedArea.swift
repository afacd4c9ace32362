/// The engine's part of each shared-memory segment (``SwiftMPITransport/SharedMemoryTransport``
/// leaves it to the layer above): the collective channels (``SharedCollectiveChannel``) followed by
/// the copy board (``CopyDescriptor``). One layout, here; every offset below is derived from it.
///
/// ```
///  shared area of a segment (64-byte aligned, zero-filled at creation)
///  ┌──────────────────────────────────────────────┬────────────────────────────────┐
///  │ collective channels: 64 × 2 buffers × 8320 B │ copy board: 64 descriptors × 64 B │
///  └──────────────────────────────────────────────┴────────────────────────────────┘
/// ```
/// The owner of a segment writes its channels and arms its descriptors; peers read the channels and
/// update descriptors only with atomics.
enum SharedArea {
    /// Collective channels per segment.
    static let collectiveChannelCount = 64
    /// The bytes of one of a channel's two buffers (64-byte multiple).
    static let collectiveBufferBytes = 8 * 1024 + 128
    /// Descriptors on a segment's copy board.
    static let copyDescriptorCount = 64
    /// The bytes of one descriptor (a cache line).
    static let copyDescriptorBytes = 64

    private static let copyBoardOffset = collectiveChannelCount * 2 * collectiveBufferBytes

    /// The bytes the engine asks the shared-memory transport for.
    static let byteCount = copyBoardOffset + copyDescriptorCount * copyDescriptorBytes

    /// Channel `channel` (both buffers) in the area at `base`, or nil when out of range.
    static func collectiveChannel(_ channel: Int, in base: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? {
        guard channel >= 0 && channel < collectiveChannelCount else { return nil }
        return base + channel * 2 * collectiveBufferBytes
    }

    /// Copy-board descriptor `index` in the area at `base`, or nil when out of range (the index may
    /// come from a peer's packet).
    static func copyDescriptor(_ index: Int, in base: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? {
        guard index >= 0 && index < copyDescriptorCount else { return nil }
        return base + copyBoardOffset + index * copyDescriptorBytes
    }
}
