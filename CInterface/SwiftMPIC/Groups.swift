import CMPI
import SwiftMPI

// Groups (MPI_Group), and communicators made from them.

extension CInterface {
    @exclusivity(unchecked) nonisolated(unsafe) static var groups = HandleTable<Group>(.group)

    /// The group `handle` names (MPI_GROUP_EMPTY included).
    static func group(_ handle: MPI_Group) throws(CError) -> Group {
        if handle == MPI_GROUP_EMPTY { return Group.empty }
        guard let group = groups[handle] else {
            throw CError(MPI_ERR_GROUP, handle == MPI_GROUP_NULL ? "MPI_GROUP_NULL is not a group" : "invalid group handle")
        }
        return group
    }

    static func storeGroup(_ group: Group, into handle: UnsafeMutablePointer<MPI_Group>?) throws(CError) {
        guard let handle else { throw CError(MPI_ERR_ARG, "a null group pointer") }
        handle.pointee = group.size == 0 ? MPI_GROUP_EMPTY : groups.insert(group)
    }

    static func comparison(_ value: Group.Comparison, groups: Bool) -> Int32 {
        switch value {
        case .identical: MPI_IDENT
        case .congruent: groups ? MPI_IDENT : MPI_CONGRUENT
        case .similar: MPI_SIMILAR
        case .unequal: MPI_UNEQUAL
        }
    }
}

@_cdecl("PMPI_Comm_group")
public func mpiCommGroup(_ comm: MPI_Comm, _ group: UnsafeMutablePointer<MPI_Group>?) -> Int32 {
    cCall("MPI_Comm_group", on: comm) { try CInterface.storeGroup(try CInterface.communicator(comm).group, into: group) }
}

@_cdecl("PMPI_Comm_remote_group")
public func mpiCommRemoteGroup(_ comm: MPI_Comm, _ group: UnsafeMutablePointer<MPI_Group>?) -> Int32 {
    cCall("MPI_Comm_remote_group", on: comm) {
        guard let remote = try CInterface.communicator(comm).remoteGroup else { throw CError(MPI_ERR_COMM, "not an intercommunicator") }
        try CInterface.storeGroup(remote, into: group)
    }
}

@_cdecl("PMPI_Comm_remote_size")
public func mpiCommRemoteSize(_ comm: MPI_Comm, _ size: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Comm_remote_size", on: comm) {
        guard let remote = try CInterface.communicator(comm).remoteSize else { throw CError(MPI_ERR_COMM, "not an intercommunicator") }
        size?.pointee = Int32(remote)
    }
}

@_cdecl("PMPI_Group_size")
public func mpiGroupSize(_ group: MPI_Group, _ size: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Group_size") { try output(size, "size").pointee = Int32(try CInterface.group(group).size) }
}

@_cdecl("PMPI_Group_rank")
public func mpiGroupRank(_ group: MPI_Group, _ rank: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Group_rank") { try output(rank, "rank").pointee = try CInterface.group(group).rank.map { Int32($0) } ?? MPI_UNDEFINED }
}

@_cdecl("PMPI_Group_free")
public func mpiGroupFree(_ group: UnsafeMutablePointer<MPI_Group>?) -> Int32 {
    cCall("MPI_Group_free") {
        guard let group else { throw CError(MPI_ERR_ARG, "a null group pointer") }
        if group.pointee != MPI_GROUP_EMPTY, CInterface.groups.remove(group.pointee) == nil { throw CError(MPI_ERR_GROUP, "invalid group handle") }
        group.pointee = MPI_GROUP_NULL
    }
}

private func ranks(_ count: Int32, _ ranks: UnsafePointer<Int32>?) throws(CError) -> [Int] {
    try CInterface.array(ranks, count) { (rank: Int32) throws(CError) in Int(rank) }
}

@_cdecl("PMPI_Group_incl")
public func mpiGroupIncl(_ group: MPI_Group, _ count: Int32, _ members: UnsafePointer<Int32>?, _ newGroup: UnsafeMutablePointer<MPI_Group>?) -> Int32 {
    cCall("MPI_Group_incl") { try CInterface.storeGroup(try CInterface.group(group).include(try ranks(count, members)), into: newGroup) }
}

@_cdecl("PMPI_Group_excl")
public func mpiGroupExcl(_ group: MPI_Group, _ count: Int32, _ members: UnsafePointer<Int32>?, _ newGroup: UnsafeMutablePointer<MPI_Group>?) -> Int32 {
    cCall("MPI_Group_excl") { try CInterface.storeGroup(try CInterface.group(group).exclude(try ranks(count, members)), into: newGroup) }
}

