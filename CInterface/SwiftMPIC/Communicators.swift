#if canImport(Glibc)
import Glibc
#endif
import CMPI
import SwiftMPI

// Communicator queries, construction, comparison, names and predefined attributes.

@_cdecl("PMPI_Comm_rank")
public func mpiCommRank(_ comm: MPI_Comm, _ rank: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Comm_rank", on: comm) { try output(rank, "rank").pointee = Int32(try CInterface.communicator(comm).rank) }
}

@_cdecl("PMPI_Comm_size")
public func mpiCommSize(_ comm: MPI_Comm, _ size: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Comm_size", on: comm) { try output(size, "size").pointee = Int32(try CInterface.communicator(comm).size) }
}

/// Stores the handle of a new communicator (MPI_COMM_NULL for none).
private func store(_ communicator: Communicator?, from parent: MPI_Comm, into handle: UnsafeMutablePointer<MPI_Comm>?) throws(CError) {
    guard let handle else { throw CError(MPI_ERR_ARG, "a null communicator pointer") }
    handle.pointee = CInterface.insert(communicator, from: parent)
}

@_cdecl("PMPI_Comm_dup")
public func mpiCommDup(_ comm: MPI_Comm, _ newComm: UnsafeMutablePointer<MPI_Comm>?) -> Int32 {
    cCall("MPI_Comm_dup", on: comm) {
        let copy = try CInterface.communicator(comm).dup()
        let copyError = CInterface.takeCallbackError()
        guard copyError == MPI_SUCCESS else {
            // A copy callback failed: there is no duplicate (newcomm is MPI_COMM_NULL, as in MPICH).
            copy.free()
            _ = CInterface.takeCallbackError()  // (the delete callbacks of what was copied)
            newComm?.pointee = MPI_COMM_NULL
            throw CError(copyError, "an attribute copy callback returned error \(copyError)")
        }
        try store(copy, from: comm, into: newComm)
        CInterface.adoptAttributes(of: copy, as: newComm!.pointee)
    }
}

@_cdecl("PMPI_Comm_split")
public func mpiCommSplit(_ comm: MPI_Comm, _ color: Int32, _ key: Int32, _ newComm: UnsafeMutablePointer<MPI_Comm>?) -> Int32 {
    cCall("MPI_Comm_split", on: comm) {
        guard color >= 0 || color == MPI_UNDEFINED else { throw CError(MPI_ERR_ARG, "negative color \(color)") }
        let communicator = try CInterface.communicator(comm)
        let split = try communicator.split(color: color == MPI_UNDEFINED ? MPI.undefined : Int(color), key: Int(key))
        try store(split, from: comm, into: newComm)
    }
}

@_cdecl("PMPI_Comm_split_type")
public func mpiCommSplitType(_ comm: MPI_Comm, _ splitType: Int32, _ key: Int32, _ info: MPI_Info, _ newComm: UnsafeMutablePointer<MPI_Comm>?) -> Int32 {
    cCall("MPI_Comm_split_type", on: comm) {
        let communicator = try CInterface.communicator(comm)
        switch splitType {
        case MPI_UNDEFINED:
            // This rank takes part in the split but joins no communicator.
            _ = try communicator.split(color: MPI.undefined, key: Int(key))
            try store(nil, from: comm, into: newComm)
        case MPI_COMM_TYPE_SHARED:
            try store(try communicator.splitType(.shared, key: Int(key)), from: comm, into: newComm)
        case 2 where (try? CInterface.info(info))?["mpi_hw_resource_type"] == "mpi_shared_memory":
            // MPI_COMM_TYPE_HW_GUIDED asking for the shared-memory level: the host, as MPI_COMM_TYPE_SHARED.
            try store(try communicator.splitType(.shared, key: Int(key)), from: comm, into: newComm)
        case 2, 3, 4:
            // MPI_COMM_TYPE_HW_GUIDED, MPI_COMM_TYPE_HW_UNGUIDED, MPIX_COMM_TYPE_NEIGHBORHOOD: SwiftMPI
            // knows no finer hardware level than the host, so every rank gets MPI_COMM_NULL, as MPI
            // allows when no (further) split applies.
            _ = try communicator.split(color: MPI.undefined, key: Int(key))
            try store(nil, from: comm, into: newComm)
        default:
            throw CError(MPI_ERR_ARG, "split type \(splitType) is not an MPI_COMM_TYPE_ constant")
        }
    }
}

