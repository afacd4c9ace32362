import CShims
import SwiftMPITransport

/// The intra-host fast path of small blocking collectives (barrier, and bcast, reduce, allreduce,
/// gather, scatter, allgather and alltoall of up to ``capacity`` bytes a member) on a communicator
/// whose ranks all share this host's memory. Larger ones still pass through the channel for one
/// step, in which the ranks agree on the size (mismatches throw on every rank) before they all
/// switch to messages.
///
/// Instead of messages, every rank writes its contribution into one of its own two buffers of a
/// *collective channel* in its shared-memory segment, publishes the collective's step number there,
/// and reads the members' buffers once their step numbers show it. A 2-rank barrier then costs one
/// cache-line transfer each way; an allreduce reads each contribution once and reduces it in rank
/// order, so every rank gets bitwise the same result.
///
/// ```
///  buffer (step & 1) of a channel, 8320 bytes, 64-byte aligned
///  0        4          8           12     16                                   8320
///  ┌────────┬──────────┬───────────┬──────┬────────────────────────────────────┐
///  │ step   │ length   │ signature │      │ data (up to 8192 bytes)            │
///  │ u32    │ u32      │ u32       │      │                                    │
///  └────────┴──────────┴───────────┴──────┴────────────────────────────────────┘
/// ```
/// The owner writes length, signature and data, then stores step with release; a reader loads step
/// with acquire. Every collective of the channel ends only when every member has published its step,
/// so a member's buffer is rewritten (two steps later) only after every member has read it.
///
/// Mistakes caught: the signature (``CollectiveSignature``: which collective, which root) of every
/// member is compared with the rank's own in every step, on every rank, so a `bcast` whose ranks pass
/// different roots, or a `barrier` one rank skipped, throws `.collectiveMismatch` on every rank at
/// any size (larger messages agree here before they switch to messages), at the cost of one load per
/// member from a cache line the rank reads anyway.
///
/// Which communicators: all members on this host (shared-memory routes), and a channel, agreed on
/// at creation (``ContextIds``), below ``SharedArea/collectiveChannelCount``. Channels are never
/// reused (unlike context ids) and every member's proposal is above every channel it has used, so
/// no two communicators a rank ever belonged to share one. Others take the message-based
/// algorithms. Every rank decides the same way, from the communicator's group and channel alone.
final class SharedCollectiveChannel {
    /// The largest contribution the fast path carries. (8 KiB: a 2-rank allreduce of 2–8 KiB took
    /// 1.7–3.0 µs by messages, 2.5 × Open MPI at 2–4 KiB; each member's contribution is read once here.)
    static let capacity = 8 * 1024
    /// The byte offsets of a buffer's fields (drawn above; the one place that names them).
    enum Offset {
        static let step = 0
        static let length = 4
        static let signature = 8
        static let data = 16
    }
    private static let dataOffset = Offset.data

    /// Channel base (both buffers) of each member, by communicator rank.
    private let members: UnsafeMutableBufferPointer<UnsafeMutableRawPointer>
    private let rank: Int
    /// The communicator, as hang reports name it.
    private let name: String
    /// The communicator's point-to-point context (recovery mode asks whether it failed or was revoked).
    private let context: UInt32
    // Only the calling thread touches these (collectives on one communicator are never concurrent),
    // so dynamic exclusivity checks would be pure cost on a ~0.1 µs path.
    /// The step of the last fast-path collective on this communicator.
    @exclusivity(unchecked) private var step: UInt32 = 0
    /// The highest step every member is known to have published.
    @exclusivity(unchecked) private var everyoneReached: UInt32 = 0

