import Foundation
import Testing

/// One-sided communication checked by real jobs against serial models (`swiftmpi-rma-check`): put,
/// get, accumulate (every built-in operator kind), get-accumulate, fetch-and-op, compare-and-swap, on
/// allocated, shared and user-memory windows; fence, lock/unlock, lockAll/unlockAll, flush and
/// post/start/complete/wait; a fetch-and-op ticket queue, an exclusive-lock counter and a
/// compare-and-swap mutex under contention; a passive target that sleeps outside SwiftMPI; bad
/// offsets, epochs and operators rejected. On shared memory the origin does the work itself; over TCP
/// and between hosts it goes by active messages.
@Suite("one-sided communication (windows)", .serialized)
struct OneSidedTests {
    @Test("every window call and synchronization mode on shared memory, 1 to 8 ranks", arguments: [1, 2, 3, 4, 5, 6, 8])
    func sharedMemory(ranks: Int) throws {
        let result = try JobRunner.run(["-n", "\(ranks)", "swiftmpi-rma-check"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("one-sided checks passed on \(ranks) ranks"))
        if ranks > 1 { #expect(result.stdout.contains("completed while the target slept (shared memory)")) }
    }

    @Test("every window call and synchronization mode by active messages over TCP, 2 to 4 ranks", arguments: [2, 3, 4])
    func tcp(ranks: Int) throws {
        let result = try JobRunner.run(["--transport", "tcp", "-n", "\(ranks)", "swiftmpi-rma-check"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("one-sided checks passed on \(ranks) ranks"))
        #expect(result.stdout.contains("completed when the target called SwiftMPI (messages)"))
    }

    @Test(
        "windows across simulated hosts: shared memory within a host, active messages between hosts",
        .enabled(if: SimulatedHosts.available, "needs root and ip(8) for network namespaces; CI runs it"))
    func acrossHosts() throws {
        let result = try SimulatedHosts.run(["--host", "swmh1:2,swmh2:2", "-n", "4", "swiftmpi-rma-check"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("one-sided checks passed on 4 ranks"))
    }

    @Test("no window segment is left in /dev/shm after a job that made and freed windows")
    func noSegmentsLeft() throws {
        let before = Set((try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []).filter { $0.hasPrefix("swiftmpi-") }
        let result = try JobRunner.run(["-n", "3", "swiftmpi-rma-check"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let after = Set((try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []).filter { $0.hasPrefix("swiftmpi-") }
        #expect(after.subtracting(before).isEmpty, "left behind: \(after.subtracting(before).sorted())")
    }
}
