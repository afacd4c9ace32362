import CShims
import SwiftMPITransport

/// A large message between two ranks of one host, copied by both ranks at once.
///
/// With Cross Memory Attach alone, the receiver copies a rendezvous message (process_vm_readv)
/// while its sender only waits for the acknowledgement. From ``threshold`` bytes up the receiver
/// instead cuts the message into chunks, arms a descriptor on its segment's copy board and tells the
/// sender (a `share` packet); from then on both claim chunks with an atomic compare-and-swap — the
/// receiver reads its chunks from the sender's memory, the sender writes its chunks into the
/// receiver's buffer (process_vm_writev) — so two cores copy one message. (A C model on these VMs:
/// 256 KiB–4 MiB from ~11–13 GB/s to ~24–26 GB/s.) The sender helps only when it finds nothing else
/// to do: a rank busy with its own traffic (bi-directional bandwidth) would only pull the receiver's
/// buffer into its own cache.
///
/// The receiver never depends on its sender: it claims every chunk the sender has not claimed, and
/// the receive completes once every claimed chunk is finished; then the descriptor is re-armed with
/// a new generation for the next message, so a sender that arrives late claims nothing. A chunk the
/// sender claimed but could not write is marked, and the receiver copies it.
///
/// ```
/// descriptor (64 bytes, in the receiver's segment)
///   claim   u64   generation << 32 | next unclaimed chunk
///   done    u64   chunks finished, by either rank
///   failed  u64   0, or 1 + the chunk the sender claimed but could not write
///   layout  4 × i64   for a datatype message (the share packet says so): where the receiver's
///                 data is, as one ``TypeBlock`` from its origin (offset, length, count, stride)
/// ```
///
/// Datatype messages whose sender's runs are long enough to be read scattered are shared the same
/// way when the receiver's data is one block (contiguous, a vector, a 2-D subarray): the chunks are
/// ranges of the packed stream, the receiver reads its chunks with scattered reads and the sender
/// writes its chunks with scattered writes (process_vm_writev), each side walking both layouts.
struct CopyDescriptor {
    /// The byte offsets of the words drawn above (the one place that names them; a test checks they
    /// fit in ``SharedArea/copyDescriptorBytes``).
    enum Offset {
        static let claim = 0
        static let done = 8
        static let failed = 16
        static let layout = 24
        static let end = 56
    }

    let base: UnsafeMutableRawPointer

    private var claimWord: UnsafeMutablePointer<UInt64> { (base + Offset.claim).assumingMemoryBound(to: UInt64.self) }
    private var doneWord: UnsafeMutablePointer<UInt64> { (base + Offset.done).assumingMemoryBound(to: UInt64.self) }
    private var failedWord: UnsafeMutablePointer<UInt64> { (base + Offset.failed).assumingMemoryBound(to: UInt64.self) }

    /// Receiver: starts the transfer numbered `generation` (no chunk claimed, none finished).
    func arm(generation: UInt32) {
        cshims_store_release_u64(doneWord, 0)
        cshims_store_release_u64(failedWord, 0)
        cshims_store_release_u64(claimWord, UInt64(generation) << 32)
    }

    /// Receiver: publishes where its data is, before ``arm(generation:)`` (which releases it).
    func publishLayout(_ block: TypeBlock) {
        (base + Offset.layout).storeBytes(of: block, as: TypeBlock.self)
    }

    /// Sender: the receiver's data, as it published it (shared memory: checked by the caller).
    var layout: TypeBlock { (base + Offset.layout).loadUnaligned(as: TypeBlock.self) }

    /// Claims the next chunk of transfer `generation`; nil when every chunk is claimed or the
    /// descriptor has moved on to another transfer.
    func claim(generation: UInt32, chunkCount: Int) -> Int? {
        var current = cshims_load_acquire_u64(claimWord)
        while true {
            guard UInt32(truncatingIfNeeded: current >> 32) == generation else { return nil }
            let next = Int(current & 0xFFFF_FFFF)
            guard next < chunkCount else { return nil }
            if cshims_compare_exchange_u64(claimWord, &current, current + 1) { return next }
        }
    }

    /// Records a claimed chunk as copied.
    func finish() { _ = cshims_fetch_add_u64(doneWord, 1) }

    /// Sender: records that it could not write its claimed `chunk` (it claims no more).
    func markFailed(_ chunk: Int) { cshims_store_release_u64(failedWord, UInt64(chunk) + 1) }

    /// The chunks finished, and the chunk the sender gave up on. The words are in shared memory, so
    /// any value is read without trapping, and a failed chunk outside `0..<chunkCount` (which no
    /// sender can have claimed) counts as none.
    func progress(chunkCount: Int) -> (finished: Int, failedChunk: Int?) {
        let failed = cshims_load_acquire_u64(failedWord)
        let failedChunk = failed == 0 || failed > UInt64(chunkCount) ? nil : Int(failed - 1)
        return (Int(clamping: cshims_load_acquire_u64(doneWord)), failedChunk)
    }
}

/// One shared copy the receiver has announced and not yet completed.
struct SharedCopy {
    /// Below this the second copier does not pay for the extra syscalls and cache traffic (128 KiB
    /// messages measured 5% slower shared; 256 KiB 1.3× faster).
    static let threshold = 256 * 1024

    let operation: ReceiveOperation
    let descriptorIndex: Int
    let descriptor: CopyDescriptor
    let generation: UInt32
    /// The sender (world rank), and where its message is.
    let peer: Int
    let source: RemoteMemory
    let senderOperation: UInt32
    let total: Int
    let chunkBytes: Int
    /// A datatype message: the receiver's data and the sender's (chunks are read scattered).
    var regions: (local: TypedRegion, remote: TypedRegion)?
    /// The first errno of a failed read by the receiver, or 0.
    var readError: Int32 = 0

    /// About eight chunks per message, of 64 KiB to 512 KiB, whole pages.
    static func chunkBytes(total: Int) -> Int {
        min(512 * 1024, max(64 * 1024, (total / 8 + 4095) & ~4095))
    }

    var chunkCount: Int { (total + chunkBytes - 1) / chunkBytes }

    /// The byte range of `chunk`.
    func range(of chunk: Int) -> Range<Int> {
        let start = chunk * chunkBytes
        return start..<min(total, start + chunkBytes)
    }
}
