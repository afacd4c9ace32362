#if canImport(Glibc)
import Glibc
#endif
import CShims

/// A one-sided request on the wire (``WireKind/rma``, in the header's tag).
enum RMARequest: Int32 {
    case put = 1, get, accumulate, getAccumulate, compareAndSwap, lock, unlock, flush, post, complete
}

/// A target's answer (``WireKind/rmaReply``, in the header's tag).
enum RMAReply: Int32 {
    /// The bytes a get, get-accumulate or compare-and-swap asked for (the reply id in senderOperation).
    case data = 1
    /// A lock granted, an unlock or a flush done.
    case done
    /// The request fell outside the target's memory (header.length: where it asked; flags 1 when
    /// it answers a request that expected a reply). Reported by the origin's next completion.
    case failed
}

/// What one rank knows of a window: its own memory and the other ranks' sizes, which ranks it reaches
/// by loads and stores (``WindowMemory``), the epochs it has open as an origin, and what it serves as
/// a target. The generic ``Window`` is a typed view of it.
///
/// Two paths, chosen per target at creation: **direct** (this rank, and for allocated windows every
/// rank on this host) — the origin copies, accumulates under the target's accumulate word and takes
/// the target's lock word itself, so nothing waits for the target; **messages** (other hosts, forced
/// TCP, and the other ranks of `create(exposing:)` windows) — ``RMARequest`` packets applied by the
/// target's engine when they arrive, in order, so a flush is one round trip: its reply comes after
/// every earlier request was applied. A target serves messages while it is inside any SwiftMPI call
/// (there is no progress thread): a passive-target lock on a rank reached by messages is granted when
/// that rank next calls SwiftMPI.
///
/// Its mutable state is changed only inside `Runtime.withEngine` or an engine wait (the packet
/// handlers run there too), under the engine's lock at thread level `.multiple`; like the engine's,
/// it is marked `@exclusivity(unchecked)`: no access to it is ever open across a call that could
/// reach it again, and the dynamic checks showed in profiles of a put to mapped memory.
final class WindowState: @unchecked Sendable {
    /// The window's private communicator (a duplicate of the one it was made on).
    let communicator: Communicator
    let rank: Int
    let size: Int
    let kernel: AccumulateKernel
    /// The bytes each rank exposes, by rank in the window, as elements of ``kernel``, and each rank's
    /// displacement unit (bytes; the stride of the element type for a ``Window``).
    let byteCounts: [Int]
    let elementCounts: [Int]
    let displacementUnits: [Int]
    let memory: WindowMemory
    /// True when some rank reaches this one through messages: a call that completes by loads and
    /// stores still polls once, so that a rank spinning on its own window (a compare-and-swap
    /// mutex) serves the others.
    let servesMessages: Bool

    // Origin side.
    /// Replies expected (to gets, locks, unlocks, flushes); every origin call waits for zero.
    @exclusivity(unchecked) var outstanding = 0
    @exclusivity(unchecked) var replyDestinations: [UInt32: UnsafeMutableRawBufferPointer] = [:]
    @exclusivity(unchecked) var nextReplyID: UInt32 = 0
    /// Targets reached by messages that were sent requests since their last flush.
    @exclusivity(unchecked) var unflushed: [Int] = []
    @exclusivity(unchecked) var isUnflushed: [Bool]
    @exclusivity(unchecked) var fenceOpen = false
    @exclusivity(unchecked) var lockedAll = false
    /// Per target reached by messages, in a lockAll epoch: 0 its lock not asked for yet, 1 asked
    /// (the reply pending), 2 held. lockAll sends nothing: the first access to a target takes its
    /// lock, so an epoch costs messages only to the ranks it reaches (``lockLazily(_:_:)``).
    @exclusivity(unchecked) var lazyLocks: [UInt8]
    /// The lockAll epoch was opened with MPI_MODE_NOCHECK (no lock taken anywhere), and the targets
    /// locked that way by ``lock(exclusive:rank:noCheck:_:)``.
    @exclusivity(unchecked) var noCheckAll = false
    @exclusivity(unchecked) var noCheckLocks: Set<Int> = []
    @exclusivity(unchecked) var locks: [Int: WindowLock] = [:]
    /// The group of the open access epoch (``Window/start(_:)``) and the one exposed (``Window/post(_:)``).
    @exclusivity(unchecked) var accessGroup: [Int]?
    /// Per target: true while this rank holds its lock or it is in the ``accessGroup``.
    @exclusivity(unchecked) var accessible: [Bool]
    @exclusivity(unchecked) var exposureGroup: [Int]?
    /// Posts and completes received, by sending rank.
    @exclusivity(unchecked) var postsReceived: [Int]
    @exclusivity(unchecked) var completesReceived: [Int]
    @exclusivity(unchecked) var isFreed = false

