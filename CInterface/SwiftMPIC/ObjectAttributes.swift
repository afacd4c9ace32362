import CMPI
import SwiftMPI

// Attribute caching on datatypes and windows (MPI_Type_create_keyval, MPI_Win_create_keyval and
// their set, get, delete and free calls). A C-only feature: SwiftMPI's datatypes are values (a
// Swift program keeps what it wants beside them), so the C layer keeps these attributes itself, by
// object handle, with MPI's rules: MPI_Type_dup copies them through the copy callbacks, freeing the
// object deletes them (the last set first) through the delete callbacks, and a callback that
// returns an error fails the call and leaves the attribute as it was. A keyval stays valid for the
// attributes stored under it after MPI_Type_free_keyval / MPI_Win_free_keyval (as comm keyvals do).

/// The program's callbacks of a datatype or window keyval (the C signatures are a communicator
/// keyval's with the object's handle, an int as MPI_Comm is).
struct CObjectKeyval {
    enum Kind { case datatype, window }
    let kind: Kind
    let copy: CCopyFunction?
    let delete: CDeleteFunction?
    let extraState: UnsafeMutableRawPointer?
}

extension CInterface {
    @exclusivity(unchecked) nonisolated(unsafe) static var objectKeyvals = HandleTable<CObjectKeyval>(.keyval, for: .datatype)

    /// A datatype or window, for its attributes.
    struct AttributedObject: Hashable {
        let kind: CObjectKeyval.Kind
        let handle: Int32
    }

    /// The values stored on datatypes and windows, by keyval, each with when it was set (read and
    /// changed under ``CInterfaceLock``, through ``objectAttributes(_:)`` and
    /// ``setObjectAttributes(_:_:)``).
    @exclusivity(unchecked) nonisolated(unsafe) private static var objectAttributes:
        [AttributedObject: [Int32: (value: UnsafeMutableRawPointer?, order: Int)]] = [:]

    /// `object`'s attributes.
    private static func objectAttributes(_ object: AttributedObject) -> [Int32: (value: UnsafeMutableRawPointer?, order: Int)]? {
        CInterfaceLock.withLock { objectAttributes[object] }
    }

    /// Sets (`value`) or removes (nil) `object`'s attribute under `keyval`.
    private static func setObjectAttribute(_ object: AttributedObject, _ keyval: Int32, to value: UnsafeMutableRawPointer??) {
        CInterfaceLock.withLock {
            if let value {
                objectAttributes[object, default: [:]][keyval] = (value, nextAttributeOrder())
            } else {
                objectAttributes[object]?[keyval] = nil
                if objectAttributes[object]?.isEmpty == true { objectAttributes[object] = nil }
            }
        }
    }

    static func objectKeyval(_ handle: Int32, _ kind: CObjectKeyval.Kind) throws(CError) -> CObjectKeyval {
        guard let keyval = objectKeyvals[handle], keyval.kind == kind else {
            throw CError(MPI_ERR_KEYVAL, "invalid \(kind == .datatype ? "datatype" : "window") attribute key \(handle)")
        }
        return keyval
    }

    static func createObjectKeyval(
        _ kind: CObjectKeyval.Kind, _ copy: CCopyFunction?, _ delete: CDeleteFunction?, _ keyval: UnsafeMutablePointer<Int32>?,
        _ extraState: UnsafeMutableRawPointer?
    ) throws(CError) {
        guard let keyval else { throw CError(MPI_ERR_ARG, "a null keyval pointer") }
        keyval.pointee = objectKeyvals.insert(CObjectKeyval(kind: kind, copy: copy, delete: delete, extraState: extraState))
    }

    static func freeObjectKeyval(_ kind: CObjectKeyval.Kind, _ keyval: UnsafeMutablePointer<Int32>?) throws(CError) {
        guard let keyval else { throw CError(MPI_ERR_ARG, "a null keyval pointer") }
        _ = try objectKeyval(keyval.pointee, kind)
        keyval.pointee = MPI_KEYVAL_INVALID
    }

    /// Stores `value` under `keyval` on `object`, deleting the value there first.
    static func setObjectAttribute(_ object: AttributedObject, _ keyval: Int32, _ value: UnsafeMutableRawPointer?) throws(CError) {
        _ = try objectKeyval(keyval, object.kind)
        try deleteObjectAttribute(object, keyval)
        setObjectAttribute(object, keyval, to: .some(value))
    }

    static func getObjectAttribute(
        _ object: AttributedObject, _ keyval: Int32, _ value: UnsafeMutableRawPointer?, _ flag: UnsafeMutablePointer<Int32>?
    ) throws(CError) {
        guard let value, let flag else { throw CError(MPI_ERR_ARG, "a null attribute or flag pointer") }
        _ = try objectKeyval(keyval, object.kind)
        guard let stored = objectAttributes(object)?[keyval] else {
            flag.pointee = 0
            return
        }
        value.storeBytes(of: stored.value, as: UnsafeMutableRawPointer?.self)
        flag.pointee = 1
    }

