#if canImport(Glibc)
import Glibc
#endif

/// The environment variables through which `swiftmpirun` hands a rank its place in the job.
///
/// This is the whole contract between the launcher and the runtime at start-up; both sides read the
/// names from here. A program started without these variables runs as a singleton job of one rank.
public enum WireupEnvironment {
    /// The rank of this process in the world communicator (0-based).
    public static let rank = "SWIFTMPI_RANK"
    /// The number of ranks in the job.
    public static let size = "SWIFTMPI_SIZE"
    /// The rank's index among the ranks on its host, and their number.
    public static let localRank = "SWIFTMPI_LOCAL_RANK"
    /// The number of ranks on this rank's host.
    public static let localSize = "SWIFTMPI_LOCAL_SIZE"
    /// A job identifier, unique on the host, used to name the job's shared-memory segments.
    public static let jobID = "SWIFTMPI_JOB_ID"
    /// The path of the launcher's key-value exchange socket.
    public static let keyValueSocket = "SWIFTMPI_KVS"
    /// The job's secret (hex). Every key-value request carries it. Never printed.
    public static let secret = "SWIFTMPI_JOB_SECRET"
    /// "1" when the host runs more ranks than it has CPUs: ranks then wait by yielding the CPU.
    public static let oversubscribed = "SWIFTMPI_OVERSUBSCRIBED"
    /// Which program of a multi-program launch this rank runs (0 for the first or only one).
    public static let appNumber = "SWIFTMPI_APPNUM"
    /// The CPUs the launcher bound this rank to (a list such as `0-3,8`), or "none".
    public static let boundCPU = "SWIFTMPI_BOUND_CPU"
    /// The name of this rank's host as the launcher knows it (ranks with the same name share memory).
    public static let hostID = "SWIFTMPI_HOST"
    /// The number of hosts in the job.
    public static let hostCount = "SWIFTMPI_HOST_COUNT"
    /// The world ranks on this rank's host, by local rank, as runs (`0-3,8`: ``RankList``): with it a
    /// rank knows its shared-memory peers without reading every rank's host at wire-up.
    public static let localRanks = "SWIFTMPI_LOCAL_RANKS"
    /// The descriptor on which `swiftmpirun` asks a rank what it waits for (its hang reports).
    public static let statusFD = "SWIFTMPI_STATUS_FD"
    /// `1` when the status channel also carries recovery mode's coordination (`swiftmpirun
    /// --enable-recovery`): revokes reach the other ranks, and agreements are decided.
    public static let recoveryCoordinator = "SWIFTMPI_RECOVERY_COORDINATOR"

    /// `peers` makes recovery mode's revokes and agreements travel among the ranks even under a
    /// launcher that coordinates them (as they do where none does: under `srun`).
    public static let recoveryAgreement = "SWIFTMPI_RECOVERY_AGREEMENT"