/// MPI's (first, last, stride) triplets as strides.
private func ranges(_ count: Int32, _ triplets: UnsafePointer<Int32>?) throws(CError) -> [StrideThrough<Int>] {
    guard count >= 0, count <= Int32.max / 3 else { throw CError(MPI_ERR_ARG, "\(count) ranges") }
    let flat = try CInterface.array(triplets, count * 3) { (value: Int32) throws(CError) in Int(value) }
    var result: [StrideThrough<Int>] = []
    for index in stride(from: 0, to: flat.count, by: 3) {
        guard flat[index + 2] != 0 else { throw CError(MPI_ERR_ARG, "a range with stride 0") }
        result.append(stride(from: flat[index], through: flat[index + 1], by: flat[index + 2]))
    }
    return result
}

@_cdecl("PMPI_Group_range_incl")
public func mpiGroupRangeIncl(_ group: MPI_Group, _ count: Int32, _ triplets: UnsafePointer<Int32>?, _ newGroup: UnsafeMutablePointer<MPI_Group>?) -> Int32 {
    cCall("MPI_Group_range_incl") { try CInterface.storeGroup(try CInterface.group(group).include(ranges: try ranges(count, triplets)), into: newGroup) }
}

@_cdecl("PMPI_Group_range_excl")
public func mpiGroupRangeExcl(_ group: MPI_Group, _ count: Int32, _ triplets: UnsafePointer<Int32>?, _ newGroup: UnsafeMutablePointer<MPI_Group>?) -> Int32 {
    cCall("MPI_Group_range_excl") { try CInterface.storeGroup(try CInterface.group(group).exclude(ranges: try ranges(count, triplets)), into: newGroup) }
}

@_cdecl("PMPI_Group_union")
public func mpiGroupUnion(_ first: MPI_Group, _ second: MPI_Group, _ newGroup: UnsafeMutablePointer<MPI_Group>?) -> Int32 {
    cCall("MPI_Group_union") { try CInterface.storeGroup(try CInterface.group(first).union(try CInterface.group(second)), into: newGroup) }
}

@_cdecl("PMPI_Group_intersection")
public func mpiGroupIntersection(_ first: MPI_Group, _ second: MPI_Group, _ newGroup: UnsafeMutablePointer<MPI_Group>?) -> Int32 {
    cCall("MPI_Group_intersection") {
        try CInterface.storeGroup(try CInterface.group(first).intersection(try CInterface.group(second)), into: newGroup)
    }
}

@_cdecl("PMPI_Group_difference")
public func mpiGroupDifference(_ first: MPI_Group, _ second: MPI_Group, _ newGroup: UnsafeMutablePointer<MPI_Group>?) -> Int32 {
    cCall("MPI_Group_difference") {
        try CInterface.storeGroup(try CInterface.group(first).difference(try CInterface.group(second)), into: newGroup)
    }
}

@_cdecl("PMPI_Group_compare")
public func mpiGroupCompare(_ first: MPI_Group, _ second: MPI_Group, _ result: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Group_compare") {
        try output(result, "result").pointee = CInterface.comparison(try CInterface.group(first).compare(try CInterface.group(second)), groups: true)
    }
}

@_cdecl("PMPI_Group_translate_ranks")
public func mpiGroupTranslateRanks(
    _ first: MPI_Group, _ count: Int32, _ members: UnsafePointer<Int32>?, _ second: MPI_Group, _ translated: UnsafeMutablePointer<Int32>?
) -> Int32 {
    cCall("MPI_Group_translate_ranks") {
        let from = try CInterface.group(first), to = try CInterface.group(second)
        let input = try ranks(count, members)
        let translated = input.isEmpty ? translated : try output(translated, "ranks2")
        for rank in input where rank != Int(MPI_PROC_NULL) && !(0..<from.size).contains(rank) {
            throw CError(MPI_ERR_RANK, "rank \(rank) is not in the group of \(from.size)")
        }
        let result = from.translateRanks(input.map { $0 == Int(MPI_PROC_NULL) ? 0 : $0 }, to: to)
        for (index, rank) in input.enumerated() {
            translated?[index] = rank == Int(MPI_PROC_NULL) ? MPI_PROC_NULL : result[index].map { Int32($0) } ?? MPI_UNDEFINED
        }
    }
}

