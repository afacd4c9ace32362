#if canImport(Glibc)
import Glibc
#endif
import CShims
import SwiftMPIWireup

/// A file that every rank of a communicator opened together (MPI_File): parallel I/O with MPI's
/// file views, independent and collective access, and shared file pointers.
///
/// ```swift
/// let file = try File.open(on: world, path: "out.bin", mode: [.create, .writeOnly])
/// try file.setView(displacement: 0, elementType: double, fileType: block)
/// try file.writeAll(values, at: 0)            // collective, two-phase collective buffering
/// try file.close()
/// ```
///
/// **Offsets** are in elements of the view's element type (its *etype*), counted through the view:
/// the file is seen as the view's file type tiled from its displacement, and only the bytes that
/// type covers belong to this rank. The default view is every byte of the file, so offsets are
/// bytes. Data written or read must be a whole number of elements.
///
/// **Collective calls** (``open(on:path:mode:info:)``, ``close()``, ``setView(displacement:elementType:fileType:representation:)``,
/// every `…All` and `…Ordered` call, ``setSize(_:)``, ``preallocate(_:)``, ``sync()``,
/// ``seekShared(to:from:)``) must be made by every rank in the same order. When one rank's part
/// fails (a full disk, a permission error), every rank throws, naming the rank and the system call:
/// no rank is left waiting.
///
/// **Consistency** is MPI's: a rank sees its own writes at once; another rank's writes are
/// guaranteed visible after the writer's ``sync()``, a barrier, and the reader's ``sync()``
/// (sync-barrier-sync), or at once when ``atomicity`` is on. In atomic mode every access holds a
/// POSIX byte-range lock (`fcntl`) over the file bytes it touches, so concurrent overlapping
/// accesses never interleave.
///
/// **Hints** (``info``): `cb_nodes` (collective-buffering aggregators; default one per host, as
/// ROMIO, and up to 8 ranks when the job has one host),
/// `cb_buffer_size` (bytes an aggregator handles per round; 16 MiB), `romio_cb_write` and
/// `romio_cb_read` (`enable`, `disable`, `automatic`: collective buffering only when the ranks'
/// accesses interleave or have holes), `romio_ds_read` (data sieving for independent strided reads),
/// `striping_factor` and `striping_unit` (accepted and reported; the local file systems here have no
/// stripes). The byte order is the machine's ("native"; "internal" is accepted as the same).
///
/// Not thread-safe by itself; calls from several threads need thread level `.multiple`.
/// Sendable by assertion (`@unchecked`): its mutable state (the view, the individual pointer, the
/// hints) changes only inside its own calls, which the program serializes as MPI requires of a file
/// handle (MPI-4.1 §14.6.4: concurrent calls on one handle are erroneous), and the shared pointer
/// lives in a window whose operations are serialized by the runtime.
public final class File: @unchecked Sendable {
    /// How a file is opened (MPI_MODE_*, with MPICH's values): exactly one of ``readOnly``,
    /// ``writeOnly`` and ``readWrite``, with any of the others.
    public struct Mode: OptionSet, Sendable, Hashable {
        /// The MPI_MODE_* bits.
        public let rawValue: Int32
        /// The mode with these MPI_MODE_* bits.
        public init(rawValue: Int32) { self.rawValue = rawValue }
        /// Create the file if it does not exist (MPI_MODE_CREATE).
        public static let create = Mode(rawValue: 1)
        /// Reading only (MPI_MODE_RDONLY).
        public static let readOnly = Mode(rawValue: 2)
        /// Writing only (MPI_MODE_WRONLY).
        public static let writeOnly = Mode(rawValue: 4)
        /// Reading and writing (MPI_MODE_RDWR).
        public static let readWrite = Mode(rawValue: 8)
        /// Delete the file when it is closed (MPI_MODE_DELETE_ON_CLOSE).
        public static let deleteOnClose = Mode(rawValue: 16)
        /// No other program has the file open (MPI_MODE_UNIQUE_OPEN; a hint).
        public static let uniqueOpen = Mode(rawValue: 32)
        /// With ``create``: fail with `.fileExists` if the file exists (MPI_MODE_EXCL).
        public static let exclusive = Mode(rawValue: 64)
        /// Every file pointer starts at the end of the file (MPI_MODE_APPEND).
        public static let append = Mode(rawValue: 128)
        /// The file is read or written in order only (MPI_MODE_SEQUENTIAL; a hint).
        public static let sequential = Mode(rawValue: 256)
    }

    /// Where a seek counts from (MPI_SEEK_SET, MPI_SEEK_CUR, MPI_SEEK_END).
    public enum Whence: Sendable {
        /// From the start of the view.
        case start
        /// From the pointer's current position.
        case current
        /// From the end of the file (its last byte, seen through the view).
        case end
    }

