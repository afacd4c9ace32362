#if canImport(Glibc)
import Glibc
#endif
import SwiftMPITransportConformance

// swiftmpi-conformance TRANSPORT...: runs the transport conformance suite against each transport
// named (self, loopback, shm, tcp, verbs) and exits 1 if any check fails. One line per check.
let arguments = Array(CommandLine.arguments.dropFirst())
guard !arguments.isEmpty, arguments.allSatisfy({ TransportPairs.names.contains($0) }) else {
    print("usage: swiftmpi-conformance TRANSPORT... (one or more of: \(TransportPairs.names.joined(separator: ", ")))")
    exit(2)
}
var failed = 0
for transport in arguments {
    let failures = ConformanceSuite.run(transport, makePair: { try TransportPairs.make(transport, failing: $0) }) { print($0) }
    failed += failures.count
}
print(failed == 0 ? "conformance: every check passed" : "conformance: \(failed) check(s) failed")
exit(failed == 0 ? 0 : 1)
