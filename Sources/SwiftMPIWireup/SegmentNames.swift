#if canImport(Glibc)
import Glibc
#endif
import CShims

/// The names of a job's shared-memory segments (`/swiftmpi-<job id>-<local rank>` in /dev/shm).
///
/// In the wire-up layer because two sides must agree on them: each rank's shared-memory transport
/// creates its segment under this name, and the launcher (or a host's daemon), which links no
/// transport, removes the names a rank killed during wire-up left behind.
public enum SegmentNames {
    /// The segment name of `localRank` in job `jobID`.
    public static func name(jobID: String, localRank: Int) -> String { "/swiftmpi-\(jobID)-\(localRank)" }

    /// Removes every segment name of job `jobID` (of `localSize` ranks on this host) still in
    /// /dev/shm: the launcher's clean-up at the end of a job. Names already gone are no error;
    /// mappings of the segments stay valid.
    public static func removeStale(jobID: String, localSize: Int) {
        for rank in 0..<localSize { _ = cshims_segment_unlink(name(jobID: jobID, localRank: rank)) }
        removeWindowSegments(jobID: jobID)
    }

    /// The name of a one-sided window's segment on one host: the window's context id and the world
    /// rank of its lowest member there make it unique within the job.
    public static func windowName(jobID: String, context: UInt32, leader: Int) -> String { "/swiftmpi-\(jobID)-w\(context)-\(leader)" }

    /// Removes the names of job `jobID`'s window segments still in /dev/shm (a rank killed while it
    /// created a window leaves one behind).
    public static func removeWindowSegments(jobID: String) {
        let prefix = Array("swiftmpi-\(jobID)-w".utf8)
        guard let directory = opendir("/dev/shm") else { return }
        defer { closedir(directory) }
        var stale: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: &entry.pointee.d_name) { bytes in
                Array(bytes.prefix { $0 != 0 })
            }
            if name.starts(with: prefix) { stale.append("/" + String(decoding: name, as: UTF8.self)) }
        }
        for name in stale { _ = cshims_segment_unlink(name) }
    }
}
