import CShims
#if canImport(Glibc)
import Glibc
#endif

/// One direction between two ranks of a host: a single-producer, single-consumer ring of fixed-size
/// slots in shared memory (in the receiver's segment), followed by one control line. Each side keeps
/// its own index and count in private memory. Only the producer writes a slot, so a small message
/// costs one cache-line transfer (producer to consumer); the consumer says how far it has read in the
/// control line, once per quarter of the ring, and the producer reads that line only when its own
/// count says the ring may be full.
///
/// ```
///  slot i, at base + i * stride (stride a multiple of 64 bytes)
///  0          4        5     8           12    16             48             64
///  ┌──────────┬────────┬─────┬───────────┬─────┬──────────────┬──────────────┬──────────────────┐
///  │ sequence │ kind   │     │ length    │     │ header (32B) │ payload if   │ payload if       │
///  │ u32      │ u8     │     │ u32       │     │ engine's     │ ≤ 16 bytes   │ > 16 bytes …     │
///  └──────────┴────────┴─────┴───────────┴─────┴──────────────┴──────────────┴──────────────────┘
///  control line, at base + slotCount * stride: u32 at 0 = packets the consumer has read (mod 2^32)
/// ```
///  A tiny payload shares the header's cache line; a larger one starts on the next line, 64-byte
///  aligned. (Alignment matters: glibc copies ≥ 2 KiB with `rep movsb`, which on AMD Zen runs 4-5×
///  slower when source and destination differ in alignment within a cache line — measured here: a
///  4 KiB ping-pong took 2.3 µs with payloads at offset 48 and 0.66 µs at offset 64.)
///  sequence: packet n (counted from 0) is in slot n mod slotCount and carries n + 1 (mod 2^32), so a
///  slot holds the packet the consumer expects exactly when its sequence is the consumer's count + 1;
///  a slot not yet written, or written a lap earlier, holds another value. The producer writes
///  everything, then stores the sequence with release; the consumer loads it with acquire, reads,
///  and (every ``publishInterval`` packets) stores its count into the control line with release,
///  after which the producer may reuse those slots. (The earlier design had the consumer clear a
///  state word in each slot: every small message then moved its cache line to the consumer and back,
///  and the producer waited for that line before writing; 8-byte message rates were ~0.6 × Open MPI's.)
@frozen
public struct SlotRing {
    /// The byte offsets of a slot's first cache line: the one place that names them (drawn above;
    /// `SharedLayoutTests` checks that the fields fit and do not overlap). Inlinable computed
    /// constants, not `static let`s: a stored global would cost an initialization check on every
    /// access from another module, on the small-message path.
    @frozen
    public enum Offset {
        /// u32: the packet's sequence number (n + 1 for packet n, mod 2^32).
        @inlinable public static var sequence: Int { 0 }
        /// u8: the packet kind.
        @inlinable public static var kind: Int { 4 }
        /// u32: the payload length.
        @inlinable public static var length: Int { 8 }
        /// 32 bytes: the engine's header.
        @inlinable public static var header: Int { 16 }
        /// A payload of up to ``SlotRing/inlinePayload`` bytes.
        @inlinable public static var inlinePayload: Int { 48 }
        /// A larger payload (64-byte aligned).
        @inlinable public static var payload: Int { 64 }
    }

    /// Bytes before a payload larger than ``inlinePayload`` in every slot.
    public static let slotHeaderLength = Offset.payload
    /// Payloads up to this size sit in the header's cache line, at offset 48.
    public static let inlinePayload = 16

    @inlinable
    static func payloadOffset(_ length: Int) -> Int { length <= inlinePayload ? Offset.inlinePayload : Offset.payload }
    /// Payloads from this size on are copied plainly while plain copies are fast, and streamed past
    /// the caches (non-temporal stores) for a while after one was slow (see ``streamedWrites``).
    /// Smaller ones are always copied plainly: streaming them lost in every placement measured.
    public static let adaptiveFrom = 4 * 1024
    /// How many mid-size payloads are streamed after a slow plain copy before plain is tried again.
    public static let streamedRun = 256
    @usableFromInline let base: UnsafeMutableRawPointer
    @usableFromInline let slotCount: Int
    @usableFromInline let stride: Int
    /// The next slot this side will use (private to this process).
    @usableFromInline var index = 0
    /// Packets this side has written (producer) or read (consumer), mod 2^32 (private).
    @usableFromInline var count: UInt32 = 0
    /// Producer: the consumer's count as last read from the control line. Consumer: its count when
    /// it last stored it there. (Private.)
    @usableFromInline var published: UInt32 = 0
    /// Producer: payloads still to stream before the next timed plain copy. A plain copy of 4 KiB
    /// into a slot takes ~0.05 µs when the receiver's core shares this core's cache, and ~1–2 µs when
    /// every line must first be fetched back from the receiver's cache on a core that shares none
    /// (the VM's slow vCPU placement: 16/32 KiB bandwidth fell to 2.2–3.2 GB/s); over 0.5 TSC ticks
    /// per byte counts as slow. Streamed, the receiver reads from memory: 7.7–17 GB/s there.
    @usableFromInline var streamedWrites = 0

    /// A view of the ring at `base` (shared memory, zero-filled when created).
    public init(base: UnsafeMutableRawPointer, slotCount: Int, stride: Int) {
        precondition(stride % 64 == 0 && stride > Self.slotHeaderLength, "slot stride must be a multiple of 64")
        self.base = base
        self.slotCount = slotCount
        self.stride = stride
    }

