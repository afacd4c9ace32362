#if canImport(Glibc)
import Glibc
#endif
import CMPI
import Synchronization
import SwiftMPI

// MPI's tool information interface (MPI_T_*) over the Swift API's MPI.ControlVariable and
// MPI.PerformanceVariable: variables by index, handles as small numbers, two categories
// ("swiftmpi_settings": every control variable; "swiftmpi_counters": every performance variable),
// no enumerations and no events. As MPI specifies, these functions return their error codes and
// never call an error handler; they may be called before MPI_Init and after MPI_Finalize, between
// MPI_T_init_thread and MPI_T_finalize: MPI_THREAD_MULTIPLE unless the runtime already runs below
// it (then serialized: writing a control variable or starting a counter changes the engine, which
// such a runtime's calls touch without a lock).

/// The interface's state: how often it was initialized, and the handles it gave out.
private struct ToolState {
    var initializations = 0
    var nextHandle = 1
    var controlHandles: [Int: MPI.ControlVariable] = [:]
    var sessions: [Int: MPI.PerformanceSession] = [:]
    var performanceHandles: [Int: (session: Int, handle: MPI.PerformanceHandle)] = [:]
    var categoriesChanged = 0

    mutating func number() -> Int {
        defer { nextHandle += 1 }
        return nextHandle
    }
}

private let tool = Mutex(ToolState())

private let categories: [(name: String, description: String)] = [
    ("swiftmpi_settings", "SwiftMPI's settings (the SWIFTMPI_ environment variables)"),
    ("swiftmpi_counters", "counts SwiftMPI keeps about its own work")
]

/// Runs `body` with the state when the interface is initialized; MPI_T_ERR_NOT_INITIALIZED otherwise.
private func toolCall(_ body: (inout ToolState) -> Int32) -> Int32 {
    tool.withLock { state in state.initializations > 0 ? body(&state) : MPI_T_ERR_NOT_INITIALIZED }
}

/// MPI_T's way of returning strings: a NULL length leaves the buffer alone; a NULL buffer or a
/// length of 0 asks for the length the full string needs (with its terminating NUL); otherwise
/// the string is copied, cut to fit and terminated, and the length says how much was written
/// (with the NUL).
private func copyString(_ text: String, _ buffer: UnsafeMutablePointer<CChar>?, _ length: UnsafeMutablePointer<Int32>?) {
    guard let length else { return }
    let bytes = Array(text.utf8)
    guard let buffer, length.pointee > 0 else {
        length.pointee = Int32(bytes.count + 1)
        return
    }
    let count = min(bytes.count, Int(length.pointee) - 1)
    for index in 0..<count { buffer[index] = CChar(bitPattern: bytes[index]) }
    buffer[count] = 0
    length.pointee = Int32(count + 1)
}

private func handleNumber(_ pointer: OpaquePointer?) -> Int { Int(bitPattern: UnsafeRawPointer(pointer)) }
private func handlePointer(_ number: Int) -> OpaquePointer? { OpaquePointer(bitPattern: number) }
private func isAllHandles(_ pointer: OpaquePointer?) -> Bool { handleNumber(pointer) == -1 }
/// The most bytes a text control variable holds (its count).
private let textCount: Int32 = 256

// MARK: - Start and end

@_cdecl("PMPI_T_init_thread")
public func mpiTInitThread(_ required: Int32, _ provided: UnsafeMutablePointer<Int32>?) -> Int32 {
    tool.withLock { $0.initializations += 1 }
    // The interface's own state is under `tool`'s lock. The variables' reads and writes of the
    // engine take the engine lock, which a runtime at .multiple has, and which a runtime started
    // after this call has at any level: then MPI_THREAD_MULTIPLE. A runtime already running below
    // .multiple has none (its calls take no lock), so a tool must not overlap them: serialized.
    let level = min(max(required, MPI_THREAD_SINGLE), MPI_THREAD_MULTIPLE)
    provided?.pointee = level == MPI_THREAD_MULTIPLE && !MPI.allowConcurrentToolCalls() ? MPI_THREAD_SERIALIZED : level
    return MPI_SUCCESS
}

