import Foundation
import Testing

/// Parallel file I/O checked by real jobs against a serial model of the file's bytes
/// (`swiftmpi-io-check`): contiguous and strided (interleaved, subarray) views written and read
/// independently and collectively, collective buffering on, off and automatic (and in many small
/// rounds) giving identical files, reads past the end, the individual and shared file pointers
/// (independent and ordered), atomic mode under concurrent overlapping writers, the nonblocking forms,
/// and the mistakes users make (missing file, bad modes, bad views, one rank's bad count in a
/// collective, a read-only file, a file nobody may write, a full file system).
@Suite("parallel file I/O", .serialized)
struct IOTests {
    @Test("every access form against the model on one host, 1 to 8 ranks", arguments: Array(1...8))
    func sharedMemory(ranks: Int) throws {
        let result = try JobRunner.run(["-n", "\(ranks)", "swiftmpi-io-check", try TestRun.makeScratch("io").path])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("I/O checks passed on \(ranks) ranks"))
    }

    @Test("every access form with TCP between the ranks (the shared file pointer by messages)", arguments: [2, 3])
    func tcp(ranks: Int) throws {
        let result = try JobRunner.run(["--transport", "tcp", "-n", "\(ranks)", "swiftmpi-io-check", try TestRun.makeScratch("io").path])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("I/O checks passed on \(ranks) ranks"))
    }

    @Test(
        "a full file system (a 4 MiB tmpfs) makes every rank throw .noSpace naming the file",
        .enabled(if: getuid() == 0, "needs root to mount a small tmpfs (CI runs it as root)"))
    func fullFileSystem() throws {
        // Outside the run's scratch directory, so that its removal never meets a mounted file system:
        // unmounted and removed below, or, if this run is interrupted, by one guardian, in that order.
        let mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent("swiftmpi-tmpfs.\(getpid()).\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        let unmountAndRemove = ["/bin/sh", "-c", "umount -l \"$1\" 2>/dev/null; rmdir \"$1\"", "sh", mountPoint]
        _ = try ChildProcess("/bin/bash", [TestRun.script("owner-guard.sh"), "start", TestRun.owner, "--"] + unmountAndRemove).wait()
        defer { _ = try? ChildProcess(unmountAndRemove[0], Array(unmountAndRemove.dropFirst())).wait() }
        let mounted = try ChildProcess("/usr/bin/env", ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mountPoint]).wait()
        try #require(mounted == 0, "mount -t tmpfs failed with status \(mounted)")
        let result = try JobRunner.run(
            ["-n", "3", "swiftmpi-io-check", try TestRun.makeScratch("io").path], environment: ["SWIFTMPI_IO_FULL_DIR": mountPoint])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("full file system: every rank threw .noSpace naming the file"))
        #expect(result.stdout.contains("I/O checks passed on 3 ranks"))
    }

    @Test(
        "external32 files from C: SwiftMPI and MPICH (under its own mpiexec) read what the other wrote, and write the same big-endian bytes"
    )
    func external32WithMPICH() throws {
        let source = CInterfaceTests.root.appendingPathComponent("Tests/CPrograms/c-external32-check.c").path
        let directory = try TestRun.makeScratch("external32")
        let ours = directory.appendingPathComponent("by-swiftmpi").path, theirs = directory.appendingPathComponent("by-mpich").path
        // The program checks what it reads and the file's raw bytes; SwiftMPI writes and reads its own file.
        guard
            let program = try CInterfaceTests.build(
                [CInterfaceTests.root.appendingPathComponent("CInterface/swiftmpicc").path], named: "c-external32-check", source: source)
        else { return }
        for ranks in [1, 3] {
            let result = try JobRunner.run(["-n", "\(ranks)", program, "write", ours])
            #expect(result.status == 0 && result.stdout.contains(" No Errors"), "SwiftMPI, \(ranks) ranks: \(result.stdout) \(result.stderr)")
        }
        let mpiexec = "/usr/bin/mpiexec.mpich"
        guard let mpicc = CInterfaceTests.mpichCompiler("external32 files read and written by MPICH"),
            TestRun.suiteRuns(
                "external32 files run on MPICH",
                unavailableReason: FileManager.default.isExecutableFile(atPath: mpiexec) ? nil : "\(mpiexec) is not installed (apt-get install mpich)"),
            let mpichProgram = try CInterfaceTests.build([mpicc], named: "c-external32-check-mpich", source: source)
        else { return }
        /// Runs the MPICH-built program on MPICH itself (3 ranks, at most two minutes).
        func onMPICH(_ action: String, _ path: String) throws {
            let out = directory.appendingPathComponent("mpich-\(action).out").path, err = directory.appendingPathComponent("mpich-\(action).err").path
            let status = try ChildProcess("/usr/bin/timeout", ["120", mpiexec, "-n", "3", mpichProgram, action, path], stdoutPath: out, stderrPath: err)
                .wait()
            let output = (try? String(contentsOfFile: out, encoding: .utf8)) ?? "", errors = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
            #expect(status == 0 && output.contains(" No Errors"), "MPICH \(action) \(path): status \(status): \(output) \(errors)")
        }
        try onMPICH("read", ours)
        try onMPICH("write", theirs)
        let result = try JobRunner.run(["-n", "3", program, "read", theirs])
        #expect(result.status == 0 && result.stdout.contains(" No Errors"), "SwiftMPI reading MPICH's file: \(result.stdout) \(result.stderr)")
        let (a, b) = (FileManager.default.contents(atPath: ours), FileManager.default.contents(atPath: theirs))
        #expect(a != nil && a == b, "the two MPIs wrote different files (\(a?.count ?? -1) and \(b?.count ?? -1) bytes)")
    }

    @Test(
        "parallel HDF5 (Debian's libhdf5-mpich) writes a 2-D dataset by hyperslabs, collectively, on SwiftMPI's library; h5dump shows it"
    )
    func parallelHDF5() throws {
        let mpicc = "/usr/bin/mpicc.mpich", header = "/usr/include/hdf5/mpich/hdf5.h", h5dump = "/usr/bin/h5dump"
        let missing = [mpicc, header, h5dump].filter { !FileManager.default.fileExists(atPath: $0) }
        guard
            TestRun.suiteRuns(
                "parallel HDF5",
                unavailableReason: missing.isEmpty
                    ? nil : "\(missing.joined(separator: ", ")) missing (apt-get install mpich libmpich-dev libhdf5-mpich-dev hdf5-tools; .ci/run does)")
        else { return }
        let directory = try TestRun.makeScratch("hdf5")
        let program = directory.appendingPathComponent("hdf5-check").path, log = directory.appendingPathComponent("log").path
        let source = CInterfaceTests.root.appendingPathComponent("Tests/CPrograms/hdf5-check.c").path
        let built = try ChildProcess(
            mpicc, ["-Wall", "-Werror", "-I/usr/include/hdf5/mpich", "-o", program, source, "-L/usr/lib/x86_64-linux-gnu/hdf5/mpich", "-lhdf5"],
            stdoutPath: log, stderrPath: log
        ).wait()
        try #require(built == 0, "mpicc.mpich: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        for ranks in [1, 3] {
            let file = directory.appendingPathComponent("data-\(ranks).h5").path
            let result = try JobRunner.run(["-n", "\(ranks)", program, file])
            #expect(result.status == 0 && result.stdout.contains(" No Errors"), "\(ranks) ranks: \(result.stdout) \(result.stderr)")
            let dump = directory.appendingPathComponent("dump-\(ranks)").path
            let status = try ChildProcess(h5dump, ["-d", "/data", file], stdoutPath: dump, stderrPath: dump).wait()
            let shown = (try? String(contentsOfFile: dump, encoding: .utf8)) ?? ""
            let last = 4 * ranks - 1
            #expect(status == 0 && shown.contains("DATASPACE  SIMPLE { ( \(4 * ranks), 6 )"), "h5dump: \(shown)")
            #expect(shown.contains("(0,0): 0, 1, 2, 3, 4, 5,") && shown.contains("(\(last),0): \(last * 100), \(last * 100 + 1),"), "h5dump: \(shown)")
        }
    }
}
