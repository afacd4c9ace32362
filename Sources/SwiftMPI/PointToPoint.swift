/// The engine-facing core of point-to-point: raw bytes, argument checks, blocking and nonblocking.
/// The typed overloads users call (`send`, `recv`, `isend`, …) are in `Communicator+Send.swift` and
/// `Communicator+Receive.swift`.
extension Communicator {
    /// A blocking send of `bytes` in `mode`. Standard and ready sends of small messages write straight
    /// into the peer's ring and allocate nothing.
    @usableFromInline
    func blockingSend(
        _ bytes: UnsafeRawBufferPointer, to destination: Int, tag: Int, mode: SendMode,
        _ call: StaticString
    ) throws {
        let span = traceBegin()
        defer { if span != 0 { traceEnd(span, call, peer: destination, tag: tag, bytes: bytes.count) } }
        guard try checkDestination(destination, call) else { return }
        try checkSendTag(tag, call)
        if mode == .buffered {
            _ = try startBufferedSend(bytes, to: destination, tag: tag, call)
            return
        }
        let destinationWorld = worldRank(destination), envelope = envelope(tag: tag)
        let started = try runtime.withEngine(call) { engine in
            engine.send(bytes, to: destinationWorld, envelope: envelope, mode: mode, keepAlive: nil)
        }
        try finishBlockingSend(started, call)
    }

    /// Waits for a blocking send the engine started (nil: already complete), recycles it, and
    /// throws its error (a failed peer, a revoked communicator).
    @inline(__always)
    func finishBlockingSend(_ started: SendOperation?, _ call: StaticString) throws {
        guard let operation = started else { return }
        try runtime.wait(call, sendDetail(operation)) { _ in operation.isComplete }
        let error = operation.error
        try runtime.withEngine(call) { $0.recycle(operation) }
        if let error { throw error }
    }

    /// Starts a send and returns its request. A small standard or ready send that goes straight onto
    /// the wire returns an already complete request (the data has been copied); otherwise the request
    /// owns a pooled operation, returned to the pool when the request settles. The request itself is
    /// reused from the engine's pool when possible (``Request/make(_:send:status:)``).
    @usableFromInline
    func startSend(
        _ bytes: UnsafeRawBufferPointer, keepAlive: AnyObject?, to destination: Int, tag: Int,
        mode: SendMode, _ call: StaticString
    ) throws -> Request {
        let span = traceBegin()
        defer { if span != 0 { traceEnd(span, call, peer: destination, tag: tag, bytes: bytes.count) } }
        return try startSendUntraced(bytes, keepAlive: keepAlive, to: destination, tag: tag, mode: mode, call)
    }

    @inline(__always)
    private func startSendUntraced(
        _ bytes: UnsafeRawBufferPointer, keepAlive: AnyObject?, to destination: Int, tag: Int,
        mode: SendMode, _ call: StaticString
    ) throws -> Request {
        guard try checkDestination(destination, call) else { return Request(completed: .procNull) }
        try checkSendTag(tag, call)
        let status = Status(source: destination, tag: tag, byteCount: bytes.count)
        if mode == .buffered {
            _ = try startBufferedSend(bytes, to: destination, tag: tag, call)
            return Request(completed: status)
        }
        let destinationWorld = worldRank(destination), envelope = envelope(tag: tag)
        return try runtime.withEngine(call) { engine in
            let operation = engine.send(bytes, to: destinationWorld, envelope: envelope, mode: mode, keepAlive: keepAlive)
            return Request.make(engine, send: operation, status: status)
        }
    }

    /// Copies `bytes` into the attached buffer and starts sending the copy; the caller's buffer is free
    /// at once. Throws `.bufferExhausted` (sending nothing) when the buffer has no room.
    private func startBufferedSend(_ bytes: UnsafeRawBufferPointer, to destination: Int, tag: Int, _ call: StaticString) throws {
        let destinationWorld = worldRank(destination), envelope = envelope(tag: tag)
        try runtime.withEngine(call) { engine in
            try engine.sendBuffered(bytes, to: destinationWorld, envelope: envelope, rankText: destination, call)
        }
    }

    /// A blocking receive into `buffer`.
    /// A blocking receive into `buffer`; with `elementBytes` > 1, a message that is not a whole
    /// number of such elements fails with `.invalidDatatype` (a datatype's signature check).
    @usableFromInline
    func blockingReceive(
        _ buffer: UnsafeMutableRawBufferPointer, from source: Int, tag: Int, _ call: StaticString, elementBytes: Int = 0
    ) throws -> Status {
        let span = traceBegin()
        defer { if span != 0 { traceEnd(span, call, peer: source, tag: tag, bytes: buffer.count) } }
        return try blockingReceiveUntraced(buffer, from: source, tag: tag, call, elementBytes: elementBytes)
    }

