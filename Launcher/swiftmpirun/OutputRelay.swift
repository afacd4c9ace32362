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

    init(sourceFD: Int32, destinationFD: Int32, prefix: String?) {
        self.sourceFD = sourceFD
        self.destinationFD = destinationFD
        self.prefix = prefix.map { Array($0.utf8) } ?? []
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
            output += prefix
            output += pending[lineStart...newline]
            lineStart = newline + 1
        }
        pending.removeFirst(lineStart)
        if pending.count >= Self.maxLineLength {
            output += prefix + pending + [UInt8(ascii: "\n")]
            pending.removeAll()
        }
        write(output)
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
