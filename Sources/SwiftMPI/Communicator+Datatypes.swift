/// Point-to-point with derived datatypes: `count` instances of `datatype` taken from (or put into) a
/// buffer whose first element is the datatype's origin — an array, a slice (`grid[k...]`: its
/// start is the origin) or an unsafe buffer. The element type of the buffer does not matter; the
/// datatype says which bytes move.
///
/// Before anything is sent or written, the instances' footprint is checked against the buffer
/// (`.invalidCount`, naming both). A receive whose message is not a whole number of the datatype's
/// primitive elements fails with `.invalidDatatype` (the signatures do not match); a message longer
/// than `count` instances fails with `.truncate`. Sender and receiver need matching type
/// signatures, not equal datatypes: a column (a vector of doubles) is received as contiguous
/// doubles, and the other way round.
extension Communicator {
    // MARK: Blocking sends

    /// Sends `count` instances of `datatype` from `values` (MPI_Send with a datatype).
    public func send<T: BitwiseCopyable>(_ values: [T], count: Int, datatype: Datatype, to destination: Int, tag: Int) throws(MPIError) {
        try typedErrors {
            try values.withUnsafeBytes { try blockingSend($0, count: count, datatype: datatype, to: destination, tag: tag, mode: .standard, "send") }
        }
    }

    /// Sends `count` instances of `datatype` from a slice; its start is the origin.
    public func send<T: BitwiseCopyable>(_ values: ArraySlice<T>, count: Int, datatype: Datatype, to destination: Int, tag: Int) throws(MPIError) {
        try typedErrors {
            try values.withUnsafeBytes { try blockingSend($0, count: count, datatype: datatype, to: destination, tag: tag, mode: .standard, "send") }
        }
    }

    /// Sends `count` instances of `datatype` from a buffer.
    public func send<T: BitwiseCopyable>(_ buffer: UnsafeBufferPointer<T>, count: Int, datatype: Datatype, to destination: Int, tag: Int) throws(MPIError) {
        try typedErrors {
            try blockingSend(UnsafeRawBufferPointer(buffer), count: count, datatype: datatype, to: destination, tag: tag, mode: .standard, "send")
        }
    }

    /// Synchronous-mode send with a datatype (MPI_Ssend).
    public func ssend<T: BitwiseCopyable>(_ values: [T], count: Int, datatype: Datatype, to destination: Int, tag: Int) throws(MPIError) {
        try typedErrors {
            try values.withUnsafeBytes { try blockingSend($0, count: count, datatype: datatype, to: destination, tag: tag, mode: .synchronous, "ssend") }
        }
    }

    /// Buffered-mode send with a datatype (MPI_Bsend): packed into the attached buffer.
    public func bsend<T: BitwiseCopyable>(_ values: [T], count: Int, datatype: Datatype, to destination: Int, tag: Int) throws(MPIError) {
        try typedErrors {
            try values.withUnsafeBytes { try blockingSend($0, count: count, datatype: datatype, to: destination, tag: tag, mode: .buffered, "bsend") }
        }
    }

    /// Ready-mode send with a datatype (MPI_Rsend).
    public func rsend<T: BitwiseCopyable>(_ values: [T], count: Int, datatype: Datatype, to destination: Int, tag: Int) throws(MPIError) {
        try typedErrors {
            try values.withUnsafeBytes { try blockingSend($0, count: count, datatype: datatype, to: destination, tag: tag, mode: .ready, "rsend") }
        }
    }

    /// Synchronous-mode send with a datatype from a buffer (MPI_Ssend).
    public func ssend<T: BitwiseCopyable>(_ buffer: UnsafeBufferPointer<T>, count: Int, datatype: Datatype, to destination: Int, tag: Int) throws(MPIError) {
        try typedErrors {
            try blockingSend(UnsafeRawBufferPointer(buffer), count: count, datatype: datatype, to: destination, tag: tag, mode: .synchronous, "ssend")
        }
    }

    /// Buffered-mode send with a datatype from a buffer (MPI_Bsend).
    public func bsend<T: BitwiseCopyable>(_ buffer: UnsafeBufferPointer<T>, count: Int, datatype: Datatype, to destination: Int, tag: Int) throws(MPIError) {
        try typedErrors {
            try blockingSend(UnsafeRawBufferPointer(buffer), count: count, datatype: datatype, to: destination, tag: tag, mode: .buffered, "bsend")
        }
    }

