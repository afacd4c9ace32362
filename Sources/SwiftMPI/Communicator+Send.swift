/// Sends of `BitwiseCopyable` elements in MPI's four modes, blocking and nonblocking.
///
/// - `send`: standard mode; returns once the buffer may be reused (small messages are copied into the
///   peer's ring at once, large ones are read by the receiver once it has matched).
/// - `bsend`: buffered; copies into the buffer attached with `MPI.attachBuffer(bytes:)` and returns at
///   once; throws `.bufferExhausted` and sends nothing when it has no room.
/// - `ssend`: synchronous; returns only after the matching receive has started.
/// - `rsend`: ready; the program promises the receive is already posted. SwiftMPI checks that where it
///   is cheap (on arrival), prints one warning if the promise was broken, and delivers the message as
///   a standard send would: never corrupts.
///
/// Every call throws `.invalidRank` for a destination outside the communicator and `.invalidTag` for a
/// tag outside `0...MPI.tagUpperBound`. A destination of `MPI.procNull` completes at once.
extension Communicator {
    /// Standard-mode blocking send (MPI_Send).
    @inlinable
    public func send<T: BitwiseCopyable>(_ values: [T], to destination: Int, tag: Int) throws(MPIError) {
        try typedErrors {
            try values.withUnsafeBytes { try blockingSend($0, to: destination, tag: tag, mode: .standard, "send") }
        }
    }

    /// Standard-mode blocking send from a buffer (MPI_Send).
    @inlinable
    public func send<T: BitwiseCopyable>(_ buffer: UnsafeBufferPointer<T>, to destination: Int, tag: Int) throws(MPIError) {
        try typedErrors {
            try blockingSend(UnsafeRawBufferPointer(buffer), to: destination, tag: tag, mode: .standard, "send")
        }
    }

    /// Buffered-mode blocking send (MPI_Bsend).
    @inlinable
    public func bsend<T: BitwiseCopyable>(_ values: [T], to destination: Int, tag: Int) throws(MPIError) {
        try typedErrors {
            try values.withUnsafeBytes { try blockingSend($0, to: destination, tag: tag, mode: .buffered, "bsend") }
        }
    }

    /// Buffered-mode blocking send from a buffer (MPI_Bsend).
    @inlinable
    public func bsend<T: BitwiseCopyable>(_ buffer: UnsafeBufferPointer<T>, to destination: Int, tag: Int) throws(MPIError) {
        try typedErrors {
            try blockingSend(UnsafeRawBufferPointer(buffer), to: destination, tag: tag, mode: .buffered, "bsend")
        }
    }

    /// Synchronous-mode blocking send (MPI_Ssend).
    @inlinable
    public func ssend<T: BitwiseCopyable>(_ values: [T], to destination: Int, tag: Int) throws(MPIError) {
        try typedErrors {
            try values.withUnsafeBytes { try blockingSend($0, to: destination, tag: tag, mode: .synchronous, "ssend") }
        }
    }

    /// Synchronous-mode blocking send from a buffer (MPI_Ssend).
    @inlinable
    public func ssend<T: BitwiseCopyable>(_ buffer: UnsafeBufferPointer<T>, to destination: Int, tag: Int) throws(MPIError) {
        try typedErrors {
            try blockingSend(UnsafeRawBufferPointer(buffer), to: destination, tag: tag, mode: .synchronous, "ssend")
        }
    }

    /// Ready-mode blocking send (MPI_Rsend).
    @inlinable
    public func rsend<T: BitwiseCopyable>(_ values: [T], to destination: Int, tag: Int) throws(MPIError) {
        try typedErrors {
            try values.withUnsafeBytes { try blockingSend($0, to: destination, tag: tag, mode: .ready, "rsend") }
        }
    }

    /// Ready-mode blocking send from a buffer (MPI_Rsend).
    @inlinable
    public func rsend<T: BitwiseCopyable>(_ buffer: UnsafeBufferPointer<T>, to destination: Int, tag: Int) throws(MPIError) {
        try typedErrors {
            try blockingSend(UnsafeRawBufferPointer(buffer), to: destination, tag: tag, mode: .ready, "rsend")
        }
    }

    // MARK: Nonblocking

    /// Standard-mode nonblocking send (MPI_Isend). The request keeps `values` alive until it completes.
    @inlinable
    public func isend<T: BitwiseCopyable>(_ values: [T], to destination: Int, tag: Int) throws(MPIError) -> Request {
        try typedErrors {
            try startArraySend(values, to: destination, tag: tag, mode: .standard, "isend")
        }
    }

    /// Standard-mode nonblocking send from a buffer that must stay valid until completion (MPI_Isend).
    public func isend<T: BitwiseCopyable>(_ buffer: UnsafeBufferPointer<T>, to destination: Int, tag: Int) throws(MPIError) -> Request {
        try typedErrors {
            try startSend(UnsafeRawBufferPointer(buffer), keepAlive: nil, to: destination, tag: tag, mode: .standard, "isend")
        }
    }

    /// Buffered-mode nonblocking send (MPI_Ibsend): the data is copied at once; the request is complete.
    public func ibsend<T: BitwiseCopyable>(_ values: [T], to destination: Int, tag: Int) throws(MPIError) -> Request {
        try typedErrors {
            try startArraySend(values, to: destination, tag: tag, mode: .buffered, "ibsend")
        }
    }

