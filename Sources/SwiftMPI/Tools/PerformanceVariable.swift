import Synchronization
import SwiftMPIWireup

extension MPI {
    /// One of the counts SwiftMPI keeps about its own work, as MPI's tool information interface
    /// calls them: a performance variable (MPI_T pvar), read through a ``PerformanceHandle`` made in
    /// a ``PerformanceSession``. The C interface's `MPI_T_pvar_*` functions are these, by ``index``.
    ///
    /// | variable | class | counts |
    /// |---|---|---|
    /// | `swiftmpi_messages_sent_T`, `swiftmpi_bytes_sent_T` (T: self, shm, tcp, verbs) | counter | sent over T while started |
    /// | `swiftmpi_rendezvous_sends` | counter | messages sent by rendezvous |
    /// | `swiftmpi_unexpected_messages` | counter | messages that arrived before their receive |
    /// | `swiftmpi_unexpected_queue_length` | level | messages unexpected now (read-only) |
    /// | `swiftmpi_unexpected_queue_high_water` | high-water mark | the most at once since start (read-only) |
    /// | `swiftmpi_shared_copy_chunks_read`, `_written` | counter | chunks of large shared-memory messages copied as receiver, as sender |
    ///
    /// A handle's value of a counter is what was counted since the handle was made or last reset
    /// (for the per-transport counters: while it was started). The queue length is the running
    /// runtime's (0 when none runs); the high-water mark is the most since the process started.
    public struct PerformanceVariable: Sendable, Hashable {
        /// The kind of quantity (MPI_T_PVAR_CLASS_COUNTER, _LEVEL, _HIGHWATERMARK).
        public enum Kind: Sendable {
            /// A count that only grows (MPI_T_PVAR_CLASS_COUNTER).
            case counter
            /// A quantity now, such as a queue's length (MPI_T_PVAR_CLASS_LEVEL).
            case level
            /// The largest a quantity has been (MPI_T_PVAR_CLASS_HIGHWATERMARK).
            case highWatermark
        }

        /// The variable's position in ``all`` (its MPI_T index).
        public let index: Int

        /// Every performance variable, in index order.
        public static let all: [PerformanceVariable] = ToolVariables.performance.indices.map { PerformanceVariable(index: $0) }

        /// The variable called `name`, if there is one.
        public static func named(_ name: String) -> PerformanceVariable? { all.first { $0.name == name } }

        private var entry: ToolVariables.Performance { ToolVariables.performance[index] }

        /// Its name, e.g. `swiftmpi_messages_sent_shm`.
        public var name: String { entry.name }
        /// What it counts.
        public var description: String { entry.meaning }
        /// The kind of quantity.
        public var kind: Kind {
            switch entry.variableClass {
            case .counter: .counter
            case .level: .level
            case .highWatermark: .highWatermark
            }
        }
        /// True when it counts all the time; false when it counts only while a handle is started.
        public var isContinuous: Bool { entry.continuous }
        /// True when its handles cannot be written or reset.
        public var isReadOnly: Bool { entry.readOnly }

        /// The process's count now (since the program started).
        var current: UInt64 {
            guard let runtime = Runtime.current else { return count(engine: nil) }
            return runtime.withLockIfAny { count(engine: runtime.engine) }
        }

        private func count(engine: Engine?) -> UInt64 {
            let counters = PerformanceCounters.shared
            let transports = ToolVariables.countedTransports.count
            if index < 2 * transports { return index % 2 == 0 ? counters.messages[index / 2] : counters.bytes[index / 2] }
            switch name {
            case "swiftmpi_rendezvous_sends": return counters.rendezvousSends
            case "swiftmpi_unexpected_messages": return counters.unexpectedArrivals
            case "swiftmpi_unexpected_queue_length": return UInt64(engine?.unexpected.count ?? 0)
            case "swiftmpi_unexpected_queue_high_water": return counters.unexpectedHighWater
            case "swiftmpi_shared_copy_chunks_read": return counters.sharedCopyChunksRead
            case "swiftmpi_shared_copy_chunks_written": return counters.sharedCopyChunksWritten
            default: return 0
            }
        }

        /// True for the per-transport counters, which the engine counts only while one is started.
        var countsPerTransport: Bool { index < 2 * ToolVariables.countedTransports.count }
    }

    /// A set of performance-variable handles that one tool uses (MPI_T_pvar_session): sessions do
    /// not disturb each other's handles. Freeing a session (``free()``) frees its handles.
    public final class PerformanceSession: Sendable {
        private let handles = Mutex<[PerformanceHandle]>([])

        /// A new, empty session.
        public init() {}

        /// A handle to `variable` in this session (MPI_T_pvar_handle_alloc): continuous variables
        /// count from now; the others once started.
        public func handle(for variable: PerformanceVariable) -> PerformanceHandle {
            let handle = PerformanceHandle(variable: variable)
            handles.withLock { $0.append(handle) }
            return handle
        }

        /// The handles made in this session and not freed.
        public var activeHandles: [PerformanceHandle] { handles.withLock { $0.filter { !$0.isFreed } } }

