import SwiftMPILauncherParsing
import Testing

/// `--map-by`, `--rank-by` and `--bind-to` on machines this one is not: placement is a pure function
/// of a ``CPUTopology`` (the launcher reads the real one from sysfs; `LauncherJobTests` checks the
/// bindings real ranks get here).
@Suite("rank placement")
struct PlacementTests {
    /// Two sockets of four cores with two hardware threads each, numbered as Linux does: CPUs 0-3
    /// are the first threads of socket 0's cores, 4-7 of socket 1's, 8-15 their second threads;
    /// one NUMA node per socket.
    static let twoSockets = CPUTopology(
        threads: (0..<16).map { cpu in
            let core = cpu % 8
            return CPUTopology.Thread(cpu: cpu, core: core % 4, socket: core / 4, numa: core / 4)
        })

    private func placed(
        _ mapBy: String, rankBy: String? = nil, bindTo: String? = nil, ranks: Int, on topology: CPUTopology = twoSockets
    )
        throws -> [[Int]]
    {
        var words = ["--map-by", mapBy]
        if let rankBy { words += ["--rank-by", rankBy] }
        if let bindTo { words += ["--bind-to", bindTo] }
        let options = try LaunchOptions.parse(words + ["-n", "\(ranks)", "p"])
        return try options.placement.place(ranks, on: topology).map(\.cpus)
    }

    @Test("objects: cores own their hardware threads, sockets their cores, in CPU order")
    func objects() {
        let topology = Self.twoSockets
        #expect(topology.objects(.core).count == 8 && topology.objects(.socket).count == 2 && topology.objects(.numa).count == 2)
        #expect(topology.objects(.core)[5].map { topology.threads[$0].cpu } == [5, 13])
        #expect(topology.objects(.hwthread).count == 16 && topology.objects(.node) == [Array(0..<16)])
    }

    @Test("slot and core: rank i on core i, bound to its two hardware threads; hwthread: rank i on a thread of its own")
    func sequential() throws {
        #expect(try placed("slot", ranks: 3) == [[0, 8], [1, 9], [2, 10]])
        #expect(try placed("core", ranks: 2) == [[0, 8], [1, 9]])
        #expect(try placed("hwthread", ranks: 3) == [[0], [8], [1]])
        #expect(try placed("core", bindTo: "hwthread", ranks: 2) == [[0], [1]])
        #expect(try placed("core", bindTo: "socket", ranks: 1) == [[0, 1, 2, 3, 8, 9, 10, 11]])
        #expect(try placed("core", bindTo: "none", ranks: 2) == [[], []])
    }

    @Test("more ranks than places: unbound by default, wrapped round when a binding is asked for")
    func oversubscribed() throws {
        #expect(try placed("core", ranks: 17).allSatisfy(\.isEmpty), "17 ranks on 16 hardware threads")
        let forced = try placed("core", bindTo: "core", ranks: 17)
        #expect(forced[8] == [0, 8] && forced[7] == [7, 15] && forced[16] == [0, 8])
        #expect(try placed("socket", ranks: 9).allSatisfy(\.isEmpty), "9 ranks on 8 cores mapped by socket")
    }

    @Test("socket and numa deal ranks round-robin, each on the next free core of its object, bound to the object")
    func roundRobin() throws {
        let socket0 = [0, 1, 2, 3, 8, 9, 10, 11], socket1 = [4, 5, 6, 7, 12, 13, 14, 15]
        #expect(try placed("socket", ranks: 3) == [socket0, socket1, socket0])
        #expect(try placed("numa", ranks: 2) == [socket0, socket1])
        #expect(try placed("socket", bindTo: "core", ranks: 4) == [[0, 8], [4, 12], [1, 9], [5, 13]])
        // --rank-by socket numbers the places so that consecutive ranks share a socket.
        #expect(try placed("socket", rankBy: "socket", bindTo: "core", ranks: 4) == [[0, 8], [1, 9], [4, 12], [5, 13]])
    }

