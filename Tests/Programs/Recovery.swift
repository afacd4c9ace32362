#if canImport(Glibc)
import Glibc
#endif
import SwiftMPI

/// recover VICTIM PHASE: world rank VICTIM is killed (SIGKILL) while the others are busy, and the
/// survivors recover as ULFM programs do — each reports how its operation ended, they agree, shrink
/// the world and check the new communicator with an allreduce (RecoveryTests).
///
/// PHASE `p2p`: the victim's successor (the watcher) waits for a message from the victim and the
/// others wait for one from the watcher, who revokes the world once its receive fails, so theirs
/// end with `.revoked`. PHASE `collective`: everyone loops in allreduce on the world until it fails.
func recoveryScenario(_ world: Communicator, victim: Int, phase: String) throws {
    try world.barrier()
    // The victim dies only once every survivor has left the barrier and said so: a survivor still in
    // the barrier when the victim died (a loaded machine) would see the failure there instead.
    if world.rank == victim {
        var word = [0]
        for peer in 0..<world.size where peer != victim { try world.recv(into: &word, from: peer, tag: 9) }
        raise(SIGKILL)
    }
    try world.send([world.rank], to: victim, tag: 9)
    var outcome = "completed"
    switch phase {
    case "p2p":
        let watcher = (victim + 1) % world.size
        var value = [0]
        do {
            try world.recv(into: &value, from: world.rank == watcher ? victim : watcher, tag: 1)
        } catch {
            outcome = "\(error.code)"
        }
        if world.rank == watcher { try world.revoke() }
    case "probe":
        // The watcher probes the victim, the others probe any source: both end with .processFailed
        // (a wildcard while the failure is not acknowledged). Once acknowledged, a wildcard probe
        // finds the watcher's message.
        let watcher = (victim + 1) % world.size
        do {
            _ = try world.probe(from: world.rank == watcher ? victim : MPI.anySource, tag: 1)
        } catch {
            outcome = "\(error.code)"
        }
        let acknowledged = world.acknowledgeFailures()
        if world.rank == watcher {
            for peer in 0..<world.size where peer != watcher && peer != victim { try world.send([watcher], to: peer, tag: 2) }
        } else {
            let status = try world.probe(from: MPI.anySource, tag: 2)
            var value = [0]
            try world.recv(into: &value, from: status.source, tag: 2)
            print("rank \(world.rank): after acknowledging \(acknowledged), a wildcard probe found rank \(status.source)'s message \(value)")
        }
    default:
        do {
            var total = 0
            for _ in 0..<10_000_000 { total &+= try world.allreduce([1], op: .sum)[0] }
        } catch {
            outcome = "\(error.code)"
        }
    }
    print("rank \(world.rank): \(phase) ended with \(outcome)")
    let agreed = try world.agree(outcome == "completed" ? 1 : 0)
    let survivors = try world.shrink()
    let sum = try survivors.allreduce([world.rank], op: .sum)[0]
    print(
        "rank \(world.rank): agreed \(agreed), shrunk to \(survivors.size) ranks as rank \(survivors.rank), failed \(world.failedRanks), "
            + "revoked \(world.isRevoked), sum of world ranks \(sum)")
}

/// Kills this process with SIGKILL after `microseconds`, from a thread, wherever the main thread is.
nonisolated func killSelf(after microseconds: UInt32) {
    var thread = pthread_t()
    pthread_create(
        &thread, nil,
        { raw in
            usleep(UInt32(UInt(bitPattern: raw)))
            kill(getpid(), SIGKILL)
            return nil
        }, UnsafeMutableRawPointer(bitPattern: UInt(microseconds)))
}

/// The iteration at which world rank `rank` dies in a soak (nil: it survives): victims are the
/// ranks listed, each at its own iteration drawn from `seed`, between operations or, every other
/// victim, during them (a thread kills it a few hundred microseconds later).
func deathPlan(rank: Int, victims: [Int], seed: Int, iterations: Int) -> (iteration: Int, during: Bool)? {
    guard let index = victims.firstIndex(of: rank) else { return nil }
    var generator = SplitMix(seed: UInt64(seed &* 31 &+ rank))
    return (Int(generator.next() % UInt64(iterations / 2)) + iterations / 10, index % 2 == 1)
}

