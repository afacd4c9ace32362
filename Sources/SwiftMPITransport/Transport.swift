#if canImport(Glibc)
import Glibc
#endif

/// The contract every transport keeps: move packets to and from peers, report what it can do as data,
/// and — where it can — read or write a peer's memory in bulk.
///
/// A transport knows ranks (the job's world ranks), packet kinds and 32-byte headers it never looks
/// into; it never knows tags, communicators or matching (the engine's business). The engine reaches
/// every conformer through one closed table of routes (`Sources/SwiftMPI/Engine/Routes.swift`), so
/// calls are direct and specialized: no existential on the packet path.
///
/// Guarantees a conformer must give (checked by the conformance suite, `swiftmpi-conformance`):
/// - **Order**: the packets one rank sends to another are delivered in the order they were accepted.
/// - **Backpressure as a value**: ``trySend(to:kind:header:payload:)`` returns false when it has no
///   room now and keeps nothing; the caller retries after polling. It never blocks.
/// - **Whole packets**: a payload of up to ``TransportCapabilities/maxPayload`` bytes arrives whole,
///   valid only during the ``PacketSink/deliver(from:kind:header:payload:)`` call.
/// - **Failures reported, not thrown**: a peer that is gone is reported once as
///   ``TransportEvent/peerFailed(peer:reason:)`` (packets to it are dropped from then on), or, where
///   the link outlives the peer (shared memory), found by ``checkPeers()``.
/// - **Declared capabilities work**: a bulk operation the capabilities declare does what it says for
///   any memory the peer exposed; one they do not declare answers ``BulkResult/unsupported``.
public protocol Transport: AnyObject {
    /// What the transport can do and its limits; read once by the engine.
    var capabilities: TransportCapabilities { get }

    /// Hands one packet to `peer` if there is room now; false means try again after polling (the
    /// transport kept nothing). `payload` may be reused as soon as this returns.
    func trySend(to peer: Int, kind: PacketKind, header: PacketHeader, payload: UnsafeRawBufferPointer) -> Bool

    /// Like ``trySend(to:kind:header:payload:)``, but the caller keeps `payload` valid and unchanged
    /// until ``isSendingCallerMemory(to:)`` is false, so the transport may send the rest of it later
    /// straight from there instead of copying it (``TransportCapabilities/sendsFromCallerMemory``).
    /// `streaming` says that more traffic for `peer` waits behind this payload (other messages
    /// queued or offered): the transport may then favour the stream's throughput over this packet's
    /// latency (TCP sends the rest in pieces).
    func trySendKeepingPayload(to peer: Int, kind: PacketKind, header: PacketHeader, payload: UnsafeRawBufferPointer, streaming: Bool) -> Bool

    /// Sends one packet whose payload is `payload` followed by `trailer` (a rendezvous offer and the
    /// message's first bytes), as ``trySend(to:kind:header:payload:)`` does: false means no resources
    /// now, and both buffers are free when it returns true. Transports that gather (TCP's `sendmsg`)
    /// copy neither; the default copies both into one buffer first.
    func trySend(to peer: Int, kind: PacketKind, header: PacketHeader, payload: UnsafeRawBufferPointer, trailer: UnsafeRawBufferPointer) -> Bool

    /// True while a payload handed to ``trySendKeepingPayload(to:kind:header:payload:streaming:)`` for `peer`
    /// is still being sent from the caller's memory.
    func isSendingCallerMemory(to peer: Int) -> Bool

    /// Delivers the packets that have arrived to `sink`, in order per sender; returns how many.
    func poll<Sink: PacketSink>(into sink: Sink) -> Int

    /// True when ``takeEvents()`` has something.
    var hasEvents: Bool { get }

    /// Completions of asynchronous bulk operations and peer failures since the last call.
    func takeEvents() -> [TransportEvent]

    /// True while packets accepted by ``trySend(to:kind:header:payload:)`` have not all left this
    /// process (they would be lost if it exited now).
    var hasPendingOutput: Bool { get }

    /// Makes `bytes` readable by peers with ``read(from:remote:into:token:)``; nil when it cannot
    /// (then the engine streams the data in packets). Give it back with ``conceal(_:)``.
    func expose(_ bytes: UnsafeRawBufferPointer) -> ExposedMemory?

    /// Ends one exposure from ``expose(_:)``.
    func conceal(_ memory: ExposedMemory)

    /// Makes `bytes` readable and writable by peers (``read(from:remote:into:token:)``,
    /// ``write(to:remote:from:token:)``) until ``endLastingExposure(_:)``, and no longer: unlike
    /// ``expose(_:)`` nothing is kept afterwards, so the memory may be unmapped then (a one-sided
    /// window's). Nil when the transport cannot.
    func exposeLasting(_ bytes: UnsafeMutableRawBufferPointer) -> ExposedMemory?

