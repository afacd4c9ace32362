/// Receives, combined send-receive, probes and matched probes.
///
/// A receive throws `.truncate` (with the message's status in the error) when the message is longer
/// than the buffer; the sender is unaffected. A source of `MPI.procNull` completes at once with
/// `Status.procNull`. Sources may be `MPI.anySource` and tags `MPI.anyTag`: the earliest matching
/// message is received; messages from one sender arrive in the order they were sent.
extension Communicator {
    /// Blocking receive into an array (MPI_Recv): up to `buffer.count` elements; the status tells how
    /// many arrived.
    @discardableResult
    @inlinable
    public func recv<T: BitwiseCopyable>(into buffer: inout [T], from source: Int, tag: Int) throws(MPIError) -> Status {
        try typedErrors {
            try buffer.withUnsafeMutableBytes { try blockingReceive($0, from: source, tag: tag, "recv") }
        }
    }

    /// Blocking receive into a buffer (MPI_Recv).
    @discardableResult
    @inlinable
    public func recv<T: BitwiseCopyable>(into buffer: UnsafeMutableBufferPointer<T>, from source: Int, tag: Int) throws(MPIError) -> Status {
        try typedErrors {
            try blockingReceive(UnsafeMutableRawBufferPointer(buffer), from: source, tag: tag, "recv")
        }
    }

    /// Nonblocking receive into memory the caller owns (MPI_Irecv): the expert's unsafe escape
    /// hatch. SwiftMPI writes into `buffer` until the request completes — also after the request
    /// is dropped — so keep the buffer alive and wait for, test or cancel the request first.
    /// ``irecv(count:of:from:tag:)`` owns its buffer and has no such rule.
    ///
    /// In recovery mode a wildcard receive (`MPI.anySource`) behaves as ULFM's: while a failure
    /// among the communicator's members is not acknowledged, waits and tests of the request throw
    /// `.processFailedPending` and leave it active (the owned forms end with `.processFailed`).
    public func irecv<T: BitwiseCopyable>(into buffer: UnsafeMutableBufferPointer<T>, from source: Int, tag: Int) throws(MPIError) -> Request {
        try typedErrors {
            try startReceive(UnsafeMutableRawBufferPointer(buffer), keepAlive: nil, from: source, tag: tag, "irecv", pendsOnFailure: true)
        }
    }

    /// A persistent receive (MPI_Recv_init): `start()` posts it again each time.
    public func recvInit<T: BitwiseCopyable>(into buffer: UnsafeMutableBufferPointer<T>, from source: Int, tag: Int) throws(MPIError) -> Request {
        try typedErrors {
            _ = try checkSource(source, "recvInit")
            try checkReceiveTag(tag, "recvInit")
            return Request(runtime: runtime, persistent: .receive(self, UnsafeMutableRawBufferPointer(buffer), nil, source: source, tag: tag))
        }
    }

    /// The core of every `sendrecv`: the receive is posted before the send starts, then both are
    /// waited for; returns the receive's status.
    func sendrecvBytes(
        _ sendBytes: UnsafeRawBufferPointer, to destination: Int, sendTag: Int, into receiveBytes: UnsafeMutableRawBufferPointer, from source: Int,
        recvTag: Int
    ) throws -> Status {
        try traced("sendrecv", peer: destination, tag: sendTag, bytes: sendBytes.count) {
            try checkSendArguments(to: destination, tag: sendTag, "sendrecv")
            return try waitPair(
                startPair(
                    receive: { try startReceive(receiveBytes, keepAlive: nil, from: source, tag: recvTag, "sendrecv") },
                    send: { try startSend(sendBytes, keepAlive: nil, to: destination, tag: sendTag, mode: .standard, "sendrecv") }))
        }
    }

    /// Starts a send-receive's receive, then its send (the receive first, so that rings of ranks
    /// cannot deadlock). If the send cannot start, the receive is withdrawn before the error is
    /// thrown (``Request/withdraw()``): a call that throws leaves nothing writing into the caller's
    /// buffer, which the caller may free at once.
    package func startPair(receive: () throws -> Request, send: () throws -> Request) throws -> (send: Request, receive: Request) {
        let receiving = try receive()
        do {
            return (try send(), receiving)
        } catch {
            receiving.withdraw()
            throw error
        }
    }

