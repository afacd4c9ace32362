#if canImport(Glibc)
import Glibc
#endif
import CShims

/// The kind of a passive-target lock (MPI_LOCK_EXCLUSIVE, MPI_LOCK_SHARED).
public enum WindowLock: Sendable, Equatable {
    /// No other origin holds the target's lock meanwhile.
    case exclusive
    /// Other origins may hold it shared at the same time.
    case shared
}

/// Memory that every rank of a communicator exposes to the others for one-sided communication
/// (MPI_Win): puts, gets and accumulates into another rank's window without that rank posting a
/// receive.
///
/// Offsets and counts are in elements of `T` (the window's displacement unit is `T`'s stride); every
/// rank makes the window with the same `T` (checked at creation). An access is checked at the origin
/// against the target's size (``MPIError/Code/rmaRange``) and against the epochs open
/// (``MPIError/Code/rmaSynchronization``): a call reaches a target only inside an access epoch —
/// after ``fence()``, between ``lock(_:rank:noCheck:)`` and ``unlock(rank:)``, between ``lockAll(noCheck:)`` and
/// ``unlockAll()``, or between ``start(_:)`` and ``complete()``.
///
/// **Completion.** `put` and `accumulate` are complete at the origin when they return (the values
/// may change); they are complete at the target after the next ``flush(rank:)``, ``unlock(rank:)``,
/// ``fence()`` or ``complete()``. `get`, `getAccumulate`, `fetchAndOp` and `compareAndSwap` return
/// with their result in place (Swift's `inout` and return values cannot outlive the call).
///
/// **Transports.** On one host an allocated window lives in shared memory: an origin copies into,
/// reads from and accumulates into the target's memory itself (under the target's accumulate word),
/// and takes the target's lock itself, so the target need not call SwiftMPI for any of it. Other
/// targets (other hosts, TCP forced with `SWIFTMPI_TRANSPORT=tcp`, and every other rank of a
/// ``create(exposing:on:info:)`` window, whose memory is the caller's) are reached with active messages
/// that the target applies in arrival order whenever it is inside a SwiftMPI call: a lock on such a
/// rank is granted, and a flush answered, when it next calls SwiftMPI (MPICH without its progress
/// thread behaves alike).
///
/// **Accumulates** are atomic per element with respect to other accumulates (and `getAccumulate`,
/// `fetchAndOp`, `compareAndSwap`) on the same window; they take MPI's predefined operators only
/// (`.sum`, `.product`, `.min`, `.max`, the bitwise and logical ones, ``ReduceOperation/replace``,
/// ``ReduceOperation/noOp``), on the element types C MPI allows them for (integers and floating point;
/// `Bool` for the logical ones; any `T` for `replace` and `noOp`).
///
/// Not thread-safe by itself; calls from several threads need thread level `.multiple`.
/// Sendable by assertion (`@unchecked`): its only stored state is the immutable reference to its
/// `WindowState`, whose epochs, queues and hints change only with the engine locked (`Runtime.withEngine`).
public final class Window<T: BitwiseCopyable>: @unchecked Sendable {
    let state: WindowState

    private init(state: WindowState) { self.state = state }

    static var stride: Int { MemoryLayout<T>.stride }

    // MARK: - Creation

    /// A window of `count` zero-filled elements on every rank, allocated by SwiftMPI
    /// (MPI_Win_allocate): ranks on one host share it in memory, so one-sided calls between them are
    /// loads and stores. Collective; `count` may differ between ranks. `info` gives MPI's window
    /// hints (`no_locks`, `same_size`, `accumulate_ordering`, …; what each does: ``info``).
    public static func allocate(count: Int, on communicator: Communicator, info: Info = Info()) throws(MPIError) -> Window {
        try make(count: count, on: communicator, placement: .allocate, info: info, "Window.allocate")
    }

    /// A window in one shared segment of the host (MPI_Win_allocate_shared): rank `r`'s part follows
    /// rank `r - 1`'s with no gap, and every rank reaches every part with
    /// ``localMemory(ofRank:)``. Collective; every rank of `communicator` must share memory with the
    /// others (use `communicator.splitType(.shared)`), else every rank throws `.invalidArgument`.
    /// `info`: the window hints (``info``).
    public static func allocateShared(count: Int, on communicator: Communicator, info: Info = Info()) throws(MPIError) -> Window {
        try make(count: count, on: communicator, placement: .shared, info: info, "Window.allocateShared")
    }

