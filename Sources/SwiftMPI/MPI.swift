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
    public static func initialize() throws(MPIError) -> Communicator {
        try Runtime.start()
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

    /// True between `initialize()` and `finalize()`.
    public static var isInitialized: Bool { Runtime.current != nil }

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
