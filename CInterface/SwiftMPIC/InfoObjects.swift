import CMPI
import SwiftMPI

// Info objects (MPI_Info) over SwiftMPI's Info value.

extension CInterface {
    @exclusivity(unchecked) nonisolated(unsafe) static var infos = HandleTable<Info>(.info)

    /// The hints `handle` names (none for MPI_INFO_NULL and MPI_INFO_ENV).
    static func info(_ handle: MPI_Info, allowNull: Bool = true) throws(CError) -> Info {
        if handle == MPI_INFO_ENV || (allowNull && handle == MPI_INFO_NULL) { return Info() }
        guard let info = infos[handle] else { throw CError(MPI_ERR_INFO, "invalid info handle") }
        return info
    }

    static func string(_ pointer: UnsafePointer<CChar>?, _ what: String) throws(CError) -> String {
        guard let pointer else { throw CError(MPI_ERR_ARG, "a null \(what)") }
        return String(cString: pointer)
    }
}

@_cdecl("PMPI_Info_create")
public func mpiInfoCreate(_ info: UnsafeMutablePointer<MPI_Info>?) -> Int32 {
    cCall("MPI_Info_create") {
        guard let info else { throw CError(MPI_ERR_ARG, "a null info pointer") }
        info.pointee = CInterface.infos.insert(Info())
    }
}

/// MPI_Info_create_env: an info of the environment the process started in. SwiftMPI fills in none of
/// MPI's optional keys (command, argv, maxprocs, ...): the info is empty, as MPI allows.
@_cdecl("PMPI_Info_create_env")
public func mpiInfoCreateEnv(
    _ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ info: UnsafeMutablePointer<MPI_Info>?
) -> Int32 {
    cCall("MPI_Info_create_env") {
        guard let info else { throw CError(MPI_ERR_ARG, "a null info pointer") }
        info.pointee = CInterface.infos.insert(Info())
    }
}

@_cdecl("PMPI_Info_free")
public func mpiInfoFree(_ info: UnsafeMutablePointer<MPI_Info>?) -> Int32 {
    cCall("MPI_Info_free") {
        guard let info, CInterface.infos.remove(info.pointee) != nil else { throw CError(MPI_ERR_INFO, "invalid info handle") }
        info.pointee = MPI_INFO_NULL
    }
}

@_cdecl("PMPI_Info_dup")
public func mpiInfoDup(_ info: MPI_Info, _ copy: UnsafeMutablePointer<MPI_Info>?) -> Int32 {
    cCall("MPI_Info_dup") {
        let hints = try CInterface.info(info, allowNull: false)
        guard let copy else { throw CError(MPI_ERR_ARG, "a null info pointer") }
        copy.pointee = CInterface.infos.insert(hints)
    }
}

@_cdecl("PMPI_Info_set")
public func mpiInfoSet(_ info: MPI_Info, _ key: UnsafePointer<CChar>?, _ value: UnsafePointer<CChar>?) -> Int32 {
    cCall("MPI_Info_set") {
        var hints = try CInterface.info(info, allowNull: false)
        let key = try CInterface.string(key, "key"), value = try CInterface.string(value, "value")
        do {
            try hints.set(key, value)
        } catch let error as MPIError {
            throw CError(key.isEmpty || key.count > Info.maxKeyLength ? MPI_ERR_INFO_KEY : MPI_ERR_INFO_VALUE, error.message)
        }
        CInterface.infos[info] = hints
    }
}

@_cdecl("PMPI_Info_delete")
public func mpiInfoDelete(_ info: MPI_Info, _ key: UnsafePointer<CChar>?) -> Int32 {
    cCall("MPI_Info_delete") {
        var hints = try CInterface.info(info, allowNull: false)
        let key = try CInterface.string(key, "key")
        do { try hints.remove(key) } catch let error as MPIError { throw CError(MPI_ERR_INFO_NOKEY, error.message) }
        CInterface.infos[info] = hints
    }
}

@_cdecl("PMPI_Info_get")
public func mpiInfoGet(
    _ info: MPI_Info, _ key: UnsafePointer<CChar>?, _ length: Int32, _ value: UnsafeMutablePointer<CChar>?, _ flag: UnsafeMutablePointer<Int32>?
) -> Int32 {
    cCall("MPI_Info_get") {
        let found = try CInterface.info(info, allowNull: false)[try CInterface.string(key, "key")]
        flag?.pointee = found == nil ? 0 : 1
        if let found { CInterface.copy(found, into: value, capacity: Int(length) + 1, length: nil) }
    }
}

@_cdecl("PMPI_Info_get_valuelen")
public func mpiInfoGetValuelen(
    _ info: MPI_Info, _ key: UnsafePointer<CChar>?, _ length: UnsafeMutablePointer<Int32>?, _ flag: UnsafeMutablePointer<Int32>?
) -> Int32 {
    cCall("MPI_Info_get_valuelen") {
        let found = try CInterface.info(info, allowNull: false)[try CInterface.string(key, "key")]
        flag?.pointee = found == nil ? 0 : 1
        if let found { length?.pointee = Int32(found.utf8.count) }
    }
}

@_cdecl("PMPI_Info_get_nkeys")
public func mpiInfoGetNkeys(_ info: MPI_Info, _ count: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Info_get_nkeys") { count?.pointee = Int32(try CInterface.info(info, allowNull: false).count) }
}

@_cdecl("PMPI_Info_get_nthkey")
public func mpiInfoGetNthkey(_ info: MPI_Info, _ index: Int32, _ key: UnsafeMutablePointer<CChar>?) -> Int32 {
    cCall("MPI_Info_get_nthkey") {
        let keys = try CInterface.info(info, allowNull: false).keys
        guard index >= 0, Int(index) < keys.count else { throw CError(MPI_ERR_ARG, "key \(index) of \(keys.count)") }
        CInterface.copy(keys[Int(index)], into: key, capacity: Info.maxKeyLength + 1, length: nil)
    }
}

@_cdecl("PMPI_Comm_set_info")
public func mpiCommSetInfo(_ comm: MPI_Comm, _ info: MPI_Info) -> Int32 {
    // Hints never change results; SwiftMPI takes its one communicator hint at dup time.
    cCall("MPI_Comm_set_info", on: comm) {
        _ = try CInterface.communicator(comm)
        _ = try CInterface.info(info)
    }
}

@_cdecl("PMPI_Comm_get_info")
public func mpiCommGetInfo(_ comm: MPI_Comm, _ info: UnsafeMutablePointer<MPI_Info>?) -> Int32 {
    cCall("MPI_Comm_get_info", on: comm) {
        guard let info else { throw CError(MPI_ERR_ARG, "a null info pointer") }
        info.pointee = CInterface.infos.insert(try CInterface.communicator(comm).info)
    }
}

@_cdecl("PMPI_Comm_dup_with_info")
public func mpiCommDupWithInfo(_ comm: MPI_Comm, _ info: MPI_Info, _ newComm: UnsafeMutablePointer<MPI_Comm>?) -> Int32 {
    cCall("MPI_Comm_dup_with_info", on: comm) {
        guard let newComm else { throw CError(MPI_ERR_ARG, "a null communicator pointer") }
        newComm.pointee = MPI_COMM_NULL  // what an error leaves (as MPICH does)
        let copy = try CInterface.communicator(comm).dup(info: try CInterface.info(info))
        newComm.pointee = CInterface.insert(copy, from: comm)
        CInterface.adoptAttributes(of: copy, as: newComm.pointee)
        try CInterface.checkCallbacks("copy")
    }
}
