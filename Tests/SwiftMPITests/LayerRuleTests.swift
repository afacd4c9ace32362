import Foundation
import Testing

/// The layer rules of docs/Design.md (the launcher shares only SwiftMPIWireup and CShims with the
/// runtime; transports never use the engine; ...), checked by `Tests/Scripts/check-layers.sh` on
/// this tree and shown to catch a violation in a copy of it.
@Suite("layer rules")
struct LayerRuleTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let script = packageRoot.appendingPathComponent("Tests/Scripts/check-layers.sh").path

    @Test("every module of this tree imports and depends only on what its layer may use")
    func treeFollowsTheRules() throws {
        let (status, output) = try Self.check(Self.packageRoot.path)
        #expect(status == 0, "\(output)")
        #expect(output.contains("follow the layer rules"), "\(output)")
    }

    @Test("an import of the transports in the launcher fails the check, naming the file and line")
    func launcherImportingTransportsFails() throws {
        let copy = try Self.copyOfTree()
        defer { try? FileManager.default.removeItem(at: copy) }
        let offender = copy.appendingPathComponent("Launcher/swiftmpirun/LayerRuleOffender.swift")
        try "// A launcher file that reaches into the runtime's transports.\n@testable import SwiftMPITransport\n"
            .write(to: offender, atomically: true, encoding: .utf8)
        let (status, output) = try Self.check(copy.path)
        #expect(status == 1, "\(output)")
        #expect(output.contains("Launcher/swiftmpirun/LayerRuleOffender.swift:2: swiftmpirun imports SwiftMPITransport"), "\(output)")
        #expect(!output.contains("Job.swift"), "only the offending file is named: \(output)")
    }

    @Test("a launcher dependency on the transports in Package.swift fails the check")
    func launcherDependingOnTransportsFails() throws {
        let copy = try Self.copyOfTree()
        defer { try? FileManager.default.removeItem(at: copy) }
        let manifest = copy.appendingPathComponent("Package.swift")
        let text = try String(contentsOf: manifest, encoding: .utf8)
        let declaration = #"name: "swiftmpirun", dependencies: ["#
        #expect(text.contains(declaration))
        try text.replacingOccurrences(of: declaration, with: declaration + #""SwiftMPITransport", "#)
            .write(to: manifest, atomically: true, encoding: .utf8)
        let (status, output) = try Self.check(copy.path)
        #expect(status == 1, "\(output)")
        #expect(output.contains("Package.swift:") && output.contains("swiftmpirun depends on SwiftMPITransport"), "\(output)")
    }

    /// Runs the check on the package at `root`; returns its exit status and output.
    static func check(_ root: String) throws -> (Int32, String) {
        let log = TestRun.scratchDirectory.appendingPathComponent("layers-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let status = try ChildProcess("/bin/bash", [script, root], stdoutPath: log, stderrPath: log).wait()
        return (status, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    /// A copy of what the check reads (the manifest and every target's directory) in a fresh
    /// temporary directory.
    static func copyOfTree() throws -> URL {
        let copy = TestRun.scratchDirectory.appendingPathComponent("layers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
        for item in ["Package.swift", "Sources", "Launcher", "CShims", "Tests", "Examples", "Benchmarks"] {
            try FileManager.default.copyItem(at: packageRoot.appendingPathComponent(item), to: copy.appendingPathComponent(item))
        }
        return copy
    }
}