@_cdecl("PMPI_T_finalize")
public func mpiTFinalize() -> Int32 {
    toolCall { state in
        state.initializations -= 1
        if state.initializations == 0 {
            for (_, session) in state.sessions { session.free() }
            state = ToolState()
        }
        return MPI_SUCCESS
    }
}

// MARK: - Control variables

@_cdecl("PMPI_T_cvar_get_num")
public func mpiTCvarGetNum(_ count: UnsafeMutablePointer<Int32>?) -> Int32 {
    toolCall { _ in
        guard let count else { return MPI_T_ERR_INVALID }
        count.pointee = Int32(MPI.ControlVariable.all.count)
        return MPI_SUCCESS
    }
}

@_cdecl("PMPI_T_cvar_get_info")
public func mpiTCvarGetInfo(
    _ index: Int32, _ name: UnsafeMutablePointer<CChar>?, _ nameLength: UnsafeMutablePointer<Int32>?, _ verbosity: UnsafeMutablePointer<Int32>?,
    _ datatype: UnsafeMutablePointer<MPI_Datatype>?, _ enumType: UnsafeMutablePointer<MPI_T_enum?>?, _ description: UnsafeMutablePointer<CChar>?,
    _ descriptionLength: UnsafeMutablePointer<Int32>?, _ bind: UnsafeMutablePointer<Int32>?, _ scope: UnsafeMutablePointer<Int32>?
) -> Int32 {
    toolCall { _ in
        guard MPI.ControlVariable.all.indices.contains(Int(index)) else { return MPI_T_ERR_INVALID_INDEX }
        let variable = MPI.ControlVariable.all[Int(index)]
        copyString(variable.name, name, nameLength)
        copyString(variable.description, description, descriptionLength)
        verbosity?.pointee = MPI_T_VERBOSITY_TUNER_BASIC
        datatype?.pointee = variable.isInteger ? MPI_INT : MPI_CHAR
        enumType?.pointee = nil
        bind?.pointee = MPI_T_BIND_NO_OBJECT
        scope?.pointee =
            switch variable.scope {
            case .readOnly: MPI_T_SCOPE_READONLY
            case .local: MPI_T_SCOPE_LOCAL
            case .allEqual: MPI_T_SCOPE_ALL_EQ
            }
        return MPI_SUCCESS
    }
}

@_cdecl("PMPI_T_cvar_get_index")
public func mpiTCvarGetIndex(_ name: UnsafePointer<CChar>?, _ index: UnsafeMutablePointer<Int32>?) -> Int32 {
    toolCall { _ in
        guard let name, let index else { return MPI_T_ERR_INVALID }
        guard let variable = MPI.ControlVariable.named(String(cString: name)) else { return MPI_T_ERR_INVALID_NAME }
        index.pointee = Int32(variable.index)
        return MPI_SUCCESS
    }
}

@_cdecl("PMPI_T_cvar_handle_alloc")
public func mpiTCvarHandleAlloc(
    _ index: Int32, _ object: UnsafeMutableRawPointer?, _ handle: UnsafeMutablePointer<MPI_T_cvar_handle?>?, _ count: UnsafeMutablePointer<Int32>?
) -> Int32 {
    toolCall { state in
        guard MPI.ControlVariable.all.indices.contains(Int(index)) else { return MPI_T_ERR_INVALID_INDEX }
        guard let handle else { return MPI_T_ERR_INVALID }
        let variable = MPI.ControlVariable.all[Int(index)]
        let number = state.number()
        state.controlHandles[number] = variable
        handle.pointee = handlePointer(number)
        count?.pointee = variable.isInteger ? 1 : textCount
        return MPI_SUCCESS
    }
}

@_cdecl("PMPI_T_cvar_handle_free")
public func mpiTCvarHandleFree(_ handle: UnsafeMutablePointer<MPI_T_cvar_handle?>?) -> Int32 {
    toolCall { state in
        guard let handle, state.controlHandles.removeValue(forKey: handleNumber(handle.pointee)) != nil else { return MPI_T_ERR_INVALID_HANDLE }
        handle.pointee = nil
        return MPI_SUCCESS
    }
}