    /// Waits for a send-receive started by ``startPair(receive:send:)``; returns the receive's
    /// status. If the send fails (in recovery mode: its destination died, or the communicator was
    /// revoked), the receive is withdrawn before the send's error is thrown, for the same reason.
    /// A wildcard receive that pends on an unacknowledged failure (C's `MPI_Sendrecv` posts it
    /// with `irecv`) is withdrawn too, and the call, blocking, ends with `.processFailed` (ULFM).
    package func waitPair(_ pair: (send: Request, receive: Request)) throws -> Status {
        do {
            try pair.send.wait()
        } catch {
            pair.receive.withdraw()
            throw error
        }
        do {
            return try pair.receive.wait()
        } catch  where error.code == .processFailedPending {
            pair.receive.withdraw()
            throw MPIError(.processFailed, error.message)
        }
    }

    /// Sends `values` and receives into `buffer` at once, so that rings of ranks cannot deadlock
    /// (MPI_Sendrecv). Returns the receive's status.
    @discardableResult
    public func sendrecv<T: BitwiseCopyable, U: BitwiseCopyable>(
        _ values: [T], to destination: Int, sendTag: Int,
        into buffer: inout [U], from source: Int, recvTag: Int
    ) throws(MPIError) -> Status {
        try typedErrors {
            try values.withUnsafeBytes { sendBytes in
                try buffer.withUnsafeMutableBytes { receiveBytes in
                    try sendrecvBytes(sendBytes, to: destination, sendTag: sendTag, into: receiveBytes, from: source, recvTag: recvTag)
                }
            }
        }
    }

    /// Starts a send of `values` and a receive into `buffer` together (MPI_Isendrecv): the request
    /// completes when both have, with the receive's status. Both buffers must stay valid until then.
    public func isendrecv<T: BitwiseCopyable, U: BitwiseCopyable>(
        _ values: UnsafeBufferPointer<T>, to destination: Int, sendTag: Int,
        into buffer: UnsafeMutableBufferPointer<U>, from source: Int, recvTag: Int
    ) throws(MPIError) -> Request {
        try typedErrors {
            try checkSendArguments(to: destination, tag: sendTag, "isendrecv")
            return try both(
                startPair(
                    receive: { try startReceive(UnsafeMutableRawBufferPointer(buffer), keepAlive: nil, from: source, tag: recvTag, "isendrecv") },
                    send: { try startSend(UnsafeRawBufferPointer(values), keepAlive: nil, to: destination, tag: sendTag, mode: .standard, "isendrecv") }))
        }
    }

    /// Starts sending `buffer`'s contents and receiving a message into it in their place
    /// (MPI_Isendrecv_replace): the outgoing contents are copied first, so the buffer may be
    /// overwritten at once; it must stay valid until the request completes, with the receive's status.
    public func isendrecvReplace<T: BitwiseCopyable>(
        _ buffer: UnsafeMutableBufferPointer<T>, to destination: Int, sendTag: Int, from source: Int, recvTag: Int
    ) throws(MPIError) -> Request {
        try typedErrors {
            try checkSendArguments(to: destination, tag: sendTag, "isendrecvReplace")
            let outgoing = Array(buffer)
            return try both(
                startPair(
                    receive: { try startReceive(UnsafeMutableRawBufferPointer(buffer), keepAlive: nil, from: source, tag: recvTag, "isendrecvReplace") },
                    send: { try startArraySend(outgoing, to: destination, tag: sendTag, mode: .standard, "isendrecvReplace") }))
        }
    }

    /// Checks a send-receive's send arguments before its receive is posted, so that a bad destination
    /// or tag throws with nothing started (a receive posted first would stay posted, into a buffer
    /// the caller may then free).
    func checkSendArguments(to destination: Int, tag: Int, _ call: StaticString) throws {
        _ = try checkDestination(destination, call)
        try checkSendTag(tag, call)
    }

    /// One request for a send and a receive already started: complete when both are, with the
    /// receive's status. If the send fails, the receive is withdrawn unless it has matched, and
    /// the request ends with the send's error.
    func both(_ pair: (send: Request, receive: Request)) throws -> Request {
        let schedule = CollectiveSchedule()
        schedule.then { [pair.receive, pair.send] }  // (the send, last, is looked at first)
        schedule.reportsStatusOf = pair.receive
        schedule.withdrawsOnFailure = pair.receive
        return try Request(runtime: runtime, schedule: schedule)
    }

