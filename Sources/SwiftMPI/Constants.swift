import SwiftMPIWireup

extension MPI {
    /// Matches a message from any source in a receive or probe (MPI_ANY_SOURCE).
    public static let anySource = -1
    /// Matches a message with any tag in a receive or probe (MPI_ANY_TAG).
    public static let anyTag = -1
    /// The null process (MPI_PROC_NULL): sends to it and receives from it complete at once.
    public static let procNull = -2
    /// The root's own `root` argument in a rooted collective on an intercommunicator (MPI_ROOT):
    /// the other ranks of its group pass `MPI.procNull`, the other group the root's rank in it.
    public static let root = -3
    /// The largest valid tag (MPI_TAG_UB); tags are 0...tagUpperBound.
    public static let tagUpperBound = Int(Int32.max)
    /// Extra bytes each buffered send takes in the attached buffer beyond its data rounded up to 8
    /// bytes (MPI_BSEND_OVERHEAD: attach the data's size plus this much per message in flight).
    public static let bufferedSendOverhead = 64
    /// Whether ``wtime()`` is synchronized across ranks (MPI_WTIME_IS_GLOBAL): false, each rank reads
    /// its own host's monotonic clock.
    public static let wtimeIsGlobal = false
    /// The number of processes the job can have (MPI_UNIVERSE_SIZE): the world's size, since SwiftMPI
    /// does not spawn processes; nil before `MPI.initialize()`.
    public static var universeSize: Int? { Runtime.current?.size }
    /// Which program of a multi-program launch this rank runs (MPI_APPNUM): 0 for the first (or
    /// only) program, 1 for the program after the first ':' of `swiftmpirun -n 1 a : -n 4 b`, and so
    /// on; 0 when started otherwise (srun, a singleton).
    public static let appNumber: Int = WireupEnvironment.value(WireupEnvironment.appNumber).flatMap { Int32($0) }.map { max(0, Int($0)) } ?? 0

    static let anySourceCode: Int32 = -1
    static let anyTagCode: Int32 = -1
}

/// The thread support a program asks for in `MPI.initialize(threadLevel:)`.
public enum ThreadLevel: Int, Sendable, Comparable {
    /// One thread only.
    case single
    /// Many threads, but only the one that initialized calls SwiftMPI.
    case funneled
    /// Many threads call SwiftMPI, never two at once (the program serializes).
    case serialized
    /// Any thread may call SwiftMPI at any time; SwiftMPI serializes internally.
    case multiple

    /// Orders levels by what they allow.
    public static func < (a: ThreadLevel, b: ThreadLevel) -> Bool { a.rawValue < b.rawValue }
}

/// How a send decides it is complete (MPI's send modes).
@usableFromInline
enum SendMode {
    case standard, buffered, synchronous, ready
}