        /// Frees every handle of the session (MPI_T_pvar_session_free).
        public func free() {
            for handle in handles.withLock({ $0 }) { handle.free() }
            handles.withLock { $0.removeAll() }
        }
    }

    /// One session's view of a performance variable (MPI_T_pvar_handle): started and stopped,
    /// read, reset and written independently of other handles.
    public final class PerformanceHandle: Sendable {
        /// The variable it reads.
        public let variable: PerformanceVariable
        private struct State {
            var started: Bool
            var base: UInt64  // the variable's count when the handle last began counting
            var accumulated: UInt64  // counted in earlier started periods (and written values)
            var freed = false
        }
        private let state: Mutex<State>

        init(variable: PerformanceVariable) {
            self.variable = variable
            state = Mutex(State(started: variable.isContinuous, base: variable.current, accumulated: 0))
        }

        /// True between ``start()`` and ``stop()``, and always for continuous variables.
        public var isStarted: Bool { state.withLock { $0.started } }
        var isFreed: Bool { state.withLock { $0.freed } }

        /// Starts counting (MPI_T_pvar_start). Throws `.invalidArgument` for a continuous variable
        /// (it always counts) and for a freed handle.
        public func start() throws(MPIError) {
            try state.withLock { (state) throws(MPIError) in
                try check(state, "start")
                guard !variable.isContinuous else { throw MPIError(.invalidArgument, "\(variable.name) is continuous: it cannot be started or stopped") }
                guard !state.started else { return }
                state.started = true
                state.base = variable.current
                if variable.countsPerTransport { Self.transportHandleStarted(true) }
            }
        }

        /// Stops counting (MPI_T_pvar_stop); the value is kept.
        public func stop() throws(MPIError) {
            try state.withLock { (state) throws(MPIError) in
                try check(state, "stop")
                guard !variable.isContinuous else { throw MPIError(.invalidArgument, "\(variable.name) is continuous: it cannot be started or stopped") }
                guard state.started else { return }
                state.accumulated &+= Self.since(state.base, variable.current)
                state.started = false
                if variable.countsPerTransport { Self.transportHandleStarted(false) }
            }
        }

        /// The handle's value (MPI_T_pvar_read): for a counter, what was counted since the handle
        /// was made or reset (while started); for a level or high-water mark, the variable's value.
        public func read() throws(MPIError) -> UInt64 {
            try state.withLock { (state) throws(MPIError) in
                try check(state, "read")
                return value(state)
            }
        }

        /// Sets the handle's value to 0 (MPI_T_pvar_reset); `.invalidArgument` when read-only.
        public func reset() throws(MPIError) { try write(0) }

        /// Sets the handle's value (MPI_T_pvar_write); `.invalidArgument` when read-only.
        public func write(_ newValue: UInt64) throws(MPIError) {
            try state.withLock { (state) throws(MPIError) in
                try check(state, "write")
                guard !variable.isReadOnly else { throw MPIError(.invalidArgument, "\(variable.name) is read-only: it cannot be written or reset") }
                state.accumulated = newValue
                state.base = variable.current
            }
        }

        /// Reads, then resets (MPI_T_pvar_readreset).
        public func readAndReset() throws(MPIError) -> UInt64 {
            try state.withLock { (state) throws(MPIError) in
                try check(state, "readreset")
                guard !variable.isReadOnly else { throw MPIError(.invalidArgument, "\(variable.name) is read-only: it cannot be written or reset") }
                let current = value(state)
                state.accumulated = 0
                state.base = variable.current
                return current
            }
        }

        /// Stops the handle and makes it unusable (MPI_T_pvar_handle_free).
        public func free() {
            state.withLock { state in
                guard !state.freed else { return }
                if state.started && !variable.isContinuous && variable.countsPerTransport { Self.transportHandleStarted(false) }
                state.freed = true
                state.started = false
            }
        }

        private func value(_ state: State) -> UInt64 {
            switch variable.kind {
            case .level, .highWatermark: variable.current
            case .counter: state.accumulated &+ (state.started ? Self.since(state.base, variable.current) : 0)
            }
        }

        /// What a counter counted from `base` to `current` (0 if it went back, which no counter does).
        private static func since(_ base: UInt64, _ current: UInt64) -> UInt64 { current >= base ? current - base : 0 }

        private func check(_ state: State, _ action: String) throws(MPIError) {
            guard !state.freed else { throw MPIError(.invalidArgument, "\(action) of a freed handle of \(variable.name)") }
        }

        /// Keeps the engine counting messages per transport while any such handle is started.
        private static func transportHandleStarted(_ started: Bool) {
            let counters = PerformanceCounters.shared
            counting.withLock { _ in
                counters.startedTransportHandles += started ? 1 : -1
                Runtime.current?.updateCounting()
            }
        }

        private static let counting = Mutex(())
    }
}

extension Runtime {
    /// Gives the engine the per-transport counters while a handle counts them (between calls: at
    /// start-up and when a handle starts or stops).
    func updateCounting() {
        let counters = PerformanceCounters.shared
        _ = try? withEngine("MPI_T") { engine in engine.counters = counters.startedTransportHandles > 0 ? counters : nil }
    }
}