    /// Ends one exposure from ``exposeLasting(_:)``.
    func endLastingExposure(_ memory: ExposedMemory)

    /// Copies `local.count` bytes of memory `peer` exposed at `remote` into `local`: at once
    /// (``BulkAccess/immediate``) or reported later by ``TransportEvent/readCompleted(token:)``
    /// (``BulkAccess/asynchronous``).
    func read(from peer: Int, remote: RemoteMemory, into local: UnsafeMutableRawBufferPointer, token: UInt32) -> BulkResult

    /// Copies `local` into memory `peer` exposed at `remote` (at once or asynchronously, as for reads).
    func write(to peer: Int, remote: RemoteMemory, from local: UnsafeRawBufferPointer, token: UInt32) -> BulkResult

    /// Copies the bytes of `peer`'s memory listed in `remote`, in order, into the local pieces listed
    /// in `local` (a gather on one side, a scatter on the other: non-contiguous messages move with one
    /// copy): at once (``TransportCapabilities/peerRead`` ``BulkAccess/immediate``), or started and
    /// reported by one ``TransportEvent/readCompleted(token:)`` when every piece is in place
    /// (``BulkAccess/asynchronous``; the local pieces stay valid until then). Both lists cover the
    /// same number of bytes, at most ``TransportCapabilities/maxReadSegments`` segments each; the
    /// transport may consume (modify) them and keeps no reference to them after returning. The remote
    /// pieces lie in memory the peer exposed with `key` (0 for transports that need no key, which
    /// reach any memory the peer announced).
    func readSegments(
        from peer: Int, remote: UnsafeMutableBufferPointer<MemorySegment>, key: UInt32, into local: UnsafeMutableBufferPointer<MemorySegment>,
        token: UInt32
    ) -> BulkResult

    /// The other direction of ``readSegments(from:remote:key:into:token:)``, at once only (transports
    /// with ``BulkAccess/immediate`` writes): copies the local pieces listed in `local`, in order, into
    /// the pieces of `peer`'s memory listed in `remote` (``TransportCapabilities/maxWriteSegments``).
    func writeSegments(
        to peer: Int, remote: UnsafeMutableBufferPointer<MemorySegment>, from local: UnsafeMutableBufferPointer<MemorySegment>
    ) -> BulkResult

    /// Peers found dead by asking the system (transports whose links do not break when a peer dies:
    /// shared memory); empty for the others.
    func checkPeers() -> [(peer: Int, reason: String)]

    /// Sleeps in the kernel until input may have arrived, at most `milliseconds`
    /// (``TransportCapabilities/canWaitForInput``); returns at once otherwise.
    func waitForInput(milliseconds: Int32)

    /// The engine holds `peer` failed on word from outside this transport (the launcher, the other
    /// ranks): from now on the transport writes nothing more into memory the engine placed for
    /// `peer`'s packets (``PacketSink/placement(from:kind:header:length:)``: a payload being read
    /// there is dropped instead of delivered) and credits no bulk operation started for it, so the
    /// engine may end the operations that own that memory and it be freed. The link stays up:
    /// the engine may still tell the peer that the others took it for failed.
    func abandon(peer: Int, reason: String)

    /// One line about what the transport did (registration counts and the like), for
    /// `SWIFTMPI_DEBUG=1` at finalize; nil when there is nothing to say.
    var statistics: String? { get }
}

/// Receives the packets a transport delivers (the engine).
public protocol PacketSink: AnyObject {
    /// Where the `length`-byte payload of this packet may be written directly (a receive buffer), or
    /// nil to have it delivered from the transport's own memory. Transports that cannot place data
    /// never ask.
    func placement(from peer: Int, kind: PacketKind, header: PacketHeader, length: Int) -> UnsafeMutableRawPointer?

    /// One arrived packet; `payload` is valid only during the call (it may be the memory
    /// ``placement(from:kind:header:length:)`` returned, already filled).
    func deliver(from peer: Int, kind: PacketKind, header: PacketHeader, payload: UnsafeRawBufferPointer)
}

/// How a transport reaches a peer's memory.
public enum BulkAccess: Sendable, Equatable {
    /// Not at all.
    case none
    /// The copy is done when the call returns (Cross Memory Attach, in-process memory).
    case immediate
    /// The copy is started; a ``TransportEvent`` reports its completion (RDMA).
    case asynchronous
}

