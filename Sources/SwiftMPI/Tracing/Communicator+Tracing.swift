/// How the public calls tell the tracer what they are (``Tracer``): one wrapper per call, which
/// costs one load and branch when tracing is off.
extension Communicator {
    /// Runs `body`, recorded as the call `call` when the job is traced; `peer` is a rank of this
    /// communicator (a destination, source or root; nil for none), `bytes` what this rank moves.
    @usableFromInline @inline(__always)
    func traced<R>(_ call: StaticString, peer: Int? = nil, tag: Int = -1, bytes: Int = 0, _ body: () throws -> R) rethrows -> R {
        guard let tracer = runtime.tracer else { return try body() }
        return try tracer.call(call, context: context, peer: tracePeer(peer), tag: tag, bytes: bytes, body)
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
