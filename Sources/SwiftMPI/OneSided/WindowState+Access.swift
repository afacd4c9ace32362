#if canImport(Glibc)
import Glibc
#endif
import SwiftMPITransport

/// The data movement of a window in bytes, shared by ``Window`` and the C interface's windows: each
/// call reaches the target directly (its memory mapped here) or by ``RMARequest`` messages. The
/// caller has checked the access (``prepareAccess(_:byteOffset:bytes:unit:_:)``).
extension WindowState {
    /// Checks an access of `bytes` bytes from `byteOffset` in `target`'s window (errors in units of
    /// `unit` bytes where they divide evenly); false when there is nothing to do (`MPI.procNull`, or
    /// no bytes).
    func prepareAccess(_ target: Int, byteOffset: Int, bytes: Int, unit: Int, _ call: String) throws -> Bool {
        if target == MPI.procNull { return false }
        try checkAccess(target, call)
        guard bytes >= 0 else { throw MPIError(.invalidCount, "\(call): a negative count") }
        if isDynamic {  // addresses in the target: it checks them against its attached regions
            guard byteOffset > 0 else { throw MPIError(.rmaRange, "\(call): address \(byteOffset) is not in any attached region of rank \(target)") }
            return bytes > 0
        }
        guard byteOffset >= 0 && byteOffset <= byteCounts[target] - bytes else {
            let whole = unit > 0 && byteOffset % unit == 0 && bytes % unit == 0 && byteCounts[target] % unit == 0
            let (what, first, end, size) =
                whole
                ? ("elements", byteOffset / unit, (byteOffset &+ bytes) / unit, byteCounts[target] / unit)
                : ("bytes", byteOffset, byteOffset &+ bytes, byteCounts[target])
            throw MPIError(
                .rmaRange, "\(call): \(what) \(first)..<\(end) are outside rank \(target)'s window of \(size) \(size == 1 ? String(what.dropLast()) : what)")
        }
        return bytes > 0
    }

    /// MPI_Win_attach: makes `count` bytes at `start` reachable through this rank's dynamic window.
    func attach(_ start: UnsafeMutableRawPointer?, count: Int, _ call: String) throws {
        try checkOpen(call)
        guard isDynamic else { throw MPIError(.invalidArgument, "\(call): only windows made with createDynamic take attached memory") }
        guard count >= 0 else { throw MPIError(.invalidCount, "\(call): a negative size (\(count) bytes)") }
        guard count > 0, let start else { return }
        let first = Int(bitPattern: start), end = first + count
        if let other = attached.first(where: { $0.start < end && first < $0.end }) {
            throw MPIError(.invalidArgument, "\(call): \(count) bytes at \(start) overlap a region attached already (\(other.end - other.start) bytes)")
        }
        try runtime.withEngine("attach") { _ in
            attached.append((first, end))
            attached.sort { $0.start < $1.start }
        }
    }

    /// MPI_Win_detach: the region attached at `start` is no longer reachable.
    func detach(_ start: UnsafeRawPointer?, _ call: String) throws {
        try checkOpen(call)
        guard isDynamic else { throw MPIError(.invalidArgument, "\(call): only windows made with createDynamic take attached memory") }
        let first = Int(bitPattern: start)
        guard let index = attached.firstIndex(where: { $0.start == first }) else {
            throw MPIError(.invalidArgument, "\(call): no region is attached at \(String(describing: start))")
        }
        try runtime.withEngine("detach") { _ in _ = attached.remove(at: index) }
    }

    /// MPI_Put of `bytes` (at least one) to `target` at `byteOffset`.
    func put(_ bytes: UnsafeRawBufferPointer, to target: Int, byteOffset: Int) throws {
        if let base = memory.direct[target] {
            (base + byteOffset).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            return try serveMessages()
        }
        try lockLazily(target, "put")
        if let remote = remoteAccess?.remote[target] {
            return try remotePut(bytes, to: target, at: RemoteMemory(address: remote.address + UInt64(byteOffset), key: remote.key), "put")
        }
        try runtime.withEngine("put") { engine in sendRequests(.put, bytes, replyInto: nil, to: target, byteOffset: byteOffset, engine: engine) }
    }