    /// A private duplicate of the communicator the file was opened on: the file's collectives never
    /// match the program's messages.
    public let communicator: Communicator
    /// The path the file was opened with.
    public let path: String
    /// The access mode it was opened with (MPI_File_get_amode).
    public let mode: Mode
    /// Whether every access is atomic (MPI_File_set_atomicity; false by default): it then holds a
    /// byte-range lock over the bytes it touches. Every rank sets the same value (MPI makes the call
    /// collective; SwiftMPI needs no communication for it).
    public var atomicity = false

    let descriptor: Int32
    /// Whether the descriptor can read too: a `.writeOnly` file is opened for reading and writing
    /// where permissions allow, so data sieving and collective buffering can fill holes.
    let canReadBack: Bool
    var view = FileView.bytes
    /// True when some rank's view has overlapping data (a file only read): collective calls then
    /// read independently, as two-phase buffering needs each rank's runs in increasing order.
    var anyViewOverlaps = false
    /// This rank's individual file pointer, in elements of the view.
    var individualPointer = 0
    /// The shared file pointer, in elements of the view: one 8-byte counter on rank 0, reached by
    /// fetch-and-add under a lockAll epoch that lasts as long as the file is open.
    let sharedPointer: Window<Int64>
    var hints: FileHints
    /// The ranks that do the file system's work in collective buffering (default one per host; up to
    /// 8 on a job of one host).
    var aggregators: [Int]
    /// The file system's preferred I/O size (stat's st_blksize): file domains start at its multiples.
    let blockSize: Int
    /// An aggregator's window buffer for collective buffering (up to `cb_buffer_size` bytes), made at
    /// its first collective call and freed when the file closes.
    var aggregation: UnsafeMutableRawBufferPointer?
    private var isOpen = true

    private init(
        communicator: Communicator, path: String, mode: Mode, descriptor: Int32, canReadBack: Bool, sharedPointer: Window<Int64>, hints: FileHints,
        aggregators: [Int], blockSize: Int
    ) {
        self.communicator = communicator
        self.path = path
        self.mode = mode
        self.descriptor = descriptor
        self.canReadBack = canReadBack
        self.sharedPointer = sharedPointer
        self.hints = hints
        self.aggregators = aggregators
        self.blockSize = blockSize
    }

    deinit {
        if isOpen { Glibc.close(descriptor) }
        aggregation?.deallocate()
    }

    // MARK: - Opening and closing

    /// Opens `path` on every rank of `communicator` (MPI_File_open). Collective; every rank passes
    /// the same path and mode. With ``Mode/create`` rank 0 creates the file first (mode 0666 less the
    /// umask), the others then open it. Throws on every rank when any rank cannot open it:
    /// `.noSuchFile`, `.fileExists`, `.accessDenied`, `.readOnly`, `.badFile`, `.invalidMode` for a
    /// mode MPI forbids, `.notSame` when the ranks' modes differ, `.io` for other errors.
    public static func open(on communicator: Communicator, path: String, mode: Mode, info: Info = Info()) throws(MPIError) -> File {
        try typedErrors {
            try checkMode(mode, path)
            let hints = try FileHints(info)
            let modes = try communicator.allreduce([Int(mode.rawValue), -Int(mode.rawValue)], op: .max)
            guard modes[0] == -modes[1] else {
                throw MPIError(.notSame, "File.open(\"\(path)\"): the ranks passed different access modes")
            }
            let comm = try communicator.dup()
            let flags = O_CLOEXEC | (mode.contains(.readOnly) ? O_RDONLY : O_RDWR)
            // Rank 0 creates the file (exclusively when asked); the others open what it created.
            // A .writeOnly file is opened for reading too where permissions allow (data sieving and
            // collective buffering read the holes between the pieces they write).
            var descriptor: Int32 = -1
            var failure: Int32 = 0
            var canReadBack = !mode.contains(.writeOnly)
            func openHere(_ extra: Int32) {
                func attempt(_ flags: Int32) -> Int32 {
                    do {
                        return try systemCall("open") { Glibc.open(path, flags, 0o666) }
                    } catch {
                        failure = error.code
                        return -1
                    }
                }
                descriptor = attempt(flags | extra)
                if descriptor >= 0 && mode.contains(.writeOnly) { canReadBack = true; return }
                if descriptor < 0 && failure == EACCES && mode.contains(.writeOnly) {
                    failure = 0
                    descriptor = attempt((flags & ~O_RDWR) | O_WRONLY | extra)
                }
            }
            if comm.rank == 0 { openHere(mode.contains(.create) ? (O_CREAT | (mode.contains(.exclusive) ? O_EXCL : 0)) : 0) }
            var first = [Int(failure)]
            try comm.bcast(&first, root: 0)
            if comm.rank != 0 && first[0] == 0 { openHere(0) }
            do {
                try agree(comm, failure == 0 ? nil : fileError(failure, "File.open(\"\(path)\")", call: "open"))
            } catch {
                if descriptor >= 0 { Glibc.close(descriptor) }
                comm.free()
                throw error
            }
            var facts = stat()
            let blockSize = fstat(descriptor, &facts) == 0 && facts.st_blksize > 0 ? Int(facts.st_blksize) : 4096
            let sharedPointer: Window<Int64>
            let aggregators: [Int]
            do {
                aggregators = try hints.aggregators(on: comm)
                sharedPointer = try Window<Int64>.allocate(count: comm.rank == 0 ? 1 : 0, on: comm)
                try sharedPointer.lockAll()
            } catch {
                Glibc.close(descriptor)
                comm.free()
                throw error
            }
            let file = File(
                communicator: comm, path: path, mode: mode, descriptor: descriptor, canReadBack: canReadBack, sharedPointer: sharedPointer,
                hints: hints,
                aggregators: aggregators, blockSize: blockSize)
            if mode.contains(.append) {
                let end = Int(facts.st_size)
                file.individualPointer = end
                if comm.rank == 0 { _ = try sharedPointer.fetchAndOp(Int64(end), to: 0, at: 0, op: .replace) }
                try comm.barrier()
            }
            return file
        }
    }

