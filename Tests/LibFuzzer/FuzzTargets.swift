// swiftmpi-fuzz: libFuzzer targets for the parsers that read bytes from outside the process.
//
// Built by Tests/Scripts/libfuzzer.sh with `-sanitize=fuzzer,address` and SWIFTMPI_LIBFUZZER defined:
// libFuzzer then provides `main` and calls LLVMFuzzerTestOneInput for the target named by
// SWIFTMPI_FUZZ_TARGET. In the normal build this is a plain program that replays saved inputs:
// `swiftmpi-fuzz TARGET FILE|DIR...` (the test suite runs it over Tests/FuzzCorpus/TARGET).
// Every target states a property; a violation traps, which libFuzzer reports as a crash.
#if canImport(Glibc)
import Glibc
#endif
import SwiftMPI
import CShims
import SwiftMPITransport
import SwiftMPIWireup
import SwiftMPILauncherParsing

/// The targets, by name. Each takes one input; returning means the property held.
let fuzzTargets: [String: @Sendable (UnsafeRawBufferPointer) -> Void] = [
    "kv-request": keyValueRequest,
    "kv-response": keyValueResponse,
    "link-frame": linkFrame,
    "environment": environment,
    "engine-packets": enginePackets,
    "pmi2-mapping": pmi2Mapping,
    "verbs-address": verbsAddress,
    "handshake": handshake,
    "launcher-flags": launcherFlags,
    "hosts": hosts,
    "slurm-counts": slurmCounts,
    "datatypes": datatypes
]

private let secret = JobSecret(bytes: Array(0..<32))!

/// Key-value requests, checked with and without the secret: whatever decodes re-encodes to a frame
/// that decodes to the same request.
func keyValueRequest(_ input: UnsafeRawBufferPointer) {
    for check in [secret, nil] {
        var decoder = KeyValueFrameDecoder()
        decoder.append(Array(input)[...])
        while let request = try? decoder.nextRequest(secret: check) {
            var again = KeyValueFrameDecoder()
            again.append(request.encoded(secret: secret)[...])
            guard (try? again.nextRequest(secret: secret)) == request else { fatalError("kv request does not round-trip: \(request)") }
        }
    }
}

/// Key-value responses: decode or throw.
func keyValueResponse(_ input: UnsafeRawBufferPointer) {
    var decoder = KeyValueFrameDecoder()
    decoder.append(Array(input)[...])
    while (try? decoder.nextResponse()) != nil {}
}

/// Daemon link frames and the launch specs they carry: bounded payloads, specs that round-trip.
func linkFrame(_ input: UnsafeRawBufferPointer) {
    var decoder = LinkFrameDecoder()
    decoder.append(Array(input)[...])
    while let frame = try? decoder.next() {
        guard frame.payload.count <= LinkFrame.maxPayload else { fatalError("link frame payload over the maximum") }
        if let spec = try? LaunchSpec(decoding: frame.payload), (try? LaunchSpec(decoding: spec.encoded)) != spec {
            fatalError("launch spec does not round-trip")
        }
    }
    _ = try? LaunchSpec(decoding: Array(input))
}

/// The launch environment a rank reads (values separated by NUL bytes, in the variables' order):
/// accepted parameters are consistent.
func environment(_ input: UnsafeRawBufferPointer) {
    let names = [
        WireupEnvironment.rank, WireupEnvironment.size, WireupEnvironment.localRank, WireupEnvironment.localSize,
        WireupEnvironment.jobID, WireupEnvironment.keyValueSocket, WireupEnvironment.secret,
        WireupEnvironment.oversubscribed, WireupEnvironment.boundCPU, WireupEnvironment.hostID, WireupEnvironment.hostCount
    ]
    let values = input.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    let environment = Dictionary(uniqueKeysWithValues: zip(names, values))
    if let parameters = try? LaunchParameters.fromEnvironment({ environment[$0] }),
        !(parameters.rank >= 0 && parameters.rank < parameters.size && parameters.localRank >= 0 && parameters.localRank < parameters.localSize)
    {
        fatalError("inconsistent launch parameters accepted: \(parameters)")
    }
}

