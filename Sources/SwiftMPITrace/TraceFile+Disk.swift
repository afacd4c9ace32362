import SwiftMPIWireup

#if canImport(Glibc)
import Glibc
#endif

/// Reading and writing the trace module's files, one place for the runtime (rank files, the merged
/// trace, profiles) and the launcher (merging what an unfinished job left).
extension TraceFile {
    /// Writes `text` to `path` with `mode` (created or truncated); 0, or the errno of the failure.
    package static func write(_ text: String, to path: String, mode: mode_t) -> Int32 {
        do throws(SystemCallError) {
            let fd = try systemCall("open") { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode) }
            defer { close(fd) }
            var bytes = Array(text.utf8)[...]
            while !bytes.isEmpty {
                let written = try systemCall("write") { bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } }
                guard written > 0 else { return EIO }
                bytes = bytes.dropFirst(written)
            }
            return 0
        } catch {
            return error.code
        }
    }

    /// The text of the file at `path`, or nil when it cannot be read.
    package static func read(_ path: String) -> String? {
        guard let fd = try? systemCall("open", { open(path, O_RDONLY | O_CLOEXEC) }) else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            guard let count = try? systemCall("read", { chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) } }) else { return nil }
            if count == 0 { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
