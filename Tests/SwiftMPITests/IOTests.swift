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
    @Test("every access form against the model on one host, 1 to 8 ranks", arguments: [1, 2, 3, 4, 8])
    func sharedMemory(ranks: Int) throws {
        let result = try JobRunner.run(["-n", "\(ranks)", "swiftmpi-io-check"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("I/O checks passed on \(ranks) ranks"))
    }

    @Test("every access form with TCP between the ranks (the shared file pointer by messages)", arguments: [2, 3])
    func tcp(ranks: Int) throws {
        let result = try JobRunner.run(["--transport", "tcp", "-n", "\(ranks)", "swiftmpi-io-check"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("I/O checks passed on \(ranks) ranks"))
    }

    @Test(
        "a full file system (a 4 MiB tmpfs) makes every rank throw .noSpace naming the file",
        .enabled(if: getuid() == 0, "needs root to mount a small tmpfs (CI runs it as root)"))
    func fullFileSystem() throws {
        let mountPoint = try TestRun.makeScratch("full").path
        // Unmounted below, or by a guardian if this run is interrupted (before the scratch directory goes).
        _ = try ChildProcess("/bin/bash", [TestRun.script("owner-guard.sh"), "start", TestRun.owner, "--", "umount", "-l", mountPoint]).wait()
        let mounted = try ChildProcess("/usr/bin/env", ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mountPoint]).wait()
        try #require(mounted == 0, "mount -t tmpfs failed with status \(mounted)")
        defer { _ = try? ChildProcess("/usr/bin/env", ["umount", mountPoint]).wait() }
        let result = try JobRunner.run(["-n", "3", "swiftmpi-io-check"], environment: ["SWIFTMPI_IO_FULL_DIR": mountPoint])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("full file system: every rank threw .noSpace naming the file"))
        #expect(result.stdout.contains("I/O checks passed on 3 ranks"))
    }
}
