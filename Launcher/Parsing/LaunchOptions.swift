/// `swiftmpirun`'s command line, parsed and checked.
///
/// Option names follow Open MPI's `mpirun`: `-n`/`-np`/`--np N`, `-x NAME[=VALUE]` (repeatable),
/// `--host`, `--hostfile`, `--map-by`, `--rank-by`, `--bind-to`, `--report-bindings`, `--display-map`,
/// `--tag-output`, `--output-dir`, `--timeout`.
/// A value may follow its option as the next word, after `=` (`--np=4`), or, for the one-letter
/// options, attached (`-n4`). A repeated option keeps its last value (`-x` accumulates). Options end
/// at the first word that is not one (PROGRAM) or after `--`; everything from PROGRAM on is passed to
/// the program unchanged, as `mpirun` does.
///
/// Parsing never traps and never reads more than its arguments and one environment variable
/// (`SLURM_JOB_ID`, which lets `-n` default to the allocation's slots); every problem is a
/// ``LaunchError`` whose text names the word at fault.
package struct LaunchOptions: Equatable, Sendable {
    /// The transports a user may force with `--transport`.
    package enum Transport: String, CaseIterable, Sendable {
        case auto, shm, tcp, verbs
    }

    /// What the command line asks for besides running a job.
    package enum Action: Equatable, Sendable {
        /// Start a job (the usual case).
        case run
        /// `--help`, `-h`: print ``helpText`` and exit 0.
        case help
        /// `--version`: print the version and exit 0.
        case version
        /// `--info`: print what this build and machine support, then exit 0.
        case info
        /// The hidden per-host daemon mode of a multi-host job (`--daemon ENDPOINT --daemon-host I
        /// [--daemon-tree TREE]`: the tree when this daemon starts other hosts' daemons).
        case daemon(endpoint: String, hostIndex: Int, tree: DaemonTree? = nil)
    }

    /// What to do; `.run` unless a help, version, info or daemon option was given.
    package var action: Action = .run
    /// `-n`; nil when not given (then the hosts' or the Slurm allocation's slots decide).
    package var rankCount: Int?
    /// `-x` words, as given (each checked to be NAME or NAME=VALUE).
    package var exports: [String] = []
    /// `--tag-output`: prefix each output line with its rank.
    package var tagOutput = false
    /// `--enable-recovery`: the job goes on when a rank fails (ULFM; docs/Recovery.md).
    package var enableRecovery = false
    /// `--backtrace`: leave the Swift runtime's crash backtraces on in the ranks (they are off by
    /// default: a stopped rank's one-line verdict and its "Fatal error" line say what happened).
    package var backtrace = false
    /// `--output-dir`: where each rank's output goes instead of the terminal.
    package var outputDirectory: String?
    /// `--map-by` (its placing part and `:PE=n`), `--rank-by` and `--bind-to`: where each rank of a
    /// host runs (``PlacementPolicy``).
    package var placement = PlacementPolicy()
    /// `--report-bindings`: one line per rank on stderr saying which CPUs it is bound to.
    package var reportBindings = false
    /// `--display-map`: print the job's map (hosts, ranks, bindings) before it starts.
    package var displayMap = false
    /// `--transport`; nil leaves the choice to the runtime.
    package var transport: Transport?
    /// `--tcp-if`: interface name or IPv4 address for TCP between ranks.
    package var tcpInterface: String?
    /// `--launcher-if`: interface name or IPv4 address daemons reach the launcher on (default:
    /// every address, tried in order).
    package var launcherInterface: String?
    /// `--host`, unparsed (``HostPlan/parseHostList(_:)`` reads it).
    package var hostList: String?
    /// `--hostfile`: the path (``HostPlan/readHostfile(_:)`` reads it).
    package var hostfile: String?
    /// How `--map-by` deals ranks to hosts (`node`: round-robin; anything else fills each host's
    /// slots in order).
    package var mapping: HostPlan.Mapping = .slot
    /// `--launch-agent`: the command that starts a daemon on host %h.
    package var launchAgent: String?
    /// `--trace DIR`: record every rank's MPI calls and messages; the merged trace is DIR/trace.json.
    package var traceDirectory: String?
    /// `--trace-buffer N`: events each rank can hold (at least 16).
    package var traceBuffer: Int?
    /// `--profile`: print a profile of the job's MPI calls when it ends.
    package var profile = false
    /// `--profile-out DIR`: write profile.json and the plots (SVG) to DIR.
    package var profileDirectory: String?
    /// `--timeout`: positive and finite when set.
    package var timeout: Double?
    /// PROGRAM and its arguments (the first program, when ':' separates several).
    package var command: [String] = []
    /// `--wdir`: the directory ranks start in (the first program's, and every later program's that
    /// gives none), created by nobody: it must exist on every host.
    package var workingDirectory: String?
    /// The programs after the first of a multi-program job (``App``); empty for one program.
    package var moreApps: [App] = []

    /// The most ranks one launch may start.
    package static let maximumRankCount = 4096

    /// Options as if nothing was given (parse fills them in).
    package init() {}

    /// Parses `arguments` (without the program name) and checks them together.
    ///
    /// - Parameter environment: looks up an environment variable (only `SLURM_JOB_ID` is read).
    /// - Throws: ``LaunchError`` for an unknown option, a missing or malformed value, or a
    ///   combination that cannot run (no PROGRAM, no `-n` outside an allocation, both `--host` and
    ///   `--hostfile`, …).
    package static func parse(_ arguments: [String], environment: (String) -> String? = { _ in nil }) throws(LaunchError) -> LaunchOptions {
        var options = LaunchOptions()
        var daemonEndpoint: String?
        var daemonHost: Int?
        var daemonTree: DaemonTree?
        var words = arguments[...]
        while let word = words.first, options.command.isEmpty {
            words = words.dropFirst()
            if word == "--" {
                options.command = Array(words)
                break
            }
            guard word.hasPrefix("-"), word != "-" else {
                options.command = [word] + words
                break
            }
            let (name, attached) = splitOption(word)
            func value() throws(LaunchError) -> String { try optionValue(attached, of: name, from: &words) }
            switch name {
            case "-h", "--help", "-help": options.action = .help
            case "--version": options.action = .version
            case "--info": options.action = .info
            case "--tag-output": options.tagOutput = true
            case "--enable-recovery": options.enableRecovery = true
            case "--backtrace": options.backtrace = true
            case "--oversubscribe", "--allow-run-as-root":
                break  // Open MPI's spellings of what swiftmpirun always allows (see the help text)
            case "-n", "-np", "--np": options.rankCount = try integer(try value(), of: name)
            case "-x": options.exports.append(try value())
            case "--output-dir": options.outputDirectory = try value()
            case "--wdir": options.workingDirectory = try directory(try value(), of: name)
            case "--bind-to": try options.placement.parseBinding(try value())
            case "--rank-by": try options.placement.parseRanking(try value())
            case "--report-bindings": options.reportBindings = true
            case "--display-map": options.displayMap = true
            case "--transport": options.transport = try choice(try value(), of: name)
            case "--tcp-if": options.tcpInterface = try value()
            case "--launcher-if": options.launcherInterface = try value()
            case "--host": options.hostList = try value()
            case "--hostfile": options.hostfile = try value()
            case "--map-by": options.mapping = try options.placement.parseMapping(try value())
            case "--launch-agent": options.launchAgent = try value()
            case "--timeout": options.timeout = try seconds(try value())
            case "--trace": options.traceDirectory = try directory(try value(), of: name)
            case "--trace-buffer":
                let count = try integer(try value(), of: name)
                guard count >= 16 && count <= 1 << 26 else { throw LaunchError("--trace-buffer must be 16 to \(1 << 26) events, got \(count)") }
                options.traceBuffer = count
            case "--profile": options.profile = true
            case "--profile-out": options.profileDirectory = try directory(try value(), of: name)
            case "--daemon": daemonEndpoint = try value()
            case "--daemon-host":
                let index = try integer(try value(), of: name)
                guard (0..<Int(UInt32.max)).contains(index) else { throw LaunchError("--daemon-host must be a host index, got \(index)") }
                daemonHost = index
            case "--daemon-tree":
                let text = try value()
                guard let tree = DaemonTree(encoded: text) else { throw LaunchError("--daemon-tree is malformed: '\(text)'") }
                daemonTree = tree
            default: throw LaunchError("unknown option '\(word)'")
            }
            if attached != nil,
                [
                    "-h", "--help", "-help", "--version", "--info", "--tag-output", "--enable-recovery", "--backtrace", "--profile", "--oversubscribe",
                    "--allow-run-as-root", "--report-bindings", "--display-map"
                ]
                .contains(name)
            {
                throw LaunchError("'\(name)' takes no value")
            }
        }
        // A standalone ':' separates the programs of a multi-program job (Open MPI's MPMD syntax).
        let programs = options.command.split(separator: ":", omittingEmptySubsequences: false)
        if programs.count > 1 {
            guard !programs[0].isEmpty else { throw LaunchError("missing PROGRAM before ':'") }
            options.command = Array(programs[0])
            options.moreApps = try programs.dropFirst().map { words throws(LaunchError) in try App.parse(Array(words)) }
        }
        if options.action != .run { return options }
        if let daemonEndpoint {
            guard let daemonHost else { throw LaunchError("--daemon needs --daemon-host") }
            options.action = .daemon(endpoint: daemonEndpoint, hostIndex: daemonHost, tree: daemonTree)
            return options
        }
        try options.check(insideAllocation: environment("SLURM_JOB_ID") != nil)
        return options
    }

    /// Splits "--name=value" and "-nVALUE" (also "-xVALUE") into the option's name and the value
    /// attached to it, if any; the option's name decides whether a value follows as the next word.
    private static func splitOption(_ word: String) -> (name: String, attached: String?) {
        if let equals = word.firstIndex(of: "="), word.hasPrefix("--") || word.hasPrefix("-np=") {
            return (String(word[..<equals]), String(word[word.index(after: equals)...]))
        }
        if !word.hasPrefix("--"), word.count > 2, word != "-np", word != "-help", let letter = word.dropFirst().first,
            letter == "n" || letter == "x"
        {
            return ("-\(letter)", String(word.dropFirst(2).drop { $0 == "=" }))
        }
        return (word, nil)
    }

    /// The value of option `name`: the one attached to it, else the next of `words` (taken).
    private static func optionValue(_ attached: String?, of name: String, from words: inout ArraySlice<String>) throws(LaunchError) -> String {
        if let attached { return attached }
        guard let next = words.first else { throw LaunchError("missing value for '\(name)'") }
        words = words.dropFirst()
        return next
    }

    /// A program after the first of a multi-program (MPMD) job: `swiftmpirun -n 1 ./leader : -n 4
    /// ./worker`. Each takes its own `-n` (required), `-x` and `--wdir`; every other option applies
    /// to the whole job and goes before the first program. The programs' ranks are numbered in
    /// order (the leader is rank 0, the workers 1-4) and share one world; `MPI.appNumber` says which
    /// program a rank runs.
    package struct App: Equatable, Sendable {
        /// `-n`: this program's ranks.
        package var rankCount: Int
        /// `-x` words for this program's ranks (after the job-wide ones).
        package var exports: [String] = []
        /// `--wdir`: this program's working directory (nil: the first program's).
        package var workingDirectory: String?
        /// PROGRAM and its arguments.
        package var command: [String]

        /// A program from its parts.
        package init(rankCount: Int, exports: [String] = [], workingDirectory: String? = nil, command: [String]) {
            self.rankCount = rankCount
            self.exports = exports
            self.workingDirectory = workingDirectory
            self.command = command
        }

        /// Parses the words between two ':' separators.
        static func parse(_ words: [String]) throws(LaunchError) -> App {
            var rankCount: Int?
            var exports: [String] = []
            var workingDirectory: String?
            var rest = words[...]
            while let word = rest.first, word.hasPrefix("-"), word != "-" {
                rest = rest.dropFirst()
                let (name, attached) = LaunchOptions.splitOption(word)
                func value() throws(LaunchError) -> String { try LaunchOptions.optionValue(attached, of: name, from: &rest) }
                switch name {
                case "-n", "-np", "--np": rankCount = try integer(try value(), of: name)
                case "-x": exports.append(try value())
                case "--wdir": workingDirectory = try directory(try value(), of: name)
                default:
                    throw LaunchError("'\(name)' applies to the whole job: give it before the first program (after ':' only -n, -x and --wdir)")
                }
            }
            guard let program = rest.first else { throw LaunchError("missing PROGRAM after ':'") }
            guard let rankCount else { throw LaunchError("every program after ':' needs its own -n (missing for '\(program)')") }
            guard rankCount >= 1 else { throw LaunchError("-n must be at least 1, got \(rankCount) (for '\(program)')") }
            guard rankCount <= LaunchOptions.maximumRankCount else {
                throw LaunchError("-n \(rankCount) is more ranks than one launch can start (at most \(LaunchOptions.maximumRankCount); for '\(program)')")
            }
            return App(rankCount: rankCount, exports: exports, workingDirectory: workingDirectory, command: Array(rest))
        }
    }

    /// The checks that need the whole command line.
    private func check(insideAllocation: Bool) throws(LaunchError) {
        if hostList != nil && hostfile != nil { throw LaunchError("give --host or --hostfile, not both") }
        if !moreApps.isEmpty {
            guard let rankCount else { throw LaunchError("every program of a multi-program job needs its own -n (missing for '\(command.first ?? "")')") }
            guard !placement.countsRanks else { throw LaunchError("--map-by ppr cannot count the ranks of a multi-program job; give -n to each program") }
            let total = moreApps.reduce(rankCount) { $0 + $1.rankCount }
            guard total <= Self.maximumRankCount else {
                throw LaunchError("the programs' \(total) ranks are more than one launch can start (at most \(Self.maximumRankCount))")
            }
            for export in moreApps.flatMap(\.exports) { try Self.checkExport(export) }
        }
        // --map-by ppr:N:RESOURCE says how many ranks a host runs.
        if rankCount == nil && hostList == nil && hostfile == nil && !insideAllocation && !placement.countsRanks {
            throw LaunchError("missing -n N (the number of ranks)")
        }
        if let rankCount {
            guard rankCount >= 1 else { throw LaunchError("-n must be at least 1, got \(rankCount)") }
            guard rankCount <= Self.maximumRankCount else {
                throw LaunchError("-n \(rankCount) is more ranks than one launch can start (at most \(Self.maximumRankCount))")
            }
        }
        guard !command.isEmpty else { throw LaunchError("missing PROGRAM to run") }
        for export in exports { try Self.checkExport(export) }
    }

    private static func checkExport(_ export: String) throws(LaunchError) {
        let name = export.prefix { $0 != "=" }
        if name.isEmpty || name.contains(where: { !($0.isASCII && ($0.isLetter || $0.isNumber) || $0 == "_") }) {
            throw LaunchError("-x '\(export)': expected NAME or NAME=VALUE")
        }
    }

    private static func integer(_ text: String, of option: String) throws(LaunchError) -> Int {
        guard let value = Int(text) else { throw LaunchError("\(option) expects an integer, got '\(text)'") }
        return value
    }

    private static func directory(_ text: String, of option: String) throws(LaunchError) -> String {
        guard !text.isEmpty, !text.hasPrefix("-") else { throw LaunchError("\(option) expects a directory, got '\(text)'") }
        return text
    }

    private static func seconds(_ text: String) throws(LaunchError) -> Double {
        guard let value = Double(text), value > 0, value.isFinite else {
            throw LaunchError("--timeout must be a positive number of seconds, got '\(text)'")
        }
        return value
    }

    private static func choice<Choice: RawRepresentable & CaseIterable>(_ text: String, of option: String) throws(LaunchError) -> Choice
    where Choice.RawValue == String {
        guard let value = Choice(rawValue: text) else {
            let allowed = Choice.allCases.map(\.rawValue).joined(separator: ", ")
            throw LaunchError("\(option) must be one of \(allowed), got '\(text)'")
        }
        return value
    }

    /// The text `swiftmpirun --help` prints.
    package static let helpText = """
        OVERVIEW: Run a SwiftMPI program as a job of N ranks.

        USAGE: swiftmpirun [OPTIONS] PROGRAM [ARGS...]
               swiftmpirun [OPTIONS] -n N PROGRAM [ARGS...] : -n M PROGRAM2 [ARGS...] ...

        PROGRAM is looked up on PATH, then relative to the current directory, then beside
        swiftmpirun itself. Everything after PROGRAM is passed to it unchanged up to a ':' word,
        which starts the next program of a multi-program job (one world; ranks numbered in
        order; after ':' only -n, -x and --wdir); `--` ends the options explicitly.

        OPTIONS:
          -n, -np, --np N         Number of ranks to start (inside a Slurm allocation, or with
                                  --host/--hostfile: all their slots when left out).
          -x NAME[=VALUE]         Export NAME (with VALUE) to the ranks; the launcher's
                                  environment is passed on anyway. Repeatable.
          --tag-output            Prefix every output line with [rank].
          --backtrace             Let ranks that crash print the Swift runtime's backtrace (off
                                  by default, unless SWIFT_BACKTRACE is set).
          --output-dir DIR        Write each rank's output to DIR/rank.N.out and rank.N.err.
          --wdir DIR              Start ranks in DIR (on every host; after ':' for that program).
          --map-by WHAT[:PE=n]    Where ranks go (Open MPI's spellings): slot (default), node,
                                  core, hwthread (the i-th rank on the i-th one), numa, socket
                                  (round-robin over them), ppr:N:RESOURCE (N ranks on each
                                  hwthread, core, numa, socket or node; without -n, that many).
                                  Across hosts, node deals ranks round-robin over hosts and the
                                  rest fill each host's slots in order. :PE=n gives each rank n
                                  cores and sets OMP_NUM_THREADS=n unless it is set.
          --rank-by slot|node|hwthread|core|numa|socket
                                  Number the mapped places in mapping order (slot, node; the
                                  default) or so that consecutive ranks share that object.
          --bind-to none|hwthread|core|numa|socket
                                  The CPUs each rank may use: those of that object around its
                                  place (default: the --map-by level, core for slot and ppr, the
                                  PE cores; none when a host has more ranks than places).
          --report-bindings       Print each rank's binding on stderr, as Open MPI does.
          --display-map           Print the job's map (hosts, ranks, bindings) before it starts.
          --transport T           Force a transport between ranks: auto (default), shm, tcp or
                                  verbs (sets SWIFTMPI_TRANSPORT).
          --tcp-if NAME|ADDRESS   Interface name or IPv4 address for TCP between ranks (sets
                                  SWIFTMPI_TCP_IF).
          --launcher-if NAME|ADDRESS
                                  The address daemons on other hosts reach swiftmpirun at
                                  (default: every address it has, tried in order).
          --host NAME[:SLOTS],... Hosts and slots (Open MPI's --host).
          --hostfile FILE         One host per line, optional slots=N (Open MPI's format).
          --launch-agent COMMAND  Runs a command on host %h (default: ssh, or srun inside a
                                  Slurm allocation; without %h the host is appended).
          --timeout SECONDS       End the job after SECONDS with status 124.
          --enable-recovery       Keep the job going when a rank fails: the survivors are told
                                  and can revoke, agree and shrink (docs/Recovery.md; sets
                                  SWIFTMPI_RECOVERY=1).
          --trace DIR             Record each rank's MPI calls and messages; the merged trace
                                  (open it in ui.perfetto.dev) is DIR/trace.json, each rank's
                                  events DIR/rank.N.trace (sets SWIFTMPI_TRACE).
          --trace-buffer N        Events each rank holds (default 262144, 64 bytes each); later
                                  events are dropped and counted (SWIFTMPI_TRACE_BUFFER).
          --profile               Print a profile of the job's MPI calls when it ends: time per
                                  call, bytes, wait sites, load imbalance (SWIFTMPI_PROFILE=1).
          --profile-out DIR       Also write DIR/profile.json and SVG plots: heatmap.svg,
                                  calls.svg, sizes.svg (SWIFTMPI_PROFILE_OUT).
          --oversubscribe         Accepted for Open MPI's command lines: swiftmpirun always starts
                                  more ranks than CPUs when asked (they then wait by yielding).
          --allow-run-as-root     Accepted for Open MPI's command lines: root needs no permission.
          --info                  Print what this build and machine support, then exit.
          --version               Print the version, then exit.
          -h, --help              Print this help, then exit.

        EXIT STATUS: 0 when every rank succeeded; the failing rank's status when one failed
        (128+N for signal N); the code given to MPI.abort; 124 on --timeout; 2 for a bad
        command line, before any rank starts. With --enable-recovery, when ranks were lost and
        the others succeeded: the first lost rank's status.
        """
}

/// A launch that cannot start: reported as one line, exit status 2, before any rank runs.
package struct LaunchError: Error, Equatable, CustomStringConvertible {
    /// The line swiftmpirun prints (after "swiftmpirun: ").
    package let description: String
    /// An error reported as `description`.
    package init(_ description: String) { self.description = description }
}