@_cdecl("PMPI_T_cvar_read")
public func mpiTCvarRead(_ handle: MPI_T_cvar_handle?, _ buffer: UnsafeMutableRawPointer?) -> Int32 {
    toolCall { state in
        guard let variable = state.controlHandles[handleNumber(handle)] else { return MPI_T_ERR_INVALID_HANDLE }
        guard let buffer else { return MPI_T_ERR_INVALID }
        switch variable.value {
        case .integer(let number): buffer.storeBytes(of: Int32(clamping: number), as: Int32.self)
        case .text(let text):
            var length = textCount
            copyString(text, buffer.assumingMemoryBound(to: CChar.self), &length)
        }
        return MPI_SUCCESS
    }
}

@_cdecl("PMPI_T_cvar_write")
public func mpiTCvarWrite(_ handle: MPI_T_cvar_handle?, _ buffer: UnsafeRawPointer?) -> Int32 {
    toolCall { state in
        guard let variable = state.controlHandles[handleNumber(handle)] else { return MPI_T_ERR_INVALID_HANDLE }
        guard let buffer else { return MPI_T_ERR_INVALID }
        guard variable.scope != .readOnly, variable.isInteger else { return MPI_T_ERR_CVAR_SET_NEVER }
        do throws(MPIError) {
            try variable.set(.integer(Int(buffer.loadUnaligned(as: Int32.self))))
            return MPI_SUCCESS
        } catch {
            return error.code == .notInitialized ? MPI_T_ERR_CVAR_SET_NOT_NOW : MPI_T_ERR_INVALID
        }
    }
}

// MARK: - Performance variables

@_cdecl("PMPI_T_pvar_get_num")
public func mpiTPvarGetNum(_ count: UnsafeMutablePointer<Int32>?) -> Int32 {
    toolCall { _ in
        guard let count else { return MPI_T_ERR_INVALID }
        count.pointee = Int32(MPI.PerformanceVariable.all.count)
        return MPI_SUCCESS
    }
}

private func performanceClass(_ variable: MPI.PerformanceVariable) -> Int32 {
    switch variable.kind {
    case .counter: MPI_T_PVAR_CLASS_COUNTER
    case .level: MPI_T_PVAR_CLASS_LEVEL
    case .highWatermark: MPI_T_PVAR_CLASS_HIGHWATERMARK
    }
}

@_cdecl("PMPI_T_pvar_get_info")
public func mpiTPvarGetInfo(
    _ index: Int32, _ name: UnsafeMutablePointer<CChar>?, _ nameLength: UnsafeMutablePointer<Int32>?, _ verbosity: UnsafeMutablePointer<Int32>?,
    _ variableClass: UnsafeMutablePointer<Int32>?, _ datatype: UnsafeMutablePointer<MPI_Datatype>?, _ enumType: UnsafeMutablePointer<MPI_T_enum?>?,
    _ description: UnsafeMutablePointer<CChar>?, _ descriptionLength: UnsafeMutablePointer<Int32>?, _ bind: UnsafeMutablePointer<Int32>?,
    _ readOnly: UnsafeMutablePointer<Int32>?, _ continuous: UnsafeMutablePointer<Int32>?, _ atomic: UnsafeMutablePointer<Int32>?
) -> Int32 {
    toolCall { _ in
        guard MPI.PerformanceVariable.all.indices.contains(Int(index)) else { return MPI_T_ERR_INVALID_INDEX }
        let variable = MPI.PerformanceVariable.all[Int(index)]
        copyString(variable.name, name, nameLength)
        copyString(variable.description, description, descriptionLength)
        verbosity?.pointee = MPI_T_VERBOSITY_TUNER_BASIC
        variableClass?.pointee = performanceClass(variable)
        datatype?.pointee = MPI_UNSIGNED_LONG_LONG
        enumType?.pointee = nil
        bind?.pointee = MPI_T_BIND_NO_OBJECT
        readOnly?.pointee = variable.isReadOnly ? 1 : 0
        continuous?.pointee = variable.isContinuous ? 1 : 0
        atomic?.pointee = 0
        return MPI_SUCCESS
    }
}