    /// Ready-mode send with a datatype from a buffer (MPI_Rsend).
    public func rsend<T: BitwiseCopyable>(_ buffer: UnsafeBufferPointer<T>, count: Int, datatype: Datatype, to destination: Int, tag: Int) throws(MPIError) {
        try typedErrors {
            try blockingSend(UnsafeRawBufferPointer(buffer), count: count, datatype: datatype, to: destination, tag: tag, mode: .ready, "rsend")
        }
    }

    // MARK: Nonblocking sends

    /// Nonblocking send with a datatype (MPI_Isend); the request keeps `values` alive until it completes.
    public func isend<T: BitwiseCopyable>(_ values: [T], count: Int, datatype: Datatype, to destination: Int, tag: Int) throws(MPIError) -> Request {
        try typedErrors {
            try startTypedSend(ArrayBox(values), count, datatype, to: destination, tag: tag, mode: .standard, "isend")
        }
    }

    /// Nonblocking send from a slice (its start is the origin); the request keeps a copy of the slice
    /// (an array of its elements) until it completes.
    public func isend<T: BitwiseCopyable>(_ values: ArraySlice<T>, count: Int, datatype: Datatype, to destination: Int, tag: Int) throws(MPIError) -> Request {
        try typedErrors {
            try startTypedSend(ArrayBox(Array(values)), count, datatype, to: destination, tag: tag, mode: .standard, "isend")
        }
    }

    /// Nonblocking send from a buffer that must stay valid until completion (MPI_Isend, and in
    /// `mode` MPI_Issend, MPI_Ibsend, MPI_Irsend).
    public func isend<T: BitwiseCopyable>(
        _ buffer: UnsafeBufferPointer<T>, count: Int, datatype: Datatype, to destination: Int, tag: Int, mode: Mode = .standard
    ) throws(MPIError) -> Request {
        try typedErrors {
            try startSend(
                UnsafeRawBufferPointer(buffer), count: count, datatype: datatype, keepAlive: nil, to: destination, tag: tag, mode: mode.engineMode,
                "isend")
        }
    }

    /// Nonblocking synchronous send with a datatype (MPI_Issend).
    public func issend<T: BitwiseCopyable>(_ values: [T], count: Int, datatype: Datatype, to destination: Int, tag: Int) throws(MPIError) -> Request {
        try typedErrors {
            try startTypedSend(ArrayBox(values), count, datatype, to: destination, tag: tag, mode: .synchronous, "issend")
        }
    }

    /// Nonblocking buffered send with a datatype (MPI_Ibsend).
    public func ibsend<T: BitwiseCopyable>(_ values: [T], count: Int, datatype: Datatype, to destination: Int, tag: Int) throws(MPIError) -> Request {
        try typedErrors {
            try startTypedSend(ArrayBox(values), count, datatype, to: destination, tag: tag, mode: .buffered, "ibsend")
        }
    }

    /// Nonblocking ready send with a datatype (MPI_Irsend).
    public func irsend<T: BitwiseCopyable>(_ values: [T], count: Int, datatype: Datatype, to destination: Int, tag: Int) throws(MPIError) -> Request {
        try typedErrors {
            try startTypedSend(ArrayBox(values), count, datatype, to: destination, tag: tag, mode: .ready, "irsend")
        }
    }

    // MARK: Persistent

    /// A persistent send of `count` instances of `datatype` from `buffer` (MPI_Send_init with a
    /// datatype): `start()` sends it each time, in `mode`. `buffer` must stay valid while the request
    /// exists; the footprint is checked now.
    public func sendInit<T: BitwiseCopyable>(
        _ buffer: UnsafeBufferPointer<T>, count: Int, datatype: Datatype, to destination: Int, tag: Int, mode: Mode = .standard
    ) throws(MPIError) -> Request {
        try typedErrors {
            try typedSendInit(UnsafeRawBufferPointer(buffer), nil, count, datatype, to: destination, tag: tag, mode: mode)
        }
    }

    /// A persistent send of `count` instances of `datatype` from an array, which the request keeps.
    public func sendInit<T: BitwiseCopyable>(
        _ values: [T], count: Int, datatype: Datatype, to destination: Int, tag: Int, mode: Mode = .standard
    ) throws(MPIError) -> Request {
        try typedErrors {
            let box = ArrayBox(values)
            return try typedSendInit(box.bytes, box, count, datatype, to: destination, tag: tag, mode: mode)
        }
    }

