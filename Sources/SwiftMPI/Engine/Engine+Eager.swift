#if canImport(Glibc)
import Glibc
#endif

extension Engine {
    /// Completes `operation` with an eager message (from the wire or the unexpected queue): copies it
    /// in, or fails it with `.truncate`; acknowledges a synchronous send.
    func deliverEager(_ operation: ReceiveOperation, _ header: MatchHeader, _ payload: UnsafeRawBufferPointer, from peer: Int) {
        let length = payload.count
        operation.status = Status(source: Int(header.source), tag: Int(header.tag), byteCount: length)
        traceReceive(header, from: peer, bytes: length, "eager")
        if length > operation.capacity {
            operation.error = truncation(header, length: length, capacity: operation.capacity)
        } else if let mismatch = signatureMismatch(operation, header, length: length) {
            operation.error = mismatch
        } else if let region = operation.region {
            region.unpack(0..<length, from: payload.baseAddress!)
        } else if length > 0 {
            operation.buffer.baseAddress!.copyMemory(from: payload.baseAddress!, byteCount: length)
        }
        operation.isComplete = true
        if header.flags & MatchHeader.Flags.synchronous != 0 {
            sendControl(.ack, MatchHeader(senderOperation: header.senderOperation), to: peer)
        }
    }

    /// The error of a message longer than its receive buffer.
    func truncation(_ header: MatchHeader, length: Int, capacity: Int) -> MPIError {
        MPIError(
            .truncate, "recv: message of \(length) bytes from rank \(header.source) with tag \(header.tag) does not fit the \(capacity)-byte buffer",
            status: Status(source: Int(header.source), tag: Int(header.tag), byteCount: length))
    }

    /// The error of a message that is not a whole number of the receive datatype's primitive
    /// elements (a type-signature mismatch the runtime can see), or nil.
    func signatureMismatch(_ operation: ReceiveOperation, _ header: MatchHeader, length: Int) -> MPIError? {
        let what: String
        if let region = operation.region {
            guard region.map.elementCount(inBytes: length) == nil else { return nil }
            what = "the elements of \(region.map.summary)"
        } else {
            guard operation.elementBytes > 1, length % operation.elementBytes != 0 else { return nil }
            what = "\(operation.elementBytes)-byte elements"
        }
        return MPIError(
            .invalidDatatype,
            "recv: message of \(length) bytes from rank \(header.source) with tag \(header.tag) is not a whole number of \(what) "
                + "(the datatypes' signatures do not match)",
            status: Status(source: Int(header.source), tag: Int(header.tag), byteCount: length))
    }

    /// Says once per process that a ready send arrived before its receive (erroneous in MPI).
    func warnReadySend(_ header: MatchHeader) {
        guard !warnedAboutReadySend else { return }
        warnedAboutReadySend = true
        let line =
            "SwiftMPI rank \(rank): rsend from rank \(header.source) with tag \(header.tag) arrived before a matching receive was posted (erroneous in MPI); "
            + "delivered as a standard send\n"
        _ = line.utf8CString.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress!, $0.count - 1) }
    }
}
