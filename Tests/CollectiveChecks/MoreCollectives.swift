// reduceScatterBlock, iexscan, MPI.commSelf and communicator names, against serial computations.
import SwiftMPI

func checkMoreCollectives(_ world: Communicator) throws {
    let n = world.size, r = world.rank
    for block in [0, 1, 5] {
        let values = (0..<(block * n)).map { r * 1000 + $0 }
        let mine = try world.reduceScatterBlock(values, op: .sum)
        let expected = (0..<block).map { k in (0..<n).reduce(0) { $0 + $1 * 1000 + r * block + k } }
        require(mine == expected, "reduceScatterBlock of \(block) per rank: \(mine), expected \(expected)")
    }
    do {
        _ = try world.reduceScatterBlock([Int](repeating: 1, count: n + 1), op: .sum)
        require(n == 1, "reduceScatterBlock of \(n + 1) elements over \(n) ranks accepted")
    } catch let error as MPIError {
        require(error.code == .invalidCount, "reduceScatterBlock count: \(error)")
    }

    var prefix = [Int](repeating: -5, count: 3)
    let contribution = [r + 1, 2 * r, 7]
    try contribution.withUnsafeBufferPointer { input in
        try prefix.withUnsafeMutableBufferPointer { output in _ = try world.iexscan(input, into: output, op: .sum).wait() }
    }
    let expectedPrefix = r == 0 ? [-5, -5, -5] : [r * (r + 1) / 2, r * (r - 1), 7 * r]
    require(prefix == expectedPrefix, "iexscan: \(prefix), expected \(expectedPrefix)")

    let alone = try MPI.commSelf
    require(alone.size == 1 && alone.rank == 0 && alone.name == "self", "MPI.commSelf: rank \(alone.rank) of \(alone.size), \(alone.name)")
    require(try alone.allreduce([r], op: .sum) == [r], "allreduce on MPI.commSelf")
    var echo = [0]
    _ = try alone.sendrecv([r + 40], to: 0, sendTag: 3, into: &echo, from: 0, recvTag: 3)
    require(echo == [r + 40], "sendrecv on MPI.commSelf")
    let again = try MPI.commSelf
    again.name = "mine"
    require(alone.name == "mine", "MPI.commSelf is one communicator")
    // A communicator made after commSelf took a context id still works across the ranks.
    let copy = try world.dup()
    require(world.name == "world" && copy.name.isEmpty, "default names: \(world.name) and '\(copy.name)'")
    copy.name = "copy of world"
    require(copy.name == "copy of world" && world.name == "world", "names are per communicator")
    require(try copy.allreduce([1], op: .sum) == [n], "a communicator made after MPI.commSelf")
}
