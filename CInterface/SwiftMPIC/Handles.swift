#if canImport(Glibc)
import Glibc
#endif
import CMPI

/// The objects a C program creates (communicators, datatypes, requests, operations, error
/// handlers), addressed by MPICH-style handles: `0xC0000000 | kind << 26 | index` (bits 30-31: an
/// "indirect" object, bits 26-29: the kind, as in MPICH, so a handle of one kind is never taken for
/// another). Freed slots are reused, so a table is as large as the most objects alive at once.
///
/// Safe from several threads at MPI_THREAD_MULTIPLE: the table is a fixed pointer to its storage
/// (a copy of the value is two words, never the arrays), and every operation runs under
/// ``CInterfaceLock`` (which costs one untaken branch below that level).
struct HandleTable<Object> {
    private struct Storage {
        var objects: [Object?] = []
        var freeSlots: [Int] = []
    }

    /// Allocated once; a table lives as long as the process.
    private let storage: UnsafeMutablePointer<Storage>
    private let prefix: UInt32

    /// MPICH's object kinds, bits 26-29 of a handle.
    enum Kind: UInt32 {
        case communicator = 1, group = 2, datatype = 3, errhandler = 5, op = 6, info = 7, window = 8, keyval = 9, request = 11, message = 13, session = 14
    }

    init(_ kind: Kind) {
        prefix = 0xC000_0000 | kind.rawValue << 26
        storage = .allocate(capacity: 1)
        storage.initialize(to: Storage())
    }

    /// Stores `object` and returns its handle.
    func insert(_ object: Object) -> Int32 {
        CInterfaceLock.withLock {
            let index: Int
            if let slot = storage.pointee.freeSlots.popLast() {
                index = slot
                storage.pointee.objects[slot] = object
            } else {
                index = storage.pointee.objects.count
                storage.pointee.objects.append(object)
            }
            return Int32(bitPattern: prefix | UInt32(index))
        }
    }

    /// The slot `handle` names (under the lock).
    private func index(_ handle: Int32) -> Int? {
        let bits = UInt32(bitPattern: handle)
        guard bits & 0xFC00_0000 == prefix else { return nil }
        let index = Int(bits & 0x03FF_FFFF)
        return index < storage.pointee.objects.count ? index : nil
    }

    /// The object `handle` names, nil for a handle of another kind or a freed one. Setting nil
    /// frees the handle; setting a value replaces a live object (a freed handle stays freed).
    subscript(handle: Int32) -> Object? {
        get { CInterfaceLock.withLock { index(handle).flatMap { storage.pointee.objects[$0] } } }
        nonmutating set {
            CInterfaceLock.withLock {
                guard let index = index(handle), storage.pointee.objects[index] != nil else { return }
                if let newValue { storage.pointee.objects[index] = newValue } else { remove(handle) }
            }
        }
    }

    /// Frees `handle`'s slot and returns what it held.
    @discardableResult
    func remove(_ handle: Int32) -> Object? {
        CInterfaceLock.withLock {
            guard let index = index(handle), storage.pointee.objects[index] != nil else { return nil }
            storage.pointee.freeSlots.append(index)
            return storage.pointee.objects[index].take()
        }
    }

    /// The objects alive, in no particular order.
    var live: [Object] { CInterfaceLock.withLock { storage.pointee.objects.compactMap { $0 } } }

    /// The handle of the first live object that satisfies `predicate` (a linear search, under the
    /// lock: `predicate` must not block).
    func firstHandle(where predicate: (Object) -> Bool) -> Int32? {
        CInterfaceLock.withLock {
            guard let index = storage.pointee.objects.firstIndex(where: { $0.map(predicate) ?? false }) else { return nil }
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

    nonisolated(unsafe) private static let mutex: UnsafeMutablePointer<pthread_mutex_t> = {
        let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_RECURSIVE))
        pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
        return mutex
    }()

    /// Turns the lock on (thread level MPI_THREAD_MULTIPLE).
    static func enable() {
        _ = mutex  // made now, while one thread runs
        isEnabled = true
    }

    /// Runs `body` holding the lock when it is on.
    @inline(__always)
    static func withLock<R>(_ body: () throws -> R) rethrows -> R {
        guard isEnabled else { return try body() }
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}
