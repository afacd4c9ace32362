import SwiftMPILauncherParsing
import Testing

/// swiftmpirun's command-line parser on its own (the launcher's behaviour on bad command lines is
/// tested by running it, in LauncherCommandLineTests).
@Suite("swiftmpirun's command line")
struct LaunchOptionsTests {
    @Test("values follow as the next word, after '=', or attached to -n and -x")
    func valueForms() throws {
        for words in [["-n", "4", "p"], ["-np", "4", "p"], ["--np", "4", "p"], ["--np=4", "p"], ["-np=4", "p"], ["-n4", "p"], ["-n=4", "p"]] {
            let options = try LaunchOptions.parse(words)
            #expect(options.rankCount == 4 && options.command == ["p"], "\(words)")
        }
        let options = try LaunchOptions.parse([
            "-xA=1", "-x", "B", "--bind-to=none", "--map-by", "node", "--transport", "tcp",
            "--timeout", "2.5", "--tag-output", "-n", "1", "-n", "3", "prog", "-n", "9", "--help"
        ])
        #expect(options.exports == ["A=1", "B"])
        #expect(options.placement.binding == .none && options.mapping == .node && options.transport == .tcp)
        #expect(options.timeout == 2.5 && options.tagOutput && options.rankCount == 3)
        #expect(options.command == ["prog", "-n", "9", "--help"], "everything from PROGRAM on belongs to the program")
    }