    @inline(__always)
    private func blockingReceiveUntraced(
        _ buffer: UnsafeMutableRawBufferPointer, from source: Int, tag: Int, _ call: StaticString, elementBytes: Int
    ) throws -> Status {
        guard try checkSource(source, call) else { return .procNull }
        try checkReceiveTag(tag, call)
        let operation = try runtime.withEngine(call) { engine in
            let operation = engine.makeReceive()
            configure(operation, buffer: buffer, source: source, tag: tag)
            if elementBytes > 1 { operation.elementBytes = elementBytes }
            engine.postReceive(operation)
            return operation
        }
        return try finishBlockingReceive(operation, call, detail: receiveDetail(source: source, tag: tag, bytes: buffer.count))
    }

    /// Waits for a posted pooled receive, returns it to the pool and reports its status or error
    /// (the tail shared by contiguous and typed blocking receives: no request is made).
    @inline(__always)
    func finishBlockingReceive(_ operation: ReceiveOperation, _ call: StaticString, detail: @autoclosure () -> String = "") throws -> Status {
        do {
            try runtime.wait(call, detail()) { _ in operation.isComplete }
        } catch {
            _ = try? runtime.withEngine(call) { $0.cancelReceive(operation) }
            throw error
        }
        return try runtime.withEngine(call) { engine in
            let status = operation.status
            let error = operation.error
            engine.recycle(operation)
            if let error { throw error }
            return status
        }
    }

    /// Posts a receive and returns its request.
    /// (`keepAlive` is consumed: the reference the caller made moves into the operation, with no
    /// more reference counting on the owned-buffer path. `pendsOnFailure`: a wildcard receive
    /// stays posted while a failure is not acknowledged, ``ReceiveOperation/pendsOnFailure``.)
    @usableFromInline
    func startReceive(
        _ buffer: UnsafeMutableRawBufferPointer, keepAlive: consuming AnyObject?, from source: Int, tag: Int,
        _ call: StaticString, elementBytes: Int = 0, pendsOnFailure: Bool = false
    ) throws -> Request {
        guard try checkSource(source, call) else { return Request(completed: .procNull) }
        try checkReceiveTag(tag, call)
        var keeping = consume keepAlive
        let span = traceBegin()
        if span != 0 { traceEnd(span, call, peer: source, tag: tag, bytes: buffer.count) }
        return try runtime.withEngine(call) { engine in
            let operation = engine.makeReceive()
            configure(operation, buffer: buffer, source: source, tag: tag)
            if keeping != nil { swap(&operation.keepAlive, &keeping) }  // a pooled operation has none
            if elementBytes > 1 { operation.elementBytes = elementBytes }
            if pendsOnFailure && source == MPI.anySource { operation.pendsOnFailure = true }
            engine.postReceive(operation)
            return Request.make(engine, receive: operation)
        }
    }

    @inline(__always)
    private func configure(_ operation: ReceiveOperation, buffer: UnsafeMutableRawBufferPointer, source: Int, tag: Int) {
        operation.buffer = buffer
        operation.pattern = pattern(source: source, tag: tag)
        operation.peer = source == MPI.anySource ? -1 : worldRank(source)
    }
}

extension Communicator {
    /// How a hang report names this communicator: `world`, or its size and context id. (The same
    /// for its collective context.)
    var reportName: String {
        if let name = state.name, !name.isEmpty { return name }
        return Self.reportName(context: context, size: size)
    }

    /// The communicator's name (MPI_Comm_set_name, MPI_Comm_get_name): `world` for the world, `self`
    /// for ``MPI/commSelf``, empty for others until set. Setting it is local to this rank and shared by
    /// every handle of the communicator (not by its duplicates); hang reports and errors of
    /// collectives use it.
    public var name: String {
        get { state.name ?? (context & ~1 == 0 ? "world" : "") }
        nonmutating set { state.name = newValue }
    }

    /// ``reportName`` of the communicator with `context` and `size`.
    static func reportName(context: UInt32, size: Int) -> String {
        let base = context & ~1
        return base == 0 ? "world" : "a communicator of \(size) ranks (context \(base))"
    }

    /// `(from: 1, tag: 7, 8 bytes) on world`, for a blocking receive's reports; inside a collective
    /// (the communicator's odd collective context) the tag is the collective's number on the
    /// communicator: `(from: 1, 8 bytes) on world, inside collective #12`.
    func receiveDetail(source: Int, tag: Int, bytes: Int) -> String {
        let from = source == MPI.anySource ? "MPI.anySource" : "\(source)"
        if context & 1 == 1 { return "(from: \(from), \(bytes) bytes) on \(reportName), inside collective #\(tag)" }
        return "(from: \(from), tag: \(tag == MPI.anyTag ? "MPI.anyTag" : "\(tag)"), \(bytes) bytes) on \(reportName)"
    }

    /// `(to: 1, tag: 7, 8 bytes) on world`, for a blocking send's reports (the destination as a rank
    /// of this communicator).
    func sendDetail(_ operation: SendOperation) -> String {
        let destination = group.worldRanks.firstIndex(of: operation.destination).map { "\($0)" } ?? "world rank \(operation.destination)"
        if context & 1 == 1 {
            return "(to: \(destination), \(operation.byteCount) bytes) on \(reportName), inside collective #\(operation.header.tag)"
        }
        return "(to: \(destination), tag: \(operation.header.tag), \(operation.byteCount) bytes) on \(reportName)"
    }
}
