#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import SwiftMPI
import SwiftMPITransport
@testable import SwiftMPIWireup
import SwiftMPILauncherParsing

/// Generator-based fuzzing of every parser that reads bytes from outside the process: the key-value
/// exchange's request and response frames, daemon link frames and launch specs, the authentication
/// handshake, `--host` lists, hostfiles, launcher flags and the launch environment, and the packets
/// a peer hands the engine (kind, 32-byte header and payload, as read from a shared-memory slot or a
/// TCP frame; the transports' own framing is bounds-checked before that: a slot's length is clamped,
/// a TCP frame longer than the maximum fails the connection).
///
/// Each target first replays its saved corpus (`Tests/FuzzCorpus/<target>/`: seeds and every input
/// that ever failed), then runs `SWIFTMPI_FUZZ_ITERATIONS` (default 20 000) inputs made by mutating
/// the corpus and valid encodings (bit flips, interesting bytes, insertions, deletions, splices,
/// truncation) or drawn at random, seeded by `SWIFTMPI_FUZZ_SEED` (default: fixed, so CI is
/// reproducible). The property everywhere: the parser returns a value or throws its typed error; it
/// never traps, hangs or returns a value that breaks its own invariants. If an input traps, the
/// signal handler saves it to `.build/fuzz-artifacts/<target>-crash` before the process dies; add it
/// to the corpus once fixed. `Tests/Scripts/fuzz.sh` runs each target for 1 000 000 inputs.
///
/// The same byte parsers are also libFuzzer targets (`Tests/LibFuzzer`, run by
/// `Tests/Scripts/libfuzzer.sh` with `-sanitize=fuzzer,address`); the last test here replays the
/// saved corpus through them.
@Suite("fuzzing: malformed input never crashes a parser", .serialized)
struct FuzzTests {
    @Test("key-value requests (with and without the secret check)")
    func keyValueRequests() throws {
        let secret = JobSecret(bytes: Array(0..<32))!
        let seeds: [[UInt8]] = [
            KeyValueRequest.hello(rank: 3, pid: 77).encoded(secret: secret),
            KeyValueRequest.put(key: "tcp/1", value: [1, 2, 3]).encoded(secret: secret),
            KeyValueRequest.get(key: "host/0").encoded(secret: secret),
            KeyValueRequest.fence.encoded(secret: secret) + KeyValueRequest.finalize.encoded(secret: secret),
            KeyValueRequest.abort(code: 3, message: "x").encoded(secret: secret)
        ]
        try Fuzzer.run("kv-request", seeds: seeds) { input, random in
            for check in [secret, nil] {
                var decoder = KeyValueFrameDecoder()
                var rest = input[...]
                decoding: while !rest.isEmpty {
                    let chunk = rest.prefix(random.chunk())
                    rest = rest.dropFirst(chunk.count)
                    decoder.append(chunk)
                    do {
                        while let request = try decoder.nextRequest(secret: check) {
                            // Whatever decodes must re-encode to a frame that decodes to the same request.
                            var again = KeyValueFrameDecoder()
                            again.append(request.encoded(secret: secret))
                            #expect(try again.nextRequest(secret: secret) == request)
                        }
                    } catch {
                        break decoding
                    }
                }
            }
        }
    }

    @Test("key-value responses")
    func keyValueResponses() throws {
        let seeds = [KeyValueResponse.ok(value: [1, 2]), .notFound, .error("no")].map { $0.encoded() }
        try Fuzzer.run("kv-response", seeds: seeds) { input, random in
            var decoder = KeyValueFrameDecoder()
            decoder.append(input)
            do { while try decoder.nextResponse() != nil {} } catch {}
        }
    }