    /// Closes the file on every rank (MPI_File_close), and with ``Mode/deleteOnClose`` deletes it once
    /// every rank has closed it. Collective. Later calls on the file throw `.invalidArgument`.
    public func close() throws(MPIError) {
        try typedErrors {
            try checkOpen("File.close")
            isOpen = false
            aggregation?.deallocate()
            aggregation = nil
            try sharedPointer.unlockAll()
            try sharedPointer.free()
            var failure: MPIError? = nil
            // Not through systemCall: close(2) is not retried on EINTR on Linux (the descriptor is
            // released either way); errno is read right after the call.
            if Glibc.close(descriptor) != 0 { failure = Self.fileError(errno, "File.close(\"\(path)\")", call: "close") }
            try Self.agree(communicator, failure)
            if mode.contains(.deleteOnClose) && communicator.rank == 0 { _ = unlink(path) }
            try communicator.barrier()
            communicator.free()
        }
    }

    /// Deletes the file at `path` (MPI_File_delete). Not collective: one rank deletes it. Throws
    /// `.noSuchFile` when there is none, `.accessDenied` when the directory forbids it.
    public static func delete(path: String, info: Info = Info()) throws(MPIError) {
        if let failure = fileFailure("unlink", "File.delete(\"\(path)\")", { unlink(path) }) { throw failure }
    }

    // MARK: - Size, space and durability

    /// The file's size in bytes now (MPI_File_get_size).
    public var size: Int {
        get throws(MPIError) {
            try checkOpen("File.size")
            var facts = stat()
            if let failure = Self.fileFailure("fstat", "File.size(\"\(path)\")", { fstat(descriptor, &facts) }) { throw failure }
            return Int(facts.st_size)
        }
    }

    /// Truncates or extends the file to `bytes` bytes (MPI_File_set_size; extending leaves a hole that
    /// reads as zeros). Collective; every rank passes the same size. The size changes once every rank
    /// has entered the call, so no rank's earlier access sees the new size.
    public func setSize(_ bytes: Int) throws(MPIError) {
        try collective("File.setSize") {
            guard bytes >= 0 else { throw MPIError(.invalidArgument, "File.setSize(\"\(path)\"): a negative size (\(bytes))") }
            try requireWritable("File.setSize")
            try communicator.barrier()  // every rank's earlier accesses happen before the size changes
            try Self.agree(
                communicator,
                communicator.rank == 0
                    ? Self.fileFailure("ftruncate", "File.setSize(\"\(path)\")", { ftruncate(descriptor, off_t(bytes)) }) : nil)
        }
    }

    /// Makes sure the first `bytes` bytes of the file have disk space (MPI_File_preallocate;
    /// `posix_fallocate`, which never shrinks the file). Collective. Throws `.noSpace` on every rank
    /// when the file system cannot provide it.
    public func preallocate(_ bytes: Int) throws(MPIError) {
        try collective("File.preallocate") {
            guard bytes >= 0 else { throw MPIError(.invalidArgument, "File.preallocate(\"\(path)\"): a negative size (\(bytes))") }
            try requireWritable("File.preallocate")
            var failure: MPIError? = nil
            if communicator.rank == 0 && bytes > 0 {
                let code = posix_fallocate(descriptor, 0, off_t(bytes))
                if code != 0 { failure = Self.fileError(code, "File.preallocate(\"\(path)\")", call: "posix_fallocate") }
            }
            try Self.agree(communicator, failure)
        }
    }

