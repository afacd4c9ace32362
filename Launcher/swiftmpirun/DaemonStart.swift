import SwiftMPILauncherParsing
import SwiftMPIWireup
#if canImport(Glibc)
import Glibc
#endif

/// Starts the daemon of `host` — through the launch agent `agent` (`%h` replaced by the host's name,
/// else the name appended), or directly when `direct` — with the job secret written to its standard
/// input (never on a command line) and its standard output and error on `output`. The launcher
/// starts daemons with it, and so does a daemon of a tree start (``DaemonTree``), for the hosts it
/// starts. Returns the pid of the agent (or of the daemon, when direct).
func startDaemonProcess(
    _ host: DaemonTree.Host, direct: Bool, agent: [String], launcherEndpoint: String, tree: DaemonTree?, secret: JobSecret,
    output: Int32
) throws -> pid_t {
    var daemon = [ProgramLocator.launcherPath() ?? CommandLine.arguments[0], "--daemon", launcherEndpoint, "--daemon-host", "\(host.index)"]
    if let tree, !tree.started(byHost: host.index).isEmpty { daemon += ["--daemon-tree", tree.encoded] }
    let command: [String]
    if direct {
        command = daemon
    } else if agent.contains(where: { $0.contains("%h") }) {
        command = agent.map { $0.replacing("%h", with: host.name) } + daemon
    } else {
        command = agent + [host.name] + daemon
    }
    guard let program = try? ProgramLocator.locate(command[0]) else {
        throw LaunchError("launch agent '\(command[0])' not found")
    }
    let stdinPipe = try makePipe()
    defer { close(stdinPipe.read) }
    let pid: pid_t
    switch spawnProcess(
        program, arguments: command, environment: currentEnvironment(), stdin: stdinPipe.read, stdout: output, stderr: output, affinity: nil)
    {
    case .success(let started):
        pid = started
    case .failure(let error):
        close(stdinPipe.write)
        throw LaunchError("could not start the launch agent for host \(host.name): \(SystemError.text(error.code))")
    }
    let line = Array("\(secret.hex)\n".utf8)
    _ = line.withUnsafeBytes { write(stdinPipe.write, $0.baseAddress!, $0.count) }  // 65 bytes: within PIPE_BUF
    close(stdinPipe.write)
    return pid
}