    @Test("':' separates the programs of a multi-program job, each with its own -n, -x and --wdir")
    func multiProgram() throws {
        let options = try LaunchOptions.parse(["--tag-output", "-n", "1", "a", "x", ":", "-n2", "-x", "R=1", "--wdir", "/w", "b", "-n", "y", ":", "--np=3", "c"]
        )
        #expect(options.command == ["a", "x"] && options.rankCount == 1 && options.tagOutput)
        #expect(
            options.moreApps == [
                LaunchOptions.App(rankCount: 2, exports: ["R=1"], workingDirectory: "/w", command: ["b", "-n", "y"]),
                LaunchOptions.App(rankCount: 3, command: ["c"])
            ])
        for (words, message) in [
            (["-n", "1", "a", ":", "b"], "every program after ':' needs its own -n (missing for 'b')"),
            (["a", ":", "-n", "1", "b"], "every program of a multi-program job needs its own -n (missing for 'a')"),
            (["-n", "1", "a", ":"], "missing PROGRAM after ':'"),
            (["-n", "1", ":", "-n", "1", "b"], "missing PROGRAM before ':'"),
            (["-n", "1", "a", ":", "-n", "0", "b"], "-n must be at least 1, got 0 (for 'b')"),
            (["-n", "1", "a", ":", "-n", "9223372036854775807", "b"], "-n 9223372036854775807 is more ranks than one launch can start (at most 4096; for 'b')"),
            (["-n", "1", "a", ":", "-n", "1", "-x", "A-B", "b"], "-x 'A-B': expected NAME or NAME=VALUE"),
            (
                ["-n", "1", "a", ":", "-n", "1", "--timeout", "3", "b"],
                "'--timeout' applies to the whole job: give it before the first program (after ':' only -n, -x and --wdir)"
            ),
            (
                ["--map-by", "ppr:1:core", "-n", "1", "a", ":", "-n", "1", "b"],
                "--map-by ppr cannot count the ranks of a multi-program job; give -n to each program"
            )
        ] {
            #expect(throws: LaunchError(message), "\(words)") { try LaunchOptions.parse(words) }
        }
    }

    @Test("Open MPI's --oversubscribe and --allow-run-as-root are accepted and change nothing")
    func openMPISpellings() throws {
        let options = try LaunchOptions.parse(["--oversubscribe", "--allow-run-as-root", "-n", "8", "p"])
        #expect(options.rankCount == 8 && options.command == ["p"])
        #expect(throws: LaunchError("'--oversubscribe' takes no value")) { try LaunchOptions.parse(["--oversubscribe=1", "-n", "2", "p"]) }
        #expect(LaunchOptions.helpText.contains("--oversubscribe"))
    }

    @Test("'--' ends the options, so PROGRAM may start with a dash")
    func doubleDash() throws {
        #expect(try LaunchOptions.parse(["-n", "2", "--", "-odd", "x"]).command == ["-odd", "x"])
    }

    @Test("help, version and info need no PROGRAM")
    func actions() throws {
        #expect(try LaunchOptions.parse(["-n", "2", "--help"]).action == .help)
        #expect(try LaunchOptions.parse(["-h"]).action == .help)
        #expect(try LaunchOptions.parse(["--version"]).action == .version)
        #expect(try LaunchOptions.parse(["--info"]).action == .info)
        #expect(try LaunchOptions.parse(["--daemon", "h:1", "--daemon-host", "2"]).action == .daemon(endpoint: "h:1", hostIndex: 2))
        #expect(LaunchOptions.helpText.contains("USAGE: swiftmpirun"))
    }

    @Test("-n may be left out inside a Slurm allocation or with hosts, not otherwise")
    func rankCountDefault() throws {
        #expect(try LaunchOptions.parse(["p"], environment: { $0 == "SLURM_JOB_ID" ? "7" : nil }).rankCount == nil)
        #expect(try LaunchOptions.parse(["--host", "a:2", "p"]).rankCount == nil)
        #expect(throws: LaunchError("missing -n N (the number of ranks)")) { try LaunchOptions.parse(["p"]) }
    }

    @Test(
        "bad command lines throw an error naming the word at fault",
        arguments: [
            (["--bogus", "p"], "unknown option '--bogus'"),
            (["-n"], "missing value for '-n'"),
            (["-n", "two", "p"], "-n expects an integer, got 'two'"),
            (["-n", "0", "p"], "-n must be at least 1, got 0"),
            (["-n", "5000", "p"], "at most 4096"),
            (["-n", "2"], "missing PROGRAM to run"),
            (["-n", "2", "--bind-to", "board", "p"], "--bind-to must be one of none, hwthread, core, numa, socket, got 'board'"),
            (
                ["-n", "2", "--map-by", "ppr", "p"],
                "--map-by must be slot, node, hwthread, core, numa, socket or ppr:N:RESOURCE, optionally followed by :PE=n, got 'ppr'"
            ),
            (["-n", "2", "--transport", "ib", "p"], "--transport must be one of auto, shm, tcp, verbs, got 'ib'"),
            (["-n", "2", "--timeout", "nan", "p"], "--timeout must be a positive number of seconds, got 'nan'"),
            (["-n", "2", "--timeout", "0", "p"], "--timeout must be a positive number of seconds"),
            (["-n", "2", "-x", "A-B=1", "p"], "-x 'A-B=1': expected NAME or NAME=VALUE"),
            (["-n", "2", "--tag-output=yes", "p"], "'--tag-output' takes no value"),
            (["--host", "a", "--hostfile", "f", "p"], "give --host or --hostfile, not both"),
            (["--daemon", "h:1"], "--daemon needs --daemon-host"),
            (["--daemon", "h:1", "--daemon-host", "-1"], "--daemon-host must be a host index, got -1")
        ])
    func badCommandLines(words: [String], expected: String) {
        #expect { try LaunchOptions.parse(words) } throws: { error in
            (error as? LaunchError)?.description.contains(expected) == true
        }
    }

    @Test("slot counts are bounded, so slot sums cannot overflow (found by libFuzzer: a:<huge> ran out of memory)")
    func slotBounds() throws {
        #expect(throws: LaunchError.self) { try HostPlan.parseHostList("a:65537") }
        #expect(throws: LaunchError.self) { try HostPlan.parseHostList("a:9223372036854775807,a:1") }
        #expect(throws: LaunchError.self) { try HostPlan.parseHostfile("n1 slots=9223372036854775807\n", path: "f") }
        let plan = HostPlan(hosts: try HostPlan.parseHostList("a:65536,b:65536,a:1"), rankCount: 3, mapping: .slot)
        #expect(plan.hosts == [.init(name: "a", slots: 65537), .init(name: "b", slots: 65536)] && plan.hostOfRank == [0, 0, 0])
    }

    @Test("Slurm's compressed task counts expand; malformed ones are refused")
    func slurmCounts() {
        #expect(SlurmAllocation.expandCounts("2(x3),1") == [2, 2, 2, 1])
        #expect(SlurmAllocation.expandCounts("4") == [4])
        for bad in ["", "0", "2(x0)", "2(3)", "x", "2(x3", "-1", "2(x99999999)"] {
            #expect(SlurmAllocation.expandCounts(bad) == nil, "\(bad)")
        }
    }
}