/// A small deterministic generator (SplitMix64), so a failing soak can be replayed from its seed.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// recover-soak SEED VICTIMS...: every rank runs ITERATIONS of a ring exchange and an allreduce,
/// each result checked; the victims die at iterations drawn from SEED. The survivors recover as a
/// ULFM program does — on an error, revoke; every round ends with an agreement on whether everyone
/// finished; if not, shrink and go on from the furthest iteration — and report.
///
/// With `elements` > 1 each ring message is that many integers (8 MiB at most), so the soak also
/// runs through rendezvous, single copies and shared copies in flight when ranks die or revoke.
///
/// With `reportsErrors` (SOAK_REPORT=1) each rank prints the wall-clock time (seconds.milliseconds)
/// and the error that ended each failed round.
func recoverySoak(_ world: Communicator, seed: Int, victims: [Int], iterations: Int = 400, elements: Int = 1, reportsErrors: Bool = false) throws {
    let death = deathPlan(rank: world.rank, victims: victims, seed: seed, iterations: iterations)
    var comm = world
    var iteration = 0
    var recoveries = 0
    while true {
        let finished: Int
        do {
            try soakRound(comm, world: world, iteration: &iteration, recovered: recoveries > 0, until: iterations, death: death, elements: elements)
            finished = 1
        } catch {
            guard error.code == .processFailed || error.code == .revoked else { throw error }
            if reportsErrors {
                var now = timespec()
                clock_gettime(CLOCK_REALTIME, &now)
                let milliseconds = String(1000 + now.tv_nsec / 1_000_000).dropFirst()  // three digits
                print("rank \(world.rank): at \(now.tv_sec).\(milliseconds) a round ended with \(error.code): \(error.message)")
            }
            finished = 0
            try comm.revoke()
        }
        if try comm.agree(finished) == 1 { break }
        comm = try comm.shrink()
        recoveries += 1
    }
    print("rank \(world.rank): finished \(iteration) iterations on \(comm.size) ranks after \(recoveries) recoveries")
}

/// One round of ``recoverySoak(_:seed:victims:iterations:)``: from the furthest iteration any
/// member reached (after a recovery) to `until`, or to the first error.
func soakRound(
    _ comm: Communicator, world: Communicator, iteration: inout Int, recovered: Bool, until iterations: Int, death: (iteration: Int, during: Bool)?,
    elements: Int
) throws(MPIError) {
    if recovered { iteration = try comm.allreduce([iteration], op: .max)[0] }
    while iteration < iterations {
        if let death, death.iteration == iteration {
            if death.during { killSelf(after: 300) } else { raise(SIGKILL) }
        }
        let right = (comm.rank + 1) % comm.size, left = (comm.rank + comm.size - 1) % comm.size
        var received = [Int](repeating: -1, count: elements)
        try comm.sendrecv([Int](repeating: iteration * 1000 + comm.rank, count: elements), to: right, sendTag: 4, into: &received, from: left, recvTag: 4)
        guard received.allSatisfy({ $0 == iteration * 1000 + left }) else {
            fatalError("rank \(world.rank): ring got \(received.first { $0 != iteration * 1000 + left }!) at iteration \(iteration)")
        }
        let total = try comm.allreduce([comm.rank + 1], op: .sum)[0]
        guard total == comm.size * (comm.size + 1) / 2 else { fatalError("rank \(world.rank): allreduce gave \(total) on \(comm.size) ranks") }
        iteration += 1
    }
}

/// agree-soak SEED VICTIMS...: 1000 agreements on the world, each rank clearing its bit in some of
/// them; the victims die between or during agreements. Every survivor prints a digest of all the
/// results it got, which must be the same on all of them.
func agreementSoak(_ world: Communicator, seed: Int, victims: [Int], count: Int = 1000) throws {
    let death = deathPlan(rank: world.rank, victims: victims, seed: seed, iterations: count)
    var digest: UInt64 = 0xcbf2_9ce4_8422_2325
    for round in 0..<count {
        if let death, death.iteration == round {
            if death.during { killSelf(after: 200) } else { raise(SIGKILL) }
        }
        let flag = (round + world.rank) % 3 == 0 ? ~(1 << world.rank) : ~0
        let agreed = try world.agree(flag)
        digest = (digest ^ UInt64(bitPattern: Int64(agreed))) &* 0x100_0000_01b3
    }
    print("rank \(world.rank): \(count) agreements, digest \(String(digest, radix: 16)), failed \(world.failedRanks)")
}

