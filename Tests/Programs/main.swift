// swiftmpi-testrank: the rank program that the integration tests launch under swiftmpirun.
// Its first argument picks a behaviour; each prints what the test checks.
#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import SwiftMPI
import SwiftMPIWireup

let arguments = Array(CommandLine.arguments.dropFirst())
let mode = arguments.first ?? "ranks"
func argument(_ index: Int, default value: Int) -> Int { arguments.count > index ? Int(arguments[index]) ?? value : value }

/// Writes `text` in several small write(2) calls, to tempt the launcher into interleaving lines.
func writeInPieces(_ text: String) {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let piece = min(7, bytes.count - offset)
        _ = bytes[offset..<(offset + piece)].withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress!, piece) }
        offset += piece
        if offset % 21 == 0 { sched_yield() }
    }
}

/// The permission bits of the shared-memory file mapped at `name` (deleted or not), via /proc/self/map_files.
func segmentModeFromMaps(_ name: String) -> String? {
    guard let maps = fopen("/proc/self/maps", "r") else { return nil }
    defer { fclose(maps) }
    var line = [CChar](repeating: 0, count: 4096)
    while fgets(&line, Int32(line.count), maps) != nil {
        let text = line.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        guard text.contains(name) else { continue }
        let range = text.prefix { $0 != " " }
        var info = stat()
        guard stat("/proc/self/map_files/\(range)", &info) == 0 else { return nil }
        return String(info.st_mode & 0o777, radix: 8)
    }
    return nil
}

/// Rank 0 talks to the key-value exchange without the secret, then with a wrong one — before its own
/// hello: once every rank has said hello the launcher removes the socket's name.
func forgeRequests() throws {
    let path = WireupEnvironment.value(WireupEnvironment.keyValueSocket)!
    let wrong = JobSecret(bytes: [UInt8](repeating: 7, count: JobSecret.byteCount))!
    for (label, frame) in [
        ("unsigned", Array("GET key please\n".utf8)),
        ("forged", KeyValueRequest.hello(rank: 0, pid: getpid()).encoded(secret: wrong))
    ] {
        let fd = try UnixSocket.connect(path: path)
        try UnixSocket.sendAll(fd, frame)
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, 0)  // the launcher closes the connection without a response
        print("\(label) request: \(n == 0 ? "refused" : "ANSWERED")")
        close(fd)
    }
}
// Modes that act before MPI.initialize read the rank and size the launcher set.
let launchedRank = WireupEnvironment.value(WireupEnvironment.rank).flatMap { Int($0) }
let launchedSize = WireupEnvironment.value(WireupEnvironment.size).flatMap { Int($0) }
if mode == "forge" && launchedRank == 0 { try forgeRequests() }
// late-init: the last rank sleeps before MPI.initialize, so the others wait in wire-up with their
// segments created and named (a launcher killed then must not leave the names behind).
if mode == "late-init", let launchedRank, let launchedSize, launchedRank == launchedSize - 1 { sleep(60) }

