/// Sending Swift values that are `Codable` rather than `BitwiseCopyable`: the slower, convenient path
/// (like mpi4py's lowercase methods). Values travel in SwiftMPI's compact binary encoding
/// (``CompactCoding``: a tag byte per value, varint integers, raw floating-point numbers), one
/// message per value; receivers learn the size first (a matched probe, or the sizes exchanged by
/// the collective), so values of any size fit. A value that cannot be encoded or decoded throws
/// `.invalidArgument` naming the type and the rank; in collectives every rank learns of it (no hang).
extension Communicator {
    /// Sends an encodable value (standard mode).
    public func send<Value: Encodable>(object value: Value, to destination: Int, tag: Int) throws(MPIError) {
        try typedErrors {
            let bytes = try encodeObject(value, "send(object:)")
            try bytes.withUnsafeBytes { try blockingSend($0, to: destination, tag: tag, mode: .standard, "send(object:)") }
        }
    }

    /// Starts sending an encodable value (MPI_Isend of its encoding, which the request keeps).
    public func isend<Value: Encodable>(object value: Value, to destination: Int, tag: Int) throws(MPIError) -> Request {
        try isend(try encodeObject(value, "isend(object:)"), to: destination, tag: tag)
    }

    /// Receives and decodes a value sent with ``send(object:to:tag:)``.
    public func recv<Value: Decodable>(object type: Value.Type, from source: Int, tag: Int) throws(MPIError) -> (Value, Status) {
        let message = try mprobe(from: source, tag: tag)
        var bytes = [UInt8](repeating: 0, count: message.status.byteCount)
        let status = try mrecv(message, into: &bytes)
        return (try decodeObject(Value.self, bytes[...], from: status.source, "recv(object:)", status: status), status)
    }

    /// ``recv(object:from:tag:)``, awaited.
    public func recv<Value: Decodable>(object type: Value.Type, from source: Int, tag: Int) async throws -> (Value, Status) {
        let message = try await mprobe(from: source, tag: tag)
        let owned = OwnedBuffer<UInt8>(count: message.status.byteCount)
        let status = try await message.startReceive(into: UnsafeMutableRawBufferPointer(owned.buffer), keepAlive: owned).value
        return (try decodeObject(Value.self, owned.array()[...], from: status.source, "recv(object:)", status: status), status)
    }

    /// The root's value on every rank (mpi4py's `bcast`): the root passes its value, the others
    /// may pass nil. Throws `.invalidArgument` on every rank when the root passes nil or its value
    /// cannot be encoded.
    public func bcast<Value: Codable>(object value: Value?, root: Int) throws(MPIError) -> Value {
        try typedErrors {
            try checkRoot(root, "bcast(object:)")
            var encoded: Result<[UInt8], MPIError> = .success([])
            if rank == root {
                encoded = Result {
                    guard let value else { throw MPIError(.invalidArgument, "bcast(object:): the root (rank \(root)) passed nil") }
                    return try encodeObject(value, "bcast(object:)")
                }.mapError { $0 as? MPIError ?? MPIError(.invalidArgument, "bcast(object:): \($0)") }
            }
            var length = [(try? encoded.get())?.count ?? -1]
            try bcast(&length, root: root)
            if case .failure(let error) = encoded { throw error }
            guard length[0] >= 0 else { throw MPIError(.invalidArgument, "bcast(object:): the root (rank \(root)) had no value to send") }
            var bytes = rank == root ? try encoded.get() : [UInt8](repeating: 0, count: length[0])
            try bcast(&bytes, root: root)
            if rank == root, let value { return value }
            return try decodeObject(Value.self, bytes[...], from: root, "bcast(object:)")
        }
    }

    /// Every rank's value, in rank order, at the root; nil elsewhere (mpi4py's `gather`).
    public func gather<Value: Codable>(object value: Value, root: Int) throws(MPIError) -> [Value]? {
        try typedErrors {
            try checkRoot(root, "gather(object:)")
            let encoded = Result { try encodeObject(value, "gather(object:)") }
            let bytes = (try? encoded.get()) ?? []
            let lengths = try gather([(try? encoded.get())?.count ?? -1], root: root)
            let all = try gatherv(bytes, counts: (lengths ?? [Int](repeating: 0, count: size)).map { Swift.max($0, 0) }, root: root)
            if case .failure(let error) = encoded { throw error }
            guard let lengths, let all else { return nil }
            return try decodeObjects(Value.self, all, lengths: lengths, "gather(object:)")
        }
    }