    /// A persistent receive of up to `count` instances of `datatype` into `buffer` (MPI_Recv_init
    /// with a datatype): `start()` posts it each time; the footprint is checked now.
    public func recvInit<T: BitwiseCopyable>(
        into buffer: UnsafeMutableBufferPointer<T>, count: Int, datatype: Datatype, from source: Int, tag: Int
    ) throws(MPIError) -> Request {
        try typedErrors {
            _ = try checkSource(source, "recvInit")
            try checkReceiveTag(tag, "recvInit")
            let bytes = UnsafeMutableRawBufferPointer(buffer)
            _ = try TypedRegion(datatype, count: count, in: bytes, "recvInit")
            return Request(runtime: runtime, persistent: .typedReceive(self, bytes, count: count, datatype, source: source, tag: tag))
        }
    }

    private func typedSendInit(
        _ bytes: UnsafeRawBufferPointer, _ keepAlive: AnyObject?, _ count: Int, _ type: Datatype, to destination: Int, tag: Int, mode: Mode
    ) throws -> Request {
        _ = try checkDestination(destination, "sendInit")
        try checkSendTag(tag, "sendInit")
        _ = try TypedRegion(type, count: count, in: UnsafeMutableRawBufferPointer(mutating: bytes), "sendInit")
        return Request(
            runtime: runtime, persistent: .typedSend(self, bytes, count: count, type, keepAlive, destination: destination, tag: tag, mode.engineMode))
    }

    // MARK: Receives

    /// Receives up to `count` instances of `datatype` into `buffer` (MPI_Recv with a datatype).
    @discardableResult
    public func recv<T: BitwiseCopyable>(into buffer: inout [T], count: Int, datatype: Datatype, from source: Int, tag: Int) throws(MPIError) -> Status {
        try typedErrors {
            try buffer.withUnsafeMutableBytes { try blockingReceive($0, count: count, datatype: datatype, from: source, tag: tag, "recv") }
        }
    }

    /// Receives into a slice of an array (`&grid[k...]`); the slice's start is the origin.
    @discardableResult
    public func recv<T: BitwiseCopyable>(
        into buffer: inout ArraySlice<T>, count: Int, datatype: Datatype, from source: Int, tag: Int
    ) throws(MPIError) -> Status {
        try typedErrors {
            try buffer.withUnsafeMutableBytes { try blockingReceive($0, count: count, datatype: datatype, from: source, tag: tag, "recv") }
        }
    }

    /// Receives into a buffer.
    @discardableResult
    public func recv<T: BitwiseCopyable>(
        into buffer: UnsafeMutableBufferPointer<T>, count: Int, datatype: Datatype, from source: Int, tag: Int
    ) throws(MPIError) -> Status {
        try typedErrors {
            try blockingReceive(UnsafeMutableRawBufferPointer(buffer), count: count, datatype: datatype, from: source, tag: tag, "recv")
        }
    }

    /// Nonblocking receive with a datatype (MPI_Irecv); `buffer` must stay valid until completion.
    /// A wildcard one in recovery mode pends on an unacknowledged failure as the untyped
    /// ``Communicator/irecv(into:from:tag:)->Request`` does.
    public func irecv<T: BitwiseCopyable>(
        into buffer: UnsafeMutableBufferPointer<T>, count: Int, datatype: Datatype, from source: Int, tag: Int
    ) throws(MPIError) -> Request {
        try typedErrors {
            try startReceive(
                UnsafeMutableRawBufferPointer(buffer), count: count, datatype: datatype, keepAlive: nil, from: source, tag: tag, "irecv",
                pendsOnFailure: true)
        }
    }

    /// Sends and receives at once with datatypes on both sides (MPI_Sendrecv); returns the receive's status.
    @discardableResult
    public func sendrecv<T: BitwiseCopyable, U: BitwiseCopyable>(
        _ values: [T], count sendCount: Int, datatype sendType: Datatype, to destination: Int, sendTag: Int,
        into buffer: inout [U], count receiveCount: Int, datatype receiveType: Datatype, from source: Int, recvTag: Int
    ) throws(MPIError) -> Status {
        try typedErrors {
            try values.withUnsafeBytes { sendBytes in
                try buffer.withUnsafeMutableBytes { receiveBytes in
                    let receiveRegion = try region(receiveBytes, receiveCount, receiveType, "sendrecv")
                    let sendRegion = try region(UnsafeMutableRawBufferPointer(mutating: sendBytes), sendCount, sendType, "sendrecv")
                    return try traced("sendrecv", peer: destination, tag: sendTag, bytes: sendRegion.byteCount) {
                        try checkSendArguments(to: destination, tag: sendTag, "sendrecv")
                        return try waitPair(
                            startPair(
                                receive: { try startReceive(receiveRegion, keepAlive: nil, from: source, tag: recvTag, "sendrecv") },
                                send: { try startSend(sendRegion, keepAlive: nil, to: destination, tag: sendTag, mode: .standard, "sendrecv") }))
                    }
                }
            }
        }
    }

