#if canImport(Glibc)
import Glibc
#endif

/// Writes "swiftmpirun: `line`" to stderr in one write(2), so it never interleaves with rank output.
func report(_ line: String) {
    let bytes = Array("swiftmpirun: \(line)\n".utf8)
    _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress!, $0.count) }
}

/// Writes `line` and a newline to stderr in one write(2), without a prefix (for lines in another
/// tool's format, such as `--report-bindings`').
func reportVerbatim(_ line: String) {
    let bytes = Array("\(line)\n".utf8)
    _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress!, $0.count) }
}

/// Ends the launcher with `status`.
func exitLauncher(_ status: Int32) -> Never { Glibc.exit(status) }

/// A String from a NUL-terminated C array (such as a fixed-size char field).
func string(fromCArray array: [CChar]) -> String {
    array.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}