    /// Buffered-mode nonblocking send from a buffer (MPI_Ibsend).
    public func ibsend<T: BitwiseCopyable>(_ buffer: UnsafeBufferPointer<T>, to destination: Int, tag: Int) throws(MPIError) -> Request {
        try typedErrors {
            try startSend(UnsafeRawBufferPointer(buffer), keepAlive: nil, to: destination, tag: tag, mode: .buffered, "ibsend")
        }
    }

    /// Synchronous-mode nonblocking send (MPI_Issend): completes once the receive has matched.
    public func issend<T: BitwiseCopyable>(_ values: [T], to destination: Int, tag: Int) throws(MPIError) -> Request {
        try typedErrors {
            try startArraySend(values, to: destination, tag: tag, mode: .synchronous, "issend")
        }
    }

    /// Synchronous-mode nonblocking send from a buffer (MPI_Issend).
    public func issend<T: BitwiseCopyable>(_ buffer: UnsafeBufferPointer<T>, to destination: Int, tag: Int) throws(MPIError) -> Request {
        try typedErrors {
            try startSend(UnsafeRawBufferPointer(buffer), keepAlive: nil, to: destination, tag: tag, mode: .synchronous, "issend")
        }
    }

    /// Ready-mode nonblocking send (MPI_Irsend).
    public func irsend<T: BitwiseCopyable>(_ values: [T], to destination: Int, tag: Int) throws(MPIError) -> Request {
        try typedErrors {
            try startArraySend(values, to: destination, tag: tag, mode: .ready, "irsend")
        }
    }

    /// Ready-mode nonblocking send from a buffer (MPI_Irsend).
    public func irsend<T: BitwiseCopyable>(_ buffer: UnsafeBufferPointer<T>, to destination: Int, tag: Int) throws(MPIError) -> Request {
        try typedErrors {
            try startSend(UnsafeRawBufferPointer(buffer), keepAlive: nil, to: destination, tag: tag, mode: .ready, "irsend")
        }
    }

    // MARK: Persistent

    /// A persistent send (MPI_Send_init and friends): `start()` sends `buffer` to `destination` each
    /// time, in `mode` (`.standard`, `.buffered`, `.synchronous` or `.ready`). `buffer` must stay
    /// valid while the request exists.
    public func sendInit<T: BitwiseCopyable>(
        _ buffer: UnsafeBufferPointer<T>, to destination: Int, tag: Int,
        mode: Mode = .standard
    ) throws(MPIError) -> Request {
        try typedErrors {
            _ = try checkDestination(destination, "sendInit")
            try checkSendTag(tag, "sendInit")
            return Request(
                runtime: runtime,
                persistent: .send(
                    self, UnsafeRawBufferPointer(buffer), nil,
                    destination: destination, tag: tag, mode.engineMode))
        }
    }

    /// A persistent send of an array, which the request keeps alive (MPI_Send_init).
    public func sendInit<T: BitwiseCopyable>(_ values: [T], to destination: Int, tag: Int, mode: Mode = .standard) throws(MPIError) -> Request {
        try typedErrors {
            _ = try checkDestination(destination, "sendInit")
            try checkSendTag(tag, "sendInit")
            let box = ArrayBox(values)
            return Request(runtime: runtime, persistent: .send(self, box.bytes, box, destination: destination, tag: tag, mode.engineMode))
        }
    }

    /// The send modes, for persistent sends.
    public enum Mode: Sendable {
        /// `send`: eager or rendezvous, SwiftMPI's choice by size.
        case standard
        /// `bsend`: copied into the attached buffer, so the send completes at once.
        case buffered
        /// `ssend`: completes only once the matching receive has started.
        case synchronous
        /// `rsend`: the matching receive must already be posted.
        case ready

        var engineMode: SendMode {
            switch self {
            case .standard: .standard
            case .buffered: .buffered
            case .synchronous: .synchronous
            case .ready: .ready
            }
        }
    }

    @inlinable
    func startArraySend<T: BitwiseCopyable>(
        _ values: [T], to destination: Int, tag: Int, mode: SendMode,
        _ call: StaticString
    ) throws -> Request {
        // The engine may use these bytes after the closure returns, which is safe: it holds the
        // storage's owner until the send has finished, and a caller who changes `values` meanwhile
        // gets a copy, as copy-on-write promises (its storage is shared), so the bytes stay put.
        try values.withUnsafeBytes { bytes in
            try startSend(bytes, keepAlive: values.storageOwner, to: destination, tag: tag, mode: mode, call)
        }
    }
}

/// Holds an array for a nonblocking send. The box owns a reference to the array's storage, so the
/// storage stays put and unchanged while the send is in flight (a caller that mutates its array gets
/// a copy, as copy-on-write promises); `bytes` points into that storage.
@usableFromInline
final class ArrayBox<T: BitwiseCopyable> {
    @usableFromInline let values: [T]
    @usableFromInline let bytes: UnsafeRawBufferPointer

    @inlinable
    init(_ values: [T]) {
        self.values = values
        // The pointer outlives the closure, which is safe here and only here: `values` is a `let`
        // this box owns and never mutates, so its native contiguous storage (Linux has no bridged
        // arrays) neither moves nor is freed while the box — and with it any send using `bytes` —
        // lives. Copying instead would cost a second copy of every nonblocking array send.
        self.bytes = values.withUnsafeBytes { $0 }
    }
}
