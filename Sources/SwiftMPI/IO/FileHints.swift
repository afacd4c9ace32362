/// The I/O hints a ``File`` honours, parsed from an ``Info`` with ROMIO's key names and values.
struct FileHints: Sendable {
    /// Whether collective buffering (or data sieving) is used: always, never, or when it pays.
    enum Toggle: String, Sendable {
        case enable, disable, automatic
    }

    /// Aggregators for collective buffering; nil: one per host (up to 8 on a job of one host).
    var aggregatorCount: Int?
    /// Bytes an aggregator gathers and writes (or reads and scatters) per round.
    var bufferSize = 16 << 20
    var collectiveWrite = Toggle.automatic
    var collectiveRead = Toggle.automatic
    var sievingRead = Toggle.automatic
    var sievingWrite = Toggle.automatic
    /// Accepted and reported only: the local file systems have no stripes.
    var stripingFactor: Int?
    var stripingUnit: Int?

    init(_ info: Info) throws(MPIError) {
        try apply(info)
    }

    /// Takes the known keys of `info`; unknown keys are ignored.
    mutating func apply(_ info: Info) throws(MPIError) {
        for key in info.keys {
            let value = info[key]!
            switch key {
            case "cb_nodes": aggregatorCount = try Self.positive(key, value)
            case "cb_buffer_size": bufferSize = try Self.positive(key, value)
            case "romio_cb_write": collectiveWrite = try Self.toggle(key, value)
            case "romio_cb_read": collectiveRead = try Self.toggle(key, value)
            case "romio_ds_read": sievingRead = try Self.toggle(key, value)
            case "romio_ds_write": sievingWrite = try Self.toggle(key, value)
            case "striping_factor": stripingFactor = try Self.positive(key, value)
            case "striping_unit": stripingUnit = try Self.positive(key, value)
            default: continue
            }
        }
    }

    /// The hints in effect, as MPI_File_get_info reports them (the striping ones only when given).
    func reported(aggregators: [Int]) -> Info {
        var info = Info()
        var pairs: [(String, String)] = [
            ("cb_nodes", "\(aggregators.count)"), ("cb_buffer_size", "\(bufferSize)"),
            ("romio_cb_write", collectiveWrite.rawValue), ("romio_cb_read", collectiveRead.rawValue),
            ("romio_ds_read", sievingRead.rawValue), ("romio_ds_write", sievingWrite.rawValue)
        ]
        if let stripingFactor { pairs.append(("striping_factor", "\(stripingFactor)")) }
        if let stripingUnit { pairs.append(("striping_unit", "\(stripingUnit)")) }
        for (key, value) in pairs { try? info.set(key, value) }
        return info
    }

    /// The aggregator ranks of `communicator`: by default the first rank of each host (ROMIO's
    /// choice, for shared parallel file systems), and on a job of one host up to 8 ranks; with
    /// `cb_nodes` = n, that many (the hosts' first ranks first, then ranks spread evenly over the
    /// rest). Collective.
    func aggregators(on communicator: Communicator) throws -> [Int] {
        let host = try communicator.splitType(.shared)
        let leads = try communicator.allgather([host?.rank == 0 ? 1 : 0])
        host?.free()
        let firsts = leads.indices.filter { leads[$0] == 1 }
        // One host: the file system is local, and copies into its page cache scale with the cores,
        // so up to 8 ranks aggregate (2 ranks, strided collective I/O on tmpfs: writes 4.4-5.4 GB/s
        // with one aggregator, 4.7-7.5 with two; reads 4.5-6.6 and 5.5-9.0).
        let byDefault = firsts.count == 1 ? min(communicator.size, 8) : nil
        guard let wanted = aggregatorCount.map({ min($0, communicator.size) }) ?? byDefault else { return firsts }
        if wanted <= firsts.count { return Array(firsts.prefix(wanted)) }
        let others = (0..<communicator.size).filter { leads[$0] == 0 }
        let extra = wanted - firsts.count
        return (firsts + (0..<extra).map { others[$0 * others.count / extra] }).sorted()
    }

    private static func positive(_ key: String, _ value: String) throws(MPIError) -> Int {
        guard let number = Int(value), number > 0 else {
            throw MPIError(.invalidArgument, "File hints: \(key) must be a positive integer, got \"\(value)\"")
        }
        return number
    }

    private static func toggle(_ key: String, _ value: String) throws(MPIError) -> Toggle {
        guard let toggle = Toggle(rawValue: value) else {
            throw MPIError(.invalidArgument, "File hints: \(key) must be enable, disable or automatic, got \"\(value)\"")
        }
        return toggle
    }
}
