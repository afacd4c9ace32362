import Foundation
import Synchronization
import Testing
import SwiftMPIWireup

/// The one system-call helper (Sources/SwiftMPIWireup/SystemCall.swift): EINTR retried, errno read
/// right after the failing call, would-block as a value, a typed error naming the call.
@Suite("system calls")
struct SystemCallTests {
    @Test("a call interrupted twice (EINTR) is made again until it succeeds")
    func interruptedCallsAreRetried() throws {
        var attempts = 0
        let result = try systemCall("read") { () -> Int in
            attempts += 1
            if attempts <= 2 {
                errno = EINTR
                return -1
            }
            return 7
        }
        #expect(result == 7)
        #expect(attempts == 3)
    }

    @Test("a real read interrupted by a signal without SA_RESTART is made again and gets the data")
    func realInterruptedReadIsRetried() throws {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        action.sa_flags = 0  // no SA_RESTART: the blocked read fails with EINTR
        sigemptyset(&action.sa_mask)
        var saved = sigaction()
        #expect(sigaction(SIGUSR1, &action, &saved) == 0)
        defer { sigaction(SIGUSR1, &saved, nil) }
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }

        // The reader runs on a thread of its own that accepts SIGUSR1 (the test's own thread, a
        // Dispatch worker, blocks signals).
        let state = ReaderState()
        let readEnd = fds[0]
        let finished = DispatchSemaphore(value: 0)
        Thread {
            var signals = sigset_t()
            sigemptyset(&signals)
            sigaddset(&signals, SIGUSR1)
            pthread_sigmask(SIG_UNBLOCK, &signals, nil)
            state.thread.store(UInt(pthread_self()), ordering: .releasing)
            var byte: UInt8 = 0
            let n = try? systemCall("read") { () -> Int in
                state.attempts.add(1, ordering: .releasing)
                return read(readEnd, &byte, 1)
            }
            state.result.store(n ?? -1, ordering: .releasing)
            state.byte.store(Int(byte), ordering: .releasing)
            finished.signal()
        }.start()
        // Interrupt the reader until it has called read twice, then give it a byte. A signal that
        // arrives before it blocks only runs the empty handler; the next one interrupts the read.
        // Every signal is handled before the read returns, so none outlives the test.
        for _ in 0..<2000 where state.attempts.load(ordering: .acquiring) < 2 {
            let reader = state.thread.load(ordering: .acquiring)
            if reader != 0 { pthread_kill(pthread_t(reader), SIGUSR1) }
            usleep(1_000)
        }
        var byte: UInt8 = 42
        #expect(write(fds[1], &byte, 1) == 1)
        #expect(finished.wait(timeout: .now() + 10) == .success)
        #expect(state.result.load(ordering: .acquiring) == 1)
        #expect(state.byte.load(ordering: .acquiring) == 42)
        #expect(state.attempts.load(ordering: .acquiring) >= 2, "the read was interrupted at least once")
    }

    @Test("errno is taken right after the failing call and named in the error")
    func errnoIsCaptured() {
        do {
            _ = try systemCall("recv") { () -> Int in
                errno = ECONNRESET
                return -1
            }
            Issue.record("the call did not throw")
        } catch {
            close(-1)  // sets errno to EBADF: the error keeps what the call reported
            #expect(error.code == ECONNRESET)
            #expect(error.call.description == "recv")
            #expect(error.description == "recv: Connection reset by peer (ECONNRESET)")
        }
        #expect(throws: SystemCallError("read", code: EBADF)) { try systemCall("read") { read(-1, nil, 0) } }
    }

    @Test("EAGAIN on a nonblocking pipe is a value for nonblocking calls and an error for the others")
    func wouldBlockIsAValue() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        var buffer = [UInt8](repeating: 0, count: 8)
        let empty = try nonblockingSystemCall("read") { read(fds[0], &buffer, buffer.count) }
        #expect(empty == .wouldBlock)
        #expect(throws: SystemCallError("read", code: EAGAIN)) { try systemCall("read") { read(fds[0], &buffer, buffer.count) } }
        _ = write(fds[1], "abc", 3)
        let ready = try nonblockingSystemCall("read") { read(fds[0], &buffer, buffer.count) }
        #expect(ready == .done(3))
    }

    @Test("a call that must not be repeated reports EINTR instead of retrying")
    func onceReportsInterrupts() {
        var attempts = 0
        #expect(throws: SystemCallError("connect", code: EINTR)) {
            try systemCallOnce("connect") { () -> Int32 in
                attempts += 1
                errno = EINTR
                return -1
            }
        }
        #expect(attempts == 1)
    }

    @Test("a function that returns an errno (the C shims) throws unless it returned 0")
    func statusCodesAreChecked() throws {
        try SystemCallError.check("cshims_pipe_cloexec", 0)
        #expect(throws: SystemCallError("cshims_pipe_cloexec", code: EMFILE)) { try SystemCallError.check("cshims_pipe_cloexec", EMFILE) }
    }

    @Test("errno values print as text and symbolic name; the wire-up error says the same")
    func descriptions() {
        #expect(SystemError.describe(EAGAIN) == "Resource temporarily unavailable (EAGAIN)")
        #expect(SystemError.name(ENOTSUP) == "ENOTSUP")
        #expect(SystemError.name(9999) == "errno 9999")
        #expect(WireupError(SystemCallError("bind", code: EADDRINUSE)) == .system(call: "bind", errno: EADDRINUSE))
        #expect("\(WireupError.system(call: "bind", errno: EADDRINUSE))" == "bind: Address already in use (EADDRINUSE)")
    }
}

/// What the reader thread of ``SystemCallTests/realInterruptedReadIsRetried()`` shares with the test.
private final class ReaderState: Sendable {
    let thread = Atomic<UInt>(0)
    let attempts = Atomic<Int>(0)
    let result = Atomic<Int>(0)
    let byte = Atomic<Int>(0)
}