    /// Variables a user may set to tune the runtime; `swiftmpirun --info` prints them with their values.
    /// Each is listed here when the runtime starts reading it.
    public static let userSettings: [(name: String, meaning: String)] = [
        (
            "SWIFTMPI_TRANSPORT",
            "auto (default: shared memory on a host; between hosts RDMA verbs where both have an active port on one fabric, else TCP), shm, tcp or verbs to "
                + "force TCP or verbs everywhere"
        ),
        ("SWIFTMPI_VERBS_DEVICE", "the RDMA device, as name or name:port (default: the first device with an active port)"),
        ("SWIFTMPI_VERBS_GID_INDEX", "the GID index on RoCE ports (default: chosen, RoCE v2 with an IPv4-mapped address first)"),
        ("SWIFTMPI_VERBS_REGISTRATION_CACHE", "1 (default) keeps rendezvous buffers registered for reuse, 0 registers each time (see docs/Design.md)"),
        ("SWIFTMPI_TCP_IF", "the interface name or IPv4 address TCP listens on (default: loopback on one host, else the first real interface)"),
        ("SWIFTMPI_SINGLE_COPY", "cma (default, where the kernel allows it) or none: large shared-memory messages by pipelined copy"),
        ("SWIFTMPI_SINGLE_COPY_THRESHOLD", "bytes from which shared-memory rendezvous uses Cross Memory Attach (default 32768)"),
        (
            "SWIFTMPI_SHARED_COPY",
            "1 (default) or 0: from 256 KiB the sender helps copy a single-copy message (both ranks copy chunks), or the receiver copies it alone"
        ),
        ("SWIFTMPI_WAIT_MODE", "auto (default: yield when oversubscribed), spin or yield"),
        (
            "SWIFTMPI_SHM_RING_BUDGET",
            "bytes of shared-memory rings each rank receives on, in all (default 4194304: 1 MiB per sender up to 4 ranks on a host, smaller rings beyond)"
        ),
        ("SWIFTMPI_SHM_COLLECTIVES", "1 (default) or 0: small blocking collectives of one host's ranks through shared memory instead of messages"),
        (
            "SWIFTMPI_CHECK_COLLECTIVES",
            "0 (default) or 1: collectives that use messages only (across hosts, over TCP) first check that every rank called the same one with the same root"
        ),
        (
            "SWIFTMPI_LINE_BUFFERED",
            "1 (default) makes each rank's stdout line-buffered from MPI.initialize(), 0 keeps block buffering when it is not a terminal"
        ),
        ("SWIFTMPI_TRACE", "a directory: record every rank's MPI calls and messages, merged into DIR/trace.json (swiftmpirun --trace)"),
        ("SWIFTMPI_TRACE_BUFFER", "events each rank records (default 262144, 64 bytes each); later ones are dropped and counted"),
        ("SWIFTMPI_PROFILE", "1 prints a profile of the job's MPI calls when it ends (swiftmpirun --profile)"),
        ("SWIFTMPI_PROFILE_OUT", "a directory for profile.json and the profile's SVG plots (swiftmpirun --profile-out)"),
        (
            "SWIFTMPI_RECOVERY",
            "1: recovery mode (swiftmpirun --enable-recovery sets it): a failed rank ends only what involves it; revoke, agree and shrink (docs/Recovery.md)"
        ),
        (
            "SWIFTMPI_RECOVERY_AGREEMENT",
            "launcher (default under swiftmpirun --enable-recovery) or peers (default elsewhere, as under srun: revokes and agreements among the ranks, "
                + "failures known from their transports alone)"
        ),
        (
            "SWIFTMPI_HEARTBEAT_TIMEOUT",
            "seconds (default 2, at least 1): in recovery mode across hosts, a host silent this long is lost and its ranks count as failed "
                + "(the launcher's heartbeats; among the ranks, under srun, TCP's probes)"
        ),
        (
            "SWIFTMPI_LAUNCH_FANOUT",
            "hosts each daemon starts in a multi-host launch: 0 flat (the launcher starts every host), N a tree (default: flat up to 64 hosts, 8 beyond)"
        ),
        ("SWIFTMPI_DEBUG", "1 prints wire-up, transport and collective-path decisions to stderr")
    ]

    /// The variables the launcher sets for each rank (and removes from what it passes through).
    public static let launchVariables: [String] = [
        rank, size, localRank, localSize, jobID, keyValueSocket, secret, oversubscribed, boundCPU, hostID, hostCount, statusFD, recoveryCoordinator,
        appNumber, localRanks
    ]

    /// Reads an environment variable of this process.
    public static func value(_ name: String) -> String? {
        guard let raw = getenv(name) else { return nil }
        return String(cString: raw)
    }
}

/// What a rank learns from its environment when `swiftmpirun` started it.
public struct LaunchParameters: Sendable, Equatable {
    /// The rank in the world communicator.
    public var rank: Int
    /// The number of ranks in the job.
    public var size: Int
    /// The rank's index among the ranks of its host.
    public var localRank: Int
    /// The number of ranks on this host.
    public var localSize: Int
    /// The job identifier (see ``WireupEnvironment/jobID``).
    public var jobID: String
    /// The key-value exchange's socket path.
    public var keyValueSocket: String
    /// The job secret.
    public var secret: JobSecret
    /// True when ranks outnumber CPUs on this host.
    public var oversubscribed: Bool
    /// This rank's host as the launcher names it.
    public var hostID: String = "localhost"
    /// The number of hosts in the job.
    public var hostCount: Int = 1
    /// The world ranks on this host, by local rank, when the launcher or resource manager said
    /// (nil: wire-up reads every rank's host instead).
    public var localRanks: [Int]?

