import SwiftMPI

/// Intercommunicators between the first third of the ranks (at least one) and the rest:
/// point-to-point across the groups with sources and destinations in the other group, barrier,
/// the rooted bcast, reduce, gather and scatter with MPI.root / MPI.procNull, allreduce, allgather
/// and alltoall across the groups, a collective it lacks refused with an error, and merge in both
/// orders.
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