    /// A window with no memory of its own until regions are attached (MPI_Win_create_dynamic):
    /// displacements are addresses in the target, checked by the target against ``attached``.
    let isDynamic: Bool
    /// The regions attached to this rank's dynamic window (first and past-the-end address), sorted.
    @exclusivity(unchecked) var attached: [(start: Int, end: Int)] = []
    /// The first error a target reported (``RMAReply/failed``), thrown by the next completion.
    @exclusivity(unchecked) var remoteError: String?
    /// Puts and gets the transport does by itself (RDMA), when some rank of the window asked for it.
    @exclusivity(unchecked) var remoteAccess: RemoteAccess?

    // Target side (requests arriving as messages).
    /// Origins that hold this rank's lock through messages (true: exclusively).
    @exclusivity(unchecked) var holders: [Int: Bool] = [:]
    /// Lock requests that could not be granted yet, in arrival order.
    @exclusivity(unchecked) var waitingLocks: [(origin: Int, exclusive: Bool, peer: Int)] = []
    /// Set when this rank's own request for its lock (queued in ``waitingLocks`` with peer -1) is
    /// granted: the lock word is then held for it.
    @exclusivity(unchecked) var ownLockGranted = false

    /// This rank's hints (``WindowHints``): given at creation, the accumulate ones changed by
    /// `setInfo` (with the engine locked).
    @exclusivity(unchecked) var hints: WindowHints
    /// The ranks that made the window with `no_locks=true`: they are not locked (``WindowHints``).
    let unlockableRanks: Set<Int>

    init(
        communicator: Communicator, kernel: AccumulateKernel, byteCounts: [Int], displacementUnits: [Int], memory: WindowMemory, isDynamic: Bool = false,
        hints: WindowHints, unlockableRanks: Set<Int>
    ) {
        self.communicator = communicator
        self.hints = hints
        self.unlockableRanks = unlockableRanks
        self.isDynamic = isDynamic
        self.rank = communicator.rank
        self.size = communicator.size
        self.kernel = kernel
        self.byteCounts = byteCounts
        self.elementCounts = byteCounts.map { $0 / kernel.stride }
        self.displacementUnits = displacementUnits
        self.memory = memory
        accessible = Array(repeating: false, count: communicator.size)
        servesMessages = memory.direct.contains { $0 == nil }
        isUnflushed = Array(repeating: false, count: size)
        lazyLocks = Array(repeating: 0, count: size)
        postsReceived = Array(repeating: 0, count: size)
        completesReceived = Array(repeating: 0, count: size)
    }

    var runtime: Runtime { communicator.runtime }
    var context: UInt32 { communicator.context }
    /// This rank's memory (for a dynamic window, the lock words: it has no memory of its own).
    var base: UnsafeMutableRawPointer { memory.direct[rank] ?? UnsafeMutableRawPointer(ownLock) }
    var ownLock: UnsafeMutablePointer<UInt64> { memory.lockWords[rank]! }

    // MARK: - Creation and release

    /// How a window gets its memory.
    enum Placement {
        /// Allocated by SwiftMPI, shared with the ranks on this host (``Window/allocate(count:on:info:)``).
        case allocate
        /// Allocated contiguously in one segment of the host (``Window/allocateShared(count:on:info:)``).
        case shared
        /// The caller's memory (``Window/create(exposing:on:info:)``).
        case exposing(UnsafeMutableRawPointer?)
        /// Memory attached later (``Window/createDynamic(on:info:)``).
        case dynamic
    }

