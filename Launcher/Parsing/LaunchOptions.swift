/// `swiftmpirun`'s command line, parsed and checked.
///
/// Option names follow Open MPI's `mpirun`: `-n`/`-np`/`--np N`, `-x NAME[=VALUE]` (repeatable),
/// `--host`, `--hostfile`, `--map-by`, `--bind-to`, `--tag-output`, `--output-dir`, `--timeout`.
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

    /// How ranks are bound to CPUs (`--bind-to`).
    package enum Binding: String, CaseIterable, Sendable {
        case core, none
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
        /// The hidden per-host daemon mode of a multi-host job (`--daemon ENDPOINT --daemon-host I`).
        case daemon(endpoint: String, hostIndex: Int)
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
    /// `--bind-to`; nil lets the launcher decide (core unless oversubscribed).
    package var binding: Binding?
    /// `--transport`; nil leaves the choice to the runtime.
    package var transport: Transport?
    /// `--tcp-if`: interface name or IPv4 address for TCP.
    package var tcpInterface: String?
    /// `--host`, unparsed (``HostPlan/parseHostList(_:)`` reads it).
    package var hostList: String?
    /// `--hostfile`: the path (``HostPlan/readHostfile(_:)`` reads it).
    package var hostfile: String?
    /// `--map-by` (default: fill each host's slots in order).
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
    /// PROGRAM and its arguments.
    package var command: [String] = []

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
            // Split "--name=value" and "-nVALUE"; the option's name decides whether a value follows.
            var name = word
            var attached: String?
            if let equals = word.firstIndex(of: "="), word.hasPrefix("--") || word.hasPrefix("-np=") {
                name = String(word[..<equals])
                attached = String(word[word.index(after: equals)...])
            } else if !word.hasPrefix("--"), word.count > 2, word != "-np", word != "-help", let letter = word.dropFirst().first,
                letter == "n" || letter == "x"
            {
                name = "-\(letter)"
                attached = String(word.dropFirst(2).drop { $0 == "=" })
            }
            func value() throws(LaunchError) -> String {
                if let attached { return attached }
                guard let next = words.first else { throw LaunchError("missing value for '\(name)'") }
                words = words.dropFirst()
                return next
            }
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
            case "--bind-to": options.binding = try choice(try value(), of: name)
            case "--transport": options.transport = try choice(try value(), of: name)
            case "--tcp-if": options.tcpInterface = try value()
            case "--host": options.hostList = try value()
            case "--hostfile": options.hostfile = try value()
            case "--map-by": options.mapping = try choice(try value(), of: name)
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
            default: throw LaunchError("unknown option '\(word)'")
            }
            if attached != nil,
                [
                    "-h", "--help", "-help", "--version", "--info", "--tag-output", "--enable-recovery", "--backtrace", "--profile", "--oversubscribe",
                    "--allow-run-as-root"
                ]
                .contains(name)
            {
                throw LaunchError("'\(name)' takes no value")
            }
        }
        if options.action != .run { return options }
        if let daemonEndpoint {
            guard let daemonHost else { throw LaunchError("--daemon needs --daemon-host") }
            options.action = .daemon(endpoint: daemonEndpoint, hostIndex: daemonHost)
            return options
        }
        try options.check(insideAllocation: environment("SLURM_JOB_ID") != nil)
        return options
    }

    /// The checks that need the whole command line.
    private func check(insideAllocation: Bool) throws(LaunchError) {
        if hostList != nil && hostfile != nil { throw LaunchError("give --host or --hostfile, not both") }
        if rankCount == nil && hostList == nil && hostfile == nil && !insideAllocation {
            throw LaunchError("missing -n N (the number of ranks)")
        }
        if let rankCount {
            guard rankCount >= 1 else { throw LaunchError("-n must be at least 1, got \(rankCount)") }
            guard rankCount <= Self.maximumRankCount else {
                throw LaunchError("-n \(rankCount) is more ranks than one launch can start (at most \(Self.maximumRankCount))")
            }
        }
        guard !command.isEmpty else { throw LaunchError("missing PROGRAM to run") }
        for export in exports {
            let name = export.prefix { $0 != "=" }
            if name.isEmpty || name.contains(where: { !($0.isASCII && ($0.isLetter || $0.isNumber) || $0 == "_") }) {
                throw LaunchError("-x '\(export)': expected NAME or NAME=VALUE")
            }
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

        PROGRAM is looked up on PATH, then relative to the current directory, then beside
        swiftmpirun itself. Everything after PROGRAM is passed to it unchanged; `--` ends the
        options explicitly.

        OPTIONS:
          -n, -np, --np N         Number of ranks to start (inside a Slurm allocation, or with
                                  --host/--hostfile: all their slots when left out).
          -x NAME[=VALUE]         Export NAME (with VALUE) to the ranks; the launcher's
                                  environment is passed on anyway. Repeatable.
          --tag-output            Prefix every output line with [rank].
          --backtrace             Let ranks that crash print the Swift runtime's backtrace (off
                                  by default, unless SWIFT_BACKTRACE is set).
          --output-dir DIR        Write each rank's output to DIR/rank.N.out and rank.N.err.
          --bind-to core|none     Bind each rank to a CPU (default: core when ranks <= CPUs).
          --transport T           Force a transport between ranks: auto (default), shm, tcp or
                                  verbs (sets SWIFTMPI_TRANSPORT).
          --tcp-if NAME|ADDRESS   Interface name or IPv4 address for TCP (sets SWIFTMPI_TCP_IF).
          --host NAME[:SLOTS],... Hosts and slots (Open MPI's --host).
          --hostfile FILE         One host per line, optional slots=N (Open MPI's format).
          --map-by slot|node      Fill each host's slots in order (default), or deal ranks
                                  round-robin over hosts.
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
