/// The engine-facing core of point-to-point with derived datatypes: a ``TypedRegion`` (checked to lie
/// inside the caller's buffer) instead of raw bytes. Regions whose data is one contiguous range take
/// the byte path unchanged; the others go to the engine as regions (Engine+Typed says how they move).
extension Communicator {
    /// A blocking send of `count` instances of `type` from `bytes`: dense types as plain bytes.
    func blockingSend(
        _ bytes: UnsafeRawBufferPointer, count: Int, datatype type: Datatype, to destination: Int, tag: Int, mode: SendMode, _ call: StaticString
    ) throws {
        if let dense = try TypedRegion.denseBytes(type, count: count, in: bytes, call) {
            return try blockingSend(dense, to: destination, tag: tag, mode: mode, call)
        }
        try blockingSend(TypedRegion(type, count: count, in: UnsafeMutableRawBufferPointer(mutating: bytes), call), to: destination, tag: tag, mode: mode, call)
    }

    /// A nonblocking send of `count` instances of `type` from `bytes`: dense types as plain bytes.
    func startSend(
        _ bytes: UnsafeRawBufferPointer, count: Int, datatype type: Datatype, keepAlive: AnyObject?, to destination: Int, tag: Int, mode: SendMode,
        _ call: StaticString
    ) throws -> Request {
        if let dense = try TypedRegion.denseBytes(type, count: count, in: bytes, call) {
            return try startSend(dense, keepAlive: keepAlive, to: destination, tag: tag, mode: mode, call)
        }
        let region = try TypedRegion(type, count: count, in: UnsafeMutableRawBufferPointer(mutating: bytes), call)
        return try startSend(region, keepAlive: keepAlive, to: destination, tag: tag, mode: mode, call)
    }

    /// A blocking receive of up to `count` instances of `type` into `bytes`: dense types whose
    /// elements are all one size as plain bytes (checked to be a whole number of elements).
    func blockingReceive(
        _ bytes: UnsafeMutableRawBufferPointer, count: Int, datatype type: Datatype, from source: Int, tag: Int, _ call: StaticString
    ) throws -> Status {
        let elementBytes = type.map.uniformElementSize
        if elementBytes > 0 || type.size == 0, let dense = try TypedRegion.denseBytes(type, count: count, in: UnsafeRawBufferPointer(bytes), call) {
            return try blockingReceive(UnsafeMutableRawBufferPointer(mutating: dense), from: source, tag: tag, call, elementBytes: elementBytes)
        }
        return try blockingReceive(TypedRegion(type, count: count, in: bytes, call), from: source, tag: tag, call)
    }

    /// A nonblocking receive of up to `count` instances of `type` into `bytes`: dense types whose
    /// elements are all one size as plain bytes (checked to be a whole number of elements).
    func startReceive(
        _ bytes: UnsafeMutableRawBufferPointer, count: Int, datatype type: Datatype, keepAlive: AnyObject?, from source: Int, tag: Int,
        _ call: StaticString, pendsOnFailure: Bool = false
    ) throws -> Request {
        let elementBytes = type.map.uniformElementSize
        if elementBytes > 0 || type.size == 0, let dense = try TypedRegion.denseBytes(type, count: count, in: UnsafeRawBufferPointer(bytes), call) {
            return try startReceive(
                UnsafeMutableRawBufferPointer(mutating: dense), keepAlive: keepAlive, from: source, tag: tag, call, elementBytes: elementBytes,
                pendsOnFailure: pendsOnFailure)
        }
        return try startReceive(
            TypedRegion(type, count: count, in: bytes, call), keepAlive: keepAlive, from: source, tag: tag, call, pendsOnFailure: pendsOnFailure)
    }

    func blockingSend(_ region: TypedRegion, to destination: Int, tag: Int, mode: SendMode, _ call: StaticString) throws {
        if let bytes = region.contiguousBytes { return try blockingSend(UnsafeRawBufferPointer(bytes), to: destination, tag: tag, mode: mode, call) }
        let span = traceBegin()
        defer { if span != 0 { traceEnd(span, call, peer: destination, tag: tag, bytes: region.byteCount) } }
        guard try checkDestination(destination, call) else { return }
        try checkSendTag(tag, call)
        if mode == .buffered {
            return try region.packed().withUnsafeBytes { try blockingSend($0, to: destination, tag: tag, mode: .buffered, call) }
        }
        let destinationWorld = worldRank(destination), envelope = envelope(tag: tag)
        let started = try runtime.withEngine(call) { engine in
            engine.send(region, to: destinationWorld, envelope: envelope, mode: mode, keepAlive: nil)
        }
        try finishBlockingSend(started, call)
    }