    /// Makes a window of `bytes` bytes on this rank, addressed in units of `displacementUnit` bytes
    /// (every rank's the same when `sameUnit`: a typed ``Window``). Collective over `communicator`.
    static func make(
        on communicator: Communicator, bytes: Int, displacementUnit: Int, kernel: AccumulateKernel, sameUnit: Bool, placement: Placement,
        info: Info, _ call: String
    ) throws -> WindowState {
        guard !communicator.isIntercommunicator else {
            throw MPIError(.invalidArgument, "\(call): windows are made on intracommunicators; this one is an intercommunicator")
        }
        let windowCommunicator = try communicator.dup()
        let engine = communicator.runtime.engine
        // Allocated windows are shared with the ranks the route reaches through shared memory (so
        // forcing TCP sends one-sided traffic over TCP too); shared windows with every rank of the
        // host, whatever the transport: their memory is shared by definition.
        let hostMembers = (0..<windowCommunicator.size).filter { member in
            let peer = windowCommunicator.worldRank(member)
            if case .shared = placement, !engine.ranksOnThisHost.isEmpty { return engine.ranksOnThisHost.contains(peer) }
            return engine.routes.mapsMemory(of: peer)
        }
        // Whether this rank would put and get by RDMA on some rank (asked of all: the exchange of
        // registrations that follows is collective, made when any rank asked).
        var wantsRemoteAccess = false
        switch placement {
        case .allocate: wantsRemoteAccess = Self.wantsRemoteAccess(windowCommunicator, direct: Set(hostMembers))
        case .exposing: wantsRemoteAccess = Self.wantsRemoteAccess(windowCommunicator, direct: [windowCommunicator.rank])
        case .shared, .dynamic: break
        }
        // The hints: a rank that gave a value a key does not take fails, and so does every rank.
        var hints = WindowHints()
        var hintsError: MPIError? = nil
        do throws(MPIError) { hints = try WindowHints(info) } catch { hintsError = MPIError(error.code, "\(call): \(error.message)") }
        let claims = (hints.sameSize ? 1 : 0) | (hints.sameDisplacementUnit ? 2 : 0) | (hintsError != nil ? 4 : 0) | (hints.noLocks ? 8 : 0)
        let table = try windowCommunicator.allgather([bytes, displacementUnit, wantsRemoteAccess ? 1 : 0, claims])
        let byteCounts = stride(from: 0, to: table.count, by: 4).map { table[$0] }
        let displacementUnits = stride(from: 1, to: table.count, by: 4).map { table[$0] }
        let anyRemoteAccess = stride(from: 2, to: table.count, by: 4).contains { table[$0] == 1 }
        let claimsByRank = stride(from: 3, to: table.count, by: 4).map { table[$0] }
        do {
            // Every rank checks the whole table alike: all throw or none.
            if let bad = byteCounts.firstIndex(where: { $0 < 0 }) {
                throw MPIError(.invalidCount, "\(call): rank \(bad) asked for a negative size (\(byteCounts[bad]) bytes)")
            }
            if let bad = displacementUnits.firstIndex(where: { $0 <= 0 }) {
                throw MPIError(.invalidArgument, "\(call): rank \(bad) gave a displacement unit of \(displacementUnits[bad]) bytes")
            }
            if sameUnit, let other = displacementUnits.firstIndex(where: { $0 != displacementUnit }) {
                throw MPIError(
                    .invalidArgument,
                    "\(call): the ranks' element types differ (\(displacementUnit) bytes here, \(displacementUnits[other]) bytes on rank \(other))")
            }
            for (rank, claim) in claimsByRank.enumerated() {
                if claim & 4 != 0 { throw hintsError ?? MPIError(.invalidArgument, "\(call): rank \(rank) gave a window hint a value it does not take") }
                for (bit, key, what, values) in [(1, "same_size", "a size of", byteCounts), (2, "same_disp_unit", "a displacement unit of", displacementUnits)]
                where claim & bit != 0 {
                    if let other = values.firstIndex(where: { $0 != values[rank] }) {
                        throw MPIError(
                            .invalidArgument,
                            "\(call): rank \(rank) gave the hint \(key)=true, but \(what) \(values[rank]) bytes where rank \(other) gave \(values[other])")
                    }
                }
            }
        } catch {
            _ = windowCommunicator.free()
            throw error
        }
        let unlockableRanks = Set(claimsByRank.indices.filter { claimsByRank[$0] & 8 != 0 })
        var memory: WindowMemory
        switch placement {
        case .shared:
            guard hostMembers.count == windowCommunicator.size else {
                throw MPIError(
                    .invalidArgument,
                    "\(call): the communicator's \(windowCommunicator.size) ranks do not all share memory with each other (rank \(windowCommunicator.rank) "
                        + "reaches \(hostMembers.count) of them that way); make the window on communicator.splitType(.shared)")
            }
            memory = try WindowMemory.makeShared(
                on: windowCommunicator, members: hostMembers, byteCounts: byteCounts, contiguous: true, jobID: engine.jobID, call: call)
        case .allocate:
            memory = try WindowMemory.makeShared(
                on: windowCommunicator, members: hostMembers, byteCounts: byteCounts, contiguous: false, jobID: engine.jobID, call: call)
        case .exposing(let pointer):
            memory = WindowMemory.makePrivate(
                rank: windowCommunicator.rank, size: windowCommunicator.size, bytes: bytes, exposing: pointer, allocate: false)
        case .dynamic:
            // Only the lock words: every access, this rank's own too, goes by messages to the
            // target, which finds the address among its attached regions.
            memory = WindowMemory.makePrivate(rank: windowCommunicator.rank, size: windowCommunicator.size, bytes: 0, exposing: nil, allocate: false)
            memory.direct[windowCommunicator.rank] = nil
        }
        var isDynamic = false
        if case .dynamic = placement { isDynamic = true }
        let window = WindowState(
            communicator: windowCommunicator, kernel: kernel, byteCounts: byteCounts, displacementUnits: displacementUnits, memory: memory,
            isDynamic: isDynamic, hints: hints, unlockableRanks: unlockableRanks)
        if anyRemoteAccess {
            let access = try makeRemoteAccess(on: windowCommunicator, memory: memory, bytes: bytes, wanted: wantsRemoteAccess)
            window.remoteAccess = access
            try communicator.runtime.withEngine("window creation") { engine in access.window = engine.addRemoteAccessWindow(window) }
        }
        try communicator.runtime.withEngine("window creation") { $0.windows[windowCommunicator.context] = window }
        try windowCommunicator.barrier()  // every rank serves the window before anyone uses it
        return window
    }

