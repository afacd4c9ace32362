import Foundation
import Testing

/// SwiftMPI's C interface (libmpi.so.12 with MPICH's ABI) judged from the outside: a C program
/// (Tests/CPrograms/c-interface-check.c) built with swiftmpicc against SwiftMPI's mpi.h, and the
/// same source built with MPICH's own mpicc, both run on SwiftMPI's library under swiftmpirun.
@Suite("C interface", .serialized)
struct CInterfaceTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let source = root.appendingPathComponent("Tests/CPrograms/c-interface-check.c").path

    /// Compiles the check program with `compiler` and returns its path (nil, with the output recorded
    /// as a failure, when it does not build).
    static func build(_ compiler: [String], named name: String, source: String = source) throws -> String? {
        let directory = try TestRun.makeScratch("c-interface")
        let program = directory.appendingPathComponent(name).path, log = directory.appendingPathComponent("log").path
        let child = try ChildProcess(
            compiler[0], Array(compiler.dropFirst()) + ["-Wall", "-Werror", "-o", program, source],
            environment: ProcessInfo.processInfo.environment.merging(["SWIFTMPI_BUILD_DIR": JobRunner.binaryDirectory.path]) { $1 },
            stdoutPath: log, stderrPath: log)
        let status = child.wait()
        #expect(status == 0, "\(compiler[0]) failed: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        return status == 0 ? program : nil
    }

    static let ioSource = root.appendingPathComponent("Tests/CPrograms/c-io-check.c").path

    /// MPICH's C compiler, or nil (the suite says loudly why it is skipped) when it is not installed.
    static func mpichCompiler(_ suite: String) -> String? {
        let mpicc = "/usr/bin/mpicc.mpich"
        let runs = TestRun.suiteRuns(
            suite,
            unavailableReason: FileManager.default.isExecutableFile(atPath: mpicc)
                ? nil : "\(mpicc) is not installed (apt-get install mpich libmpich-dev; Tests/Scripts/prepare.sh)")
        return runs ? mpicc : nil
    }

    /// Runs `program` under swiftmpirun at each rank count; each run must print MPICH's " No Errors".
    static func expectNoErrors(_ program: String, ranks: [Int]) throws {
        for n in ranks {
            let result = try JobRunner.run(["-n", "\(n)", program])
            #expect(result.status == 0 && result.stdout.contains(" No Errors"), "\(n) ranks: \(result.stdout) \(result.stderr)")
        }
    }

    @Test("MPI-IO from C (MPI_File_*): built with swiftmpicc at 1-4 ranks and over TCP, and built with MPICH's mpicc on SwiftMPI's library")
    func fileIO() throws {
        if let program = try Self.build([Self.root.appendingPathComponent("CInterface/swiftmpicc").path], named: "c-io-check", source: Self.ioSource) {
            try Self.expectNoErrors(program, ranks: Array(1...4))
            let overTCP = try JobRunner.run(["-n", "3", program], environment: ["SWIFTMPI_TRANSPORT": "tcp"])
            let passed = overTCP.status == 0 && overTCP.stdout.contains(" No Errors")
            #expect(passed, "over TCP: \(overTCP.stdout) \(overTCP.stderr)")
        }
        guard let mpicc = Self.mpichCompiler("MPICH-built MPI-IO program"),
            let program = try Self.build([mpicc], named: "c-io-check-mpich", source: Self.ioSource)
        else { return }
        try Self.expectNoErrors(program, ranks: [2, 3])
    }

    static let threadsSource = root.appendingPathComponent("Tests/CPrograms/c-threads-check.c").path

    @Test("MPI_THREAD_MULTIPLE from C: four threads per rank send, receive, reduce and make and free handles at once, built with swiftmpicc and MPICH's mpicc")
    func threadMultiple() throws {
        if let program = try Self.build(
            [Self.root.appendingPathComponent("CInterface/swiftmpicc").path, "-pthread"], named: "c-threads-check", source: Self.threadsSource)
        {
            try Self.expectNoErrors(program, ranks: Array(1...4))
            let overTCP = try JobRunner.run(["-n", "3", program], environment: ["SWIFTMPI_TRANSPORT": "tcp"])
            #expect(overTCP.status == 0 && overTCP.stdout.contains(" No Errors"), "over TCP: \(overTCP.stdout) \(overTCP.stderr)")
        }
        guard let mpicc = Self.mpichCompiler("MPICH-built MPI_THREAD_MULTIPLE program"),
            let program = try Self.build([mpicc, "-pthread"], named: "c-threads-check-mpich", source: Self.threadsSource)
        else { return }
        try Self.expectNoErrors(program, ranks: [2, 3])
    }

    static let toolSource = root.appendingPathComponent("Tests/CPrograms/c-mpit-check.c").path

    @Test("MPI_T from C: control variables before and after MPI_Init, counters equal to known traffic, misuse answered with MPI_T's codes")
    func toolInterface() throws {
        if let program = try Self.build([Self.root.appendingPathComponent("CInterface/swiftmpicc").path], named: "c-mpit-check", source: Self.toolSource) {
            try Self.expectNoErrors(program, ranks: [2, 3])
        }
        // A C program's calls are traced like a Swift program's: its collectives are in the profile.
        if let program = try Self.swiftmpiccProgram() {
            let profiled = try JobRunner.run(["-n", "2", "--profile", program])
            #expect(profiled.status == 0 && profiled.stdout.contains("SwiftMPI profile: 2 of 2 ranks traced"), "\(profiled.stdout) \(profiled.stderr)")
            for call in ["allreduce", "bcast", "send", "recv"] {
                #expect(profiled.stdout.contains("\n  \(call) "), "\(call) missing from the C program's profile: \(profiled.stdout)")
            }
        }
        guard let mpicc = Self.mpichCompiler("MPICH-built MPI_T program"),
            let program = try Self.build([mpicc], named: "c-mpit-check-mpich", source: Self.toolSource)
        else { return }
        try Self.expectNoErrors(program, ranks: [2])
    }

    static func swiftmpiccProgram() throws -> String? {
        try build([root.appendingPathComponent("CInterface/swiftmpicc").path], named: "c-interface-check")
    }

    @Test("a C program built with swiftmpicc passes every check at 1-5 ranks, over shared memory and TCP, and as a singleton")
    func swiftmpiccProgram() throws {
        guard let program = try Self.swiftmpiccProgram() else { return }
        for ranks in 1...5 {
            let result = try JobRunner.run(["-n", "\(ranks)", "--oversubscribe", program])
            #expect(result.status == 0 && result.stdout.contains(" No Errors"), "\(ranks) ranks: \(result.stdout) \(result.stderr)")
        }
        let tcp = try JobRunner.run(["-n", "3", program], environment: ["SWIFTMPI_TRANSPORT": "tcp"])
        #expect(tcp.status == 0 && tcp.stdout.contains(" No Errors"), "over TCP: \(tcp.stdout) \(tcp.stderr)")
        // Without a launcher: a job of one rank (swiftmpicc linked the library's directory as a run path).
        let log = TestRun.scratchDirectory.appendingPathComponent("singleton-\(UUID().uuidString)").path
        let status = try ChildProcess(program, [], stdoutPath: log, stderrPath: log).wait()
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(status == 0 && output.contains(" No Errors"), "singleton: \(output)")
    }

    @Test("the same source built with MPICH's mpicc.mpich runs on SwiftMPI's libmpich.so.12 under swiftmpirun")
    func mpichBuiltProgram() throws {
        guard let mpicc = Self.mpichCompiler("MPICH-built C programs"), let program = try Self.build([mpicc], named: "c-interface-check-mpich")
        else { return }
        try Self.expectNoErrors(program, ranks: [1, 2, 4])
    }

    @Test("under MPI_ERRORS_ARE_FATAL an error ends the job with one line naming the rank, the call and the error class")
    func fatalByDefault() throws {
        guard let program = try Self.swiftmpiccProgram() else { return }
        let result = try JobRunner.run(["-n", "2", program, "fatal"])
        #expect(result.status != 0)
        #expect(!result.stdout.contains("returned"), "\(result.stdout)")
        let lines = result.stderr.split(separator: "\n").filter { $0.contains("MPI_Send") }
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(lines.first?.contains("MPI_ERR_RANK") == true && lines.first?.contains("rank 0") == true, "\(result.stderr)")
    }

    @Test("a Swift rank passes its communicators, datatypes, groups, operations and requests to a C library and uses what the library made")
    func swiftCallsACLibrary() throws {
        let program = JobRunner.binaryDirectory.appendingPathComponent("swiftmpi-interop-check").path
        for (ranks, transport) in [(1, "auto"), (2, "tcp"), (3, "auto"), (4, "auto")] {
            let result = try JobRunner.run(
                ["-n", "\(ranks)", "--oversubscribe", program], environment: transport == "tcp" ? ["SWIFTMPI_TRANSPORT": "tcp"] : [:])
            #expect(result.status == 0, "\(ranks) ranks over \(transport): \(result.stdout) \(result.stderr)")
            #expect(result.sortedLines == (0..<ranks).map { "interop: rank \($0) passed" }, "\(ranks) ranks: \(result.stdout)")
        }
    }

    @Test("a profiling layer that defines MPI_Send sees every send and reaches SwiftMPI through PMPI_Send")
    func profilingInterface() throws {
        guard let program = try Self.swiftmpiccProgram() else { return }
        let result = try JobRunner.run(["-n", "3", program, "profile"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.sortedLines == ["rank 0: profiled sends 2", "rank 1: profiled sends 0", "rank 2: profiled sends 0"], "\(result.stdout)")
    }

    @Test("libmpi.so exports exactly CInterface/functions.txt, each MPI_ (MPIX_) function a weak twin of a strong PMPI_ (PMPIX_) one, and MPICH's data symbols")
    func exportsMatchTheList() throws {
        let listed = Set(
            try String(contentsOf: Self.root.appendingPathComponent("CInterface/functions.txt"), encoding: .utf8)
                .split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") && !$0.isEmpty })
        let log = TestRun.scratchDirectory.appendingPathComponent("nm-\(UUID().uuidString)").path
        let library = JobRunner.binaryDirectory.appendingPathComponent("libmpi.so").path
        let status = try ChildProcess("/usr/bin/env", ["nm", "-D", "--defined-only", library], stdoutPath: log, stderrPath: log).wait()
        let symbols = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map { $0.split(separator: " ") }
        #expect(status == 0, "nm failed on \(library)")
        let weakMPI = Set(symbols.filter { $0.count == 3 && $0[1] == "W" && $0[2].hasPrefix("MPI") }.map { String($0[2]) })
        let strongPMPI = Set(
            symbols.filter { $0.count == 3 && $0[1] == "T" && ($0[2].hasPrefix("PMPI_") || $0[2].hasPrefix("PMPIX_")) }.map { String($0[2].dropFirst()) })
        #expect(listed.count > 300)
        #expect(
            weakMPI == listed, "exported but not listed: \(weakMPI.subtracting(listed).sorted()); listed, not exported: \(listed.subtracting(weakMPI).sorted())"
        )
        #expect(strongPMPI == listed, "PMPI_ twins missing: \(listed.subtracting(strongPMPI).sorted())")
        // The data MPICH 4.0.2's libmpich.so.12 exports under public names (nm -D: types B, D, R),
        // which programs built with its mpi.h refer to.
        let data = Set(symbols.filter { $0.count == 3 && ["B", "D", "R"].contains($0[1]) }.map { String($0[2]) })
        let mpichData: Set = [
            "MPI_UNWEIGHTED", "MPI_WEIGHTS_EMPTY", "MPI_T_PVAR_ALL_HANDLES", "MPI_F_STATUS_IGNORE", "MPI_F_STATUSES_IGNORE",
            "MPI_F08_STATUS_IGNORE", "MPI_F08_STATUSES_IGNORE", "MPIR_F08_MPI_STATUS_IGNORE_OBJ", "MPIR_F08_MPI_STATUSES_IGNORE_OBJ",
            "MPIR_F08_MPI_IN_PLACE", "MPIR_F08_MPI_BOTTOM"
        ]
        #expect(mpichData.isSubset(of: data), "data symbols missing: \(mpichData.subtracting(data).sorted())")
    }

    @Test("mpi.h's PMPI_ prototypes and profiling.c are what generate.py makes of its MPI_ prototypes")
    func profilingTwinsUpToDate() throws {
        let log = TestRun.scratchDirectory.appendingPathComponent("generate-\(UUID().uuidString)").path
        let status = try ChildProcess(
            "/usr/bin/env", ["python3", Self.root.appendingPathComponent("CInterface/generate.py").path, "--check"], stdoutPath: log,
            stderrPath: log
        ).wait()
        #expect(status == 0, "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }
}
