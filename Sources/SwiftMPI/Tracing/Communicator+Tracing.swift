/// How the public calls tell the tracer what they are (``Tracer``): one wrapper per call, which
/// costs one load and branch when tracing is off.
extension Communicator {
    /// Runs `body`, recorded as the call `call` when the job is traced; `peer` is a rank of this
    /// communicator (a destination, source or root; nil for none), `bytes` what this rank moves.
    ///
    /// Off, this is one load of a plain global and a branch (``Tracer/isRecording``); the recording
    /// path is a separate, not inlined function.
    @usableFromInline @inline(__always)
    func traced<R>(_ call: StaticString, peer: Int? = nil, tag: Int = -1, bytes: Int = 0, _ body: () throws -> R) rethrows -> R {
        guard Tracer.isRecording else { return try body() }
        return try recorded(call, peer: peer, tag: tag, bytes: bytes, body)
    }

    @usableFromInline @inline(never)
    func recorded<R>(_ call: StaticString, peer: Int?, tag: Int, bytes: Int, _ body: () throws -> R) rethrows -> R {
        guard let tracer = runtime.tracer else { return try body() }
        return try tracer.call(call, context: context, peer: tracePeer(peer), tag: tag, bytes: bytes, body)
    }

    /// The start of a call on the message path, without a closure (a closure around the blocking
    /// send and receive cost ~10 ns of a 0.1 µs round trip): 0 when the call is not recorded (off:
    /// one load of a plain global), else its start, which ``traceEnd(_:_:peer:tag:bytes:)`` needs.
    @usableFromInline @inline(__always)
    func traceBegin() -> UInt64 { Tracer.isRecording ? beginRecording() : 0 }

    @usableFromInline @inline(never)
    func beginRecording() -> UInt64 { Tracer.active?.begin() ?? 0 }

    /// Records the call that ``traceBegin()`` started at `start` (call only when it is not 0).
    @usableFromInline @inline(never)
    func traceEnd(_ start: UInt64, _ call: StaticString, peer: Int?, tag: Int, bytes: Int) {
        Tracer.active?.end(start, call, context: context, peer: tracePeer(peer), tag: tag, bytes: bytes)
    }

    /// ``traced(_:peer:tag:bytes:_:)`` with the communicator's error handling (`typedErrors`): the
    /// public collectives' wrapper.
    @inline(__always)
    func tracedCall<R>(_ call: StaticString, peer: Int? = nil, bytes: Int = 0, _ body: () throws -> R) throws(MPIError) -> R {
        try typedErrors { try traced(call, peer: peer, bytes: bytes, body) }
    }

    /// `peer` as a world rank for the trace: -2 for `MPI.anySource`, -1 for none or out of range.
    @usableFromInline
    func tracePeer(_ peer: Int?) -> Int {
        guard let peer else { return -1 }
        if peer == MPI.anySource { return -2 }
        return (0..<group.worldRanks.count).contains(peer) ? group.worldRanks[peer] : -1
    }
}

extension MPI {
    /// Runs `body` as a region named `name` of the user's own, shown in `swiftmpirun --trace`'s
    /// trace as a span of this rank and in `--profile`'s report as `region NAME` (time, count).
    /// When the job is not traced it only runs `body`. Regions may nest and may contain MPI calls.
    public static func traceRegion<R, E: Error>(_ name: String, _ body: () throws(E) -> R) throws(E) -> R {
        guard let tracer = Runtime.current?.tracer else { return try body() }
        return try tracer.region(name, body)
    }
}