/// What a transport reports about itself; the engine derives protocol thresholds from it once.
public struct TransportCapabilities: Sendable {
    /// A short name for diagnostics ("self", "shm", "tcp", "verbs", "loopback").
    public var name: String
    /// The largest payload one packet can carry.
    public var maxPayload: Int
    /// Messages up to this many bytes should go eagerly (≤ ``maxPayload``); larger ones by rendezvous.
    public var eagerLimit: Int
    /// Reading memory a peer exposed.
    public var peerRead: BulkAccess
    /// Writing memory a peer exposed.
    public var peerWrite: BulkAccess
    /// Remote atomic operations on a peer's exposed memory (none of today's transports: one-sided
    /// accumulates and atomics go as messages, applied by the target; docs/Design.md says why).
    public var remoteAtomics: Bool
    /// ``Transport/trySendKeepingPayload(to:kind:header:payload:streaming:)`` may send from the caller's memory.
    public var sendsFromCallerMemory: Bool
    /// ``Transport/waitForInput(milliseconds:)`` can sleep until input arrives.
    public var canWaitForInput: Bool
    /// The most segments a side that one ``Transport/readSegments(from:remote:key:into:token:)`` takes; 0 when
    /// the transport cannot read scattered memory (then non-contiguous data is packed and streamed).
    public var maxReadSegments: Int
    /// The same for ``Transport/writeSegments(to:remote:from:)``; 0 when it cannot write scattered memory.
    public var maxWriteSegments: Int

    /// Creates a description; bulk access, atomics and the rest default to none.
    public init(
        name: String, maxPayload: Int, eagerLimit: Int? = nil, peerRead: BulkAccess = .none, peerWrite: BulkAccess = .none,
        remoteAtomics: Bool = false, sendsFromCallerMemory: Bool = false, canWaitForInput: Bool = false, maxReadSegments: Int = 0,
        maxWriteSegments: Int = 0
    ) {
        self.name = name
        self.maxPayload = maxPayload
        self.eagerLimit = min(eagerLimit ?? maxPayload, maxPayload)
        self.peerRead = peerRead
        self.peerWrite = peerWrite
        self.remoteAtomics = remoteAtomics
        self.sendsFromCallerMemory = sendsFromCallerMemory
        self.canWaitForInput = canWaitForInput
        self.maxReadSegments = maxReadSegments
        self.maxWriteSegments = maxWriteSegments
    }
}

/// Where a peer's exposed memory is, as the peer announced it (in a rendezvous offer).
public struct RemoteMemory: BitwiseCopyable, Sendable, Equatable {
    /// The address in the peer's process.
    public var address: UInt64
    /// The key that grants access (RDMA's remote key; 0 where the transport needs none).
    public var key: UInt32

    /// Creates a description of a peer's memory.
    public init(address: UInt64, key: UInt32 = 0) {
        self.address = address
        self.key = key
    }
}

/// One contiguous piece of a scattered region: where it starts (in this process or a peer's) and its
/// length in bytes. Laid out as Linux's `struct iovec`, so lists go to the kernel as they are.
public struct MemorySegment: BitwiseCopyable, Sendable, Equatable {
    /// The first byte's address.
    public var address: UInt64
    /// The number of bytes.
    public var length: Int

    /// Creates a segment.
    public init(address: UInt64, length: Int) {
        self.address = address
        self.length = length
    }
}

/// Memory this rank exposed with ``Transport/expose(_:)``.
public struct ExposedMemory: BitwiseCopyable, Sendable {
    /// What peers need to reach it.
    public var remote: RemoteMemory
    /// The transport's own record of the exposure (a registration slot), or -1.
    public var registration: Int

    /// Creates a record of an exposure.
    public init(remote: RemoteMemory, registration: Int = -1) {
        self.remote = remote
        self.registration = registration
    }
}

/// The outcome of a bulk operation.
public enum BulkResult: Sendable, Equatable {
    /// Copied: the data is in place.
    case completed
    /// Started: a ``TransportEvent`` with the operation's token reports the end.
    case started
    /// The transport does not offer this operation (or not for this peer).
    case unsupported
    /// The system forbids it here (Cross Memory Attach under seccomp or Yama, say): do not try again.
    case forbidden(errno: Int32)
    /// It failed (a bad address, a peer gone: `ESRCH`).
    case failed(errno: Int32)
}

/// Something a transport noticed that is not a packet.
public enum TransportEvent: Sendable, Equatable {
    /// The asynchronous read started with `token` has finished.
    case readCompleted(token: UInt32)
    /// The asynchronous write started with `token` has finished.
    case writeCompleted(token: UInt32)
    /// `peer` is gone; packets to it are dropped from now on.
    case peerFailed(peer: Int, reason: String)
}

extension Transport {
    /// Transports that cannot keep the caller's memory copy it, as ``trySend(to:kind:header:payload:)``.
    @inlinable
    public func trySendKeepingPayload(to peer: Int, kind: PacketKind, header: PacketHeader, payload: UnsafeRawBufferPointer, streaming: Bool) -> Bool {
        trySend(to: peer, kind: kind, header: header, payload: payload)
    }

