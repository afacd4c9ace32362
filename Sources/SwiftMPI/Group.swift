/// An ordered set of processes (MPI_Group): rank `i` of the group is `worldRanks[i]`.
///
/// Groups are values; building one is local (no communication). Communicators are made from groups
/// with ``Communicator/create(group:)``.
public struct Group: Sendable, Equatable {
    /// The world rank of each group rank.
    let worldRanks: [Int]
    /// The world rank of the calling process.
    let myWorldRank: Int

    init(worldRanks: [Int], myWorldRank: Int) {
        self.worldRanks = worldRanks
        self.myWorldRank = myWorldRank
    }

    /// The number of processes.
    public var size: Int { worldRanks.count }

    /// The caller's rank in the group, or nil if it is not a member (MPI_UNDEFINED).
    public var rank: Int? { worldRanks.firstIndex(of: myWorldRank) }

    /// The empty group (MPI_GROUP_EMPTY).
    public var empty: Group { Group(worldRanks: [], myWorldRank: myWorldRank) }

    /// The empty group (MPI_GROUP_EMPTY) without a group at hand: a session's code, or a C
    /// program's MPI_GROUP_EMPTY before a world exists. Groups made from it (a union with a
    /// session's group) know the calling process while SwiftMPI runs.
    public static var empty: Group { Group(worldRanks: [], myWorldRank: Runtime.current?.rank ?? -1) }

    /// The group of `ranks` of this group, in that order (MPI_Group_incl).
    ///
    /// Throws `.invalidRank` for a rank outside `0..<size` or a rank given twice. (MPI reports these
    /// as `MPI_ERR_RANK`; the call is therefore spelled `try group.include([0, 2])`.)
    public func include(_ ranks: [Int]) throws(MPIError) -> Group {
        try checkRanks(ranks, "include")
        return Group(worldRanks: ranks.map { worldRanks[$0] }, myWorldRank: myWorldRank)
    }

    /// This group without `ranks`, order kept (MPI_Group_excl). Throws `.invalidRank` for a rank
    /// outside `0..<size` or a rank given twice.
    public func exclude(_ ranks: [Int]) throws(MPIError) -> Group {
        try checkRanks(ranks, "exclude")
        let excluded = Set(ranks)
        return Group(worldRanks: worldRanks.indices.filter { !excluded.contains($0) }.map { worldRanks[$0] }, myWorldRank: myWorldRank)
    }

    /// The group of the ranks in `ranges` (each a strided range, as MPI_Group_range_incl).
    public func include(ranges: [StrideThrough<Int>]) throws(MPIError) -> Group { try include(ranges.flatMap { Array($0) }) }

    /// This group without the ranks in `ranges` (MPI_Group_range_excl).
    public func exclude(ranges: [StrideThrough<Int>]) throws(MPIError) -> Group { try exclude(ranges.flatMap { Array($0) }) }

    private func checkRanks(_ ranks: [Int], _ call: String) throws(MPIError) {
        var seen = Set<Int>()
        for rank in ranks {
            guard rank >= 0 && rank < size else {
                throw MPIError(.invalidRank, "Group.\(call): rank \(rank) is outside 0..<\(size)")
            }
            guard seen.insert(rank).inserted else { throw MPIError(.invalidRank, "Group.\(call): rank \(rank) is given twice") }
        }
    }

    /// All of this group, then the members of `other` not in it (MPI_Group_union).
    public func union(_ other: Group) -> Group {
        let mine = Set(worldRanks)
        return Group(worldRanks: worldRanks + other.worldRanks.filter { !mine.contains($0) }, myWorldRank: myWorldRank)
    }

    /// The members of this group also in `other`, in this group's order (MPI_Group_intersection).
    public func intersection(_ other: Group) -> Group {
        let theirs = Set(other.worldRanks)
        return Group(worldRanks: worldRanks.filter { theirs.contains($0) }, myWorldRank: myWorldRank)
    }

    /// The members of this group not in `other`, in this group's order (MPI_Group_difference).
    public func difference(_ other: Group) -> Group {
        let theirs = Set(other.worldRanks)
        return Group(worldRanks: worldRanks.filter { !theirs.contains($0) }, myWorldRank: myWorldRank)
    }

    /// The ranks in `other` of this group's `ranks`; nil where a process is not in `other`
    /// (MPI_Group_translate_ranks, MPI_UNDEFINED as nil).
    public func translateRanks(_ ranks: [Int], to other: Group) -> [Int?] {
        ranks.map { rank in
            guard rank >= 0 && rank < size else { return nil }
            return other.worldRanks.firstIndex(of: worldRanks[rank])
        }
    }

    /// How two groups relate (MPI_Group_compare).
    public func compare(_ other: Group) -> Comparison {
        if worldRanks == other.worldRanks { return .identical }
        if Set(worldRanks) == Set(other.worldRanks) { return .similar }
        return .unequal
    }

    /// The result of comparing groups or communicators.
    public enum Comparison: Sendable {
        /// The same object (communicators only: the same context).
        case identical
        /// Same members in the same order, different contexts (communicators only).
        case congruent
        /// Same members, different order.
        case similar
        /// Different members.
        case unequal
    }
}
