#if canImport(Glibc)
import Glibc
#endif

/// The launcher's one read buffer: 256 KiB, allocated once, never zeroed (read(2) fills it).
///
/// The launcher and its daemons run on one thread around poll(2), and every caller consumes what it
/// read before anything reads again, so one buffer serves every descriptor. (A fresh, zeroed array
/// per read cost a malloc, a memset and a page fault per 4 KiB every time: 64 KiB arrays were most
/// of the launcher's page faults at the end of a short job.)
enum ReadBuffer {
    nonisolated(unsafe) private static let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 64)

    /// One read(2) from `fd` — recv(2) with `recvFlags` when given. Returns the call's result (0 at
    /// end of file, -1 with errno set) and the bytes read, which stay valid until the next read.
    static func read(_ fd: Int32, recvFlags: Int32? = nil) -> (result: Int, bytes: UnsafeRawBufferPointer) {
        let n = recvFlags.map { recv(fd, storage.baseAddress!, storage.count, $0) } ?? Glibc.read(fd, storage.baseAddress!, storage.count)
        return (n, UnsafeRawBufferPointer(rebasing: storage[0..<max(n, 0)]))
    }
}