    @Test("ppr:N:RESOURCE puts N ranks on each resource, and without -n starts exactly that many")
    func perResource() throws {
        #expect(try placed("ppr:2:socket", ranks: 4) == [[0, 8], [1, 9], [4, 12], [5, 13]])
        #expect(try placed("ppr:1:core", ranks: 8).count == 8)
        var policy = PlacementPolicy()
        _ = try policy.parseMapping("ppr:2:socket")
        #expect(policy.rankCount(on: Self.twoSockets) == 4)
        #expect(try LaunchOptions.parse(["--map-by", "ppr:2:socket", "p"]).rankCount == nil, "no -n needed")
        #expect(throws: LaunchError("--map-by ppr:2:socket places 2 ranks on each of this host's 2 sockets (4 ranks); -n asks for 5")) {
            try placed("ppr:2:socket", ranks: 5)
        }
    }

    @Test("PE=n gives each rank n cores and binds it to them, whatever the mapping")
    func coresPerRank() throws {
        #expect(try placed("slot:PE=2", ranks: 2) == [[0, 1, 8, 9], [2, 3, 10, 11]])
        #expect(try placed("socket:PE=2", ranks: 2) == [[0, 1, 8, 9], [4, 5, 12, 13]])
        #expect(try placed("ppr:1:socket:PE=4", ranks: 2) == [[0, 1, 2, 3, 8, 9, 10, 11], [4, 5, 6, 7, 12, 13, 14, 15]])
        #expect(try placed("hwthread:PE=2", ranks: 1) == [[0, 8]])
        #expect(throws: LaunchError("PE=3 asks for 3 cores per rank; this host has 2 usable (CPUs 0-1)")) {
            try placed("core:PE=3", ranks: 1, on: CPUTopology(flatCPUs: [0, 1]))
        }
        #expect(throws: LaunchError("PE=2: 5 ranks × 2 cores need 10; this host has 8 usable (CPUs 0-15)")) {
            try placed("core:PE=2", ranks: 5)
        }
    }

    @Test("a restricted CPU list (taskset, cpuset) is what ranks are placed on")
    func restricted() throws {
        let topology = CPUTopology(threads: Self.twoSockets.threads.filter { [2, 3, 6, 10].contains($0.cpu) })
        #expect(try placed("core", ranks: 3, on: topology) == [[2, 10], [3], [6]])
        #expect(try placed("socket", ranks: 2, on: topology) == [[2, 3, 10], [6]])
    }

    @Test("round-robin fills objects of different sizes before it wraps; more ranks than cores but not threads get a thread each")
    func unevenAndThreads() throws {
        let uneven = CPUTopology(threads: Self.twoSockets.threads.filter { [1, 2, 3, 6].contains($0.cpu) })
        #expect(try placed("socket", bindTo: "core", ranks: 4, on: uneven) == [[1], [6], [2], [3]])
        #expect(try placed("socket", ranks: 4, on: uneven) == [[1, 2, 3], [6], [1, 2, 3], [1, 2, 3]])
        let threads = try placed("slot", ranks: 12)
        #expect(Set(threads).count == 12 && threads.allSatisfy { $0.count == 1 }, "\(threads)")
        #expect(try placed("slot", ranks: 17).allSatisfy(\.isEmpty), "more ranks than threads: unbound")
    }

    @Test("PE=n never puts two ranks on the same cores; a repeated --map-by forgets an earlier PE")
    func coresNeverShared() throws {
        #expect(throws: LaunchError("--map-by ppr:4:socket:PE=2 needs 8 cores per socket; a socket of this host has 4")) {
            try placed("ppr:4:socket:PE=2", ranks: 8)
        }
        #expect(throws: LaunchError("--map-by ppr:3:socket:PE=2 needs 6 cores per socket; a socket of this host has 4")) {
            try placed("ppr:3:socket:PE=2", ranks: 6)
        }
        #expect(throws: LaunchError("PE=2: 5 ranks × 2 cores need 10; this host has 8 usable (CPUs 0-15)")) { try placed("socket:PE=2", ranks: 5) }
        let options = try LaunchOptions.parse(["--map-by", "core:PE=2", "--map-by", "socket", "-n", "1", "p"])
        #expect(options.placement.coresPerRank == nil)
        #expect(PlacementPolicy(encoded: "ppr.999999999999.socket/0/slot/auto") == nil && PlacementPolicy(encoded: "seq.core/0/board/auto") == nil)
    }

    @Test("bad spellings are refused with the choices named")
    func badSpellings() {
        #expect(throws: LaunchError("--bind-to must be one of none, hwthread, core, numa, socket, got 'l3cache'")) {
            try LaunchOptions.parse(["--bind-to", "l3cache", "-n", "1", "p"])
        }
        #expect(throws: LaunchError("--rank-by must be one of slot, node, hwthread, core, numa, socket, got 'board'")) {
            try LaunchOptions.parse(["--rank-by", "board", "-n", "1", "p"])
        }
        #expect(throws: LaunchError("--map-by ppr:two:core: ppr:N:RESOURCE expects N from 1 to 4096, got 'two'")) {
            try LaunchOptions.parse(["--map-by", "ppr:two:core", "-n", "1", "p"])
        }
        #expect(throws: LaunchError("--map-by core:PE=0: PE= expects a number of cores from 1 to 4096, got '0'")) {
            try LaunchOptions.parse(["--map-by", "core:PE=0", "-n", "1", "p"])
        }
        #expect(throws: LaunchError("--map-by must be slot, node, hwthread, core, numa, socket or ppr:N:RESOURCE, optionally followed by :PE=n, got 'board'")) {
            try LaunchOptions.parse(["--map-by", "board", "-n", "1", "p"])
        }
    }

    @Test("--report-bindings describes a binding as Open MPI does")
    func reportFormat() {
        let topology = Self.twoSockets
        #expect(topology.bindingDescription([0, 8]) == "socket 0[core 0[hwt 0-1]]: [BB/../../..][../../../..]")
        #expect(topology.bindingDescription([5]) == "socket 1[core 5[hwt 0]]: [../../../..][../B./../..]")
        #expect(CPUTopology(flatCPUs: [0, 1]).bindingDescription([0, 1]) == "socket 0[core 0[hwt 0]], socket 0[core 1[hwt 0]]: [B/B]")
    }

    @Test("the policy reaches daemons intact")
    func encoding() throws {
        for words in [["--map-by", "ppr:2:socket:PE=3", "--rank-by", "core", "--bind-to", "numa"], ["--map-by", "hwthread"], []] {
            let policy = try LaunchOptions.parse(words + ["-n", "1", "p"]).placement
            #expect(PlacementPolicy(encoded: policy.encoded) == policy, "\(words)")
        }
        #expect(PlacementPolicy(encoded: "garbage") == nil)
    }
}
