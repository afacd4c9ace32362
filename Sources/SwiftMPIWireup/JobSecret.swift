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
        guard let bytes = Hex.decode(hex), bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    /// The hex form, for the launcher to place in a rank's environment.
    public var hex: String { Hex.encode(bytes) }

    /// Compares in time independent of where the first difference is.
    public func matches<C: Collection<UInt8>>(_ candidate: C) -> Bool {
        guard candidate.count == bytes.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(bytes, candidate) { difference |= a ^ b }
        return difference == 0
    }

    /// Always "<secret>": the value is never printed.
    public var description: String { "<secret>" }
}