@_cdecl("PMPI_T_pvar_get_index")
public func mpiTPvarGetIndex(_ name: UnsafePointer<CChar>?, _ variableClass: Int32, _ index: UnsafeMutablePointer<Int32>?) -> Int32 {
    toolCall { _ in
        guard let name, let index else { return MPI_T_ERR_INVALID }
        guard let variable = MPI.PerformanceVariable.named(String(cString: name)), performanceClass(variable) == variableClass else {
            return MPI_T_ERR_INVALID_NAME
        }
        index.pointee = Int32(variable.index)
        return MPI_SUCCESS
    }
}

@_cdecl("PMPI_T_pvar_session_create")
public func mpiTPvarSessionCreate(_ session: UnsafeMutablePointer<MPI_T_pvar_session?>?) -> Int32 {
    toolCall { state in
        guard let session else { return MPI_T_ERR_INVALID }
        let number = state.number()
        state.sessions[number] = MPI.PerformanceSession()
        session.pointee = handlePointer(number)
        return MPI_SUCCESS
    }
}

@_cdecl("PMPI_T_pvar_session_free")
public func mpiTPvarSessionFree(_ session: UnsafeMutablePointer<MPI_T_pvar_session?>?) -> Int32 {
    toolCall { state in
        guard let session, let number = Optional(handleNumber(session.pointee)), let freed = state.sessions.removeValue(forKey: number) else {
            return MPI_T_ERR_INVALID_SESSION
        }
        freed.free()
        state.performanceHandles = state.performanceHandles.filter { $0.value.session != number }
        session.pointee = nil
        return MPI_SUCCESS
    }
}

@_cdecl("PMPI_T_pvar_handle_alloc")
public func mpiTPvarHandleAlloc(
    _ session: MPI_T_pvar_session?, _ index: Int32, _ object: UnsafeMutableRawPointer?, _ handle: UnsafeMutablePointer<MPI_T_pvar_handle?>?,
    _ count: UnsafeMutablePointer<Int32>?
) -> Int32 {
    toolCall { state in
        let sessionNumber = handleNumber(session)
        guard let owner = state.sessions[sessionNumber] else { return MPI_T_ERR_INVALID_SESSION }
        guard MPI.PerformanceVariable.all.indices.contains(Int(index)) else { return MPI_T_ERR_INVALID_INDEX }
        guard let handle else { return MPI_T_ERR_INVALID }
        let number = state.number()
        state.performanceHandles[number] = (sessionNumber, owner.handle(for: MPI.PerformanceVariable.all[Int(index)]))
        handle.pointee = handlePointer(number)
        count?.pointee = 1
        return MPI_SUCCESS
    }
}

@_cdecl("PMPI_T_pvar_handle_free")
public func mpiTPvarHandleFree(_ session: MPI_T_pvar_session?, _ handle: UnsafeMutablePointer<MPI_T_pvar_handle?>?) -> Int32 {
    toolCall { state in
        guard state.sessions[handleNumber(session)] != nil else { return MPI_T_ERR_INVALID_SESSION }
        guard let handle, let entry = state.performanceHandles[handleNumber(handle.pointee)], entry.session == handleNumber(session) else {
            return MPI_T_ERR_INVALID_HANDLE
        }
        entry.handle.free()
        state.performanceHandles[handleNumber(handle.pointee)] = nil
        handle.pointee = nil
        return MPI_SUCCESS
    }
}

/// The handles `handle` names in `session` (all of the session's for MPI_T_PVAR_ALL_HANDLES), or an error code.
private func handles(_ state: ToolState, _ session: MPI_T_pvar_session?, _ handle: MPI_T_pvar_handle?) -> Result<[MPI.PerformanceHandle], ToolError> {
    let sessionNumber = handleNumber(session)
    guard state.sessions[sessionNumber] != nil else { return .failure(ToolError(code: MPI_T_ERR_INVALID_SESSION)) }
    if isAllHandles(handle) { return .success(state.performanceHandles.values.filter { $0.session == sessionNumber }.map(\.handle)) }
    guard let entry = state.performanceHandles[handleNumber(handle)], entry.session == sessionNumber else {
        return .failure(ToolError(code: MPI_T_ERR_INVALID_HANDLE))
    }
    return .success([entry.handle])
}

