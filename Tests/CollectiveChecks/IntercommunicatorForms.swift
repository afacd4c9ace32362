import SwiftMPI

/// The v-forms, reduce-scatters, alltoallw and every nonblocking collective across an
/// intercommunicator (the first third of the ranks, at least one, and the rest), each against a
/// serial computation from the world ranks: the groups pass different counts where MPI lets them
/// (alltoallv, reduce-scatter), the nonblocking ones are all started before any is waited for and
/// are waited for in reverse order, an idup completes while a collective overtakes it, and a
/// contribution of the wrong size throws `.invalidCount`.
func checkIntercommunicatorForms(_ world: Communicator) throws {
    let n = world.size, r = world.rank
    guard n >= 2 else { return }
    let split = max(1, n / 3)
    let inFirst = r < split
    let local = try world.split(color: inFirst ? 0 : 1, key: r)!
    let inter = try local.createIntercommunicator(localLeader: 0, peer: world, remoteLeader: inFirst ? split : 0, tag: 98)
    let remote = inFirst ? Array(split..<n) : Array(0..<split)
    let remoteSize = remote.count, me = inter.rank
    let firstRoot = inFirst ? (me == 0 ? MPI.root : MPI.procNull) : 0
    let secondRoot = inFirst ? 0 : (me == 0 ? MPI.root : MPI.procNull)
    let isFirstRoot = inFirst && me == 0, isSecondRoot = !inFirst && me == 0

    // gatherv from the first group at the second group's leader: rank i sends i + 1 values, placed
    // in reverse rank order with a gap of one.
    let gatherCounts = (0..<remoteSize).map { $0 + 1 }
    var gatherDisplacements = [Int](repeating: 0, count: remoteSize)
    var at = 0
    for j in (0..<remoteSize).reversed() { gatherDisplacements[j] = at; at += gatherCounts[j] + 1 }
    let mine = (0...me).map { r * 10 + $0 }
    let gathered = try inter.gatherv(mine, counts: isSecondRoot ? gatherCounts : [], displacements: isSecondRoot ? gatherDisplacements : [], root: secondRoot)
    if isSecondRoot {
        var expected = [Int](repeating: 0, count: at - 1)
        for j in 0..<remoteSize { for k in 0...j { expected[gatherDisplacements[j] + k] = remote[j] * 10 + k } }
        require(gathered == expected, "intercommunicator gatherv: \(gathered ?? [])")
    } else {
        require(gathered == nil, "intercommunicator gatherv off the root")
    }

    // scatterv from the first group's leader: the second group's rank i gets i + 2 values.
    let scatterCounts = isFirstRoot ? (0..<remoteSize).map { $0 + 2 } : (0..<inter.size).map { $0 + 2 }
    let dealtValues = isFirstRoot ? (0..<scatterCounts.reduce(0, +)).map { $0 * 7 } : []
    let part = try inter.scatterv(dealtValues, counts: scatterCounts, root: firstRoot)
    let start = (0..<me).map { $0 + 2 }.reduce(0, +)
    require(inFirst ? part.isEmpty : part == (start..<(start + me + 2)).map { $0 * 7 }, "intercommunicator scatterv: \(part)")

    // allgatherv: rank i of each group contributes i % 3 + 1 copies of its world rank.
    let allCounts = (0..<remoteSize).map { $0 % 3 + 1 }
    let everything = try inter.allgatherv([Int](repeating: r, count: me % 3 + 1), counts: allCounts)
    require(everything == remote.indices.flatMap { [Int](repeating: remote[$0], count: $0 % 3 + 1) }, "intercommunicator allgatherv: \(everything)")

    // alltoallv with the groups sending different counts: the first group one value per rank, the
    // second two.
    let sendEach = inFirst ? 1 : 2, receiveEach = inFirst ? 2 : 1
    let outgoing = (0..<remoteSize).flatMap { j in (0..<sendEach).map { r * 1000 + j * 10 + $0 } }
    let incoming = try inter.alltoallv(
        outgoing, sendCounts: [Int](repeating: sendEach, count: remoteSize), receiveCounts: [Int](repeating: receiveEach, count: remoteSize))
    require(incoming == remote.flatMap { w in (0..<receiveEach).map { w * 1000 + me * 10 + $0 } }, "intercommunicator alltoallv: \(incoming)")

    // reduceScatter: this group's rank i gets i + 1 elements of the other group's sum.
    let ownCounts = (0..<inter.size).map { $0 + 1 }
    let otherTotal = (0..<remoteSize).map { $0 + 1 }.reduce(0, +)
    let scattered = try inter.reduceScatter((0..<otherTotal).map { r + $0 }, counts: ownCounts, op: .sum)
    let offset = (0..<me).map { $0 + 1 }.reduce(0, +)
    let remoteSum = remote.reduce(0, +)
    require(scattered == (offset..<(offset + me + 1)).map { remoteSum + remoteSize * $0 }, "intercommunicator reduceScatter: \(scattered)")
    let blockTotal = 2 * inter.size * remoteSize
    let blocks = try inter.reduceScatterBlock((0..<blockTotal).map { r * $0 }, op: .sum)
    let blockCount = blockTotal / inter.size
    require(blocks == (me * blockCount..<(me + 1) * blockCount).map { remoteSum * $0 }, "intercommunicator reduceScatterBlock: \(blocks)")

    // alltoallw: one Int to each rank of the other group, at byte displacements.
    let int = Datatype(Int.self)
    let stride = MemoryLayout<Int>.stride
    var wide = [Int](repeating: -1, count: remoteSize)
    try inter.alltoallw(
        (0..<remoteSize).map { r * 100 + $0 }, sendCounts: [Int](repeating: 1, count: remoteSize), sendDisplacements: (0..<remoteSize).map { $0 * stride },
        sendTypes: [Datatype](repeating: int, count: remoteSize), into: &wide, receiveCounts: [Int](repeating: 1, count: remoteSize),
        receiveDisplacements: (0..<remoteSize).map { $0 * stride }, receiveTypes: [Datatype](repeating: int, count: remoteSize))
    require(wide == remote.map { $0 * 100 + me }, "intercommunicator alltoallw: \(wide)")

    // Every nonblocking form, all started before any wait, waited for in reverse order.
    let barrier = try inter.ibarrier()
    let bcast = try inter.ibcast(isFirstRoot ? [4, 5, 6] : [0, 0, 0], root: firstRoot)
    let reduce = try inter.ireduce([r, 1], op: .sum, root: secondRoot)
    let allreduce = try inter.iallreduce([r, 1], op: .sum)
    let gather = try inter.igather([r, -r], root: secondRoot)
    let scatter = try inter.iscatter(isFirstRoot ? (0..<(2 * remoteSize)).map { $0 } : [], count: 2, root: firstRoot)
    let allgather = try inter.iallgather([r])
    let alltoall = try inter.ialltoall((0..<remoteSize).map { r * 100 + $0 })
    let gatherv = try inter.igatherv(mine, counts: isSecondRoot ? gatherCounts : [], root: secondRoot)
    let scatterv = try inter.iscatterv(dealtValues, counts: scatterCounts, root: firstRoot)
    let allgatherv = try inter.iallgatherv([Int](repeating: r, count: me % 3 + 1), counts: allCounts)
    let alltoallv = try inter.ialltoallv(
        outgoing, sendCounts: [Int](repeating: sendEach, count: remoteSize), receiveCounts: [Int](repeating: receiveEach, count: remoteSize))
    let reduceScatter = try inter.ireduceScatter((0..<otherTotal).map { r + $0 }, counts: ownCounts, op: .sum)
    let alltoallw = try inter.ialltoallw(
        (0..<remoteSize).map { r * 100 + $0 }, sendCounts: [Int](repeating: 1, count: remoteSize), sendDisplacements: (0..<remoteSize).map { $0 * stride },
        sendTypes: [Datatype](repeating: int, count: remoteSize), into: [Int](repeating: -1, count: remoteSize),
        receiveCounts: [Int](repeating: 1, count: remoteSize), receiveDisplacements: (0..<remoteSize).map { $0 * stride },
        receiveTypes: [Datatype](repeating: int, count: remoteSize))
    require(try alltoallw.wait() == wide, "intercommunicator ialltoallw")
    require(try reduceScatter.wait() == scattered, "intercommunicator ireduceScatter")
    require(try alltoallv.wait() == incoming, "intercommunicator ialltoallv")
    require(try allgatherv.wait() == everything, "intercommunicator iallgatherv")
    require(try scatterv.wait() == part, "intercommunicator iscatterv")
    require(try gatherv.wait() == (isSecondRoot ? remote.indices.flatMap { j in (0...j).map { remote[j] * 10 + $0 } } : nil), "intercommunicator igatherv")
    require(try alltoall.wait() == remote.map { $0 * 100 + me }, "intercommunicator ialltoall")
    require(try allgather.wait() == remote, "intercommunicator iallgather")
    require(try scatter.wait() == (inFirst ? [] : [2 * me, 2 * me + 1]), "intercommunicator iscatter")
    require(try gather.wait() == (isSecondRoot ? remote.flatMap { [$0, -$0] } : nil), "intercommunicator igather")
    require(try allreduce.wait() == [remoteSum, remoteSize], "intercommunicator iallreduce")
    require(try reduce.wait() == (isSecondRoot ? [remoteSum, remoteSize] : nil), "intercommunicator ireduce")
    require(try bcast.wait() == (inFirst && me != 0 ? [0, 0, 0] : [4, 5, 6]), "intercommunicator ibcast")
    try barrier.wait()

    // A nonblocking dup (MPI_Comm_idup) overtaken by a collective on the intercommunicator itself.
    let dup = try inter.startDup()
    require(try inter.allgather([r]) == remote, "intercommunicator allgather while an idup is in flight")
    try dup.request.wait()
    let copy = try dup.finish()
    require(copy.isIntercommunicator && copy.remoteSize == remoteSize && copy.rank == me, "idup of an intercommunicator")
    require(try copy.allreduce([r], op: .sum) == [remoteSum], "allreduce on an intercommunicator's idup")
    copy.free()
    // Swift's awaited idup() of the intercommunicator (the same agreement, awaited).
    awaitTask("idup() of an intercommunicator") {
        let awaited = try await inter.idup()
        require(awaited.isIntercommunicator && awaited.remoteSize == remoteSize, "awaited idup of an intercommunicator")
        let sums = try await awaited.allreduce([r], op: .sum)
        require(sums == [remoteSum], "awaited allreduce on an awaited idup of an intercommunicator")
        awaited.free()
    }

    // The same two groups joined without a parent communicator (MPI_Intercomm_create_from_groups),
    // leaders the last rank of each group.
    let firstGroup = try world.group.include(Array(0..<split)), secondGroup = try world.group.include(Array(split..<n))
    let (localGroup, remoteGroup) = inFirst ? (firstGroup, secondGroup) : (secondGroup, firstGroup)
    let joined = try Communicator(
        localGroup: localGroup, localLeader: localGroup.size - 1, remoteGroup: remoteGroup, remoteLeader: remoteGroup.size - 1, tag: "forms")
    require(joined.isIntercommunicator && joined.remoteSize == remoteSize && joined.rank == me, "an intercommunicator from groups")
    require(try joined.allgather([r]) == remote, "allgather on an intercommunicator from groups")
    requireError(.invalidRank) {
        _ = try Communicator(localGroup: localGroup, localLeader: 0, remoteGroup: remoteGroup, remoteLeader: remoteGroup.size, tag: "bad leader")
    }
    joined.free()

    // A group whose contributions are one element short: the other group's ranks are told.
    let short = try inter.iallreduce(inFirst ? [1] : [1, 2], op: .sum)
    requireError(.invalidCount) { _ = try short.wait() }
    requireError(.invalidArgument) { _ = try inter.iscan([1], op: .sum) }
    try inter.barrier()
    inter.free()
    local.free()
}
