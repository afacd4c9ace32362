import CShims
import SwiftMPITransport

/// The intra-host fast path of small blocking collectives (barrier, and bcast, reduce and allreduce
/// of up to ``capacity`` bytes) on a communicator whose ranks all share this host's memory. Larger
/// bcasts, reduces and allreduces still pass through the channel for one step, in which the ranks
/// agree on the size (mismatches throw on every rank) before they all switch to messages.
///
/// Instead of messages, every rank writes its contribution into one of its own two buffers of a
/// *collective channel* in its shared-memory segment, publishes the collective's step number there,
/// and reads the members' buffers once their step numbers show it. A 2-rank barrier then costs one
/// cache-line transfer each way; an allreduce reads each contribution once and reduces it in rank
/// order, so every rank gets bitwise the same result.
///
/// ```
///  buffer (step & 1) of a channel, 8320 bytes, 64-byte aligned
///  0        4          8      16                                             8320
///  ┌────────┬──────────┬──────┬──────────────────────────────────────────────┐
///  │ step   │ length   │      │ data (up to 8192 bytes; 48 share line 0)     │
///  │ u32    │ u32      │      │                                              │
///  └────────┴──────────┴──────┴──────────────────────────────────────────────┘
/// ```
/// The owner writes length and data, then stores step with release; a reader loads step with
/// acquire. Buffer `step & 1` is rewritten two steps later, so before writing data a rank makes sure
/// every member has published the previous step (and has therefore finished reading this buffer).
///
/// Which communicators: all members on this host (shared-memory routes), and a context id that maps to
/// one of the ``SharedArea/collectiveChannelCount`` channels (channel = context / 2;
/// context ids are never reused, and a rank belongs to at most one communicator of a context, so no
/// two live communicators of a rank share a channel). Others take the message-based algorithms.
/// Every rank decides the same way, from the communicator's group and context alone.
final class SharedCollectiveChannel {
    /// The largest contribution the fast path carries. (8 KiB: a 2-rank allreduce of 2–8 KiB took
    /// 1.7–3.0 µs by messages, 2.5 × Open MPI at 2–4 KiB; each member's contribution is read once here.)
    static let capacity = 8 * 1024
    /// The byte offsets of a buffer's fields (drawn above; the one place that names them).
    enum Offset {
        static let step = 0
        static let length = 4
        static let data = 16
    }
    private static let dataOffset = Offset.data

    /// Channel base (both buffers) of each member, by communicator rank.
    private let members: UnsafeMutableBufferPointer<UnsafeMutableRawPointer>
    private let rank: Int
    // Only the calling thread touches these (collectives on one communicator are never concurrent),
    // so dynamic exclusivity checks would be pure cost on a ~0.1 µs path.
    /// The step of the last fast-path collective on this communicator.
    @exclusivity(unchecked) private var step: UInt32 = 0
    /// The highest step every member is known to have published.
    @exclusivity(unchecked) private var everyoneReached: UInt32 = 0

    /// The channel of a communicator, or nil when it does not qualify (see the type's comment).
    static func make(engine: Engine, context: UInt32, worldRanks: [Int], rank: Int) -> SharedCollectiveChannel? {
        guard worldRanks.count > 1 else { return nil }
        let channel = Int(context / 2)
        var bases: [UnsafeMutableRawPointer] = []
        for worldRank in worldRanks {
            guard let area = engine.routes.sharedArea(ofPeer: worldRank),
                let base = SharedArea.collectiveChannel(channel, in: area)
            else { return nil }
            bases.append(base)
        }
        return SharedCollectiveChannel(bases: bases, rank: rank)
    }

    private init(bases: [UnsafeMutableRawPointer], rank: Int) {
        members = .allocate(capacity: bases.count)
        _ = members.initialize(from: bases)
        self.rank = rank
    }

    deinit { members.deallocate() }

    // MARK: - The collectives

    func barrier(_ runtime: Runtime) throws {
        let step = try beginStep(runtime, writes: false)
        publish(step)
        try waitForAll(step, runtime, "barrier")
    }