    /// The hints in effect, read with the engine locked (as ``setHints(_:_:)`` changes them).
    var reportedHints: Info { ((try? runtime.withEngine("info") { _ in hints }) ?? hints).reported }

    /// MPI_Win_set_info: the accumulate hints of `info` (all checked first), with the engine locked.
    func setHints(_ info: Info, _ call: String) throws {
        try checkOpen(call)
        try runtime.withEngine("setInfo") { _ in hints = try hints.applying(info, atCreation: false) }
    }

    /// Ends the window (collective): every rank's epochs must be closed.
    func free(_ call: String) throws {
        try checkOpen(call)
        guard locks.isEmpty && !lockedAll && accessGroup == nil && exposureGroup == nil else {
            throw MPIError(.rmaSynchronization, "\(call): the window still has an epoch open here (unlock, unlockAll, complete or wait first)")
        }
        try flushAll(call)
        try communicator.barrier()
        try runtime.withEngine("window free") { engine in
            engine.windows[context] = nil
            releaseRemoteAccess(engine: engine)
            if !waitingLocks.isEmpty { engine.windowsWithWaitingLocks -= 1 }
            waitingLocks.removeAll()
        }
        isFreed = true
        memory.release()
        communicator.free()
    }

    // MARK: - Checks

    func checkOpen(_ call: String) throws {
        guard !isFreed else { throw MPIError(.invalidArgument, "\(call): the window was freed") }
    }

    /// Throws unless `target` is a rank of the window in an access epoch of this rank.
    func checkAccess(_ target: Int, _ call: String) throws {
        try checkOpen(call)
        guard target >= 0 && target < size else {
            throw MPIError(.invalidRank, "\(call): target rank \(target) is outside 0..<\(size)")
        }
        if mayAccess(target) { return }
        throw MPIError(
            .rmaSynchronization,
            "\(call): rank \(target) is not in an access epoch of this window; call fence(), lock(_:rank:), lockAll() or start(_:) first")
    }

