import Foundation
import Testing
import SwiftMPITransportConformance

/// Soft-RoCE VMs (`Tests/Scripts/rdma-vm.sh`): real RDMA verbs (rdma_rxe) on a machine whose kernel
/// has none, in qemu guests that see this machine's filesystem. The checks run inside them are in
/// `Tests/Scripts/verbs-checks.sh`. Nothing is installed here: `Tests/Scripts/prepare.sh` installs
/// qemu and rdma-core and prepares the kernel, once. Every VM ends with the run, however it ends: the
/// script stops them on SIGINT/SIGTERM and when this process has exited (`SWIFTMPI_RDMA_VM_OWNER`).
enum RDMAVirtualMachines {
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Scripts")
    static let packageRoot = scripts.deletingLastPathComponent().deletingLastPathComponent().path

    /// Why the VM tests cannot run here, or nil when they can (packages, kernel and initramfs there).
    static let unavailableReason: String? = {
        guard getuid() == 0 else { return "needs root to boot the Soft-RoCE VMs (CI runs these as root)" }
        let check = TestRun.runScript("rdma-vm.sh", ["check"])
        if check.status != 0 { return check.reason }
        // The runtime has verbs only when it was built where the libibverbs headers were.
        if let info = try? JobRunner.run(["--info"]), info.stdout.contains("built without the libibverbs headers") {
            return "this build has no verbs: it was built without the libibverbs headers; install them once with "
                + "sudo Tests/Scripts/prepare.sh (libibverbs-dev), then rebuild (the C shims are not recompiled by themselves: "
                + "remove the build directory's CShims.build)"
        }
        return nil
    }()

    /// Whether the suite can run; when it cannot, says why once, loudly.
    static let available = TestRun.suiteRuns("verbs tests in Soft-RoCE VMs", unavailableReason: unavailableReason)

