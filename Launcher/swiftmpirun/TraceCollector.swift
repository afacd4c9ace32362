import SwiftMPILauncherParsing
import SwiftMPITrace
import SwiftMPIWireup
#if canImport(Glibc)
import Glibc
#endif

/// The launcher's part in `--trace` and `--profile`: it passes the settings to the ranks, prepares
/// the directories, and after a job that did not finish (an abort, a failed rank, a timeout) merges
/// whatever rank files the ranks left into `trace.json`. A job that finishes is merged by its rank 0
/// at `MPI.finalize()` (the runtime gathers every rank's events there, across hosts).
struct TraceCollector {
    /// The trace directory, absolute (ranks may start elsewhere).
    let directory: String?

    /// The variables that turn recording on in the ranks, for `options`; makes the directories and
    /// removes a previous job's trace files from the trace directory (other files stay).
    static func prepare(_ options: LaunchOptions) throws(LaunchError) -> (TraceCollector, exports: [String]) {
        var exports: [String] = []
        let traceDirectory = try options.traceDirectory.map { path throws(LaunchError) in try usableDirectory(path, "--trace") }
        if let traceDirectory {
            exports.append("SWIFTMPI_TRACE=\(traceDirectory)")
            removeOldTraces(in: traceDirectory)
        }
        if let count = options.traceBuffer { exports.append("SWIFTMPI_TRACE_BUFFER=\(count)") }
        if options.profile { exports.append("SWIFTMPI_PROFILE=1") }
        if let path = options.profileDirectory { exports.append("SWIFTMPI_PROFILE_OUT=\(try usableDirectory(path, "--profile-out"))") }
        if options.traceBuffer != nil && traceDirectory == nil && !options.profile && options.profileDirectory == nil {
            throw LaunchError("--trace-buffer needs --trace, --profile or --profile-out")
        }
        return (TraceCollector(directory: traceDirectory), exports)
    }

    /// After the job: when it did not finish and left rank files but no merged trace, merges them.
    func collect(status: Int32) {
        guard let directory, status != 0 else { return }
        let merged = directory + "/" + PerfettoTrace.fileName
        guard access(merged, F_OK) != 0 else { return }
        var traces: [RankTrace] = []
        var size = 0
        for name in Self.traceFiles(in: directory) {
            guard let text = TraceFile.read(directory + "/" + name) else { continue }
            do {
                let trace = try TraceFile.decode(text)
                size = max(size, trace.size)
                traces.append(trace)
            } catch {
                report("trace file \(directory)/\(name) cannot be read: \(error)")
            }
        }
        guard !traces.isEmpty else { return }
        _ = TraceFile.write(TimelinePlot.svg(traces), to: directory + "/" + TimelinePlot.fileName, mode: 0o644)
        guard TraceFile.write(PerfettoTrace.json(traces), to: merged, mode: 0o644) == 0 else {
            report("could not write the partial trace \(merged)")
            return
        }
        let ranks = traces.map { "\($0.rank)" }.sorted { Int($0)! < Int($1)! }.joined(separator: ", ")
        report("the job did not finish: partial trace of rank\(traces.count == 1 ? "" : "s") \(ranks) (of \(size)) written to \(merged)")
    }

    /// `path` made absolute, created when missing (one level), and checked to be a directory.
    private static func usableDirectory(_ path: String, _ option: String) throws(LaunchError) -> String {
        var absolute = path
        if !path.hasPrefix("/") {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            guard getcwd(&buffer, buffer.count) != nil else { throw LaunchError("\(option) \(path): the current directory cannot be read") }
            absolute = String(cString: buffer) + "/" + path
        }
        do {
            _ = try systemCall("mkdir") { mkdir(absolute, 0o755) }
        } catch let error where error.code != EEXIST {
            throw LaunchError("\(option) \(path): \(SystemError.describe(error.code))")
        } catch {}  // it exists
        var info = stat()
        guard stat(absolute, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { throw LaunchError("\(option) \(path) is not a directory") }
        return absolute
    }

    /// `rank.N.trace` files in `directory`.
    private static func traceFiles(in directory: String) -> [String] {
        guard let stream = opendir(directory) else { return [] }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasPrefix("rank.") && name.hasSuffix(".trace") && Int(name.dropFirst(5).dropLast(6)) != nil { names.append(name) }
        }
        return names.sorted()
    }

    private static func removeOldTraces(in directory: String) {
        for name in traceFiles(in: directory) + [PerfettoTrace.fileName, TimelinePlot.fileName] { unlink(directory + "/" + name) }
    }
}
