import Synchronization

/// A key for caching values on communicators with MPI's callbacks (MPI_Comm_create_keyval): a library
/// makes one key, stores its per-communicator state under it with
/// ``Communicator/setAttribute(_:for:)``, and decides what `dup` and `free` do with that state.
///
/// `copy` runs when a communicator carrying a value is duplicated (`dup`): its result is stored on
/// the duplicate, nil stores nothing (MPI_NULL_COPY_FN when `copy` itself is nil). `delete` runs
/// exactly once for every value that leaves a communicator: replaced by another value, removed, or
/// dropped when the communicator is freed (values in the reverse order they were set).
///
/// Sendable by assertion (`@unchecked`): the key is immutable, and its callbacks run only inside
/// communicator calls (`dup`, `setAttribute`, `removeAttribute`, `free`). At thread level
/// `.multiple` threads may set, read and remove values of one communicator at once (the values
/// change under the runtime's lock; the callbacks run outside it); as in C MPI, freeing a
/// communicator while another thread uses it is the caller's error.
/// The callbacks are not required to be `@Sendable` because C MPI's copy and delete functions are
/// not either, and `KeyedAttribute` stores them type-erased.
public struct AttributeKey<Value>: @unchecked Sendable {
    let id: Int
    let copy: ((Value) -> Value?)?
    let delete: ((Value) -> Void)?

    /// A new key, distinct from every other.
    public init(copy: ((Value) -> Value?)? = nil, delete: ((Value) -> Void)? = nil) {
        self.id = AttributeKeys.next.add(1, ordering: .relaxed).newValue
        self.copy = copy
        self.delete = delete
    }
}

/// The source of ``AttributeKey`` identities.
enum AttributeKeys {
    static let next = Atomic<Int>(0)
}

/// One value cached under an ``AttributeKey``, with its key's callbacks (type-erased).
struct KeyedAttribute {
    let key: Int
    let value: Any
    let copy: (() -> KeyedAttribute?)?
    let delete: (() -> Void)?

    init<Value>(_ value: Value, for key: AttributeKey<Value>) {
        self.key = key.id
        self.value = value
        self.copy = key.copy.map { copy in { copy(value).map { KeyedAttribute($0, for: key) } } }
        self.delete = key.delete.map { delete in { delete(value) } }
    }
}

extension Communicator {
    /// Stores `value` under `key` (MPI_Comm_set_attr); a value already stored there is deleted first
    /// (its key's `delete` runs).
    public func setAttribute<Value>(_ value: Value, for key: AttributeKey<Value>) {
        removeAttribute(for: key)
        withAttributes { $0.append(KeyedAttribute(value, for: key)) }
    }

    /// The value stored under `key`, if any (MPI_Comm_get_attr).
    public func attribute<Value>(for key: AttributeKey<Value>) -> Value? {
        withAttributes { $0.last { $0.key == key.id }?.value } as? Value
    }

    /// Deletes the value stored under `key`, running its key's `delete` (MPI_Comm_delete_attr).
    public func removeAttribute<Value>(for key: AttributeKey<Value>) {
        let removed = withAttributes { attributes in attributes.firstIndex { $0.key == key.id }.map { attributes.remove(at: $0) } }
        removed?.delete?()
    }

    /// The values `dup` carries over: each key's `copy` of this communicator's value.
    func copiedAttributes() -> [KeyedAttribute] { withAttributes { $0 }.compactMap { $0.copy?() } }

    /// Deletes every keyed value, newest first (for `free`).
    func deleteAllAttributes() {
        while let last = withAttributes({ $0.popLast() }) { last.delete?() }
    }

    /// Runs `body` on the communicator's values, under the runtime's lock at thread level
    /// `.multiple` (never across a callback: the callers run those after `body`).
    private func withAttributes<R>(_ body: (inout [KeyedAttribute]) -> R) -> R {
        let lock = runtime.lock
        lock?.lock()
        defer { lock?.unlock() }
        return body(&state.keyedAttributes)
    }
}