/// Slurm's PMI_process_mapping: a node for every rank, or a typed error.
func pmi2Mapping(_ input: UnsafeRawBufferPointer) {
    let size = input.first.map { Int($0) + 1 } ?? 1
    let text = String(decoding: input.dropFirst(), as: UTF8.self)
    if let nodes = try? PMI2Client.nodeOfEachRank(mapping: text, size: size), nodes.count != size || nodes.contains(where: { $0 < 0 }) {
        fatalError("mapping \(text) gave \(nodes) for \(size) ranks")
    }
}

/// A peer's published verbs address (queue pairs for a job whose size is the first byte + 1).
func verbsAddress(_ input: UnsafeRawBufferPointer) {
    let size = input.first.map { Int($0) + 1 } ?? 1
    if let address = VerbsTransport.Address(decoding: Array(input.dropFirst()), size: size) {
        guard address.pairs.count == size else { fatalError("verbs address with \(address.pairs.count) pairs for \(size) ranks") }
        _ = address.summary
    }
}

/// The authentication handshake, both sides, against whatever a socket delivers: garbage never
/// passes (a proof needs the secret and a fresh nonce) and never hangs (the peer closed its end).
func handshake(_ input: UnsafeRawBufferPointer) {
    let handshake = Handshake(magic: "SMTC", secret: secret)
    for accepting in [true, false] {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { fatalError("socketpair: \(errno)") }
        _ = write(fds[0], input.baseAddress, min(input.count, 65536))
        close(fds[0])
        let deadline = Handshake.now() + 5
        let passed =
            accepting
            ? (try? handshake.accept(fds[1], id: 0, deadline: deadline, allow: { _ in true })) != nil
            : (try? handshake.connect(fds[1], id: 0, expected: nil, deadline: deadline)) != nil
        close(fds[1])
        if passed { fatalError("a handshake without the secret passed (\(accepting ? "accept" : "connect"))") }
    }
}

/// swiftmpirun's command line (words separated by NUL bytes): parsed options satisfy the checks
/// the launcher relies on, or parsing throws its typed error.
func launcherFlags(_ input: UnsafeRawBufferPointer) {
    let words = input.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    for allocation in [nil, "1"] as [String?] {
        guard let options = try? LaunchOptions.parse(words, environment: { $0 == "SLURM_JOB_ID" ? allocation : nil }),
            options.action == .run
        else { continue }
        guard !options.command.isEmpty, options.hostList == nil || options.hostfile == nil,
            options.rankCount.map({ (1...LaunchOptions.maximumRankCount).contains($0) }) ?? true,
            options.timeout.map({ $0 > 0 && $0.isFinite }) ?? true,
            options.exports.allSatisfy({ !$0.hasPrefix("=") && !$0.isEmpty })
        else {
            fatalError("launcher options accepted that break the launcher's assumptions: \(options)")
        }
    }
}

/// --host lists and hostfiles, then both mappings of up to 64 ranks over what parsed.
func hosts(_ input: UnsafeRawBufferPointer) {
    let text = String(decoding: input, as: UTF8.self)
    for hosts in [try? HostPlan.parseHostList(text), try? HostPlan.parseHostfile(text, path: "fuzz")] {
        guard let hosts else { continue }
        guard !hosts.isEmpty, hosts.allSatisfy({ !$0.name.isEmpty && $0.slots > 0 }) else { fatalError("hosts accepted: \(hosts)") }
        let ranks = Int(input.first ?? 0) & 63
        for mapping in HostPlan.Mapping.allCases {
            let plan = HostPlan(hosts: hosts, rankCount: ranks, mapping: mapping)
            guard plan.hostOfRank.count == ranks, plan.hostOfRank.allSatisfy(plan.hosts.indices.contains),
                Set(plan.hosts.map(\.name)).count == plan.hosts.count
            else {
                fatalError("mapping \(mapping) of \(ranks) ranks over \(hosts) gave \(plan)")
            }
        }
    }
}

