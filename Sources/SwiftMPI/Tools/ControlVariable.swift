import SwiftMPIWireup

extension MPI {
    /// One of SwiftMPI's settings, as MPI's tool information interface calls them: a control
    /// variable (MPI_T cvar), readable at any time — before `MPI.initialize()` too — and, where its
    /// ``scope`` allows, writable while the program runs. The C interface's `MPI_T_cvar_*`
    /// functions are these, by ``index``.
    ///
    /// Values are what this process uses: the running runtime's, or before it starts (and after
    /// it ends) what the environment would give it. `SWIFTMPI_SINGLE_COPY_THRESHOLD` may be changed
    /// by each rank at any time (it decides how this rank receives large shared-memory messages);
    /// `SWIFTMPI_CHECK_COLLECTIVES` may be changed, to the same value on every rank, between
    /// collectives (0 is off, any other value on). The rest are fixed when the runtime starts.
    public struct ControlVariable: Sendable, Hashable {
        /// A control variable's value.
        public enum Value: Sendable, Equatable {
            /// A number (MPI_INT in C).
            case integer(Int)
            /// Text (MPI_CHAR in C, at most 255 bytes).
            case text(String)
        }

        /// Who may change a variable, and when (MPI_T_SCOPE_READONLY, _LOCAL, _ALL_EQ).
        public enum Scope: Sendable {
            /// Fixed when the runtime starts (through the environment).
            case readOnly
            /// Each rank may change its own value at any time.
            case local
            /// May change, to the same value on every rank, between collectives.
            case allEqual
        }

        /// The variable's position in ``all`` (its MPI_T index).
        public let index: Int

        /// Every control variable, in index order.
        public static let all: [ControlVariable] = ToolVariables.controls.indices.map { ControlVariable(index: $0) }

        /// The variable called `name` (`SWIFTMPI_...`), if there is one.
        public static func named(_ name: String) -> ControlVariable? { all.first { $0.name == name } }

        private var entry: ToolVariables.Control { ToolVariables.controls[index] }

        /// The environment variable that sets it, e.g. `SWIFTMPI_SINGLE_COPY_THRESHOLD`.
        public var name: String { entry.name }
        /// What it does.
        public var description: String { entry.meaning }
        /// Whether ``value`` is an integer (true) or text.
        public var isInteger: Bool { entry.type == .integer }
        /// Who may change it.
        public var scope: Scope {
            switch entry.scope {
            case .readOnly: .readOnly
            case .local: .local
            case .allEqual: .allEqual
            }
        }

        /// The value this process uses now.
        public var value: Value {
            let running = Runtime.current
            let settings = running?.settings ?? RuntimeSettings.fromEnvironment()
            switch name {
            case "SWIFTMPI_TRANSPORT": return .text(settings.transport)
            case "SWIFTMPI_TCP_IF": return .text(settings.tcpInterface ?? "")
            case "SWIFTMPI_SINGLE_COPY": return .text(settings.singleCopyEnabled ? "cma" : "none")
            case "SWIFTMPI_SINGLE_COPY_THRESHOLD":
                return .integer(running.map { runtime in runtime.withLockIfAny { runtime.engine.singleCopyThreshold } } ?? settings.singleCopyThreshold)
            case "SWIFTMPI_SHARED_COPY": return .integer(settings.sharedCopyEnabled ? 1 : 0)
            case "SWIFTMPI_WAIT_MODE": return .text(settings.waitMode)
            case "SWIFTMPI_SHM_COLLECTIVES": return .integer(settings.sharedCollectives ? 1 : 0)
            case "SWIFTMPI_CHECK_COLLECTIVES":
                return .integer(running.map { runtime in runtime.withLockIfAny { runtime.checkCollectivesSetting } } ?? (settings.checksCollectives ? 1 : 0))
            case "SWIFTMPI_LINE_BUFFERED": return .integer(WireupEnvironment.value(name) == "0" ? 0 : 1)
            case "SWIFTMPI_TRACE_BUFFER": return .integer(running?.tracer?.settings.capacity ?? Tracer.Settings().capacity)
            case "SWIFTMPI_DEBUG": return .integer(settings.debug ? 1 : 0)
            default: return .text("")
            }
        }

        /// Sets the variable for this process (MPI_T_cvar_write). Throws `.invalidArgument` for a
        /// read-only variable, a value of the wrong kind or out of range, and when the runtime is
        /// not running (the writable variables change the running runtime).
        public func set(_ newValue: Value) throws(MPIError) {
            guard scope != .readOnly else {
                throw MPIError(.invalidArgument, "\(name) is read-only: it is set through the environment before the runtime starts")
            }
            guard let runtime = Runtime.current else {
                throw MPIError(.notInitialized, "\(name) can be changed only while SwiftMPI runs (between MPI.initialize() and MPI.finalize())")
            }
            guard case .integer(let number) = newValue else { throw MPIError(.invalidArgument, "\(name) takes an integer, got \(newValue)") }
            try typedErrors {
                try runtime.withEngine("MPI.ControlVariable.set(_:)") { engine in
                    switch name {
                    case "SWIFTMPI_SINGLE_COPY_THRESHOLD":
                        guard number >= 0 else { throw MPIError(.invalidArgument, "\(name) must be at least 0 bytes, got \(number)") }
                        engine.singleCopyThreshold = number
                    default:  // SWIFTMPI_CHECK_COLLECTIVES: 0 is off, any other value on (as a C flag)
                        runtime.checkCollectivesSetting = number
                    }
                }
            }
        }
    }
}

extension MPI {
    /// Makes the tool variables safe to use from any thread while other threads call SwiftMPI (the
    /// C interface's MPI_T_init_thread at MPI_THREAD_MULTIPLE): true when the runtime has, or will
    /// start with, its lock; false when it already runs below `.multiple` without one.
    package static func allowConcurrentToolCalls() -> Bool { Runtime.allowConcurrentToolCalls() }
}
