import CMPI

/// The objects a C program creates (communicators, datatypes, requests, operations, error
/// handlers), addressed by MPICH-style handles: `0xC0000000 | kind << 26 | index` (bits 30-31: an
/// "indirect" object, bits 26-29: the kind, as in MPICH, so a handle of one kind is never taken for
/// another). Freed slots are reused, so a table is as large as the most objects alive at once.
///
/// Not locked: the C interface provides up to MPI_THREAD_SERIALIZED (docs/C-ABI.md).
struct HandleTable<Object> {
    private var objects: [Object?] = []
    private var freeSlots: [Int] = []
    private let prefix: UInt32

    /// MPICH's object kinds, bits 26-29 of a handle.
    enum Kind: UInt32 {
        case communicator = 1, group = 2, datatype = 3, errhandler = 5, op = 6, info = 7, window = 8, keyval = 9, request = 11, message = 13, session = 14
    }

    init(_ kind: Kind) { prefix = 0xC000_0000 | kind.rawValue << 26 }

    /// Stores `object` and returns its handle.
    mutating func insert(_ object: Object) -> Int32 {
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

    private func index(_ handle: Int32) -> Int? {
        let bits = UInt32(bitPattern: handle)
        guard bits & 0xFC00_0000 == prefix else { return nil }
        let index = Int(bits & 0x03FF_FFFF)
        return index < objects.count ? index : nil
    }

    /// The object `handle` names, nil for a handle of another kind or a freed one.
    subscript(handle: Int32) -> Object? {
        get { index(handle).flatMap { objects[$0] } }
        set {
            guard let index = index(handle), objects[index] != nil else { return }
            if let newValue { objects[index] = newValue } else { remove(handle) }
        }
    }

    /// Frees `handle`'s slot and returns what it held.
    @discardableResult
    mutating func remove(_ handle: Int32) -> Object? {
        guard let index = index(handle), objects[index] != nil else { return nil }
        freeSlots.append(index)
        return objects[index].take()
    }

    /// The objects alive, in no particular order.
    var live: [Object] { objects.compactMap { $0 } }

    /// The handle of the first live object that satisfies `predicate` (a linear search).
    func firstHandle(where predicate: (Object) -> Bool) -> Int32? {
        guard let index = objects.firstIndex(where: { $0.map(predicate) ?? false }) else { return nil }
        return Int32(bitPattern: prefix | UInt32(index))
    }
}
