/// Which collective a rank is in and with which root, as one 32-bit word: every rank publishes it
/// with each step of a communicator's shared-memory channel (and, under
/// `SWIFTMPI_CHECK_COLLECTIVES=1`, exchanges it before every collective that uses messages only), and
/// every rank compares the members' words with its own, so ranks that called different collectives,
/// or the same one with different roots, at the same point all throw `.collectiveMismatch` instead
/// of succeeding with wrong data or waiting for each other forever.
///
/// Layout: kind in bits 24–31, root + 1 in bits 0–23 (0: no root; roots from 2²⁴ − 1 on share the
/// top value, so they are compared only up to that).
struct CollectiveSignature: Equatable {
    /// The collectives, as the user calls them (v-forms share their collective's kind).
    enum Kind: UInt32 {
        case barrier = 1, bcast, reduce, allreduce, gather, scatter, allgather, alltoall, scan, exscan

        /// The call's name, as the user wrote it.
        var name: String {
            switch self {
            case .barrier: "barrier"
            case .bcast: "bcast"
            case .reduce: "reduce"
            case .allreduce: "allreduce"
            case .gather: "gather"
            case .scatter: "scatter"
            case .allgather: "allgather"
            case .alltoall: "alltoall"
            case .scan: "scan"
            case .exscan: "exscan"
            }
        }
    }

    /// The encoded word (see the type's comment).
    let word: UInt32

    private static let rootMask: UInt32 = 0xFF_FFFF

    /// The signature of `kind`, with `root` for rooted collectives.
    @inline(__always)
    init(_ kind: Kind, root: Int? = nil) {
        let rootBits = root.map { UInt32(min($0 + 1, Int(Self.rootMask))) } ?? 0
        word = kind.rawValue << 24 | rootBits
    }

    /// The signature another rank published.
    init(word: UInt32) { self.word = word }

    /// `, root R` in a hang report of a rooted collective, empty otherwise (made only when a report is).
    static func reportText(root: Int?) -> String { root.map { ", root \($0)" } ?? "" }

    /// The root this signature names (nil: none, or one beyond the 24 bits kept).
    var root: Int? {
        let rootBits = word & Self.rootMask
        return rootBits == 0 || rootBits == Self.rootMask ? nil : Int(rootBits - 1)
    }

    /// The call as the user wrote it, e.g. `bcast(root: 1)`; `a collective unknown to this rank` for
    /// a word that names no kind (a corrupted or foreign channel).
    var call: String {
        guard let kind = Kind(rawValue: word >> 24) else { return "a collective unknown to this rank (\(word))" }
        let rootBits = word & Self.rootMask
        guard rootBits > 0 else { return kind.name }
        return rootBits == Self.rootMask ? "\(kind.name)(root: ≥ \(rootBits - 1))" : "\(kind.name)(root: \(rootBits - 1))"
    }

    /// The error every rank throws when `member`'s signature (`theirs`) differs from this rank's.
    static func mismatch(_ call: StaticString, member: Int, theirs: CollectiveSignature, mine: CollectiveSignature, rank: Int) -> MPIError {
        MPIError(
            .collectiveMismatch,
            "\(call): rank \(member) of this communicator called \(theirs.call) where this rank (\(rank)) called \(mine.call): "
                + "the ranks' collectives do not agree (each rank must call the same collectives in the same order, with the same root)")
    }
}