@_cdecl("PMPI_Comm_free")
public func mpiCommFree(_ comm: UnsafeMutablePointer<MPI_Comm>?) -> Int32 {
    var unreceived = 0, handler = MPI_ERRORS_ARE_FATAL, freed = MPI_COMM_NULL
    let status = cCall("MPI_Comm_free", on: comm?.pointee ?? MPI_COMM_WORLD) {
        guard let comm else { throw CError(MPI_ERR_ARG, "a null communicator pointer") }
        guard comm.pointee != MPI_COMM_WORLD, comm.pointee != MPI_COMM_SELF else {
            throw CError(MPI_ERR_COMM, "MPI_COMM_WORLD and MPI_COMM_SELF cannot be freed")
        }
        _ = try CInterface.communicator(comm.pointee)
        // The attributes go first, the last set first, while the handle is still valid: a delete
        // callback may use it (MPI_Comm_get_attr); one that fails fails the call.
        CInterface.deleteAttributes(of: comm.pointee)
        try CInterface.checkCallbacks("delete")
        handler = CInterface.errorHandler(of: comm.pointee)  // read while the handle is valid
        freed = comm.pointee
        guard let communicator = CInterface.remove(comm.pointee) else { return }
        unreceived = communicator.free()
        comm.pointee = MPI_COMM_NULL
    }
    guard status == MPI_SUCCESS, unreceived > 0 else { return status }
    // The communicator is gone; its handler still judges this.
    return CInterface.raise(
        CError(MPI_ERR_OTHER, "\(unreceived) message(s) sent to this rank on the communicator were never received; they are dropped"),
        in: "MPI_Comm_free", handler: handler, object: freed)
}

@_cdecl("PMPI_Comm_disconnect")
public func mpiCommDisconnect(_ comm: UnsafeMutablePointer<MPI_Comm>?) -> Int32 {
    // Collective: a barrier (every rank has stopped using the communicator for its part), then as
    // MPI_Comm_free. SwiftMPI does not track a communicator's pending operations; the program
    // completes its own first, which MPI requires of MPI_Comm_free's caller anyway (docs/C-ABI.md).
    let synchronized = cCall("MPI_Comm_disconnect", on: comm?.pointee ?? MPI_COMM_WORLD) {
        guard let comm else { throw CError(MPI_ERR_ARG, "a null communicator pointer") }
        try CInterface.communicator(comm.pointee).barrier()
    }
    return synchronized == MPI_SUCCESS ? mpiCommFree(comm) : synchronized
}

@_cdecl("PMPI_Comm_compare")
public func mpiCommCompare(_ comm1: MPI_Comm, _ comm2: MPI_Comm, _ result: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Comm_compare", on: comm1) {
        let comparison = try CInterface.communicator(comm1).compare(try CInterface.communicator(comm2))
        result?.pointee =
            switch comparison {
            case .identical: MPI_IDENT
            case .congruent: MPI_CONGRUENT
            case .similar: MPI_SIMILAR
            case .unequal: MPI_UNEQUAL
            }
    }
}

@_cdecl("PMPI_Comm_test_inter")
public func mpiCommTestInter(_ comm: MPI_Comm, _ flag: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Comm_test_inter", on: comm) { try output(flag, "flag").pointee = try CInterface.communicator(comm).isIntercommunicator ? 1 : 0 }
}