    @Test("daemon link frames and launch specs")
    func linkFrames() throws {
        let spec = LaunchSpec(
            jobID: "j1", hostID: "h", hostCount: 2, size: 4, ranks: [1, 3],
            apps: [
                .init(program: "/bin/true", arguments: ["a", ""]), .init(program: "/bin/echo", arguments: ["e"], environment: ["Y=2"], workingDirectory: "/tmp")
            ],
            appOfRank: [0, 1], environment: ["X=1"], binding: "seq.core/0/slot/auto")
        let seeds = [
            LinkFrame(.launch, payload: spec.encoded).encoded, LinkFrame(.output, rank: 2, payload: [1, 65, 10]).encoded,
            LinkFrame(.exited, rank: 1, payload: [0, 0, 0, 0]).encoded
        ]
        try Fuzzer.run("link-frame", seeds: seeds) { input, random in
            var decoder = LinkFrameDecoder()
            decoder.append(input)
            do {
                while let frame = try decoder.next() {
                    #expect(frame.payload.count <= LinkFrame.maxPayload)
                    if let decoded = try? LaunchSpec(decoding: frame.payload) {
                        #expect((try? LaunchSpec(decoding: decoded.encoded)) == decoded)
                    }
                }
            } catch {}
            _ = try? LaunchSpec(decoding: input)
        }
    }

    @Test("--host lists and hostfiles")
    func hosts() throws {
        let seeds = ["a:2,b,c:1", "node01 slots=4\n# comment\nnode02 max_slots=2 slots=1\n\n", "x", ":", "a:0"].map { Array($0.utf8) }
        try Fuzzer.run("hosts", seeds: seeds) { input, random in
            let text = String(decoding: input, as: UTF8.self)
            for hosts in [try? HostPlan.parseHostList(text), try? HostPlan.parseHostfile(text, path: "fuzz")] {
                guard let hosts else { continue }
                #expect(!hosts.isEmpty && hosts.allSatisfy { !$0.name.isEmpty && $0.slots > 0 })
                let ranks = random.below(9)
                for mapping in [HostPlan.Mapping.slot, .node] {
                    let plan = HostPlan(hosts: hosts, rankCount: ranks, mapping: mapping)
                    #expect(plan.hostOfRank.count == ranks && plan.hostOfRank.allSatisfy { plan.hosts.indices.contains($0) })
                }
            }
        }
    }

    @Test("launcher flags")
    func launcherFlags() throws {
        let seeds = [
            "-n\u{0}2\u{0}true", "--host\u{0}a:2\u{0}-n\u{0}4\u{0}prog", "-x\u{0}A=1\u{0}--timeout\u{0}1e9\u{0}-np\u{0}1\u{0}p",
            "--map-by\u{0}node\u{0}--bind-to\u{0}none\u{0}-n\u{0}3\u{0}p", "--daemon\u{0}x"
        ].map { Array($0.utf8) }
        try Fuzzer.run("launcher-flags", seeds: seeds, iterationShare: 0.25) { input, random in
            let arguments = input.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            // Parsing includes the checks of the whole command line; a parsed command is never run here.
            _ = try? LaunchOptions.parse(arguments, environment: { _ in random.below(2) == 0 ? "1" : nil })
        }
    }

    @Test("the launch environment a rank reads")
    func launchEnvironment() throws {
        let names = [
            WireupEnvironment.rank, WireupEnvironment.size, WireupEnvironment.localRank, WireupEnvironment.localSize,
            WireupEnvironment.jobID, WireupEnvironment.keyValueSocket, WireupEnvironment.secret,
            WireupEnvironment.oversubscribed, WireupEnvironment.boundCPU, WireupEnvironment.hostID, WireupEnvironment.hostCount
        ]
        let valid = ["1", "4", "1", "2", "job", "/tmp/kv", String(repeating: "ab", count: 32), "0", "1", "h", "1"]
        let seeds = [Array(valid.joined(separator: "\u{0}").utf8)]
        try Fuzzer.run("environment", seeds: seeds) { input, random in
            let values = input.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            let environment = Dictionary(uniqueKeysWithValues: zip(names, values).filter { _ in random.below(8) != 0 })
            if let parameters = try? LaunchParameters.fromEnvironment({ environment[$0] }) {
                #expect(parameters.rank < parameters.size && parameters.localRank < parameters.localSize)
            }
        }
    }

