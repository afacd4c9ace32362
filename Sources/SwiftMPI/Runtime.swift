#if canImport(Glibc)
import Glibc
#endif
import SwiftMPIWireup

/// The state of an initialized SwiftMPI process: its place in the job and its connection to the launcher.
final class Runtime {
    /// The running runtime, between initialize and finalize. Written only by those two calls.
    nonisolated(unsafe) static var current: Runtime?
    nonisolated(unsafe) private static var finalized = false

    let rank: Int
    let size: Int
    let launch: LaunchParameters?
    let keyValue: KeyValueClient?

    private init(rank: Int, size: Int, launch: LaunchParameters?, keyValue: KeyValueClient?) {
        self.rank = rank
        self.size = size
        self.launch = launch
        self.keyValue = keyValue
    }

    static func start() throws(MPIError) -> Communicator {
        guard current == nil else { throw MPIError(.alreadyInitialized, "MPI.initialize() called twice") }
        guard !finalized else { throw MPIError(.alreadyFinalized, "MPI.initialize() called after MPI.finalize()") }
        let launch: LaunchParameters?
        do {
            launch = try LaunchParameters.fromEnvironment()
        } catch {
            throw MPIError(.wireup, "MPI.initialize(): \(error)")
        }
        // The secret has been read; children this rank starts must not inherit it.
        unsetenv(WireupEnvironment.secret)
        guard let launch else {
            let runtime = Runtime(rank: 0, size: 1, launch: nil, keyValue: nil)
            current = runtime
            return Communicator(rank: 0, size: 1)
        }
        do {
            let client = try KeyValueClient(path: launch.keyValueSocket, secret: launch.secret, rank: launch.rank)
            try client.fence()
            current = Runtime(rank: launch.rank, size: launch.size, launch: launch, keyValue: client)
        } catch {
            throw MPIError(.wireup, "MPI.initialize(): rank \(launch.rank) could not join the job: \(error)")
        }
        return Communicator(rank: launch.rank, size: launch.size)
    }

    static func stop() throws(MPIError) {
        guard let runtime = current else {
            throw MPIError(finalized ? .alreadyFinalized : .notInitialized, "MPI.finalize() without MPI.initialize()")
        }
        if let client = runtime.keyValue {
            do {
                try client.fence()
                try client.finalize()
            } catch {
                throw MPIError(.wireup, "MPI.finalize(): rank \(runtime.rank): \(error)")
            }
        }
        current = nil
        finalized = true
    }

    static func abort(code: Int32, message: String) -> Never {
        current?.keyValue?.abort(code: code, message: message)
        fflush(nil)
        _exit(code)
    }
}