private struct ToolError: Error { let code: Int32 }

@_cdecl("PMPI_T_pvar_start")
public func mpiTPvarStart(_ session: MPI_T_pvar_session?, _ handle: MPI_T_pvar_handle?) -> Int32 {
    startOrStop(session, handle, start: true)
}

@_cdecl("PMPI_T_pvar_stop")
public func mpiTPvarStop(_ session: MPI_T_pvar_session?, _ handle: MPI_T_pvar_handle?) -> Int32 {
    startOrStop(session, handle, start: false)
}

/// MPI_T_pvar_start and _stop: continuous variables cannot be (MPI_T_ERR_PVAR_NO_STARTSTOP), and
/// are skipped when all of a session's handles are named.
private func startOrStop(_ session: MPI_T_pvar_session?, _ handle: MPI_T_pvar_handle?, start: Bool) -> Int32 {
    toolCall { state in
        switch handles(state, session, handle) {
        case .failure(let error): return error.code
        case .success(let chosen):
            if !isAllHandles(handle), chosen.first?.variable.isContinuous == true { return MPI_T_ERR_PVAR_NO_STARTSTOP }
            for each in chosen where !each.variable.isContinuous {
                do {
                    if start { try each.start() } else { try each.stop() }
                } catch {
                    return MPI_T_ERR_INVALID_HANDLE
                }
            }
            return MPI_SUCCESS
        }
    }
}

@_cdecl("PMPI_T_pvar_read")
public func mpiTPvarRead(_ session: MPI_T_pvar_session?, _ handle: MPI_T_pvar_handle?, _ buffer: UnsafeMutableRawPointer?) -> Int32 {
    readOrReset(session, handle, buffer, read: true, reset: false)
}

@_cdecl("PMPI_T_pvar_readreset")
public func mpiTPvarReadReset(_ session: MPI_T_pvar_session?, _ handle: MPI_T_pvar_handle?, _ buffer: UnsafeMutableRawPointer?) -> Int32 {
    readOrReset(session, handle, buffer, read: true, reset: true)
}

@_cdecl("PMPI_T_pvar_reset")
public func mpiTPvarReset(_ session: MPI_T_pvar_session?, _ handle: MPI_T_pvar_handle?) -> Int32 {
    readOrReset(session, handle, nil, read: false, reset: true)
}

@_cdecl("PMPI_T_pvar_write")
public func mpiTPvarWrite(_ session: MPI_T_pvar_session?, _ handle: MPI_T_pvar_handle?, _ buffer: UnsafeRawPointer?) -> Int32 {
    toolCall { state in
        guard !isAllHandles(handle) else { return MPI_T_ERR_INVALID_HANDLE }
        switch handles(state, session, handle) {
        case .failure(let error): return error.code
        case .success(let chosen):
            guard let buffer else { return MPI_T_ERR_INVALID }
            guard !chosen[0].variable.isReadOnly else { return MPI_T_ERR_PVAR_NO_WRITE }
            do { try chosen[0].write(buffer.loadUnaligned(as: UInt64.self)) } catch { return MPI_T_ERR_INVALID_HANDLE }
            return MPI_SUCCESS
        }
    }
}

/// MPI_T_pvar_read, _readreset and _reset. Reading needs one handle; resetting all of a
/// session's handles skips the read-only ones.
private func readOrReset(
    _ session: MPI_T_pvar_session?, _ handle: MPI_T_pvar_handle?, _ buffer: UnsafeMutableRawPointer?, read: Bool, reset: Bool
)
    -> Int32
{
    toolCall { state in
        if read && isAllHandles(handle) { return MPI_T_ERR_INVALID_HANDLE }
        switch handles(state, session, handle) {
        case .failure(let error): return error.code
        case .success(let chosen):
            if read && buffer == nil { return MPI_T_ERR_INVALID }
            if reset && !isAllHandles(handle) && chosen[0].variable.isReadOnly { return MPI_T_ERR_PVAR_NO_WRITE }
            do {
                for each in chosen where !(reset && each.variable.isReadOnly) {
                    let value = reset && read ? try each.readAndReset() : read ? try each.read() : 0
                    if reset && !read { try each.reset() }
                    if read { buffer?.storeBytes(of: value, as: UInt64.self) }
                }
            } catch {
                return MPI_T_ERR_INVALID_HANDLE
            }
            return MPI_SUCCESS
        }
    }
}