    /// Every rank's value, in rank order, on every rank (mpi4py's `allgather`).
    public func allgather<Value: Codable>(object value: Value) throws(MPIError) -> [Value] {
        try typedErrors {
            let encoded = Result { try encodeObject(value, "allgather(object:)") }
            let bytes = (try? encoded.get()) ?? []
            let lengths = try allgather([(try? encoded.get())?.count ?? -1])
            let all = try allgatherv(bytes, counts: lengths.map { Swift.max($0, 0) })
            if case .failure(let error) = encoded { throw error }
            return try decodeObjects(Value.self, all, lengths: lengths, "allgather(object:)")
        }
    }

    /// Value i of the root's `values` to rank i (mpi4py's `scatter`): the root passes one value per
    /// rank, the others may pass nil. Throws `.invalidArgument` on every rank when the root's count
    /// is not `size` or a value cannot be encoded.
    public func scatter<Value: Codable>(objects values: [Value]?, root: Int) throws(MPIError) -> Value {
        try typedErrors {
            try checkRoot(root, "scatter(objects:)")
            var encoded: Result<[[UInt8]], MPIError> = .success([])
            if rank == root {
                encoded = Result {
                    guard let values, values.count == size else {
                        throw MPIError(
                            .invalidArgument,
                            "scatter(objects:): the root (rank \(root)) passed \(values.map { "\($0.count)" } ?? "nil") values for \(size) ranks")
                    }
                    return try values.map { try encodeObject($0, "scatter(objects:)") }
                }.mapError { $0 as? MPIError ?? MPIError(.invalidArgument, "scatter(objects:): \($0)") }
            }
            let parts = (try? encoded.get()) ?? []
            // Every rank needs every count for scatterv; -1 everywhere when the root has nothing to send.
            var lengths = rank == root && !parts.isEmpty ? parts.map(\.count) : [Int](repeating: -1, count: size)
            try bcast(&lengths, root: root)
            let bytes = try scatterv(parts.flatMap { $0 }, counts: lengths.map { Swift.max($0, 0) }, root: root)
            if case .failure(let error) = encoded { throw error }
            guard lengths[rank] >= 0 else { throw MPIError(.invalidArgument, "scatter(objects:): the root (rank \(root)) had no values to send") }
            if rank == root, let values { return values[root] }
            return try decodeObject(Value.self, bytes[...], from: root, "scatter(objects:)")
        }
    }

    // MARK: - Encoding

    func encodeObject<Value: Encodable>(_ value: Value, _ call: StaticString) throws(MPIError) -> [UInt8] {
        do {
            return try CompactEncoder.encode(value)
        } catch {
            throw MPIError(.invalidArgument, "\(call): rank \(rank) cannot encode \(Value.self): \(error)")
        }
    }

    func decodeObject<Value: Decodable>(
        _ type: Value.Type, _ bytes: ArraySlice<UInt8>, from source: Int, _ call: StaticString, status: Status? = nil
    ) throws(MPIError) -> Value {
        do {
            return try bytes.withUnsafeBytes { try CompactDecoder.decode(Value.self, from: $0) }
        } catch {
            throw MPIError(.invalidArgument, "\(call): the \(bytes.count) bytes from rank \(source) are not a \(Value.self): \(error)", status: status)
        }
    }

    /// The values in `all`, `lengths[i]` bytes from rank i; a negative length is a rank that could
    /// not encode its value.
    private func decodeObjects<Value: Decodable>(_ type: Value.Type, _ all: [UInt8], lengths: [Int], _ call: StaticString) throws -> [Value] {
        let failed = lengths.indices.filter { lengths[$0] < 0 }
        guard failed.isEmpty else {
            throw MPIError(
                .invalidArgument,
                "\(call): rank\(failed.count == 1 ? "" : "s") \(failed.map(String.init).joined(separator: ", ")) could not encode \(Value.self)")
        }
        var offset = 0
        return try lengths.enumerated().map { source, length in
            defer { offset += length }
            return try decodeObject(Value.self, all[offset..<(offset + length)], from: source, call)
        }
    }
}
