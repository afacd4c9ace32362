import Foundation

/// Sending Swift values that are `Codable` rather than `BitwiseCopyable`: the slower, convenient path
/// (like mpi4py's lowercase methods). Values are encoded as JSON, sent as one message, and decoded on
/// receipt; the receive learns the size with a matched probe, so any size fits.
extension Communicator {
    /// Sends an encodable value (standard mode). Throws `.invalidArgument` if it cannot be encoded.
    public func send<Value: Encodable>(object value: Value, to destination: Int, tag: Int) throws {
        let bytes: Data
        do {
            bytes = try JSONEncoder().encode(value)
        } catch {
            throw MPIError(.invalidArgument, "send(object:): cannot encode \(Value.self): \(error)")
        }
        try bytes.withUnsafeBytes { try blockingSend($0, to: destination, tag: tag, mode: .standard, "send(object:)") }
    }

    /// Receives and decodes a value sent with ``send(object:to:tag:)``. Throws `.invalidArgument` if the
    /// message does not decode as `Value`.
    public func recv<Value: Decodable>(object type: Value.Type, from source: Int, tag: Int) throws -> (Value, Status) {
        let message = try mprobe(from: source, tag: tag)
        var bytes = [UInt8](repeating: 0, count: message.status.byteCount)
        let status = try mrecv(message, into: &bytes)
        do {
            return (try JSONDecoder().decode(Value.self, from: Data(bytes)), status)
        } catch {
            throw MPIError(.invalidArgument, "recv(object:): the message from rank \(status.source) is not a \(Value.self): \(error)", status: status)
        }
    }
}

/// `async` forms, layered on requests: they suspend the task instead of blocking the thread while
/// progress runs between yields. Use thread level `.serialized` or `.multiple` when several tasks call
/// SwiftMPI.
extension Communicator {
    /// Receives up to `count` elements of `T` and returns them with the status.
    public func recv<T: BitwiseCopyable>(count: Int, of type: T.Type, from source: Int, tag: Int) async throws -> ([T], Status) {
        guard count >= 0 else { throw MPIError(.invalidCount, "recv(count: \(count)): negative count") }
        let storage = UnsafeMutableBufferPointer<T>.allocate(capacity: max(count, 1))
        defer { storage.deallocate() }
        let request = try irecv(into: UnsafeMutableBufferPointer(rebasing: storage[0..<count]), from: source, tag: tag)
        let status = try await request.value
        let received = status.count(of: T.self) ?? 0
        return (Array(storage[0..<received]), status)
    }

    /// Sends `values` (standard mode) and returns when the send has completed.
    public func send<T: BitwiseCopyable>(_ values: [T], to destination: Int, tag: Int) async throws {
        _ = try await isend(values, to: destination, tag: tag).value
    }
}
