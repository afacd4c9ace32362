/// A group of ranks and a private context in which they exchange messages (MPI_Comm).
///
/// A message sent on one communicator never matches a receive on another.
public struct Communicator: Sendable {
    /// This process's rank in the communicator, in `0..<size`.
    public let rank: Int
    /// The number of ranks in the communicator.
    public let size: Int

    init(rank: Int, size: Int) {
        self.rank = rank
        self.size = size
    }
}