    func startSend(_ region: TypedRegion, keepAlive: AnyObject?, to destination: Int, tag: Int, mode: SendMode, _ call: StaticString) throws -> Request {
        if let bytes = region.contiguousBytes {
            return try startSend(UnsafeRawBufferPointer(bytes), keepAlive: keepAlive, to: destination, tag: tag, mode: mode, call)
        }
        let span = traceBegin()
        defer { if span != 0 { traceEnd(span, call, peer: destination, tag: tag, bytes: region.byteCount) } }
        guard try checkDestination(destination, call) else { return Request(completed: .procNull) }
        try checkSendTag(tag, call)
        if mode == .buffered {
            return try region.packed().withUnsafeBytes { try startSend($0, keepAlive: nil, to: destination, tag: tag, mode: .buffered, call) }
        }
        let status = Status(source: destination, tag: tag, byteCount: region.byteCount)
        let destinationWorld = worldRank(destination), envelope = envelope(tag: tag)
        return try runtime.withEngine(call) { engine in
            let operation = engine.send(region, to: destinationWorld, envelope: envelope, mode: mode, keepAlive: keepAlive)
            return Request.make(engine, send: operation, status: status)
        }
    }

    /// (`region` is consumed: its reference to the type map moves into the receive operation.)
    func blockingReceive(_ region: consuming TypedRegion, from source: Int, tag: Int, _ call: StaticString) throws -> Status {
        if let bytes = region.contiguousBytes {
            return try checkedSignature(blockingReceive(bytes, from: source, tag: tag, call), region, call)
        }
        let byteCount = region.byteCount
        let span = traceBegin()
        defer { if span != 0 { traceEnd(span, call, peer: source, tag: tag, bytes: byteCount) } }
        guard try checkSource(source, call) else { return .procNull }
        try checkReceiveTag(tag, call)
        var moving: TypedRegion? = consume region
        let operation = try runtime.withEngine(call) { engine in
            let operation = engine.makeReceive()
            configure(operation, region: moving.take().unsafelyUnwrapped, source: source, tag: tag)
            engine.postReceive(operation)
            return operation
        }
        return try finishBlockingReceive(operation, call, detail: receiveDetail(source: source, tag: tag, bytes: byteCount))
    }

    /// Sets a pooled receive up for a non-contiguous region.
    private func configure(_ operation: ReceiveOperation, region: consuming TypedRegion, source: Int, tag: Int) {
        operation.region = consume region
        operation.buffer = UnsafeMutableRawBufferPointer(start: nil, count: 0)  // a pooled operation keeps its last one
        operation.pattern = pattern(source: source, tag: tag)
        operation.peer = source == MPI.anySource ? -1 : worldRank(source)
    }

    /// (`region` is consumed: its reference to the type map moves into the receive operation.)
    func startReceive(
        _ region: consuming TypedRegion, keepAlive: AnyObject?, from source: Int, tag: Int, _ call: StaticString, pendsOnFailure: Bool = false
    ) throws -> Request {
        if let taken = region.receivableBytes {
            return try startReceive(
                taken.bytes, keepAlive: keepAlive, from: source, tag: tag, call, elementBytes: taken.elementBytes, pendsOnFailure: pendsOnFailure)
        }
        guard try checkSource(source, call) else { return Request(completed: .procNull) }
        try checkReceiveTag(tag, call)
        let span = traceBegin()
        if span != 0 { traceEnd(span, call, peer: source, tag: tag, bytes: region.byteCount) }
        var moving: TypedRegion? = consume region
        return try runtime.withEngine(call) { engine in
            let operation = engine.makeReceive()
            configure(operation, region: moving.take().unsafelyUnwrapped, source: source, tag: tag)
            if keepAlive != nil { operation.keepAlive = keepAlive }
            if pendsOnFailure && source == MPI.anySource { operation.pendsOnFailure = true }
            engine.postReceive(operation)
            return Request.make(engine, receive: operation)
        }
    }

    /// A contiguous receive of a typed region: the whole-element check the engine makes for regions.
    private func checkedSignature(_ status: Status, _ region: TypedRegion, _ call: StaticString) throws -> Status {
        guard region.map.elementCount(inBytes: status.byteCount) == nil else { return status }
        throw MPIError(
            .invalidDatatype,
            "\(call): message of \(status.byteCount) bytes from rank \(status.source) with tag \(status.tag) is not a whole number of the elements of "
                + "\(region.map.summary) (the datatypes' signatures do not match)", status: status)
    }
}
