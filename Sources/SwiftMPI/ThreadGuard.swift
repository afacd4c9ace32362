#if canImport(Glibc)
import Glibc
#endif
import CShims

/// Debug builds only: below thread level `.multiple` (with no lock installed), at most one thread
/// may be inside SwiftMPI at a time. A second thread entering while another is inside would race
/// on the engine; instead the process stops with a line saying so. `.single` and `.funneled` are
/// checked like `.serialized`: any thread, one at a time (Swift tasks hop between threads).
///
/// The owner word is the only shared state: a thread takes it with a compare-and-exchange, and
/// nested entries by the owner (a collective's schedule sending from inside a wait) only count
/// depth, which no other thread touches while the owner holds the word.
enum ThreadGuard {
    nonisolated(unsafe) private static let owner: UnsafeMutablePointer<UInt64> = {
        let word = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
        word.initialize(to: 0)
        return word
    }()
    nonisolated(unsafe) private static var depth = 0  // written by the owner only

    /// Enters; stops the process if another thread is inside.
    static func enter(_ call: @autoclosure () -> String, level: ThreadLevel) {
        let me = UInt64(pthread_self())
        if cshims_load_acquire_u64(owner) == me {
            depth += 1
            return
        }
        var expected: UInt64 = 0
        guard cshims_compare_exchange_u64(owner, &expected, me) else {
            report(
                "two threads are inside SwiftMPI at once (\(call())) at thread level .\(level): that races on its state. "
                    + "Initialize with MPI.initialize(threadLevel: .multiple) when threads or tasks call SwiftMPI concurrently "
                    + "(this check runs in debug builds)")
            abort()
        }
        depth = 1
    }

    /// Leaves (after a matching ``enter(_:level:)``).
    static func leave() {
        depth -= 1
        if depth == 0 { cshims_store_release_u64(owner, 0) }
    }
}