    /// Deletes the value under `keyval` on `object` through the keyval's delete callback; one that
    /// fails keeps the value and fails the call.
    static func deleteObjectAttribute(_ object: AttributedObject, _ keyval: Int32) throws(CError) {
        let callbacks = try objectKeyval(keyval, object.kind)
        guard let stored = objectAttributes(object)?[keyval] else { return }
        if let delete = callbacks.delete {
            let error = delete(object.handle, keyval, stored.value, callbacks.extraState)
            guard error == MPI_SUCCESS else { throw CError(error, "an attribute delete callback returned error \(error)") }
        }
        setObjectAttribute(object, keyval, to: nil)
    }

    /// Deletes every attribute of `object`, the last set first (the object is being freed).
    static func deleteObjectAttributes(_ object: AttributedObject) throws(CError) {
        guard let stored = objectAttributes(object) else { return }
        for (keyval, _) in stored.sorted(by: { $0.value.order > $1.value.order }) { try deleteObjectAttribute(object, keyval) }
    }

    /// Copies `source`'s attributes to `target` through their copy callbacks (MPI_Type_dup); a
    /// callback that fails deletes what was copied and fails the call.
    static func copyObjectAttributes(_ source: AttributedObject, to target: AttributedObject) throws(CError) {
        guard let stored = objectAttributes(source) else { return }
        for (keyval, attribute) in stored.sorted(by: { $0.value.order < $1.value.order }) {
            guard let callbacks = objectKeyvals[keyval], let copy = callbacks.copy else { continue }
            var out: UnsafeMutableRawPointer? = nil
            var flag: Int32 = 0
            let error = copy(source.handle, keyval, callbacks.extraState, attribute.value, &out, &flag)
            guard error == MPI_SUCCESS else {
                try? deleteObjectAttributes(target)
                CInterfaceLock.withLock { objectAttributes[target] = nil }
                throw CError(error, "an attribute copy callback returned error \(error)")
            }
            if flag != 0 { setObjectAttribute(target, keyval, to: .some(out)) }
        }
    }
}

@_cdecl("PMPI_Type_create_keyval")
public func mpiTypeCreateKeyval(
    _ copy: CCopyFunction?, _ delete: CDeleteFunction?, _ keyval: UnsafeMutablePointer<Int32>?, _ extraState: UnsafeMutableRawPointer?
) -> Int32 {
    cCall("MPI_Type_create_keyval") { try CInterface.createObjectKeyval(.datatype, copy, delete, keyval, extraState) }
}

@_cdecl("PMPI_Type_free_keyval")
public func mpiTypeFreeKeyval(_ keyval: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Type_free_keyval") { try CInterface.freeObjectKeyval(.datatype, keyval) }
}

@_cdecl("PMPI_Type_set_attr")
public func mpiTypeSetAttr(_ datatype: MPI_Datatype, _ keyval: Int32, _ value: UnsafeMutableRawPointer?) -> Int32 {
    cCall("MPI_Type_set_attr") {
        _ = try CInterface.datatype(datatype, forCommunication: false)
        try CInterface.setObjectAttribute(.init(kind: .datatype, handle: datatype), keyval, value)
    }
}

@_cdecl("PMPI_Type_get_attr")
public func mpiTypeGetAttr(_ datatype: MPI_Datatype, _ keyval: Int32, _ value: UnsafeMutableRawPointer?, _ flag: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Type_get_attr") {
        _ = try CInterface.datatype(datatype, forCommunication: false)
        try CInterface.getObjectAttribute(.init(kind: .datatype, handle: datatype), keyval, value, flag)
    }
}

@_cdecl("PMPI_Type_delete_attr")
public func mpiTypeDeleteAttr(_ datatype: MPI_Datatype, _ keyval: Int32) -> Int32 {
    cCall("MPI_Type_delete_attr") {
        _ = try CInterface.datatype(datatype, forCommunication: false)
        try CInterface.deleteObjectAttribute(.init(kind: .datatype, handle: datatype), keyval)
    }
}

@_cdecl("PMPI_Win_create_keyval")
public func mpiWinCreateKeyval(
    _ copy: CCopyFunction?, _ delete: CDeleteFunction?, _ keyval: UnsafeMutablePointer<Int32>?, _ extraState: UnsafeMutableRawPointer?
) -> Int32 {
    cCall("MPI_Win_create_keyval") { try CInterface.createObjectKeyval(.window, copy, delete, keyval, extraState) }
}

@_cdecl("PMPI_Win_free_keyval")
public func mpiWinFreeKeyval(_ keyval: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Win_free_keyval") { try CInterface.freeObjectKeyval(.window, keyval) }
}

@_cdecl("PMPI_Win_set_attr")
public func mpiWinSetAttr(_ win: MPI_Win, _ keyval: Int32, _ value: UnsafeMutableRawPointer?) -> Int32 {
    windowCall("MPI_Win_set_attr", win) { _ in try CInterface.setObjectAttribute(.init(kind: .window, handle: win), keyval, value) }
}

@_cdecl("PMPI_Win_delete_attr")
public func mpiWinDeleteAttr(_ win: MPI_Win, _ keyval: Int32) -> Int32 {
    windowCall("MPI_Win_delete_attr", win) { _ in try CInterface.deleteObjectAttribute(.init(kind: .window, handle: win), keyval) }
}