    /// A window over memory the caller owns (MPI_Win_create). The buffer must stay allocated, and
    /// must not be deallocated or moved, until ``free()`` returns; other ranks reach it by RDMA where
    /// their route is verbs (puts and gets), else through messages that this rank serves whenever it
    /// is inside a SwiftMPI call (``path(toRank:)``). Collective. `info`: the window hints (``info``).
    public static func create(
        exposing buffer: UnsafeMutableBufferPointer<T>, on communicator: Communicator, info: Info = Info()
    ) throws(MPIError)
        -> Window
    {
        try make(
            count: buffer.count, on: communicator, placement: .exposing(buffer.baseAddress.map(UnsafeMutableRawPointer.init)), info: info, "Window.create")
    }

    /// A window with no memory until ranks attach some (MPI_Win_create_dynamic). Collective. Each
    /// rank attaches buffers with ``attach(_:)``, which gives the offset other ranks then use to
    /// reach the buffer's first element (send it to them); accesses go by messages to the target,
    /// which checks them against its attached buffers (an access outside every one is reported by the
    /// origin's next flush, unlock, fence or complete as `.rmaRange`). `info`: the window hints (``info``).
    public static func createDynamic(on communicator: Communicator, info: Info = Info()) throws(MPIError) -> Window {
        try make(count: 0, on: communicator, placement: .dynamic, info: info, "Window.createDynamic")
    }

    /// Makes `buffer` reachable through this dynamic window (MPI_Win_attach) until ``detach(_:)``,
    /// and returns the offset, in elements of `T`, at which other ranks reach its first element. The
    /// buffer must stay allocated meanwhile; its address must be a multiple of `T`'s stride (true
    /// for arrays of numbers; else use a `Window<UInt8>`). Local.
    @discardableResult
    public func attach(_ buffer: UnsafeMutableBufferPointer<T>) throws(MPIError) -> Int {
        try typedErrors {
            let address = Int(bitPattern: buffer.baseAddress)
            guard address % Self.stride == 0 else {
                throw MPIError(.invalidArgument, "attach: the buffer's address is not a multiple of \(T.self)'s stride (\(Self.stride)); use a Window<UInt8>")
            }
            try state.attach(buffer.baseAddress.map(UnsafeMutableRawPointer.init), count: buffer.count * Self.stride, "attach")
            return address / Self.stride
        }
    }

    /// Ends ``attach(_:)`` for `buffer` (MPI_Win_detach). Local.
    public func detach(_ buffer: UnsafeMutableBufferPointer<T>) throws(MPIError) {
        try typedErrors { try state.detach(buffer.baseAddress.map(UnsafeRawPointer.init), "detach") }
    }

    private static func make(
        count: Int, on communicator: Communicator, placement: WindowState.Placement, info: Info, _ call: String
    ) throws(MPIError)
        -> Window
    {
        try communicator.typedErrors {
            let bytes = count < 0 ? -1 : count * stride
            let state = try WindowState.make(
                on: communicator, bytes: bytes, displacementUnit: stride, kernel: AccumulateKernel(for: T.self), sameUnit: true, placement: placement,
                info: info, call)
            return Window(state: state)
        }
    }

    /// This rank's window hints in effect (MPI_Win_get_info): `no_locks`, `accumulate_ordering`,
    /// `accumulate_ops`, `mpi_accumulate_granularity`, `same_size`, `same_disp_unit` and
    /// `alloc_shared_noncontig`, each as given or its default. `no_locks=true` promises that this
    /// rank's part is never locked: any rank's ``lock(_:rank:noCheck:)`` of it (its own too), and
    /// every rank's ``lockAll(noCheck:)``, then throw `.rmaSynchronization`. `same_size` and `same_disp_unit`
    /// are checked at creation (`.invalidArgument` on every rank when a rank that claims one is
    /// wrong). The others are accepted and reported: SwiftMPI keeps every accumulate order and lets
    /// any operations meet on an element, and lays out shared windows contiguously. A known key
    /// with a value it does not take throws `.invalidArgument` (on every rank, at creation);
    /// unknown keys are ignored.
    public var info: Info { state.reportedHints }

