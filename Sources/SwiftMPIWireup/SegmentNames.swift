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
    }
}