    /// The channel of a communicator, or nil when it does not qualify (see the type's comment).
    static func make(engine: Engine, channel: Int, context: UInt32, worldRanks: [Int], rank: Int) -> SharedCollectiveChannel? {
        guard worldRanks.count > 1 else { return nil }
        var bases: [UnsafeMutableRawPointer] = []
        for worldRank in worldRanks {
            guard let area = engine.routes.sharedArea(ofPeer: worldRank),
                let base = SharedArea.collectiveChannel(channel, in: area)
            else { return nil }
            bases.append(base)
        }
        return SharedCollectiveChannel(
            bases: bases, rank: rank, name: Communicator.reportName(context: context, size: worldRanks.count), context: context)
    }

    private init(bases: [UnsafeMutableRawPointer], rank: Int, name: String, context: UInt32) {
        members = .allocate(capacity: bases.count)
        _ = members.initialize(from: bases)
        self.rank = rank
        self.name = name
        self.context = context
    }

    deinit { members.deallocate() }

    // MARK: - The collectives

    func barrier(_ runtime: Runtime) throws {
        let signature = CollectiveSignature(.barrier)
        let step = try beginStep(runtime, writes: false)
        publish(step, signature)
        try waitForAll(step, signature, runtime, "barrier")
    }

    /// Broadcasts `bytes` from `root` if they fit the channel, and returns true; returns false, on
    /// every rank alike, when the root's message is larger (the caller then uses messages). The root
    /// decides: it publishes its length, so a rank whose buffer differs throws `.truncate` instead of
    /// taking another path than the root and waiting forever.
    /// (`kind` and `call` name the collective the user called, when a bcast is one of its steps.)
    func bcast(
        _ bytes: UnsafeMutableRawBufferPointer, root: Int, _ runtime: Runtime, as kind: CollectiveSignature.Kind = .bcast,
        _ call: StaticString = "bcast"
    ) throws -> Bool {
        let signature = CollectiveSignature(kind, root: root)
        let step = try beginStep(runtime, writes: rank == root)
        if rank == root {
            let fits = bytes.count <= Self.capacity
            if fits { write(UnsafeRawBufferPointer(bytes), step) }
            publish(step, signature, length: bytes.count)
            try waitForAll(step, signature, runtime, call)
            return fits
        }
        publish(step, signature)
        try waitForAll(step, signature, runtime, call)
        let length = Int(UnsafeRawPointer(buffer(root, step) + Offset.length).load(as: UInt32.self))
        guard length == min(bytes.count, Int(UInt32.max)) else {
            throw MPIError(.truncate, "\(call): the root sends \(length) bytes, this rank expects \(bytes.count)")
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
        let signature = root.map { CollectiveSignature(.reduce, root: $0) } ?? CollectiveSignature(.allreduce)
        let step = try beginStep(runtime, writes: true)
        let byteCount = min(values.count * MemoryLayout<T>.stride, Int(UInt32.max))
        let fits = byteCount <= Self.capacity
        if fits { write(UnsafeRawBufferPointer(values), step) }
        publish(step, signature, length: byteCount)
        try waitForAll(step, signature, runtime, call)
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

    /// Gathers every member's `values` into the root's `result` (`counts[i]` bytes from member i at
    /// `displacements[i]`) and returns true when every contribution fits the channel; returns false,
    /// on every rank alike, when one does not (the caller then uses messages). Every rank publishes
    /// its byte count, so every rank decides from the same numbers.
    func gather(
        _ values: UnsafeRawBufferPointer, into result: UnsafeMutableRawBufferPointer?, counts: [Int], displacements: [Int],
        root: Int, _ runtime: Runtime, _ call: StaticString
    ) throws -> Bool {
        guard let step = try exchangeContributions(values, CollectiveSignature(.gather, root: root), runtime, call) else { return false }
        guard rank == root, let result else { return true }
        for member in members.indices {
            try copyContribution(of: member, step, into: result.baseAddress, at: displacements[member], expected: counts[member], call)
        }
        return true
    }

    /// Deals the root's `values` out (`counts[i]` bytes at `displacements[i]` to member i, into its
    /// `result`) and returns true when they fit the channel together; returns false, on every rank
    /// alike, when they do not (the caller then uses messages): the root publishes the total.
    func scatter(
        _ values: UnsafeRawBufferPointer?, counts: [Int], displacements: [Int], into result: UnsafeMutableRawBufferPointer,
        root: Int, _ runtime: Runtime, _ call: StaticString
    ) throws -> Bool {
        let signature = CollectiveSignature(.scatter, root: root)
        let step = try beginStep(runtime, writes: rank == root)
        if rank == root, let values {
            let total = counts.reduce(0, +)
            if total <= Self.capacity {
                var offset = 0
                for member in members.indices where counts[member] > 0 {
                    (buffer(rank, step) + Self.dataOffset + offset).copyMemory(
                        from: values.baseAddress! + displacements[member], byteCount: counts[member])
                    offset += counts[member]
                }
            }
            publish(step, signature, length: min(total, Int(UInt32.max)))
        } else {
            publish(step, signature)
        }
        try waitForAll(step, signature, runtime, call)
        guard length(root, step) <= Self.capacity else { return false }
        let part = counts[rank]
        guard part <= result.count else {
            throw MPIError(
                .truncate,
                "\(call): \(part) bytes for rank \(rank) do not fit what this rank expected (\(result.count)): "
                    + "the ranks' counts (or datatypes) for \(call) do not agree")
        }
        let offset = counts[..<rank].reduce(0, +)
        guard offset + part <= length(root, step) else {
            throw MPIError(
                .invalidCount,
                "\(call): the root deals out \(length(root, step)) bytes, this rank's counts need \(offset + part): "
                    + "the ranks' counts for \(call) do not agree")
        }
        if part > 0 {
            result.baseAddress!.copyMemory(from: buffer(root, step) + Self.dataOffset + offset, byteCount: part)
        }
        return true
    }

    /// Every member's `values` into every rank's `result` (`counts[i]` bytes from member i at
    /// `displacements[i]`): MPI_Allgather(v) in one step. Returns true when every contribution fits
    /// the channel; false, on every rank alike, when one does not (the caller then uses messages).
    /// A contribution longer than this rank expects throws `.truncate`, as a longer message would.
    func allgather(
        _ values: UnsafeRawBufferPointer, into result: UnsafeMutableRawBufferPointer, counts: [Int], displacements: [Int],
        _ runtime: Runtime, _ call: StaticString
    ) throws -> Bool {
        guard let step = try exchangeContributions(values, CollectiveSignature(.allgather), runtime, call) else { return false }
        for member in members.indices {
            try copyContribution(of: member, step, into: result.baseAddress, at: displacements[member], expected: counts[member], call)
        }
        return true
    }

    /// MPI_Allgather's equal parts in one step, without count arrays: every member publishes
    /// `values` (if they fit) and member i's part lands at `result[i × values.count...]`. Returns
    /// false, on every rank alike, when one part does not fit (the caller then uses messages). A part
    /// longer than this rank's throws `.truncate`; a shorter one leaves the rest of its slot as it was.
    func allgatherEqualParts(_ values: UnsafeRawBufferPointer, into result: UnsafeMutableRawBufferPointer, _ runtime: Runtime) throws -> Bool {
        guard let step = try exchangeContributions(values, CollectiveSignature(.allgather), runtime, "allgather") else { return false }
        let part = values.count
        for member in members.indices {
            try copyContribution(of: member, step, into: result.baseAddress, at: member * part, expected: part, "allgather")
        }
        return true
    }

    /// MPI_Alltoall's equal blocks in one step, without count arrays: as the general `alltoall` below
    /// (the same table, so ranks that mix alltoall and alltoallv still exchange their blocks as
    /// messages would), with block j of `values` for member j and member i's block for this rank
    /// at `result[i × block...]`, a block being `values.count` over the members.
    func alltoallEqualBlocks(_ values: UnsafeRawBufferPointer, into result: UnsafeMutableRawBufferPointer, _ runtime: Runtime) throws -> Bool {
        let signature = CollectiveSignature(.alltoall)
        let step = try beginStep(runtime, writes: true)
        let table = members.count * 8, block = values.count / members.count
        let total = table + values.count
        if total <= Self.capacity {
            let data = buffer(rank, step) + Self.dataOffset
            for member in members.indices {
                data.storeBytes(of: UInt32(table + member * block), toByteOffset: member * 8, as: UInt32.self)
                data.storeBytes(of: UInt32(block), toByteOffset: member * 8 + 4, as: UInt32.self)
            }
            if values.count > 0 { (data + table).copyMemory(from: values.baseAddress!, byteCount: values.count) }
        }
        publish(step, signature, length: min(total, Int(UInt32.max)))
        try waitForAll(step, signature, runtime, "alltoall")
        for member in members.indices where length(member, step) > Self.capacity { return false }
        for member in members.indices { try receiveBlock(from: member, step, into: result.baseAddress, at: member * block, expected: block, "alltoall") }
        return true
    }

    /// MPI_Alltoall(v) in one step: every member publishes where its block for each member lies —
    /// a table of (byte offset, length) pairs of `UInt32`, one per member, then the blocks — and
    /// every rank copies its block of each member into `result` (`receiveCounts[j]` bytes from
    /// member j at `receiveDisplacements[j]`). Returns true when every member's table and blocks fit
    /// the channel; false, on every rank alike, when one does not (the caller then uses messages).
    /// A block longer than this rank expects throws `.truncate`, as a longer message would.
    func alltoall(
        _ values: UnsafeRawBufferPointer, sendCounts: [Int], sendDisplacements: [Int], into result: UnsafeMutableRawBufferPointer,
        receiveCounts: [Int], receiveDisplacements: [Int], _ runtime: Runtime, _ call: StaticString
    ) throws -> Bool {
        let signature = CollectiveSignature(.alltoall)
        let step = try beginStep(runtime, writes: true)
        let table = members.count * 8
        let total = table + sendCounts.reduce(0, +)
        if total <= Self.capacity {
            let data = buffer(rank, step) + Self.dataOffset
            var offset = table
            for member in members.indices {
                let count = sendCounts[member]
                data.storeBytes(of: UInt32(offset), toByteOffset: member * 8, as: UInt32.self)
                data.storeBytes(of: UInt32(count), toByteOffset: member * 8 + 4, as: UInt32.self)
                if count > 0 { (data + offset).copyMemory(from: values.baseAddress! + sendDisplacements[member], byteCount: count) }
                offset += count
            }
        }
        publish(step, signature, length: min(total, Int(UInt32.max)))
        try waitForAll(step, signature, runtime, call)
        for member in members.indices where length(member, step) > Self.capacity { return false }
        for member in members.indices {
            try receiveBlock(
                from: member, step, into: result.baseAddress, at: receiveDisplacements[member], expected: receiveCounts[member], call)
        }
        return true
    }

    /// Copies this rank's block of `member`'s alltoall table (published with `step`) to byte `offset`
    /// of `result` (nil only when every block is empty); a block longer than `expected` bytes throws
    /// `.truncate`, as a longer message would.
    @inline(__always)
    private func receiveBlock(
        from member: Int, _ step: UInt32, into result: UnsafeMutableRawPointer?, at offset: Int, expected: Int, _ call: StaticString
    ) throws {
        let data = UnsafeRawPointer(buffer(member, step) + Self.dataOffset)
        let source = Int(data.load(fromByteOffset: rank * 8, as: UInt32.self))
        let length = Int(data.load(fromByteOffset: rank * 8 + 4, as: UInt32.self))
        guard length <= expected, source + length <= Self.capacity else { throw Self.tooLong(length, from: member, expected: expected, call) }
        if length > 0, let result { (result + offset).copyMemory(from: data + source, byteCount: length) }
    }

    /// The step of gather and allgather: every member publishes `values` (when they fit) and their
    /// byte count. Returns the step, or nil, on every rank alike, when a member's do not fit (the
    /// caller then uses messages).
    private func exchangeContributions(
        _ values: UnsafeRawBufferPointer, _ signature: CollectiveSignature, _ runtime: Runtime, _ call: StaticString
    ) throws -> UInt32? {
        let step = try beginStep(runtime, writes: true)
        if values.count <= Self.capacity { write(values, step) }
        publish(step, signature, length: min(values.count, Int(UInt32.max)))
        try waitForAll(step, signature, runtime, call)
        for member in members.indices where length(member, step) > Self.capacity { return nil }
        return step
    }

    /// Copies `member`'s contribution to `step` to byte `offset` of `result` (nil only when every
    /// contribution is empty); one longer than `expected` bytes throws `.truncate`, as a longer
    /// message would.
    @inline(__always)
    private func copyContribution(
        of member: Int, _ step: UInt32, into result: UnsafeMutableRawPointer?, at offset: Int, expected: Int, _ call: StaticString
    ) throws {
        let length = length(member, step)
        guard length <= expected else { throw Self.tooLong(length, from: member, expected: expected, call) }
        if length > 0, let result { (result + offset).copyMemory(from: buffer(member, step) + Self.dataOffset, byteCount: length) }
    }

    /// The `.truncate` of a contribution or block longer than this rank expected.
    private static func tooLong(_ length: Int, from member: Int, expected: Int, _ call: StaticString) -> MPIError {
        MPIError(
            .truncate,
            "\(call): \(length) bytes from rank \(member) do not fit what this rank expected (\(expected)): "
                + "the ranks' counts (or datatypes) for \(call) do not agree")
    }

    /// MPI_Gather's equal parts in one step, without count arrays: every member publishes `values`
    /// (if they fit) and their byte count; the root returns the contributions in rank order (nil
    /// elsewhere). `fits` is false, on every rank alike, when one does not fit (the caller then uses
    /// messages). A contribution longer than the root's throws `.truncate` at the root; a shorter one
    /// leaves zeros, as a shorter message would.
    func gatherEqualParts<T: BitwiseCopyable>(
        _ values: UnsafeRawBufferPointer, as type: T.Type, root: Int, _ runtime: Runtime
    ) throws -> (fits: Bool, result: [T]?) {
        guard let step = try exchangeEqualParts(values, root: root, runtime) else { return (false, nil) }
        guard rank == root else { return (true, nil) }
        let count = values.count / max(MemoryLayout<T>.stride, 1) * members.count
        let result = [T](unsafeUninitializedCapacity: count) { elements, initialized in
            if let output = elements.baseAddress { copyEqualParts(of: step, part: values.count, into: UnsafeMutableRawPointer(output)) }
            initialized = count
        }
        return (true, result)
    }

    /// ``gatherEqualParts(_:as:root:_:)`` into the root's `result` (`members × values.count` bytes;
    /// nil or unused elsewhere). Returns false, on every rank alike, when a contribution does not fit.
    func gatherEqualParts(_ values: UnsafeRawBufferPointer, into result: UnsafeMutableRawBufferPointer?, root: Int, _ runtime: Runtime) throws -> Bool {
        guard let step = try exchangeEqualParts(values, root: root, runtime) else { return false }
        if rank == root, let output = result?.baseAddress { copyEqualParts(of: step, part: values.count, into: output) }
        return true
    }

    /// The step of an equal-part gather: every member publishes its contribution; at the root, one
    /// longer than the root's own throws `.truncate`. Nil when one does not fit the channel.
    private func exchangeEqualParts(_ values: UnsafeRawBufferPointer, root: Int, _ runtime: Runtime) throws -> UInt32? {
        guard let step = try exchangeContributions(values, CollectiveSignature(.gather, root: root), runtime, "gather") else { return nil }
        if rank == root {
            for member in members.indices where length(member, step) > values.count {
                throw Self.tooLong(length(member, step), from: member, expected: values.count, "gather")
            }
        }
        return step
    }

    /// Copies every member's contribution to `step` to `output` in rank order, `part` bytes apart;
    /// a shorter one is followed by zeros up to its part.
    private func copyEqualParts(of step: UInt32, part: Int, into output: UnsafeMutableRawPointer) {
        for member in members.indices where part > 0 {
            let received = length(member, step)
            let slot = output + member * part
            slot.copyMemory(from: buffer(member, step) + Self.dataOffset, byteCount: received)
            if received < part { (slot + received).initializeMemory(as: UInt8.self, repeating: 0, count: part - received) }
        }
    }

    /// MPI_Scatter's equal parts in one step: the root publishes all of `values` (if they fit) and
    /// their byte count; every rank checks that they divide among the members, and returns its part,
    /// or nil with the root's element count when they do not fit (the caller then uses messages).
    func scatterEqualParts<T: BitwiseCopyable>(
        _ values: UnsafeRawBufferPointer?, as type: T.Type, root: Int, _ runtime: Runtime
    ) throws -> (part: [T]?, total: Int) {
        let step = try dealEqualParts(values, root: root, runtime)
        let stride = MemoryLayout<T>.stride
        let total = length(root, step) / max(stride, 1)
        guard total % members.count == 0 else {
            throw MPIError(.invalidCount, "scatter: \(total) elements at the root do not divide among \(members.count) ranks")
        }
        guard length(root, step) <= Self.capacity else { return (nil, total) }
        let count = total / members.count
        let source = buffer(root, step) + Self.dataOffset + rank * count * stride
        let part = [T](unsafeUninitializedCapacity: count) { elements, initialized in
            if count > 0 {
                UnsafeMutableRawPointer(elements.baseAddress!).copyMemory(
                    from: source, byteCount: count * stride)
            }
            initialized = count
        }
        return (part, total)
    }

    /// ``scatterEqualParts(_:as:root:_:)`` into this rank's `result`, whose size is this rank's part,
    /// with the root's byte count. `done` is false, on every rank alike, when the root's values do
    /// not fit the channel (the caller then uses messages and checks the count after them); when
    /// they fit, a rank whose part they are not `members × result.count` bytes for throws
    /// `.invalidCount` (every rank has taken the step: none waits for it).
    func scatterEqualParts(
        _ values: UnsafeRawBufferPointer?, into result: UnsafeMutableRawBufferPointer, root: Int, _ runtime: Runtime
    ) throws -> (done: Bool, total: Int) {
        let step = try dealEqualParts(values, root: root, runtime)
        let total = length(root, step), part = result.count
        guard total <= Self.capacity else { return (false, total) }
        guard total == part * members.count else {
            throw MPIError(
                .invalidCount,
                "scatter: the root deals out \(total) bytes, this rank expects \(part) of \(members.count) equal parts: "
                    + "the ranks' counts for scatter do not agree")
        }
        if part > 0 { result.baseAddress!.copyMemory(from: buffer(root, step) + Self.dataOffset + rank * part, byteCount: part) }
        return (true, total)
    }

    /// The step of an equal-part scatter: the root publishes its values (when they fit) and their
    /// byte count, the others only their signature.
    private func dealEqualParts(_ values: UnsafeRawBufferPointer?, root: Int, _ runtime: Runtime) throws -> UInt32 {
        let signature = CollectiveSignature(.scatter, root: root)
        let step = try beginStep(runtime, writes: rank == root)
        if rank == root, let values {
            if values.count <= Self.capacity { write(values, step) }
            publish(step, signature, length: min(values.count, Int(UInt32.max)))
        } else {
            publish(step, signature)
        }
        try waitForAll(step, signature, runtime, "scatter")
        return step
    }

    /// A step without data in which the members only compare signatures: the agreement of a
    /// collective that otherwise uses messages only (under `SWIFTMPI_CHECK_COLLECTIVES=1`).
    func agree(_ signature: CollectiveSignature, _ runtime: Runtime, _ call: StaticString) throws {
        let step = try beginStep(runtime, writes: false)
        publish(step, signature)
        try waitForAll(step, signature, runtime, call)
    }

    // MARK: - Steps and buffers

    /// The byte count `member` published with `step`.
    @inline(__always)
    private func length(_ member: Int, _ step: UInt32) -> Int {
        Int(UnsafeRawPointer(buffer(member, step) + Offset.length).load(as: UInt32.self))
    }

    /// Starts the next step; a rank that will write its buffer first waits until every member has
    /// finished the step that last used it. A communicator revoked, or one whose members' failure
    /// is known here, ends the collective before it starts (even when every member would arrive).
    @inline(__always)
    private func beginStep(_ runtime: Runtime, writes: Bool) throws -> UInt32 {
        guard runtime.isActive else { throw MPIError(.alreadyFinalized, "collective after MPI.finalize()") }
        if runtime.engine.anyFault { try throwIfFaulty(runtime) }
        step &+= 1
        let previous = step &- 1
        if writes && everyoneReached != previous {
            try waitForAll(previous, nil, runtime, "collective")
        }
        return step
    }

    /// Throws the error this communicator's collectives meet now (``Engine/faultError(context:peer:_:)``), if any.
    @inline(never)
    private func throwIfFaulty(_ runtime: Runtime) throws {
        if let error = try runtime.withEngine("collective", { $0.faultError(context: context | 1, peer: -1, "collective") }) { throw error }
    }

    /// Waits until every member has published `step`, then compares their signatures for it with
    /// `signature` (if given) and throws `.collectiveMismatch` naming the first member that differs.
    @inline(__always)
    private func waitForAll(_ step: UInt32, _ signature: CollectiveSignature?, _ runtime: Runtime, _ call: StaticString) throws {
        // Recovery mode: a failure or revoke seen during the wait (the epoch moves) ends it to look
        // at this communicator; the wait goes on when it is not concerned. (The closure captures
        // nothing mutable: a captured variable cost ~0.01 µs of a 0.15 µs allreduce.)
        var epoch = -1  // (the first look after a fault scans the members once: faultError caches it)
        while true {
            let seen = epoch
            try runtime.wait(
                call, "(\(members.count) ranks\(CollectiveSignature.reportText(root: signature?.root))) on \(name), shared-memory collective #\(step)"
            ) { engine in
                for member in members.indices where !published(member, step) { return engine.anyFault && engine.recovery.epoch != seen }
                return true
            }
            let engine = runtime.engine
            if !engine.anyFault || members.indices.allSatisfy({ published($0, step) }) { break }
            let (now, error) = try runtime.withEngine(call) { ($0.recovery.epoch, $0.faultError(context: context | 1, peer: -1, call)) }
            epoch = now
            if let error { throw error }
        }
        everyoneReached = step
        guard let signature else { return }
        for member in members.indices {
            let line = UnsafeRawPointer(buffer(member, step))
            let theirs = CollectiveSignature(word: (line + Offset.signature).load(as: UInt32.self))
            // A member that already moved past `step` cannot have: it waits for this rank's next step.
            if theirs != signature, line.load(as: UInt32.self) == step {
                throw CollectiveSignature.mismatch(call, member: member, theirs: theirs, mine: signature, rank: rank)
            }
        }
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

    /// Publishes `step` and this rank's signature for it, with the length of the data written for it
    /// if any. (A rank that writes no data leaves the length alone.)
    @inline(__always)
    private func publish(_ step: UInt32, _ signature: CollectiveSignature, length: Int? = nil) {
        let line = buffer(rank, step)
        if let length { (line + Offset.length).storeBytes(of: UInt32(length), as: UInt32.self) }
        (line + Offset.signature).storeBytes(of: signature.word, as: UInt32.self)
        cshims_store_release_u32((line + Offset.step).assumingMemoryBound(to: UInt32.self), step)
    }
}
