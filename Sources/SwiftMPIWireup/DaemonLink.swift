#if canImport(Glibc)
import Glibc
#endif

/// The messages between `swiftmpirun` and its per-host daemons, over an authenticated TCP link.
///
/// ```
/// frame  ┌──────┬───────┬──────────┬────────────┬─────────────────┐
///        │ kind │ 0 0 0 │ rank u32 │ length u32 │ payload         │   (little endian)
///        └──────┴───────┴──────────┴────────────┴─────────────────┘
/// daemon → launcher: started(rank; pid), output(rank; stream byte + bytes), exited(rank; wait status),
///                    keyValue(rank; request frame, secret zeroed), failed(rank; message),
///                    status(rank; a line the rank wrote on its status channel: a hang report,
///                    or a recovery request starting with "!"),
///                    agentExited(rank = host index; wait status): a tree start's launch agent
///                    for that host, started by this daemon, ended with a failure
/// launcher → daemon: launch(LaunchSpec), signal(signal number), keyValue(rank; response frame),
///                    statusRequest (ask every rank of the host what it waits for),
///                    notice(rank; a recovery line for the rank's status channel)
/// both ways:         heartbeat (recovery mode: every 0.5 s; a side silent for longer than the
///                    timeout is lost — docs/Recovery.md)
/// ```
/// The link is authenticated once by ``Handshake`` (magic "SMDL", ids = host indices), so forwarded
/// key-value requests travel without the secret; the daemon checks it on its local socket.
public enum LinkKind: UInt8, Sendable {
    case started = 1, output = 2, exited = 3, keyValue = 4, failed = 5, status = 6, heartbeat = 7, agentExited = 8
    case launch = 10, signal = 11, statusRequest = 12, notice = 13
}

/// One decoded link frame.
public struct LinkFrame: Sendable, Equatable {
    public var kind: LinkKind
    public var rank: Int
    public var payload: [UInt8]

    /// A frame.
    public init(_ kind: LinkKind, rank: Int = 0, payload: [UInt8] = []) {
        self.kind = kind
        self.rank = rank
        self.payload = payload
    }

    /// The largest payload accepted.
    public static let maxPayload = 4 << 20

    /// The frame's bytes.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = [kind.rawValue, 0, 0, 0]
        appendLittleEndian(UInt32(truncatingIfNeeded: rank), to: &bytes)
        appendLittleEndian(UInt32(payload.count), to: &bytes)
        return bytes + payload
    }
}

/// Splits a link's byte stream into frames; anything malformed throws (the link is then closed).
public struct LinkFrameDecoder: Sendable {
    private var buffer: [UInt8] = []

    /// An empty decoder.
    public init() {}

    /// Adds received bytes.
    public mutating func append<C: Collection<UInt8>>(_ bytes: C) { buffer.append(contentsOf: bytes) }

    /// The next whole frame, or nil if more bytes are needed.
    public mutating func next() throws(WireupError) -> LinkFrame? {
        guard buffer.count >= 12 else { return nil }
        guard let kind = LinkKind(rawValue: buffer[0]) else { throw .malformed("unknown link message \(buffer[0])") }
        let length = Int(readLittleEndianUInt32(buffer, at: 8))
        guard length <= LinkFrame.maxPayload else { throw .malformed("link message of \(length) bytes") }
        guard buffer.count >= 12 + length else { return nil }
        let frame = LinkFrame(kind, rank: Int(readLittleEndianUInt32(buffer, at: 4)), payload: Array(buffer[12..<(12 + length)]))
        buffer.removeFirst(12 + length)
        return frame
    }
}

/// What a daemon needs to start its host's ranks.
public struct LaunchSpec: Sendable, Equatable {
    /// One program of the job (several in a multi-program job, `swiftmpirun -n 1 a : -n 4 b`).
    public struct App: Sendable, Equatable {
        /// The program's path (the same on every host).
        public var program: String
        /// Its arguments, the program's name first.
        public var arguments: [String]
        /// NAME=VALUE pairs for this program's ranks only (after the spec's ``LaunchSpec/environment``).
        public var environment: [String]
        /// The directory its ranks start in; empty for the daemon's own.
        public var workingDirectory: String

        /// A program from its parts.
        public init(program: String, arguments: [String], environment: [String] = [], workingDirectory: String = "") {
            self.program = program
            self.arguments = arguments
            self.environment = environment
            self.workingDirectory = workingDirectory
        }
    }