    /// Sends `count` instances of `datatype` from `buffer` and replaces them with the received
    /// message, described by the same datatype (MPI_Sendrecv_replace with a datatype).
    @discardableResult
    public func sendrecvReplace<T: BitwiseCopyable>(
        _ buffer: inout [T], count: Int, datatype: Datatype, to destination: Int, sendTag: Int, from source: Int, recvTag: Int
    ) throws(MPIError) -> Status {
        let outgoing = buffer
        return try sendrecv(
            outgoing, count: count, datatype: datatype, to: destination, sendTag: sendTag,
            into: &buffer, count: count, datatype: datatype, from: source, recvTag: recvTag)
    }

    /// Sends from and receives into two parts of one array at once — a halo exchange on a grid:
    /// `sendCount` instances of `sendType` whose origin is element `sendOffset` go to `destination`,
    /// and `receiveCount` instances of `receiveType` whose origin is element `receiveOffset` come from
    /// `source` (MPI_Sendrecv with one buffer). Both parts are checked to lie inside `buffer`; they
    /// must not overlap (the receive may then overwrite data not yet sent).
    @discardableResult
    public func sendrecv<T: BitwiseCopyable>(
        within buffer: inout [T],
        sendingAt sendOffset: Int, count sendCount: Int, datatype sendType: Datatype, to destination: Int, sendTag: Int,
        receivingAt receiveOffset: Int, count receiveCount: Int, datatype receiveType: Datatype, from source: Int, recvTag: Int
    ) throws(MPIError) -> Status {
        try typedErrors {
            let elements = buffer.count
            return try buffer.withUnsafeMutableBytes { bytes in
                func part(_ offset: Int, _ count: Int, _ type: Datatype) throws -> TypedRegion {
                    guard offset >= 0, offset <= elements else {
                        throw MPIError(.invalidCount, "sendrecv: offset \(offset) outside the \(elements)-element buffer")
                    }
                    let start = offset * MemoryLayout<T>.stride
                    return try region(UnsafeMutableRawBufferPointer(rebasing: bytes[start...]), count, type, "sendrecv")
                }
                let sending = try part(sendOffset, sendCount, sendType)
                return try traced("sendrecv", peer: destination, tag: sendTag, bytes: sending.byteCount) {
                    try checkSendArguments(to: destination, tag: sendTag, "sendrecv")
                    let receiving = try part(receiveOffset, receiveCount, receiveType)
                    return try waitPair(
                        startPair(
                            receive: { try startReceive(receiving, keepAlive: nil, from: source, tag: recvTag, "sendrecv") },
                            send: { try startSend(sending, keepAlive: nil, to: destination, tag: sendTag, mode: .standard, "sendrecv") }))
                }
            }
        }
    }

    // MARK: Matched receives

    /// Receives a message taken by `mprobe(from:tag:)` as up to `count` instances of `datatype` into
    /// `buffer` (MPI_Mrecv with a datatype). Throws `.invalidArgument` if the message was already
    /// received, `.truncate` if it is longer than `count` instances, `.invalidDatatype` if it is not
    /// a whole number of the datatype's elements; `.invalidCount` (before the message is taken) if
    /// the instances do not fit `buffer`.
    @discardableResult
    public func mrecv<T: BitwiseCopyable>(_ message: Message, into buffer: inout [T], count: Int, datatype: Datatype) throws(MPIError) -> Status {
        try tracedCall("mrecv") {
            try buffer.withUnsafeMutableBytes { try message.receive(into: region($0, count, datatype, "mrecv")) }
        }
    }

    /// Receives a message taken by `mprobe(from:tag:)` as up to `count` instances of `datatype` into
    /// a buffer (MPI_Mrecv with a datatype), checked as the array form.
    @discardableResult
    public func mrecv<T: BitwiseCopyable>(
        _ message: Message, into buffer: UnsafeMutableBufferPointer<T>, count: Int, datatype: Datatype
    ) throws(MPIError) -> Status {
        try tracedCall("mrecv") {
            try message.receive(into: region(UnsafeMutableRawBufferPointer(buffer), count, datatype, "mrecv"))
        }
    }