    @Test("packets from a peer: any kind, header and payload, against posted receives and sends in flight")
    func enginePackets() throws {
        // Rank 0's engine with a real shared-memory route to "rank 1", whose end of the segment pair
        // lives in this process too: what rank 0 sends is drained from rank 1's rings.
        let harness = try EngineHarness(jobID: "fuzz\(getpid())")
        let seeds = [
            EngineHarness.packet(kind: 1, tag: 3, length: 4, payload: [1, 2, 3, 4]),
            EngineHarness.packet(kind: 2, tag: 4, length: 1 << 20, payload: [UInt8](repeating: 0, count: 16)),
            EngineHarness.packet(kind: 3), EngineHarness.packet(kind: 4, length: 8, payload: [9, 9, 9, 9]),
            EngineHarness.packet(kind: 5, senderOperation: 1)
        ]
        var checked = 0
        try Fuzzer.run("engine-packets", seeds: seeds) { input, random in
            // Sometimes post a receive (a small exact-size buffer) or start a send, so packets find
            // operations waiting for them.
            switch random.below(4) {
            case 0:
                harness.postReceive(
                    capacity: random.below(64), context: UInt32(random.below(2)), anySource: random.below(2) == 0,
                    tag: random.below(2) == 0 ? nil : Int32(random.below(5)))
            case 1:
                harness.startSend(count: random.below(64), tag: Int32(random.below(5)), synchronous: random.below(2) == 0)
            default:
                break
            }
            Self.deliverChecked(input, to: harness)
            checked += 1
        }
        #expect(checked > 0)
    }

    /// Feeds one fuzzed packet to `harness`, expects none of what a hostile peer must never achieve
    /// (each one a sentence naming what broke), and keeps the queues short.
    static func deliverChecked(_ input: [UInt8], to harness: EngineHarness) {
        input.withUnsafeBytes { harness.deliver($0) }
        let violations = harness.violations()
        #expect(violations.isEmpty, "after input \(input): \(violations)")
        harness.trim()
    }

    @Test(
        "recovery packets from a peer (revoke, contribute, decide, query), malformed or not, in recovery mode: nothing traps and the engine's invariants hold")
    func recoveryPackets() throws {
        let harness = try EngineHarness(jobID: "fuzzrec\(getpid())")
        harness.recoveryMode = true
        let seeds = [
            harness.recoveryPacket(2, sequence: 0, words: [7], maxima: [3]), harness.recoveryPacket(3, sequence: 1, words: [1], failed: [1]),
            harness.recoveryPacket(4, sequence: 2, failed: [0, 1]), harness.recoveryPacket(1, sequence: 0),
            EngineHarness.packet(kind: 9, tag: 2, payload: [255, 255, 255, 255, 255, 255, 255, 255] + [UInt8](repeating: 0, count: 16))
        ]
        var checked = 0
        try Fuzzer.run("recovery-packets", seeds: seeds) { input, random in
            if random.below(8) == 0 { harness.startAgreement(random.below(4), words: [UInt64(random.below(8))], maxima: [random.below(8)]) }
            _ = harness.agreementResult(random.below(4))
            Self.deliverChecked(input, to: harness)
            checked += 1
        }
        #expect(checked > 0)
    }

