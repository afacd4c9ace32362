import SwiftMPI

/// MPI's progress rule for nonblocking collectives: each rank starts the same ones in the same
/// order on two communicators, then even ranks wait for them first to last and odd ranks last to
/// first. Waiting on one must move the others on (their later steps need this rank), or the ranks
/// wait for each other forever (as they did when a schedule advanced only when its own request was
/// tested or waited on).
func checkCompletionOrder(_ world: Communicator) throws {
    let n = world.size, r = world.rank
    // Collectives by messages (multi-step schedules), not through the shared-memory channel.
    let messages = try Info([Communicator.sharedMemoryCollectivesHint: "false"])
    let first = try world.dup(info: messages)
    let other = try world.dup(info: messages)
    var broadcast = [Int](repeating: r == 0 ? 42 : 0, count: 1000)
    try broadcast.withUnsafeMutableBufferPointer { buffer in
        let barrier = try first.ibarrier()
        let bcast = try other.ibcast(buffer, root: 0)
        let sum = try first.iallreduce([Double](repeating: Double(r), count: 5000), op: .sum)
        let maximum = try other.iallreduce([r, -r], op: .max)
        let otherBarrier = try other.ibarrier()
        let requests = [barrier, bcast, sum.request, maximum.request, otherBarrier]
        for request in r % 2 == 0 ? requests : requests.reversed() { try request.wait() }
        require(try sum.wait() == [Double](repeating: Double(n * (n - 1) / 2), count: 5000), "iallreduce completed out of order")
        require(try maximum.wait() == [n - 1, 0], "iallreduce on the other communicator completed out of order")
    }
    require(broadcast.allSatisfy { $0 == 42 }, "ibcast completed out of order")
    other.free()
    first.free()
}

/// Persistent collectives on one communicator, made in the same order everywhere and started in
/// different orders (rank 0 the broadcast first, the others the allreduce first): they match by
/// their making (MPI-4.1), and both give the serial result, twice.
func checkPersistentStartOrder(_ world: Communicator) throws {
    let n = world.size, r = world.rank
    var value = [r == 0 ? 42 : -1]
    var sum = [0]
    try value.withUnsafeMutableBufferPointer { broadcast in
        try [r + 1].withUnsafeBufferPointer { contribution in
            try sum.withUnsafeMutableBufferPointer { total in
                let bcast = try world.bcastInit(broadcast, root: 0)
                let allreduce = world.allreduceInit(contribution, into: total, op: .sum)
                for round in 0..<2 {
                    if round == 1 && r != 0 { broadcast[0] = -1 }
                    let order = r == 0 ? [bcast, allreduce] : [allreduce, bcast]
                    for request in order { try request.start() }
                    _ = try Request.waitAll(order)
                    require(broadcast[0] == 42 && total[0] == n * (n + 1) / 2, "persistent collectives started in different orders, round \(round)")
                }
            }
        }
    }
}