    /// Changes this rank's accumulate hints (MPI_Win_set_info): `accumulate_ordering`,
    /// `accumulate_ops` and `mpi_accumulate_granularity`; the keys that describe how the window was
    /// made keep their values (their values are still checked). A bad value changes nothing.
    public func setInfo(_ info: Info) throws(MPIError) {
        try typedErrors { try state.setHints(info, "Window.setInfo") }
    }

    // MARK: - Who and where

    /// This rank's rank in the window (that of the communicator it was made on).
    public var rank: Int { state.rank }
    /// The number of ranks of the window.
    public var size: Int { state.size }
    /// The window's ranks (MPI_Win_get_group).
    public var group: Group { state.communicator.group }

    /// The number of elements `rank` exposes.
    public func count(ofRank rank: Int) throws(MPIError) -> Int {
        guard rank >= 0 && rank < state.size else { throw MPIError(.invalidRank, "Window.count(ofRank:): rank \(rank) is outside 0..<\(state.size)") }
        return state.byteCounts[rank] / Self.stride
    }

    /// This rank's own part of the window. Local loads and stores to it follow MPI's rules for
    /// window memory: separate them from other ranks' accesses with the window's synchronization.
    public var localMemory: UnsafeMutableBufferPointer<T> {
        UnsafeMutableBufferPointer(start: state.base.assumingMemoryBound(to: T.self), count: state.byteCounts[state.rank] / Self.stride)
    }

    /// How this rank's calls reach `rank`'s memory, which says what they need of that rank.
    public func path(toRank rank: Int) throws(MPIError) -> WindowAccessPath {
        guard rank >= 0 && rank < state.size else { throw MPIError(.invalidRank, "Window.path(toRank:): rank \(rank) is outside 0..<\(state.size)") }
        if state.memory.direct[rank] != nil { return .mapped }
        return state.remoteAccess?.remote[rank] != nil ? .remoteMemoryAccess : .messages
    }

    /// `rank`'s part of the window as mapped in this process (MPI_Win_shared_query), for direct loads
    /// and stores: every rank's of a shared window; on an allocated window, those on this host.
    /// Throws `.invalidArgument` for a rank whose memory is not mapped here.
    public func localMemory(ofRank rank: Int) throws(MPIError) -> UnsafeMutableBufferPointer<T> {
        guard rank >= 0 && rank < state.size else {
            throw MPIError(.invalidRank, "Window.localMemory(ofRank:): rank \(rank) is outside 0..<\(state.size)")
        }
        guard let base = state.memory.direct[rank] else {
            throw MPIError(
                .invalidArgument,
                "Window.localMemory(ofRank:): rank \(rank)'s memory is not mapped in this process (another host, or a window made with create(exposing:))")
        }
        return UnsafeMutableBufferPointer(start: base.assumingMemoryBound(to: T.self), count: state.byteCounts[rank] / Self.stride)
    }

    // MARK: - Data movement

    /// Writes `values` into `target`'s window from element `offset` (MPI_Put).
    public func put(_ values: UnsafeBufferPointer<T>, to target: Int, at offset: Int) throws(MPIError) {
        let span = state.communicator.traceBegin()
        defer { if span != 0 { state.communicator.traceEnd(span, "put", peer: target, tag: -1, bytes: values.count * Self.stride) } }
        let state = self.state
        if state.allows(target, offset: offset, count: values.count), let base = state.memory.direct[target] {
            // The fast path: a copy into mapped memory, no other check to make.
            (base + offset &* Self.stride).copyMemory(from: values.baseAddress!, byteCount: values.count &* Self.stride)
            if state.servesMessages { try typedErrors { try state.serveMessages() } }
            return
        }
        try typedErrors {
            guard try prepare(target, offset: offset, count: values.count, "put") else { return }
            try state.put(UnsafeRawBufferPointer(values), to: target, byteOffset: offset * Self.stride)
        }
    }

    /// Writes `values` into `target`'s window from element `offset` (MPI_Put).
    public func put(_ values: [T], to target: Int, at offset: Int) throws(MPIError) {
        try values.withUnsafeBufferPointer { (buffer) throws(MPIError) in try put(buffer, to: target, at: offset) }
    }

