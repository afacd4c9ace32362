import CMPI
import SwiftMPI

/// The objects a C program creates (communicators, datatypes, requests, operations, error
/// handlers), addressed by MPICH-style handles: `0xC0000000 | kind << 26 | index` (bits 30-31: an
/// "indirect" object, bits 26-29: the kind, as in MPICH, so a handle of one kind is never taken for
/// another). Freed slots are reused, so a table is as large as the most objects alive at once.
///
/// Safe from several threads at MPI_THREAD_MULTIPLE: every operation runs under
/// ``CInterfaceLock`` (one untaken branch below that level), and every one of them, reads
/// included, is `mutating`, so that a table stored in a static is always used in place, never
/// copied (a copy would retain its arrays outside the lock).
struct HandleTable<Object> {
    private var objects: [Object?] = []
    private var freeSlots: [Int] = []
    private let prefix: UInt32

    /// MPICH's object kinds, bits 26-29 of a handle.
    enum Kind: UInt32 {
        case communicator = 1, group = 2, datatype = 3, errhandler = 5, op = 6, info = 7, window = 8, keyval = 9, request = 11, message = 13, session = 14
    }

    /// The handle bits that name the table (the rest number its slots).
    private let prefixMask: UInt32

    /// A table of `kind`'s handles. Keyvals also carry the kind of object they are for in bits
    /// 22-25 (as MPICH's do), so that a window's keyval is never mistaken for a communicator's.
    init(_ kind: Kind, for objectKind: Kind? = nil) {
        prefix = 0xC000_0000 | kind.rawValue << 26 | (objectKind?.rawValue ?? 0) << 22
        prefixMask = objectKind == nil ? 0xFC00_0000 : 0xFFC0_0000
    }

    /// Stores `object` and returns its handle.
    mutating func insert(_ object: Object) -> Int32 {
        if _slowPath(CInterfaceLock.isEnabled) { return lockedInsert(object) }
        return insertUnlocked(object)
    }

    @inline(never)
    private mutating func lockedInsert(_ object: Object) -> Int32 {
        CInterfaceLock.withLock { insertUnlocked(object) }
    }

    @inline(__always)
    private mutating func insertUnlocked(_ object: Object) -> Int32 {
        let index: Int
        if let slot = freeSlots.popLast() {
            index = slot
            objects[slot] = object
        } else {
            index = objects.count
            objects.append(object)
        }
        return Int32(bitPattern: prefix | UInt32(index))
    }

    /// The slot `handle` names (under the lock).
    private func index(_ handle: Int32) -> Int? {
        let bits = UInt32(bitPattern: handle)
        guard bits & prefixMask == prefix else { return nil }
        let index = Int(bits & ~prefixMask)
        return index < objects.count ? index : nil
    }

    /// The object `handle` names, nil for a handle of another kind or a freed one. Setting nil
    /// frees the handle; setting a value replaces a live object (a freed handle stays freed).
    subscript(handle: Int32) -> Object? {
        mutating get {
            if _slowPath(CInterfaceLock.isEnabled) { return lockedObject(handle) }
            return index(handle).flatMap { objects[$0] }
        }
        set {
            CInterfaceLock.withLock {
                guard let index = index(handle), objects[index] != nil else { return }
                if let newValue { objects[index] = newValue } else { remove(handle) }
            }
        }
    }

    @inline(never)
    private mutating func lockedObject(_ handle: Int32) -> Object? {
        CInterfaceLock.withLock { index(handle).flatMap { objects[$0] } }
    }

    /// Frees `handle`'s slot and returns what it held.
    @discardableResult
    mutating func remove(_ handle: Int32) -> Object? {
        if _slowPath(CInterfaceLock.isEnabled) { return lockedRemove(handle) }
        return removeUnlocked(handle)
    }

    @inline(never)
    private mutating func lockedRemove(_ handle: Int32) -> Object? {
        CInterfaceLock.withLock { removeUnlocked(handle) }
    }

    @inline(__always)
    private mutating func removeUnlocked(_ handle: Int32) -> Object? {
        guard let index = index(handle), objects[index] != nil else { return nil }
        freeSlots.append(index)
        return objects[index].take()
    }

    /// The objects alive, in no particular order.
    var live: [Object] { mutating get { CInterfaceLock.withLock { objects.compactMap { $0 } } } }

    /// The handle of the first live object that satisfies `predicate` (a linear search, under the
    /// lock: `predicate` must not block).
    mutating func firstHandle(where predicate: (Object) -> Bool) -> Int32? {
        CInterfaceLock.withLock {
            guard let index = objects.firstIndex(where: { $0.map(predicate) ?? false }) else { return nil }
            return Int32(bitPattern: prefix | UInt32(index))
        }
    }
}

/// The C interface's own state (handle tables, error texts, attributes, keyvals, the attached
/// buffer) under one recursive mutex at MPI_THREAD_MULTIPLE; below that level MPI lets one thread
/// at a time call, and the lock is skipped (one load and an untaken branch).
///
/// Held only around reads and changes of that state, never across a blocking SwiftMPI call (a
/// thread waiting for a message must not keep another thread of its process from the tables) and
/// never across a program's callback (which may block, or call MPI). Recursive because helpers
/// that take it call one another.
enum CInterfaceLock {
    /// Set by MPI_Init_thread, MPI_Session_init or a Swift program's C library joining a
    /// `.multiple` runtime, before any other thread can call MPI; never cleared.
    @exclusivity(unchecked) nonisolated(unsafe) static var isEnabled = false

    /// The runtime's recursive mutex.
    private static let mutex = EngineLock()

    /// Turns the lock on (thread level MPI_THREAD_MULTIPLE).
    static func enable() {
        _ = mutex  // made now, while one thread runs
        isEnabled = true
    }

    /// Runs `body` holding the lock when it is on.
    @inline(__always)
    static func withLock<R>(_ body: () throws -> R) rethrows -> R {
        guard isEnabled else { return try body() }
        lockMutex()
        defer { unlockMutex() }
        return try body()
    }

    // Out of line: the callers' inlined check stays one load and a branch.
    @inline(never) private static func lockMutex() { mutex.lock() }
    @inline(never) private static func unlockMutex() { mutex.unlock() }
}
