#if canImport(Glibc)
import Glibc
#endif
import SwiftMPI

/// MPI-4 sessions beside the world model, run before anything initializes SwiftMPI: sessions that
/// end and start again, process sets, groups and communicators made from them by their members, `createGroup` on the world by the
/// members of each half, the session still working after `MPI.finalize()`, and nothing starting
/// again once the last user has ended. (Its own `check`: coll-check's `require` names the world rank,
/// which does not exist yet here.)
func checkSessions() throws {
    func check(_ condition: Bool, _ message: @autoclosure () -> String, line: Int = #line) {
        guard condition else {
            let text = "CHECK FAILED (line \(line)): \(message())\n"
            _ = text.utf8CString.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress!, $0.count - 1) }
            exit(1)
        }
    }
    func checkError(_ code: MPIError.Code, line: Int = #line, _ body: () throws -> Void) {
        do {
            try body()
            check(false, "expected \(code), but the call returned", line: line)
        } catch let error as MPIError {
            check(error.code == code, "expected \(code), got \(error)", line: line)
        } catch {
            check(false, "expected \(code), got \(error)", line: line)
        }
    }

    // Sessions alone: the last one's finalize meets every process and SwiftMPI rests, wired up;
    // a new session starts it again (MPI-4.1 lets the sessions model initialize MPI more than once).
    for round in 0..<2 {
        let first = try Session.initialize()
        let firstGroup = try Group(session: first, pset: "mpi://WORLD")
        check(Group.empty.size == 0 && Group.empty.union(firstGroup).rank == firstGroup.rank, "Group.empty, and its union with a session's group")
        let firstComm = try Communicator(group: firstGroup, tag: "org.swiftmpi.checks.round\(round)")
        let counted = try firstComm.allreduce([1], op: .sum)
        check(counted == [firstComm.size], "allreduce in the session of round \(round)")
        firstComm.free()
        try first.finalize()
        checkError(.alreadyFinalized) { try first.finalize() }
    }

    let session = try Session.initialize()
    check(!MPI.isInitialized, "a session alone does not initialize the world model")
    let sets = session.processSets
    check(
        Array(sets.prefix(2)) == ["mpi://WORLD", "mpi://SELF"] && sets.count >= 3 && sets[2...].allSatisfy { $0.hasPrefix("swiftmpi://host/") },
        "process sets: \(sets)")
    let everyone = try Communicator(group: try Group(session: session, pset: "mpi://WORLD"), tag: "org.swiftmpi.checks.world")
    let n = everyone.size, r = everyone.rank
    let sums = try everyone.allreduce([r], op: .sum)
    check(sums == [n * (n - 1) / 2], "allreduce on a communicator from mpi://WORLD")
    let alone = try Communicator(group: try Group(session: session, pset: "MPI://self"), tag: "org.swiftmpi.checks.self")
    let mine = try alone.allreduce([5], op: .sum)
    check(alone.size == 1 && mine == [5], "mpi://SELF (names are case-insensitive)")
    // Every host's set: this process makes the communicator of its own host's set.
    let myHost = try sets[2...].first { try Group(session: session, pset: $0).rank != nil }!
    let host = try Communicator(group: try Group(session: session, pset: myHost), tag: "org.swiftmpi.checks.host")
    check(try sets[2...].map { try Group(session: session, pset: $0).size }.reduce(0, +) == n, "the host sets partition the job: \(sets)")
    checkError(.invalidArgument) { _ = try Group(session: session, pset: "mpi://nothing") }

    // The world model beside it; createGroup by the members of each half only, at the same time.
    let world = try MPI.initialize()
    check(MPI.isInitialized && world.size == n && world.rank == r, "MPI.initialize() after a session")
    let sameHost = try world.splitType(.shared)!
    check(host.size == sameHost.size, "\(myHost) has \(host.size) processes, splitType(.shared) \(sameHost.size)")
    let half = try world.group.include(Array(stride(from: r % 2, to: n, by: 2)))
    let halfComm = try world.createGroup(half, tag: 7)
    let counted = try halfComm.allreduce([1], op: .sum)
    check(halfComm.size == half.size && counted == [half.size], "createGroup of the ranks with parity \(r % 2)")
    if n > 1 {
        let other = try world.group.include([1 - r % 2])
        checkError(.invalidArgument) { _ = try world.createGroup(other, tag: 8) }  // not a member
    }
    checkError(.invalidTag) { _ = try world.createGroup(half, tag: -1) }
    halfComm.free()
    try world.barrier()
    try MPI.finalize()
    check(!MPI.isInitialized, "after MPI.finalize()")
    checkError(.alreadyFinalized) { _ = try MPI.initialize() }

    // The session outlives the world model, and a second session comes and goes.
    let later = try everyone.allreduce([1], op: .sum)
    check(later == [n], "the session communicator after MPI.finalize()")
    let second = try Session.initialize()
    try second.finalize()
    checkError(.alreadyFinalized) { try second.finalize() }
    try session.finalize()
    checkError(.alreadyFinalized) { _ = try Session.initialize() }
}
