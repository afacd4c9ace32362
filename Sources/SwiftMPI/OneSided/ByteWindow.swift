#if canImport(Glibc)
import Glibc
#endif
import CShims

/// A window addressed in bytes, each rank with its own displacement unit: MPI_Win as the C interface
/// sees it (`CInterface/SwiftMPIC/Windows.swift`). The same ``WindowState`` as ``Window``: the same
/// paths, epochs, checks and wire requests; only the addressing differs.
///
/// Sendable by assertion (`@unchecked`): `state` and `flavor` never change, `state` is changed only
/// with the engine locked, and `name` only by MPI_Win_set_name, which the C interface does under
/// its lock at MPI_THREAD_MULTIPLE.
package final class ByteWindow: @unchecked Sendable {
    let state: WindowState

    /// How the window was made (MPI_WIN_CREATE_FLAVOR).
    package enum Flavor: Sendable {
        case create, allocate, shared, dynamic
    }
    package let flavor: Flavor
    /// MPI_Win_set_name's name.
    package var name = ""

    private init(state: WindowState, flavor: Flavor) {
        self.state = state
        self.flavor = flavor
    }

    /// MPI_Win_create (`exposing` the caller's `bytes`), MPI_Win_allocate, MPI_Win_allocate_shared. Collective.
    package static func make(
        bytes: Int, displacementUnit: Int, flavor: Flavor, exposing: UnsafeMutableRawPointer?, on communicator: Communicator, info: Info = Info(),
        _ call: String
    ) throws(MPIError) -> ByteWindow {
        try typedErrors {
            let placement: WindowState.Placement =
                switch flavor {
                case .create: .exposing(exposing)
                case .allocate: .allocate
                case .shared: .shared
                case .dynamic: .dynamic
                }
            let state = try WindowState.make(
                on: communicator, bytes: bytes, displacementUnit: displacementUnit, kernel: AccumulateKernel(for: UInt8.self), sameUnit: false,
                placement: placement, info: info, call)
            return ByteWindow(state: state, flavor: flavor)
        }
    }

    /// The window hints in effect (MPI_Win_get_info; ``Window/info``).
    package var info: Info { state.reportedHints }

    /// Changes this rank's hints (MPI_Win_set_info; ``Window/setInfo(_:)``).
    package func setInfo(_ info: Info) throws(MPIError) {
        try typedErrors { try state.setHints(info, "MPI_Win_set_info") }
    }

    /// This rank's memory (the caller's for `create`).
    package var base: UnsafeMutableRawPointer { state.base }
    /// This rank's size in bytes and displacement unit.
    package var byteCount: Int { state.byteCounts[state.rank] }
    package var displacementUnit: Int { state.displacementUnits[state.rank] }
    /// The window's ranks.
    package var group: Group { state.communicator.group }
    package var rank: Int { state.rank }
    package var size: Int { state.size }

    /// MPI_Win_shared_query: where `rank`'s part is mapped here, its size and unit. A part that is
    /// empty or not mapped here (another host's, or any other rank's in a window that is not in
    /// shared memory) has no base and size 0, as MPI-4.1 says for every window flavor; nil for a
    /// rank outside the window.
    package func sharedPart(_ rank: Int) -> (base: UnsafeMutableRawPointer?, bytes: Int, unit: Int)? {
        guard rank >= 0 && rank < state.size else { return nil }
        guard let base = state.memory.direct[rank], state.byteCounts[rank] > 0 else { return (nil, 0, state.displacementUnits[rank]) }
        return (base, state.byteCounts[rank], state.displacementUnits[rank])
    }

    /// The byte offset of `displacement` units in `target`'s window (Int.max on overflow, 0 for a bad rank:
    /// ``WindowState/prepareAccess(_:byteOffset:bytes:unit:_:)`` then reports either).
    private func byteOffset(_ target: Int, _ displacement: Int) -> Int {
        guard target >= 0 && target < state.size else { return 0 }
        let (offset, overflow) = displacement.multipliedReportingOverflow(by: state.displacementUnits[target])
        return overflow ? Int.max : offset
    }

    /// Where `bytes` bytes at `displacement` units in `target`'s window are mapped here, when a call
    /// there may complete by loads and stores now (in an epoch, in bounds, and no rank waits on this
    /// one's messages); nil sends the call to the checked path. Throws nothing and retains nothing: the
    /// C interface tries it before anything else.
    @inline(__always)
    package func mappedAddress(_ target: Int, displacement: Int, bytes: Int) -> UnsafeMutableRawPointer? {
        let state = self.state
        guard target >= 0 && target < state.size, let base = state.memory.direct[target], !state.servesMessages else { return nil }
        let (offset, overflow) = displacement.multipliedReportingOverflow(by: state.displacementUnits[target])
        guard !overflow && state.allows(target, byteOffset: offset, bytes: bytes) else { return nil }
        return base + offset
    }

    /// MPI_Fetch_and_op of one element on memory mapped here, under the target's accumulate word;
    /// false (nothing done) sends the call to the checked path. `origin` is not read for `.noOp`.
    @inline(__always)
    package func mappedFetchAndOp(
        _ origin: UnsafeRawPointer, result: UnsafeMutableRawPointer, target: Int, displacement: Int, op: AccumulateOperator, kernel: AccumulateKernel
    ) -> Bool {
        guard let address = mappedAddress(target, displacement: displacement, bytes: kernel.stride), let word = state.memory.lockWords[target] else {
            return false
        }
        WindowLockWord.withAccumulateLock(word + 1) {
            result.copyMemory(from: address, byteCount: kernel.stride)
            kernel.apply(op, target: address, origin: origin, count: 1)
        }
        return true
    }

    /// MPI_Accumulate of `count` contiguous elements on memory mapped here, under the target's
    /// accumulate word; false (nothing done) sends the call to the checked path.
    @inline(__always)
    package func mappedAccumulate(
        _ origin: UnsafeRawPointer, count: Int, target: Int, displacement: Int, op: AccumulateOperator, kernel: AccumulateKernel
    ) -> Bool {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: kernel.stride)
        guard !overflow, let address = mappedAddress(target, displacement: displacement, bytes: bytes), let word = state.memory.lockWords[target] else {
            return false
        }
        WindowLockWord.withAccumulateLock(word + 1) { kernel.apply(op, target: address, origin: origin, count: count) }
        return true
    }

    /// MPI_Compare_and_swap of one `bytes`-byte element on memory mapped here; false (nothing done)
    /// sends the call to the checked path.
    @inline(__always)
    package func mappedCompareAndSwap(
        desired: UnsafeRawPointer, expected: UnsafeRawPointer, result: UnsafeMutableRawPointer, target: Int, displacement: Int, bytes: Int
    ) -> Bool {
        guard let element = mappedAddress(target, displacement: displacement, bytes: bytes), let word = state.memory.lockWords[target] else {
            return false
        }
        WindowLockWord.withAccumulateLock(word + 1) {
            result.copyMemory(from: element, byteCount: bytes)
            if memcmp(element, expected, bytes) == 0 { element.copyMemory(from: desired, byteCount: bytes) }
        }
        return true
    }

    /// MPI_Put of contiguous bytes.
    @inline(__always)
    package func put(_ bytes: UnsafeRawBufferPointer, to target: Int, displacement: Int, _ call: StaticString) throws(MPIError) {
        let state = self.state
        if target >= 0 && target < state.size, let base = state.memory.direct[target] {
            let (offset, overflow) = displacement.multipliedReportingOverflow(by: state.displacementUnits[target])
            if !overflow && state.allows(target, byteOffset: offset, bytes: bytes.count) {
                (base + offset).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)  // the fast path: mapped memory
                if state.servesMessages { try typedErrors { try state.serveMessages() } }
                return
            }
        }
        try typedErrors {
            let offset = byteOffset(target, displacement)
            guard try state.prepareAccess(target, byteOffset: offset, bytes: bytes.count, unit: 1, "\(call)") else { return }
            try state.put(bytes, to: target, byteOffset: offset)
        }
    }

    /// MPI_Get into contiguous bytes.
    @inline(__always)
    package func get(into bytes: UnsafeMutableRawBufferPointer, from target: Int, displacement: Int, _ call: StaticString) throws(MPIError) {
        let state = self.state
        if target >= 0 && target < state.size, let base = state.memory.direct[target] {
            let (offset, overflow) = displacement.multipliedReportingOverflow(by: state.displacementUnits[target])
            if !overflow && state.allows(target, byteOffset: offset, bytes: bytes.count) {
                bytes.baseAddress!.copyMemory(from: base + offset, byteCount: bytes.count)
                if state.servesMessages { try typedErrors { try state.serveMessages() } }
                return
            }
        }
        try typedErrors {
            let offset = byteOffset(target, displacement)
            guard try state.prepareAccess(target, byteOffset: offset, bytes: bytes.count, unit: 1, "\(call)") else { return }
            try state.get(into: bytes, from: target, byteOffset: offset, "\(call)")
        }
    }

    /// MPI_Put into a non-contiguous target layout: `packed` holds the data of `targetCount`
    /// instances of `targetDatatype` laid at `displacement` (``WindowState/targetRuns(_:count:target:byteOffset:unit:aligned:_:)``).
    package func put(
        packed: UnsafeRawBufferPointer, to target: Int, displacement: Int, targetCount: Int, targetDatatype: Datatype, _ call: String
    ) throws(MPIError) {
        try typedErrors {
            let runs = try state.targetRuns(targetDatatype, count: targetCount, target: target, byteOffset: byteOffset(target, displacement), unit: 1, call)
            try state.put(packed: packed, runs: runs, to: target)
        }
    }

    /// MPI_Get from a non-contiguous target layout into `packed` (the data in type-map order).
    package func get(
        packed: UnsafeMutableRawBufferPointer, from target: Int, displacement: Int, targetCount: Int, targetDatatype: Datatype, _ call: String
    ) throws(MPIError) {
        try typedErrors {
            let runs = try state.targetRuns(targetDatatype, count: targetCount, target: target, byteOffset: byteOffset(target, displacement), unit: 1, call)
            try state.get(packed: packed, runs: runs, from: target, call)
        }
    }

    /// MPI_Accumulate into a non-contiguous target layout: `packed` holds the elements of
    /// `targetCount` instances of `targetDatatype` laid at `displacement`, whose runs must hold whole
    /// elements of `kernel`'s type (`.invalidDatatype` otherwise).
    package func accumulate(
        packed: UnsafeRawBufferPointer, to target: Int, displacement: Int, targetCount: Int, targetDatatype: Datatype, op: AccumulateOperator,
        kernel: AccumulateKernel, _ call: String
    ) throws(MPIError) {
        try typedErrors {
            let runs = try state.targetRuns(
                targetDatatype, count: targetCount, target: target, byteOffset: byteOffset(target, displacement), unit: kernel.stride, call)
            try state.accumulate(packed: packed, runs: runs, to: target, op: op, kernel: kernel)
        }
    }

    /// MPI_Get_accumulate from and into a non-contiguous target layout: `result`, as long as
    /// `packed`, receives the elements as they were, in type-map order.
    package func getAccumulate(
        packed: UnsafeRawBufferPointer, result: UnsafeMutableRawBufferPointer, to target: Int, displacement: Int, targetCount: Int,
        targetDatatype: Datatype, op: AccumulateOperator, kernel: AccumulateKernel, _ call: String
    ) throws(MPIError) {
        try typedErrors {
            let runs = try state.targetRuns(
                targetDatatype, count: targetCount, target: target, byteOffset: byteOffset(target, displacement), unit: kernel.stride, call)
            try state.getAccumulate(packed: packed, result: result, runs: runs, to: target, op: op, kernel: kernel, call)
        }
    }

    /// MPI_Accumulate of contiguous elements of `kernel`'s type.
    package func accumulate(
        _ bytes: UnsafeRawBufferPointer, to target: Int, displacement: Int, op: AccumulateOperator, kernel: AccumulateKernel, _ call: String
    ) throws(MPIError) {
        try typedErrors {
            let offset = byteOffset(target, displacement)
            guard try state.prepareAccess(target, byteOffset: offset, bytes: bytes.count, unit: 1, call) else { return }
            try state.accumulate(bytes, to: target, byteOffset: offset, op: op, kernel: kernel)
        }
    }

    /// MPI_Get_accumulate (and MPI_Fetch_and_op): `result` as large as `bytes`.
    package func getAccumulate(
        _ bytes: UnsafeRawBufferPointer, result: UnsafeMutableRawBufferPointer, to target: Int, displacement: Int, op: AccumulateOperator,
        kernel: AccumulateKernel, _ call: String
    ) throws(MPIError) {
        try typedErrors {
            let offset = byteOffset(target, displacement)
            guard try state.prepareAccess(target, byteOffset: offset, bytes: result.count, unit: 1, call) else { return }
            try state.getAccumulate(bytes, result: result, to: target, byteOffset: offset, op: op, kernel: kernel, call)
        }
    }

    /// MPI_Compare_and_swap: `pair` is the expected element then the desired one; `result` one element.
    package func compareAndSwap(
        _ pair: UnsafeRawBufferPointer, result: UnsafeMutableRawBufferPointer, in target: Int, displacement: Int, _ call: String
    ) throws(MPIError) {
        try typedErrors {
            let offset = byteOffset(target, displacement)
            guard try state.prepareAccess(target, byteOffset: offset, bytes: result.count, unit: 1, call) else { return }
            try state.compareAndSwap(pair, result: result, in: target, byteOffset: offset, call)
        }
    }

    /// MPI_Win_fence. Collective; `noSucceed`: MPI_MODE_NOSUCCEED (no fence epoch follows).
    package func fence(noSucceed: Bool) throws(MPIError) { try typedErrors { try state.fence(noSucceed: noSucceed, "MPI_Win_fence") } }
    /// MPI_Win_lock.
    package func lock(exclusive: Bool, rank: Int, noCheck: Bool = false) throws(MPIError) {
        try typedErrors { try state.lock(exclusive: exclusive, rank: rank, noCheck: noCheck, "MPI_Win_lock") }
    }
    /// MPI_Win_unlock.
    package func unlock(rank: Int) throws(MPIError) { try typedErrors { try state.unlock(rank: rank, "MPI_Win_unlock") } }
    /// MPI_Win_lock_all.
    package func lockAll(noCheck: Bool = false) throws(MPIError) { try typedErrors { try state.lockAll(noCheck: noCheck, "MPI_Win_lock_all") } }
    /// MPI_Win_unlock_all.
    package func unlockAll() throws(MPIError) { try typedErrors { try state.unlockAll("MPI_Win_unlock_all") } }
    /// MPI_Win_flush (MPI_PROC_NULL: nothing).
    @inline(__always)
    package func flush(rank: Int) throws(MPIError) {
        let state = self.state
        if rank >= 0 && rank < state.size && !state.isFreed && !state.isUnflushed[rank] {
            cshims_memory_fence()  // nothing sent by messages: loads and stores are complete once ordered
            return
        }
        try typedErrors {
            try state.checkOpen("MPI_Win_flush")
            if rank == MPI.procNull { return }
            guard rank >= 0 && rank < state.size else { throw MPIError(.invalidRank, "MPI_Win_flush: rank \(rank) is outside 0..<\(state.size)") }
            try state.flush(rank, "MPI_Win_flush")
        }
    }
    /// MPI_Win_attach (dynamic windows).
    package func attach(_ start: UnsafeMutableRawPointer?, count: Int) throws(MPIError) {
        try typedErrors { try state.attach(start, count: count, "MPI_Win_attach") }
    }
    /// MPI_Win_detach.
    package func detach(_ start: UnsafeRawPointer?) throws(MPIError) { try typedErrors { try state.detach(start, "MPI_Win_detach") } }
    /// MPI_Win_sync: a memory fence (the memory model is unified).
    package func sync() { cshims_memory_fence() }
    /// MPI_Win_flush_all.
    package func flushAll() throws(MPIError) { try typedErrors { try state.flushAll("MPI_Win_flush_all") } }
    /// MPI_Win_post.
    package func post(_ group: Group) throws(MPIError) { try typedErrors { try state.post(try state.windowRanks(group, "MPI_Win_post"), "MPI_Win_post") } }
    /// MPI_Win_start.
    package func start(_ group: Group) throws(MPIError) {
        try typedErrors { try state.start(try state.windowRanks(group, "MPI_Win_start"), "MPI_Win_start") }
    }
    /// MPI_Win_complete.
    package func complete() throws(MPIError) { try typedErrors { try state.complete("MPI_Win_complete") } }
    /// MPI_Win_wait.
    package func wait() throws(MPIError) { try typedErrors { try state.wait("MPI_Win_wait") } }
    /// MPI_Win_test.
    package func test() throws(MPIError) -> Bool { try typedErrors { try state.test("MPI_Win_test") } }
    /// MPI_Win_free. Collective.
    package func free() throws(MPIError) { try typedErrors { try state.free("MPI_Win_free") } }
    /// True once freed.
    package var isFreed: Bool { state.isFreed }
}
