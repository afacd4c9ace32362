#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import SwiftMPITrace
import SwiftMPIWireup

/// This rank's recorder for `swiftmpirun --trace DIR` and `--profile` (`SWIFTMPI_TRACE`,
/// `SWIFTMPI_PROFILE` under srun): MPI calls as the user made them, point-to-point messages as they
/// leave and as they match, and the user's regions (``MPI/traceRegion(_:_:)``).
///
/// Events go into a ring of fixed-size records allocated once at start-up (`SWIFTMPI_TRACE_BUFFER`
/// records, default 262 144, 64 bytes each): nothing is allocated, locked or written while the job
/// runs. When the ring is full the oldest events are kept and later ones counted as dropped (the
/// message pairing of ``MessageFlows`` stays exact that way). Off — no tracer at all — the runtime
/// pays one load and branch per call.
///
/// Only the outermost call is recorded (a collective's own sends, `waitAll`'s waits are not); the
/// nesting depth is one counter when one thread calls SwiftMPI at a time, and one per thread at
/// `.multiple` (or once tasks await requests and the progress thread runs), where slots are also
/// claimed atomically, so threads never share one. With tracing on a call costs two clock reads (~23 ns each here) and
/// two 64-byte stores; a message none inside a call.
///
/// @unchecked: the nesting counters and event slots are written as just said — one thread at a time
/// below `.multiple`, per-thread counters and atomically claimed slots above — and the buffers are
/// freed only by `MPI.finalize()`, when no other call runs.
final class Tracer: @unchecked Sendable {
    /// One event as recorded: plain data, names as static strings (regions by index).
    struct Record {
        var name: StaticString
        var kind: TraceEvent.Kind
        var region: Int32
        var context: UInt32
        var peer: Int32
        var tag: Int32
        var bytes: Int
        var start: UInt64
        var end: UInt64
    }

    /// What to do with the events at the end.
    struct Settings {
        /// `SWIFTMPI_TRACE`: where `rank.N.trace` files and the merged `trace.json` go.
        var directory: String?
        /// `SWIFTMPI_PROFILE=1`: rank 0 prints the profile when the job ends.
        var printsProfile = false
        /// `SWIFTMPI_PROFILE_OUT`: where rank 0 writes `profile.json` and the plots.
        var profileDirectory: String?
        /// `SWIFTMPI_TRACE_BUFFER`: records per rank.
        var capacity = 262_144

        /// The settings from the environment; nil when nothing asks for events.
        static func fromEnvironment() -> Settings? {
            var settings = Settings()
            settings.directory = WireupEnvironment.value("SWIFTMPI_TRACE").flatMap { $0.isEmpty ? nil : $0 }
            settings.printsProfile = WireupEnvironment.value("SWIFTMPI_PROFILE") == "1"
            settings.profileDirectory = WireupEnvironment.value("SWIFTMPI_PROFILE_OUT").flatMap { $0.isEmpty ? nil : $0 }
            if let text = WireupEnvironment.value("SWIFTMPI_TRACE_BUFFER"), let count = Int(text), count >= 16 { settings.capacity = min(count, 1 << 26) }
            guard settings.directory != nil || settings.printsProfile || settings.profileDirectory != nil else { return nil }
            return settings
        }
    }