    /// Sends `buffer`'s contents and replaces them with the received message (MPI_Sendrecv_replace).
    @discardableResult
    public func sendrecvReplace<T: BitwiseCopyable>(
        _ buffer: inout [T], to destination: Int, sendTag: Int,
        from source: Int, recvTag: Int
    ) throws(MPIError) -> Status {
        let outgoing = buffer
        return try sendrecv(outgoing, to: destination, sendTag: sendTag, into: &buffer, from: source, recvTag: recvTag)
    }

    /// What a probe for `source` (or `MPI.anySource`) that found nothing meets once something
    /// failed or was revoked: the error it ends with (nothing more can come), or nil.
    func probeFault(_ engine: Engine, source: Int, _ call: StaticString) -> MPIError? {
        guard engine.anyFault else { return nil }
        return engine.faultError(context: context, peer: source == MPI.anySource ? -1 : worldRank(source), call)
    }

    /// Waits for a matching message without receiving it and returns its status (MPI_Probe).
    public func probe(from source: Int, tag: Int) throws(MPIError) -> Status {
        try typedErrors {
            guard try checkSource(source, "probe") else { return .procNull }
            try checkReceiveTag(tag, "probe")
            var status = Status.empty
            var fault: MPIError?
            let pattern = pattern(source: source, tag: tag)
            try traced("probe", peer: source, tag: tag) {
                try runtime.wait("probe") { engine in
                    guard let found = engine.probe(pattern) else {
                        fault = probeFault(engine, source: source, "probe")
                        return fault != nil
                    }
                    status = found
                    return true
                }
            }
            if let fault { throw fault }
            return status
        }
    }

    /// The status of a matching message if one has arrived, else nil (MPI_Iprobe).
    public func iprobe(from source: Int, tag: Int) throws(MPIError) -> Status? {
        try typedErrors {
            guard try checkSource(source, "iprobe") else { return .procNull }
            try checkReceiveTag(tag, "iprobe")
            let pattern = pattern(source: source, tag: tag)
            return try runtime.withEngine("iprobe") { engine in
                engine.progress()
                return engine.probe(pattern)
            }
        }
    }

    /// Waits for a matching message and takes it out of matching, so that no other receive can get it;
    /// receive it with `mrecv(_:into:)` (MPI_Mprobe).
    public func mprobe(from source: Int, tag: Int) throws(MPIError) -> Message {
        try tracedCall("mprobe") {
            guard try checkSource(source, "mprobe") else { return Message(communicator: self, message: nil) }
            try checkReceiveTag(tag, "mprobe")
            var taken: MatchedMessage?
            var fault: MPIError?
            let pattern = pattern(source: source, tag: tag)
            try runtime.wait("mprobe") { engine in
                taken = engine.takeMatched(pattern)
                if taken == nil { fault = probeFault(engine, source: source, "mprobe") }
                return taken != nil || fault != nil
            }
            if let fault { throw fault }
            return Message(communicator: self, message: taken)
        }
    }

    /// Like `mprobe(from:tag:)` but returns nil at once when no message matches (MPI_Improbe).
    public func improbe(from source: Int, tag: Int) throws(MPIError) -> Message? {
        try typedErrors {
            guard try checkSource(source, "improbe") else { return Message(communicator: self, message: nil) }
            try checkReceiveTag(tag, "improbe")
            let pattern = pattern(source: source, tag: tag)
            let taken: MatchedMessage? = try runtime.withEngine("improbe") { engine in
                engine.progress()
                return engine.takeMatched(pattern)
            }
            return taken.map { Message(communicator: self, message: $0) }
        }
    }

    /// Receives a message taken by `mprobe(from:tag:)` (MPI_Mrecv). Throws `.invalidArgument` if the
    /// message was already received, `.truncate` if it does not fit.
    @discardableResult
    public func mrecv<T: BitwiseCopyable>(_ message: Message, into buffer: inout [T]) throws(MPIError) -> Status {
        try tracedCall("mrecv") {
            try buffer.withUnsafeMutableBytes { try message.receive(into: $0) }
        }
    }

    /// Starts receiving a message taken by `mprobe(from:tag:)` into `buffer`, which must stay valid
    /// until the request completes (MPI_Imrecv). Throws `.invalidArgument` if the message was
    /// already received; `.truncate` comes from the request when it does not fit.
    public func imrecv<T: BitwiseCopyable>(_ message: Message, into buffer: UnsafeMutableBufferPointer<T>) throws(MPIError) -> Request {
        try tracedCall("imrecv") {
            try message.startReceive(into: UnsafeMutableRawBufferPointer(buffer))
        }
    }

