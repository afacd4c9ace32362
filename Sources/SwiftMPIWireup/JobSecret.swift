import CShims

/// A job's random secret: 32 bytes from the kernel's random source.
///
/// It authenticates every request to the key-value exchange (and, in later layers, every connection
/// between ranks). Its `description` is redacted so that it is never printed by accident.
public struct JobSecret: Sendable, Equatable, CustomStringConvertible {
    /// The number of bytes in a secret.
    public static let byteCount = 32
    /// The secret's bytes.
    public let bytes: [UInt8]

    /// A fresh secret from getrandom(2).
    public static func generate() throws(WireupError) -> JobSecret {
        var bytes = [UInt8](repeating: 0, count: byteCount)
        let error = bytes.withUnsafeMutableBytes { cshims_random_bytes($0.baseAddress!, byteCount) }
        if error != 0 { throw .system(call: "getrandom", errno: error) }
        return JobSecret(validatedBytes: bytes)
    }

    /// A secret from exactly ``byteCount`` bytes, or nil.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    private init(validatedBytes: [UInt8]) { self.bytes = validatedBytes }

    /// Parses the 64-digit lowercase or uppercase hex form; nil if malformed.
    public init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == Self.byteCount * 2 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(Self.byteCount)
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let high = Self.nibble(digits[i]), let low = Self.nibble(digits[i + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        self.bytes = bytes
    }

    /// The hex form, for the launcher to place in a rank's environment.
    public var hex: String {
        let table = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(table[Int(b >> 4)]); out.append(table[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Compares in time independent of where the first difference is.
    public func matches<C: Collection<UInt8>>(_ candidate: C) -> Bool {
        guard candidate.count == bytes.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(bytes, candidate) { difference |= a ^ b }
        return difference == 0
    }

    /// Always "<secret>": the value is never printed.
    public var description: String { "<secret>" }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
