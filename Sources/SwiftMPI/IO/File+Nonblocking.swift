/// Nonblocking file access (MPI_File_iwrite_at and friends). SwiftMPI moves the data before the call
/// returns — the request comes back complete, its status saying what moved — so the buffer is free
/// at once. The collective forms (`iwriteAll`, `ireadAll`) therefore also do their exchange inside
/// the call, as ROMIO did before MPI-3.1's nonblocking collective I/O: every rank must reach them in
/// the same order, with no rank first waiting for a message that another sends only after its own
/// nonblocking call.
extension File {
    /// Starts writing `values` at view element `offset` (MPI_File_iwrite_at).
    public func iwrite<T: BitwiseCopyable>(_ values: [T], at offset: Int) throws(MPIError) -> Request {
        Request(completed: try write(values, at: offset))
    }

    /// Starts reading into `values` at view element `offset` (MPI_File_iread_at); the memory must
    /// stay valid until the request completes (it does at once).
    public func iread<T: BitwiseCopyable>(into values: UnsafeMutableBufferPointer<T>, at offset: Int) throws(MPIError) -> Request {
        Request(completed: try read(into: values, at: offset))
    }

    /// Starts writing `values` at view element `offset`, every rank its own (MPI_File_iwrite_at_all). Collective.
    public func iwriteAll<T: BitwiseCopyable>(_ values: [T], at offset: Int) throws(MPIError) -> Request {
        Request(completed: try writeAll(values, at: offset))
    }

    /// Starts reading into `values` at view element `offset` (MPI_File_iread_at_all). Collective.
    public func ireadAll<T: BitwiseCopyable>(into values: UnsafeMutableBufferPointer<T>, at offset: Int) throws(MPIError) -> Request {
        Request(completed: try readAll(into: values, at: offset))
    }

    /// Starts writing `values` at the individual file pointer (MPI_File_iwrite).
    public func iwrite<T: BitwiseCopyable>(_ values: [T]) throws(MPIError) -> Request {
        Request(completed: try write(values))
    }

    /// Starts writing `values` at the shared file pointer (MPI_File_iwrite_shared).
    public func iwriteShared<T: BitwiseCopyable>(_ values: [T]) throws(MPIError) -> Request {
        Request(completed: try writeShared(values))
    }
}
