import SwiftMPIWireup

/// An error thrown by a SwiftMPI call.
///
/// Switch on ``code`` to react to a kind of failure; ``message`` names the call, the peer and the sizes
/// involved. Conditions a program can cause with ordinary data (a bad rank or tag, truncation, a dead
/// peer, an exhausted bsend buffer) throw; SwiftMPI traps only on broken internal invariants.
public struct MPIError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure: a closed set that users can switch on.
    public enum Code: Hashable, Sendable, CaseIterable, CustomStringConvertible {
        /// A call needed `MPI.initialize()` first.
        case notInitialized
        /// `MPI.initialize()` was called twice.
        case alreadyInitialized
        /// A call came after `MPI.finalize()`.
        case alreadyFinalized
        /// A rank outside the communicator (and not a wildcard or `MPI.procNull` where those are allowed).
        case invalidRank
        /// A negative tag or one above `MPI.tagUpperBound` (and not `MPI.anyTag` where allowed).
        case invalidTag
        /// A negative or impossible element count.
        case invalidCount
        /// A datatype that cannot be built (a negative count, an extent that overflows, no fields), or
        /// a message whose length is not a whole number of the receive datatype's elements.
        case invalidDatatype
        /// Any other argument that the call cannot accept.
        case invalidArgument
        /// The ranks of a communicator called different collectives at the same point, or the same
        /// collective with different roots; every rank that takes part throws it. (Always checked by
        /// one host's shared-memory collectives; elsewhere under `SWIFTMPI_CHECK_COLLECTIVES=1`.)
        case collectiveMismatch
        /// A one-sided call outside an epoch that allows it (a put to a rank neither locked, fenced
        /// nor started), or synchronization calls in an order MPI forbids (MPI_ERR_RMA_SYNC).
        case rmaSynchronization
        /// A one-sided access outside the target's window (MPI_ERR_RMA_RANGE), checked at the origin.
        case rmaRange
        /// A file that does not exist (MPI_ERR_NO_SUCH_FILE): opened without `.create`, or deleted.
        case noSuchFile
        /// A file opened with `.create` and `.exclusive` that already exists (MPI_ERR_FILE_EXISTS).
        case fileExists
        /// The file system refused access to a file or its directory (MPI_ERR_ACCESS).
        case accessDenied
        /// No room left on the file system, or the user's quota is used up (MPI_ERR_NO_SPACE).
        case noSpace
        /// A write to a file opened `.readOnly`, or on a read-only file system (MPI_ERR_READ_ONLY).
        case readOnly
        /// Any other failure of the file system (MPI_ERR_IO); the message names the system call and errno.
        case io
        /// An access mode MPI forbids (MPI_ERR_AMODE): not exactly one of read-only, write-only and
        /// read-write, read-only with create or exclusive, read-write with sequential; or a read from a
        /// write-only file.
        case invalidMode
        /// A path that cannot name a file (MPI_ERR_BAD_FILE): empty, too long, or through something
        /// that is not a directory.
        case badFile
        /// The ranks passed different values where a collective call needs the same on all
        /// (MPI_ERR_NOT_SAME): a file's access mode, or a view's element size.
        case notSame
        /// A data representation other than "native" and "internal" (MPI_ERR_UNSUPPORTED_DATAREP).
        case unsupportedDataRepresentation
        /// A message was longer than the receive buffer.
        case truncate
        /// The attached buffered-send buffer has no room for the message.
        case bufferExhausted
        /// A peer process failed or its connection was lost (MPIX_ERR_PROC_FAILED). In recovery mode
        /// (`swiftmpirun --enable-recovery`) the job goes on: operations that involve the failed
        /// rank end with this code, and the survivors can ``Communicator/shrink()``.
        case processFailed
        /// A wildcard receive started by `irecv` (`MPI.anySource`) cannot match for now: a member
        /// of its communicator failed, and this rank has not acknowledged the failure
        /// (``Communicator/acknowledgeFailures()``) (MPIX_ERR_PROC_FAILED_PENDING). Only a wait, test
        /// or await of the request throws it, and the request stays active: after the acknowledgement it
        /// can complete, or ``Request/cancel()`` withdraws it. (A blocking wildcard receive throws
        /// ``processFailed`` instead, and is withdrawn.)
        case processFailedPending
        /// The communicator was revoked (``Communicator/revoke()``) by this or another member
        /// (MPIX_ERR_REVOKED): every operation on it but agreement, shrinking and the failure
        /// queries ends with this code.
        case revoked
        /// The job's wire-up (key-value exchange with the launcher) failed.
        case wireup
        /// A transport reported an error.
        case transport
        /// The request was cancelled.
        case cancelled
        /// An internal error (a bug in SwiftMPI).
        case internalError

        /// The name this code had before recovery mode existed (`peerFailed`): the same code.
        @available(*, deprecated, renamed: "processFailed")
        public static var peerFailed: Code { .processFailed }

        /// The code's name.
        public var description: String {
            switch self {
            case .notInitialized: "notInitialized"
            case .alreadyInitialized: "alreadyInitialized"
            case .alreadyFinalized: "alreadyFinalized"
            case .invalidRank: "invalidRank"
            case .invalidTag: "invalidTag"
            case .invalidCount: "invalidCount"
            case .invalidArgument: "invalidArgument"
            case .invalidDatatype: "invalidDatatype"
            case .truncate: "truncate"
            case .bufferExhausted: "bufferExhausted"
            case .processFailed: "processFailed"
            case .processFailedPending: "processFailedPending"
            case .revoked: "revoked"
            case .wireup: "wireup"
            case .transport: "transport"
            case .cancelled: "cancelled"
            case .internalError: "internalError"
            case .collectiveMismatch: "collectiveMismatch"
            case .rmaSynchronization: "rmaSynchronization"
            case .rmaRange: "rmaRange"
            case .noSuchFile: "noSuchFile"
            case .fileExists: "fileExists"
            case .accessDenied: "accessDenied"
            case .noSpace: "noSpace"
            case .readOnly: "readOnly"
            case .io: "io"
            case .invalidMode: "invalidMode"
            case .badFile: "badFile"
            case .notSame: "notSame"
            case .unsupportedDataRepresentation: "unsupportedDataRepresentation"
            }
        }

        /// The code whose ``description`` is `name` (an error that crossed between ranks as text).
        init?(named name: some StringProtocol) {
            guard let code = Code.allCases.first(where: { $0.description == name }) else { return nil }
            self = code
        }

        /// What the code means, in a sentence (``MPI/errorString(_:)``).
        var meaning: String {
            switch self {
            case .notInitialized: "the call needs MPI.initialize() first"
            case .alreadyInitialized: "MPI.initialize() was called twice"
            case .alreadyFinalized: "the call came after MPI.finalize()"
            case .invalidRank: "a rank outside the communicator"
            case .invalidTag: "a tag outside 0...MPI.tagUpperBound"
            case .invalidCount: "a negative or impossible element count"
            case .invalidDatatype: "a datatype that cannot be built, or a message that is not a whole number of its elements"
            case .invalidArgument: "an argument the call cannot accept"
            case .collectiveMismatch: "the ranks called different collectives, or the same one with different roots"
            case .rmaSynchronization: "a one-sided call outside an epoch that allows it"
            case .rmaRange: "a one-sided access outside the target's window"
            case .truncate: "a message longer than the receive buffer"
            case .bufferExhausted: "no room left in the attached buffered-send buffer"
            case .processFailed: "a peer process failed or its connection was lost"
            case .processFailedPending: "a wildcard receive waits for the acknowledgement of a failure; the request stays active"
            case .revoked: "the communicator was revoked"
            case .wireup: "the job's wire-up failed"
            case .transport: "a transport reported an error"
            case .cancelled: "the request was cancelled"
            case .internalError: "an internal error in SwiftMPI"
            case .noSuchFile: "no such file"
            case .fileExists: "the file exists"
            case .accessDenied: "permission denied"
            case .noSpace: "no space left on the file system"
            case .readOnly: "the file or file system is read-only"
            case .io: "an I/O error"
            case .invalidMode: "an access mode MPI does not allow"
            case .badFile: "an invalid file name"
            case .notSame: "the ranks passed different values to a collective call"
            case .unsupportedDataRepresentation: "an unsupported data representation"
            }
        }
    }

    /// The kind of failure.
    public let code: Code
    /// What happened, naming the call, peer and sizes.
    public let message: String
    /// The status of the message involved, when there is one (for `.truncate`: the sent length).
    public let status: Status?
    /// The job rank of the process that raised the error (its rank in the world communicator), or nil
    /// where the process has none (a program started without a launcher, before it initialized).
    public let rank: Int?
    /// Whether a communicator's error handler has seen this error (it sees each error once).
    @usableFromInline var isHandled = false

    /// Creates an error, raised by this process's rank.
    public init(_ code: Code, _ message: String, status: Status? = nil) {
        self.code = code
        self.message = message
        self.status = status
        self.rank = Runtime.current?.rank ?? launchedRank
    }

    /// "rank R: code: message" (without the rank where the process has none), so that an error
    /// printed by any rank says whose it is.
    public var description: String { (rank.map { "rank \($0): " } ?? "") + "\(code): \(message)" }
}

/// The rank a launcher (swiftmpirun, or srun through PMI) gave this process, read once from the
/// environment: errors raised before `MPI.initialize()` completes still name it.
private let launchedRank: Int? = {
    for name in [WireupEnvironment.rank, "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"] {
        if let value = WireupEnvironment.value(name), let rank = Int(value) { return rank }
    }
    return nil
}()

extension MPI {
    /// The code's name and meaning, e.g. `truncate: a message longer than the receive buffer`
    /// (MPI_Error_string).
    public static func errorString(_ code: MPIError.Code) -> String { "\(code): \(code.meaning)" }
}
