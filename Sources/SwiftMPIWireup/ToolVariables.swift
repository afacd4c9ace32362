/// The catalogue of MPI's tool information interface (MPI_T) as SwiftMPI defines it: which of its
/// settings are control variables and which counters are performance variables, with their
/// meanings. Shared by the runtime (`MPI.ControlVariable`, `MPI.PerformanceVariable`, the C
/// interface's `MPI_T_` functions) and `swiftmpirun --info`, which lists them. The order of each
/// list is the variables' index in the C interface and never changes within a release.
public enum ToolVariables {
    /// How a control variable's value is typed (MPI_INT or MPI_CHAR in the C interface).
    public enum ControlType: Sendable { case integer, text }

    /// Who may change a control variable, and when (MPI_T_SCOPE_*).
    public enum ControlScope: Sendable {
        /// Fixed when the runtime starts (set through the environment); MPI_T_SCOPE_READONLY.
        case readOnly
        /// Each rank may change its own value at any time; MPI_T_SCOPE_LOCAL.
        case local
        /// May change, to the same value on every rank, between collectives; MPI_T_SCOPE_ALL_EQ.
        case allEqual
    }

    /// A control variable: a `SWIFTMPI_` setting.
    public struct Control: Sendable {
        public let name: String
        public let type: ControlType
        public let scope: ControlScope
        /// What it does (the text `swiftmpirun --info` prints for the variable).
        public var meaning: String { WireupEnvironment.userSettings.first { $0.name == name }?.meaning ?? "" }
    }

    /// The kind of a performance variable (MPI_T_PVAR_CLASS_*).
    public enum PerformanceClass: Sendable { case level, highWatermark, counter }

    /// A performance variable: a count the runtime keeps, read as a 64-bit unsigned integer.
    public struct Performance: Sendable {
        public let name: String
        public let variableClass: PerformanceClass
        /// Counts all the time (true), or only while a handle to it is started (false).
        public let continuous: Bool
        /// Its handles cannot be written or reset.
        public let readOnly: Bool
        public let meaning: String
    }

    /// SwiftMPI's control variables.
    public static let controls: [Control] = [
        Control(name: "SWIFTMPI_TRANSPORT", type: .text, scope: .readOnly),
        Control(name: "SWIFTMPI_TCP_IF", type: .text, scope: .readOnly),
        Control(name: "SWIFTMPI_SINGLE_COPY", type: .text, scope: .readOnly),
        Control(name: "SWIFTMPI_SINGLE_COPY_THRESHOLD", type: .integer, scope: .local),
        Control(name: "SWIFTMPI_SHARED_COPY", type: .integer, scope: .readOnly),
        Control(name: "SWIFTMPI_WAIT_MODE", type: .text, scope: .readOnly),
        Control(name: "SWIFTMPI_SHM_COLLECTIVES", type: .integer, scope: .readOnly),
        Control(name: "SWIFTMPI_CHECK_COLLECTIVES", type: .integer, scope: .allEqual),
        Control(name: "SWIFTMPI_LINE_BUFFERED", type: .integer, scope: .readOnly),
        Control(name: "SWIFTMPI_TRACE_BUFFER", type: .integer, scope: .readOnly),
        Control(name: "SWIFTMPI_DEBUG", type: .integer, scope: .readOnly)
    ]

    /// The transports whose messages the per-transport counters count, in their order.
    public static let countedTransports = ["self", "shm", "tcp", "verbs"]

    /// SwiftMPI's performance variables.
    public static let performance: [Performance] =
        countedTransports.flatMap { transport in
            [
                Performance(
                    name: "swiftmpi_messages_sent_\(transport)", variableClass: .counter, continuous: false, readOnly: false,
                    meaning: "messages (point-to-point and collectives' own) this rank sent over \(transport), while the handle is started"),
                Performance(
                    name: "swiftmpi_bytes_sent_\(transport)", variableClass: .counter, continuous: false, readOnly: false,
                    meaning: "bytes of the messages this rank sent over \(transport), while the handle is started")
            ]
        } + [
            Performance(
                name: "swiftmpi_rendezvous_sends", variableClass: .counter, continuous: true, readOnly: false,
                meaning: "messages sent by rendezvous (offered, then moved once the receive matched)"),
            Performance(
                name: "swiftmpi_unexpected_messages", variableClass: .counter, continuous: true, readOnly: false,
                meaning: "messages that arrived before a receive matched them (queued as unexpected)"),
            Performance(
                name: "swiftmpi_unexpected_queue_length", variableClass: .level, continuous: true, readOnly: true,
                meaning: "messages in the unexpected queue now"),
            Performance(
                name: "swiftmpi_unexpected_queue_high_water", variableClass: .highWatermark, continuous: true, readOnly: true,
                meaning: "the most messages the unexpected queue held at once since the runtime started"),
            Performance(
                name: "swiftmpi_shared_copy_chunks_read", variableClass: .counter, continuous: true, readOnly: false,
                meaning: "chunks of large shared-memory messages this rank copied as receiver"),
            Performance(
                name: "swiftmpi_shared_copy_chunks_written", variableClass: .counter, continuous: true, readOnly: false,
                meaning: "chunks this rank copied into its receivers' buffers as sender")
        ]
}