// MARK: - Categories, enumerations, events

@_cdecl("PMPI_T_category_get_num")
public func mpiTCategoryGetNum(_ count: UnsafeMutablePointer<Int32>?) -> Int32 {
    toolCall { _ in
        count?.pointee = Int32(categories.count)
        return MPI_SUCCESS
    }
}

@_cdecl("PMPI_T_category_get_info")
public func mpiTCategoryGetInfo(
    _ index: Int32, _ name: UnsafeMutablePointer<CChar>?, _ nameLength: UnsafeMutablePointer<Int32>?, _ description: UnsafeMutablePointer<CChar>?,
    _ descriptionLength: UnsafeMutablePointer<Int32>?, _ controls: UnsafeMutablePointer<Int32>?, _ performance: UnsafeMutablePointer<Int32>?,
    _ subcategories: UnsafeMutablePointer<Int32>?
) -> Int32 {
    toolCall { _ in
        guard categories.indices.contains(Int(index)) else { return MPI_T_ERR_INVALID_INDEX }
        copyString(categories[Int(index)].name, name, nameLength)
        copyString(categories[Int(index)].description, description, descriptionLength)
        controls?.pointee = index == 0 ? Int32(MPI.ControlVariable.all.count) : 0
        performance?.pointee = index == 1 ? Int32(MPI.PerformanceVariable.all.count) : 0
        subcategories?.pointee = 0
        return MPI_SUCCESS
    }
}

@_cdecl("PMPI_T_category_get_index")
public func mpiTCategoryGetIndex(_ name: UnsafePointer<CChar>?, _ index: UnsafeMutablePointer<Int32>?) -> Int32 {
    toolCall { _ in
        guard let name, let index else { return MPI_T_ERR_INVALID }
        guard let found = categories.firstIndex(where: { $0.name == String(cString: name) }) else { return MPI_T_ERR_INVALID_NAME }
        index.pointee = Int32(found)
        return MPI_SUCCESS
    }
}

/// Fills `indices` with up to `length` of `members`.
private func members(_ index: Int32, _ length: Int32, _ indices: UnsafeMutablePointer<Int32>?, _ members: (Int) -> [Int]) -> Int32 {
    toolCall { _ in
        guard categories.indices.contains(Int(index)) else { return MPI_T_ERR_INVALID_INDEX }
        guard length >= 0 else { return MPI_T_ERR_INVALID }
        for (position, member) in members(Int(index)).prefix(Int(length)).enumerated() { indices?[position] = Int32(member) }
        return MPI_SUCCESS
    }
}

@_cdecl("PMPI_T_category_get_cvars")
public func mpiTCategoryGetCvars(_ index: Int32, _ length: Int32, _ indices: UnsafeMutablePointer<Int32>?) -> Int32 {
    members(index, length, indices) { $0 == 0 ? Array(MPI.ControlVariable.all.indices) : [] }
}

@_cdecl("PMPI_T_category_get_pvars")
public func mpiTCategoryGetPvars(_ index: Int32, _ length: Int32, _ indices: UnsafeMutablePointer<Int32>?) -> Int32 {
    members(index, length, indices) { $0 == 1 ? Array(MPI.PerformanceVariable.all.indices) : [] }
}

@_cdecl("PMPI_T_category_get_categories")
public func mpiTCategoryGetCategories(_ index: Int32, _ length: Int32, _ indices: UnsafeMutablePointer<Int32>?) -> Int32 {
    members(index, length, indices) { _ in [] }
}

@_cdecl("PMPI_T_category_get_num_events")
public func mpiTCategoryGetNumEvents(_ index: Int32, _ count: UnsafeMutablePointer<Int32>?) -> Int32 {
    toolCall { _ in
        guard categories.indices.contains(Int(index)) else { return MPI_T_ERR_INVALID_INDEX }
        count?.pointee = 0
        return MPI_SUCCESS
    }
}

