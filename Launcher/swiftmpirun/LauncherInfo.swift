import CShims
import SwiftMPIWireup
#if canImport(Glibc)
import Glibc
#endif

/// `swiftmpirun --info`: what this build can do on this machine.
enum LauncherInfo {
    static let version = "0.1.0"

    static func print() {
        var lines = ["SwiftMPI \(version)", "host: \(hostName())", "cpus: \(JobPlan.allowedCPUs().count) usable"]
        var nodes: Int32 = 0
        var source: UnsafePointer<CChar>?
        let numaError = cshims_numa_node_count(&nodes, &source)
        lines.append(
            numaError == 0
                ? "numa: \(nodes) node(s) (from \(String(cString: source!)))"
                : "numa: unknown (\(SystemError.text(numaError)))")
        lines.append("transports:")
        lines.append("  self: available")
        lines.append("  shared memory: \(sharedMemoryStatus())")
        lines.append("  cross memory attach: \(crossMemoryAttachStatus())")
        lines.append("  verbs: " + verbsStatus().joined(separator: "\n    "))
        lines.append("environment variables read by the runtime:")
        for (name, meaning) in WireupEnvironment.userSettings {
            lines.append("  \(name)=\(WireupEnvironment.value(name) ?? "") (\(meaning))")
        }
        lines.append("  set by swiftmpirun for each rank: \(WireupEnvironment.launchVariables.joined(separator: ", "))")
        let controls = ToolVariables.controls.map { "\($0.name) (\($0.scope == .readOnly ? "read-only" : "writable"))" }
        lines.append("MPI_T control variables (MPI.ControlVariable): " + controls.joined(separator: ", "))
        lines.append("MPI_T performance variables (MPI.PerformanceVariable):")
        for variable in ToolVariables.performance { lines.append("  \(variable.name): \(variable.meaning)") }
        Swift.print(lines.joined(separator: "\n"))
    }

    private static func hostName() -> String {
        var name = [CChar](repeating: 0, count: 256)
        return gethostname(&name, 255) == 0 ? string(fromCArray: name) : "unknown"
    }

    private static func sharedMemoryStatus() -> String {
        access("/dev/shm", W_OK) == 0 ? "available (/dev/shm)" : "unavailable: /dev/shm is not writable"
    }

    /// Reads one byte of this process through process_vm_readv: fails where seccomp or the kernel forbid it.
    private static func crossMemoryAttachStatus() -> String {
        var source: UInt8 = 42
        var target: UInt8 = 0
        let error = withUnsafePointer(to: &source) { cshims_cma_read(getpid(), &target, $0, 1) }
        guard error == 0, target == 42 else { return "not allowed (\(SystemError.text(error)))" }
        let scope = readSmallFile("/proc/sys/kernel/yama/ptrace_scope").map { "yama ptrace_scope \($0.filter(\.isNumber))" }
        return "allowed (\(scope ?? "no Yama restrictions"))"
    }

    private static func readSmallFile(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 256)
        return fgets(&buffer, 255, file).map { _ in string(fromCArray: buffer) }
    }

    private static func verbsStatus() -> [String] {
        var reason = [CChar](repeating: 0, count: 256)
        let loadError = cshims_verbs_load(&reason, reason.count)
        if loadError != 0 { return ["unavailable: \(string(fromCArray: reason))"] }
        var devices = [cshims_verbs_device](repeating: cshims_verbs_device(), count: 16)
        var count: Int32 = 0
        let listError = cshims_verbs_list_devices(&devices, Int32(devices.count), &count)
        if listError != 0 {
            return ["unavailable: no RDMA devices (ibv_get_device_list: \(SystemError.text(listError)))"]
        }
        if count == 0 { return ["unavailable: libibverbs loaded, but no RDMA devices found"] }
        var lines = ["\(count) device(s)"]
        for var device in devices[0..<Int(count)] {
            let name = withUnsafeBytes(of: &device.name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            lines.append("\(name): guid \(String(device.node_guid, radix: 16))")
            let ports = withUnsafeBytes(of: device.ports) { Array($0.bindMemory(to: cshims_verbs_port.self)) }
            for port in ports.prefix(Int(device.port_count)) {
                let state = [1: "DOWN", 2: "INIT", 3: "ARMED", 4: "ACTIVE", 5: "ACTIVE_DEFER"][Int(port.state)] ?? "state \(port.state)"
                let layer = port.link_layer == 2 ? "Ethernet (RoCE)" : "InfiniBand"
                let gids = withUnsafeBytes(of: port.gids) { raw in
                    (0..<Int(port.gid_count)).map { index in
                        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
                        _ = inet_ntop(AF_INET6, raw.baseAddress! + index * 16, &text, socklen_t(text.count))
                        return string(fromCArray: text)
                    }
                }
                lines.append("  port \(port.port_number): \(state), \(layer), lid \(port.lid), gids: \(gids.isEmpty ? "none" : gids.joined(separator: ", "))")
            }
        }
        return lines
    }
}