/// Slurm's compressed per-node counts (SLURM_TASKS_PER_NODE): positive counts, or nil.
func slurmCounts(_ input: UnsafeRawBufferPointer) {
    let text = String(decoding: input, as: UTF8.self)
    if let counts = SlurmAllocation.expandCounts(text), counts.isEmpty || counts.contains(where: { $0 <= 0 }) {
        fatalError("counts \(counts) from '\(text)'")
    }
}

/// Packets from a peer (kind byte, 32-byte header, payload: the layout of the generator-based
/// target, so its saved inputs replay here) handed to an engine with a real shared-memory route.
/// Depending on the input's length and last byte, a receive is posted or a send started first, so
/// packets find operations waiting. Statuses of what arrives stay sane; nothing traps.
func enginePackets(_ input: UnsafeRawBufferPointer) {
    let harness = engineUnderTest
    let choice = input.last ?? 0
    switch input.count & 3 {
    case 0:
        harness.postReceive(
            capacity: Int(choice & 63), context: UInt32(choice >> 7), anySource: choice & 1 == 0,
            tag: choice & 2 == 0 ? nil : Int32(choice >> 2 & 3))
    case 1:
        harness.startSend(count: Int(choice & 63), tag: Int32(choice >> 2 & 3), synchronous: choice & 1 != 0)
    default:
        break
    }
    harness.deliver(input)
    let violations = harness.violations()
    if !violations.isEmpty { fatalError("engine-packets: \(violations.joined(separator: "; "))") }
    harness.trim()
}

/// Rank 0's engine and the other end of its shared-memory route, made once per process.
nonisolated(unsafe) let engineUnderTest: EngineHarness = {
    // nonisolated(unsafe): libFuzzer calls the target from one thread only.
    do {
        return try EngineHarness(jobID: "fuzz\(getpid())")
    } catch {
        fatalError("cannot set up the engine under test: \(error)")
    }
}()

/// Valid inputs for each target, the starting corpus (`swiftmpi-fuzz --seeds TARGET DIR` writes them).
func seeds(_ target: String) -> [[UInt8]] {
    switch target {
    case "kv-request":
        return [
            KeyValueRequest.hello(rank: 3, pid: 77), .put(key: "tcp/1", value: [1, 2, 3]), .get(key: "host/0"), .fence, .finalize,
            .abort(code: 3, message: "x")
        ].map { $0.encoded(secret: secret) }
    case "kv-response":
        return [KeyValueResponse.ok(value: [1, 2]), .notFound, .error("no")].map { $0.encoded() }
    case "link-frame":
        let spec = LaunchSpec(
            jobID: "j1", hostID: "h", hostCount: 2, size: 4, ranks: [1, 3],
            apps: [
                .init(program: "/bin/true", arguments: ["a", ""]), .init(program: "/bin/echo", arguments: ["e"], environment: ["Y=2"], workingDirectory: "/tmp")
            ],
            appOfRank: [0, 1], environment: ["X=1"], binding: "seq.core/0/slot/auto")
        return [
            LinkFrame(.launch, payload: spec.encoded).encoded, LinkFrame(.output, rank: 2, payload: [1, 65, 10]).encoded,
            LinkFrame(.exited, rank: 1, payload: [0, 0, 0, 0]).encoded
        ]
    case "environment":
        return [Array(["1", "4", "1", "2", "job", "/tmp/kv", String(repeating: "ab", count: 32), "0", "1", "h", "1"].joined(separator: "\u{0}").utf8)]
    case "engine-packets":
        return [
            EngineHarness.packet(kind: 1, tag: 3, length: 4, payload: [1, 2, 3, 4]),
            EngineHarness.packet(kind: 2, tag: 4, length: 1 << 20, payload: [UInt8](repeating: 0, count: 80)),
            EngineHarness.packet(kind: 3), EngineHarness.packet(kind: 4, length: 8, payload: [9, 9, 9, 9]),
            EngineHarness.packet(kind: 5, senderOperation: 1)
        ]
    case "pmi2-mapping":
        return [[3] + Array("(vector,(0,2,2))".utf8), [7] + Array("(vector,(0,1,3),(1,1,5))".utf8), [0] + Array("(vector)".utf8)]
    case "handshake":
        return [Array("SMTC".utf8) + [1] + [UInt8](repeating: 0, count: 20), Array("SMTC".utf8) + [1] + [UInt8](repeating: 7, count: 52)]
    case "launcher-flags":
        return [
            "-n\u{0}2\u{0}true", "--host\u{0}a:2\u{0}-n\u{0}4\u{0}prog", "-x\u{0}A=1\u{0}--timeout\u{0}1e9\u{0}-np\u{0}1\u{0}p",
            "--map-by\u{0}node\u{0}--bind-to\u{0}none\u{0}-n4\u{0}--\u{0}p\u{0}-n", "--daemon\u{0}x\u{0}--daemon-host=1",
            "--np=3\u{0}--transport=tcp\u{0}--tag-output\u{0}--output-dir\u{0}/tmp/x\u{0}p"
        ].map { Array($0.utf8) }
    case "hosts":
        return ["a:2,b,c:1", "node01 slots=4\n# comment\nnode02 max_slots=2 slots=1\n\n", "x", ":", "a:0"].map { Array($0.utf8) }
    case "slurm-counts":
        return ["2(x3),1", "4", "1,1,1", "2(x0)"].map { Array($0.utf8) }
    case "datatypes":
        return datatypeSeeds()
    case "verbs-address":
        var port = cshims_verbs_address()
        port.link_layer = 2
        return [[1] + VerbsTransport.Address(port: port, pairs: [(0, 0), (0x11, 0x22)]).encoded]
    default:
        return []
    }
}

