import SwiftMPITransport

/// The engine's packet kinds: a closed set; the one place that says what crosses the wire.
///
/// ```
/// eager      sender → receiver   header + the whole message (≤ eager limit)
/// rendezvous sender → receiver   header + RendezvousOffer (pid, address) for a larger message
/// clearToSend receiver → sender  the receive matched; stream the data (no single-copy possible)
/// data       sender → receiver   one fragment, at header.length = offset
/// ack        receiver → sender   the receive matched (ssend) or finished reading (rendezvous)
/// share      receiver → sender   help copy: claim chunks on my copy board, write them into my buffer
///            (header: context = descriptor, source = generation, tag = chunk bytes, flags = chunks,
///             length = the receiver's buffer address; ``SharedCopy``)
///
/// eager:       S ──eager──────────────────────────▶ R                    (ssend: R ──ack──▶ S on match)
/// single-copy: S ──rendezvous(pid,addr)───────────▶ R  match; process_vm_readv; R ──ack──▶ S
/// shared copy: S ──rendezvous(pid,addr)───────────▶ R  match; R ──share──▶ S; both claim chunks:
///              R process_vm_readv, S process_vm_writev; all chunks finished: R ──ack──▶ S
/// RDMA read:   S ──rendezvous(addr,rkey)──────────▶ R  match; RDMA READ; on completion R ──ack──▶ S
/// pipelined:   S ──rendezvous─▶ R  match; R ──clearToSend─▶ S; S ──data × n──▶ R
///
/// rma        origin → target     a one-sided request on a window (``RMARequest`` in header.tag;
///            context = the window's, source = the origin's rank in it, length = the target byte
///            offset, receiverOperation = bytes asked for, flags = the accumulate operator or lock
///            kind, senderOperation = the reply's id); applied when it arrives, in arrival order
/// rmaReply   target → origin     its answer (``RMAReply``): data asked for, or done
/// recovery   member → member     recovery mode without swiftmpirun's coordinator: a revoke, or an
///            agreement's contribution, decision or query (``Engine/RecoveryPacket`` in header.tag;
///            context = the communicator's pair, source = its lowest member, length = the
///            agreement's number; Engine+Agreement.swift)
/// ```
enum WireKind: PacketKind {
    case eager = 1
    case rendezvous = 2
    case clearToSend = 3
    case data = 4
    case ack = 5
    case share = 6
    case rma = 7
    case rmaReply = 8
    case recovery = 9
}

/// The 32-byte header of every packet, carried opaquely by the transports.
struct MatchHeader {
    /// The communicator's context id.
    var context: UInt32
    /// The sender's rank in that communicator.
    var source: Int32
    var tag: Int32
    /// ``Flags``.
    var flags: UInt32
    /// The message length (eager, rendezvous) or the fragment's offset (data).
    var length: UInt64
    /// The sender's operation id (rendezvous, synchronous sends), echoed in clearToSend and ack.
    var senderOperation: UInt32
    /// The receiver's operation id, echoed in data fragments.
    var receiverOperation: UInt32

    struct Flags {
        static let synchronous: UInt32 = 1
        static let ready: UInt32 = 2
        /// On an ack: the receiver refused the message (its communicator was revoked, or lost a
        /// member, there): the send completes with an error (recovery mode, Engine+Recovery.swift).
        static let refused: UInt32 = 4
    }

    init(
        context: UInt32 = 0, source: Int32 = 0, tag: Int32 = 0, flags: UInt32 = 0, length: UInt64 = 0,
        senderOperation: UInt32 = 0, receiverOperation: UInt32 = 0
    ) {
        self.context = context
        self.source = source
        self.tag = tag
        self.flags = flags
        self.length = length
        self.senderOperation = senderOperation
        self.receiverOperation = receiverOperation
    }

    /// The header a message of `envelope` carries.
    @inline(__always)
    init(_ envelope: Envelope, flags: UInt32 = 0) {
        self.init(context: envelope.context, source: envelope.source, tag: envelope.tag, flags: flags)
    }

    /// The 32 bytes the transports carry. (Bit casts, both ways: the layouts are checked equal below.)
    @inline(__always)
    var packet: PacketHeader { unsafeBitCast(self, to: PacketHeader.self) }

    @inline(__always)
    init(_ packet: PacketHeader) { self = unsafeBitCast(packet, to: MatchHeader.self) }

    /// True when ``MatchHeader`` and `PacketHeader` have the same size and alignment (checked by a
    /// test; `unsafeBitCast` itself traps at run time on a size mismatch).
    static var layoutMatchesPacket: Bool {
        MemoryLayout<MatchHeader>.size == MemoryLayout<PacketHeader>.size
            && MemoryLayout<MatchHeader>.stride == MemoryLayout<PacketHeader>.stride
            && MemoryLayout<MatchHeader>.alignment <= MemoryLayout<PacketHeader>.alignment
    }
}

/// The payload of a rendezvous packet: where the receiver may read the message from, when `flags`
/// has ``Flags/exposed`` (the sender exposed its buffer on the route: `address`, and `remoteKey` where
/// the transport needs one — RDMA). `pid` is the sender's process (diagnostics; the shared-memory
/// transport reads with the pid it learned at wire-up, not one a packet names).
///
/// A non-contiguous message (a derived datatype) offered for reads has ``Flags/segmented`` too:
/// `address` is then its datatype's origin, and the receiver reads the type's flattened blocks
/// (`typeBlockCount` ``TypeBlock``s at `typeBlocks` in the sender's memory) before it reads the data
/// itself, scattered on both sides, with one Cross Memory Attach call per 1024 pieces
/// (``Engine/readScattered(_:total:offer:from:)``). A datatype of one block (a vector, a 2-D
/// subarray) travels in `firstBlock`, which saves the receiver that first read.
struct RendezvousOffer {
    var pid: Int32
    var remoteKey: UInt32 = 0
    var address: UInt64
    var flags: UInt32 = 0
    var typeBlockCount: UInt32 = 0
    var typeBlocks: UInt64 = 0
    /// Instances of the datatype, and its extent.
    var instances: UInt64 = 0
    var extent: Int64 = 0
    /// The first block of a segmented offer's datatype (all of it when `typeBlockCount` is 1).
    var firstBlock = TypeBlock(offset: 0, length: 0, count: 0, stride: 0)

    enum Flags {
        static let exposed: UInt32 = 1
        static let segmented: UInt32 = 2
        /// The packet's payload goes on after the offer with the message's first bytes (a route where
        /// the receiver asks for fragments: it copies them while its clear-to-send travels back, and
        /// asks for the rest from there).
        static let prefixed: UInt32 = 4
    }
}