@_cdecl("PMPI_T_category_get_events")
public func mpiTCategoryGetEvents(_ index: Int32, _ length: Int32, _ indices: UnsafeMutablePointer<Int32>?) -> Int32 {
    members(index, length, indices) { _ in [] }
}

@_cdecl("PMPI_T_category_changed")
public func mpiTCategoryChanged(_ update: UnsafeMutablePointer<Int32>?) -> Int32 {
    toolCall { state in
        update?.pointee = Int32(state.categoriesChanged)
        return MPI_SUCCESS
    }
}

@_cdecl("PMPI_T_enum_get_info")
public func mpiTEnumGetInfo(
    _ enumType: MPI_T_enum?, _ count: UnsafeMutablePointer<Int32>?, _ name: UnsafeMutablePointer<CChar>?, _ length: UnsafeMutablePointer<Int32>?
)
    -> Int32
{
    toolCall { _ in MPI_T_ERR_INVALID_HANDLE }  // no variable of SwiftMPI's is an enumeration
}

@_cdecl("PMPI_T_enum_get_item")
public func mpiTEnumGetItem(
    _ enumType: MPI_T_enum?, _ item: Int32, _ value: UnsafeMutablePointer<Int32>?, _ name: UnsafeMutablePointer<CChar>?, _ length: UnsafeMutablePointer<Int32>?
) -> Int32 {
    toolCall { _ in MPI_T_ERR_INVALID_HANDLE }
}

@_cdecl("PMPI_T_event_get_num")
public func mpiTEventGetNum(_ count: UnsafeMutablePointer<Int32>?) -> Int32 {
    toolCall { _ in
        count?.pointee = 0
        return MPI_SUCCESS
    }
}

@_cdecl("PMPI_T_event_get_index")
public func mpiTEventGetIndex(_ name: UnsafePointer<CChar>?, _ index: UnsafeMutablePointer<Int32>?) -> Int32 {
    toolCall { _ in MPI_T_ERR_INVALID_NAME }
}

@_cdecl("PMPI_T_source_get_num")
public func mpiTSourceGetNum(_ count: UnsafeMutablePointer<Int32>?) -> Int32 {
    toolCall { _ in
        count?.pointee = 0
        return MPI_SUCCESS
    }
}

@_cdecl("PMPI_T_event_get_info")
public func mpiTEventGetInfo(
    _ index: Int32, _ name: UnsafeMutablePointer<CChar>?, _ nameLength: UnsafeMutablePointer<Int32>?, _ verbosity: UnsafeMutablePointer<Int32>?,
    _ datatypes: UnsafeMutablePointer<MPI_Datatype>?, _ displacements: UnsafeMutablePointer<MPI_Aint>?, _ elements: UnsafeMutablePointer<Int32>?,
    _ enumType: UnsafeMutablePointer<MPI_T_enum?>?, _ info: UnsafeMutablePointer<MPI_Info>?, _ description: UnsafeMutablePointer<CChar>?,
    _ descriptionLength: UnsafeMutablePointer<Int32>?, _ bind: UnsafeMutablePointer<Int32>?
) -> Int32 {
    toolCall { _ in MPI_T_ERR_INVALID_INDEX }  // SwiftMPI has no events
}

@_cdecl("PMPI_T_source_get_info")
public func mpiTSourceGetInfo(
    _ index: Int32, _ name: UnsafeMutablePointer<CChar>?, _ nameLength: UnsafeMutablePointer<Int32>?, _ description: UnsafeMutablePointer<CChar>?,
    _ descriptionLength: UnsafeMutablePointer<Int32>?, _ ordering: UnsafeMutablePointer<MPI_T_source_order>?, _ ticks: UnsafeMutablePointer<MPI_Count>?,
    _ maximum: UnsafeMutablePointer<MPI_Count>?, _ info: UnsafeMutablePointer<MPI_Info>?
) -> Int32 {
    toolCall { _ in MPI_T_ERR_INVALID_INDEX }  // nor event sources
}