let world = try MPI.initialize(threadLevel: mode == "two-threads" ? .serialized : mode == "idle-cpu-multiple" ? .multiple : .single)
switch mode {
case "ranks":
    print("rank \(world.rank) of \(world.size)")
case "neighbours":  // a ring: each rank exchanges 3 rounds with its left and right neighbours only, both ways at once
    let left = (world.rank + world.size - 1) % world.size, right = (world.rank + 1) % world.size
    var total = 0
    for round in 0..<3 {
        let received = UnsafeMutableBufferPointer<Int>.allocate(capacity: 2)
        defer { received.deallocate() }
        let requests = [
            try world.irecv(into: UnsafeMutableBufferPointer(rebasing: received[0..<1]), from: left, tag: round),
            try world.irecv(into: UnsafeMutableBufferPointer(rebasing: received[1..<2]), from: right, tag: round),
            try world.isend([world.rank * 100 + round], to: right, tag: round), try world.isend([world.rank * 100 + round], to: left, tag: round)
        ]
        _ = try Request.waitAll(requests)
        guard received[0] == left * 100 + round && received[1] == right * 100 + round else {
            fatalError("rank \(world.rank): got \(received[0]) and \(received[1]) in round \(round)")
        }
        total += received[0] + received[1]
    }
    print("rank \(world.rank) neighbours ok \(total)")
case "late-handshake":  // rank 0 sends to rank 1, then stays outside SwiftMPI for longer than the TCP handshake timeout
    if world.rank == 0 {
        let request = try world.isend([42], to: 1, tag: 1)
        sleep(12)
        _ = try request.wait()
        var back = [0]
        try world.recv(into: &back, from: 1, tag: 2)
        print("rank 0 got \(back[0])")
    } else if world.rank == 1 {
        var value = [0]
        try world.recv(into: &value, from: 0, tag: 1)
        try world.send([value[0] + 1], to: 0, tag: 2)
        print("rank 1 got \(value[0])")
    }
case "exit":  // exit <code> <rank>: that rank exits with code; the others wait to be ended
    if world.rank == argument(2, default: 0) { exit(Int32(argument(1, default: 3))) }
    sleep(60)
case "segv":  // segv <rank>
    if world.rank == argument(1, default: 0) {
        let invalid = UnsafeMutablePointer<Int>(bitPattern: 16)!  // a real invalid access, as a bug would make
        invalid.pointee = 1
    }
    sleep(60)
case "abort":  // abort <code> <rank>
    if world.rank == argument(2, default: 0) { MPI.abort(Int32(argument(1, default: 5)), message: "test abort") }
    sleep(60)
case "no-finalize":  // every rank prints a line; then rank 0 returns without MPI.finalize
    print("rank \(world.rank) was here")
    if world.rank == 0 { usleep(200_000); exit(0) }  // after the others printed
    sleep(60)
case "late-init":  // see above; reached only if nobody killed the job
    break
case "sleep":
    sleep(UInt32(argument(1, default: 60)))
case "lines":  // lines <count>: long lines written in small pieces
    let count = argument(1, default: 200)
    for i in 0..<count {
        writeInPieces("rank \(world.rank) line \(i) " + String(repeating: Character(UnicodeScalar(UInt8(97 + world.rank % 26))), count: 100) + " end\n")
    }
case "stdin":  // rank 0 echoes its stdin, prefixed
    if world.rank == 0 {
        while let line = readLine() { print("got: \(line)") }
    }
case "env":  // env <NAME>
    let name = arguments.count > 1 ? arguments[1] : "PATH"
    print("rank \(world.rank) \(name)=\(WireupEnvironment.value(name) ?? "<unset>")")
case "uncaught":  // uncaught <rank>: that rank sends to a rank that does not exist, without catching
    if world.rank == argument(1, default: 1) { try world.send([1], to: world.size + 5, tag: 0) }
    sleep(60)
case "traced", "traced-abort":  // known traffic for --trace/--profile (TracingTests): a ring, an allreduce, a late rank
    let next = (world.rank + 1) % world.size, previous = (world.rank + world.size - 1) % world.size
    var small = [Int](repeating: 0, count: 8)
    for _ in 0..<3 {  // 3 × 64 bytes around the ring, tag 5
        let request = try world.isend([Int](repeating: world.rank, count: 8), to: next, tag: 5)
        try world.recv(into: &small, from: previous, tag: 5)
        try request.wait()
    }
    var large = [UInt8](repeating: 0, count: 1 << 20)  // 1 MiB around the ring, tag 6 (rendezvous)
    try world.sendrecv([UInt8](repeating: UInt8(world.rank), count: 1 << 20), to: next, sendTag: 6, into: &large, from: previous, recvTag: 6)
    let sum = try world.allreduce([1.0, 2.0, 3.0, 4.0], op: .sum)
    if mode == "traced-abort" && world.rank == 1 {
        print("rank 1 aborts")
        MPI.abort(3, message: "traced abort")
    }
    if world.rank == world.size - 1 {  // the late rank: rank 0 waits for it
        MPI.traceRegion("late") { usleep(300_000) }
        try world.send([42], to: 0, tag: 9)
    } else if world.rank == 0 {
        var late = [0]
        try world.recv(into: &late, from: world.size - 1, tag: 9)
    }
    if mode == "traced-abort" { sleep(60) }
    print("rank \(world.rank) traced: sum \(sum[0])")
case "tool-variables":  // MPI.PerformanceVariable and MPI.ControlVariable with known traffic (TracingTests)
    let session = MPI.PerformanceSession()
    let messages = session.handle(for: MPI.PerformanceVariable.named("swiftmpi_messages_sent_shm")!)
    let bytes = session.handle(for: MPI.PerformanceVariable.named("swiftmpi_bytes_sent_shm")!)
    let unexpected = session.handle(for: MPI.PerformanceVariable.named("swiftmpi_unexpected_messages")!)
    try world.barrier()
    try messages.start()
    try bytes.start()
    if world.rank == 0 {
        for _ in 0..<7 { try world.send([UInt8](repeating: 1, count: 33), to: 1, tag: 4) }
        try world.send([0], to: 1, tag: 5)
    } else if world.rank == 1 {
        _ = try world.probe(from: 0, tag: 5)  // the seven wait unexpected behind it
        var buffer = [UInt8](repeating: 0, count: 33)
        for _ in 0..<7 { try world.recv(into: &buffer, from: 0, tag: 4) }
        var last = [0]
        try world.recv(into: &last, from: 0, tag: 5)
    }
    try messages.stop()
    try bytes.stop()
    try world.barrier()
    let threshold = MPI.ControlVariable.named("SWIFTMPI_SINGLE_COPY_THRESHOLD")!
    try threshold.set(.integer(1000))
    var refused = "no"
    do { try MPI.ControlVariable.named("SWIFTMPI_TRANSPORT")!.set(.text("tcp")) } catch { refused = "\(error.code)" }
    var started = "no"
    do { try unexpected.start() } catch { started = "\(error.code)" }
    print(
        "rank \(world.rank): sent \(try messages.read()) messages \(try bytes.read()) bytes, unexpected \(try unexpected.read()), "
            + "threshold \(threshold.value), read-only set \(refused), continuous start \(started)")
    session.free()
case "print-then-hang":  // every rank prints a line with print() (stdout a pipe or a file), then waits forever
    print("rank \(world.rank) receiving from \((world.rank + 1) % world.size)")
    var value = [0]
    try world.recv(into: &value, from: (world.rank + 1) % world.size, tag: 7)
case "finalize-while-peer-waits":  // rank 1 calls MPI.finalize while rank 0 waits forever for a message from it
    if world.rank == 0 {
        var value = [0]
        try world.recv(into: &value, from: 1, tag: 9)
    }
case "finished-then-hang":  // every rank finalizes; then rank 1 sleeps (hangs outside MPI)
    try MPI.finalize()
    if world.rank == 1 { sleep(60) }
    exit(0)
case "bcast-hang":  // rank 0 waits in a bcast from root 1, which rank 1 never enters (rank 1 sleeps)
    if world.rank == 0 {
        var value = [0]
        try world.bcast(&value, root: 1)
    } else {
        sleep(60)
    }
case "collective-hang":  // rank 0 waits in a barrier that rank 1 never enters (rank 1 sleeps)
    if world.rank == 0 { try world.barrier() } else { sleep(60) }
case "idle-cpu", "idle-cpu-multiple":  // idle-cpu <seconds>: rank 0 waits that long in recv for rank 1, then reports its CPU time
    // (idle-cpu-multiple: at thread level .multiple, where a wait holds the engine lock)
    let seconds = argument(1, default: 3)
    if world.rank == 1 {
        sleep(UInt32(seconds))
        try world.send([1], to: 0, tag: 3)
    } else if world.rank == 0 {
        func cpuSeconds() -> Double {
            var usage = rusage()
            getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
            return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        }
        let (cpuBefore, start) = (cpuSeconds(), MPI.wtime())
        var value = [0]
        try world.recv(into: &value, from: 1, tag: 3)
        print("blocked \(MPI.wtime() - start) s in recv, cpu \(cpuSeconds() - cpuBefore) s")
    }
case "binding":
    print(
        "rank \(world.rank) bound to \(WireupEnvironment.value(WireupEnvironment.boundCPU) ?? "?") oversubscribed "
            + "\(WireupEnvironment.value(WireupEnvironment.oversubscribed) ?? "?")"
    )
case "affinity":  // the CPUs this rank may run on (sched_getaffinity), what the launcher said, OMP_NUM_THREADS
    var cpus = "?"
    if let file = fopen("/proc/self/status", "r") {
        var line = [CChar](repeating: 0, count: 4096)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = line.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            if text.hasPrefix("Cpus_allowed_list:") { cpus = String(text.dropFirst(18).filter { !$0.isWhitespace }) }
        }
        fclose(file)
    }
    print(
        "rank \(world.rank) cpus \(cpus) env \(WireupEnvironment.value(WireupEnvironment.boundCPU) ?? "?") "
            + "omp \(WireupEnvironment.value("OMP_NUM_THREADS") ?? "unset")")