    /// Reads `values.count` elements of `target`'s window from element `offset` into `values` (MPI_Get).
    public func get(into values: UnsafeMutableBufferPointer<T>, from target: Int, at offset: Int) throws(MPIError) {
        let span = state.communicator.traceBegin()
        defer { if span != 0 { state.communicator.traceEnd(span, "get", peer: target, tag: -1, bytes: values.count * Self.stride) } }
        let state = self.state
        if state.allows(target, offset: offset, count: values.count), let base = state.memory.direct[target] {
            UnsafeMutableRawPointer(values.baseAddress!).copyMemory(from: base + offset &* Self.stride, byteCount: values.count &* Self.stride)
            if state.servesMessages { try typedErrors { try state.serveMessages() } }
            return
        }
        try typedErrors {
            guard try prepare(target, offset: offset, count: values.count, "get") else { return }
            try state.get(into: UnsafeMutableRawBufferPointer(values), from: target, byteOffset: offset * Self.stride, "get")
        }
    }

    /// Reads `values.count` elements of `target`'s window from element `offset` into `values` (MPI_Get).
    public func get(into values: inout [T], from target: Int, at offset: Int) throws(MPIError) {
        try values.withUnsafeMutableBufferPointer { (buffer) throws(MPIError) in try get(into: buffer, from: target, at: offset) }
    }

    /// `count` elements of `target`'s window from element `offset` (MPI_Get).
    public func get(count: Int, from target: Int, at offset: Int) throws(MPIError) -> [T] {
        guard count >= 0 else { throw MPIError(.invalidCount, "get: a negative count (\(count))") }
        return try [T](unsafeUninitializedCapacity: count) { (buffer, initialized) throws(MPIError) in
            buffer.withMemoryRebound(to: UInt8.self) { $0.initialize(repeating: 0) }
            initialized = count
            try get(into: buffer, from: target, at: offset)
        }
    }

    /// Combines `values` into `target`'s window from element `offset`, element by element, with `op`
    /// (MPI_Accumulate): atomic per element with respect to other accumulates.
    public func accumulate(_ values: UnsafeBufferPointer<T>, to target: Int, at offset: Int, op: ReduceOperation<T>) throws(MPIError) {
        let span = state.communicator.traceBegin()
        defer { if span != 0 { state.communicator.traceEnd(span, "accumulate", peer: target, tag: -1, bytes: values.count * Self.stride) } }
        try typedErrors {
            let code = try accumulateOperator(op, "accumulate")
            guard try prepare(target, offset: offset, count: values.count, "accumulate") else { return }
            try state.accumulate(UnsafeRawBufferPointer(values), to: target, byteOffset: offset * Self.stride, op: code, kernel: state.kernel)
        }
    }

    /// Combines `values` into `target`'s window from element `offset` with `op` (MPI_Accumulate).
    public func accumulate(_ values: [T], to target: Int, at offset: Int, op: ReduceOperation<T>) throws(MPIError) {
        try values.withUnsafeBufferPointer { (buffer) throws(MPIError) in try accumulate(buffer, to: target, at: offset, op: op) }
    }

    /// Combines `values` into `target`'s window like ``accumulate(_:to:at:op:)-([T],_,_,_)`` and
    /// returns the elements as they were before, atomically (MPI_Get_accumulate; with `.noOp` an
    /// atomic read, with `.replace` an atomic swap).
    public func getAccumulate(_ values: [T], to target: Int, at offset: Int, op: ReduceOperation<T>) throws(MPIError) -> [T] {
        let span = state.communicator.traceBegin()
        defer { if span != 0 { state.communicator.traceEnd(span, "getAccumulate", peer: target, tag: -1, bytes: values.count * Self.stride) } }
        return try typedErrors {
            let code = try accumulateOperator(op, "getAccumulate")
            var result = values  // same size; overwritten with the old elements
            guard try prepare(target, offset: offset, count: values.count, "getAccumulate") else { return result }
            try values.withUnsafeBytes { bytes in
                try result.withUnsafeMutableBytes { old in
                    try state.getAccumulate(bytes, result: old, to: target, byteOffset: offset * Self.stride, op: code, kernel: state.kernel, "getAccumulate")
                }
            }
            return result
        }
    }

    /// Combines `value` into element `offset` of `target`'s window with `op` and returns the element
    /// as it was, atomically (MPI_Fetch_and_op).
    public func fetchAndOp(_ value: T, to target: Int, at offset: Int, op: ReduceOperation<T>) throws(MPIError) -> T {
        let span = state.communicator.traceBegin()
        defer { if span != 0 { state.communicator.traceEnd(span, "fetchAndOp", peer: target, tag: -1, bytes: Self.stride) } }
        return try getAccumulate([value], to: target, at: offset, op: op)[0]
    }