@_cdecl("PMPI_Comm_set_name")
public func mpiCommSetName(_ comm: MPI_Comm, _ name: UnsafePointer<CChar>?) -> Int32 {
    cCall("MPI_Comm_set_name", on: comm) {
        guard let name else { throw CError(MPI_ERR_ARG, "a null name") }
        try CInterface.communicator(comm).name = String(cString: name)
    }
}

@_cdecl("PMPI_Comm_get_name")
public func mpiCommGetName(_ comm: MPI_Comm, _ name: UnsafeMutablePointer<CChar>?, _ length: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Comm_get_name", on: comm) {
        // World and self answer with MPI's names until the program sets others (Swift calls them
        // "world" and "self").
        let given = try CInterface.communicator(comm).name
        let text =
            switch comm {
            case MPI_COMM_WORLD where given == "world": "MPI_COMM_WORLD"
            case MPI_COMM_SELF where given == "self" || given.isEmpty: "MPI_COMM_SELF"
            default: given
            }
        CInterface.copy(text, into: name, capacity: Int(MPI_MAX_OBJECT_NAME), length: length)
    }
}

extension CInterface {
    /// The values of the predefined attributes, at stable addresses (MPI_Comm_get_attr returns
    /// pointers to them).
    nonisolated(unsafe) static let predefinedAttributes: UnsafeMutablePointer<Int32> = {
        let values = UnsafeMutablePointer<Int32>.allocate(capacity: 7)
        values[0] = Int32(MPI.tagUpperBound)
        values[1] = MPI_PROC_NULL  // MPI_HOST
        values[2] = MPI_ANY_SOURCE  // MPI_IO: every rank can do I/O
        values[3] = MPI.wtimeIsGlobal ? 1 : 0
        values[4] = Int32(MPI.appNumber)  // MPI_APPNUM
        values[5] = 1  // MPI_UNIVERSE_SIZE, set when asked
        values[6] = MPI_ERR_LASTCODE  // MPI_LASTUSEDCODE, set when asked
        return values
    }()
}

@_cdecl("PMPI_Comm_get_attr")
public func mpiCommGetAttr(_ comm: MPI_Comm, _ keyval: Int32, _ value: UnsafeMutableRawPointer?, _ flag: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Comm_get_attr", on: comm) {
        _ = try CInterface.communicator(comm)
        let values = CInterface.predefinedAttributes
        let pointer: UnsafeMutablePointer<Int32>?
        switch keyval {
        case MPI_TAG_UB: pointer = values
        case MPI_HOST: pointer = values + 1
        case MPI_IO: pointer = values + 2
        case MPI_WTIME_IS_GLOBAL: pointer = values + 3
        case MPI_APPNUM: pointer = values + 4
        case MPI_UNIVERSE_SIZE:
            let size = Int32(MPI.universeSize ?? 1)
            CInterfaceLock.withLock { values[5] = size }
            pointer = values + 5
        case MPI_LASTUSEDCODE:
            CInterfaceLock.withLock { values[6] = CInterface.nextErrorCode - 1 }
            pointer = values + 6
        default:
            guard let (found, stored) = try CInterface.programAttribute(comm, keyval) else {
                throw CError(MPI_ERR_KEYVAL, "invalid attribute key \(keyval)")
            }
            flag?.pointee = found ? 1 : 0
            if found { value?.storeBytes(of: stored, as: UnsafeMutableRawPointer?.self) }
            return
        }
        flag?.pointee = pointer == nil ? 0 : 1
        if let pointer { value?.storeBytes(of: UnsafeMutableRawPointer(pointer), as: UnsafeMutableRawPointer.self) }
    }
}

@_cdecl("PMPI_Comm_get_parent")
public func mpiCommGetParent(_ parent: UnsafeMutablePointer<MPI_Comm>?) -> Int32 {
    // No process is started by MPI_Comm_spawn (not supported yet), so none has a parent.
    parent?.pointee = MPI_COMM_NULL
    return MPI_SUCCESS
}
