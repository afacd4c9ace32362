#if canImport(Glibc)
import Glibc
#endif
import SwiftMPIWireup

/// The process-wide entry points of SwiftMPI: start-up, shut-down, clocks and job control.
public enum MPI {
    /// Joins the job that `swiftmpirun` started (or, without the launcher, a singleton job of one rank)
    /// and returns the world communicator.
    ///
    /// Connects to the launcher's key-value exchange, publishes this rank's endpoints and waits until
    /// every rank has done the same. Throws `.alreadyInitialized` on a second call and `.wireup` when the
    /// launcher cannot be reached.
    ///
    /// `threadLevel` says how threads will use SwiftMPI (MPI_Init_thread); with `.multiple` every call is
    /// safe from any thread, while the lower levels pay nothing for locking.
    public static func initialize(threadLevel: ThreadLevel = .single) throws(MPIError) -> Communicator {
        try Runtime.start(threadLevel: threadLevel)
    }

    /// The thread level the running job was initialized with.
    public static var threadLevel: ThreadLevel? { Runtime.current?.threadLevel }

    /// The world communicator between `MPI.initialize()` and `MPI.finalize()`, else nil: for the C
    /// interface, which joins a runtime Swift code started.
    package static var runningWorld: Communicator? {
        guard let runtime = Runtime.current, runtime.worldModelActive else { return nil }
        return runtime.worldCommunicator
    }

    /// Gives buffered sends (`bsend`, `ibsend`) `bytes` of buffer space (MPI_Buffer_attach). Each
    /// buffered message takes its size rounded up to 64 bytes plus ``bufferedSendOverhead``.
    /// Throws `.invalidArgument` when a buffer is already attached or `bytes` is negative.
    public static func attachBuffer(bytes: Int) throws(MPIError) {
        try typedErrors {
            let runtime = try Runtime.running("MPI.attachBuffer(bytes:)")
            try runtime.withEngine("MPI.attachBuffer(bytes:)") { engine in
                guard bytes >= 0 else { throw MPIError(.invalidArgument, "MPI.attachBuffer(bytes: \(bytes)): negative size") }
                guard engine.bufferedArea == nil else {
                    throw MPIError(.invalidArgument, "MPI.attachBuffer(bytes: \(bytes)): a buffer is already attached; detach it first")
                }
                engine.bufferedArea = BufferedSendArea(bytes: bytes)
            }
        }
    }

    /// Waits until every buffered message has been delivered, then releases the buffer
    /// (MPI_Buffer_detach) and returns its size. Throws `.invalidArgument` when none is attached.
    @discardableResult
    public static func detachBuffer() throws(MPIError) -> Int {
        try typedErrors {
            let runtime = try Runtime.running("MPI.detachBuffer()")
            let capacity = try runtime.withEngine("MPI.detachBuffer()") { engine in
                guard let area = engine.bufferedArea else { throw MPIError(.invalidArgument, "MPI.detachBuffer(): no buffer is attached") }
                return area.capacity
            }
            try runtime.wait("MPI.detachBuffer()") { $0.bufferedArea?.isIdle ?? true }
            try runtime.withEngine("MPI.detachBuffer()") { $0.bufferedArea = nil }
            return capacity
        }
    }

    /// Waits until every message buffered so far has been delivered; the buffer stays attached
    /// (MPI_Buffer_flush). Returns at once when no buffer is attached.
    public static func flushBuffer() throws(MPIError) {
        try iflushBuffer().wait()
    }

    /// Starts a buffer flush (MPI_Buffer_iflush): the request completes once every message
    /// buffered before this call has been delivered and its space is free again — later buffered
    /// sends are not waited for. Complete at once when no buffer is attached.
    public static func iflushBuffer() throws(MPIError) -> Request {
        try typedErrors {
            let runtime = try Runtime.running("MPI.iflushBuffer()")
            let (area, serial) = try runtime.withEngine("MPI.iflushBuffer()") { ($0.bufferedArea, $0.bufferedArea?.allocations ?? 0) }
            let schedule = CollectiveSchedule()
            // (Read under the engine lock, as the schedule advances. A detached area was idle.)
            schedule.programCompletion = { [weak area] in area?.holdsMessages(before: serial) == true ? nil : .empty }
            return try Request(runtime: runtime, schedule: schedule)
        }
    }

    /// Leaves the job. A barrier: no rank returns from it while another may still send to it.
    /// After it, every SwiftMPI call throws `.alreadyFinalized`.
    public static func finalize() throws(MPIError) {
        try Runtime.stop()
    }

    /// Ends the whole job: every rank is terminated and `swiftmpirun` exits with `code`.
    public static func abort(_ code: Int32 = 1, message: String = "") -> Never {
        Runtime.abort(code: code, message: message)
    }

    /// True between `initialize()` and `finalize()` (the world model; sessions do not count, as in
    /// MPI_Initialized).
    public static var isInitialized: Bool { Runtime.current?.worldModelActive ?? false }

    /// Seconds since an arbitrary fixed point in the past, from a monotonic clock (MPI_Wtime).
    public static func wtime() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
    }

    /// The resolution of ``wtime()`` in seconds (MPI_Wtick).
    public static func wtick() -> Double {
        var resolution = timespec()
        clock_getres(CLOCK_MONOTONIC, &resolution)
        return Double(resolution.tv_sec) + Double(resolution.tv_nsec) * 1e-9
    }

    /// The name of the host this rank runs on (MPI_Get_processor_name).
    public static var processorName: String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "unknown" }
        return name.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