    let settings: Settings
    /// True while a tracer records: every call's wrapper tests this one plain global before it
    /// looks for the tracer. Written only by initialize and finalize.
    @usableFromInline nonisolated(unsafe) static var isRecording = false
    /// The recording tracer, reached without reference counting on the recording path. Safe because
    /// the runtime holds it strongly (``Runtime/tracer``) from before this is set until after it is
    /// cleared, both at initialize and finalize, with no other SwiftMPI call running.
    nonisolated(unsafe) static unowned(unsafe) var active: Tracer?
    private let records: UnsafeMutablePointer<Record>
    /// True at thread level `.multiple`: slots are then claimed atomically (`claimed`) and
    /// messages read the clock themselves; below it one counter (`next`) without atomics.
    @exclusivity(unchecked) private var concurrent: Bool
    private let claimed = Atomic<Int>(0)
    @exclusivity(unchecked) private var next = 0
    /// The nesting depth of MPI calls (see the type's comment).
    @exclusivity(unchecked) private var depth = 0
    /// The outermost call's start, and the first slot recorded during it.
    @exclusivity(unchecked) private var callStart: UInt64 = 0
    @exclusivity(unchecked) private var callFirstSlot = 0
    /// The user's region names, each numbered once (at most ``maximumRegionNames``; later names
    /// are recorded as `(other regions)`).
    private let regionNames = Mutex<(list: [String], index: [String: Int])>(([], [:]))
    static let maximumRegionNames = 4096
    /// When recording started (``now()``), and stopped (0 while running).
    let started: UInt64
    @exclusivity(unchecked) var ended: UInt64 = 0
    /// Rank 0's clock minus this rank's, and its uncertainty (``Tracer/synchronizeClocks(_:)``).
    @exclusivity(unchecked) var clockOffsets: [(offset: Int64, uncertainty: UInt64)] = []

    init(settings: Settings, concurrent: Bool) {
        self.settings = settings
        self.concurrent = concurrent
        records = .allocate(capacity: settings.capacity)
        started = Self.now()
    }

    deinit { records.deallocate() }

