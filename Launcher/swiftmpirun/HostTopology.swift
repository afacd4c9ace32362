import SwiftMPILauncherParsing
#if canImport(Glibc)
import Glibc
#endif

/// Reads this host's CPU topology for placement: the CPUs the launcher may use (its affinity, so a
/// `taskset` or cpuset restriction is honoured), and for each its core, socket and NUMA node from
/// sysfs (`/sys/devices/system/cpu/cpuN/topology/{core_id,physical_package_id}` and the
/// `cpuN/nodeM` link). Decision: sysfs directly rather than hwloc: it is what hwloc and libnuma read
/// on Linux for these four levels, it needs no library in the statically linked launcher, and a
/// missing file (a container without /sys) degrades to one core per CPU on one socket and node.
enum HostTopology {
    /// The topology of the CPUs this process may run on.
    static func read() -> CPUTopology {
        let cpus = JobPlan.allowedCPUs()
        return CPUTopology(
            threads: cpus.map { cpu in
                let base = "/sys/devices/system/cpu/cpu\(cpu)"
                return CPUTopology.Thread(
                    cpu: cpu, core: readInteger("\(base)/topology/core_id") ?? cpu,
                    socket: readInteger("\(base)/topology/physical_package_id") ?? 0, numa: numaNode(of: base) ?? 0)
            })
    }

    private static func readInteger(_ path: String) -> Int? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 32)
        guard fgets(&line, Int32(line.count), file) != nil else { return nil }
        return Int(string(fromCArray: line).filter { !$0.isWhitespace })
    }

    /// The M of the `nodeM` entry in a CPU's sysfs directory.
    private static func numaNode(of directory: String) -> Int? {
        guard let listing = opendir(directory) else { return nil }
        defer { closedir(listing) }
        while let entry = readdir(listing) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasPrefix("node"), let node = Int(name.dropFirst(4)) { return node }
        }
        return nil
    }
}
