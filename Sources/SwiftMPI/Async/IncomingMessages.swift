extension Communicator {
    /// Waits for a message matching `source` and `tag` and takes it out of matching (MPI_Mprobe),
    /// awaited: the task suspends until one arrives. Receive it with `mrecv` or `imrecv`.
    /// Cancelling the task throws `CancellationError` and takes nothing.
    public func mprobe(from source: Int, tag: Int) async throws -> Message {
        let deadline = MPI.wtime() + AsyncProgress.inlineSpin
        var rounds = 0
        while !Task.isCancelled {
            if let message = try improbe(from: source, tag: tag) { return message }
            rounds &+= 1
            if rounds & 15 == 0 && MPI.wtime() > deadline { break }
        }
        let pattern = pattern(source: source, tag: tag)
        let taken = TakenMessage()
        _ = try await runtime.startAsyncProgress().suspend(
            until: { engine in
                taken.message = engine.takeMatched(pattern)
                if let message = taken.message { return .success(message.status) }
                return probeFault(engine, source: source, "mprobe").map { .failure($0) }
            },
            withdraw: { _ in true })
        return Message(communicator: self, message: taken.message)
    }

    /// The messages that match `source` and `tag`, as they arrive, each received whole into a new
    /// array of bytes: `for try await (bytes, status) in world.messages(from: MPI.anySource, tag: 7)`.
    /// The sequence never ends by itself; leave the loop (or cancel the task) when done.
    public func messages(from source: Int = MPI.anySource, tag: Int = MPI.anyTag) -> IncomingMessages<UInt8> {
        IncomingMessages(communicator: self, source: source, tag: tag)
    }

    /// ``messages(from:tag:)`` with each message received as elements of `T`; a message that is
    /// not a whole number of them throws `.invalidDatatype`.
    public func messages<T: BitwiseCopyable>(of type: T.Type, from source: Int = MPI.anySource, tag: Int = MPI.anyTag) -> IncomingMessages<T> {
        IncomingMessages(communicator: self, source: source, tag: tag)
    }
}

/// The message a suspended matched probe took. Sendable: written by the progress thread with the
/// engine lock held before the task is resumed, read by the task after.
private final class TakenMessage: @unchecked Sendable {
    var message: MatchedMessage?
}

/// Messages matching a source and tag, received as they arrive (``Communicator/messages(from:tag:)``).
/// Each is taken by an awaited matched probe, so its size is known before it is received, and
/// messages from one sender come in the order they were sent. Several loops over sequences that
/// overlap share the messages between them (each message goes to exactly one).
public struct IncomingMessages<T: BitwiseCopyable>: AsyncSequence, Sendable {
    /// One message: its elements and its status.
    public typealias Element = (values: [T], status: Status)

    let communicator: Communicator
    let source: Int
    let tag: Int

    /// Makes the iterator (one matched probe and one receive per message).
    public func makeAsyncIterator() -> Iterator { Iterator(communicator: communicator, source: source, tag: tag) }

    /// Takes and receives the next matching message.
    public struct Iterator: AsyncIteratorProtocol {
        let communicator: Communicator
        let source: Int
        let tag: Int

        /// The next message; throws the receive's error, or `CancellationError`.
        public mutating func next() async throws -> Element? {
            let message = try await communicator.mprobe(from: source, tag: tag)
            let byteCount = message.status.byteCount
            let stride = MemoryLayout<T>.stride
            guard byteCount % Swift.max(stride, 1) == 0 else {
                _ = try? message.startReceive(into: UnsafeMutableRawBufferPointer(start: nil, count: 0)).wait()  // consumed (as a .truncate)
                throw MPIError(.invalidDatatype, "messages(of: \(T.self)): \(byteCount) bytes from rank \(message.status.source) are not whole elements")
            }
            let owned = OwnedBuffer<T>(count: byteCount / Swift.max(stride, 1))
            let request = try message.startReceive(into: UnsafeMutableRawBufferPointer(owned.buffer), keepAlive: owned)
            let status = try await request.value
            return (owned.elements(status), status)
        }
    }
}
