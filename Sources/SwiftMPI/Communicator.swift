/// A group of ranks and a private context in which they exchange messages (MPI_Comm).
///
/// A message sent on one communicator never matches a receive on another: every packet carries the
/// communicator's context id. A `Communicator` is a small value, `Sendable`; calls from several
/// threads at once need `MPI.initialize(threadLevel: .multiple)`.
public struct Communicator: Sendable {
    /// This process's rank in the communicator, in `0..<size`.
    public let rank: Int
    /// The number of ranks in the communicator.
    public let size: Int
    let runtime: Runtime
    let context: UInt32

    init(runtime: Runtime, context: UInt32, rank: Int, size: Int) {
        self.runtime = runtime
        self.context = context
        self.rank = rank
        self.size = size
    }

    /// The world rank of `rank` in this communicator (identity for the world communicator).
    @inline(__always)
    func worldRank(_ rank: Int) -> Int { rank }

    // MARK: - Argument checks shared by every call

    /// Checks a destination; returns false for `MPI.procNull` (the call then completes at once).
    @inline(__always)
    func checkDestination(_ destination: Int, _ call: StaticString) throws -> Bool {
        if destination >= 0 && destination < size { return true }
        if destination == MPI.procNull { return false }
        throw MPIError(.invalidRank, "\(call): destination rank \(destination) is outside 0..<\(size)")
    }

    /// Checks a source (ranks, `MPI.anySource`); returns false for `MPI.procNull`.
    @inline(__always)
    func checkSource(_ source: Int, _ call: StaticString) throws -> Bool {
        if (source >= 0 && source < size) || source == MPI.anySource { return true }
        if source == MPI.procNull { return false }
        throw MPIError(.invalidRank, "\(call): source rank \(source) is outside 0..<\(size) and not MPI.anySource")
    }

    @inline(__always)
    func checkSendTag(_ tag: Int, _ call: StaticString) throws {
        guard tag >= 0 && tag <= MPI.tagUpperBound else {
            throw MPIError(.invalidTag, "\(call): tag \(tag) is outside 0...\(MPI.tagUpperBound)")
        }
    }

    @inline(__always)
    func checkReceiveTag(_ tag: Int, _ call: StaticString) throws {
        guard (tag >= 0 && tag <= MPI.tagUpperBound) || tag == MPI.anyTag else {
            throw MPIError(.invalidTag, "\(call): tag \(tag) is outside 0...\(MPI.tagUpperBound) and not MPI.anyTag")
        }
    }

    @inline(__always)
    func header(tag: Int, flags: UInt32 = 0) -> MatchHeader {
        MatchHeader(context: context, source: Int32(truncatingIfNeeded: rank), tag: Int32(truncatingIfNeeded: tag), flags: flags)
    }
}

extension Communicator {
    /// A new communicator with the same ranks and a private context (MPI_Comm_dup): messages on it
    /// never match receives on this one. Collective: every rank must call it, in the same order
    /// relative to its other communicator creations.
    ///
    /// Context ids come from a counter that every rank advances in the same order (creation is
    /// collective and ordered), so all ranks derive the same id without exchanging messages.
    public func dup() throws -> Communicator {
        let context = try runtime.withEngine("dup") { engine in engine.allocateContext() }
        return Communicator(runtime: runtime, context: context, rank: rank, size: size)
    }
}