    @Test("an agreement among the members: the coordinator decides on every contribution (and, max), and a query cannot fail its sender")
    func agreementAmongMembers() throws {
        let harness = try EngineHarness(jobID: "agree\(getpid())")
        // Outside recovery mode a peer's agreement packets are dropped: this contribution would
        // decide the agreement below at once.
        harness.recoveryPacket(2, sequence: 0, words: [1], maxima: [1]).withUnsafeBytes { harness.deliver($0) }
        harness.recoveryMode = true
        // Rank 0 coordinates: no result before rank 1's contribution, then the combination.
        harness.startAgreement(0, words: [0b110, 0xFF], maxima: [4, -2])
        #expect(harness.agreementResult(0) == nil)
        harness.recoveryPacket(2, sequence: 0, words: [0b011, 0x0F], maxima: [3, 9]).withUnsafeBytes { harness.deliver($0) }
        let result = try #require(harness.agreementResult(0))
        #expect(result.words == [0b010, 0x0F] && result.maxima == [4, 9] && result.failed.isEmpty)
        // A contribution that arrives before this rank starts is kept for it.
        harness.recoveryPacket(2, sequence: 1, words: [1], maxima: []).withUnsafeBytes { harness.deliver($0) }
        harness.startAgreement(1, words: [3], maxima: [])
        #expect(harness.agreementResult(1)?.words == [1])
        // A query naming rank 1 itself (or this rank) as failed fails nobody.
        harness.recoveryPacket(4, sequence: 2, failed: [0, 1]).withUnsafeBytes { harness.deliver($0) }
        #expect(!harness.peerFailed)
        // Once rank 1 fails, rank 0 decides alone, and says who failed.
        harness.startAgreement(2, words: [5], maxima: [1])
        harness.failPeer("connection closed by rank 1")
        let alone = try #require(harness.agreementResult(2))
        #expect(alone.words == [5] && alone.maxima == [1] && alone.failed == [1])
        // A revoke from a peer revokes the communicator here.
        harness.recoveryPacket(1, sequence: 0).withUnsafeBytes { harness.deliver($0) }
        #expect(harness.worldRevoked)
        // So it does outside recovery mode (ULFM's revoke needs no failure).
        let plain = try EngineHarness(jobID: "revoke\(getpid())")
        plain.recoveryPacket(1, sequence: 0).withUnsafeBytes { plain.deliver($0) }
        #expect(plain.worldRevoked)
    }

    @Test("a revoke passed on to each member's 2^k-th neighbours reaches every member from any start, with O(log n) packets each")
    func revokeOverlay() {
        for size in 1...70 {
            let members = (0..<size).map { $0 * 3 + 1 }  // world ranks of some communicator
            let bound = 2 * (Int.bitWidth - (size - 1).leadingZeroBitCount)
            for start in members {
                var reached: Set<Int> = [start], frontier = [start]
                while let member = frontier.popLast() {
                    let neighbours = EngineHarness.revokeNeighbours(of: member, among: members)
                    #expect(neighbours.count <= bound && !neighbours.contains(member) && Set(neighbours).isSubset(of: members))
                    for next in neighbours where reached.insert(next).inserted { frontier.append(next) }
                }
                #expect(reached.count == size, "\(size) members, from \(start): \(reached.count) reached")
            }
        }
    }