    /// Writes this rank's data to the storage device (`fsync`) and waits for every rank to do the
    /// same (MPI_File_sync). Collective. With a barrier between two syncs it makes one rank's writes
    /// visible to another's reads (MPI's sync-barrier-sync).
    public func sync() throws(MPIError) {
        try collective("File.sync") {
            try Self.agree(communicator, Self.fileFailure("fsync", "File.sync(\"\(path)\")", { fsync(descriptor) }))
        }
    }

    /// The hints in effect (MPI_File_get_info): every hint SwiftMPI knows, with its value.
    public var info: Info { hints.reported(aggregators: aggregators) }

    /// Sets hints (MPI_File_set_info). Collective. Unknown keys are ignored, as MPI allows; a known key
    /// with a bad value throws `.invalidArgument`.
    public func setInfo(_ info: Info) throws(MPIError) {
        try collective("File.setInfo") {
            var updated = hints
            try updated.apply(info)
            aggregators = try updated.aggregators(on: communicator)
            hints = updated
        }
    }

    // MARK: - Helpers

    /// Runs a collective call's body on an open file.
    func collective<R>(_ call: StaticString, _ body: () throws -> R) throws(MPIError) -> R {
        try typedErrors {
            try checkOpen(call)
            return try body()
        }
    }

    func checkOpen(_ call: StaticString) throws(MPIError) {
        guard isOpen else { throw MPIError(.invalidArgument, "\(call)(\"\(path)\"): the file is closed") }
    }

    func requireWritable(_ call: StaticString) throws(MPIError) {
        guard !mode.contains(.readOnly) else {
            throw MPIError(.readOnly, "\(call)(\"\(path)\"): the file was opened .readOnly")
        }
    }

    func requireReadable(_ call: StaticString) throws(MPIError) {
        guard !mode.contains(.writeOnly) else {
            throw MPIError(.invalidMode, "\(call)(\"\(path)\"): the file was opened .writeOnly")
        }
    }

    private static func checkMode(_ mode: Mode, _ path: String) throws {
        let access = [Mode.readOnly, .writeOnly, .readWrite].filter { mode.contains($0) }.count
        let known: Mode = [.create, .readOnly, .writeOnly, .readWrite, .deleteOnClose, .uniqueOpen, .exclusive, .append, .sequential]
        let problem: String? =
            if access != 1 {
                "give exactly one of .readOnly, .writeOnly and .readWrite"
            } else if mode.contains(.readOnly) && (mode.contains(.create) || mode.contains(.exclusive)) {
                ".readOnly cannot be combined with .create or .exclusive"
            } else if mode.contains(.readWrite) && mode.contains(.sequential) {
                ".readWrite cannot be combined with .sequential"
            } else if !known.isSuperset(of: mode) { "unknown mode bits \(mode.rawValue & ~known.rawValue)" } else { nil }
        if let problem { throw MPIError(.invalidMode, "File.open(\"\(path)\"): \(problem)") }
    }

    /// Every rank learns whether any rank failed: each throws, the failed ones their own error, the
    /// others one naming the first rank that failed and its message.
    static func agree(_ communicator: Communicator, _ failure: MPIError?) throws {
        let failed = try communicator.allreduce([failure == nil ? Int.max : communicator.rank], op: .min)[0]
        guard failed != Int.max else { return }
        let report = try communicator.bcast(object: failure.map { "\($0.code)|\($0.message)" }, root: failed)
        if let failure { throw failure }
        let parts = report.split(separator: "|", maxSplits: 1).map(String.init)
        let code = parts.first.flatMap { MPIError.Code(named: $0) } ?? .io
        throw MPIError(code, "rank \(failed) failed: \(parts.last ?? report)")
    }

    /// Makes one system call on a file through `systemCall` (EINTR retried, errno read at once) and
    /// returns its failure as the MPIError `context` names, or nil when it succeeded.
    static func fileFailure(_ call: StaticString, _ context: @autoclosure () -> String, _ body: () -> Int32) -> MPIError? {
        do {
            _ = try systemCall(call, body)
            return nil
        } catch {
            return fileError(error.code, context(), call: call)
        }
    }

    /// The error for a failed system call on a file, its code chosen from errno.
    static func fileError(_ code: Int32, _ context: String, call: StaticString) -> MPIError {
        let kind: MPIError.Code =
            switch code {
            case ENOENT: .noSuchFile
            case EEXIST: .fileExists
            case EACCES, EPERM: .accessDenied
            case ENOSPC, EDQUOT: .noSpace
            case EROFS: .readOnly
            case ENAMETOOLONG, ENOTDIR, EISDIR: .badFile
            default: .io
            }
        return MPIError(kind, "\(context): \(call): \(SystemError.describe(code))")
    }
}
