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