    /// True when an epoch open here covers `target` (a rank of the window).
    @inline(__always)
    func mayAccess(_ target: Int) -> Bool { fenceOpen || lockedAll || accessible[target] }

    /// The fast path's test: `count` (> 0) elements from `offset` inside `target`'s window, in an
    /// epoch; false sends the call to the checks that say what is wrong.
    @inline(__always)
    func allows(_ target: Int, offset: Int, count: Int) -> Bool {
        target >= 0 && target < size && !isFreed && mayAccess(target) && count > 0 && offset >= 0 && offset <= elementCounts[target] &- count
    }

    /// The same test in bytes.
    @inline(__always)
    func allows(_ target: Int, byteOffset: Int, bytes: Int) -> Bool {
        target >= 0 && target < size && !isFreed && mayAccess(target) && bytes > 0 && byteOffset >= 0 && byteOffset <= byteCounts[target] &- bytes
    }

    /// Polls once if some rank reaches this one through messages (after a call done by loads and stores).
    @inline(__always)
    func serveMessages() throws {
        if servesMessages { try runtime.withEngine("one-sided call") { engine in _ = engine.progress() } }
    }

    // MARK: - Sending requests

    /// Sends `request` packets to `target` covering `bytes` from `byteOffset` in pieces of at most the
    /// route's payload (whole elements); `replyInto` (same size as `bytes`, or the result of a
    /// get) receives the replies' data. Inside `withEngine`.
    func sendRequests(
        _ request: RMARequest, _ bytes: UnsafeRawBufferPointer, replyInto result: UnsafeMutableRawBufferPointer?, to target: Int,
        byteOffset: Int, flags: UInt32 = 0, unit: Int = 1, engine: Engine
    ) {
        let peer = communicator.worldRank(target)
        let total = request == .get ? (result?.count ?? 0) : bytes.count
        let piece = max(engine.fragmentSizes[peer] / unit * unit, unit)
        var done = 0
        repeat {
            let length = min(piece, total - done)
            var header = MatchHeader(
                context: context, source: Int32(rank), tag: request.rawValue, flags: flags, length: UInt64(byteOffset + done))
            if let result {
                header.senderOperation = nextReplyID
                header.receiverOperation = UInt32(length)
                replyDestinations[nextReplyID] = UnsafeMutableRawBufferPointer(rebasing: result[done..<(done + length)])
                nextReplyID &+= 1
                outstanding += 1
            }
            let payload = request == .get ? UnsafeRawBufferPointer(start: nil, count: 0) : UnsafeRawBufferPointer(rebasing: bytes[done..<(done + length)])
            engine.sendPacket(.rma, header, payload, to: peer)
            done += length
        } while done < total
        if !isUnflushed[target] {
            isUnflushed[target] = true
            unflushed.append(target)
        }
    }

    /// Sends a compare-and-swap request (`pair`: the expected element, then the desired one); the
    /// old element arrives in `result`. Inside `withEngine`.
    func sendCompareAndSwap(_ pair: UnsafeRawBufferPointer, replyInto result: UnsafeMutableRawBufferPointer, to target: Int, byteOffset: Int, engine: Engine) {
        var header = MatchHeader(
            context: context, source: Int32(rank), tag: RMARequest.compareAndSwap.rawValue, length: UInt64(byteOffset),
            senderOperation: nextReplyID, receiverOperation: UInt32(result.count))
        replyDestinations[nextReplyID] = result
        nextReplyID &+= 1
        outstanding += 1
        header.flags = 0
        engine.sendPacket(.rma, header, pair, to: communicator.worldRank(target))
    }

    /// Sends a header-only request (lock, unlock, flush: answered with ``RMAReply/done``; post,
    /// complete: not answered). Inside `withEngine`.
    func sendControl(_ request: RMARequest, to target: Int, flags: UInt32 = 0, engine: Engine) {
        let header = MatchHeader(context: context, source: Int32(rank), tag: request.rawValue, flags: flags)
        if request != .post && request != .complete { outstanding += 1 }
        engine.sendPacket(.rma, header, UnsafeRawBufferPointer(start: nil, count: 0), to: communicator.worldRank(target))
    }

