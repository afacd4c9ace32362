import CMPI
import SwiftMPI

// Attribute caching on communicators (MPI_Comm_create_keyval and friends), over SwiftMPI's
// AttributeKey: a C keyval is an AttributeKey whose copy and delete call the program's callbacks.

/// MPI_Comm_copy_attr_function: (oldcomm, keyval, extra_state, attribute_val_in, attribute_val_out, flag).
public typealias CCopyFunction =
    @convention(c) (
        MPI_Comm, Int32, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int32>?
    ) -> Int32
/// MPI_Comm_delete_attr_function: (comm, keyval, attribute_val, extra_state).
public typealias CDeleteFunction = @convention(c) (MPI_Comm, Int32, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Int32

/// A value the program stored, with the communicator it is stored on (its callbacks are given it).
final class CAttributeValue {
    let value: UnsafeMutableRawPointer?
    var owner: MPI_Comm
    /// When it was set, for deleting a communicator's attributes in the reverse order (MPI 2.2 and
    /// later require that order for MPI_COMM_SELF at MPI_Finalize).
    let order: Int

    init(_ value: UnsafeMutableRawPointer?, owner: MPI_Comm) {
        self.value = value
        self.owner = owner
        order = CInterface.nextAttributeOrder()
    }
}

/// A keyval the program made: SwiftMPI's key and the C callbacks behind it.
struct CKeyval {
    let key: AttributeKey<CAttributeValue>
}

extension CInterface {
    @exclusivity(unchecked) nonisolated(unsafe) static var keyvals = HandleTable<CKeyval>(.keyval, for: .communicator)
    /// The first error a callback of this thread returned during its current call (callbacks cannot
    /// throw through SwiftMPI's closures); the call reports it. Per thread (a C thread-local).
    static var callbackError: Int32 {
        get { MPIR_SwiftMPI_callback_error() }
        set { MPIR_SwiftMPI_set_callback_error(newValue) }
    }

    static func keyval(_ handle: Int32) throws(CError) -> CKeyval {
        guard let keyval = keyvals[handle] else { throw CError(MPI_ERR_KEYVAL, "invalid attribute key \(handle)") }
        return keyval
    }

    /// Throws the error a callback returned, if any.
    static func checkCallbacks(_ what: String) throws(CError) {
        let error = callbackError
        callbackError = MPI_SUCCESS
        if error != MPI_SUCCESS { throw CError(error, "an attribute \(what) callback returned error \(error)") }
    }

    /// After `dup` made `copy` (handle `handle`): its copied values belong to it.
    static func adoptAttributes(of copy: Communicator, as handle: MPI_Comm) {
        for keyval in keyvals.live { copy.attribute(for: keyval.key)?.owner = handle }
    }

    /// How many attribute values were ever set (each value's `order`), under ``CInterfaceLock``.
    @exclusivity(unchecked) nonisolated(unsafe) private static var attributesSet = 0

    /// The order of an attribute value set now: later values have larger ones.
    static func nextAttributeOrder() -> Int {
        CInterfaceLock.withLock {
            attributesSet += 1
            return attributesSet
        }
    }

    /// Deletes `key`'s value from `communicator` through its delete callback; a callback that
    /// returns an error keeps the value there (MPI: the call fails, the attribute stays) and the
    /// error is thrown.
    static func deleteAttribute(_ key: AttributeKey<CAttributeValue>, of communicator: Communicator) throws(CError) {
        guard let old = communicator.attribute(for: key) else { return }
        communicator.removeAttribute(for: key)
        guard callbackError == MPI_SUCCESS else {
            communicator.setAttribute(old, for: key)  // (no value there now: no callback runs)
            try checkCallbacks("delete")
            return
        }
    }

    /// The error a callback returned during the current call, taken (MPI_SUCCESS when none did).
    static func takeCallbackError() -> Int32 {
        defer { callbackError = MPI_SUCCESS }
        return callbackError
    }

    /// Deletes every attribute of `comm`, the last set first (MPI_Finalize does this to
    /// MPI_COMM_SELF first, then the world).
    static func deleteAttributes(of comm: MPI_Comm) {
        guard let communicator = try? communicator(comm) else { return }
        let stored = keyvals.live.compactMap { keyval in communicator.attribute(for: keyval.key).map { (keyval.key, $0.order) } }
        for (key, _) in stored.sorted(by: { $0.1 > $1.1 }) { communicator.removeAttribute(for: key) }
    }
}

@_cdecl("PMPI_Comm_create_keyval")
public func mpiCommCreateKeyval(
    _ copy: CCopyFunction?, _ delete: CDeleteFunction?, _ keyval: UnsafeMutablePointer<Int32>?, _ extraState: UnsafeMutableRawPointer?
) -> Int32 {
    cCall("MPI_Comm_create_keyval") {
        guard let keyval else { throw CError(MPI_ERR_ARG, "a null keyval pointer") }
        // The handle is known only after insertion; the callbacks read it from this box.
        final class Handle { var value: Int32 = 0 }
        let handle = Handle()
        let key = AttributeKey<CAttributeValue>(
            copy: copy.map { copy in
                { (attribute: CAttributeValue) -> CAttributeValue? in
                    var out: UnsafeMutableRawPointer? = nil
                    var flag: Int32 = 0
                    let error = copy(attribute.owner, handle.value, extraState, attribute.value, &out, &flag)
                    if error != MPI_SUCCESS {
                        if CInterface.callbackError == MPI_SUCCESS { CInterface.callbackError = error }
                        return nil
                    }
                    return flag != 0 ? CAttributeValue(out, owner: MPI_COMM_NULL) : nil
                }
            },
            delete: delete.map { delete in
                { (attribute: CAttributeValue) in
                    let error = delete(attribute.owner, handle.value, attribute.value, extraState)
                    if error != MPI_SUCCESS && CInterface.callbackError == MPI_SUCCESS { CInterface.callbackError = error }
                }
            })
        handle.value = CInterface.keyvals.insert(CKeyval(key: key))
        keyval.pointee = handle.value
    }
}

@_cdecl("PMPI_Comm_free_keyval")
public func mpiCommFreeKeyval(_ keyval: UnsafeMutablePointer<Int32>?) -> Int32 {
    cCall("MPI_Comm_free_keyval") {
        guard let keyval else { throw CError(MPI_ERR_ARG, "a null keyval pointer") }
        // Values stored under it stay (and are deleted with their communicators), as MPI says.
        _ = try CInterface.keyval(keyval.pointee)
        keyval.pointee = MPI_KEYVAL_INVALID
    }
}

@_cdecl("PMPI_Comm_set_attr")
public func mpiCommSetAttr(_ comm: MPI_Comm, _ keyval: Int32, _ value: UnsafeMutableRawPointer?) -> Int32 {
    cCall("MPI_Comm_set_attr", on: comm) {
        let communicator = try CInterface.communicator(comm)
        let key = try CInterface.keyval(keyval).key
        try CInterface.deleteAttribute(key, of: communicator)  // the old value's delete callback may refuse
        communicator.setAttribute(CAttributeValue(value, owner: comm), for: key)
    }
}

@_cdecl("PMPI_Comm_delete_attr")
public func mpiCommDeleteAttr(_ comm: MPI_Comm, _ keyval: Int32) -> Int32 {
    cCall("MPI_Comm_delete_attr", on: comm) {
        try CInterface.deleteAttribute(try CInterface.keyval(keyval).key, of: try CInterface.communicator(comm))
    }
}

extension CInterface {
    /// A keyval's value on `comm` for MPI_Comm_get_attr (nil when the key is not one of the program's).
    static func programAttribute(_ comm: MPI_Comm, _ keyval: Int32) throws(CError) -> (found: Bool, value: UnsafeMutableRawPointer?)? {
        guard let key = keyvals[keyval]?.key else { return nil }
        guard let attribute = try communicator(comm).attribute(for: key) else { return (false, nil) }
        return (true, attribute.value)
    }
}