    /// Replaces element `offset` of `target`'s window by `desired` if its bytes equal `expected`'s,
    /// atomically, and returns the element as it was (MPI_Compare_and_swap; it was replaced when the
    /// result equals `expected`).
    public func compareAndSwap(_ expected: T, _ desired: T, at offset: Int, in target: Int) throws(MPIError) -> T {
        let span = state.communicator.traceBegin()
        defer { if span != 0 { state.communicator.traceEnd(span, "compareAndSwap", peer: target, tag: -1, bytes: Self.stride) } }
        return try typedErrors {
            var old = expected
            guard try prepare(target, offset: offset, count: 1, "compareAndSwap") else { return old }
            let pair = [expected, desired]
            try pair.withUnsafeBytes { bytes in
                try withUnsafeMutableBytes(of: &old) { result in
                    try state.compareAndSwap(bytes, result: result, in: target, byteOffset: offset * Self.stride, "compareAndSwap")
                }
            }
            return old
        }
    }

    // MARK: - Request-based forms

    /// ``put(_:to:at:)-([T],_,_)`` with a request (MPI_Rput): the values are copied or sent before it
    /// returns, so the request is complete at once (as MPI allows); the data reaches the target at
    /// the next flush, unlock, fence or complete.
    public func rput(_ values: [T], to target: Int, at offset: Int) throws(MPIError) -> Request {
        let span = state.communicator.traceBegin()
        defer { if span != 0 { state.communicator.traceEnd(span, "rput", peer: target, tag: -1, bytes: values.count * Self.stride) } }
        try put(values, to: target, at: offset)
        return try completedRequest(bytes: values.count * Self.stride, "rput")
    }

    /// ``accumulate(_:to:at:op:)-([T],_,_,_)`` with a request (MPI_Raccumulate), complete at once
    /// like ``rput(_:to:at:)``.
    public func raccumulate(_ values: [T], to target: Int, at offset: Int, op: ReduceOperation<T>) throws(MPIError) -> Request {
        let span = state.communicator.traceBegin()
        defer { if span != 0 { state.communicator.traceEnd(span, "raccumulate", peer: target, tag: -1, bytes: values.count * Self.stride) } }
        try accumulate(values, to: target, at: offset, op: op)
        return try completedRequest(bytes: values.count * Self.stride, "raccumulate")
    }

    /// ``get(into:from:at:)-(UnsafeMutableBufferPointer<T>,_,_)`` with a request (MPI_Rget). This
    /// version reads before it returns (the request is complete at once): it does not yet overlap
    /// the read with other work.
    public func rget(into values: UnsafeMutableBufferPointer<T>, from target: Int, at offset: Int) throws(MPIError) -> Request {
        let span = state.communicator.traceBegin()
        defer { if span != 0 { state.communicator.traceEnd(span, "rget", peer: target, tag: -1, bytes: values.count * Self.stride) } }
        try get(into: values, from: target, at: offset)
        return try completedRequest(bytes: values.count * Self.stride, "rget")
    }

    /// ``rget(into:from:at:)-(UnsafeMutableBufferPointer<T>,_,_)`` into an array: `values` holds the
    /// elements when this returns (the request is complete at once), so no buffer outlives the call.
    public func rget(into values: inout [T], from target: Int, at offset: Int) throws(MPIError) -> Request {
        try get(into: &values, from: target, at: offset)
        return try completedRequest(bytes: values.count * Self.stride, "rget")
    }

    private func completedRequest(bytes: Int, _ call: StaticString) throws(MPIError) -> Request {
        try typedErrors {
            try state.runtime.withEngine(call) { engine in
                Request.make(engine, send: nil, status: Status(source: MPI.procNull, tag: MPI.anyTag, byteCount: bytes))
            }
        }
    }

    // MARK: - Synchronization

    /// Ends the previous fence epoch and starts the next (MPI_Win_fence): every one-sided call made on
    /// the window before it, by any rank, is complete at its target when it returns. Collective.
    public func fence() throws(MPIError) {
        let span = state.communicator.traceBegin()
        defer { if span != 0 { state.communicator.traceEnd(span, "fence", peer: nil, tag: -1, bytes: 0) } }
        try typedErrors { try state.fence("fence") }
    }