    /// Waits until every expected reply arrived; throws `.processFailed` if a peer failed meanwhile.
    func awaitReplies(_ call: @autoclosure () -> String) throws {
        // (`call` is built only when it is shown: a get over messages waits here every time.)
        try runtime.wait("Window.", call(), until: { engine in self.outstanding == 0 || engine.anyPeerFailed })
        if let error = remoteError, outstanding == 0 {
            remoteError = nil
            throw MPIError(.rmaRange, "\(call()): \(error)")
        }
        if outstanding > 0 {
            let reason = runtime.engine.failedPeers.values.first ?? "a peer failed"
            outstanding = 0
            replyDestinations.removeAll()
            throw MPIError(.processFailed, "\(call()): \(reason)")
        }
    }

    /// Completes every request sent by messages (at the targets) since the last flush.
    func flushAll(_ call: String) throws {
        cshims_memory_fence()
        try awaitRemoteAccess(call)
        guard !unflushed.isEmpty else { return }
        try runtime.withEngine("flush") { engine in
            for target in unflushed {
                sendControl(.flush, to: target, engine: engine)
                isUnflushed[target] = false
            }
            unflushed.removeAll()
        }
        try awaitReplies(call)
    }

    /// Completes the requests sent to `target` by messages.
    func flush(_ target: Int, _ call: String) throws {
        cshims_memory_fence()
        try awaitRemoteAccess(call)  // all of the window's: simpler than per target, and as correct
        guard isUnflushed[target] else { return }
        try runtime.withEngine("flush") { engine in
            sendControl(.flush, to: target, engine: engine)
            isUnflushed[target] = false
            unflushed.removeAll { $0 == target }
        }
        try awaitReplies(call)
    }

    // MARK: - Serving requests (target side, in the engine's packet dispatch)

