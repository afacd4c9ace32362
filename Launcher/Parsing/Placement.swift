/// The CPUs of one host that ranks may run on, with the hardware thread, core, NUMA node and socket
/// of each (read from sysfs by `swiftmpirun`; a value here, so placement is a pure function of it).
package struct CPUTopology: Equatable, Sendable {
    /// One hardware thread (a logical CPU).
    package struct Thread: Equatable, Sendable {
        /// The CPU number (as `taskset` and `sched_setaffinity` name it).
        package var cpu: Int
        /// The core it belongs to (any number that is equal for the threads of one core of a socket).
        package var core: Int
        /// The socket (physical package).
        package var socket: Int
        /// The NUMA node.
        package var numa: Int
        /// A thread from its parts.
        package init(cpu: Int, core: Int, socket: Int, numa: Int) {
            self.cpu = cpu
            self.core = core
            self.socket = socket
            self.numa = numa
        }
    }

    /// The usable threads, ascending by CPU number.
    package let threads: [Thread]

    /// A topology of `threads` (sorted here; at least one).
    package init(threads: [Thread]) {
        precondition(!threads.isEmpty, "a host has at least one usable CPU")
        self.threads = threads.sorted { $0.cpu < $1.cpu }
    }

    /// A topology that knows nothing but the CPU numbers: each its own core, one socket, one node.
    package init(flatCPUs cpus: [Int]) {
        self.init(threads: cpus.map { Thread(cpu: $0, core: $0, socket: 0, numa: 0) })
    }

    /// The objects of `level`, in order of their first thread; each lists indices into ``threads``.
    /// Cores are ordered within their socket, so a core's logical number is its index here.
    package func objects(_ level: PlacementLevel) -> [[Int]] {
        var order: [[Int]: Int] = [:]
        var groups: [[Int]] = []
        let ordered = threads.indices.sorted {
            (key(level, threads[$0]) + [threads[$0].cpu]).lexicographicallyPrecedes(key(level, threads[$1]) + [threads[$1].cpu])
        }
        for index in ordered {
            let objectKey = key(level, threads[index])
            if let group = order[objectKey] {
                groups[group].append(index)
            } else {
                order[objectKey] = groups.count
                groups.append([index])
            }
        }
        return groups
    }

    private func key(_ level: PlacementLevel, _ thread: Thread) -> [Int] {
        switch level {
        case .hwthread: [thread.socket, thread.core, thread.cpu]
        case .core: [thread.socket, thread.core]
        case .numa: [thread.numa]
        case .socket: [thread.socket]
        case .node: []
        }
    }
}

/// A level of the CPU hierarchy, in Open MPI's words.
package enum PlacementLevel: String, CaseIterable, Sendable {
    case hwthread, core, numa, socket, node
}

