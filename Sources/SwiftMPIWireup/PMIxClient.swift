#if canImport(Glibc)
import Glibc
#endif
import CShims

/// A client of the resource manager's PMIx server (`srun --mpi=pmix`, Open MPI's `mpirun`), through
/// libpmix loaded at run time (`CShims/pmix.c`), so builds and machines without it are unaffected.
///
/// PMIx keeps each value under the process that put it, so keys follow the runtime's convention
/// `name/<rank of the publisher>` (`pid/3`, `host/3`, `secret/0`): ``get(_:)`` reads the value from
/// that rank. Values travel as byte objects, unencoded.
public final class PMIxClient: WireupExchange {
    /// This process's rank in its namespace (the job).
    public let rank: Int
    /// The job's PMIx namespace.
    public let namespace: String

    /// Loads libpmix and connects to the server named by the environment (`PMIX_SERVER_URI*`).
    public init() throws(WireupError) {
        var name = [CChar](repeating: 0, count: 256)
        var rank: UInt32 = 0
        var reason = [CChar](repeating: 0, count: 256)
        guard cshims_pmix_init(&name, name.count, &rank, &reason, reason.count) == 0 else { throw .pmix(Self.text(reason)) }
        self.rank = Int(rank)
        namespace = Self.text(name)
    }

    /// An integer the server knows about this process, or about the whole job (`job: true`): for
    /// example "pmix.job.size", "pmix.lrank", "pmix.local.size", "pmix.nodeid", "pmix.num.nodes".
    public func number(_ key: String, job: Bool) throws(WireupError) -> Int {
        var value: UInt64 = 0
        var reason = [CChar](repeating: 0, count: 256)
        guard cshims_pmix_get_number(job ? 1 : 0, key, &value, &reason, reason.count) == 0 else { throw .pmix(Self.text(reason)) }
        guard value <= UInt64(Int32.max) else { throw .pmix("\(key) = \(value) is out of range") }
        return Int(value)
    }

    public func put(_ key: String, _ value: [UInt8]) throws(WireupError) {
        var reason = [CChar](repeating: 0, count: 256)
        let status = value.withUnsafeBytes { cshims_pmix_put(key, $0.baseAddress, $0.count, &reason, reason.count) }
        guard status == 0 else { throw .pmix(Self.text(reason)) }
    }

    public func get(_ key: String) throws(WireupError) -> [UInt8]? {
        guard let slash = key.lastIndex(of: "/"), let owner = UInt32(key[key.index(after: slash)...]) else {
            throw .malformed("PMIx key \(key) does not end in /<rank>")
        }
        var bytes: UnsafeMutableRawPointer?
        var length = 0
        var reason = [CChar](repeating: 0, count: 256)
        let status = cshims_pmix_get_bytes(owner, key, &bytes, &length, &reason, reason.count)
        if status == ENOENT { return nil }  // a key nobody put is an answer, not a failure
        guard status == 0 else { throw .pmix(Self.text(reason)) }
        defer { free(bytes) }
        return Array(UnsafeRawBufferPointer(start: bytes, count: length))
    }

    public func fence() throws(WireupError) {
        var reason = [CChar](repeating: 0, count: 256)
        guard cshims_pmix_commit_and_fence(&reason, reason.count) == 0 else { throw .pmix(Self.text(reason)) }
    }

    public func finalize() throws(WireupError) {
        var reason = [CChar](repeating: 0, count: 256)
        guard cshims_pmix_finalize(&reason, reason.count) == 0 else { throw .pmix(Self.text(reason)) }
    }

    /// Asks the server to end the job. Slurm then cancels the whole step and srun reports the tasks
    /// as killed, not the code, so the reason is written to stderr here first, in one line.
    public func abort(code: Int32, message: String) {
        let line = Array("SwiftMPI: rank \(rank) aborted the job with code \(code): \(message)\n".utf8)
        _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        cshims_pmix_abort(code, message)
    }

    private static func text(_ characters: [CChar]) -> String {
        String(decoding: characters.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
