#if canImport(Glibc)
import Glibc
#endif

/// Chooses the IPv4 address a rank listens on for TCP.
///
/// `SWIFTMPI_TCP_IF` (or `swiftmpirun --tcp-if`) names an interface (`eth0`) or an address
/// (`10.0.0.5`). Without it: loopback when the whole job runs on one host; otherwise the first
/// interface that is up, not loopback, and not a container or VM bridge (`docker*`, `virbr*`, `br-*`,
/// `cni*`, `flannel*`), in the kernel's order.
///
/// In the wire-up layer because both sides need it: the runtime for its TCP listener, `swiftmpirun`
/// for the links of its daemons (the launcher links no transport).
public enum InterfaceSelector {
    static let bridgePrefixes = ["docker", "virbr", "br-", "cni", "flannel"]

    /// The IPv4 interfaces of this host: (name, address, isLoopback, isUp).
    public static func interfaces() -> [(name: String, address: String, loopback: Bool, up: Bool)] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return [] }
        defer { freeifaddrs(list) }
        var result: [(String, String, Bool, Bool)] = []
        var cursor = list
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET) else { continue }
            var text = [CChar](repeating: 0, count: 64)
            address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { inet -> Void in
                var raw = inet.pointee.sin_addr
                inet_ntop(AF_INET, &raw, &text, socklen_t(text.count))
            }
            let flags = Int32(entry.pointee.ifa_flags)
            result.append(
                (
                    String(cString: entry.pointee.ifa_name),
                    text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) },
                    flags & Int32(IFF_LOOPBACK) != 0, flags & Int32(IFF_UP) != 0
                ))
        }
        return result
    }

    /// Every IPv4 address of this host that is up, in the order a peer on another host should try
    /// them: real interfaces first (as ``select(override:singleHost:)`` prefers them), then bridges
    /// of containers and VMs, then loopback (which reaches only this host).
    public static func advertised() -> [String] {
        let up = interfaces().filter(\.up)
        let isBridge = { (name: String) in bridgePrefixes.contains { name.hasPrefix($0) } }
        return (up.filter { !$0.loopback && !isBridge($0.name) } + up.filter { !$0.loopback && isBridge($0.name) } + up.filter(\.loopback)).map(\.address)
    }

    /// The address to listen on. Throws ``WireupError/badEnvironment(_:)`` when the override names
    /// nothing on this host, or when no suitable interface exists for a multi-host job.
    public static func select(override: String?, singleHost: Bool) throws(WireupError) -> String {
        let candidates = interfaces()
        if let override, !override.isEmpty {
            if let match = candidates.first(where: { $0.name == override || $0.address == override }) { return match.address }
            throw .badEnvironment(
                "SWIFTMPI_TCP_IF=\(override) names no IPv4 interface or address here (have: "
                    + "\(candidates.map { "\($0.name) \($0.address)" }.joined(separator: ", ")))"
            )
        }
        if singleHost { return "127.0.0.1" }
        let usable = candidates.filter { $0.up && !$0.loopback }
        if let preferred = usable.first(where: { interface in !bridgePrefixes.contains { interface.name.hasPrefix($0) } }) {
            return preferred.address
        }
        if let any = usable.first { return any.address }
        throw .badEnvironment("no IPv4 interface is up besides loopback; set SWIFTMPI_TCP_IF")
    }
}
