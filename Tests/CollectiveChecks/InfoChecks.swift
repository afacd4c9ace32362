import SwiftMPI

/// Info objects follow MPI's key rules, and a communicator's hints: `dup(info:)` with shared-memory
/// collectives turned off (by one rank only: still one communicator, off for all) runs its
/// collectives by messages, correctly, and its `dup` keeps the hint.
func checkInfo(_ world: Communicator) throws {
    var info = Info()
    try info.set("  cb_nodes ", " 4 ")
    require(info["cb_nodes"] == "4" && info[" cb_nodes "] == "4" && info.keys == ["cb_nodes"], "Info trims keys and values: \(info.keys)")
    try info.set("cb_nodes", "8")
    try info.set("Striping_Unit", "1048576")
    require(info["cb_nodes"] == "8" && info.count == 2 && info["striping_unit"] == nil, "Info replaces values; keys are case-sensitive")
    requireError(.invalidArgument) { try info.set("   ", "x") }
    requireError(.invalidArgument) { try info.set(String(repeating: "k", count: Info.maxKeyLength + 1), "x") }
    requireError(.invalidArgument) { try info.set("k", String(repeating: "v", count: Info.maxValueLength + 1)) }
    try info.set(String(repeating: "k", count: Info.maxKeyLength), String(repeating: "v", count: Info.maxValueLength))
    require(info.count == 3 && info.keys.first == "cb_nodes", "Info keeps keys in the order first set: \(info.keys.map(\.count))")
    try info.remove("cb_nodes")
    requireError(.invalidArgument) { try info.remove("cb_nodes") }
    require(try Info(["a": "1", "b": "2"]) == (try Info(["b": "2", "a": "1"])), "Info equality ignores order")
    let environment = Info.environment
    require(environment["maxprocs"] == "\(world.size)" && environment["command"] != nil, "Info.environment: \(Array(environment))")

    let hint = Communicator.sharedMemoryCollectivesHint
    require(world.info[hint] == "true", "the world's hints: \(Array(world.info))")
    let byMessages = try world.dup(info: try Info([hint: world.rank == 0 ? "false" : "true"]))
    require(byMessages.info[hint] == "false", "dup(info:) with the hint off on rank 0: \(Array(byMessages.info))")
    for count in [1, 100, 5000] {
        let sums = try byMessages.allreduce([Int](repeating: world.rank + 1, count: count), op: .sum)
        require(sums == [Int](repeating: world.size * (world.size + 1) / 2, count: count), "allreduce by messages (\(count))")
        var value = [world.rank == 0 ? 42 : 0]
        try byMessages.bcast(&value, root: 0)
        require(value == [42], "bcast by messages")
        try byMessages.barrier()
    }
    let copy = try byMessages.dup()
    require(copy.info[hint] == "false", "dup keeps the hints")
    require(try world.dup(info: Info()).info[hint] == "true", "dup(info:) without the hint")
    copy.free()
    byMessages.free()
}