/// How the ranks of a host are placed on its CPUs: `--map-by`, `--rank-by` and `--bind-to`, with
/// Open MPI's spellings and, where a single host makes them meaningful, its semantics.
///
/// - `--map-by slot|node|core|hwthread|numa|socket|ppr:N:RESOURCE[:PE=n]` — where each rank goes:
///   `slot`, `node` and `core` give rank i the i-th core (the i-th hardware thread when a host has
///   more ranks than cores but not than hardware threads); `hwthread` the i-th hardware thread;
///   `numa` and `socket` deal ranks round-robin over those objects, each taking the next free core of
///   its object; `ppr:N:RESOURCE` puts N ranks on each RESOURCE (hwthread, core, numa, socket or node)
///   in turn and, without `-n`, starts exactly that many. `:PE=n` gives every rank n cores (n
///   hardware threads with `hwthread`) and sets `OMP_NUM_THREADS=n` unless the user set it.
///   Across hosts, `slot` and `node` also say how ranks are dealt to hosts (``HostPlan``).
/// - `--rank-by slot|node|hwthread|core|numa|socket` — the order in which the mapped places are
///   numbered: `slot` and `node` (default) in mapping order; a level numbers places sharing that
///   object consecutively (for example `--map-by socket --rank-by socket`: ranks 0 and 1 on socket 0).
/// - `--bind-to none|hwthread|core|numa|socket` — the CPUs a rank may use: those of the objects of
///   that level holding its place. Default: the mapping's level (`core` for slot, node, core and
///   ppr; `hwthread`, `numa` or `socket` when mapping by those; with `PE=n` the n cores), or none
///   when the host has more ranks than places (oversubscribed), as Open MPI does. With `PE=n`, more
///   ranks than places is an error: ranks sharing their cores would each spin on them.
package struct PlacementPolicy: Equatable, Sendable {
    /// `--map-by`'s placing part.
    package enum Mapping: Equatable, Sendable {
        /// Rank i on the i-th core (`slot`, `node`, `core`) or hardware thread (`hwthread`).
        case sequential(PlacementLevel)
        /// Round-robin over the objects of a level (`numa`, `socket`).
        case roundRobin(PlacementLevel)
        /// `ppr:N:RESOURCE`: N ranks on each object of a level.
        case perResource(Int, PlacementLevel)
    }

    /// `--bind-to`.
    package enum Binding: Equatable, Sendable {
        /// The default: the mapping's level, none when oversubscribed.
        case automatic
        /// `none`: ranks may run on any usable CPU.
        case none
        /// `hwthread`, `core`, `numa` or `socket`.
        case level(PlacementLevel)
    }

    /// Where ranks go.
    package var mapping: Mapping = .sequential(.core)
    /// `:PE=n`: cores (or hardware threads) per rank; nil when not given.
    package var coresPerRank: Int?
    /// `--rank-by` (nil: slot, numbering places in mapping order).
    package var ranking: PlacementLevel?
    /// `--bind-to`.
    package var binding: Binding = .automatic

    /// The default policy (`--map-by slot --rank-by slot --bind-to` automatic).
    package init() {}

    /// True for `ppr:N:RESOURCE`, which says how many ranks a host runs.
    package var countsRanks: Bool {
        if case .perResource = mapping { return true }
        return false
    }

    /// The ranks `ppr:N:RESOURCE` starts on `topology`, or nil for other mappings.
    package func rankCount(on topology: CPUTopology) -> Int? {
        guard case .perResource(let count, let level) = mapping else { return nil }
        return count * topology.objects(level).count
    }

    // MARK: - Command-line text

    /// Parses `--map-by` text into the host-dealing mapping and this policy's mapping and PE count.
    package mutating func parseMapping(_ text: String) throws(LaunchError) -> HostPlan.Mapping {
        coresPerRank = nil  // a repeated --map-by keeps only its last value, PE included
        var parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if let last = parts.last, last.lowercased().hasPrefix("pe=") {
            guard let count = Int(last.dropFirst(3)), count >= 1, count <= 4096 else {
                throw LaunchError("--map-by \(text): PE= expects a number of cores from 1 to 4096, got '\(last.dropFirst(3))'")
            }
            coresPerRank = count
            parts.removeLast()
        }
        let objects = "slot, node, hwthread, core, numa, socket or ppr:N:RESOURCE, optionally followed by :PE=n"
        switch parts.first ?? "" {
        case "slot" where parts.count == 1: mapping = .sequential(.core)
        case "node" where parts.count == 1:
            mapping = .sequential(.core)
            return .node
        case "core" where parts.count == 1: mapping = .sequential(.core)
        case "hwthread" where parts.count == 1: mapping = .sequential(.hwthread)
        case "numa" where parts.count == 1: mapping = .roundRobin(.numa)
        case "socket" where parts.count == 1: mapping = .roundRobin(.socket)
        case "ppr" where parts.count == 3:
            guard let count = Int(parts[1]), count >= 1, count <= 4096 else {
                throw LaunchError("--map-by \(text): ppr:N:RESOURCE expects N from 1 to 4096, got '\(parts[1])'")
            }
            guard let level = PlacementLevel(rawValue: parts[2]) else {
                throw LaunchError("--map-by \(text): ppr's RESOURCE must be one of hwthread, core, numa, socket, node, got '\(parts[2])'")
            }
            mapping = .perResource(count, level)
        default:
            throw LaunchError("--map-by must be \(objects), got '\(text)'")
        }
        return .slot
    }

    /// Parses `--rank-by` text.
    package mutating func parseRanking(_ text: String) throws(LaunchError) {
        switch text {
        case "slot", "node": ranking = nil
        case "hwthread", "core", "numa", "socket": ranking = PlacementLevel(rawValue: text)
        default: throw LaunchError("--rank-by must be one of slot, node, hwthread, core, numa, socket, got '\(text)'")
        }
    }

    /// Parses `--bind-to` text.
    package mutating func parseBinding(_ text: String) throws(LaunchError) {
        switch text {
        case "none": binding = .none
        case "hwthread", "core", "numa", "socket": binding = .level(PlacementLevel(rawValue: text)!)
        default: throw LaunchError("--bind-to must be one of none, hwthread, core, numa, socket, got '\(text)'")
        }
    }

    /// The policy as one word for a daemon on another host (``init(encoded:)`` reads it back).
    package var encoded: String {
        let mapText: String
        switch mapping {
        case .sequential(let level): mapText = "seq.\(level.rawValue)"
        case .roundRobin(let level): mapText = "rr.\(level.rawValue)"
        case .perResource(let count, let level): mapText = "ppr.\(count).\(level.rawValue)"
        }
        let bindText: String
        switch binding {
        case .automatic: bindText = "auto"
        case .none: bindText = "none"
        case .level(let level): bindText = level.rawValue
        }
        return "\(mapText)/\(coresPerRank ?? 0)/\(ranking?.rawValue ?? "slot")/\(bindText)"
    }

    /// Reads ``encoded``; nil for text it did not write.
    package init?(encoded text: String) {
        let fields = text.split(separator: "/").map(String.init)
        guard fields.count == 4, let pe = Int(fields[1]), (0...4096).contains(pe) else { return nil }
        let map = fields[0].split(separator: ".").map(String.init)
        switch (map.first, map.count) {
        case ("seq", 2): guard let level = PlacementLevel(rawValue: map[1]) else { return nil }; mapping = .sequential(level)
        case ("rr", 2): guard let level = PlacementLevel(rawValue: map[1]) else { return nil }; mapping = .roundRobin(level)
        case ("ppr", 3):
            guard let count = Int(map[1]), (1...4096).contains(count), let level = PlacementLevel(rawValue: map[2]) else { return nil }
            mapping = .perResource(count, level)
        default: return nil
        }
        coresPerRank = pe == 0 ? nil : pe
        if fields[2] == "slot" {
            ranking = nil
        } else {
            guard let level = PlacementLevel(rawValue: fields[2]) else { return nil }
            ranking = level
        }
        switch fields[3] {
        case "auto": binding = .automatic
        case "none": binding = .none
        default:
            guard let level = PlacementLevel(rawValue: fields[3]) else { return nil }
            binding = .level(level)
        }
    }
}
