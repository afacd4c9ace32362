/// The opt-in check of collectives that use messages only (`SWIFTMPI_CHECK_COLLECTIVES=1`): before
/// each of them, the ranks agree on which collective they are in and with which root, so a mismatch
/// throws `.collectiveMismatch` on every rank instead of hanging or mixing the collectives' data.
///
/// On one host the shared-memory channel checks its own collectives always (bcast, reduce,
/// allreduce, gather, scatter, allgather, alltoall, barrier); the others there (scan, exscan) take
/// one data-less channel step when the check is on. Where there is no channel (ranks on several hosts, `--transport tcp`,
/// `SWIFTMPI_SHM_COLLECTIVES=0`) every blocking collective first runs a dissemination of the smallest
/// and largest signature, with the byte count where every rank must pass the same one (bcast,
/// reduce, allreduce, scan, exscan): ⌈log₂ p⌉ rounds of one 24-byte message each way, on a tag of
/// its own. Off by default there, because that costs about one small allreduce per collective.
extension Communicator {
    /// Agrees on `kind` and `root` (and `bytes`, where every rank passes the same count) with every
    /// rank when the check is on (see the extension's comment); throws `.collectiveMismatch`
    /// (`.invalidCount` when only the byte counts differ), on every rank alike, when they disagree.
    func agreeOnSignature(_ kind: CollectiveSignature.Kind, root: Int? = nil, bytes: Int = 0, _ call: StaticString) throws {
        try refuseOnIntercommunicator()  // its messages would go to the other group (and a one-rank group must refuse too)
        guard runtime.checksCollectives, size > 1 else { return }
        let signature = CollectiveSignature(kind, root: root)
        if let shared = state.sharedCollectiveChannel(runtime) { return try shared.agree(signature, runtime, call) }
        let (channel, tag) = nextCollective()
        let mine = UInt64(signature.word) << 32 | UInt64(UInt32(clamping: bytes))
        var known = SignatureRange(mine, rank: rank)
        var distance = 1
        while distance < size {
            var incoming = known
            try withUnsafeBytes(of: known) { try channel.blockingSend($0, to: (rank + distance) % size, tag: tag, mode: .standard, call) }
            let status = try withUnsafeMutableBytes(of: &incoming) {
                try channel.blockingReceive($0, from: (rank - distance + size) % size, tag: tag, call)
            }
            guard status.byteCount == MemoryLayout<SignatureRange>.size else {
                throw MPIError(.internalError, "\(call): a collective agreement of \(status.byteCount) bytes")
            }
            known.merge(incoming)
            distance *= 2
        }
        guard let (theirs, member) = known.other(than: mine) else { return }
        let theirSignature = CollectiveSignature(word: UInt32(truncatingIfNeeded: theirs >> 32))
        guard theirSignature == signature else {
            throw CollectiveSignature.mismatch(call, member: member, theirs: theirSignature, mine: signature, rank: rank)
        }
        throw MPIError(
            .invalidCount,
            "\(call): rank \(member) contributes \(UInt32(truncatingIfNeeded: theirs)) bytes, rank \(rank) \(bytes): the ranks' counts for \(call) do not agree"
        )
    }
}

/// The smallest and the largest (signature, byte count) word seen, each with a rank that holds it
/// (merging is idempotent, so a dissemination spreads it to every rank).
private struct SignatureRange {
    var low: UInt64
    var high: UInt64
    var lowRank: Int32
    var highRank: Int32

    init(_ word: UInt64, rank: Int) {
        (low, high) = (word, word)
        (lowRank, highRank) = (Int32(rank), Int32(rank))
    }

    mutating func merge(_ other: SignatureRange) {
        if other.low < low { (low, lowRank) = (other.low, other.lowRank) }
        if other.high > high { (high, highRank) = (other.high, other.highRank) }
    }

    /// A word that differs from `mine`, and a rank that holds it; nil when all agree.
    func other(than mine: UInt64) -> (UInt64, Int)? {
        if low != mine { return (low, Int(lowRank)) }
        if high != mine { return (high, Int(highRank)) }
        return nil
    }
}
