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
/// after ``fence()``, between ``lock(_:rank:)`` and ``unlock(rank:)``, between ``lockAll()`` and
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
/// ``create(exposing:on:)`` window, whose memory is the caller's) are reached with active messages
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
public final class Window<T: BitwiseCopyable>: @unchecked Sendable {
    let state: WindowState

    private init(state: WindowState) { self.state = state }

    private static var stride: Int { MemoryLayout<T>.stride }

    // MARK: - Creation

    /// A window of `count` zero-filled elements on every rank, allocated by SwiftMPI
    /// (MPI_Win_allocate): ranks on one host share it in memory, so one-sided calls between them are
    /// loads and stores. Collective; `count` may differ between ranks.
    public static func allocate(count: Int, on communicator: Communicator) throws(MPIError) -> Window {
        try make(count: count, on: communicator, placement: .allocate, "Window.allocate")
    }

    /// A window in one shared segment of the host (MPI_Win_allocate_shared): rank `r`'s part follows
    /// rank `r - 1`'s with no gap, and every rank reaches every part with
    /// ``localMemory(ofRank:)``. Collective; every rank of `communicator` must share memory with the
    /// others (use `communicator.splitType(.shared)`), else every rank throws `.invalidArgument`.
    public static func allocateShared(count: Int, on communicator: Communicator) throws(MPIError) -> Window {
        try make(count: count, on: communicator, placement: .shared, "Window.allocateShared")
    }

    /// A window over memory the caller owns (MPI_Win_create). The buffer must stay allocated, and
    /// must not be deallocated or moved, until ``free()`` returns; other ranks reach it through
    /// messages that this rank serves whenever it is inside a SwiftMPI call. Collective.
    public static func create(exposing buffer: UnsafeMutableBufferPointer<T>, on communicator: Communicator) throws(MPIError) -> Window {
        try make(count: buffer.count, on: communicator, placement: .exposing(buffer.baseAddress.map(UnsafeMutableRawPointer.init)), "Window.create")
    }

    private static func make(count: Int, on communicator: Communicator, placement: WindowState.Placement, _ call: String) throws(MPIError) -> Window {
        try communicator.typedErrors {
            let bytes = count < 0 ? -1 : count * stride
            return Window(state: try WindowState.make(on: communicator, bytes: bytes, kernel: AccumulateKernel(for: T.self), placement: placement, call))
        }
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
        try state.communicator.typedErrors {
            guard try prepare(target, offset: offset, count: values.count, "put") else { return }
            let bytes = UnsafeRawBufferPointer(values)
            if let base = state.memory.direct[target] {
                (base + offset * Self.stride).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
                return try state.serveMessages()
            }
            try state.runtime.withEngine("put") { engine in
                state.sendRequests(.put, bytes, replyInto: nil, to: target, byteOffset: offset * Self.stride, engine: engine)
            }
        }
    }

    /// Writes `values` into `target`'s window from element `offset` (MPI_Put).
    public func put(_ values: [T], to target: Int, at offset: Int) throws(MPIError) {
        try values.withUnsafeBufferPointer { (buffer) throws(MPIError) in try put(buffer, to: target, at: offset) }
    }

