/// A nonblocking receive that owns its buffer (from ``Communicator/irecv(count:of:from:tag:)`` or
/// ``Communicator/irecv(into:from:tag:)->ReceiveRequest<T>``): the elements come back from ``wait()`` or ``value``, so
/// no pointer has to outlive anything.
///
/// The buffer is an array the request holds, kept alive by the engine until the receive has
/// finished: dropping the request with the receive still pending is safe (the message is then
/// received into memory nobody reads, and freed). Completing copies nothing when the message fills
/// the array; a shorter message's elements are copied out once (`count:` form).
///
/// Sendable (whatever `Element` is) because the engine writes the array only while the receive is
/// in flight and the elements are handed out only after it has completed (`wait`, `test` or the
/// awaited `value` orders the two); the array is never resized.
public struct ReceiveRequest<Element: BitwiseCopyable>: @unchecked Sendable {
    /// The request underneath, for ``Request/waitAll(_:)`` and the other list forms (after which
    /// ``wait()`` returns the elements without waiting).
    public let request: Request
    /// The memory the receive writes.
    @usableFromInline let array: [Element]
    /// Whether ``wait()`` returns the whole array (a moved-in array) rather than the elements that
    /// arrived (`count:` form).
    @usableFromInline let returnsWhole: Bool

    @inlinable
    init(request: Request, array: [Element], returnsWhole: Bool) {
        self.request = request
        self.array = array
        self.returnsWhole = returnsWhole
    }

    /// The elements a receive with `status` wrote: the whole array for a moved-in one, else as many
    /// as arrived (none when it was cancelled).
    @inlinable
    func elements(_ status: Status) -> [Element] {
        if returnsWhole { return array }
        let received = status.isCancelled ? 0 : Swift.min(status.count(of: Element.self) ?? 0, array.count)
        return received == array.count ? array : Array(array[..<received])
    }

    /// Waits for the message and returns its elements and status (MPI_Wait). Throws the
    /// receive's error (`.truncate` for a message longer than `count` elements).
    @inlinable
    public func wait() throws(MPIError) -> ([Element], Status) {
        let status = try request.wait()
        return (elements(status), status)
    }

    /// The elements and status if the message has arrived, else nil (MPI_Test).
    @inlinable
    public func test() throws(MPIError) -> ([Element], Status)? {
        guard let status = try request.test() else { return nil }
        return (elements(status), status)
    }

    /// The elements and status, awaited without blocking the thread (see ``Request/value``):
    /// cancelling the task withdraws a receive that has not matched and throws `CancellationError`.
    public var value: ([Element], Status) {
        get async throws {
            let status = try await request.value
            return (elements(status), status)
        }
    }

    /// Withdraws the receive if it has not matched (MPI_Cancel); ``wait()`` then returns no
    /// elements (`count:` form) or the array as it was (a moved-in array), and a status whose
    /// `isCancelled` is set.
    public func cancel() { request.cancel() }
}

extension ReceiveRequest {
    /// Starts a receive into `buffer`'s storage with `start` (given that memory and its owner, for
    /// the engine to hold while the receive is in flight) and moves the array into the request;
    /// when `start` throws, `buffer` is left as it was.
    @inlinable
    static func taking(
        _ buffer: inout [Element], returnsWhole: Bool, _ start: (UnsafeMutableRawBufferPointer, consuming AnyObject) throws -> Request
    ) rethrows -> ReceiveRequest {
        // The pointer outlives the closure, which is safe here and only here: the mutating access
        // made the storage unique, the request and the engine then hold it without ever changing
        // it until the receive writing through the pointer has completed, and whoever changes a
        // copy handed out meanwhile gets its own storage (copy-on-write).
        let memory = buffer.withUnsafeMutableBytes { $0 }
        let request = try start(memory, buffer.storageOwner)
        var array: [Element] = []
        swap(&array, &buffer)
        return ReceiveRequest(request: request, array: array, returnsWhole: returnsWhole)
    }

    /// Awaits the receive and moves its array back into `buffer`, also when the await throws (it
    /// ends only once the receive has finished or was withdrawn: ``Request/value``).
    func value(into buffer: inout [Element]) async throws -> Status {
        do {
            let (values, status) = try await value
            buffer = values
            return status
        } catch {
            buffer = array
            throw error
        }
    }
}

/// A persistent receive into memory the request owns (from ``Communicator/recvInit(count:of:from:tag:)``):
/// `start()` posts it again, `wait()` returns the elements of the message each run received.
/// Dropping it while a run is in flight is safe, as for ``ReceiveRequest``.
public struct PersistentReceive<Element: BitwiseCopyable>: Sendable {
    /// The persistent request underneath (for `Request.startAll` and the list forms).
    public let request: Request
    let storage: OwnedBuffer<Element>

    init(request: Request, storage: OwnedBuffer<Element>) {
        self.request = request
        self.storage = storage
    }

    /// Posts the receive again (MPI_Start); throws `.invalidArgument` while the last run is active.
    public func start() throws(MPIError) { try request.start() }

    /// Waits for this run's message and returns its elements and status (MPI_Wait).
    public func wait() throws(MPIError) -> ([Element], Status) {
        let status = try request.wait()
        return (storage.elements(status), status)
    }

    /// This run's elements and status, awaited (``Request/value``).
    public var value: ([Element], Status) {
        get async throws {
            let status = try await request.value
            return (storage.elements(status), status)
        }
    }
}

extension Communicator {
    /// A persistent receive of up to `count` elements of `T` into memory the request owns
    /// (MPI_Recv_init); no unsafe buffer to keep valid.
    public func recvInit<T: BitwiseCopyable>(count: Int, of type: T.Type, from source: Int, tag: Int) throws(MPIError) -> PersistentReceive<T> {
        try typedErrors {
            guard count >= 0 else { throw MPIError(.invalidCount, "recvInit(count: \(count)): negative count") }
            _ = try checkSource(source, "recvInit")
            try checkReceiveTag(tag, "recvInit")
            let storage = OwnedBuffer<T>(count: count)
            let request = Request(
                runtime: runtime, persistent: .receive(self, UnsafeMutableRawBufferPointer(storage.buffer), storage, source: source, tag: tag))
            return PersistentReceive(request: request, storage: storage)
        }
    }
}
