#if canImport(Glibc)
import Glibc
#endif

/// Hints as key-value pairs (MPI_Info), a Swift value with MPI's rules: keys of 1 to
/// ``maxKeyLength`` characters and values of 1 to ``maxValueLength``, both case-sensitive, with
/// leading and trailing spaces removed; setting a key again replaces its value; keys keep the order
/// in which they were first set (MPI_Info_get_nthkey).
///
/// Hints never change what a program computes. SwiftMPI honours the ones it has a choice for (see
/// ``Communicator/info``) and ignores the rest, as MPI allows.
public struct Info: Sendable, Equatable, Sequence {
    /// The longest key (MPI_MAX_INFO_KEY).
    public static let maxKeyLength = 255
    /// The longest value (MPI_MAX_INFO_VAL).
    public static let maxValueLength = 1024

    private var entries: [(key: String, value: String)] = []

    /// No hints (MPI_INFO_NULL, or a new MPI_Info_create).
    public init() {}

    /// The hints in `pairs`, set in key order. Throws `.invalidArgument` for a key or value that
    /// breaks MPI's rules.
    public init(_ pairs: [String: String]) throws(MPIError) {
        for key in pairs.keys.sorted() { try set(key, pairs[key]!) }
    }

    /// Sets `key` to `value` (MPI_Info_set). Throws `.invalidArgument` for an empty or too long key
    /// or value (after trimming spaces), leaving the hints as they were.
    public mutating func set(_ key: String, _ value: String) throws(MPIError) {
        let key = try Self.checked(key, limit: Self.maxKeyLength, "key")
        let value = try Self.checked(value, limit: Self.maxValueLength, "value for \"\(key)\"")
        if let index = entries.firstIndex(where: { $0.key == key }) {
            entries[index].value = value
        } else {
            entries.append((key, value))
        }
    }

    /// The value of `key` (spaces around it ignored), or nil (MPI_Info_get_string).
    public subscript(key: String) -> String? {
        let key = Self.trimmed(key)
        return entries.first { $0.key == key }?.value
    }

    /// Removes `key` (MPI_Info_delete); throws `.invalidArgument` when it is not set (MPI_ERR_INFO_NOKEY).
    public mutating func remove(_ key: String) throws(MPIError) {
        let trimmedKey = Self.trimmed(key)
        guard let index = entries.firstIndex(where: { $0.key == trimmedKey }) else {
            throw MPIError(.invalidArgument, "Info.remove: no key \"\(trimmedKey)\"")
        }
        entries.remove(at: index)
    }

    /// The keys, in the order they were first set.
    public var keys: [String] { entries.map(\.key) }

    /// How many keys are set (MPI_Info_get_nkeys).
    public var count: Int { entries.count }

    /// The pairs, in key order of first setting.
    public func makeIterator() -> IndexingIterator<[(key: String, value: String)]> { entries.makeIterator() }

    /// Equal when they hold the same pairs, in any order.
    public static func == (left: Info, right: Info) -> Bool {
        left.count == right.count && left.entries.allSatisfy { right[$0.key] == $0.value }
    }

    /// How this process was started (MPI_INFO_ENV): `command` and `argv` (space-separated), `maxprocs`
    /// (the job's size), `host`, `wdir` (the working directory) and `thread_level`, for the keys
    /// SwiftMPI knows; empty before `MPI.initialize()`.
    public static var environment: Info {
        var info = Info()
        guard let runtime = Runtime.current else { return info }
        let arguments = CommandLine.arguments
        try? info.set("command", arguments.first ?? "")
        if arguments.count > 1 { try? info.set("argv", arguments.dropFirst().joined(separator: " ")) }
        try? info.set("maxprocs", "\(runtime.size)")
        try? info.set("host", MPI.processorName)
        if let directory = Self.currentDirectory() { try? info.set("wdir", directory) }
        try? info.set("thread_level", "\(runtime.threadLevel)")
        return info
    }

    private static func currentDirectory() -> String? {
        var path = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&path, path.count) != nil else { return nil }
        return String(decoding: path.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func trimmed(_ text: String) -> String {
        String(text.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }

    private static func checked(_ text: String, limit: Int, _ what: String) throws(MPIError) -> String {
        let trimmed = trimmed(text)
        guard !trimmed.isEmpty, trimmed.utf8.count <= limit else {
            throw MPIError(.invalidArgument, "Info: a \(what) must have 1 to \(limit) characters (spaces around it do not count); got \(text.utf8.count)")
        }
        return trimmed
    }
}
