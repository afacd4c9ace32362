import SwiftMPI

/// Intercommunicators between the first third of the ranks (at least one) and the rest:
/// point-to-point across the groups with sources and destinations in the other group, barrier,
/// the rooted bcast, reduce, gather and scatter with MPI.root / MPI.procNull, allreduce, allgather
/// and alltoall across the groups (also in their span forms), a collective it lacks refused with an
/// error, dup, split and create of the intercommunicator, and merge in both orders.
func checkIntercommunicators(_ world: Communicator) throws {
    let n = world.size, r = world.rank
    guard n >= 2 else {
        requireError(.invalidArgument) { _ = try world.merge(high: false) }
        return
    }
    let split = max(1, n / 3)
    let inFirst = r < split
    let local = try world.split(color: inFirst ? 0 : 1, key: r)!
    let inter = try local.createIntercommunicator(localLeader: 0, peer: world, remoteLeader: inFirst ? split : 0, tag: 99)
    let remoteWorldRanks = inFirst ? Array(split..<n) : Array(0..<split)
    let remoteSize = remoteWorldRanks.count
    require(inter.isIntercommunicator && inter.remoteSize == remoteSize && inter.size == local.size && inter.rank == local.rank, "intercommunicator shape")
    require(!world.isIntercommunicator && world.remoteSize == nil && inter.remoteGroup?.size == remoteSize, "remote group")

    // Local rank i sends its world rank to remote rank i % remoteSize; rank k here hears from every
    // remote rank j with j % size == k, with j as the source.
    let sent = try inter.isend([r], to: inter.rank % remoteSize, tag: 5)
    for j in 0..<remoteSize where j % inter.size == inter.rank {
        var value = [-1]
        let status = try inter.recv(into: &value, from: j, tag: 5)
        require(status.source == j && value == [remoteWorldRanks[j]], "intercommunicator message from remote rank \(j): \(value), source \(status.source)")
    }
    try sent.wait()
    requireError(.invalidRank) { try inter.send([1], to: remoteSize, tag: 5) }

    try inter.barrier()
    var buffer = inFirst && inter.rank == 0 ? [7, 8, 9] : [0, 0, 0]
    try inter.bcast(&buffer, root: inFirst ? (inter.rank == 0 ? MPI.root : MPI.procNull) : 0)
    require(buffer == (inFirst && inter.rank != 0 ? [0, 0, 0] : [7, 8, 9]), "intercommunicator bcast: \(buffer)")
    let sums = try inter.allreduce([r, 1], op: .sum)
    require(sums == [remoteWorldRanks.reduce(0, +), remoteSize], "intercommunicator allreduce: \(sums)")
    let everyone = try inter.allgather([r])
    require(everyone == remoteWorldRanks, "intercommunicator allgather: \(everyone)")
    // Rooted collectives: the first group's leader is the root of reduce and scatter, the second
    // group's of gather.
    let firstRoot = inFirst ? (inter.rank == 0 ? MPI.root : MPI.procNull) : 0
    let secondRoot = inFirst ? 0 : (inter.rank == 0 ? MPI.root : MPI.procNull)
    let reduced = try inter.reduce([r, 1], op: .sum, root: firstRoot)
    require(inFirst && inter.rank == 0 ? reduced == [remoteWorldRanks.reduce(0, +), remoteSize] : reduced == nil, "intercommunicator reduce")
    let gathered = try inter.gather([2 * r, 2 * r + 1], root: secondRoot)
    require(!inFirst && inter.rank == 0 ? gathered == remoteWorldRanks.flatMap { [2 * $0, 2 * $0 + 1] } : gathered == nil, "intercommunicator gather")
    let dealt = try inter.scatter(inFirst && inter.rank == 0 ? (0..<(2 * remoteSize)).map { $0 * 3 } : [], root: firstRoot)
    require(inFirst ? dealt.isEmpty : dealt == [6 * inter.rank, 6 * inter.rank + 3], "intercommunicator scatter: \(dealt)")
    let exchanged = try inter.alltoall((0..<remoteSize).map { r * 100 + $0 })
    require(exchanged == remoteWorldRanks.map { $0 * 100 + inter.rank }, "intercommunicator alltoall: \(exchanged)")
    requireError(.invalidRank) { _ = try inter.reduce([1], op: .sum, root: remoteSize) }
    requireError(.invalidArgument) { _ = try inter.scan([1], op: .sum) }

    // The span forms (which the C interface calls) reach the same algorithms.
    var spanSums = [0, 0]
    var spanSumsView = spanSums.mutableSpan
    try inter.allreduce([r, 1].span, into: &spanSumsView, op: .sum)
    _ = consume spanSumsView
    require(spanSums == sums, "intercommunicator allreduce on spans: \(spanSums)")
    var spanGathered = [Int](repeating: -1, count: !inFirst && inter.rank == 0 ? 2 * remoteSize : 0)
    var spanGatheredView = spanGathered.mutableSpan
    try inter.gather([2 * r, 2 * r + 1].span, into: &spanGatheredView, root: secondRoot)
    _ = consume spanGatheredView
    require(!inFirst && inter.rank == 0 ? spanGathered == gathered : spanGathered.isEmpty, "intercommunicator gather on spans: \(spanGathered)")
    var spanReduced = [-1, -1]
    var spanReducedView = spanReduced.mutableSpan
    try inter.reduce([r, 1].span, into: &spanReducedView, op: .sum, root: firstRoot)
    _ = consume spanReducedView
    require(inFirst && inter.rank == 0 ? spanReduced == reduced : spanReduced == [-1, -1], "intercommunicator reduce on spans: \(spanReduced)")

    // dup keeps both groups on a fresh context; split pairs each color's ranks with the other
    // group's of the same color; create joins the groups each side passes.
    let copy = try inter.dup()
    require(copy.isIntercommunicator && copy.remoteSize == remoteSize && copy.rank == inter.rank, "dup of an intercommunicator")
    require(try copy.allgather([r]) == remoteWorldRanks, "allgather on the dup")
    let halves = try inter.split(color: inter.rank % 2, key: -inter.rank)
    let partners = remoteWorldRanks.indices.filter { $0 % 2 == inter.rank % 2 }.sorted { $0 > $1 }.map { remoteWorldRanks[$0] }
    if let half = halves {
        require(
            !partners.isEmpty && half.isIntercommunicator && half.remoteSize == partners.count, "split's remote group: \(half.remoteSize ?? -1) for \(partners)"
        )
        require(try half.allgather([r]) == partners, "allgather on a split intercommunicator (remote ranks by descending key)")
        half.free()
    } else {
        require(partners.isEmpty, "split of an intercommunicator gave nil though the other group has ranks of color \(inter.rank % 2)")
    }
    let leaders = try inter.create(group: try inter.group.include([0]))
    if let pair = leaders {
        require(inter.rank == 0 && pair.isIntercommunicator && pair.size == 1 && pair.remoteSize == 1, "create joins the two leaders")
        require(try pair.allgather([r]) == [remoteWorldRanks[0]], "allgather between the leaders")
        pair.free()
    } else {
        require(inter.rank != 0, "create on an intercommunicator gave the leader nil")
    }
    copy.free()

    let merged = try inter.merge(high: !inFirst)
    require(merged.size == n && merged.rank == r && !merged.isIntercommunicator, "merge with the first group low: rank \(merged.rank)")
    require(try merged.allreduce([1], op: .sum) == [n], "allreduce on the merged communicator")
    let reversed = try inter.merge(high: inFirst)
    require(reversed.rank == (inFirst ? n - split + r : r - split), "merge with the first group high: rank \(reversed.rank)")
    try reversed.barrier()
    reversed.free()
    merged.free()
    inter.free()
    local.free()
}