    /// Starts a passive-target epoch on `target`: waits until this rank holds its lock, exclusively
    /// or shared (MPI_Win_lock). With `noCheck` (MPI_MODE_NOCHECK) the caller promises that no other
    /// rank holds or asks for a conflicting lock meanwhile: no lock is taken, and the epoch needs
    /// nothing from the target.
    public func lock(_ kind: WindowLock, rank target: Int, noCheck: Bool = false) throws(MPIError) {
        let span = state.communicator.traceBegin()
        defer { if span != 0 { state.communicator.traceEnd(span, "lock", peer: target, tag: -1, bytes: 0) } }
        try typedErrors { try state.lock(exclusive: kind == .exclusive, rank: target, noCheck: noCheck, "lock") }
    }

    /// Ends the passive-target epoch on `target` (MPI_Win_unlock): the calls made in it are complete
    /// at the target, and the lock is released.
    public func unlock(rank target: Int) throws(MPIError) {
        let span = state.communicator.traceBegin()
        defer { if span != 0 { state.communicator.traceEnd(span, "unlock", peer: target, tag: -1, bytes: 0) } }
        try typedErrors { try state.unlock(rank: target, "unlock") }
    }

    /// Starts a passive-target epoch on every rank, holding each one's lock shared (MPI_Win_lock_all).
    /// A rank reached by messages or RDMA is locked at the first access to it (one request, granted
    /// when that rank is next inside SwiftMPI). With `noCheck` (MPI_MODE_NOCHECK: no rank holds or
    /// asks for an exclusive lock meanwhile) no lock is taken at all: puts and gets by RDMA then
    /// complete while the targets compute (``path(toRank:)``).
    public func lockAll(noCheck: Bool = false) throws(MPIError) {
        let span = state.communicator.traceBegin()
        defer { if span != 0 { state.communicator.traceEnd(span, "lockAll", peer: nil, tag: -1, bytes: 0) } }
        try typedErrors { try state.lockAll(noCheck: noCheck, "lockAll") }
    }

    /// Ends the epoch of ``lockAll(noCheck:)`` (MPI_Win_unlock_all): every call made in it is complete at its
    /// target.
    public func unlockAll() throws(MPIError) {
        let span = state.communicator.traceBegin()
        defer { if span != 0 { state.communicator.traceEnd(span, "unlockAll", peer: nil, tag: -1, bytes: 0) } }
        try typedErrors { try state.unlockAll("unlockAll") }
    }

    /// Completes, at the target, every call this rank made to `target` so far (MPI_Win_flush).
    public func flush(rank target: Int) throws(MPIError) {
        let span = state.communicator.traceBegin()
        defer { if span != 0 { state.communicator.traceEnd(span, "flush", peer: target, tag: -1, bytes: 0) } }
        if target >= 0 && target < state.size && !state.isFreed && !state.isUnflushed[target] {
            cshims_memory_fence()  // loads and stores to mapped memory: complete once ordered
            return
        }
        try typedErrors {
            try state.checkOpen("flush")
            if target == MPI.procNull { return }
            guard target >= 0 && target < state.size else { throw MPIError(.invalidRank, "flush: rank \(target) is outside 0..<\(state.size)") }
            try state.flush(target, "flush(rank: \(target))")
        }
    }

    /// Completes at the origin every call this rank made to `target` (MPI_Win_flush_local): the
    /// buffers they read from may change. SwiftMPI's calls are complete at the origin when they
    /// return, so this only checks its arguments.
    public func flushLocal(rank target: Int) throws(MPIError) {
        try typedErrors {
            try state.checkOpen("flushLocal")
            guard target == MPI.procNull || (target >= 0 && target < state.size) else {
                throw MPIError(.invalidRank, "flushLocal: rank \(target) is outside 0..<\(state.size)")
            }
        }
    }

    /// ``flushLocal(rank:)`` for every rank (MPI_Win_flush_local_all).
    public func flushLocalAll() throws(MPIError) {
        try typedErrors { try state.checkOpen("flushLocalAll") }
    }

    /// Completes, at their targets, every call this rank made so far (MPI_Win_flush_all).
    public func flushAll() throws(MPIError) {
        let span = state.communicator.traceBegin()
        defer { if span != 0 { state.communicator.traceEnd(span, "flushAll", peer: nil, tag: -1, bytes: 0) } }
        try typedErrors {
            try state.checkOpen("flushAll")
            try state.flushAll("flushAll")
        }
    }