case "mpmd":  // multi-program jobs (LauncherJobTests): every rank tells rank 0 its program, app number, role and directory
    var directory = [CChar](repeating: 0, count: 4096)
    let cwd = getcwd(&directory, directory.count) != nil ? directory.withUnsafeBufferPointer { String(cString: $0.baseAddress!) } : "?"
    let program = CommandLine.arguments[0].split(separator: "/").last.map(String.init) ?? "?"
    let mine = "app \(MPI.appNumber) \(program) \(arguments.dropFirst().joined(separator: " ")) role \(WireupEnvironment.value("ROLE") ?? "unset") cwd \(cwd)"
    if world.rank == 0 {
        var buffer = [UInt8](repeating: 0, count: 8192)
        for peer in 1..<world.size {
            let status = try world.recv(into: &buffer, from: peer, tag: 5)
            print("rank \(peer): \(String(decoding: buffer[0..<status.count(of: UInt8.self)!], as: UTF8.self))")
        }
        print("rank 0: \(mine)")
    } else {
        try world.send(Array(mine.utf8), to: 0, tag: 5)
    }
case "segment-mode":  // the mode of this rank's shared-memory segment, read before wire-up unlinks it
    let name = "/dev/shm/swiftmpi-\(WireupEnvironment.value(WireupEnvironment.jobID)!)-\(world.rank)"
    var info = stat()
    // The name is unlinked once every rank has attached; the mapping in /proc/self/maps keeps the mode.
    if stat(name, &info) == 0 {
        print("rank \(world.rank) segment mode \(String(info.st_mode & 0o777, radix: 8)) (still named)")
    } else if let mode = segmentModeFromMaps(name) {
        print("rank \(world.rank) segment mode \(mode)")
    }
