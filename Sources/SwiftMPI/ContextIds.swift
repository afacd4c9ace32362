/// The context ids this process hands to new communicators, and their reuse after `free()`.
///
/// A communicator takes a pair of ids (point-to-point, then collective). The world has 0 and 1.
/// Pairs `1..<maskedPairs` can be reused: each process keeps a bit per pair, set while the pair is
/// free here, and a new communicator's members agree on the lowest pair free in all of them (an
/// allreduce of their masks with bitwise and, as MPICH does). `free()` sets the bit again, so a
/// program that creates and frees communicators in a loop keeps reusing a few pairs. When no masked
/// pair is free everywhere, the members take the next pair above every member's highest one (an
/// allreduce with max), from the unbounded range above the masked pairs.
///
/// Two agreements in flight at once in one process (threads at `.multiple`) could pick the same
/// free pair; so only the first proposes its mask, and a later one proposes none, which sends its
/// whole communicator to the unbounded range.
///
/// The intra-host collective channel (``SharedCollectiveChannel``) a communicator uses is agreed on
/// alongside, and never reused: a slot of shared memory that a slow member may still be reading for
/// a freed communicator must not be written for a new one.
struct ContextIds {
    /// How many pairs can be reused (a 256-byte mask per agreement).
    static let maskedPairs = 2048
    /// The first context of the unbounded range.
    static let firstUnbounded = UInt32(2 * maskedPairs)

    /// Bit p set: pair p (contexts 2p and 2p + 1) is free in this process. Pair 0 is the world's.
    private var free = [UInt64](repeating: ~0, count: maskedPairs / 64)
    /// The highest context of the unbounded range in use here.
    private var highestUnbounded = firstUnbounded - 1
    /// The highest collective channel in use here (the world's is 0).
    private var highestChannel = 0
    private var agreementsInFlight = 0

    init() { free[0] &= ~1 }

    /// What this process proposes for a new communicator: its free pairs (none while another
    /// agreement is in flight here) and the next unbounded context and channel, which it reserves.
    mutating func propose() -> (mask: [UInt64], maxima: [Int]) {
        agreementsInFlight += 1
        let mask = agreementsInFlight == 1 ? free : [UInt64](repeating: 0, count: free.count)
        highestUnbounded += 2
        highestChannel += 1
        return (mask, [Int(highestUnbounded - 1), highestChannel])
    }

    /// The agreed context and channel, from the members' masks combined with bitwise and and their
    /// proposals' maxima; takes the pair here.
    mutating func settle(common: [UInt64], maxima: [Int]) -> (context: UInt32, channel: Int) {
        agreementsInFlight -= 1
        highestUnbounded = max(highestUnbounded, UInt32(maxima[0] + 1))
        highestChannel = max(highestChannel, maxima[1])
        if let word = common.firstIndex(where: { $0 != 0 }) {
            let pair = word * 64 + common[word].trailingZeroBitCount
            free[word] &= ~(1 << UInt64(pair % 64))
            return (UInt32(2 * pair), maxima[1])
        }
        return (UInt32(maxima[0]), maxima[1])
    }

    /// An agreement that failed (its allreduce threw): nothing was taken.
    mutating func abandon() { agreementsInFlight -= 1 }

    /// A pair for a communicator of this process alone (`MPI.commSelf`), from the unbounded range.
    mutating func takeLocal() -> UInt32 {
        highestUnbounded += 2
        return highestUnbounded - 1
    }

    /// Returns `context`'s pair for reuse when it is a masked one (a communicator was freed).
    mutating func release(_ context: UInt32) {
        let pair = Int(context / 2)
        guard context < Self.firstUnbounded, pair > 0 else { return }
        free[pair / 64] |= 1 << UInt64(pair % 64)
    }

    /// How many masked pairs are in use here (for tests: a create/free loop must not grow it).
    var pairsInUse: Int { free.reduce(0) { $0 + (64 - $1.nonzeroBitCount) } }
}