    @Test("a receive posted after its source failed fails at once, after taking what had already arrived")
    func receiveFromFailedPeer() throws {
        let harness = try EngineHarness(jobID: "failed\(getpid())")
        // A message that arrived before the failure is still received...
        EngineHarness.packet(kind: 1, tag: 4, length: 2, payload: [7, 8]).withUnsafeBytes { harness.deliver($0) }
        harness.failPeer("connection closed by rank 1")
        harness.postReceive(capacity: 8, context: 0, anySource: false, tag: 4)
        #expect(harness.lastReceiveIsComplete && harness.lastReceiveError == nil)
        // ...and the next one, which can never come, fails instead of waiting forever.
        harness.postReceive(capacity: 8, context: 0, anySource: false, tag: 4)
        #expect(harness.lastReceiveIsComplete)
        #expect(
            harness.lastReceiveError?.contains("recv: rank 1 failed: connection closed by rank 1") == true, "\(String(describing: harness.lastReceiveError))")
    }

    @Test("the engine-packet invariants catch a receive that outgrew its buffer")
    func enginePacketInvariantsCanFail() throws {
        // The check above must be able to fail: a receive of 4 bytes given an 8-byte eager message
        // with the truncation error cleared is reported.
        let harness = try EngineHarness(jobID: "fuzzcheck\(getpid())")
        harness.postReceive(capacity: 4, context: 0, anySource: true, tag: nil)
        EngineHarness.packet(kind: 1, tag: 0, length: 8, payload: [1, 2, 3, 4, 5, 6, 7, 8]).withUnsafeBytes { harness.deliver($0) }
        #expect(harness.violations().isEmpty, "a truncated receive carries its error")
        harness.clearErrorsForTesting()
        #expect(harness.violations().contains { $0.contains("completed with 8 bytes and no error") })
    }

    @Test("the authentication handshake refuses garbage from a socket without hanging")
    func handshake() throws {
        let secret = JobSecret(bytes: Array(0..<32))!
        let handshake = Handshake(magic: "SMTC", secret: secret)
        try Fuzzer.run("handshake", seeds: [Array("SMTC".utf8) + [UInt8](repeating: 0, count: 60)], iterationShare: 0.02) { input, random in
            var fds: [Int32] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { return }
            defer { close(fds[1]) }
            _ = input.withUnsafeBytes { write(fds[0], $0.baseAddress, $0.count) }
            close(fds[0])
            #expect(throws: WireupError.self) {
                _ = try handshake.accept(fds[1], id: 0, deadline: Handshake.now() + 0.5, allow: { _ in true })
            }
        }
    }
}

/// The libFuzzer targets' normal build replays every saved input of their corpus directories.
@Suite("fuzzing: the libFuzzer targets replay the saved corpus")
struct LibFuzzerCorpusTests {
    @Test(
        "every saved input and seed passes through its libFuzzer target",
        arguments: [
            "kv-request", "kv-response", "link-frame", "environment", "engine-packets", "pmi2-mapping", "verbs-address",
            "handshake", "launcher-flags", "hosts", "slurm-counts", "datatypes"
        ])
    func replay(target: String) throws {
        let seeds = TestRun.scratchDirectory.appendingPathComponent("seeds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: seeds, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: seeds) }
        let program = JobRunner.binaryDirectory.appendingPathComponent("swiftmpi-fuzz").path
        #expect(try ChildProcess(program, ["--seeds", target, seeds.path]).wait() == 0)
        let corpus = Fuzzer.packageRoot.appendingPathComponent("Tests/FuzzCorpus/\(target)").path
        let out = seeds.appendingPathComponent("out").path
        let status = try ChildProcess(
            program, [target, seeds.path] + (FileManager.default.fileExists(atPath: corpus) ? [corpus] : []),
            stdoutPath: out, stderrPath: out
        ).wait()
        let output = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        #expect(status == 0, "\(output)")
        #expect(output.contains("swiftmpi-fuzz \(target): replayed "), "\(output)")
    }
}

/// The fuzzing loop shared by the targets.
enum Fuzzer {
    /// The package's root directory (this file is Tests/SwiftMPITests/FuzzTests.swift).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Inputs per target (each target may take a share of it when one input is expensive).
    static var iterations: Int { Int(ProcessInfo.processInfo.environment["SWIFTMPI_FUZZ_ITERATIONS"] ?? "") ?? 20_000 }

    static func run(
        _ target: String, seeds: [[UInt8]], iterationShare: Double = 1,
        _ body: ([UInt8], inout FuzzRandom) throws -> Void
    ) throws {
        let corpusDirectory = Fuzzer.packageRoot.appendingPathComponent("Tests/FuzzCorpus/\(target)")
        let saved = ((try? FileManager.default.contentsOfDirectory(atPath: corpusDirectory.path)) ?? []).sorted().compactMap {
            FileManager.default.contents(atPath: corpusDirectory.appendingPathComponent($0).path).map { [UInt8]($0) }
        }
        let corpus = seeds + saved
        let seed = UInt64(ProcessInfo.processInfo.environment["SWIFTMPI_FUZZ_SEED"] ?? "") ?? 0x5EED_0F_5A1F7
        var random = FuzzRandom(seed: target.utf8.reduce(seed) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 })  // FNV-style mix
        CrashCapture.arm(target: target)
        defer { CrashCapture.disarm() }
        for input in corpus {
            CrashCapture.current(input)
            try body(input, &random)
        }
        let count = max(100, Int(Double(iterations) * iterationShare))
        for _ in 0..<count {
            let input = random.below(10) == 0 ? random.bytes(random.below(300)) : random.mutate(corpus[random.below(corpus.count)], corpus)
            CrashCapture.current(input)
            try body(input, &random)
        }
        print("fuzz \(target): \(corpus.count) corpus inputs and \(count) generated inputs, no crash")
    }
}