    /// Nanoseconds of the monotonic clock (the vDSO's clock_gettime: about 20 ns).
    @inline(__always)
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }

    @inline(__always)
    private func append(_ record: Record) {
        let slot: Int
        if concurrent {
            slot = claimed.wrappingAdd(1, ordering: .relaxed).oldValue
        } else {
            slot = next
            next = slot &+ 1
        }
        guard slot < settings.capacity else { return }
        records[slot] = record
    }

    /// From now on, slots are claimed atomically and each thread has its own nesting depth: the
    /// runtime's progress thread has started (called with the engine locked, before it runs).
    func becomeConcurrent() {
        guard !concurrent else { return }
        claimed.store(next, ordering: .releasing)
        concurrent = true
    }

    /// Per thread in concurrent mode: non-nil inside a recorded call.
    private static let depthKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// How many records were claimed (recorded or dropped).
    private var claimedCount: Int { concurrent ? claimed.load(ordering: .acquiring) : next }

    /// Runs `body`, recording it as the call `name` unless it runs inside another recorded call.
    func call<R>(_ name: StaticString, context: UInt32, peer: Int, tag: Int, bytes: Int, _ body: () throws -> R) rethrows -> R {
        let start = begin()
        defer { if start != 0 { end(start, name, context: context, peer: peer, tag: tag, bytes: bytes) } }
        return try body()
    }

    /// Starts recording an outermost call: its start time, or 0 inside another recorded call.
    func begin() -> UInt64 {
        if concurrent {
            guard pthread_getspecific(Self.depthKey) == nil else { return 0 }
            pthread_setspecific(Self.depthKey, UnsafeRawPointer(bitPattern: 1))
            return Self.now()
        }
        guard depth == 0 else { return 0 }
        depth = 1
        let start = Self.now()
        callStart = start
        callFirstSlot = claimedCount
        return start
    }

    /// Ends the call ``begin()`` started at `start` (not 0) and records it.
    func end(_ start: UInt64, _ name: StaticString, context: UInt32, peer: Int, tag: Int, bytes: Int) {
        let end = Self.now()
        if !concurrent { stampReceives(end) }
        append(
            Record(
                name: name, kind: .call, region: -1, context: context, peer: Int32(clamping: peer), tag: Int32(clamping: tag), bytes: bytes,
                start: start, end: end))
        if concurrent { pthread_setspecific(Self.depthKey, nil) } else { depth = 0 }
    }

    /// Gives the receives matched during the call that ends at `end` that time (see ``message(_:_:context:peer:tag:bytes:)``).
    @inline(__always)
    private func stampReceives(_ end: UInt64) {
        var slot = callFirstSlot
        let last = min(next, settings.capacity)
        while slot < last {
            if records[slot].start == 0 {
                records[slot].start = end
                records[slot].end = end
            }
            slot += 1
        }
    }

    /// A point-to-point message leaving (`.send`, to world rank `peer`) or matched (`.receive`,
    /// from `peer`); `name` is its protocol.
    ///
    /// Inside a recorded call a message reads no clock: a send takes the call's start, a receive
    /// the call's end (when its completion reaches the program), stamped as the call ends. Outside
    /// one, and at thread level `.multiple`, it reads the clock.
    @inline(__always)
    func message(_ kind: TraceEvent.Kind, _ name: StaticString, context: UInt32, peer: Int, tag: Int32, bytes: Int) {
        let time = depth == 0 || concurrent ? Self.now() : kind == .send ? callStart : 0
        append(Record(name: name, kind: kind, region: -1, context: context, peer: Int32(clamping: peer), tag: tag, bytes: bytes, start: time, end: time))
    }

    /// Runs `body` as the user's region `name`.
    func region<R, E: Error>(_ name: String, _ body: () throws(E) -> R) throws(E) -> R {
        let index = regionNames.withLock { names in
            if let known = names.index[name] { return known }
            let key = names.list.count < Self.maximumRegionNames ? name : "(other regions)"
            if let known = names.index[key] { return known }
            names.list.append(key)
            names.index[key] = names.list.count - 1
            return names.list.count - 1
        }
        let start = Self.now()
        defer { append(Record(name: "", kind: .region, region: Int32(index), context: 0, peer: -1, tag: -1, bytes: 0, start: start, end: Self.now())) }
        return try body()
    }

    /// Stops recording (later calls are not recorded).
    func stop() {
        if ended == 0 { ended = Self.now() }
    }

    /// The events so far as a trace file's record; `transports` names each world rank's route,
    /// appended to the messages' protocols (`eager over shm`, `rendezvous (single copy) over shm`).
    func rankTrace(rank: Int, size: Int, host: String, transports: [String]) -> RankTrace {
        let count = min(claimedCount, settings.capacity)
        let names = regionNames.withLock { $0.list }
        var events: [TraceEvent] = []
        events.reserveCapacity(count)
        for index in 0..<count {
            let record = records[index]
            var name: String
            switch record.kind {
            case .region: name = Int(record.region) < names.count ? names[Int(record.region)] : "region"
            case .call: name = record.name.description
            case .send, .receive:
                name = record.name.description
                if record.peer >= 0 && Int(record.peer) < transports.count { name += " over " + transports[Int(record.peer)] }
            }
            events.append(
                TraceEvent(
                    record.kind, name, context: record.context, peer: Int(record.peer), tag: Int(record.tag), bytes: record.bytes,
                    start: record.start, end: record.end))
        }
        let (offset, uncertainty) = combinedClockOffset
        return RankTrace(
            rank: rank, size: size, host: host, started: started, ended: ended == 0 ? Self.now() : ended,
            dropped: max(0, claimedCount - settings.capacity), clockOffset: offset, clockUncertainty: uncertainty, events: events)
    }

    /// The offsets measured at start-up and at the end, as one: the measurement with the smaller
    /// uncertainty, whose uncertainty grows by the part of the two's disagreement their own
    /// uncertainties do not explain (the clocks' drift over the run).
    private var combinedClockOffset: (Int64, UInt64) {
        guard let best = clockOffsets.min(by: { $0.uncertainty < $1.uncertainty }) else { return (0, 0) }
        guard let first = clockOffsets.first, let last = clockOffsets.last else { return (best.offset, best.uncertainty) }
        let disagreement = (first.offset - last.offset).magnitude
        let unexplained = disagreement > first.uncertainty + last.uncertainty ? disagreement - first.uncertainty - last.uncertainty : 0
        return (best.offset, best.uncertainty + unexplained / 2)
    }
}