case "scale":  // a ring, a 1 KiB alltoall and an allreduce, checked; rank 0 then reports /proc/meminfo's Shmem (ScaleTests)
    let next = (world.rank + 1) % world.size, previous = (world.rank + world.size - 1) % world.size
    var token = [0]
    let sent = try world.isend([world.rank], to: next, tag: 1)
    _ = try world.recv(into: &token, from: previous, tag: 1)
    try sent.wait()
    let perPeer = 128  // 128 Ints: 1 KiB to every peer
    let outgoing = (0..<(world.size * perPeer)).map { world.rank * 1_000_000 + $0 }
    let incoming = try world.alltoall(outgoing)
    let alltoallRight = (0..<world.size).allSatisfy { peer in
        (0..<perPeer).allSatisfy { incoming[peer * perPeer + $0] == peer * 1_000_000 + world.rank * perPeer + $0 }
    }
    let wrong = try world.allreduce([token[0] == previous && alltoallRight ? 0 : 1], op: .sum)[0]
    if world.rank == 0 {
        var shmem = "?"
        if let file = fopen("/proc/meminfo", "r") {
            var line = [CChar](repeating: 0, count: 256)
            while fgets(&line, Int32(line.count), file) != nil {
                let text = line.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                if text.hasPrefix("Shmem:") { shmem = String(text.split(separator: " ")[1]) }
            }
            fclose(file)
        }
        print("scale: \(world.size) ranks, \(wrong) wrong, Shmem \(shmem) kB")
    }
    try world.barrier()
case "keep-talking":  // ping-pong between ranks 0 and 1 for <seconds>, then report the count
    let seconds = Double(argument(1, default: 3))
    let start = MPI.wtime()
    var exchanged = 0
    var value: [Int64] = [0]
    if world.rank < 2 && world.size >= 2 {
        var keepGoing: [UInt8] = [1]
        while keepGoing[0] == 1 {
            if world.rank == 0 {
                keepGoing[0] = MPI.wtime() - start < seconds ? 1 : 0
                try world.send(keepGoing, to: 1, tag: 1)
                try world.send(value, to: 1, tag: 2)
                try world.recv(into: &value, from: 1, tag: 3)
            } else {
                try world.recv(into: &keepGoing, from: 0, tag: 1)
                try world.recv(into: &value, from: 0, tag: 2)
                value[0] += 1
                try world.send(value, to: 0, tag: 3)
            }
            exchanged += 1
        }
    }
    print("rank \(world.rank) exchanged \(exchanged) round trips, value \(value[0])")