    /// Creates parameters from their parts.
    public init(
        rank: Int, size: Int, localRank: Int, localSize: Int, jobID: String,
        keyValueSocket: String, secret: JobSecret, oversubscribed: Bool
    ) {
        self.rank = rank
        self.size = size
        self.localRank = localRank
        self.localSize = localSize
        self.jobID = jobID
        self.keyValueSocket = keyValueSocket
        self.secret = secret
        self.oversubscribed = oversubscribed
    }

    /// Reads the parameters through `lookup` (the process environment by default).
    /// Returns nil when no launcher variables are present (a singleton); throws
    /// ``WireupError/badEnvironment(_:)`` when some are present but invalid.
    public static func fromEnvironment(
        _ lookup: (String) -> String? = WireupEnvironment.value
    ) throws(WireupError) -> LaunchParameters? {
        guard let rankText = lookup(WireupEnvironment.rank) else { return nil }
        func integer(_ name: String, _ text: String?) throws(WireupError) -> Int {
            guard let text, let value = Int(text), value >= 0 else {
                throw .badEnvironment("\(name) must be a non-negative integer, got \(text.map { "'\($0)'" } ?? "nothing")")
            }
            return value
        }
        let rank = try integer(WireupEnvironment.rank, rankText)
        let size = try integer(WireupEnvironment.size, lookup(WireupEnvironment.size))
        guard size >= 1, rank < size else {
            throw .badEnvironment("\(WireupEnvironment.rank)=\(rank) is outside a job of \(size) ranks")
        }
        let localRank = try integer(WireupEnvironment.localRank, lookup(WireupEnvironment.localRank) ?? "\(rank)")
        let localSize = try integer(WireupEnvironment.localSize, lookup(WireupEnvironment.localSize) ?? "\(size)")
        guard let socket = lookup(WireupEnvironment.keyValueSocket), !socket.isEmpty else {
            throw .badEnvironment("\(WireupEnvironment.keyValueSocket) is missing")
        }
        guard let secretText = lookup(WireupEnvironment.secret), let secret = JobSecret(hex: secretText) else {
            throw .badEnvironment("\(WireupEnvironment.secret) is missing or malformed")
        }
        guard localRank < localSize else {
            throw .badEnvironment("\(WireupEnvironment.localRank)=\(localRank) is outside \(localSize) local ranks")
        }
        var parameters = LaunchParameters(
            rank: rank, size: size, localRank: localRank, localSize: localSize,
            jobID: lookup(WireupEnvironment.jobID) ?? "singleton",
            keyValueSocket: socket, secret: secret,
            oversubscribed: lookup(WireupEnvironment.oversubscribed) == "1")
        parameters.hostID = lookup(WireupEnvironment.hostID) ?? "localhost"
        parameters.hostCount = try integer(WireupEnvironment.hostCount, lookup(WireupEnvironment.hostCount) ?? "1")
        if let text = lookup(WireupEnvironment.localRanks) {
            guard let ranks = RankList.ranks(text), ranks.count == localSize, ranks[localRank] == rank,
                ranks.allSatisfy({ $0 < size }), Set(ranks).count == ranks.count
            else {
                throw .badEnvironment(
                    "\(WireupEnvironment.localRanks)=\(text) does not list \(localSize) distinct ranks below \(size) with rank \(rank) at \(localRank)")
            }
            parameters.localRanks = ranks
        }
        return parameters
    }
}

/// A list of ranks in a given order, written as runs of consecutive ranks: `0-3,8,5-6` is
/// [0, 1, 2, 3, 8, 5, 6] (``WireupEnvironment/localRanks``).
public enum RankList {
    /// The text of `ranks`, in their order.
    public static func text(_ ranks: [Int]) -> String {
        var pieces: [String] = []
        var index = 0
        while index < ranks.count {
            var end = index
            while end + 1 < ranks.count && ranks[end + 1] == ranks[end] + 1 { end += 1 }
            pieces.append(end == index ? "\(ranks[index])" : "\(ranks[index])-\(ranks[end])")
            index = end + 1
        }
        return pieces.joined(separator: ",")
    }

    /// The ranks `text` lists, or nil when it is not such a list.
    public static func ranks(_ text: String) -> [Int]? {
        var ranks: [Int] = []
        for piece in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = piece.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count <= 2, let first = Int(bounds[0]), first >= 0, let last = Int(bounds[bounds.count - 1]), last >= first else {
                return nil
            }
            ranks += first...last
        }
        return ranks
    }
}
