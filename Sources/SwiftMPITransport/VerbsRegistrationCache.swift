#if canImport(Glibc)
import Glibc
#endif
import CShims

/// Memory registrations for RDMA, kept after use so that a buffer sent again is not registered again
/// (registration pins pages and costs tens of microseconds; "leave pinned", as Open MPI calls it).
///
/// A registration covers whole pages and is found again for any range inside it. Entries in use by a
/// transfer in flight are never evicted; unused ones go least-recently-used first once more than
/// ``capacity`` are held.
///
/// Safety: a cached registration keeps the *physical* pages it pinned. If the program unmapped that
/// range and something new were mapped at the same address, the registration would point to the old
/// pages. Open MPI and UCX prevent this with hooks on munmap; SwiftMPI does what Open MPI does without
/// them: while the cache is on, malloc is told never to return memory to the system
/// (`M_MMAP_MAX` 0, `M_TRIM_THRESHOLD` off), so freed heap memory keeps its pages and a later
/// allocation at the same address is the same memory. Only glibc's malloc can be told so: under any
/// other (a preloaded jemalloc, a sanitizer's) the cache turns itself off (``offReason``). Memory a
/// program maps itself with mmap and unmaps while the job runs is not covered: turn the cache off
/// with `SWIFTMPI_VERBS_REGISTRATION_CACHE=0` (each transfer then registers and deregisters).
final class VerbsRegistrationCache {
    struct Entry {
        var start: UInt
        var end: UInt
        var region: UnsafeMutableRawPointer
        var lkey: UInt32
        var rkey: UInt32
        var users: Int
        var lastUse: UInt64
    }

    /// A registration handed out; give it back with ``release(_:)``.
    struct Handle {
        var slot: Int
        var lkey: UInt32
        var rkey: UInt32
    }

    private let endpoint: OpaquePointer
    private let enabled: Bool
    /// Why registrations are not kept (asked to, or malloc not glibc's), or nil when they are.
    let offReason: String?
    let capacity: Int
    private var entries: [Entry?] = []
    private var clock: UInt64 = 0
    /// Registrations made (calls to ibv_reg_mr) and look-ups served from the cache.
    private(set) var registrations = 0
    private(set) var hits = 0

    init(endpoint: OpaquePointer, enabled requested: Bool, capacity: Int = 64) {
        self.endpoint = endpoint
        self.capacity = capacity
        if !requested {
            offReason = "SWIFTMPI_VERBS_REGISTRATION_CACHE=0"
        } else if cshims_malloc_keep_pages() != 0 {
            offReason = "malloc is not glibc's, so freed memory may change pages"
        } else {
            offReason = nil
        }
        enabled = offReason == nil
    }

    deinit { deregisterAll() }

    /// Deregisters every cached registration; the owner calls it before it closes the endpoint the
    /// registrations belong to (a deregistration after the close touches freed verbs objects — the
    /// transport conformance suite, which drops transports, found it).
    func deregisterAll() {
        for entry in entries { if let entry { cshims_verbs_deregister(entry.region) } }
        entries.removeAll()
    }

    /// A registration covering `bytes`, or the errno of a failed registration.
    func acquire(_ bytes: UnsafeRawBufferPointer) -> Result<Handle, TransportError> {
        let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
        let address = UInt(bitPattern: bytes.baseAddress)
        let start = address & ~(page - 1)
        let end = (address + UInt(max(bytes.count, 1)) + page - 1) & ~(page - 1)
        clock &+= 1
        if enabled {
            for slot in entries.indices {
                guard let entry = entries[slot], entry.start <= start, entry.end >= end else { continue }
                entries[slot]!.users += 1
                entries[slot]!.lastUse = clock
                hits += 1
                return .success(Handle(slot: slot, lkey: entry.lkey, rkey: entry.rkey))
            }
        }
        var region: UnsafeMutableRawPointer?
        var lkey: UInt32 = 0
        var rkey: UInt32 = 0
        let error = cshims_verbs_register(endpoint, UnsafeMutableRawPointer(bitPattern: start), Int(end - start), &region, &lkey, &rkey)
        guard error == 0, let region else {
            return .failure(TransportError("ibv_reg_mr of \(end - start) bytes: \(String(cString: strerror(error)))", errno: error))
        }
        registrations += 1
        if enabled { evictIfFull() }
        let entry = Entry(start: start, end: end, region: region, lkey: lkey, rkey: rkey, users: 1, lastUse: clock)
        let slot =
            entries.firstIndex { $0 == nil }
            ?? {
                entries.append(nil); return entries.count - 1
            }()
        entries[slot] = entry
        return .success(Handle(slot: slot, lkey: lkey, rkey: rkey))
    }

    /// Ends one use of a registration (deregistered at once when the cache is off).
    func release(_ handle: Handle) {
        guard handle.slot < entries.count, entries[handle.slot] != nil else { return }
        entries[handle.slot]!.users -= 1
        if !enabled && entries[handle.slot]!.users == 0 {
            cshims_verbs_deregister(entries[handle.slot]!.region)
            entries[handle.slot] = nil
        }
    }

    private func evictIfFull() {
        while entries.lazy.compactMap({ $0 }).count >= capacity {
            var victim: Int?
            for slot in entries.indices {
                guard let entry = entries[slot], entry.users == 0 else { continue }
                if victim == nil || entry.lastUse < entries[victim!]!.lastUse { victim = slot }
            }
            guard let victim else { return }  // everything in use: grow past capacity
            cshims_verbs_deregister(entries[victim]!.region)
            entries[victim] = nil
        }
    }
}