    /// Runs `rdma-vm.sh arguments...` from the package root (shared into the guests) and returns its
    /// status and combined output. Its run directory is removed even when a VM fails (the output
    /// has the serial console's last lines then).
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let log = TestRun.scratchDirectory.appendingPathComponent("rdma-vm-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let command = "cd \"$1\" && shift && exec \"$@\" 2>&1"  // one stream: the log keeps the order
        let child = try ChildProcess(
            "/bin/bash", ["-c", command, "bash", packageRoot, scripts.appendingPathComponent("rdma-vm.sh").path] + arguments,
            environment: ProcessInfo.processInfo.environment
                .filter { !$0.key.hasPrefix("SWIFTMPI_") || $0.key == "SWIFTMPI_RDMA_VM_DIR" }
                .merging([
                    "SWIFTMPI_RDMA_VM_OWNER": TestRun.owner, "SWIFTMPI_RDMA_VM_KEEP": "0",
                    "TMPDIR": TestRun.scratchDirectory.path
                ]) { $1 },
            stdoutPath: log, stderrPath: "/dev/null")
        let status = child.wait()
        return (status, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    /// The lines of one `== NAME` section of verbs-checks.sh output, and the status it ended with.
    static func section(_ name: String, in output: String) -> (status: Int?, lines: [String]) {
        var lines: [String] = []
        var inside = false
        for line in output.split(separator: "\n").map(String.init) {
            if line.hasPrefix("== \(name): ") { inside = true; continue }
            if inside && line.hasPrefix("== \(name) status ") { return (Int(line.dropFirst("== \(name) status ".count)), lines) }
            if inside { lines.append(line) }
        }
        return (nil, lines)
    }

    /// Prints the lines that show which transport each rank used, so the test log shows verbs at work.
    static func report(_ name: String, _ lines: [String]) {
        for line in lines
        where line.contains(": routes ") || line.contains("verbs memory registrations") || line.contains("read scattered") || line.contains("got processFailed")
        {
            print("[\(name)] \(line)")
        }
    }
}

/// On a machine without an RDMA device (like these), forcing verbs fails at start with the reason;
/// on one with a device, forcing verbs works.
@Suite("verbs transport on this machine")
struct VerbsHostTests {
    @Test("--transport verbs fails at start naming why verbs is unavailable, or runs where a device is active")
    func forcedVerbs() throws {
        // Whether an RDMA port is active here is read from the kernel (sysfs), not from the launcher
        // whose answer is under test: so the expected branch is fixed by the machine, and a launcher
        // that reports the wrong one, or a job that fails where it should run, fails this test.
        let active = Self.activeRDMAPorts()
        let info = try JobRunner.run(["--info"])
        let verbsLine = info.stdout.split(separator: "\n").first { $0.contains("verbs: ") }.map(String.init) ?? ""
        let result = try JobRunner.run(["--transport", "verbs", "-n", "2", "swiftmpi-p2p-check", "pingpong"])
        if active.isEmpty {
            print("verbs here: no active RDMA port in /sys/class/infiniband (\(verbsLine))")
            #expect(verbsLine.contains("unavailable: "), "no port is active, but --info says: \(verbsLine)")
            #expect(result.status != 0)
            // Whichever rank fails first ends the job (the other may be killed before it reports).
            #expect(result.stderr.contains(#/SWIFTMPI_TRANSPORT=verbs, but rank \d on /#), "stderr: \(result.stderr)")
            #expect(result.stderr.contains(#/swiftmpirun: rank \d \(pid \d+\) stopped on an uncaught error: rank \d: wireup: /#), "stderr: \(result.stderr)")
            #expect(result.stderr.contains("cannot use RDMA verbs: "), "stderr: \(result.stderr)")
            #expect(result.stderr.contains("swiftmpirun: rank "), "the launcher's one line: \(result.stderr)")
            #expect(!result.stdout.contains("passed pingpong"))
        } else {
            print("verbs here: active ports \(active) (\(verbsLine))")
            #expect(!verbsLine.contains("unavailable: "), "ports \(active) are active, but --info says: \(verbsLine)")
            #expect(result.status == 0, "stderr: \(result.stderr)")
            #expect(result.stdout.contains("passed pingpong"))
        }
    }

    /// "device:port" of every RDMA port the kernel reports ACTIVE.
    static func activeRDMAPorts() -> [String] {
        let root = "/sys/class/infiniband"
        let devices = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return devices.sorted().flatMap { device -> [String] in
            let ports = (try? FileManager.default.contentsOfDirectory(atPath: "\(root)/\(device)/ports")) ?? []
            return ports.sorted().compactMap { port in
                let state = (try? String(contentsOfFile: "\(root)/\(device)/ports/\(port)/state", encoding: .utf8)) ?? ""
                return state.contains("ACTIVE") ? "\(device):\(port)" : nil
            }
        }
    }
}

/// The verbs transport for real, on Soft-RoCE: ranks in one VM (through rxe0's loopback) and in two
/// VMs joined by a link. Each job forces verbs (except the last, which must choose it by itself).
@Suite(
    "verbs transport in Soft-RoCE VMs", .serialized,
    .enabled(if: RDMAVirtualMachines.available, "needs root and qemu for the Soft-RoCE VMs; CI runs it"))
struct VerbsVMTests {
    @Test("one VM: every point-to-point scenario, collectives, one-sided calls, the registration cache, and a failed RDMA read")
    func singleVM() throws {
        let (status, output) = try RDMAVirtualMachines.run([
            "run", "-p", "2", "-t", "900", "--", "Tests/Scripts/verbs-checks.sh",
            "single", JobRunner.binaryDirectory.path
        ])
        #expect(status == 0, "rdma-vm.sh run: \(output)")

        let info = RDMAVirtualMachines.section("info", in: output)
        #expect(info.status == 0)
        let devices = info.lines.drop { !$0.contains("verbs: ") }.prefix(3)
        for line in devices { print("[info] \(line)") }
        #expect(devices.contains { $0.contains("rxe0: guid ") }, "\(info.lines)")
        #expect(devices.contains { $0.contains("port 1: ACTIVE, Ethernet (RoCE)") && $0.contains("::ffff:169.254.77.1") }, "\(info.lines)")

        // The transport conformance suite, unchanged, against verbs on rxe0 (two queue pairs of one
        // process through the device's loopback).
        let conformance = RDMAVirtualMachines.section("conformance", in: output)
        RDMAVirtualMachines.report("conformance", conformance.lines)
        #expect(conformance.status == 0, "\(conformance.lines)")
        #expect(conformance.lines.contains("conformance: every check passed"), "\(conformance.lines)")
        #expect(conformance.lines.filter { $0.hasPrefix("PASS verbs: ") }.count == ConformanceSuite.checks.count - 1, "\(conformance.lines)")
        // The one check verbs cannot pass yet says so (docs/Design.md, verbs): loudly, in the log.
        #expect(conformance.lines.contains { $0.hasPrefix("SKIP verbs: a peer that goes away is reported") }, "\(conformance.lines)")

        let pairs = RDMAVirtualMachines.section("p2p-2", in: output)
        RDMAVirtualMachines.report("p2p-2", pairs.lines)
        #expect(pairs.status == 0, "\(pairs.lines)")
        #expect(pairs.lines.contains { $0.contains("rank 0 on ") && $0.contains(": routes 0:self 1:verbs;") && $0.contains("verbs RoCE") })
        for scenario in PointToPointTests.scenarios where !scenario.hasPrefix("datatype") {
            #expect(pairs.lines.contains("passed \(scenario)"), "\(scenario)")
        }
        let datatypes = RDMAVirtualMachines.section("p2p-datatypes", in: output)
        RDMAVirtualMachines.report("p2p-datatypes", datatypes.lines)
        #expect(datatypes.status == 0, "\(datatypes.lines)")
        #expect(datatypes.lines.contains("passed datatypes") && datatypes.lines.contains("passed datatype-errors"), "\(datatypes.lines)")
        // Shapes with runs of 4 KiB and more went by RDMA READs with scatter/gather lists on both ranks.
        for rank in 0..<2 {
            let line = datatypes.lines.first { $0.contains("rank \(rank): datatype messages read scattered ") } ?? ""
            let counts = line.matches(of: /read scattered (\d+), packed fragments sent (\d+)/).first.map { (Int($0.1) ?? 0, Int($0.2) ?? 0) }
            #expect((counts?.0 ?? 0) > 0 && (counts?.1 ?? 0) > 0, "rank \(rank): \(line)")
        }

        let three = RDMAVirtualMachines.section("p2p-3", in: output)
        RDMAVirtualMachines.report("p2p-3", three.lines)
        #expect(three.status == 0, "\(three.lines)")
        #expect(three.lines.contains { $0.contains(": routes 0:self 1:verbs 2:verbs;") })
        for scenario in ["pingpong", "wildcards", "non-overtaking", "posted-order", "stress"] {
            #expect(three.lines.contains("passed \(scenario)"), "\(scenario)")
        }

        let collectives = RDMAVirtualMachines.section("collectives", in: output)
        #expect(collectives.status == 0, "\(collectives.lines)")
        #expect(collectives.lines.contains("collectives passed on 2 ranks"))

        // One-sided calls between 3 ranks over verbs (rxe0's loopback): puts and gets by RDMA WRITE
        // and READ, which complete while the target sleeps; the rest by active messages.
        let rma = RDMAVirtualMachines.section("rma", in: output)
        RDMAVirtualMachines.report("rma", rma.lines)
        #expect(rma.status == 0, "\(rma.lines)")
        #expect(rma.lines.contains("one-sided checks passed on 3 ranks"), "\(rma.lines)")
        #expect(rma.lines.contains { $0.contains(": routes 0:self 1:verbs 2:verbs;") }, "\(rma.lines)")
        #expect(rma.lines.contains("passive target allocate: paths to rank 0: RDMA RDMA"), "\(rma.lines)")
        #expect(rma.lines.contains("passive target create: paths to rank 0: RDMA RDMA"), "\(rma.lines)")

        // 60 sends of one 1 MiB buffer: one registration per rank, every later one from the cache.
        let cache = RDMAVirtualMachines.section("registration-cache", in: output)
        RDMAVirtualMachines.report("registration-cache", cache.lines)
        #expect(cache.status == 0, "\(cache.lines)")
        // (Under a sanitizer, whose malloc may move freed memory to new pages, the cache must be off.)
        for rank in 0..<2 {
            let line = cache.lines.first { $0.contains("rank \(rank): verbs memory registrations ") } ?? ""
            let numbers = line.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .punctuationCharacters)) }
            if line.contains("registration cache off: malloc is not glibc's") {
                print("[registration-cache] rank \(rank): cache off under this build's malloc (a sanitizer's): \(line)")
                #expect(numbers.count >= 3 && numbers[1] >= 40 && numbers[2] == 0, "rank \(rank): \(line)")
            } else {
                #expect(numbers.count >= 3 && numbers[1] == 1 && numbers[2] >= 40, "rank \(rank): \(line)")
            }
        }

