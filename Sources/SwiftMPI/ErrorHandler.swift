/// What a communicator does when a call on it fails (MPI_Comm_set_errhandler).
///
/// Every call made on a communicator (point-to-point, collectives, communicator management)
/// passes its error through the communicator's handler before throwing it, once, however many of
/// SwiftMPI's own calls it went through. Errors that completing a request reports (`wait`, `test`,
/// `await value`) are thrown as they are: a `Request` may outlive the handler's communicator.
public enum ErrorHandler: Sendable {
    /// The call throws the error (the default: Swift's form of MPI_ERRORS_RETURN).
    case throwing
    /// The whole job ends: the error, with the rank and call, is printed as the job's one line, and
    /// `swiftmpirun` exits with status 1 (MPI_ERRORS_ARE_FATAL / MPI_ERRORS_ABORT).
    case fatal
    /// `handler` runs with the communicator and the error (to log, clean up, or end the job with
    /// ``MPI/abort(_:message:)``); if it returns, the call throws the error.
    case custom(@Sendable (Communicator, MPIError) -> Void)
}

extension Communicator {
    /// This communicator's error handler, shared by every copy of it; communicators made from it
    /// (`dup`, `split`, `create`, topologies) start with it. `.throwing` by default, also on the world.
    public var errorHandler: ErrorHandler {
        get { state.errorHandler }
        nonmutating set { state.errorHandler = newValue }
    }

    /// Runs `body`, a call on this communicator, and throws what it throws typed, after the
    /// communicator's error handler has seen it. Inside `Communicator`'s methods this shadows the
    /// global ``typedErrors(_:)``, so every public call on a communicator goes through it; inlined, it
    /// costs nothing unless something is thrown.
    @inlinable @inline(__always)
    func typedErrors<R>(_ body: () throws -> R) throws(MPIError) -> R {
        do {
            return try body()
        } catch {
            throw handled(error)
        }
    }

    /// `error` as an `MPIError`, passed through the error handler unless a call inside this one
    /// already did.
    @usableFromInline
    func handled(_ error: any Error) -> MPIError {
        var error = error as? MPIError ?? MPIError(.internalError, "\(error)")
        guard !error.isHandled else { return error }
        error.isHandled = true
        switch state.errorHandler {
        case .throwing: break
        case .fatal: MPI.abort(1, message: "fatal error handler: \(error)")
        case .custom(let handler): handler(self, error)
        }
        return error
    }
}