    /// ``trySendKeepingPayload(to:kind:header:payload:streaming:)`` for a payload nothing else waits behind.
    @inlinable
    public func trySendKeepingPayload(to peer: Int, kind: PacketKind, header: PacketHeader, payload: UnsafeRawBufferPointer) -> Bool {
        trySendKeepingPayload(to: peer, kind: kind, header: header, payload: payload, streaming: false)
    }

    /// None of the caller's memory is ever in use after a send returns.
    @inlinable
    public func isSendingCallerMemory(to peer: Int) -> Bool { false }

    /// Transports that cannot gather send a copy of both parts.
    public func trySend(to peer: Int, kind: PacketKind, header: PacketHeader, payload: UnsafeRawBufferPointer, trailer: UnsafeRawBufferPointer) -> Bool {
        let joined = Array(payload) + Array(trailer)
        return joined.withUnsafeBytes { trySend(to: peer, kind: kind, header: header, payload: $0) }
    }

    /// No events unless the transport reports some.
    public var hasEvents: Bool { false }

    /// No events unless the transport reports some.
    public func takeEvents() -> [TransportEvent] { [] }

    /// Nothing held back unless the transport queues output of its own.
    public var hasPendingOutput: Bool { false }

    /// No exposure unless the transport offers peer reads.
    public func expose(_ bytes: UnsafeRawBufferPointer) -> ExposedMemory? { nil }

    /// Nothing to end unless the transport exposes memory.
    public func conceal(_ memory: ExposedMemory) {}

    /// No lasting exposure unless the transport offers asynchronous peer writes.
    public func exposeLasting(_ bytes: UnsafeMutableRawBufferPointer) -> ExposedMemory? { nil }

    /// Nothing to end unless the transport exposes memory.
    public func endLastingExposure(_ memory: ExposedMemory) {}

    /// Unsupported unless the transport declares ``TransportCapabilities/peerRead``.
    public func read(from peer: Int, remote: RemoteMemory, into local: UnsafeMutableRawBufferPointer, token: UInt32) -> BulkResult {
        .unsupported
    }

    /// Unsupported unless the transport declares ``TransportCapabilities/peerWrite``.
    public func write(to peer: Int, remote: RemoteMemory, from local: UnsafeRawBufferPointer, token: UInt32) -> BulkResult {
        .unsupported
    }

    /// Unsupported unless the transport declares ``TransportCapabilities/maxReadSegments``.
    public func readSegments(
        from peer: Int, remote: UnsafeMutableBufferPointer<MemorySegment>, key: UInt32, into local: UnsafeMutableBufferPointer<MemorySegment>,
        token: UInt32
    ) -> BulkResult {
        .unsupported
    }

    /// Unsupported unless the transport declares ``TransportCapabilities/maxWriteSegments``.
    public func writeSegments(
        to peer: Int, remote: UnsafeMutableBufferPointer<MemorySegment>, from local: UnsafeMutableBufferPointer<MemorySegment>
    ) -> BulkResult {
        .unsupported
    }

    /// Nothing to check unless the transport's links outlive its peers.
    public func checkPeers() -> [(peer: Int, reason: String)] { [] }

    /// Returns at once unless the transport can sleep until input.
    public func waitForInput(milliseconds: Int32) {}

    /// Nothing to abandon for a transport that writes into the engine's memory only during a call
    /// (it never asks for placement: shared memory, self, loopback).
    public func abandon(peer: Int, reason: String) {}

    /// Nothing to report unless the transport keeps counts.
    public var statistics: String? { nil }
}

/// Copies the bytes listed in `source` into the pieces listed in `target`, in order, within this
/// process (transports whose peers share the address space). `.failed(EINVAL)` when the lists cover
/// different byte counts, `.failed(EFAULT)` for a null address.
public func copySegments(
    from source: UnsafeMutableBufferPointer<MemorySegment>, into target: UnsafeMutableBufferPointer<MemorySegment>
) -> BulkResult {
    guard source.reduce(0, { $0 + $1.length }) == target.reduce(0, { $0 + $1.length }) else { return .failed(errno: EINVAL) }
    var s = 0, t = 0, sOffset = 0, tOffset = 0
    while s < source.count && t < target.count {
        let length = min(source[s].length - sOffset, target[t].length - tOffset)
        if length > 0 {
            guard let from = UnsafeRawPointer(bitPattern: UInt(source[s].address)),
                let to = UnsafeMutableRawPointer(bitPattern: UInt(target[t].address))
            else { return .failed(errno: EFAULT) }
            (to + tOffset).copyMemory(from: from + sOffset, byteCount: length)
        }
        sOffset += length
        tOffset += length
        if sOffset == source[s].length { s += 1; sOffset = 0 }
        if tOffset == target[t].length { t += 1; tOffset = 0 }
    }
    return .completed
}