case "peer-dies", "peer-dies-split":
    // Rank 1 dies; rank 0, ignoring SIGTERM for a moment, sees .processFailed in its receive. With
    // "-split" the receive is on a communicator whose ranks are reversed (world rank 1 is rank 0 there).
    let comm = mode == "peer-dies" ? world : try world.split(color: 0, key: -world.rank)!
    if world.rank == 1 {
        usleep(200_000)
        _exit(9)
    }
    if world.rank == 0 {
        signal(SIGTERM, SIG_IGN)
        var buffer: [Int32] = [0]
        do {
            let dyingRank = mode == "peer-dies" ? 1 : 0  // world rank 1, numbered in `comm` (2 ranks)
            try comm.recv(into: &buffer, from: dyingRank, tag: 5)
            print("rank 0: recv returned without error")
        } catch {
            print("rank 0 got \(error.code): \(error.message)")
        }
        fflush(nil)
        sleep(5)
    }
    sleep(5)
case "fatal-handler":
    // The world's handler is .fatal: rank 1's bad send ends the whole job with its error.
    world.errorHandler = .fatal
    if world.rank == 1 { try world.send([1], to: world.size + 3, tag: 0) }
    sleep(30)
case "two-threads":
    // At .serialized, two threads of rank 0 receive at once (nothing is ever sent): a debug build
    // must stop the rank saying so instead of letting them race.
    if world.rank == 0 { receiveOnThreads(world, count: 2, from: 1) }
    sleep(30)
case "peer-dies-await":
    // Rank 1 dies; rank 0 (ignoring SIGTERM for a moment) awaits a receive from it in a task, which
    // suspends, and must end with .processFailed through the await instead of staying suspended.
    if world.rank == 1 {
        usleep(200_000)
        _exit(9)
    }
    if world.rank == 0 {
        signal(SIGTERM, SIG_IGN)
        let finished = DispatchSemaphore(value: 0)
        Task.detached {
            do {
                _ = try await world.recv(count: 1, of: Int32.self, from: 1, tag: 5)
                print("rank 0: the await returned without error")
            } catch let error as MPIError {
                print("rank 0 got \(error.code) through await: \(error.message)")
            } catch {
                print("rank 0 got \(error) through await")
            }
            fflush(nil)
            finished.signal()
        }
        finished.wait()
        sleep(5)
    }
    sleep(5)
case "peer-dies-mid-message":
    // Rank 1 starts sending 256 MiB, lets part of it flow, then dies with data still in flight; rank 0
    // (ignoring SIGTERM for a moment) sees .processFailed in its receive instead of a hang or a short message.
    let bytes = 256 << 20
    if world.rank == 1 {
        let message = [UInt8](repeating: 7, count: bytes)
        dieIn20Milliseconds()
        try world.isend(message, to: 0, tag: 6).wait()
        sleep(5)
    }
    if world.rank == 0 {
        signal(SIGTERM, SIG_IGN)
        var buffer = [UInt8](repeating: 0, count: bytes)
        do {
            let status = try world.recv(into: &buffer, from: 1, tag: 6)
            print("rank 0: recv returned \(status.byteCount) bytes without error")
        } catch {
            print("rank 0 got \(error.code): \(error.message)")
        }
        fflush(nil)
        sleep(5)
    }
    sleep(5)
case "offer-then-peer-dies":
    // Rank 1 offers a 1 MiB message (rendezvous), then dies. Rank 0 (ignoring SIGTERM for a moment)
    // first sees the failure, then posts a receive that matches the offer still queued from the dead
    // rank: it must fail with .processFailed at once, not wait for data that can never come. (The
    // barrier first connects the two ranks: over TCP, connections are made on demand.)
    try world.barrier()
    if world.rank == 1 {
        let message = [UInt8](repeating: 7, count: 1 << 20)
        _ = try world.isend(message, to: 0, tag: 6)
        usleep(100_000)
        kill(getpid(), SIGKILL)
    }
    if world.rank == 0 {
        signal(SIGTERM, SIG_IGN)
        var small = [UInt8](repeating: 0, count: 1)
        var large = [UInt8](repeating: 0, count: 1 << 20)
        for (label, tag) in [("first", 99), ("second", 6)] {
            do {
                if tag == 99 { _ = try world.recv(into: &small, from: 1, tag: tag) } else { _ = try world.recv(into: &large, from: 1, tag: tag) }
                print("rank 0 \(label) receive returned without error")
            } catch {
                print("rank 0 \(label) receive got \(error.code): \(error.message)")
            }
            fflush(nil)
        }
        sleep(5)
    }
    sleep(5)
