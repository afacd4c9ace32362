/// Reading and writing at explicit offsets and through the individual file pointer, independently
/// or collectively. Every call returns a ``Status`` whose byte count is what moved: a read that meets
/// the end of the file moves less (`status.count(of:)` says how many elements).
extension File {
    // MARK: - Explicit offsets, independent

    /// Writes `values` at view element `offset` (MPI_File_write_at). Independent.
    @discardableResult
    public func write<T: BitwiseCopyable>(_ values: [T], at offset: Int) throws(MPIError) -> Status {
        try typedErrors {
            try values.withUnsafeBytes { bytes in
                try access(.write, UnsafeMutableRawBufferPointer(mutating: bytes), of: Datatype(T.self), at: offset, collective: false, "File.write")
            }
        }
    }

    /// Writes the elements of `values` at view element `offset` (MPI_File_write_at). Independent.
    @discardableResult
    public func write<T: BitwiseCopyable>(_ values: UnsafeBufferPointer<T>, at offset: Int) throws(MPIError) -> Status {
        try access(
            .write, UnsafeMutableRawBufferPointer(mutating: UnsafeRawBufferPointer(values)), of: Datatype(T.self), at: offset, collective: false, "File.write")
    }

    /// Writes the elements of `values` at view element `offset` (MPI_File_write_at). Independent.
    @discardableResult
    public func write<T: BitwiseCopyable>(_ values: Span<T>, at offset: Int) throws(MPIError) -> Status {
        try typedErrors { try values.withUnsafeBufferPointer { buffer in try write(buffer, at: offset) } }
    }

    /// Reads `values.count` elements at view element `offset` into `values` (MPI_File_read_at).
    /// Independent. Elements past the end of the file are left as they were.
    @discardableResult
    public func read<T: BitwiseCopyable>(into values: inout [T], at offset: Int) throws(MPIError) -> Status {
        try typedErrors {
            try values.withUnsafeMutableBytes { bytes in try access(.read, bytes, of: Datatype(T.self), at: offset, collective: false, "File.read") }
        }
    }

    /// Reads into `values` at view element `offset` (MPI_File_read_at). Independent.
    @discardableResult
    public func read<T: BitwiseCopyable>(into values: UnsafeMutableBufferPointer<T>, at offset: Int) throws(MPIError) -> Status {
        try access(.read, UnsafeMutableRawBufferPointer(values), of: Datatype(T.self), at: offset, collective: false, "File.read")
    }

    /// Reads into `values` at view element `offset` (MPI_File_read_at). Independent.
    @discardableResult
    public func read<T: BitwiseCopyable>(into values: inout MutableSpan<T>, at offset: Int) throws(MPIError) -> Status {
        try typedErrors { try values.withUnsafeMutableBufferPointer { buffer in try read(into: buffer, at: offset) } }
    }

    // MARK: - Explicit offsets, collective

    /// Writes `values` at view element `offset`, every rank its own (MPI_File_write_at_all).
    /// Collective: with collective buffering where the ranks' data interleaves (see ``File``).
    @discardableResult
    public func writeAll<T: BitwiseCopyable>(_ values: [T], at offset: Int) throws(MPIError) -> Status {
        try typedErrors {
            try values.withUnsafeBytes { bytes in
                try access(.write, UnsafeMutableRawBufferPointer(mutating: bytes), of: Datatype(T.self), at: offset, collective: true, "File.writeAll")
            }
        }
    }

    /// Writes the elements of `values` at view element `offset` (MPI_File_write_at_all). Collective.
    @discardableResult
    public func writeAll<T: BitwiseCopyable>(_ values: UnsafeBufferPointer<T>, at offset: Int) throws(MPIError) -> Status {
        try access(
            .write, UnsafeMutableRawBufferPointer(mutating: UnsafeRawBufferPointer(values)), of: Datatype(T.self), at: offset, collective: true, "File.writeAll"
        )
    }