// MARK: - Events (SwiftMPI has none: every registration or instance handle is invalid)

@_cdecl("PMPI_T_event_handle_alloc")
public func mpiTEventHandleAlloc(_ index: Int32, _ object: UnsafeMutableRawPointer?, _ info: MPI_Info, _ registration: UnsafeMutableRawPointer?) -> Int32 {
    toolCall { _ in MPI_T_ERR_INVALID_INDEX }
}

@_cdecl("PMPI_T_event_handle_free")
public func mpiTEventHandleFree(_ registration: OpaquePointer?, _ userData: UnsafeMutableRawPointer?, _ callback: UnsafeRawPointer?) -> Int32 {
    toolCall { _ in MPI_T_ERR_INVALID_HANDLE }
}

@_cdecl("PMPI_T_event_handle_get_info")
public func mpiTEventHandleGetInfo(_ registration: OpaquePointer?, _ info: UnsafeMutablePointer<MPI_Info>?) -> Int32 {
    toolCall { _ in MPI_T_ERR_INVALID_HANDLE }
}

@_cdecl("PMPI_T_event_handle_set_info")
public func mpiTEventHandleSetInfo(_ registration: OpaquePointer?, _ info: MPI_Info) -> Int32 {
    toolCall { _ in MPI_T_ERR_INVALID_HANDLE }
}

@_cdecl("PMPI_T_event_register_callback")
public func mpiTEventRegisterCallback(
    _ registration: OpaquePointer?, _ safety: MPI_T_cb_safety, _ info: MPI_Info, _ userData: UnsafeMutableRawPointer?, _ callback: UnsafeRawPointer?
) -> Int32 {
    toolCall { _ in MPI_T_ERR_INVALID_HANDLE }
}

@_cdecl("PMPI_T_event_callback_get_info")
public func mpiTEventCallbackGetInfo(_ registration: OpaquePointer?, _ safety: MPI_T_cb_safety, _ info: UnsafeMutablePointer<MPI_Info>?) -> Int32 {
    toolCall { _ in MPI_T_ERR_INVALID_HANDLE }
}

@_cdecl("PMPI_T_event_callback_set_info")
public func mpiTEventCallbackSetInfo(_ registration: OpaquePointer?, _ safety: MPI_T_cb_safety, _ info: MPI_Info) -> Int32 {
    toolCall { _ in MPI_T_ERR_INVALID_HANDLE }
}

@_cdecl("PMPI_T_event_set_dropped_handler")
public func mpiTEventSetDroppedHandler(_ registration: OpaquePointer?, _ handler: UnsafeRawPointer?) -> Int32 {
    toolCall { _ in MPI_T_ERR_INVALID_HANDLE }
}

@_cdecl("PMPI_T_event_read")
public func mpiTEventRead(_ instance: OpaquePointer?, _ element: Int32, _ buffer: UnsafeMutableRawPointer?) -> Int32 {
    toolCall { _ in MPI_T_ERR_INVALID_HANDLE }
}

@_cdecl("PMPI_T_event_copy")
public func mpiTEventCopy(_ instance: OpaquePointer?, _ buffer: UnsafeMutableRawPointer?) -> Int32 {
    toolCall { _ in MPI_T_ERR_INVALID_HANDLE }
}

@_cdecl("PMPI_T_event_get_timestamp")
public func mpiTEventGetTimestamp(_ instance: OpaquePointer?, _ timestamp: UnsafeMutablePointer<MPI_Count>?) -> Int32 {
    toolCall { _ in MPI_T_ERR_INVALID_HANDLE }
}

@_cdecl("PMPI_T_event_get_source")
public func mpiTEventGetSource(_ instance: OpaquePointer?, _ source: UnsafeMutablePointer<Int32>?) -> Int32 {
    toolCall { _ in MPI_T_ERR_INVALID_HANDLE }
}

@_cdecl("PMPI_T_source_get_timestamp")
public func mpiTSourceGetTimestamp(_ index: Int32, _ timestamp: UnsafeMutablePointer<MPI_Count>?) -> Int32 {
    toolCall { _ in MPI_T_ERR_INVALID_INDEX }
}