    /// Reads `values.count` elements of `target`'s window from element `offset` into `values` (MPI_Get).
    public func get(into values: UnsafeMutableBufferPointer<T>, from target: Int, at offset: Int) throws(MPIError) {
        try state.communicator.typedErrors {
            guard try prepare(target, offset: offset, count: values.count, "get") else { return }
            let bytes = UnsafeMutableRawBufferPointer(values)
            if let base = state.memory.direct[target] {
                bytes.baseAddress!.copyMemory(from: base + offset * Self.stride, byteCount: bytes.count)
                return try state.serveMessages()
            }
            try state.runtime.withEngine("get") { engine in
                state.sendRequests(.get, UnsafeRawBufferPointer(bytes), replyInto: bytes, to: target, byteOffset: offset * Self.stride, engine: engine)
            }
            try state.awaitReplies("get(from: \(target), \(bytes.count) bytes)")
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
        try state.communicator.typedErrors {
            let code = try accumulateOperator(op, "accumulate")
            guard try prepare(target, offset: offset, count: values.count, "accumulate") else { return }
            let bytes = UnsafeRawBufferPointer(values)
            if let base = state.memory.direct[target] {
                WindowLockWord.withAccumulateLock(state.memory.lockWords[target]! + 1) {
                    state.kernel.apply(code, target: base + offset * Self.stride, origin: bytes.baseAddress!, count: values.count)
                }
                return try state.serveMessages()
            }
            try state.runtime.withEngine("accumulate") { engine in
                state.sendRequests(.accumulate, bytes, replyInto: nil, to: target, byteOffset: offset * Self.stride, flags: code.rawValue, engine: engine)
            }
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
        try state.communicator.typedErrors {
            let code = try accumulateOperator(op, "getAccumulate")
            var result = values  // same size; overwritten with the old elements
            guard try prepare(target, offset: offset, count: values.count, "getAccumulate") else { return result }
            try values.withUnsafeBytes { bytes in
                try result.withUnsafeMutableBytes { old in
                    if let base = state.memory.direct[target] {
                        WindowLockWord.withAccumulateLock(state.memory.lockWords[target]! + 1) {
                            old.baseAddress!.copyMemory(from: base + offset * Self.stride, byteCount: old.count)
                            state.kernel.apply(code, target: base + offset * Self.stride, origin: bytes.baseAddress!, count: values.count)
                        }
                        return try state.serveMessages()
                    }
                    try state.runtime.withEngine("getAccumulate") { engine in
                        state.sendRequests(
                            .getAccumulate, bytes, replyInto: old, to: target, byteOffset: offset * Self.stride, flags: code.rawValue, engine: engine)
                    }
                    try state.awaitReplies("getAccumulate(to: \(target), \(bytes.count) bytes)")
                }
            }
            return result
        }
    }

    /// Combines `value` into element `offset` of `target`'s window with `op` and returns the element
    /// as it was, atomically (MPI_Fetch_and_op).
    public func fetchAndOp(_ value: T, to target: Int, at offset: Int, op: ReduceOperation<T>) throws(MPIError) -> T {
        try getAccumulate([value], to: target, at: offset, op: op)[0]
    }

    /// Replaces element `offset` of `target`'s window by `desired` if its bytes equal `expected`'s,
    /// atomically, and returns the element as it was (MPI_Compare_and_swap; it was replaced when the
    /// result equals `expected`).
    public func compareAndSwap(_ expected: T, _ desired: T, at offset: Int, in target: Int) throws(MPIError) -> T {
        try state.communicator.typedErrors {
            var old = expected
            guard try prepare(target, offset: offset, count: 1, "compareAndSwap") else { return old }
            let pair = [expected, desired]
            try pair.withUnsafeBytes { bytes in
                try withUnsafeMutableBytes(of: &old) { result in
                    if let base = state.memory.direct[target] {
                        let element = base + offset * Self.stride
                        WindowLockWord.withAccumulateLock(state.memory.lockWords[target]! + 1) {
                            result.baseAddress!.copyMemory(from: element, byteCount: Self.stride)
                            if memcmp(element, bytes.baseAddress!, Self.stride) == 0 {
                                element.copyMemory(from: bytes.baseAddress! + Self.stride, byteCount: Self.stride)
                            }
                        }
                        return try state.serveMessages()
                    }
                    try state.runtime.withEngine("compareAndSwap") { engine in
                        state.sendCompareAndSwap(bytes, replyInto: result, to: target, byteOffset: offset * Self.stride, engine: engine)
                    }
                    try state.awaitReplies("compareAndSwap(in: \(target))")
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
        try put(values, to: target, at: offset)
        return try completedRequest(bytes: values.count * Self.stride, "rput")
    }

    /// ``accumulate(_:to:at:op:)-([T],_,_,_)`` with a request (MPI_Raccumulate), complete at once
    /// like ``rput(_:to:at:)``.
    public func raccumulate(_ values: [T], to target: Int, at offset: Int, op: ReduceOperation<T>) throws(MPIError) -> Request {
        try accumulate(values, to: target, at: offset, op: op)
        return try completedRequest(bytes: values.count * Self.stride, "raccumulate")
    }

    /// ``get(into:from:at:)-(UnsafeMutableBufferPointer<T>,_,_)`` with a request (MPI_Rget). This
    /// version reads before it returns (the request is complete at once): it does not yet overlap
    /// the read with other work.
    public func rget(into values: UnsafeMutableBufferPointer<T>, from target: Int, at offset: Int) throws(MPIError) -> Request {
        try get(into: values, from: target, at: offset)
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
        try state.communicator.typedErrors {
            try state.checkOpen("fence")
            guard state.locks.isEmpty && !state.lockedAll && state.accessGroup == nil && state.exposureGroup == nil else {
                throw MPIError(.rmaSynchronization, "fence: a lock, lockAll, start or post epoch is still open on this rank")
            }
            try state.flushAll("fence")
            try state.communicator.barrier()
            cshims_memory_fence()
            state.fenceOpen = true
        }
    }

    /// Starts a passive-target epoch on `target`: waits until this rank holds its lock, exclusively
    /// or shared (MPI_Win_lock).
    public func lock(_ kind: WindowLock, rank target: Int) throws(MPIError) {
        try state.communicator.typedErrors {
            try state.checkOpen("lock")
            if target == MPI.procNull { return }
            guard target >= 0 && target < state.size else { throw MPIError(.invalidRank, "lock: rank \(target) is outside 0..<\(state.size)") }
            guard state.locks[target] == nil && !state.lockedAll else {
                throw MPIError(.rmaSynchronization, "lock: this rank already holds rank \(target)'s lock (unlock it first)")
            }
            let exclusive = kind == .exclusive
            if let word = state.memory.lockWords[target] {
                try state.runtime.wait("Window.lock", "(rank: \(target))") { _ in WindowLockWord.tryAcquire(word, exclusive: exclusive) }
            } else {
                try state.runtime.withEngine("lock") { engine in state.sendControl(.lock, to: target, flags: exclusive ? 1 : 0, engine: engine) }
                try state.awaitReplies("lock(rank: \(target))")
            }
            state.locks[target] = kind
        }
    }

    /// Ends the passive-target epoch on `target` (MPI_Win_unlock): the calls made in it are complete
    /// at the target, and the lock is released.
    public func unlock(rank target: Int) throws(MPIError) {
        try state.communicator.typedErrors {
            try state.checkOpen("unlock")
            if target == MPI.procNull { return }
            guard target >= 0 && target < state.size, let kind = state.locks[target] else {
                throw MPIError(.rmaSynchronization, "unlock: this rank does not hold rank \(target)'s lock")
            }
            try release(target, exclusive: kind == .exclusive, "unlock(rank: \(target))")
            state.locks[target] = nil
        }
    }

    private func release(_ target: Int, exclusive: Bool, _ call: String) throws {
        if let word = state.memory.lockWords[target] {
            cshims_memory_fence()
            WindowLockWord.release(word, exclusive: exclusive)
            return
        }
        try state.runtime.withEngine("unlock") { engine in
            state.sendControl(.unlock, to: target, engine: engine)
            if state.isUnflushed[target] {
                state.isUnflushed[target] = false
                state.unflushed.removeAll { $0 == target }
            }
        }
        try state.awaitReplies(call)
    }

    /// Starts a passive-target epoch on every rank, holding each one's lock shared (MPI_Win_lock_all).
    public func lockAll() throws(MPIError) {
        try state.communicator.typedErrors {
            try state.checkOpen("lockAll")
            guard state.locks.isEmpty && !state.lockedAll else {
                throw MPIError(.rmaSynchronization, "lockAll: this rank already holds a lock on the window")
            }
            try state.runtime.withEngine("lockAll") { engine in
                for target in 0..<state.size where state.memory.lockWords[target] == nil {
                    state.sendControl(.lock, to: target, flags: 0, engine: engine)
                }
            }
            for target in 0..<state.size {
                if let word = state.memory.lockWords[target] {
                    try state.runtime.wait("Window.lockAll", "(rank: \(target))") { _ in WindowLockWord.tryAcquire(word, exclusive: false) }
                }
            }
            try state.awaitReplies("lockAll")
            state.lockedAll = true
        }
    }

    /// Ends the epoch of ``lockAll()`` (MPI_Win_unlock_all): every call made in it is complete at its
    /// target.
    public func unlockAll() throws(MPIError) {
        try state.communicator.typedErrors {
            try state.checkOpen("unlockAll")
            guard state.lockedAll else { throw MPIError(.rmaSynchronization, "unlockAll: no lockAll() epoch is open on this rank") }
            cshims_memory_fence()
            try state.runtime.withEngine("unlockAll") { engine in
                for target in 0..<state.size {
                    if let word = state.memory.lockWords[target] {
                        WindowLockWord.release(word, exclusive: false)
                    } else {
                        state.sendControl(.unlock, to: target, engine: engine)
                        state.isUnflushed[target] = false
                    }
                }
                state.unflushed.removeAll()
            }
            try state.awaitReplies("unlockAll")
            state.lockedAll = false
        }
    }

    /// Completes, at the target, every call this rank made to `target` so far (MPI_Win_flush).
    public func flush(rank target: Int) throws(MPIError) {
        try state.communicator.typedErrors {
            try state.checkOpen("flush")
            if target == MPI.procNull { return }
            guard target >= 0 && target < state.size else { throw MPIError(.invalidRank, "flush: rank \(target) is outside 0..<\(state.size)") }
            try state.flush(target, "flush(rank: \(target))")
        }
    }

    /// Completes, at their targets, every call this rank made so far (MPI_Win_flush_all).
    public func flushAll() throws(MPIError) {
        try state.communicator.typedErrors {
            try state.checkOpen("flushAll")
            try state.flushAll("flushAll")
        }
    }

    /// Exposes this rank's window to the ranks of `group` (MPI_Win_post): each may start an access
    /// epoch on it; ``wait()`` ends the exposure once they all completed. Does not block.
    public func post(_ group: Group) throws(MPIError) {
        try state.communicator.typedErrors {
            try state.checkOpen("post")
            guard state.exposureGroup == nil else { throw MPIError(.rmaSynchronization, "post: an exposure epoch is open already (wait first)") }
            let ranks = try windowRanks(group, "post")
            cshims_memory_fence()
            try state.runtime.withEngine("post") { engine in
                for origin in ranks {
                    if origin == state.rank { state.postsReceived[origin] += 1 } else { state.sendControl(.post, to: origin, engine: engine) }
                }
            }
            state.exposureGroup = ranks
        }
    }

    /// Starts an access epoch on the ranks of `group` (MPI_Win_start): waits until each has posted.
    public func start(_ group: Group) throws(MPIError) {
        try state.communicator.typedErrors {
            try state.checkOpen("start")
            guard state.accessGroup == nil else { throw MPIError(.rmaSynchronization, "start: an access epoch is open already (complete first)") }
            let ranks = try windowRanks(group, "start")
            try state.runtime.wait("Window.start", "(\(ranks.count) ranks)") { _ in ranks.allSatisfy { self.state.postsReceived[$0] > 0 } }
            for target in ranks { state.postsReceived[target] -= 1 }
            cshims_memory_fence()
            state.accessGroup = ranks
            state.accessSet = Set(ranks)
        }
    }

    /// Ends the access epoch of ``start(_:)`` (MPI_Win_complete): the targets' ``wait()`` returns
    /// after every call made in it.
    public func complete() throws(MPIError) {
        try state.communicator.typedErrors {
            try state.checkOpen("complete")
            guard let ranks = state.accessGroup else { throw MPIError(.rmaSynchronization, "complete: no start() epoch is open on this rank") }
            cshims_memory_fence()
            try state.runtime.withEngine("complete") { engine in
                for target in ranks {
                    if target == state.rank {
                        state.completesReceived[target] += 1
                    } else {
                        state.sendControl(.complete, to: target, engine: engine)  // after the target's requests
                        if state.isUnflushed[target] {
                            state.isUnflushed[target] = false
                            state.unflushed.removeAll { $0 == target }
                        }
                    }
                }
            }
            state.accessGroup = nil
            state.accessSet = []
        }
    }

    /// Ends the exposure of ``post(_:)`` (MPI_Win_wait): waits until every rank of the group completed
    /// its access epoch; their calls are then visible here.
    public func wait() throws(MPIError) {
        try state.communicator.typedErrors {
            try state.checkOpen("wait")
            guard let ranks = state.exposureGroup else { throw MPIError(.rmaSynchronization, "wait: no post() exposure is open on this rank") }
            try state.runtime.wait("Window.wait", "(\(ranks.count) ranks)") { _ in ranks.allSatisfy { self.state.completesReceived[$0] > 0 } }
            for origin in ranks { state.completesReceived[origin] -= 1 }
            cshims_memory_fence()
            state.exposureGroup = nil
        }
    }

    /// ``wait()`` without blocking (MPI_Win_test): true, with the exposure ended, when every rank of
    /// the group has completed.
    public func test() throws(MPIError) -> Bool {
        try state.communicator.typedErrors {
            try state.checkOpen("test")
            guard let ranks = state.exposureGroup else { throw MPIError(.rmaSynchronization, "test: no post() exposure is open on this rank") }
            try state.runtime.withEngine("test") { engine in _ = engine.progress() }
            guard ranks.allSatisfy({ state.completesReceived[$0] > 0 }) else { return false }
            for origin in ranks { state.completesReceived[origin] -= 1 }
            cshims_memory_fence()
            state.exposureGroup = nil
            return true
        }
    }

    /// Ends the window (MPI_Win_free). Collective; every epoch on this rank must be closed. A shared
    /// segment is unmapped, memory SwiftMPI allocated is freed, and memory given to
    /// ``create(exposing:on:)`` is the caller's again.
    public func free() throws(MPIError) {
        try state.communicator.typedErrors { try state.free("free") }
    }

    // MARK: - Helpers

    /// Checks an access; false when there is nothing to do (`MPI.procNull`, or no elements).
    private func prepare(_ target: Int, offset: Int, count: Int, _ call: String) throws -> Bool {
        if target == MPI.procNull { return false }
        try state.checkAccess(target, call)
        try state.checkRange(target, offset: offset, count: count, call)
        return count > 0
    }

    private func accumulateOperator(_ op: ReduceOperation<T>, _ call: String) throws -> AccumulateOperator {
        guard let code = AccumulateOperator(op) else {
            throw MPIError(.invalidArgument, "\(call): one-sided accumulates take MPI's predefined operators only, not the user operator '\(op.name)'")
        }
        guard state.kernel.supports(code) else {
            throw MPIError(.invalidArgument, "\(call): the operator '\(op.name)' is not defined on \(T.self) elements in a window")
        }
        return code
    }

    /// `group`'s ranks as ranks of the window; every member must be one.
    private func windowRanks(_ group: Group, _ call: String) throws -> [Int] {
        try group.translateRanks(Array(0..<group.size), to: state.communicator.group).enumerated().map { index, rank in
            guard let rank else { throw MPIError(.invalidRank, "\(call): rank \(index) of the group is not a rank of the window") }
            return rank
        }
    }
}
