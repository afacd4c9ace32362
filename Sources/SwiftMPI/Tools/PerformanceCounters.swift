import SwiftMPIWireup

/// The counts behind SwiftMPI's performance variables (``MPI/PerformanceVariable``), one set per
/// process, alive for the whole program (handles may be made before `MPI.initialize()` and read
/// after `MPI.finalize()`).
///
/// Messages and bytes per transport are counted only while some handle to one of them is started:
/// the engine then holds ``Engine/counters`` and adds two numbers per message; otherwise it pays one
/// load and branch. The other counts (rendezvous sends, unexpected arrivals, the unexpected queue's
/// high-water mark, shared-copy chunks) sit on paths that are slow anyway and are always kept.
///
/// @unchecked: the engine writes the counts only from inside SwiftMPI's calls (under the engine lock at
/// `.multiple`, else from the one thread MPI allows in); a tool's read is the one unsynchronized access
/// — whole aligned 64-bit words, which MPI_T allows to be stale (`atomic` is false) — and the storage
/// is never freed (one instance for the process).
final class PerformanceCounters: @unchecked Sendable {
    /// The process's counters. (Reads from tools are not synchronized with the engine: a read
    /// while another thread sends may miss that message; MPI_T's `atomic` is false for all.)
    static let shared = PerformanceCounters()

    /// Per transport, in ``ToolVariables/countedTransports`` order.
    let messages = UnsafeMutablePointer<UInt64>.allocate(capacity: 4)
    let bytes = UnsafeMutablePointer<UInt64>.allocate(capacity: 4)
    @exclusivity(unchecked) var rendezvousSends: UInt64 = 0
    @exclusivity(unchecked) var unexpectedArrivals: UInt64 = 0
    @exclusivity(unchecked) var unexpectedHighWater: UInt64 = 0
    @exclusivity(unchecked) var sharedCopyChunksRead: UInt64 = 0
    @exclusivity(unchecked) var sharedCopyChunksWritten: UInt64 = 0
    /// Started handles of per-transport counters: while above 0 the engine counts.
    @exclusivity(unchecked) var startedTransportHandles = 0

    private init() {
        messages.initialize(repeating: 0, count: 4)
        bytes.initialize(repeating: 0, count: 4)
    }

    /// A message of `count` bytes sent over `route`.
    @inline(__always)
    func sent(_ count: Int, over route: Routes.Route) {
        let index: Int =
            switch route {
            case .own, .loopback: 0
            case .sharedMemory: 1
            case .tcp: 2
            case .verbs: 3
            }
        messages[index] &+= 1
        bytes[index] &+= UInt64(truncatingIfNeeded: count)
    }

    /// A message queued as unexpected; `length` is the queue's length now.
    @inline(__always)
    func queuedUnexpected(length: Int) {
        unexpectedArrivals &+= 1
        if UInt64(length) > unexpectedHighWater { unexpectedHighWater = UInt64(length) }
    }
}
