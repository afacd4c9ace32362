/// The engine-facing core of point-to-point: raw bytes, argument checks, blocking and nonblocking.
/// The typed overloads users call (`send`, `recv`, `isend`, …) are in `Communicator+Send.swift` and
/// `Communicator+Receive.swift`.
extension Communicator {
    /// A blocking send of `bytes` in `mode`. Standard and ready sends of small messages write straight
    /// into the peer's ring and allocate nothing.
    func blockingSend(_ bytes: UnsafeRawBufferPointer, to destination: Int, tag: Int, mode: SendMode,
                      _ call: StaticString) throws {
        guard try checkDestination(destination, call) else { return }
        try checkSendTag(tag, call)
        if mode == .buffered {
            _ = try startBufferedSend(bytes, to: destination, tag: tag, call)
            return
        }
        let destinationWorld = worldRank(destination), header = sendHeader(bytes, tag: tag, mode: mode)
        let started = try runtime.withEngine(call) { engine in
            beginSend(engine, bytes, keepAlive: nil, to: destinationWorld, header: header, mode: mode)
        }
        guard let operation = started else { return }
        try runtime.wait(call) { _ in operation.isComplete }
        try runtime.withEngine(call) { $0.recycle(operation) }
    }

    /// Starts a send and returns its request. A small standard or ready send that goes straight onto
    /// the wire returns an already complete request (the data has been copied); otherwise the request
    /// owns a pooled operation, returned to the pool when the request settles. The request itself is
    /// reused from the engine's pool when possible (``Request/make(_:send:status:)``).
    func startSend(_ bytes: UnsafeRawBufferPointer, keepAlive: AnyObject?, to destination: Int, tag: Int,
                   mode: SendMode, _ call: StaticString) throws -> Request {
        guard try checkDestination(destination, call) else { return Request(completed: .procNull) }
        try checkSendTag(tag, call)
        let status = Status(source: destination, tag: tag, byteCount: bytes.count)
        if mode == .buffered {
            _ = try startBufferedSend(bytes, to: destination, tag: tag, call)
            return Request(completed: status)
        }
        let destinationWorld = worldRank(destination), header = sendHeader(bytes, tag: tag, mode: mode)
        return try runtime.withEngine(call) { engine in
            let operation = beginSend(engine, bytes, keepAlive: keepAlive, to: destinationWorld, header: header, mode: mode)
            return Request.make(engine, send: operation, status: status)
        }
    }

    @inline(__always)
    private func sendHeader(_ bytes: UnsafeRawBufferPointer, tag: Int, mode: SendMode) -> MatchHeader {
        var header = header(tag: tag, flags: mode == .ready ? MatchHeader.Flags.ready : 0)
        header.length = UInt64(bytes.count)
        return header
    }

    /// Puts a standard, ready or synchronous send on its way (call with the engine locked): straight
    /// into the peer's ring or socket when it is small and nothing is queued before it (returns nil:
    /// the send is complete, nothing allocated), else as a pooled operation the caller waits on and
    /// recycles.
    @inline(__always)
    private func beginSend(_ engine: Engine, _ bytes: UnsafeRawBufferPointer, keepAlive: AnyObject?, to destinationWorld: Int,
                           header: MatchHeader, mode: SendMode) -> SendOperation? {
        if mode != .synchronous && engine.trySendEagerNow(bytes, to: destinationWorld, header: header) { return nil }
        let operation = engine.makeSend()
        operation.bytes = bytes
        operation.destination = destinationWorld
        operation.header = header
        if keepAlive != nil { operation.keepAlive = keepAlive }  // a pooled operation has none
        engine.startSend(operation, synchronous: mode == .synchronous)
        return operation
    }

    /// Copies `bytes` into the attached buffer and starts sending the copy; the caller's buffer is free
    /// at once. Throws `.bufferExhausted` (sending nothing) when the buffer has no room.
    private func startBufferedSend(_ bytes: UnsafeRawBufferPointer, to destination: Int, tag: Int, _ call: StaticString) throws {
        let destinationWorld = worldRank(destination)
        let header = header(tag: tag)
        try runtime.withEngine(call) { engine in
            guard let area = engine.bufferedArea else {
                throw MPIError(.bufferExhausted, "\(call): \(bytes.count) bytes to rank \(destination) but no buffer is attached (MPI.attachBuffer(bytes:))")
            }
            guard let range = area.allocate(bytes.count) else {
                throw MPIError(.bufferExhausted, "\(call): \(bytes.count) bytes (+\(MPI.bufferedSendOverhead) overhead) to rank \(destination) do not fit the attached buffer (\(area.freeBytes) of \(area.capacity) bytes free)")
            }
            let copy = UnsafeMutableRawBufferPointer(rebasing: area.storage[range.lowerBound..<(range.lowerBound + bytes.count)])
            if bytes.count > 0 { copy.copyMemory(from: bytes) }
            let operation = engine.makeSend()
            operation.bytes = UnsafeRawBufferPointer(copy)
            operation.destination = destinationWorld
            operation.header = header
            operation.bufferedRange = range
            engine.startSend(operation, synchronous: false)
        }
    }

    /// A blocking receive into `buffer`.
    func blockingReceive(_ buffer: UnsafeMutableRawBufferPointer, from source: Int, tag: Int, _ call: StaticString) throws -> Status {
        guard try checkSource(source, call) else { return .procNull }
        try checkReceiveTag(tag, call)
        let operation = try runtime.withEngine(call) { engine in
            let operation = engine.makeReceive()
            configure(operation, buffer: buffer, source: source, tag: tag)
            engine.postReceive(operation)
            return operation
        }
        do {
            try runtime.wait(call) { _ in operation.isComplete }
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
    func startReceive(_ buffer: UnsafeMutableRawBufferPointer, keepAlive: AnyObject?, from source: Int, tag: Int,
                      _ call: StaticString) throws -> Request {
        guard try checkSource(source, call) else { return Request(completed: .procNull) }
        try checkReceiveTag(tag, call)
        return try runtime.withEngine(call) { engine in
            let operation = engine.makeReceive()
            configure(operation, buffer: buffer, source: source, tag: tag)
            if keepAlive != nil { operation.keepAlive = keepAlive }  // a pooled operation has none
            engine.postReceive(operation)
            return Request.make(engine, receive: operation)
        }
    }

    @inline(__always)
    private func configure(_ operation: ReceiveOperation, buffer: UnsafeMutableRawBufferPointer, source: Int, tag: Int) {
        operation.buffer = buffer
        operation.context = context
        operation.source = Int32(truncatingIfNeeded: source)
        operation.peer = source == MPI.anySource ? -1 : worldRank(source)
        operation.tag = Int32(truncatingIfNeeded: tag)
    }
}
