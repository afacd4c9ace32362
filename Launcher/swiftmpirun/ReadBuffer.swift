import SwiftMPIWireup
#if canImport(Glibc)
import Glibc
#endif

/// The launcher's one read buffer: 256 KiB, allocated once, never zeroed (read(2) fills it).
///
/// The launcher and its daemons run on one thread around poll(2), and every caller consumes what it
/// read before anything reads again, so one buffer serves every descriptor. (A fresh, zeroed array
/// per read cost a malloc, a memset and a page fault per 4 KiB every time: 64 KiB arrays were most
/// of the launcher's page faults at the end of a short job.) That single thread is what makes the
/// `nonisolated(unsafe)` storage safe.
enum ReadBuffer {
    nonisolated(unsafe) private static let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 64)

    /// What one read brought.
    enum Outcome {
        /// Bytes, valid until the next read.
        case bytes(UnsafeRawBufferPointer)
        /// Nothing is there yet (a nonblocking descriptor): poll again.
        case wouldBlock
        /// The end of the stream: end of file (nil) or the error that ended it.
        case ended(SystemCallError?)
    }

    /// One read(2) from `fd` — recv(2) with `recvFlags` when given — retried when interrupted.
    static func read(_ fd: Int32, recvFlags: Int32? = nil) -> Outcome {
        let result: SystemCallResult<Int>
        do {
            if let recvFlags {
                result = try nonblockingSystemCall("recv") { recv(fd, storage.baseAddress!, storage.count, recvFlags) }
            } else {
                result = try nonblockingSystemCall("read") { Glibc.read(fd, storage.baseAddress!, storage.count) }
            }
        } catch {
            return .ended(error)
        }
        guard case .done(let count) = result else { return .wouldBlock }
        return count == 0 ? .ended(nil) : .bytes(UnsafeRawBufferPointer(rebasing: storage[0..<count]))
    }
}