    /// Receives a message taken by `mprobe(from:tag:)` into a buffer (MPI_Mrecv).
    @discardableResult
    public func mrecv<T: BitwiseCopyable>(_ message: Message, into buffer: UnsafeMutableBufferPointer<T>) throws(MPIError) -> Status {
        try tracedCall("mrecv") {
            try message.receive(into: UnsafeMutableRawBufferPointer(buffer))
        }
    }
}

/// A message taken out of matching by `mprobe`/`improbe`, to be received exactly once with `mrecv`.
///
/// Sendable because its one mutable use, `receive`, is a single receive that MPI allows from one
/// thread (a second `mrecv` of the same message throws) and reaches the engine only under its lock.
public final class Message: @unchecked Sendable {
    let communicator: Communicator
    private var message: MatchedMessage?
    private let isProcNull: Bool
    private var received = false

    init(communicator: Communicator, message: MatchedMessage?) {
        self.communicator = communicator
        self.message = message
        self.isProcNull = message == nil
    }

    /// The message's source, tag and length.
    public var status: Status { message?.status ?? .procNull }

    /// Where a matched message is received to: bytes (each message checked to be a whole number of
    /// `elementBytes` when that is more than 1), or a non-contiguous region.
    private enum Target {
        case bytes(UnsafeMutableRawBufferPointer, elementBytes: Int)
        case region(TypedRegion)

        /// `count` instances of a datatype: as bytes where a receive may take them so.
        init(_ region: TypedRegion) {
            if let taken = region.receivableBytes {
                self = .bytes(taken.bytes, elementBytes: taken.elementBytes)
            } else {
                self = .region(region)
            }
        }

        /// Points a pooled receive at the target.
        func aim(_ operation: ReceiveOperation) {
            switch self {
            case .bytes(let buffer, let elementBytes):
                operation.buffer = buffer
                if elementBytes > 1 { operation.elementBytes = elementBytes }
            case .region(let region):
                operation.region = region
                operation.buffer = UnsafeMutableRawBufferPointer(start: nil, count: 0)  // a pooled operation keeps its last one
            }
        }
    }

    func startReceive(into buffer: UnsafeMutableRawBufferPointer, keepAlive: AnyObject? = nil) throws -> Request {
        try startReceive(.bytes(buffer, elementBytes: 0), keepAlive: keepAlive)
    }

    /// Starts receiving into `count` instances of a datatype (``Communicator/imrecv(_:into:count:datatype:)``).
    func startReceive(into region: TypedRegion) throws -> Request {
        try startReceive(Target(region), keepAlive: nil)
    }

    func receive(into buffer: UnsafeMutableRawBufferPointer) throws -> Status {
        try receive(.bytes(buffer, elementBytes: 0))
    }

    /// Receives into `count` instances of a datatype (``Communicator/mrecv(_:into:count:datatype:)``).
    func receive(into region: TypedRegion) throws -> Status {
        try receive(Target(region))
    }

    private func startReceive(_ target: Target, keepAlive: AnyObject?) throws -> Request {
        guard !received else { throw MPIError(.invalidArgument, "imrecv: this message was already received") }
        received = true
        guard let message else { return Request(completed: .procNull) }
        self.message = nil
        return try communicator.runtime.withEngine("imrecv") { engine in
            let operation = engine.makeReceive()
            target.aim(operation)
            if keepAlive != nil { operation.keepAlive = keepAlive }
            engine.receive(message, into: operation)
            return Request.make(engine, receive: operation)
        }
    }

    private func receive(_ target: Target) throws -> Status {
        guard !received else { throw MPIError(.invalidArgument, "mrecv: this message was already received") }
        received = true
        guard let message else { return .procNull }
        self.message = nil
        let runtime = communicator.runtime
        let operation = try runtime.withEngine("mrecv") { engine in
            let operation = engine.makeReceive()
            target.aim(operation)
            engine.receive(message, into: operation)
            return operation
        }
        try runtime.wait("mrecv") { _ in operation.isComplete }
        return try runtime.withEngine("mrecv") { engine in
            let (status, error) = (operation.status, operation.error)
            engine.recycle(operation)
            if let error { throw error }
            return status
        }
    }
}
