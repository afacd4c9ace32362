import SwiftMPIWireup
#if canImport(Glibc)
import Glibc
#endif

/// Relays one rank's stdout or stderr to the launcher's, a whole line at a time.
///
/// Lines of different ranks therefore never interleave mid-line. With `--tag-output` every line is
/// prefixed with `[rank] `. A line longer than ``maxLineLength`` is written in pieces (each tagged).
struct OutputRelay {
    static let maxLineLength = 64 * 1024
    let sourceFD: Int32
    let destinationFD: Int32
    let prefix: [UInt8]
    private var pending: [UInt8] = []
    /// The last line relayed that reports a Swift runtime trap ("…: Fatal error: …"), for the
    /// launcher's verdict on a rank that stopped on one.
    private(set) var lastFatalError: FatalErrorLine?

    /// Leaves out the frames the Swift runtime prints after a trap's "Fatal error" line when its
    /// backtracer is off ("Current stack trace:" and the numbered lines under it): a rank's stderr
    /// then keeps the error, and the launcher's verdict says which rank stopped (`--backtrace` keeps them).
    let dropsStackTraces: Bool
    private var inStackTrace = false

    init(sourceFD: Int32, destinationFD: Int32, prefix: String?, dropsStackTraces: Bool = false) {
        self.sourceFD = sourceFD
        self.destinationFD = destinationFD
        self.prefix = prefix.map { Array($0.utf8) } ?? []
        self.dropsStackTraces = dropsStackTraces
    }

    /// Reads everything the pipe holds now (a rank that has exited wrote all it will).
    mutating func drain() {
        while case .bytes(let bytes) = ReadBuffer.read(sourceFD) { append(bytes) }
    }

    /// Reads what is available; returns false at the end of the stream (the rank closed its end).
    mutating func pump() -> Bool {
        switch ReadBuffer.read(sourceFD) {
        case .bytes(let bytes):
            append(bytes)
            return true
        case .wouldBlock:
            return true
        case .ended:
            finish()
            return false
        }
    }

    /// Adds output bytes (from the pipe, or relayed by a remote host's daemon) and writes every
    /// complete line.
    mutating func append<C: Collection<UInt8>>(_ bytes: C) {
        pending += bytes
        var lineStart = 0
        var output: [UInt8] = []
        while let newline = pending[lineStart...].firstIndex(of: UInt8(ascii: "\n")) {
            defer { lineStart = newline + 1 }
            let line = pending[lineStart..<newline]
            if dropsStackTraces && isStackTrace(line) { continue }
            output += prefix
            output += pending[lineStart...newline]
            if let fatal = FatalErrorLine(line) { lastFatalError = fatal }
        }
        pending.removeFirst(lineStart)
        if pending.count >= Self.maxLineLength {
            output += prefix + pending + [UInt8(ascii: "\n")]
            pending.removeAll()
        }
        write(output)
    }

    /// True for "Current stack trace:" and the frame lines under it ("3    libswiftCore.so    0x… …").
    private mutating func isStackTrace(_ line: ArraySlice<UInt8>) -> Bool {
        if line.elementsEqual("Current stack trace:".utf8) {
            inStackTrace = true
            return true
        }
        guard inStackTrace else { return false }
        let digits = line.prefix { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        inStackTrace = !digits.isEmpty && line.dropFirst(digits.count).first == UInt8(ascii: " ") && line.contains(UInt8(ascii: "x"))
        return inStackTrace
    }

    /// Writes a final unterminated line (tagged output gets its newline).
    mutating func finish() {
        guard !pending.isEmpty else { return }
        write(prefix + pending + (prefix.isEmpty ? [] : [UInt8(ascii: "\n")]))
        pending.removeAll()
    }

    /// One write per batch of whole lines (a pipe or terminal receives them atomically up to PIPE_BUF;
    /// beyond that only the launcher writes to this descriptor, so lines still stay whole).
    private func write(_ bytes: [UInt8]) {
        var written = 0
        while written < bytes.count {
            let result = try? nonblockingSystemCall("write") {
                bytes.withUnsafeBytes { Glibc.write(destinationFD, $0.baseAddress! + written, bytes.count - written) }
            }
            switch result {
            case .done(let n): written += n
            case .wouldBlock: waitUntilWritable()
            case nil: return  // the reader went away (EPIPE): output is dropped, the job goes on
            }
        }
    }

    private func waitUntilWritable() {
        var request = pollfd(fd: destinationFD, events: Int16(POLLOUT), revents: 0)
        _ = poll(&request, 1, 100)
    }
}

/// A line in which the Swift runtime reports the trap that stops a process: `FILE:LINE: Fatal error:
/// MESSAGE` (an uncaught error at top level reads `Fatal error: Error raised at top level: ERROR`).
struct FatalErrorLine {
    let text: String

    /// Recognizes such a line (quickly: most lines have no "Fatal error: " in them).
    init?<C: Collection<UInt8>>(_ line: C) {
        let marker = Array("Fatal error: ".utf8)
        guard line.count >= marker.count else { return nil }
        let bytes = Array(line)
        guard let start = (0...(bytes.count - marker.count)).first(where: { bytes[$0..<($0 + marker.count)].elementsEqual(marker) }) else {
            return nil
        }
        text = String(decoding: bytes[start...], as: UTF8.self)
    }

    /// The last such line in the final 64 KiB of the file at `path` (a rank's `--output-dir` stderr).
    static func last(inFile path: String) -> FatalErrorLine? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let size = lseek(fd, 0, SEEK_END)
        let start = max(0, size - 65536)
        guard size > 0, lseek(fd, start, SEEK_SET) == start else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(size - start))
        let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return bytes[0..<count].split(separator: UInt8(ascii: "\n")).reversed().lazy.compactMap { FatalErrorLine($0) }.first
    }

    /// How the launcher's verdict names the trap: "an uncaught error: ERROR" for an error thrown
    /// out of the program's top level, else "a fatal error: MESSAGE".
    var verdict: String {
        let message = text.dropFirst("Fatal error: ".count)
        let uncaught = "Error raised at top level: "
        return message.hasPrefix(uncaught) ? "an uncaught error: \(message.dropFirst(uncaught.count))" : "a fatal error: \(message)"
    }
}