case "verbs-link-down":
    // Run over verbs inside a Soft-RoCE VM (Tests/Scripts/verbs-checks.sh): rank 1 offers a 64 MiB
    // message; rank 0 takes the network device under rxe0 down, then receives it. The RDMA read must
    // fail with a verbs status that reaches the receive as .processFailed, not hang. Rank 0 then exits
    // with status 3 (rank 1 waits for an acknowledgement that cannot come: the launcher ends it).
    let bytes = 64 << 20
    if world.rank == 1 {
        let message = [UInt8](repeating: 7, count: bytes)
        try world.send(message, to: 0, tag: 6)
        print("rank 1: send completed")
    } else {
        var buffer = [UInt8](repeating: 0, count: bytes)
        _ = try world.probe(from: 1, tag: 6)  // the rendezvous offer is here
        var pid: pid_t = 0
        let words: [String] = ["/bin/sh", "-c", "ip link set dev eth0 down"]
        var argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) }
        argv.append(nil)
        var exitStatus: Int32 = 0
        guard posix_spawn(&pid, "/bin/sh", nil, nil, &argv, environ) == 0, waitpid(pid, &exitStatus, 0) == pid, exitStatus == 0 else {
            fatalError("could not take eth0 down")
        }
        let start = MPI.wtime()
        do {
            let status = try world.recv(into: &buffer, from: 1, tag: 6)
            print("rank 0: recv returned \(status.byteCount) bytes without error")
        } catch {
            print("rank 0 got \(error.code) after \(Int((MPI.wtime() - start) * 1000)) ms: \(error.message)")
        }
        fflush(nil)
        exit(3)
    }
case "recover":  // recover <victim> <phase>: RecoveryTests (Recovery.swift)
    try recoveryScenario(world, victim: argument(1, default: 1), phase: arguments.count > 2 ? arguments[2] : "p2p")
case "recover-soak", "agree-soak":  // <seed> <victim>...: RecoveryTests (Recovery.swift)
    let victims = arguments.dropFirst(2).compactMap { Int($0) }
    if mode == "recover-soak" {
        let elements = Int(WireupEnvironment.value("SOAK_ELEMENTS") ?? "") ?? 1
        let iterations = Int(WireupEnvironment.value("SOAK_ITERATIONS") ?? "") ?? 400
        try recoverySoak(
            world, seed: argument(1, default: 1), victims: victims, iterations: iterations, elements: elements,
            reportsErrors: WireupEnvironment.value("SOAK_REPORT") == "1")
    } else {
        try agreementSoak(world, seed: argument(1, default: 1), victims: victims)
    }
case "recover-withdraw":  // RecoveryTests (Recovery.swift)
    try recoveryWithdrawnReceive(world)
case "recover-pending":  // RecoveryTests (Recovery.swift)
    try recoveryPendingWildcard(world)
case "recovery-off":  // RecoveryTests (Recovery.swift)
    try recoveryOutsideRecoveryMode(world)
case "recover-timing":  // RecoveryTests, docs/Recovery.md (Recovery.swift)
    try recoveryTiming(world)
case "forge":  // done before MPI.initialize (forgeRequests)
    break
default:
    print("unknown mode \(mode)")
    exit(64)
}
let worldRank = world.rank
try MPI.finalize()
if mode.hasPrefix("recover") || mode == "agree-soak" { print("rank \(worldRank): finalized") }  // RecoveryTests, SlurmTests

/// Starts a thread that kills the process (SIGKILL: nothing runs after it, not even a sanitizer's
/// exit hooks) 20 ms from now, wherever the main thread is. (A function, not top-level code: the
/// thread's closure must not be main-actor isolated.)
nonisolated func dieIn20Milliseconds() {
    var thread = pthread_t()
    pthread_create(
        &thread, nil,
        { _ in
            usleep(20_000); kill(getpid(), SIGKILL); return nil
        }, nil)
}