    /// Maps each slot's first page (its header and a small message), and the control line's, into this process, so the first
    /// message through a slot pays no page fault — measured: a benchmark's first 64 window
    /// acknowledgements each took ~1.6 µs instead of 0.07, one fault per new slot, and 8-byte
    /// message rates of the first size measured were ~30 % low. Best effort: stops at the first
    /// page the system cannot back (a full /dev/shm, an old kernel); those slots fault in when used,
    /// as before. Call before messages use the ring.
    public func prefault() {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        for slot in 0..<slotCount {
            let start = UInt(bitPattern: base + slot * stride) / UInt(page) * UInt(page)
            guard cshims_populate_write(UnsafeMutableRawPointer(bitPattern: start), page) == 0 else { return }
        }
        let control = UInt(bitPattern: UnsafeMutableRawPointer(consumedWord)) / UInt(page) * UInt(page)
        _ = cshims_populate_write(UnsafeMutableRawPointer(bitPattern: control), page)
    }

    /// The bytes one ring occupies: its slots and the control line.
    public static func byteCount(slotCount: Int, stride: Int) -> Int { slotCount * stride + controlBytes }

    /// The bytes of the control line after the slots.
    public static let controlBytes = 64

    /// The consumer stores its count into the control line after this many packets: a quarter of
    /// the ring (at least 1), so the producer sees slots come free in batches while the consumer
    /// writes shared memory once per batch, not once per packet. (The producer never waits for a
    /// batch that will not come: when it finds the ring full by the published count, at least
    /// `slotCount − publishInterval + 1` packets are unread, so the consumer's next reads reach the
    /// next store.)
    @inlinable
    var publishInterval: UInt32 { UInt32(max(1, slotCount / 4)) }

    /// The control line's word: packets the consumer has read.
    @inlinable
    var consumedWord: UnsafeMutablePointer<UInt32> {
        (base + slotCount * stride).assumingMemoryBound(to: UInt32.self)
    }

    /// The largest payload a slot holds.
    @inlinable public var maxPayload: Int { stride - Self.slotHeaderLength }

    @inlinable
    var slot: UnsafeMutableRawPointer { base + index * stride }

    @inlinable
    func sequence(_ slot: UnsafeMutableRawPointer) -> UnsafeMutablePointer<UInt32> {
        (slot + Offset.sequence).assumingMemoryBound(to: UInt32.self)
    }

    /// Producer: true when the ring has a free slot, reading the consumer's count only when the
    /// count last read says it is full.
    @inlinable
    mutating func hasRoom() -> Bool {
        if count &- published < UInt32(slotCount) { return true }
        published = cshims_load_acquire_u32(consumedWord)
        return count &- published < UInt32(slotCount)
    }

    /// Producer: writes one packet if the next slot is empty; false when the ring is full.
    @inlinable
    public mutating func tryWrite(kind: PacketKind, header: PacketHeader, payload: UnsafeRawBufferPointer) -> Bool {
        guard hasRoom() else { return false }
        let slot = self.slot
        slot.storeBytes(of: kind, toByteOffset: Offset.kind, as: UInt8.self)
        slot.storeBytes(of: UInt32(truncatingIfNeeded: payload.count), toByteOffset: Offset.length, as: UInt32.self)
        slot.storeBytes(of: header, toByteOffset: Offset.header, as: PacketHeader.self)
        let target = slot + Self.payloadOffset(payload.count)
        if payload.count >= Self.adaptiveFrom {
            if streamedWrites > 0 {
                streamedWrites -= 1
                cshims_copy_nontemporal(target, payload.baseAddress!, payload.count)
            } else {
                let start = cshims_cycle_count()
                target.copyMemory(from: payload.baseAddress!, byteCount: payload.count)
                if cshims_cycle_count() &- start > UInt64(payload.count / 2) { streamedWrites = Self.streamedRun }
            }
        } else if payload.count > 0 {
            target.copyMemory(from: payload.baseAddress!, byteCount: payload.count)
        }
        count &+= 1
        cshims_store_release_u32(sequence(slot), count)
        index = index + 1 == slotCount ? 0 : index + 1
        return true
    }

    /// Consumer: true when the next slot holds a packet.
    @inlinable
    public var hasPacket: Bool { cshims_load_acquire_u32(sequence(slot)) == count &+ 1 }

    /// Consumer: hands the next full slot to `body` and frees it; false when the ring is empty.
    /// The payload pointer is valid only during `body`.
    @inlinable
    public mutating func tryRead(_ body: (PacketKind, PacketHeader, UnsafeRawBufferPointer) -> Void) -> Bool {
        let slot = self.slot
        guard cshims_load_acquire_u32(sequence(slot)) == count &+ 1 else { return false }
        let kind = slot.load(fromByteOffset: Offset.kind, as: UInt8.self)
        let length = Int(slot.load(fromByteOffset: Offset.length, as: UInt32.self))
        let header = slot.load(fromByteOffset: Offset.header, as: PacketHeader.self)
        cshims_prefetch(base + (index + 1 == slotCount ? 0 : index + 1) * stride)
        // A length beyond the slot can only come from a corrupted or hostile peer: clamp, never overrun.
        let payload = UnsafeRawBufferPointer(start: slot + Self.payloadOffset(length), count: min(length, maxPayload))
        body(kind, header, payload)
        count &+= 1
        index = index + 1 == slotCount ? 0 : index + 1
        if count &- published >= publishInterval {
            published = count
            cshims_store_release_u32(consumedWord, count)
        }
        return true
    }
}
