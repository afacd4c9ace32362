/// The byte-level entry for the C interface's MPI_File_* calls: the same paths as the typed Swift
/// calls, given raw memory (already packed or to be unpacked by the caller's datatype).
extension File {
    /// Where a C call reads or writes.
    package enum Position: Sendable {
        /// At an explicit offset, in view elements.
        case at(Int)
        /// At the individual file pointer, which then moves past the data.
        case individual
        /// At the shared file pointer (independent).
        case shared
        /// At the shared file pointer in rank order (collective).
        case ordered
    }

    /// Writes (`write`) or reads `bytes`, a whole number of view elements, at `position`; `collective`
    /// chooses the `…_all` form for explicit offsets and the individual pointer. `memoryType`
    /// describes the packed data (instances of it, one after the other), for an external32 view.
    package func transfer(
        write: Bool, _ bytes: UnsafeMutableRawBufferPointer, of memoryType: @autoclosure () -> Datatype, _ position: Position, collective: Bool,
        _ call: StaticString
    ) throws(MPIError) -> Status {
        let direction: Direction = write ? .write : .read
        switch position {
        case .at(let offset): return try access(direction, bytes, of: memoryType(), at: offset, collective: collective, call)
        case .individual: return try access(direction, bytes, of: memoryType(), at: nil, collective: collective, call)
        case .shared: return try shared(direction, bytes, of: memoryType(), call)
        case .ordered: return try ordered(direction, bytes, of: memoryType(), call)
        }
    }
}