    /// Exposes this rank's window to the ranks of `group` (MPI_Win_post): each may start an access
    /// epoch on it; ``wait()`` ends the exposure once they all completed. Does not block.
    public func post(_ group: Group) throws(MPIError) {
        let span = state.communicator.traceBegin()
        defer { if span != 0 { state.communicator.traceEnd(span, "post", peer: nil, tag: -1, bytes: 0) } }
        try typedErrors { try state.post(try state.windowRanks(group, "post"), "post") }
    }

    /// Starts an access epoch on the ranks of `group` (MPI_Win_start): waits until each has posted.
    public func start(_ group: Group) throws(MPIError) {
        let span = state.communicator.traceBegin()
        defer { if span != 0 { state.communicator.traceEnd(span, "start", peer: nil, tag: -1, bytes: 0) } }
        try typedErrors { try state.start(try state.windowRanks(group, "start"), "start") }
    }

    /// Ends the access epoch of ``start(_:)`` (MPI_Win_complete): the targets' ``wait()`` returns
    /// after every call made in it.
    public func complete() throws(MPIError) {
        let span = state.communicator.traceBegin()
        defer { if span != 0 { state.communicator.traceEnd(span, "complete", peer: nil, tag: -1, bytes: 0) } }
        try typedErrors { try state.complete("complete") }
    }

    /// Ends the exposure of ``post(_:)`` (MPI_Win_wait): waits until every rank of the group completed
    /// its access epoch; their calls are then visible here.
    public func wait() throws(MPIError) {
        let span = state.communicator.traceBegin()
        defer { if span != 0 { state.communicator.traceEnd(span, "wait", peer: nil, tag: -1, bytes: 0) } }
        try typedErrors { try state.wait("wait") }
    }

    /// ``wait()`` without blocking (MPI_Win_test): true, with the exposure ended, when every rank of
    /// the group has completed.
    public func test() throws(MPIError) -> Bool {
        try typedErrors { try state.test("test") }
    }

    /// Ends the window (MPI_Win_free). Collective; every epoch on this rank must be closed. A shared
    /// segment is unmapped, memory SwiftMPI allocated is freed, and memory given to
    /// ``create(exposing:on:info:)`` is the caller's again.
    public func free() throws(MPIError) {
        try typedErrors { try state.free("free") }
    }

    // MARK: - Helpers

    /// Checks an access; false when there is nothing to do (`MPI.procNull`, or no elements).
    private func prepare(_ target: Int, offset: Int, count: Int, _ call: String) throws -> Bool {
        guard count >= 0 else { throw MPIError(.invalidCount, "\(call): a negative count (\(count))") }
        let (byteOffset, overflow) = offset.multipliedReportingOverflow(by: Self.stride)
        return try state.prepareAccess(target, byteOffset: overflow ? Int.max : byteOffset, bytes: count * Self.stride, unit: Self.stride, call)
    }

    func accumulateOperator(_ op: ReduceOperation<T>, _ call: String) throws -> AccumulateOperator {
        guard let code = AccumulateOperator(op) else {
            throw MPIError(.invalidArgument, "\(call): one-sided accumulates take MPI's predefined operators only, not the user operator '\(op.name)'")
        }
        guard state.kernel.supports(code) else {
            throw MPIError(.invalidArgument, "\(call): the operator '\(op.name)' is not defined on \(T.self) elements in a window")
        }
        return code
    }
}

/// How a rank's one-sided calls reach another rank's window memory (``Window/path(toRank:)``): what
/// decides whether they complete while that rank computes outside SwiftMPI.
public enum WindowAccessPath: Sendable, Equatable {
    /// Mapped in this process (this rank, the ranks of its host): every call is loads, stores and
    /// CPU atomics done by the origin; nothing waits for the target.
    case mapped
    /// Read and written by the transport itself (RDMA READ and WRITE over verbs): puts and gets
    /// complete without the target; accumulates, atomics and locks go as messages, applied when the
    /// target is next inside a SwiftMPI call.
    case remoteMemoryAccess
    /// Messages (TCP, another host without RDMA, dynamic windows): the target applies each call when
    /// it is next inside a SwiftMPI call.
    case messages
}
