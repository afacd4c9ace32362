/// The shared file pointer: one position, in view elements, that every rank's `…Shared` and
/// `…Ordered` calls advance. It is an 8-byte counter in a one-sided window on rank 0, moved by
/// fetch-and-add: on one host a hardware atomic; between hosts (or over forced TCP) a message that
/// rank 0 answers whenever it is inside any SwiftMPI call.
extension File {
    /// Writes `values` at the shared file pointer and moves it past them (MPI_File_write_shared).
    /// Independent: ranks calling at the same time each get their own part of the file, in an order
    /// SwiftMPI does not fix.
    @discardableResult
    public func writeShared<T: BitwiseCopyable>(_ values: [T]) throws(MPIError) -> Status {
        try typedErrors {
            try values.withUnsafeBytes { bytes in try shared(.write, UnsafeMutableRawBufferPointer(mutating: bytes), of: Datatype(T.self), "File.writeShared") }
        }
    }

    /// Reads at the shared file pointer and moves it past the elements asked for (MPI_File_read_shared).
    @discardableResult
    public func readShared<T: BitwiseCopyable>(into values: inout [T]) throws(MPIError) -> Status {
        try typedErrors { try values.withUnsafeMutableBytes { bytes in try shared(.read, bytes, of: Datatype(T.self), "File.readShared") } }
    }

    /// Writes every rank's `values` at the shared file pointer in rank order, and moves the pointer
    /// past all of them (MPI_File_write_ordered). Collective.
    @discardableResult
    public func writeOrdered<T: BitwiseCopyable>(_ values: [T]) throws(MPIError) -> Status {
        try typedErrors {
            try values.withUnsafeBytes { bytes in try ordered(.write, UnsafeMutableRawBufferPointer(mutating: bytes), of: Datatype(T.self), "File.writeOrdered")
            }
        }
    }

    /// Reads at the shared file pointer in rank order, each rank its `values.count` elements
    /// (MPI_File_read_ordered). Collective.
    @discardableResult
    public func readOrdered<T: BitwiseCopyable>(into values: inout [T]) throws(MPIError) -> Status {
        try typedErrors { try values.withUnsafeMutableBytes { bytes in try ordered(.read, bytes, of: Datatype(T.self), "File.readOrdered") } }
    }

    /// Moves the shared file pointer (MPI_File_seek_shared). Collective; every rank passes the same
    /// offset and whence.
    public func seekShared(to offset: Int, from whence: Whence = .start) throws(MPIError) {
        try collective("File.seekShared") {
            let offsets = try communicator.allreduce([offset, -offset], op: .max)
            guard offsets[0] == -offsets[1] else {
                throw MPIError(.notSame, "File.seekShared(\"\(path)\"): the ranks passed different offsets")
            }
            try communicator.barrier()  // every rank's earlier shared accesses are done
            var failure: MPIError? = nil
            if communicator.rank == 0 {
                do {
                    let current = Int(try sharedPointer.fetchAndOp(0, to: 0, at: 0, op: .noOp))
                    let target = try seekTarget(offset, whence, current: current, "File.seekShared")
                    _ = try sharedPointer.fetchAndOp(Int64(target), to: 0, at: 0, op: .replace)
                } catch let error as MPIError {
                    failure = error
                }
            }
            try Self.agree(communicator, failure)
        }
    }

    /// The shared file pointer, in view elements (MPI_File_get_position_shared).
    public var sharedPosition: Int {
        get throws(MPIError) {
            try typedErrors {
                try checkOpen("File.sharedPosition")
                return Int(try sharedPointer.fetchAndOp(0, to: 0, at: 0, op: .noOp))
            }
        }
    }

    func shared(
        _ direction: Direction, _ bytes: UnsafeMutableRawBufferPointer, of memoryType: @autoclosure () -> Datatype, _ call: StaticString
    ) throws(MPIError) -> Status {
        try typedErrors {
            try checkOpen(call)
            if direction == .write { try requireWritable(call) } else { try requireReadable(call) }
            let elements = try elementCount(bytes.count, call)
            try checkRepresentable(memoryType(), call)
            let start = Int(try sharedPointer.fetchAndOp(Int64(elements), to: 0, at: 0, op: .sum))
            return try access(direction, bytes, of: memoryType(), at: start, collective: false, call, sequentialAllowed: true)
        }
    }

    func ordered(
        _ direction: Direction, _ bytes: UnsafeMutableRawBufferPointer, of memoryType: @autoclosure () -> Datatype, _ call: StaticString
    ) throws(MPIError) -> Status {
        try collective(call) {
            var failure: MPIError? = nil
            var elements = 0
            do {
                if direction == .write { try requireWritable(call) } else { try requireReadable(call) }
                elements = try elementCount(bytes.count, call)
                try checkRepresentable(memoryType(), call)
            } catch let error as MPIError {
                failure = error
            }
            try Self.agree(communicator, failure)
            let before = try communicator.exscan([elements], op: .sum)?[0] ?? 0
            let total = try communicator.allreduce([elements], op: .sum)[0]
            var base = [0]
            if communicator.rank == 0 { base[0] = Int(try sharedPointer.fetchAndOp(Int64(total), to: 0, at: 0, op: .sum)) }
            try communicator.bcast(&base, root: 0)
            return try access(direction, bytes, of: memoryType(), at: base[0] + before, collective: true, call, sequentialAllowed: true)
        }
    }
}