/// recovery-off: rank 1 revokes a copy of the world, and every rank's barrier on it ends with
/// `.revoked` (in any mode); then agree and shrink on it, which outside recovery mode refuse with
/// `.invalidArgument`. In recovery mode without a coordinating launcher (`-x SWIFTMPI_RECOVERY=1`)
/// they work among the ranks: each prints what it got.
func recoveryOutsideRecoveryMode(_ world: Communicator) throws {
    let copy = try world.dup()
    func attempt(_ name: String, _ call: () throws(MPIError) -> String) {
        do {
            let detail = try call()
            print("rank \(world.rank): \(name) succeeded\(detail)")
        } catch {
            print("rank \(world.rank): \(name) refused: \(error.code): \(error.message)")
        }
    }
    print("rank \(world.rank): recovery mode \(MPI.recoveryMode)")
    if world.rank == 1 {
        attempt("revoke") { () throws(MPIError) in
            try copy.revoke()
            return ""
        }
    }
    attempt("barrier") { () throws(MPIError) in
        try copy.barrier()
        return ""
    }
    attempt("agree") { () throws(MPIError) in ", agreed \(try copy.agree(world.rank == 0 ? 3 : 5))" }
    attempt("shrink") { () throws(MPIError) in ", \(try copy.shrink().size) ranks" }
    print("rank \(world.rank): revoked \(copy.isRevoked), failed \(copy.failedRanks)")
    copy.free()
    try world.barrier()
    // The next communicator (perhaps on the freed one's context ids) is not revoked anywhere.
    let next = try world.dup()
    try next.barrier()
    print("rank \(world.rank): the next communicator works, revoked \(next.isRevoked)")
    next.free()
}

/// recover-timing: the last rank sends the time and dies at once; every survivor waits on it. Rank
/// 0 prints how long after the death its receive failed (detection) and its `shrink()` returned
/// (recovery), in milliseconds (docs/Recovery.md; one host: the clock is shared).
func recoveryTiming(_ world: Communicator) throws {
    let victim = world.size - 1
    try world.barrier()
    if world.rank == victim {
        // Every survivor has left the barrier before the victim dies (as in recoveryScenario).
        var word = [0]
        for peer in 0..<victim { try world.recv(into: &word, from: peer, tag: 8) }
        for peer in 0..<victim { try world.send([MPI.wtime()], to: peer, tag: 9) }
        raise(SIGKILL)
    }
    try world.send([world.rank], to: victim, tag: 8)
    var death = [0.0]
    try world.recv(into: &death, from: victim, tag: 9)
    var detected = 0.0
    do {
        var nothing = [0]
        try world.recv(into: &nothing, from: victim, tag: 1)
    } catch {
        detected = MPI.wtime()
    }
    let survivors = try world.shrink()
    let recovered = MPI.wtime()
    if world.rank == 0 {
        let detection = milliseconds(detected - death[0]), recovery = milliseconds(recovered - death[0])
        print("recovery timing at \(world.size) ranks: detected after \(detection) ms, shrunk to \(survivors.size) ranks after \(recovery) ms")
    }
}

/// `seconds` in milliseconds with two decimals.
func milliseconds(_ seconds: Double) -> String {
    let hundredths = Int((seconds * 100_000).rounded())
    return "\(hundredths / 100).\(String(hundredths % 100 + 100).dropFirst())"
}

