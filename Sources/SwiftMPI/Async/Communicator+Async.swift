/// Receives into buffers SwiftMPI owns, and the `async` forms of point-to-point calls.
///
/// An `async` form has the same name and arguments as its blocking form: inside async code Swift
/// picks the `async` one, and leaving out `await` is a compile-time error, never a silent fall-back
/// to the blocking call (which would hold one of the concurrency pool's few threads). A fast
/// message costs about what the blocking call does (it is progressed inline for up to 50 µs); a slow
/// one suspends the task (``Request/value``). Several tasks calling SwiftMPI at once need thread
/// level `.multiple`.
extension Communicator {
    /// Receives up to `count` elements of `T` into a new array (MPI_Recv); returns them, as many
    /// as arrived, with the status.
    @inlinable
    public func recv<T: BitwiseCopyable>(count: Int, of type: T.Type, from source: Int, tag: Int) throws(MPIError) -> ([T], Status) {
        try irecv(count: count, of: type, from: source, tag: tag).wait()
    }

    /// Starts a receive of up to `count` elements of `T` into memory the request owns (MPI_Irecv);
    /// the elements come back from the request's `wait()` or `value`. Safe to drop unfinished.
    @inlinable
    public func irecv<T: BitwiseCopyable>(count: Int, of type: T.Type, from source: Int, tag: Int) throws(MPIError) -> ReceiveRequest<T> {
        guard count >= 0 else { throw MPIError(.invalidCount, "irecv(count: \(count)): negative count") }
        // Uninitialized: trivial values, and only the elements the message wrote are handed out.
        return try irecv(into: [T](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }, returnsWhole: false, from: source, tag: tag)
    }

    /// Starts a receive into `buffer`'s storage, which moves into the request and comes back from
    /// its `wait()` (whole: the status says how many elements arrived) (MPI_Irecv). Pass the array
    /// with `consume` (or a temporary) so that nothing is copied or allocated; safe to drop
    /// unfinished, like ``irecv(count:of:from:tag:)``.
    @inlinable
    public func irecv<T: BitwiseCopyable>(into buffer: consuming [T], from source: Int, tag: Int) throws(MPIError) -> ReceiveRequest<T> {
        try irecv(into: buffer, returnsWhole: true, from: source, tag: tag)
    }

    /// The core of both: the array's storage is made unique (a shared array is copied once, as
    /// copy-on-write requires) and the engine holds its owner while the receive is in flight.
    @inlinable
    func irecv<T: BitwiseCopyable>(into buffer: consuming [T], returnsWhole: Bool, from source: Int, tag: Int) throws(MPIError) -> ReceiveRequest<T> {
        var array = consume buffer
        return try typedErrors {
            try ReceiveRequest.taking(&array, returnsWhole: returnsWhole) { memory, owner in
                try startReceive(memory, keepAlive: owner, from: source, tag: tag, "irecv")
            }
        }
    }

    /// Starts receiving a message taken by `mprobe(from:tag:)` into `buffer`'s storage, which moves
    /// into the request and comes back whole from its `wait()` (MPI_Imrecv). Throws
    /// `.invalidArgument` if the message was already received; `.truncate` comes from the request
    /// when it does not fit. Safe to drop unfinished.
    public func imrecv<T: BitwiseCopyable>(_ message: Message, into buffer: consuming [T]) throws(MPIError) -> ReceiveRequest<T> {
        var array = consume buffer
        return try typedErrors {
            try ReceiveRequest.taking(&array, returnsWhole: true) { memory, owner in try message.startReceive(into: memory, keepAlive: owner) }
        }
    }

    /// Receives a message taken by `mprobe(from:tag:)` into `buffer`, awaited (MPI_Mrecv); returns
    /// the status. When the await throws, `buffer` holds what the receive left in it.
    @discardableResult
    public func mrecv<T: BitwiseCopyable>(_ message: Message, into buffer: inout [T]) async throws -> Status {
        let receive = try ReceiveRequest.taking(&buffer, returnsWhole: true) { memory, owner in
            try message.startReceive(into: memory, keepAlive: owner)
        }
        return try await receive.value(into: &buffer)
    }

    /// Receives up to `count` elements of `T`, awaited (``recv(count:of:from:tag:)``).
    public func recv<T: BitwiseCopyable>(count: Int, of type: T.Type, from source: Int, tag: Int) async throws -> ([T], Status) {
        try await irecv(count: count, of: type, from: source, tag: tag).value
    }

    /// Receives into `buffer`, awaited; returns the status.
    @discardableResult
    public func recv<T: BitwiseCopyable>(into buffer: inout [T], from source: Int, tag: Int) async throws -> Status {
        let (values, status) = try await recv(count: buffer.count, of: T.self, from: source, tag: tag)
        buffer.replaceSubrange(0..<values.count, with: values)
        return status
    }

    /// Sends `values` (standard mode), awaited until the send has completed.
    public func send<T: BitwiseCopyable>(_ values: [T], to destination: Int, tag: Int) async throws {
        _ = try await isend(values, to: destination, tag: tag).value
    }
}