    /// Starts receiving a message taken by `mprobe(from:tag:)` as up to `count` instances of
    /// `datatype` into `buffer`, which must stay valid until the request completes (MPI_Imrecv with a
    /// datatype). The footprint is checked now; `.truncate` and `.invalidDatatype` come from the
    /// request.
    public func imrecv<T: BitwiseCopyable>(
        _ message: Message, into buffer: UnsafeMutableBufferPointer<T>, count: Int, datatype: Datatype
    ) throws(MPIError) -> Request {
        try tracedCall("imrecv") {
            try message.startReceive(into: region(UnsafeMutableRawBufferPointer(buffer), count, datatype, "imrecv"))
        }
    }

    // MARK: Nonblocking send-receive

    /// Starts sending `sendCount` instances of `sendType` from `values` and receiving up to
    /// `receiveCount` instances of `receiveType` into `buffer` together (MPI_Isendrecv with
    /// datatypes): the request completes when both have, with the receive's status. Both buffers
    /// must stay valid until then; both footprints, the destination and the tags are checked before
    /// anything starts.
    public func isendrecv<T: BitwiseCopyable, U: BitwiseCopyable>(
        _ values: UnsafeBufferPointer<T>, count sendCount: Int, datatype sendType: Datatype, to destination: Int, sendTag: Int,
        into buffer: UnsafeMutableBufferPointer<U>, count receiveCount: Int, datatype receiveType: Datatype, from source: Int, recvTag: Int
    ) throws(MPIError) -> Request {
        try typedErrors {
            let receiving = try region(UnsafeMutableRawBufferPointer(buffer), receiveCount, receiveType, "isendrecv")
            let sending = try region(UnsafeRawBufferPointer(values), sendCount, sendType, "isendrecv")
            try checkSendArguments(to: destination, tag: sendTag, "isendrecv")
            return try both(
                startPair(
                    receive: { try startReceive(receiving, keepAlive: nil, from: source, tag: recvTag, "isendrecv") },
                    send: { try startSend(sending, keepAlive: nil, to: destination, tag: sendTag, mode: .standard, "isendrecv") }))
        }
    }

    /// Starts sending `count` instances of `datatype` from `buffer` and receiving a message into
    /// the same instances (MPI_Isendrecv_replace with a datatype): the outgoing instances are packed
    /// first, so the receive may overwrite them at once. `buffer` must stay valid until the request
    /// completes, with the receive's status.
    public func isendrecvReplace<T: BitwiseCopyable>(
        _ buffer: UnsafeMutableBufferPointer<T>, count: Int, datatype: Datatype, to destination: Int, sendTag: Int, from source: Int, recvTag: Int
    ) throws(MPIError) -> Request {
        try typedErrors {
            let instances = try region(UnsafeMutableRawBufferPointer(buffer), count, datatype, "isendrecvReplace")
            try checkSendArguments(to: destination, tag: sendTag, "isendrecvReplace")
            let outgoing = instances.packed()
            return try both(
                startPair(
                    receive: { try startReceive(instances, keepAlive: nil, from: source, tag: recvTag, "isendrecvReplace") },
                    send: { try startArraySend(outgoing, to: destination, tag: sendTag, mode: .standard, "isendrecvReplace") }))
        }
    }

    // MARK: Helpers

    private func region(_ bytes: UnsafeRawBufferPointer, _ count: Int, _ type: Datatype, _ call: StaticString) throws -> TypedRegion {
        try TypedRegion(type, count: count, in: UnsafeMutableRawBufferPointer(mutating: bytes), call)
    }

    private func region(_ bytes: UnsafeMutableRawBufferPointer, _ count: Int, _ type: Datatype, _ call: StaticString) throws -> TypedRegion {
        try TypedRegion(type, count: count, in: bytes, call)
    }

    private func startTypedSend<T>(
        _ box: ArrayBox<T>, _ count: Int, _ type: Datatype, to destination: Int, tag: Int, mode: SendMode, _ call: StaticString
    ) throws -> Request {
        try startSend(box.bytes, count: count, datatype: type, keepAlive: box, to: destination, tag: tag, mode: mode, call)
    }
}
