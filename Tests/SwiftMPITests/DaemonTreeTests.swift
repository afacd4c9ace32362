import Testing
import SwiftMPILauncherParsing

/// Who starts which daemon in a tree start (parse-only).
@Suite("daemon start trees")
struct DaemonTreeTests {
    private func hosts(_ count: Int) -> [DaemonTree.Host] { (0..<count).map { DaemonTree.Host(index: $0 + 1, name: "node\($0 + 1)") } }

    @Test("every host is started exactly once, by the launcher or by a host started before it")
    func everyHostOnce() {
        for count in [1, 2, 7, 8, 9, 32, 100] {
            for fanout in [1, 2, 4, 8] {
                let tree = DaemonTree(hosts: hosts(count), fanout: fanout, agent: ["ssh"])
                var startedBy: [Int: Int] = [:]  // host index → starter (0 = launcher)
                for host in tree.startedByLauncher { startedBy[host.index] = 0 }
                for starter in tree.hosts {
                    for host in tree.started(byHost: starter.index) {
                        #expect(startedBy[host.index] == nil, "host \(host.index) started twice (\(count) hosts, fanout \(fanout))")
                        startedBy[host.index] = starter.index
                    }
                }
                #expect(Set(startedBy.keys) == Set(tree.hosts.map(\.index)), "\(count) hosts, fanout \(fanout)")
                // A starter comes before the hosts it starts, so no host waits on one not started yet.
                let position = Dictionary(uniqueKeysWithValues: tree.hosts.enumerated().map { ($0.element.index, $0.offset) })
                for (host, starter) in startedBy where starter != 0 { #expect(position[starter]! < position[host]!) }
                #expect(tree.startedByLauncher.count == min(fanout, count))
            }
        }
    }

    @Test("fanout 2 over 7 hosts: the launcher starts 2, they start 2 each, the third host starts the seventh")
    func smallTree() {
        let tree = DaemonTree(hosts: hosts(7), fanout: 2, agent: ["ip", "netns", "exec", "%h"])
        #expect(tree.startedByLauncher.map(\.index) == [1, 2])
        #expect(tree.started(byHost: 1).map(\.index) == [3, 4])
        #expect(tree.started(byHost: 2).map(\.index) == [5, 6])
        #expect(tree.started(byHost: 3).map(\.index) == [7])
        #expect(tree.started(byHost: 7).isEmpty && tree.started(byHost: 99).isEmpty)
    }

    @Test("the tree travels as one word no shell splits or expands, and comes back the same; malformed words are refused")
    func encoding() {
        var odd = hosts(5)
        odd[1].name = "a;b c$(x)`y`'\"*?,=@:ü"
        let tree = DaemonTree(hosts: odd, fanout: 3, agent: ["ip", "netns", "exec", "%h"])
        #expect(tree.encoded.allSatisfy { $0.isLetter || $0.isNumber || ":,@".contains($0) }, "\(tree.encoded)")
        #expect(DaemonTree(encoded: tree.encoded) == tree)
        for bad in ["", "x::1@61", "0::1@61", "2:zz:1@61", "2::1", "2::a@61", "2:6:1@61", "2::1@", "2::1@6"] {
            #expect(DaemonTree(encoded: bad) == nil, "'\(bad)'")
        }
        #expect(DaemonTree(hosts: hosts(3), fanout: Int.max, agent: ["ssh"]).fanout == 3)
    }

    @Test("flat up to the threshold, a tree beyond it; SWIFTMPI_LAUNCH_FANOUT overrides, 0 meaning flat, anything else an error")
    func fanoutChoice() throws {
        #expect(try DaemonTree.fanout(hostCount: DaemonTree.treeThreshold, setting: nil) == DaemonTree.treeThreshold)
        #expect(try DaemonTree.fanout(hostCount: DaemonTree.treeThreshold + 1, setting: nil) == DaemonTree.defaultFanout)
        #expect(try DaemonTree.fanout(hostCount: 32, setting: "0") == 32)
        #expect(try DaemonTree.fanout(hostCount: 32, setting: "4") == 4)
        for bad in ["many", "-1", ""] {
            #expect(throws: LaunchError.self, "'\(bad)'") { try DaemonTree.fanout(hostCount: 32, setting: bad) }
        }
    }
}