    /// MPI_Get into `destination` (at least one byte) from `target` at `byteOffset`.
    func get(into destination: UnsafeMutableRawBufferPointer, from target: Int, byteOffset: Int, _ call: String) throws {
        if let base = memory.direct[target] {
            destination.baseAddress!.copyMemory(from: base + byteOffset, byteCount: destination.count)
            return try serveMessages()
        }
        try lockLazily(target, call)
        if let remote = remoteAccess?.remote[target] {
            let at = RemoteMemory(address: remote.address + UInt64(byteOffset), key: remote.key)
            return try remoteGet(into: destination, from: target, at: at, "\(call)(from: \(target), \(destination.count) bytes)")
        }
        try runtime.withEngine("get") { engine in
            sendRequests(.get, UnsafeRawBufferPointer(destination), replyInto: destination, to: target, byteOffset: byteOffset, engine: engine)
        }
        try awaitReplies("\(call)(from: \(target), \(destination.count) bytes)")
    }

    /// MPI_Accumulate of `bytes` (whole elements of `kernel`) into `target` at `byteOffset`.
    func accumulate(_ bytes: UnsafeRawBufferPointer, to target: Int, byteOffset: Int, op: AccumulateOperator, kernel: AccumulateKernel) throws {
        if let base = memory.direct[target] {
            WindowLockWord.withAccumulateLock(memory.lockWords[target]! + 1) {
                kernel.apply(op, target: base + byteOffset, origin: bytes.baseAddress!, count: bytes.count / kernel.stride)
            }
            return try serveMessages()
        }
        try lockLazily(target, "accumulate")
        try runtime.withEngine("accumulate") { engine in
            sendRequests(
                .accumulate, bytes, replyInto: nil, to: target, byteOffset: byteOffset, flags: kernel.wireFlags(op), unit: kernel.stride, engine: engine)
        }
    }

    /// MPI_Get_accumulate: `result` (as large as `bytes`) receives the target's elements as they were.
    func getAccumulate(
        _ bytes: UnsafeRawBufferPointer, result: UnsafeMutableRawBufferPointer, to target: Int, byteOffset: Int, op: AccumulateOperator,
        kernel: AccumulateKernel, _ call: String
    ) throws {
        if let base = memory.direct[target] {
            WindowLockWord.withAccumulateLock(memory.lockWords[target]! + 1) {
                result.baseAddress!.copyMemory(from: base + byteOffset, byteCount: result.count)
                kernel.apply(op, target: base + byteOffset, origin: bytes.baseAddress!, count: bytes.count / kernel.stride)
            }
            return try serveMessages()
        }
        try lockLazily(target, call)
        try runtime.withEngine("getAccumulate") { engine in
            sendRequests(
                .getAccumulate, bytes, replyInto: result, to: target, byteOffset: byteOffset, flags: kernel.wireFlags(op), unit: kernel.stride,
                engine: engine)
        }
        try awaitReplies("\(call)(to: \(target), \(bytes.count) bytes)")
    }

    /// MPI_Compare_and_swap of one element: `pair` holds the expected element then the desired one;
    /// `result` (one element) receives the target's element as it was.
    func compareAndSwap(_ pair: UnsafeRawBufferPointer, result: UnsafeMutableRawBufferPointer, in target: Int, byteOffset: Int, _ call: String) throws {
        let stride = result.count
        if let base = memory.direct[target] {
            let element = base + byteOffset
            WindowLockWord.withAccumulateLock(memory.lockWords[target]! + 1) {
                result.baseAddress!.copyMemory(from: element, byteCount: stride)
                if memcmp(element, pair.baseAddress!, stride) == 0 { element.copyMemory(from: pair.baseAddress! + stride, byteCount: stride) }
            }
            return try serveMessages()
        }
        try lockLazily(target, call)
        try runtime.withEngine("compareAndSwap") { engine in
            sendCompareAndSwap(pair, replyInto: result, to: target, byteOffset: byteOffset, engine: engine)
        }
        try awaitReplies("\(call)(in: \(target))")
    }
}