    /// Applies one request from the rank `header.source` (world rank `peer`). Requests that make no
    /// sense (out of bounds, an unknown operator) are not applied; questions are still answered, so
    /// a bad origin cannot hang itself, nor write outside the window.
    func serve(_ header: MatchHeader, _ payload: UnsafeRawBufferPointer, from peer: Int, engine: Engine) {
        let origin = Int(header.source)
        guard origin >= 0 && origin < size, let request = RMARequest(rawValue: header.tag) else { return }
        let offset = Int(truncatingIfNeeded: header.length)
        let own = byteCounts[rank]
        // Where the request's bytes are here: in the window, or (dynamic) in an attached region.
        var address = self.base  // set by inside(_:)
        func inside(_ bytes: Int) -> Bool {
            guard offset >= 0 && bytes >= 0 else { return false }
            if !isDynamic {
                guard offset <= own - bytes else { return false }
                address = self.base + offset
                return true
            }
            guard attached.contains(where: { $0.start <= offset && offset <= $0.end - bytes }), let pointer = UnsafeMutableRawPointer(bitPattern: offset)
            else { return false }
            address = pointer
            return true
        }
        func reply(_ kind: RMAReply, _ bytes: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)) {
            let answer = MatchHeader(context: context, source: Int32(rank), tag: kind.rawValue, senderOperation: header.senderOperation)
            engine.sendPacket(.rmaReply, answer, bytes, to: peer)
        }
        /// Tells the origin its request fell outside this rank's memory (`answering`: it waits for a reply).
        func refuse(_ bytes: Int, answering: Bool) {
            let answer = MatchHeader(
                context: context, source: Int32(rank), tag: RMAReply.failed.rawValue, flags: answering ? 1 : 0, length: UInt64(bitPattern: Int64(offset)),
                senderOperation: header.senderOperation, receiverOperation: UInt32(truncatingIfNeeded: bytes))
            engine.sendPacket(.rmaReply, answer, UnsafeRawBufferPointer(start: nil, count: 0), to: peer)
        }
        switch request {
        case .put:
            guard payload.count > 0 else { return }
            guard inside(payload.count) else { return refuse(payload.count, answering: false) }
            address.copyMemory(from: payload.baseAddress!, byteCount: payload.count)
        case .accumulate:
            guard payload.count > 0 else { return }
            guard inside(payload.count) else { return refuse(payload.count, answering: false) }
            guard let (op, kernel) = AccumulateKernel.decode(header.flags), payload.count % kernel.stride == 0 else { return }
            WindowLockWord.withAccumulateLock(ownLock + 1) {
                kernel.apply(op, target: address, origin: payload.baseAddress!, count: payload.count / kernel.stride)
            }
        case .get:
            let length = Int(header.receiverOperation)
            guard inside(length) else { return refuse(length, answering: true) }
            reply(.data, UnsafeRawBufferPointer(start: address, count: length))
        case .getAccumulate:
            guard inside(payload.count) else { return refuse(payload.count, answering: true) }
            guard payload.count > 0, let (op, kernel) = AccumulateKernel.decode(header.flags), payload.count % kernel.stride == 0 else {
                return reply(.data)
            }
            WindowLockWord.withAccumulateLock(ownLock + 1) {
                reply(.data, UnsafeRawBufferPointer(start: address, count: payload.count))  // sent or copied before it changes
                kernel.apply(op, target: address, origin: payload.baseAddress!, count: payload.count / kernel.stride)
            }
        case .compareAndSwap:
            let stride = payload.count / 2
            guard stride > 0, payload.count == 2 * stride else { return reply(.data) }
            guard inside(stride) else { return refuse(stride, answering: true) }
            WindowLockWord.withAccumulateLock(ownLock + 1) {
                reply(.data, UnsafeRawBufferPointer(start: address, count: stride))
                if memcmp(address, payload.baseAddress!, stride) == 0 {
                    address.copyMemory(from: payload.baseAddress! + stride, byteCount: stride)
                }
            }
        case .lock:
            let exclusive = header.flags == 1
            if waitingLocks.isEmpty && WindowLockWord.tryAcquire(ownLock, exclusive: exclusive) {
                holders[origin] = exclusive
                reply(.done)
            } else {
                if waitingLocks.isEmpty { engine.windowsWithWaitingLocks += 1 }
                waitingLocks.append((origin, exclusive, peer))
            }
        case .unlock:
            if let exclusive = holders.removeValue(forKey: origin) { WindowLockWord.release(ownLock, exclusive: exclusive) }
            reply(.done)
        case .flush:
            reply(.done)
        case .post:
            postsReceived[origin] += 1
        case .complete:
            cshims_memory_fence()
            completesReceived[origin] += 1
        }
    }

    /// Grants waiting lock requests in arrival order, as far as the lock allows; true when any was.
    func grantWaitingLocks(engine: Engine) -> Bool {
        var granted = false
        while let first = waitingLocks.first, WindowLockWord.tryAcquire(ownLock, exclusive: first.exclusive) {
            waitingLocks.removeFirst()
            granted = true
            if first.peer < 0 {  // this rank's own request (``lock(exclusive:rank:noCheck:_:)``)
                ownLockGranted = true
                continue
            }
            holders[first.origin] = first.exclusive
            let answer = MatchHeader(context: context, source: Int32(rank), tag: RMAReply.done.rawValue)
            engine.sendPacket(.rmaReply, answer, UnsafeRawBufferPointer(start: nil, count: 0), to: first.peer)
        }
        if granted && waitingLocks.isEmpty { engine.windowsWithWaitingLocks -= 1 }
        return granted
    }

    /// A target's reply: data into the destination its id names, and one reply fewer to wait for.
    func receiveReply(_ header: MatchHeader, _ payload: UnsafeRawBufferPointer) {
        guard let kind = RMAReply(rawValue: header.tag) else { return }
        if kind == .failed {
            let target = Int(header.source)
            if remoteError == nil {
                remoteError =
                    "rank \(target) has no \(isDynamic ? "attached memory" : "window memory") at \(isDynamic ? "address" : "byte offset") "
                    + "\(Int64(bitPattern: header.length)) for \(header.receiverOperation) bytes"
            }
            guard header.flags == 1 else { return }  // a put or accumulate: nothing waits for it
            replyDestinations[header.senderOperation] = nil
        }
        guard outstanding > 0 else { return }
        if kind == .data, let destination = replyDestinations.removeValue(forKey: header.senderOperation), payload.count > 0,
            destination.count > 0
        {
            destination.baseAddress!.copyMemory(from: payload.baseAddress!, byteCount: min(payload.count, destination.count))
        }
        outstanding -= 1
    }
}
