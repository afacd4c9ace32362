/// Where one rank of a host runs.
package struct RankPlacement: Equatable, Sendable {
    /// The place it was mapped to: indices into ``CPUTopology/threads`` (its cores' or hardware
    /// threads' threads).
    package var place: [Int]
    /// The CPUs it is bound to, ascending; empty when it is not bound.
    package var cpus: [Int]
}

extension PlacementPolicy {
    /// Places `rankCount` ranks on `topology` (``PlacementPolicy`` says how).
    ///
    /// - Throws: ``LaunchError`` when the policy cannot be met: more cores per rank than the host
    ///   (or a mapped object) has, or more ranks than `ppr` places.
    package func place(_ rankCount: Int, on topology: CPUTopology) throws(LaunchError) -> [RankPlacement] {
        var unitLevel: PlacementLevel
        switch mapping {
        case .sequential(.hwthread), .perResource(_, .hwthread): unitLevel = .hwthread
        default: unitLevel = .core
        }
        // More ranks than cores but not than hardware threads: one rank per hardware thread, each
        // bound to its own, rather than all unbound.
        if mapping == .sequential(.core), coresPerRank == nil, rankCount > topology.objects(.core).count, rankCount <= topology.threads.count {
            unitLevel = .hwthread
        }
        let units = topology.objects(unitLevel)
        let perRank = coresPerRank ?? 1
        /// "1 core", "2 cores", "1 hardware thread", …
        func counted(_ count: Int) -> String { "\(count) \(unitLevel == .hwthread ? "hardware thread" : "core")\(count == 1 ? "" : "s")" }
        /// More ranks with PE=n than the host has places for: sharing cores, each would spin on them.
        func tooManyRanks() -> LaunchError {
            LaunchError(
                "PE=\(perRank): \(rankCount) ranks × \(counted(perRank)) need \(rankCount * perRank); "
                    + "this host has \(units.count) usable (CPUs \(cpuList(topology)))")
        }
        /// The places of `object`'s units, `perRank` units each (a rest smaller than that is unused).
        func places(within object: [Int]) -> [[Int]] {
            let inside = units.filter { object.contains($0[0]) }
            return stride(from: 0, through: inside.count - perRank, by: perRank).map { inside[$0..<($0 + perRank)].flatMap { $0 } }
        }
        var mapped: [[Int]] = []
        var oversubscribed = false
        switch mapping {
        case .sequential:
            let all = places(within: Array(topology.threads.indices))
            guard !all.isEmpty else {
                throw LaunchError("PE=\(perRank) asks for \(counted(perRank)) per rank; this host has \(units.count) usable (CPUs \(cpuList(topology)))")
            }
            if coresPerRank != nil && rankCount > all.count { throw tooManyRanks() }
            mapped = (0..<rankCount).map { all[$0 % all.count] }
            oversubscribed = rankCount > all.count
        case .roundRobin(let level):
            let perObject = topology.objects(level).map { places(within: $0) }.filter { !$0.isEmpty }
            guard !perObject.isEmpty else {
                throw LaunchError("PE=\(perRank) asks for \(perRank) cores per rank; no \(level.rawValue) of this host has that many")
            }
            // Round-robin over the objects that still have a free place (objects of a restricted CPU
            // list may differ in size); only when every place is taken does the mapping wrap round.
            let capacity = perObject.reduce(0) { $0 + $1.count }
            if coresPerRank != nil && rankCount > capacity { throw tooManyRanks() }
            var next = Array(repeating: 0, count: perObject.count)
            var object = 0
            while mapped.count < min(rankCount, capacity) {
                while next[object] >= perObject[object].count { object = (object + 1) % perObject.count }
                mapped.append(perObject[object][next[object]])
                next[object] += 1
                object = (object + 1) % perObject.count
            }
            while mapped.count < rankCount { mapped.append(mapped[mapped.count - capacity]) }
            oversubscribed = rankCount > capacity
        case .perResource(let count, let level):
            let objects = topology.objects(level)
            guard rankCount <= count * objects.count else {
                throw LaunchError(
                    "--map-by ppr:\(count):\(level.rawValue) places \(count) ranks on each of this host's \(objects.count) "
                        + "\(level.rawValue)\(objects.count == 1 ? "" : "s") (\(count * objects.count) ranks); -n asks for \(rankCount)")
            }
            for object in objects where mapped.count < rankCount {
                let inside = places(within: object)
                guard !inside.isEmpty else {
                    throw LaunchError("PE=\(perRank) asks for \(counted(perRank)) per rank; a \(level.rawValue) of this host has fewer")
                }
                if coresPerRank != nil && count > inside.count {
                    throw LaunchError(
                        "--map-by ppr:\(count):\(level.rawValue):PE=\(perRank) needs \(counted(count * perRank)) per \(level.rawValue); "
                            + "a \(level.rawValue) of this host has \(inside.count * perRank)")
                }
                for slot in 0..<count {
                    if mapped.count == rankCount { break }
                    mapped.append(inside[slot % inside.count])
                }
                oversubscribed = oversubscribed || count > inside.count
            }
        }
        if let ranking {
            let objects = topology.objects(ranking)
            let keys = mapped.map { place in objects.firstIndex { $0.contains(place[0]) }! }
            mapped = mapped.indices.sorted { (keys[$0], $0) < (keys[$1], $1) }.map { mapped[$0] }
        }
        return mapped.map { place in RankPlacement(place: place, cpus: bound(place, unitLevel: unitLevel, oversubscribed: oversubscribed, on: topology)) }
    }