    public var jobID: String
    public var hostID: String
    public var hostCount: Int
    public var size: Int
    /// The world ranks this host runs, in local-rank order.
    public var ranks: [Int]
    /// Every program of the job, in the order given (a rank's `MPI.appNumber` is its index here).
    public var apps: [App]
    /// The program each of this host's ranks runs (an index into ``apps``), in local-rank order.
    public var appOfRank: [Int]
    /// NAME=VALUE pairs added to the daemon's environment for every rank.
    public var environment: [String]
    /// Where the host's ranks run: the launcher's placement policy as text (`PlacementPolicy.encoded`
    /// in Launcher/Parsing), followed by `+report` for `--report-bindings`.
    public var binding: String

    /// A spec from its parts; `appOfRank` defaults to the first program for every rank.
    public init(
        jobID: String, hostID: String, hostCount: Int, size: Int, ranks: [Int], apps: [App], appOfRank: [Int]? = nil,
        environment: [String], binding: String
    ) {
        self.jobID = jobID
        self.hostID = hostID
        self.hostCount = hostCount
        self.size = size
        self.ranks = ranks
        self.apps = apps
        self.appOfRank = appOfRank ?? Array(repeating: 0, count: ranks.count)
        self.environment = environment
        self.binding = binding
    }

    /// The spec's bytes (length-delimited fields).
    public var encoded: [UInt8] {
        var writer = FieldWriter()
        func list(_ items: [String]) {
            writer.integer(UInt32(items.count))
            for item in items { writer.field(Array(item.utf8)) }
        }
        for text in [jobID, hostID, binding] { writer.field(Array(text.utf8)) }
        for number in [hostCount, size] { writer.integer(UInt32(number)) }
        list(ranks.map(String.init))
        list(appOfRank.map(String.init))
        list(environment)
        writer.integer(UInt32(apps.count))
        for app in apps {
            for text in [app.program, app.workingDirectory] { writer.field(Array(text.utf8)) }
            list(app.arguments)
            list(app.environment)
        }
        return writer.bytes
    }

    /// Decodes a spec; throws on anything malformed.
    public init(decoding bytes: [UInt8]) throws(WireupError) {
        var reader = FieldReader(bytes[...])
        jobID = try reader.string()
        hostID = try reader.string()
        binding = try reader.string()
        hostCount = Int(try reader.integer())
        size = Int(try reader.integer())
        func list(_ reader: inout FieldReader) throws(WireupError) -> [String] {
            let count = Int(try reader.integer())
            guard count <= 1 << 16 else { throw .malformed("list of \(count) items") }
            var items: [String] = []
            for _ in 0..<count { items.append(try reader.string()) }
            return items
        }
        func numbers(_ reader: inout FieldReader, below limit: Int, naming: String) throws(WireupError) -> [Int] {
            var numbers: [Int] = []
            for text in try list(&reader) {
                guard let number = Int(text), number >= 0, number < limit else { throw .malformed("\(naming) '\(text)' (at most \(limit - 1))") }
                numbers.append(number)
            }
            return numbers
        }
        ranks = try numbers(&reader, below: size, naming: "rank")
        let appTexts = try list(&reader)
        environment = try list(&reader)
        let appCount = Int(try reader.integer())
        guard appCount >= 1 && appCount <= 1 << 16 else { throw .malformed("\(appCount) programs") }
        var apps: [App] = []
        for _ in 0..<appCount {
            let program = try reader.string(), workingDirectory = try reader.string()
            apps.append(App(program: program, arguments: try list(&reader), environment: try list(&reader), workingDirectory: workingDirectory))
        }
        self.apps = apps
        var appOfRank: [Int] = []
        for text in appTexts {
            guard let app = Int(text), app >= 0, app < appCount else { throw .malformed("program '\(text)' of \(appCount)") }
            appOfRank.append(app)
        }
        guard appOfRank.count == ranks.count else { throw .malformed("\(appOfRank.count) programs for \(ranks.count) ranks") }
        self.appOfRank = appOfRank
        try reader.expectEnd()
    }
}

/// Recovery mode's heartbeats between the launcher and its daemons: each side sends one every
/// ``period`` and loses the other after ``timeout(_:)`` seconds without a frame — the launcher then
/// counts the host's ranks as failed, the daemon ends them (a host cut off must not go on alone).
public enum Heartbeat {
    /// Seconds between heartbeats.
    public static let period = 0.5
    /// The variable that sets the timeout (seconds; at least 1, default 2).
    public static let variable = "SWIFTMPI_HEARTBEAT_TIMEOUT"

    /// The timeout `value` (the variable's text, if set) asks for: 2 when unset or not valid (the
    /// launcher refuses a value that is not valid before anything starts: ``parse(_:)``).
    public static func timeout(_ value: String?) -> Double {
        value.flatMap(parse) ?? 2
    }

    /// The seconds `text` gives, or nil when it is not a finite number of at least 1.
    public static func parse(_ text: String) -> Double? {
        guard let seconds = Double(text), seconds.isFinite, seconds >= 1 else { return nil }
        return seconds
    }
}
