#if canImport(Glibc)
import Glibc
#endif
import SwiftMPI

/// Fails the whole job with a message naming the check, the rank and what went wrong.
func require(_ condition: Bool, _ message: @autoclosure () -> String, line: Int = #line) {
    guard condition else {
        let text = "CHECK FAILED (line \(line)) on rank \(currentRank): \(message())\n"
        _ = text.utf8CString.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress!, $0.count - 1) }
        exit(1)
    }
}

/// Runs `body`, which must throw an MPIError with `code`; returns the error.
@discardableResult
func requireError(_ code: MPIError.Code, line: Int = #line, _ body: () throws -> Void) -> MPIError? {
    do {
        try body()
        require(false, "expected \(code), nothing was thrown", line: line)
    } catch let error as MPIError {
        require(error.code == code, "expected \(code), got \(error)", line: line)
        return error
    } catch {
        require(false, "expected MPIError \(code), got \(error)", line: line)
    }
    return nil
}

/// This rank, for messages. Written once by the main thread after initialize, before any scenario
/// starts a thread or task; only read after that.
nonisolated(unsafe) var currentRank = -1

/// A deterministic byte pattern for message `index` from `source` of `length` bytes (filled a word
/// at a time: these checks run in debug builds, where per-byte loops over 4 MiB are slow).
func pattern(source: Int, index: Int, length: Int) -> [UInt8] {
    var state = UInt64(truncatingIfNeeded: source &* 7919 &+ index &* 104729 &+ length) | 1
    var bytes = [UInt8](repeating: 0, count: length)
    bytes.withUnsafeMutableBytes { raw in
        let words = raw.count / 8
        let base = raw.baseAddress
        for i in 0..<words {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            base!.storeBytes(of: state, toByteOffset: i * 8, as: UInt64.self)
        }
        for i in (words * 8)..<raw.count { raw[i] = UInt8(truncatingIfNeeded: state >> (i % 8 * 8)) }
    }
    return bytes
}

/// True when both byte arrays are equal (memcmp).
func same(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    a.count == b.count && a.withUnsafeBytes { x in b.withUnsafeBytes { y in a.isEmpty || memcmp(x.baseAddress!, y.baseAddress!, a.count) == 0 } }
}

/// A checksum over the bytes, a word at a time.
func checksum(_ bytes: ArraySlice<UInt8>) -> UInt64 {
    bytes.withUnsafeBytes { raw in
        var sum: UInt64 = 0xcbf2_9ce4_8422_2325
        let words = raw.count / 8
        for i in 0..<words { sum = (sum ^ raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)) &* 0x100_0000_01b3 }
        for i in (words * 8)..<raw.count { sum = (sum ^ UInt64(raw[i])) &* 0x100_0000_01b3 }
        return sum
    }
}

/// A small deterministic generator (xorshift), so every run exercises the same random traffic.
struct Generator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return state
    }
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
