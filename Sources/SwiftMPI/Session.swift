/// An MPI-4 session (MPI_Session_init): a way to use SwiftMPI without the world model, for a
/// library that must not depend on whether (or when) the application called `MPI.initialize()`.
///
/// A session names the job's process sets, makes a ``Group`` of one (`Group(session:pset:)`), and
/// a communicator is made from the group by its members (`Communicator(group:tag:)`). Sessions and
/// the world model share one runtime and work side by side: initializing is local (no communication)
/// and may come before or after `MPI.initialize()`. When the last session finalizes and the world
/// model is not running, every process meets (as at `MPI.finalize()`) and SwiftMPI rests, still
/// wired up: sessions may start again (MPI-4.1 lets the sessions model initialize MPI more than
/// once), and so may the world model if `MPI.finalize()` was never called. SwiftMPI ends for good
/// when `MPI.finalize()` has been called and every session has finalized.
///
/// Process sets: `mpi://WORLD` (every process of the job), `mpi://SELF` (this process), and one per
/// host, `swiftmpi://host/NAME`, with the processes on host NAME (as the launcher or resource manager
/// named it), in the order of the job's hosts.
///
/// Sendable because its one mutable property, `isFinalized`, is changed only by `finalize()`, which
/// (like `initialize()`) MPI calls from one thread with no other call on the session running.
public final class Session: @unchecked Sendable {
    private let runtime: Runtime
    private var isFinalized = false

    private init(runtime: Runtime) { self.runtime = runtime }

    /// Starts a session (MPI_Session_init), starting SwiftMPI if nothing has yet. `threadLevel`
    /// applies when this call starts it; otherwise the running level holds (``threadLevel``).
    public static func initialize(threadLevel: ThreadLevel = .single) throws(MPIError) -> Session {
        Session(runtime: try Runtime.startSession(threadLevel: threadLevel))
    }

    /// The thread level SwiftMPI runs at.
    public var threadLevel: ThreadLevel { runtime.threadLevel }

    /// The names of the process sets (MPI_Session_get_num_psets and MPI_Session_get_nth_pset), in
    /// this order: `mpi://WORLD`, `mpi://SELF`, then one per host.
    public var processSets: [String] {
        ["mpi://WORLD", "mpi://SELF"] + hosts.names.map { "swiftmpi://host/\($0)" }
    }

    /// Ends the session (MPI_Session_finalize). When this was the last session and the world model
    /// is not running, it meets every process, as `MPI.finalize()` does, and SwiftMPI rests until a
    /// session starts again (or ends, if `MPI.finalize()` was called).
    /// Throws `.alreadyFinalized` when called twice.
    public func finalize() throws(MPIError) {
        guard !isFinalized else { throw MPIError(.alreadyFinalized, "Session.finalize(): the session was already finalized") }
        isFinalized = true
        try Runtime.stopSession()
    }

    /// The world ranks of process set `name`, or nil when there is none of that name (names are
    /// case-insensitive, as MPI asks).
    func members(of name: String) -> [Int]? {
        switch name.lowercased() {
        case "mpi://world": return Array(0..<runtime.size)
        case "mpi://self": return [runtime.rank]
        default:
            let (names, ofRank) = hosts
            guard name.lowercased().hasPrefix("swiftmpi://host/"),
                let host = names.firstIndex(where: { "swiftmpi://host/\($0)".lowercased() == name.lowercased() })
            else { return nil }
            return ofRank.indices.filter { ofRank[$0] == host }
        }
    }

    var rank: Int { runtime.rank }

    /// The job's host names and each rank's host (one unnamed host, this one, for a singleton).
    private var hosts: (names: [String], ofRank: [Int]) { runtime.hostMap() }
}

extension Group {
    /// The group of `session`'s process set `pset` (MPI_Group_from_session_pset); throws
    /// `.invalidArgument` for a name the session does not have (see ``Session/processSets``).
    public init(session: Session, pset: String) throws(MPIError) {
        guard let members = session.members(of: pset) else {
            throw MPIError(.invalidArgument, "Group(session:pset:): no process set \"\(pset)\"; this job has \(session.processSets)")
        }
        self.init(worldRanks: members, myWorldRank: session.rank)
    }
}