    /// Reads `values.count` elements at view element `offset` (MPI_File_read_at_all). Collective.
    @discardableResult
    public func readAll<T: BitwiseCopyable>(into values: inout [T], at offset: Int) throws(MPIError) -> Status {
        try typedErrors {
            try values.withUnsafeMutableBytes { bytes in try access(.read, bytes, of: Datatype(T.self), at: offset, collective: true, "File.readAll") }
        }
    }

    /// Reads into `values` at view element `offset` (MPI_File_read_at_all). Collective.
    @discardableResult
    public func readAll<T: BitwiseCopyable>(into values: UnsafeMutableBufferPointer<T>, at offset: Int) throws(MPIError) -> Status {
        try access(.read, UnsafeMutableRawBufferPointer(values), of: Datatype(T.self), at: offset, collective: true, "File.readAll")
    }

    // MARK: - The individual file pointer

    /// Writes `values` at the individual file pointer and moves it past them (MPI_File_write).
    @discardableResult
    public func write<T: BitwiseCopyable>(_ values: [T]) throws(MPIError) -> Status {
        try typedErrors {
            try values.withUnsafeBytes { bytes in
                try access(.write, UnsafeMutableRawBufferPointer(mutating: bytes), of: Datatype(T.self), at: nil, collective: false, "File.write")
            }
        }
    }

    /// Reads at the individual file pointer and moves it past what was read (MPI_File_read).
    @discardableResult
    public func read<T: BitwiseCopyable>(into values: inout [T]) throws(MPIError) -> Status {
        try typedErrors {
            try values.withUnsafeMutableBytes { bytes in try access(.read, bytes, of: Datatype(T.self), at: nil, collective: false, "File.read") }
        }
    }

    /// Writes `values` at each rank's individual file pointer (MPI_File_write_all). Collective.
    @discardableResult
    public func writeAll<T: BitwiseCopyable>(_ values: [T]) throws(MPIError) -> Status {
        try typedErrors {
            try values.withUnsafeBytes { bytes in
                try access(.write, UnsafeMutableRawBufferPointer(mutating: bytes), of: Datatype(T.self), at: nil, collective: true, "File.writeAll")
            }
        }
    }

    /// Reads at each rank's individual file pointer (MPI_File_read_all). Collective.
    @discardableResult
    public func readAll<T: BitwiseCopyable>(into values: inout [T]) throws(MPIError) -> Status {
        try typedErrors {
            try values.withUnsafeMutableBytes { bytes in try access(.read, bytes, of: Datatype(T.self), at: nil, collective: true, "File.readAll") }
        }
    }

    /// Moves the individual file pointer (MPI_File_seek) to `offset` view elements from `whence`.
    /// Throws `.invalidArgument` when the result would be negative.
    public func seek(to offset: Int, from whence: Whence = .start) throws(MPIError) {
        try typedErrors {
            try checkOpen("File.seek")
            individualPointer = try seekTarget(offset, whence, current: individualPointer, "File.seek")
        }
    }

    /// The individual file pointer, in view elements (MPI_File_get_position).
    public var position: Int { individualPointer }

    /// Where a seek lands; throws when before the view's start.
    func seekTarget(_ offset: Int, _ whence: Whence, current: Int, _ call: StaticString) throws -> Int {
        let base: Int
        switch whence {
        case .start: base = 0
        case .current: base = current
        case .end: base = view.dataBytes(before: try size) / view.elementSize
        }
        let (target, overflow) = base.addingReportingOverflow(offset)
        guard !overflow else { throw MPIError(.invalidArgument, "\(call)(\"\(path)\"): \(offset) from \(whence) lies beyond the largest offset") }
        guard target >= 0 else {
            throw MPIError(.invalidArgument, "\(call)(\"\(path)\"): \(offset) from \(whence) lands before the start of the view")
        }
        return target
    }
}
