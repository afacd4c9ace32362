/// Runs `body`, whose calls throw only `MPIError` but which the compiler cannot prove so (closures
/// infer untyped `throws` in Swift 6.3), and rethrows its error typed. Public calls use it so that
/// they can declare `throws(MPIError)`; anything else reaching it is a SwiftMPI bug, reported as
/// `.internalError`. Inlined: no cost unless something is thrown.
@inlinable @inline(__always)
func typedErrors<R>(_ body: () throws -> R) throws(MPIError) -> R {
    do {
        return try body()
    } catch let error as MPIError {
        throw error
    } catch {
        throw MPIError(.internalError, "\(error)")
    }
}