    /// Broadcasts `bytes` from `root` if they fit the channel, and returns true; returns false, on
    /// every rank alike, when the root's message is larger (the caller then uses messages). The root
    /// decides: it publishes its length, so a rank whose buffer differs throws `.truncate` instead of
    /// taking another path than the root and waiting forever.
    func bcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int, _ runtime: Runtime) throws -> Bool {
        let step = try beginStep(runtime, writes: rank == root)
        if rank == root {
            let fits = bytes.count <= Self.capacity
            if fits { write(UnsafeRawBufferPointer(bytes), step) }
            publish(step, length: bytes.count)
            return fits
        }
        publish(step)
        try runtime.wait("bcast") { _ in published(root, step) }
        let length = Int(UnsafeRawPointer(buffer(root, step) + Offset.length).load(as: UInt32.self))
        guard length == min(bytes.count, Int(UInt32.max)) else {
            throw MPIError(.truncate, "bcast: the root sends \(length) bytes, this rank expects \(bytes.count)")
        }
        guard length <= Self.capacity else { return false }
        if length > 0 { bytes.baseAddress!.copyMemory(from: buffer(root, step) + Self.dataOffset, byteCount: length) }
        return true
    }

    /// Reduces `values` in rank order into `result` at `root` (nil elsewhere), or at every rank if
    /// `root` is nil, and returns true when they fit the channel; returns false, on every rank alike,
    /// when they do not (the caller then uses messages). Every rank publishes its byte count first,
    /// so sizes that differ between ranks throw `.invalidCount` everywhere instead of splitting the
    /// ranks between two algorithms.
    func reduce<T>(
        _ values: UnsafeBufferPointer<T>, into result: UnsafeMutableBufferPointer<T>?, op: ReduceOperation<T>,
        root: Int?, _ runtime: Runtime, _ call: StaticString
    ) throws -> Bool {
        let step = try beginStep(runtime, writes: true)
        let byteCount = min(values.count * MemoryLayout<T>.stride, Int(UInt32.max))
        let fits = byteCount <= Self.capacity
        if fits { write(UnsafeRawBufferPointer(values), step) }
        publish(step, length: byteCount)
        try waitForAll(step, runtime, call)
        for member in members.indices {
            let length = Int(UnsafeRawPointer(buffer(member, step) + Offset.length).load(as: UInt32.self))
            guard length == byteCount else {
                throw MPIError(.invalidCount, "\(call): rank \(member) contributes \(length) bytes, rank \(rank) \(byteCount)")
            }
        }
        guard fits else { return false }
        guard root == nil || root == rank, values.count > 0, let output = result?.baseAddress else { return true }
        let first = data(0, step, as: T.self)
        if members.count == 1 { output.update(from: first, count: values.count); return true }
        op.apply(first, data(1, step, as: T.self), into: output, count: values.count)
        for member in 2..<members.count {
            op.apply(output, data(member, step, as: T.self), into: output, count: values.count)
        }
        return true
    }

    // MARK: - Steps and buffers

    /// Starts the next step; a rank that will write its buffer first waits until every member has
    /// finished the step that last used it.
    @inline(__always)
    private func beginStep(_ runtime: Runtime, writes: Bool) throws -> UInt32 {
        guard runtime.isActive else { throw MPIError(.alreadyFinalized, "collective after MPI.finalize()") }
        step &+= 1
        let previous = step &- 1
        if writes && everyoneReached != previous {
            try waitForAll(previous, runtime, "collective")
        }
        return step
    }

    @inline(__always)
    private func waitForAll(_ step: UInt32, _ runtime: Runtime, _ call: StaticString) throws {
        try runtime.wait(call) { _ in
            for member in members.indices where !published(member, step) { return false }
            return true
        }
        everyoneReached = step
    }

    @inline(__always)
    private func buffer(_ member: Int, _ step: UInt32) -> UnsafeMutableRawPointer {
        members[member] + Int(step & 1) * SharedArea.collectiveBufferBytes
    }

    @inline(__always)
    private func data<T>(_ member: Int, _ step: UInt32, as type: T.Type) -> UnsafePointer<T> {
        UnsafePointer((buffer(member, step) + Self.dataOffset).assumingMemoryBound(to: T.self))
    }

    /// True once `member` has published `step` or a later one (wrap-around safe).
    @inline(__always)
    private func published(_ member: Int, _ step: UInt32) -> Bool {
        let seen = cshims_load_acquire_u32((buffer(member, step) + Offset.step).assumingMemoryBound(to: UInt32.self))
        return Int32(bitPattern: seen &- step) >= 0
    }

    @inline(__always)
    private func write(_ bytes: UnsafeRawBufferPointer, _ step: UInt32) {
        if bytes.count > 0 { (buffer(rank, step) + Self.dataOffset).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
    }

    /// Publishes `step`, with the length of the data written for it if any. (A rank that writes no data
    /// leaves the length alone: a slower member may still be reading the one from two steps ago.)
    @inline(__always)
    private func publish(_ step: UInt32, length: Int? = nil) {
        let line = buffer(rank, step)
        if let length { (line + Offset.length).storeBytes(of: UInt32(length), as: UInt32.self) }
        cshims_store_release_u32((line + Offset.step).assumingMemoryBound(to: UInt32.self), step)
    }
}