        // Recovery mode over verbs, as RecoveryTests.killedRank checks it over shared memory and TCP.
        for phase in ["p2p", "collective"] {
            let recovery = RDMAVirtualMachines.section("recovery-\(phase)", in: output)
            RDMAVirtualMachines.report("recovery-\(phase)", recovery.lines)
            let text = recovery.lines.joined(separator: "\n")
            #expect(recovery.status == 137, "\(text)")
            #expect(text.contains(": routes 0:self 1:verbs 2:verbs 3:verbs;"), "\(text)")
            let summaries = RecoveryTests.lines(text, containing: "agreed")
            #expect(Set(summaries.keys) == [0, 1, 3], "\(text)")
            for survivor in [0, 1, 3] {
                let suffix = "agreed 0, shrunk to 3 ranks as rank \(survivor == 3 ? 2 : survivor), failed [2], revoked \(phase == "p2p"), sum of world ranks 4"
                #expect(summaries[survivor]?.hasSuffix(suffix) == true, "rank \(survivor): \(text)")
            }
        }

        let failure = RDMAVirtualMachines.section("link-down", in: output)
        RDMAVirtualMachines.report("link-down", failure.lines)
        #expect(failure.status == 3, "\(failure.lines)")
        #expect(
            failure.lines.contains {
                $0.hasPrefix("rank 0 got processFailed") && $0.contains("verbs RDMA read from rank 1 failed: ") && $0.contains("(status ")
            },
            "\(failure.lines)")
        #expect(failure.lines.contains { $0.hasPrefix("swiftmpirun: rank 0 ") && $0.contains("exited with status 3; job aborted") })
    }

    @Test("two VMs joined by a link: ranks in each, over verbs forced and chosen by themselves; windows across them; raw verbs latency beside SwiftMPI's")
    func twoVMs() throws {
        let bin = JobRunner.binaryDirectory.path
        let (status, output) = try RDMAVirtualMachines.run([
            "pair", "-t", "900", "--", "Tests/Scripts/verbs-checks.sh", "pair-a", bin,
            "--", "Tests/Scripts/verbs-checks.sh", "pair-b", bin
        ])
        #expect(status == 0, "rdma-vm.sh pair: \(output)")

        let two = RDMAVirtualMachines.section("pair-p2p", in: output)
        RDMAVirtualMachines.report("pair-p2p", two.lines)
        #expect(two.status == 0, "\(two.lines)")
        #expect(two.lines.contains { $0.contains("rank 0 on vma: routes 0:self 1:verbs;") })
        #expect(two.lines.contains { $0.contains("rank 1 on vmb: routes 0:verbs 1:self;") })
        for scenario in ["pingpong", "wildcards", "non-overtaking", "posted-order", "ssend", "probes", "stress"] {
            #expect(two.lines.contains("passed \(scenario)"), "\(scenario)")
        }

        let three = RDMAVirtualMachines.section("pair-p2p-3", in: output)
        RDMAVirtualMachines.report("pair-p2p-3", three.lines)
        #expect(three.status == 0, "\(three.lines)")
        #expect(three.lines.contains { $0.contains("rank 2 on vmb: routes 0:verbs 1:verbs 2:self;") })
        for scenario in ["pingpong", "wildcards", "non-overtaking", "stress"] { #expect(three.lines.contains("passed \(scenario)"), "\(scenario)") }

        // Not forced: shared memory within a VM, verbs between the VMs (map-by node: 0, 2 on vma).
        let automatic = RDMAVirtualMachines.section("pair-auto", in: output)
        RDMAVirtualMachines.report("pair-auto", automatic.lines)
        #expect(automatic.status == 0, "\(automatic.lines)")
        #expect(automatic.lines.contains { $0.contains("rank 0 on vma: routes 0:self 1:verbs 2:shm 3:verbs;") }, "\(automatic.lines)")
        #expect(automatic.lines.contains { $0.contains("rank 3 on vmb: routes 0:verbs 1:shm 2:verbs 3:self;") }, "\(automatic.lines)")
        for scenario in ["pingpong", "wildcards"] { #expect(automatic.lines.contains("passed \(scenario)"), "\(scenario)") }

        // Windows across the link: each VM's two ranks share a segment, the VMs reach each other by verbs.
        let rma = RDMAVirtualMachines.section("pair-rma", in: output)
        RDMAVirtualMachines.report("pair-rma", rma.lines)
        #expect(rma.status == 0, "\(rma.lines)")
        #expect(rma.lines.contains("one-sided checks passed on 4 ranks"), "\(rma.lines)")
        // Ranks 1 and 3 are on the other VM (RDMA); rank 2 shares rank 0's VM (its memory mapped, or
        // messages for a window over the caller's memory).
        #expect(rma.lines.contains("passive target allocate: paths to rank 0: RDMA mapped RDMA"), "\(rma.lines)")
        #expect(rma.lines.contains("passive target create: paths to rank 0: RDMA messages RDMA"), "\(rma.lines)")

        // Raw verbs beside SwiftMPI over the same link: perftest's numbers and swiftmpi-bench's, printed
        // with their ratio (timings under emulation: recorded, not asserted; docs/benchmarks).
        func firstNumbers(_ name: String, column: Int) -> Double? {
            let section = RDMAVirtualMachines.section(name, in: output)
            #expect(section.status == 0, "\(name): \(section.lines)")
            // perftest separates some columns with tabs
            let fields = section.lines.lazy.map { $0.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }) }.first { $0.first == "8" } ?? []
            return fields.count > column ? Double(fields[column]) : nil
        }
        // t_avg (swiftmpi-bench reports averages too; under emulation a few slow iterations weigh)
        let rawWrite = firstNumbers("raw-write-latency", column: 5)  // half a round trip
        let rawRead = firstNumbers("raw-read-latency", column: 5)
        let put = firstNumbers("swiftmpi-put-latency", column: 1)
        let get = firstNumbers("swiftmpi-get-latency", column: 1)
        #expect(rawWrite != nil && rawRead != nil && put != nil && get != nil, "perftest \(String(describing: rawWrite)) \(String(describing: rawRead))")
        let build = output.split(separator: "\n").first { $0.hasPrefix("benchmarks from ") }.map { $0.hasSuffix("/release") ? "release" : "debug" } ?? "?"
        if let rawWrite, let rawRead, let put, let get {
            print("[raw-verbs] SwiftMPI's \(build) build")
            print(
                String(
                    format: "[raw-verbs] 8 B across the VMs, averages: ib_write_lat %.1f us (one way), ib_read_lat %.1f us; SwiftMPI put + flush %.1f us "
                        + "(%.2f x a write round trip), get %.1f us (%.2f x ib_read_lat)", rawWrite, rawRead, put, put / (2 * rawWrite), get,
                    get / rawRead))
        }
    }
}
