import Foundation
import Testing

/// `swiftmpi-bench` produces OSU-compatible output (no timing is asserted: these VMs are noisy).
@Suite("swiftmpi-bench output", .serialized)
struct BenchmarkTests {
    @Test(
        "OSU-style tables: header, a row per power-of-two size, values with two decimals",
        arguments: [("latency", 0), ("bw", 1), ("bibw", 1), ("mbw-mr", 1), ("multi-lat", 0)])
    func osuTable(benchmark: String, firstSize: Int) throws {
        let result = try JobRunner.run(["-n", "2", "swiftmpi-bench", benchmark, "-m", "\(firstSize):65536", "-i", "5", "-x", "2", "-W", "4"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("# SwiftMPI OSU-style MPI") == true)
        #expect(lines.contains { $0.hasPrefix("# Size") })
        let rows = lines.filter { !$0.hasPrefix("#") }
        var expectedSizes = firstSize == 0 ? [0] : []
        var size = 1
        while size <= 65536 { expectedSizes.append(size); size *= 2 }
        #expect(rows.count == expectedSizes.count, "rows: \(rows)")
        for (row, expected) in zip(rows, expectedSizes) {
            let fields = row.split(separator: " ")
            #expect(Int(fields[0]) == expected)
            // Two decimals; a few 1-byte bandwidths round to 0.00 with these tiny iteration counts.
            #expect(fields.dropFirst().allSatisfy { $0.wholeMatch(of: /\d+\.\d\d/) != nil }, "row: \(row)")
            if benchmark.hasSuffix("lat") || benchmark == "latency" { #expect(Double(fields[1])! > 0, "row: \(row)") }
        }
    }

    @Test(
        "-D vect:8:4 (OSU 7.4's datatype option) prints the transmit size: half of each buffer moves",
        arguments: ["latency", "bw", "bibw", "mbw-mr"])
    func derivedDatatype(benchmark: String) throws {
        let result = try JobRunner.run(["-n", "2", "swiftmpi-bench", benchmark, "-D", "vect:8:4", "-m", "8:4096", "-i", "5", "-x", "1", "-W", "4"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("# Datatype: vector(stride: 8, block: 4)"), "stdout: \(result.stdout)")
        let rows = result.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0.split(separator: " ") }
        #expect(rows.map { Int($0[0]) } == [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096], "stdout: \(result.stdout)")
        #expect(rows.allSatisfy { Int($0.last!) == Int($0[0])! / 2 && Double($0[1])! >= 0 }, "stdout: \(result.stdout)")
    }

    @Test("halo exchanges a column of an N×N grid with a vector datatype and prints its latency per N")
    func halo() throws {
        let result = try JobRunner.run(["-n", "2", "swiftmpi-bench", "halo", "-i", "5", "-x", "1"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let rows = result.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0.split(separator: " ") }
        // N, latency, transmit size = N doubles.
        #expect(rows.map { Int($0[0]) } == [64, 512, 4096], "stdout: \(result.stdout)")
        #expect(rows.allSatisfy { Int($0[2]) == Int($0[0])! * 8 && Double($0[1])! > 0 }, "stdout: \(result.stdout)")
    }

    @Test(
        "collective benchmarks print the average latency per size on any rank count",
        arguments: [
            ("allreduce", 3), ("bcast", 4), ("reduce", 2), ("gather", 3), ("scatter", 3), ("allgather", 3), ("alltoall", 2), ("gatherv", 3),
            ("scatterv", 3), ("allgatherv", 2), ("alltoallv", 3), ("alltoallw", 3), ("reduce-scatter", 3), ("reduce-scatter-block", 2)
        ])
    func collectives(benchmark: String, ranks: Int) throws {
        let result = try JobRunner.run(["-n", "\(ranks)", "swiftmpi-bench", benchmark, "-m", "8:4096", "-i", "5", "-x", "1"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let rows = result.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(rows.map { Int($0.split(separator: " ")[0]) } == [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096])
        #expect(rows.allSatisfy { Double($0.split(separator: " ")[1])! > 0 })
    }

    @Test(
        "one-sided benchmarks (OSU's names) print a row per size with every window kind and synchronization, on shared memory and TCP",
        arguments: [
            ["put-latency"], ["get-latency", "-w", "create"], ["put-bw", "-s", "lock"], ["get-bw", "-s", "fence"], ["acc-latency"],
            ["get-acc-latency", "-w", "create"], ["--transport", "tcp", "put-latency", "-s", "lock"], ["--transport", "tcp", "get-bw"],
            ["put-latency", "-w", "dynamic", "-s", "pscw"], ["put-bibw"], ["put-bibw", "-s", "fence", "-w", "create"],
            ["get-bw", "-s", "lock_all"], ["put-bw", "-s", "flush_local", "-w", "dynamic"], ["--transport", "tcp", "put-bibw"]
        ])
    func oneSided(arguments: [String]) throws {
        let launcher = arguments.first == "--transport" ? Array(arguments.prefix(2)) : []
        let bench = Array(arguments.dropFirst(launcher.count))
        let result = try JobRunner.run(launcher + ["-n", "2", "swiftmpi-bench"] + bench + ["-m", "1:4096", "-i", "5", "-x", "1", "-W", "4"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let rows = result.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(rows.count == 13, "\(result.stdout)")
        #expect(rows.allSatisfy { $0.contains(/^\d+ +\d+\.\d\d$/) }, "\(result.stdout)")
        for atomic in ["fop-latency", "cas-latency"] {
            let single = try JobRunner.run(launcher + ["-n", "2", "swiftmpi-bench", atomic, "-i", "5", "-x", "1"])
            #expect(single.status == 0, "stderr: \(single.stderr)")
            #expect(single.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") }.count == 1, "\(single.stdout)")
        }
    }

    @Test(
        "I/O benchmarks print aggregate MB/s per size for every pattern and form, and leave no file behind",
        arguments: [
            ["io-write"], ["io-read", "-c"], ["io-write", "-p", "strided", "-c", "-b", "1024"], ["io-read", "-p", "strided", "--cb", "disable"],
            ["io-write", "--posix", "-p", "strided"], ["io-write", "-c", "--cb-nodes", "2", "--sync"]
        ])
    func fileIO(arguments: [String]) throws {
        let directory = try TestRun.makeScratch("io-bench").path
        let result = try JobRunner.run(["-n", "3", "swiftmpi-bench"] + arguments + ["-m", "65536:262144", "-i", "2", "-x", "1", "-d", directory])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let rows = result.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(rows.map { $0.split(separator: " ").first.map(String.init) } == ["65536", "131072", "262144"], "\(result.stdout)")
        #expect(rows.allSatisfy { Double($0.split(separator: " ").last ?? "") ?? 0 > 0 }, "\(result.stdout)")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: directory))?.isEmpty == true, "the benchmark's file is left behind")
    }

    @Test(
        "non-blocking collective benchmarks print OSU's overall, compute, pure communication and overlap columns per size",
        arguments: [
            "ibcast", "iallreduce", "ireduce", "igather", "iscatter", "iallgather", "ialltoall", "igatherv", "iscatterv", "iallgatherv",
            "ialltoallv", "ialltoallw", "ireduce-scatter", "ireduce-scatter-block"
        ])
    func nonblockingCollectives(benchmark: String) throws {
        let result = try JobRunner.run(["-n", "3", "swiftmpi-bench", benchmark, "-m", "4:4096", "-i", "5", "-x", "1"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let rows = result.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }.map { $0.split(separator: " ") }
        // The reductions count bytes of Double: 4 bytes has no element and is skipped, as OSU skips it.
        let reduces = benchmark.contains("reduce")
        #expect(rows.map { Int($0[0]) } == (reduces ? [] : [4]) + [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096])
        for row in rows {
            let (overall, compute, pure, overlap) = (Double(row[1])!, Double(row[2])!, Double(row[3])!, Double(row[4])!)
            #expect(overall > 0 && compute > 0 && pure > 0 && overlap >= 0, "\(row)")
            // The computation lasts at least as long as the call alone, and the overall time includes it.
            #expect(compute >= pure * 0.99 && overall >= compute * 0.99, "\(row)")
        }
    }

    @Test("the non-blocking barrier benchmark prints one row: overall, compute, pure communication, overlap")
    func nonblockingBarrier() throws {
        let result = try JobRunner.run(["-n", "3", "swiftmpi-bench", "ibarrier", "-i", "5", "-x", "1"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let rows = result.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }
        #expect(rows.count == 1 && rows[0].split(separator: " ").compactMap { Double($0) }.count == 4, "\(rows)")
    }

    @Test("the barrier benchmark prints one latency")
    func barrier() throws {
        let result = try JobRunner.run(["-n", "3", "swiftmpi-bench", "barrier", "-i", "5", "-x", "1"])
        #expect(result.status == 0)
        #expect(result.stdout.split(separator: "\n").last.map { $0.trimmingCharacters(in: .whitespaces).wholeMatch(of: /\d+\.\d\d/) != nil } == true)
    }

    @Test("--json prints one object per size")
    func json() throws {
        let result = try JobRunner.run(["-n", "2", "swiftmpi-bench", "latency", "-m", "0:8", "-i", "5", "-x", "1", "--json"])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 5)
        #expect(lines.allSatisfy { $0.hasPrefix("{\"benchmark\": \"latency\", \"size\": ") && $0.contains("\"unit\": \"us\"") })
    }

    @Test(
        "bad options give a clear error and status 2",
        arguments: [
            ["latency", "-m", "9:3"], ["bw", "-i", "0"], ["nosuch"], ["put-latency", "-s", "nosuch"], ["latency", "-w", "create"],
            ["io-write", "-p", "diagonal"], ["latency", "-c"], ["io-read", "--cb", "sometimes"]
        ])
    func badOptions(arguments: [String]) throws {
        let result = try JobRunner.run(["-n", "2", "swiftmpi-bench"] + arguments)
        #expect(result.status == 2)
    }
}