/// recover-withdraw: a send-receive whose send fails leaves nothing writing into its receive
/// buffer. Rank 2 dies; rank 1 sends rank 0 an 8 MiB message; rank 0, once it knows of the death
/// and rank 1's message has arrived, calls `sendrecv` sending to the dead rank and receiving that
/// message. The call throws `.processFailed`, and its receive, already matched, has finished by
/// then: the buffer holds the whole message, and stays as rank 0 then sets it while the survivors
/// go on (RecoveryTests; before the fix the transport went on writing into a freed buffer). Then
/// an `isendrecv` to the dead rank whose receive nothing matches ends with the send's error.
func recoveryWithdrawnReceive(_ world: Communicator) throws {
    let count = 1 << 20
    try world.barrier()
    // Rank 2 dies only once ranks 0 and 1 have left the barrier and said so (a rank still in the
    // barrier on a loaded machine would see the failure there).
    if world.rank == 2 {
        var word = [0]
        for peer in 0..<2 { try world.recv(into: &word, from: peer, tag: 9) }
        raise(SIGKILL)
    }
    try world.send([world.rank], to: 2, tag: 9)
    if world.rank == 1 {
        try world.send((0..<count).map { $0 &* 3 }, to: 0, tag: 5)
    } else {
        var word = [0]
        do {
            try world.recv(into: &word, from: 2, tag: 1)
        } catch {
            print("rank 0: the receive from the killed rank ended with \(error.code)")
        }
        _ = try world.probe(from: 1, tag: 5)
        var buffer = [Int](repeating: -1, count: count)
        var outcome = "completed"
        do {
            try world.sendrecv([0], to: 2, sendTag: 1, into: &buffer, from: 1, recvTag: 5)
        } catch {
            outcome = "\(error.code)"
        }
        let whole = buffer.indices.allSatisfy { buffer[$0] == $0 &* 3 }
        print("rank 0: sendrecv to the killed rank ended with \(outcome); its buffer held rank 1's whole message: \(whole)")
        buffer.withUnsafeMutableBufferPointer { $0.update(repeating: -7) }
        // isendrecv alike, with a receive nothing matches yet: the request ends with the send's
        // error (it does not wait for a message), and the message sent later is received normally.
        let one = [0]
        var later = [0]
        outcome = "completed"
        do {
            try one.withUnsafeBufferPointer { sending throws(MPIError) in
                try later.withUnsafeMutableBufferPointer { receiving throws(MPIError) in
                    _ = try world.isendrecv(sending, to: 2, sendTag: 1, into: receiving, from: 1, recvTag: 6).wait()
                }
            }
        } catch {
            outcome = "\(error.code)"
        }
        try world.send([1], to: 1, tag: 7)  // now rank 1 sends the tag-6 message
        try world.recv(into: &later, from: 1, tag: 6)
        print("rank 0: isendrecv to the killed rank ended with \(outcome); the message sent afterwards was received: \(later == [66])")
        let survivors = try world.shrink()
        for _ in 0..<20 { try survivors.barrier() }
        print("rank 0: the buffer was left as set after the call: \(buffer.allSatisfy { $0 == -7 })")
        return
    }
    var go = [0]
    try world.recv(into: &go, from: 0, tag: 7)
    try world.send([66], to: 0, tag: 6)
    let survivors = try world.shrink()
    for _ in 0..<20 { try survivors.barrier() }
}

/// recover-pending: ULFM's pending wildcard receive. Rank 1 dies. Rank 0's blocking wildcard
/// receive ends with `.processFailed`; then its wildcard `irecv` pends: `wait`, `test`, `waitAny`,
/// `waitSome` and `testSome` throw `.processFailedPending` and leave the request active. Rank 0 then
/// lets rank 2 send and acknowledges the failure, and the same request receives rank 2's message.
func recoveryPendingWildcard(_ world: Communicator) throws {
    if world.rank == 1 { raise(SIGKILL) }
    if world.rank == 2 {
        var token = [0]
        try world.recv(into: &token, from: 0, tag: 1)
        try world.send([4242], to: 0, tag: 2)
        return
    }
    var word = [0]
    do {
        try world.recv(into: &word, from: MPI.anySource, tag: 2)
        print("rank 0: the blocking wildcard receive completed")
    } catch {
        print("rank 0: the blocking wildcard receive ended with \(error.code)")
    }
    let buffer = UnsafeMutableBufferPointer<Int>.allocate(capacity: 1)
    defer { buffer.deallocate() }
    buffer[0] = -1
    let request = try world.irecv(into: buffer, from: MPI.anySource, tag: 2)
    func outcome(_ call: () throws(MPIError) -> Void) -> String {
        do {
            try call()
            return "completed"
        } catch {
            return "\(error.code)"
        }
    }
    let outcomes = [
        outcome { () throws(MPIError) in _ = try request.wait() }, outcome { () throws(MPIError) in _ = try request.test() },
        outcome { () throws(MPIError) in _ = try Request.waitAny([request]) }, outcome { () throws(MPIError) in _ = try Request.waitSome([request]) },
        outcome { () throws(MPIError) in _ = try Request.testSome([request]) }
    ]
    print("rank 0: wait, test, waitAny, waitSome, testSome of the pending irecv: \(outcomes.joined(separator: ", ")); active \(request.isActive)")
    try world.send([1], to: 2, tag: 1)
    print("rank 0: acknowledged \(world.acknowledgeFailures())")
    let status = try request.wait()
    print("rank 0: the same irecv then received \(buffer[0]) from rank \(status.source)")
}