/// SplitMix64 and the mutations.
struct FuzzRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { bound <= 0 ? 0 : Int(next() % UInt64(bound)) }
    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }
    /// How many bytes to hand a stream decoder at once.
    mutating func chunk() -> Int { below(4) == 0 ? 1 + below(3) : 1 + below(4096) }

    private static let interesting: [UInt8] = [0, 1, 0x7F, 0x80, 0xFF, 0x0A, 0x3A, 0x2C, 0x3D, 0x20, 0x2D]

    mutating func mutate(_ base: [UInt8], _ corpus: [[UInt8]]) -> [UInt8] {
        var bytes = base
        for _ in 0...below(4) {
            switch below(8) {
            case 0 where !bytes.isEmpty: bytes[below(bytes.count)] ^= UInt8(1 << below(8))
            case 1 where !bytes.isEmpty: bytes[below(bytes.count)] = Self.interesting[below(Self.interesting.count)]
            case 2: bytes.insert(contentsOf: self.bytes(1 + below(8)), at: below(bytes.count + 1))
            case 3 where !bytes.isEmpty:
                let start = below(bytes.count)
                bytes.removeSubrange(start..<min(bytes.count, start + 1 + below(16)))
            case 4: bytes = Array(bytes.prefix(below(bytes.count + 1)))
            case 5:
                let other = corpus[below(corpus.count)]
                bytes = Array(bytes.prefix(below(bytes.count + 1))) + Array(other.suffix(below(other.count + 1)))
            case 6 where bytes.count >= 4:
                // A length-like field set to an extreme.
                let at = below(bytes.count - 3)
                let value: UInt32 = [0, 1, 0xFFFF_FFFF, 0x8000_0000, 1 << 20, (1 << 20) + 1][below(6)]
                for i in 0..<4 { bytes[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
            default: bytes += self.bytes(below(4))
            }
        }
        return bytes
    }
}

/// Saves the input being tried when the process traps, so a crash becomes a corpus file.
enum CrashCapture {
    // nonisolated(unsafe): written by the one fuzzing loop before each input, read only by the signal
    // handler of that same thread when the input traps; nothing else touches them.
    nonisolated(unsafe) private static var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 8)
    nonisolated(unsafe) private static var length = 0
    nonisolated(unsafe) private static var path: UnsafeMutablePointer<CChar>?

    static func arm(target: String) {
        let directory = Fuzzer.packageRoot.appendingPathComponent(".build/fuzz-artifacts")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = strdup(directory.appendingPathComponent("\(target)-crash").path)
        for signal in [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGABRT, SIGFPE] {
            Glibc.signal(signal) { number in
                if let path = CrashCapture.path {
                    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                    if fd >= 0 { _ = write(fd, CrashCapture.buffer.baseAddress, CrashCapture.length); close(fd) }
                }
                Glibc.signal(number, SIG_DFL)
                raise(number)
            }
        }
    }

    static func current(_ input: [UInt8]) {
        length = min(input.count, buffer.count)
        input.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0.prefix(length))) }
    }

    static func disarm() {
        for signal in [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGABRT, SIGFPE] { Glibc.signal(signal, SIG_DFL) }
        free(path)
        path = nil
    }
}