    /// The CPUs a rank mapped to `place` is bound to.
    private func bound(_ place: [Int], unitLevel: PlacementLevel, oversubscribed: Bool, on topology: CPUTopology) -> [Int] {
        var level: PlacementLevel
        switch binding {
        case .none: return []
        case .level(let chosen): level = chosen
        case .automatic:
            if oversubscribed && coresPerRank == nil { return [] }
            if coresPerRank != nil { return place.map { topology.threads[$0].cpu }.sorted() }
            switch mapping {
            case .roundRobin(let mapped): level = mapped
            default: level = unitLevel
            }
        }
        var threads: Set<Int> = []
        if level == .hwthread {
            // One hardware thread per core of the place (the place itself when it is hardware threads).
            let cores = unitLevel == .hwthread ? place.map { [$0] } : topology.objects(.core).filter { place.contains($0[0]) }
            threads = Set(cores.map { $0[0] })
        } else {
            for object in topology.objects(level) where object.contains(where: place.contains) { threads.formUnion(object) }
        }
        return threads.map { topology.threads[$0].cpu }.sorted()
    }
}

extension CPUTopology {
    /// How Open MPI's `--report-bindings` describes a binding to `cpus`: each bound core as
    /// `socket S[core C[hwt H]]` (logical numbers; H within the core, ranges as `0-1`), then a map
    /// of every socket's cores with `B` for a bound thread and `.` for another, for example
    /// `socket 0[core 0[hwt 0]], socket 0[core 1[hwt 0]]: [B/B]`.
    package func bindingDescription(_ cpus: [Int]) -> String {
        let bound = Set(cpus)
        let cores = objects(.core)
        var parts: [String] = []
        var map = ""
        for (socketNumber, socket) in objects(.socket).enumerated() {
            var coreMaps: [String] = []
            for (coreNumber, core) in cores.enumerated() where socket.contains(core[0]) {
                coreMaps.append(String(core.map { bound.contains(threads[$0].cpu) ? "B" : "." }))
                let hwts = core.indices.filter { bound.contains(threads[core[$0]].cpu) }
                if !hwts.isEmpty { parts.append("socket \(socketNumber)[core \(coreNumber)[hwt \(rangeText(hwts))]]") }
            }
            map += "[" + coreMaps.joined(separator: "/") + "]"
        }
        return parts.joined(separator: ", ") + ": " + map
    }
}

/// `0-3,8` for [0, 1, 2, 3, 8].
package func rangeText(_ numbers: [Int]) -> String {
    var pieces: [String] = []
    var index = 0
    let sorted = numbers.sorted()
    while index < sorted.count {
        var end = index
        while end + 1 < sorted.count && sorted[end + 1] == sorted[end] + 1 { end += 1 }
        pieces.append(end == index ? "\(sorted[index])" : "\(sorted[index])-\(sorted[end])")
        index = end + 1
    }
    return pieces.joined(separator: ",")
}

private func cpuList(_ topology: CPUTopology) -> String { rangeText(topology.threads.map(\.cpu)) }