/// The target chosen by SWIFTMPI_FUZZ_TARGET, looked up once.
let selectedTarget: @Sendable (UnsafeRawBufferPointer) -> Void = {
    let name = getenv("SWIFTMPI_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = fuzzTargets[name] else {
        fatalError("SWIFTMPI_FUZZ_TARGET=\(name): expected one of \(fuzzTargets.keys.sorted().joined(separator: ", "))")
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    selectedTarget(UnsafeRawBufferPointer(start: data, count: count))
    return 0
}

#if SWIFTMPI_LIBFUZZER
// SwiftPM links an executable's entry point under the name <module>_main; here it hands control to
// libFuzzer's driver (whose own `main` is then not linked).
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

@_cdecl("swiftmpi_fuzz_main")
func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { data, size in fuzzOneInput(data, size) }
}
#else
/// Without libFuzzer: replays files (or every file of directories) through a target.
@main
enum Replay {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.count == 3, arguments[0] == "--seeds" {
            for (index, seed) in seeds(arguments[1]).enumerated() {
                guard let file = fopen("\(arguments[2])/seed-\(index)", "wb") else { exit(1) }
                _ = seed.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
                fclose(file)
            }
            exit(0)
        }
        guard let name = arguments.first, let target = fuzzTargets[name], arguments.count > 1 else {
            print("usage: swiftmpi-fuzz TARGET FILE|DIR...   targets: \(fuzzTargets.keys.sorted().joined(separator: ", "))")
            exit(2)
        }
        var replayed = 0
        for path in arguments.dropFirst() {
            for file in files(path) {
                guard let bytes = read(file) else { print("swiftmpi-fuzz: cannot read \(file)"); exit(1) }
                bytes.withUnsafeBytes { target($0) }
                replayed += 1
            }
        }
        print("swiftmpi-fuzz \(name): replayed \(replayed) inputs, no failure")
    }

    static func files(_ path: String) -> [String] {
        guard let directory = opendir(path) else { return [path] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            // Read in place: a dirent is only as long as its name, so copying the 256-byte d_name
            // field reads past the end of the directory buffer's last entry.
            let field = UnsafeRawPointer(entry) + MemoryLayout<dirent>.offset(of: \dirent.d_name)!
            let name = String(cString: field.assumingMemoryBound(to: CChar.self))
            if !name.hasPrefix(".") && name != "README.md" { names.append(path + "/" + name) }
        }
        return names.sorted()
    }

    static func read(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            if n == 0 { break }
            bytes += chunk[0..<n]
        }
        return bytes
    }
}
#endif
