/// The one-sided hints a window takes (MPI-4.1 §12.2.1), parsed from an ``Info`` with MPI's key
/// names. What SwiftMPI does with each:
/// - `no_locks` (`true`/`false`): the rank promises that its part of the window is never locked
///   (MPI: no agent needs to serve lock requests there). Other ranks learn it at creation: a
///   ``Window/lock(_:rank:noCheck:)`` of such a rank, or a ``Window/lockAll(noCheck:)`` while any
///   rank gave it, throws `.rmaSynchronization` instead of waiting on a lock nobody serves.
/// - `same_size`, `same_disp_unit` (`true`/`false`): checked at creation against what the ranks
///   gave; when a rank that claims one is wrong, every rank throws `.invalidArgument`.
/// - `accumulate_ordering` (`none`, or a comma-separated list of `rar`, `raw`, `war`, `waw`),
///   `accumulate_ops` (`same_op_no_op`, `same_op`) and `mpi_accumulate_granularity` (bytes, ≥ 0):
///   accepted and reported. SwiftMPI keeps every order and lets any operations meet on an element
///   (each accumulate holds the target's accumulate lock), so relaxing them has nothing to speed up.
/// - `alloc_shared_noncontig` (`true`/`false`): accepted and reported; ``Window/allocateShared(count:on:info:)``
///   lays the ranks' parts out contiguously either way.
///
/// Unknown keys are ignored, as MPI asks; a known key with a value it does not take throws
/// `.invalidArgument` naming it (as the file hints do). After creation (`setInfo`) the accumulate
/// keys change; the others describe how the window was made and keep their values.
struct WindowHints: Sendable, Equatable {
    var noLocks = false
    var sameSize = false
    var sameDisplacementUnit = false
    var accumulateOrdering = "rar,raw,war,waw"
    var accumulateOps = "same_op_no_op"
    var accumulateGranularity = 0
    var allocSharedNoncontiguous = false

    /// The defaults: no hints given.
    init() {}

    init(_ info: Info) throws(MPIError) {
        self = try WindowHints().applying(info, atCreation: true)
    }

    /// These hints with the known keys of `info` taken (all checked first: a bad value changes
    /// nothing); after creation (MPI_Win_set_info) only the accumulate keys change.
    func applying(_ info: Info, atCreation: Bool) throws(MPIError) -> WindowHints {
        var hints = self
        try hints.apply(info, atCreation: atCreation)
        return hints
    }

    private mutating func apply(_ info: Info, atCreation: Bool) throws(MPIError) {
        for key in info.keys {
            let value = info[key]!
            switch key {
            case "no_locks", "same_size", "same_disp_unit", "alloc_shared_noncontig":
                let flag = try Self.boolean(key, value)
                guard atCreation else { continue }
                switch key {
                case "no_locks": noLocks = flag
                case "same_size": sameSize = flag
                case "same_disp_unit": sameDisplacementUnit = flag
                default: allocSharedNoncontiguous = flag
                }
            case "mpi_accumulate_granularity":
                guard let bytes = Int(value), bytes >= 0 else {
                    throw MPIError(.invalidArgument, "Window hints: mpi_accumulate_granularity must be a number of bytes, got \"\(value)\"")
                }
                accumulateGranularity = bytes
            case "accumulate_ordering":
                let orders = value.split(separator: ",").map { $0.trimmingWhitespace() }
                guard value == "none" || (!orders.isEmpty && orders.allSatisfy { ["rar", "raw", "war", "waw"].contains($0) }) else {
                    throw MPIError(.invalidArgument, "Window hints: accumulate_ordering must be none or a list of rar, raw, war, waw, got \"\(value)\"")
                }
                accumulateOrdering = value == "none" ? "none" : orders.joined(separator: ",")
            case "accumulate_ops":
                guard value == "same_op_no_op" || value == "same_op" else {
                    throw MPIError(.invalidArgument, "Window hints: accumulate_ops must be same_op_no_op or same_op, got \"\(value)\"")
                }
                accumulateOps = value
            default: continue
            }
        }
    }

    /// The hints in effect, as MPI_Win_get_info reports them: every key above.
    var reported: Info {
        var info = Info()
        let pairs = [
            ("no_locks", "\(noLocks)"), ("accumulate_ordering", accumulateOrdering), ("accumulate_ops", accumulateOps),
            ("mpi_accumulate_granularity", "\(accumulateGranularity)"),
            ("same_size", "\(sameSize)"), ("same_disp_unit", "\(sameDisplacementUnit)"), ("alloc_shared_noncontig", "\(allocSharedNoncontiguous)")
        ]
        for (key, value) in pairs { try? info.set(key, value) }
        return info
    }

    private static func boolean(_ key: String, _ value: String) throws(MPIError) -> Bool {
        switch value {
        case "true": return true
        case "false": return false
        default: throw MPIError(.invalidArgument, "Window hints: \(key) must be true or false, got \"\(value)\"")
        }
    }
}

extension Substring {
    /// The text without leading and trailing spaces.
    fileprivate func trimmingWhitespace() -> String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