@_cdecl("PMPI_Comm_create")
public func mpiCommCreate(_ comm: MPI_Comm, _ group: MPI_Group, _ newComm: UnsafeMutablePointer<MPI_Comm>?) -> Int32 {
    cCall("MPI_Comm_create", on: comm) {
        guard let newComm else { throw CError(MPI_ERR_ARG, "a null communicator pointer") }
        newComm.pointee = MPI_COMM_NULL  // what an error leaves (as MPICH does)
        newComm.pointee = CInterface.insert(try CInterface.communicator(comm).create(group: try CInterface.group(group)), from: comm)
    }
}

@_cdecl("PMPI_Comm_create_group")
public func mpiCommCreateGroup(_ comm: MPI_Comm, _ group: MPI_Group, _ tag: Int32, _ newComm: UnsafeMutablePointer<MPI_Comm>?) -> Int32 {
    cCall("MPI_Comm_create_group", on: comm) {
        guard let newComm else { throw CError(MPI_ERR_ARG, "a null communicator pointer") }
        newComm.pointee = MPI_COMM_NULL  // what an error leaves (as MPICH does)
        let members = try CInterface.group(group)
        guard members.rank != nil else {
            newComm.pointee = MPI_COMM_NULL
            return
        }
        newComm.pointee = CInterface.insert(try CInterface.communicator(comm).createGroup(members, tag: Int(tag)), from: comm)
    }
}

@_cdecl("PMPI_Comm_create_from_group")
public func mpiCommCreateFromGroup(
    _ group: MPI_Group, _ stringtag: UnsafePointer<CChar>?, _ info: MPI_Info, _ errhandler: MPI_Errhandler, _ newComm: UnsafeMutablePointer<MPI_Comm>?
) -> Int32 {
    // Errors go to the handler the call names (there is no communicator yet).
    cCall("MPI_Comm_create_from_group", handler: errhandler, object: MPI_COMM_NULL) {
        guard let newComm else { throw CError(MPI_ERR_ARG, "a null communicator pointer") }
        newComm.pointee = MPI_COMM_NULL  // what an error leaves (as MPICH does)
        let members = try CInterface.group(group)
        // MPI-4.1 §7.4.2: a process not in any group calls with MPI_GROUP_EMPTY and gets MPI_COMM_NULL.
        if members.size == 0 { return }  // (newComm is MPI_COMM_NULL already)
        guard members.rank != nil else { throw CError(MPI_ERR_GROUP, "the calling rank is not in the group") }
        _ = try CInterface.info(info)
        try CInterface.checkErrorHandler(errhandler)
        // Made by the group's members alone: no world needed (a session's process sets).
        let made = try Communicator(group: members, tag: try CInterface.string(stringtag, "stringtag"))
        newComm.pointee = CInterface.insert(made, from: MPI_COMM_WORLD)
        try CInterface.entry(newComm.pointee).takeUnretainedValue().errorHandler = errhandler
    }
}

@_cdecl("PMPI_Intercomm_create_from_groups")
public func mpiIntercommCreateFromGroups(
    _ localGroup: MPI_Group, _ localLeader: Int32, _ remoteGroup: MPI_Group, _ remoteLeader: Int32, _ stringtag: UnsafePointer<CChar>?, _ info: MPI_Info,
    _ errhandler: MPI_Errhandler, _ newIntercomm: UnsafeMutablePointer<MPI_Comm>?
) -> Int32 {
    // Errors go to the handler the call names (there is no communicator yet).
    cCall("MPI_Intercomm_create_from_groups", handler: errhandler, object: MPI_COMM_NULL) {
        guard let newIntercomm else { throw CError(MPI_ERR_ARG, "a null communicator pointer") }
        let local = try CInterface.group(localGroup), remote = try CInterface.group(remoteGroup)
        guard local.rank != nil else { throw CError(MPI_ERR_GROUP, "the calling rank is not in the local group") }
        _ = try CInterface.info(info)
        try CInterface.checkErrorHandler(errhandler)
        let made = try Communicator(
            localGroup: local, localLeader: Int(localLeader), remoteGroup: remote, remoteLeader: Int(remoteLeader),
            tag: try CInterface.string(stringtag, "stringtag"))
        newIntercomm.pointee = CInterface.insert(made, from: MPI_COMM_WORLD)
        try CInterface.entry(newIntercomm.pointee).takeUnretainedValue().errorHandler = errhandler
    }
}
