#if canImport(Glibc)
import Glibc
#endif

/// The benchmarks, named as `swiftmpi-bench` subcommands.
enum Benchmark: String {
    case latency, bw, bibw, mbwMR = "mbw-mr", multiLatency = "multi-lat"
    case barrier, bcast, allreduce, reduce, gather, scatter, allgather, alltoall, halo
    case gatherv, scatterv, allgatherv, alltoallv, alltoallw, reduceScatter = "reduce-scatter", reduceScatterBlock = "reduce-scatter-block"
    case ibarrier, ibcast, iallreduce, ireduce, igather, iscatter, iallgather, ialltoall
    case igatherv, iscatterv, iallgatherv, ialltoallv, ialltoallw, ireduceScatter = "ireduce-scatter", ireduceScatterBlock = "ireduce-scatter-block"
    case putLatency = "put-latency", getLatency = "get-latency", putBW = "put-bw", getBW = "get-bw", putBiBW = "put-bibw"
    case accLatency = "acc-latency", fopLatency = "fop-latency", casLatency = "cas-latency", getAccLatency = "get-acc-latency"
    case ioWrite = "io-write", ioRead = "io-read"

    /// The OSU title.
    var title: String {
        switch self {
        case .latency: "Latency Test"
        case .bw: "Bandwidth Test"
        case .bibw: "Bi-Directional Bandwidth Test"
        case .mbwMR: "Multiple Bandwidth / Message Rate Test"
        case .multiLatency: "Multi Latency Test"
        case .barrier: "Barrier Latency Test"
        case .bcast: "Broadcast Latency Test"
        case .allreduce: "Allreduce Latency Test"
        case .reduce: "Reduce Latency Test"
        case .gather: "Gather Latency Test"
        case .scatter: "Scatter Latency Test"
        case .allgather: "Allgather Latency Test"
        case .alltoall: "All-to-All Latency Test"
        case .gatherv: "Gatherv Latency Test"
        case .scatterv: "Scatterv Latency Test"
        case .allgatherv: "Allgatherv Latency Test"
        case .alltoallv: "All-to-Allv Personalized Exchange Latency Test"
        case .alltoallw: "All-to-Allw Personalized Exchange Latency Test"
        case .reduceScatter: "Reduce_scatter Latency Test"
        case .reduceScatterBlock: "Reduce_scatter_block Latency Test"
        case .ibarrier: "Non-blocking Barrier Latency Test"
        case .ibcast: "Non-Blocking Broadcast Latency Test"
        case .iallreduce: "Non-blocking Allreduce Latency Test"
        case .ireduce: "Non-blocking Reduce Latency Test"
        case .igather: "Non-blocking Gather Latency Test"
        case .iscatter: "Non-blocking Scatter Latency Test"
        case .iallgather: "Non-blocking Allgather Latency Test"
        case .ialltoall: "Non-blocking All-to-All Latency Test"
        case .igatherv: "Non-blocking Gatherv Latency Test"
        case .iscatterv: "Non-blocking Scatterv Latency Test"
        case .iallgatherv: "Non-blocking Allgatherv Latency Test"
        case .ialltoallv: "Non-blocking All-to-Allv Latency Test"
        case .ialltoallw: "Non-blocking All-to-Allw Latency Test"
        case .ireduceScatter: "Non-blocking Reduce_scatter Latency Test"
        case .ireduceScatterBlock: "Non-blocking Reduce_scatter_block Latency Test"
        case .halo: "Halo Exchange Test (a column of an N×N grid of doubles, MPI_Type_vector)"
        case .putLatency: "One Sided MPI_Put latency Test"
        case .getLatency: "One Sided MPI_Get latency Test"
        case .putBW: "One Sided MPI_Put Bandwidth Test"
        case .getBW: "One Sided MPI_Get Bandwidth Test"
        case .putBiBW: "One Sided MPI_Put Bi-directional Bandwidth Test"
        case .accLatency: "One Sided MPI_Accumulate latency Test"
        case .fopLatency: "One Sided MPI_Fetch_and_op latency Test"
        case .casLatency: "One Sided MPI_Compare_and_swap latency Test"
        case .getAccLatency: "One Sided MPI_Get_accumulate latency Test"
        case .ioWrite: "File Write Bandwidth Test (MPI-IO, every rank SIZE bytes of one file)"
        case .ioRead: "File Read Bandwidth Test (MPI-IO, every rank SIZE bytes of one file)"
        }
    }

    /// Collective benchmarks report the average latency per call, averaged over the ranks (OSU).
    var isCollective: Bool {
        switch self {
        case .barrier, .bcast, .allreduce, .reduce, .gather, .scatter, .allgather, .alltoall: true
        case .gatherv, .scatterv, .allgatherv, .alltoallv, .alltoallw, .reduceScatter, .reduceScatterBlock: true
        default: isNonblockingCollective
        }
    }

    /// OSU's non-blocking collectives: timed alone, then overlapped with computation (osu_ibcast …).
    var isNonblockingCollective: Bool {
        switch self {
        case .ibarrier, .ibcast, .iallreduce, .ireduce, .igather, .iscatter, .iallgather, .ialltoall: true
        case .igatherv, .iscatterv, .iallgatherv, .ialltoallv, .ialltoallw, .ireduceScatter, .ireduceScatterBlock: true
        default: false
        }
    }

    /// The collectives that reduce (sizes are bytes of Double), blocking or not.
    var reduces: Bool {
        switch self {
        case .allreduce, .reduce, .reduceScatter, .reduceScatterBlock, .iallreduce, .ireduce, .ireduceScatter, .ireduceScatterBlock: true
        default: false
        }
    }

    var isBandwidth: Bool {
        self == .bw || self == .bibw || self == .mbwMR || self == .putBW || self == .getBW || self == .putBiBW || isFileIO
    }

    /// io-write and io-read (any number of ranks).
    var isFileIO: Bool { self == .ioWrite || self == .ioRead }

    /// OSU's one-sided benchmarks (2 ranks: rank 0 accesses rank 1's window).
    var isOneSided: Bool {
        switch self {
        case .putLatency, .getLatency, .putBW, .getBW, .putBiBW, .accLatency, .fopLatency, .casLatency, .getAccLatency: true
        default: false
        }
    }

    /// The point-to-point benchmarks that take `-D` (OSU 7.4's derived-datatype option).
    var takesDatatype: Bool { self == .latency || self == .bw || self == .bibw || self == .mbwMR }
}

/// OSU 7.4's `-D`: what each message is made of, from a buffer of SIZE bytes.
enum DatatypeOption: Equatable {
    /// MPI_Type_contiguous of SIZE bytes.
    case contiguous
    /// MPI_Type_vector(SIZE / stride, block, stride, MPI_CHAR): `block` bytes of every `stride`.
    case vector(stride: Int, block: Int)
    /// MPI_Type_indexed over the "displacement,blocklength" lines of a file (bytes), as OSU reads it.
    case indexed(blockLengths: [Int], displacements: [Int], transmitSize: Int)

    static func parse(_ text: String) throws -> DatatypeOption {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch parts[0].lowercased() {
        case "cont": return .contiguous
        case "vect":
            if parts.count == 1 { return .vector(stride: 8, block: 4) }  // OSU's defaults
            guard parts.count == 3, let stride = Int(parts[1]), let block = Int(parts[2]), stride > 0, block > 0, block <= stride else {
                throw BenchError(description: "-D vect needs STRIDE:BLOCK with 0 < BLOCK <= STRIDE, got '\(text)'")
            }
            return .vector(stride: stride, block: block)
        case "indx":
            guard parts.count == 2, !parts[1].isEmpty else { throw BenchError(description: "-D indx needs a file: indx:PATH") }
            return try indexed(file: parts[1])
        default:
            throw BenchError(description: "-D needs cont, vect[:STRIDE:BLOCK] or indx:FILE, got '\(text)'")
        }
    }

    /// Reads "displacement,blocklength" lines ('#' starts a comment). As OSU 7.4 does, the transmit
    /// size counts every line while the datatype leaves out the last one (its MPI_Type_indexed gets
    /// `lines - 1` blocks), so both report the same transmit size and move the same bytes.
    static func indexed(file path: String) throws -> DatatypeOption {
        guard let handle = fopen(path, "r") else { throw BenchError(description: "-D indx: cannot open '\(path)'") }
        defer { fclose(handle) }
        var lengths: [Int] = [], displacements: [Int] = []
        var line = [CChar](repeating: 0, count: 1024)
        while fgets(&line, Int32(line.count), handle) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("#") { continue }
            let fields = text.split(separator: ",").map { Int(String($0.filter { !$0.isWhitespace })) ?? 0 }
            displacements.append(fields.first ?? 0)
            lengths.append(fields.count > 1 ? fields[1] : 0)
        }
        guard !lengths.isEmpty else { throw BenchError(description: "-D indx: '\(path)' has no blocks") }
        return .indexed(blockLengths: Array(lengths.dropLast()), displacements: Array(displacements.dropLast()), transmitSize: lengths.reduce(0, +))
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
}

/// Command-line options, with OSU's defaults.
struct BenchOptions {
    var minSize = 0
    var maxSize = 1 << 22
    var iterations: Int?
    var warmup: Int?
    var window = 64
    var json = false
    var datatype: DatatypeOption?
    /// `--async`: latency's sends and receives are requests awaited by a task (`Request.value`).
    var awaited = false
    /// `--span`: latency's messages are sent from a `Span` and received into a `MutableSpan` (of arrays).
    var spans = false
    /// `--owned`: mbw-mr sends arrays (`isend(_: [UInt8])`) and receives into requests that own
    /// their buffers (`irecv(count:of:from:tag:)`, the elements read back from each).
    var owned = false
    /// One-sided: how the window is made (`-w allocate|create|dynamic`, OSU's default allocate) and
    /// how each access (or round of accesses) is completed (`-s`: OSU's names; its default flush,
    /// pscw for put-bibw, which takes pscw or fence only).
    var windowCreation = "allocate"
    var synchronization = "flush"

    static let synchronizations = ["flush", "flush_local", "lock", "lock_all", "pscw", "fence"]

    /// File I/O (io-write, io-read): the access pattern (`-p contiguous|strided`), the strided block
    /// (`-b`), collective calls (`-c`), the directory (`-d`), fsync in the timed region (`--sync`),
    /// plain pwrite/pread instead of MPI-IO (`--posix`), dropping the page cache before reads
    /// (`--drop-caches`), and the collective-buffering hint (`--cb enable|disable|automatic`).
    var pattern = "contiguous"
    var block = 4096
    var collective = false
    var directory = "/dev/shm"
    var sync = false
    var posix = false
    var dropCaches = false
    var collectiveBuffering = "automatic"
    /// `--cb-nodes N`: the cb_nodes hint (aggregators), when given.
    var aggregators: Int?

    static let largeMessage = 8192

    static func parse(_ arguments: [String], benchmark: Benchmark) throws -> BenchOptions {
        var options = BenchOptions()
        if benchmark.isBandwidth { options.minSize = 1 }
        if benchmark == .putBiBW { options.synchronization = "pscw" }
        if benchmark.isFileIO { (options.minSize, options.maxSize) = (1 << 20, 1 << 28) }
        var index = 0
        func value() throws -> String {
            index += 1
            guard index < arguments.count else { throw BenchError(description: "\(arguments[index - 1]) needs a value") }
            return arguments[index]
        }
        func positive(_ text: String, _ flag: String) throws -> Int {
            guard let number = Int(text), number > 0 else { throw BenchError(description: "\(flag) needs a positive integer, got '\(text)'") }
            return number
        }
        while index < arguments.count {
            switch arguments[index] {
            case "-m":
                let text = try value()
                let parts = text.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count <= 2, let high = Int(parts.last!), high >= 0,
                    let low = parts.count == 2 ? Int(parts[0]) : options.minSize, low >= 0, low <= high
                else {
                    throw BenchError(description: "-m needs MIN:MAX or MAX with 0 <= MIN <= MAX, got '\(text)'")
                }
                options.minSize = low
                options.maxSize = high
            case "-i": options.iterations = try positive(try value(), "-i")
            case "-x": options.warmup = try positive(try value(), "-x")
            case "-W": options.window = try positive(try value(), "-W")
            case "--json": options.json = true
            case "-w":
                guard benchmark.isOneSided else { throw BenchError(description: "-w applies to the one-sided benchmarks") }
                options.windowCreation = try value()
                guard ["allocate", "create", "dynamic"].contains(options.windowCreation) else {
                    throw BenchError(description: "-w needs allocate, create or dynamic, got '\(options.windowCreation)'")
                }
            case "-s":
                guard benchmark.isOneSided else { throw BenchError(description: "-s applies to the one-sided benchmarks") }
                options.synchronization = try value()
                let allowed = benchmark == .putBiBW ? ["pscw", "fence"] : Self.synchronizations
                guard allowed.contains(options.synchronization) else {
                    throw BenchError(
                        description: "-s needs \(allowed.joined(separator: ", ")) for \(benchmark.rawValue), got '\(options.synchronization)'")
                }
            case "--owned":
                guard benchmark == .mbwMR else { throw BenchError(description: "--owned applies to mbw-mr") }
                options.owned = true
            case "--span":
                guard benchmark == .latency else { throw BenchError(description: "--span applies to latency") }
                options.spans = true
            case "--async":
                guard benchmark == .latency else { throw BenchError(description: "--async applies to latency") }
                options.awaited = true
            case "-p", "-b", "-c", "-d", "--sync", "--posix", "--drop-caches", "--cb", "--cb-nodes":
                guard benchmark.isFileIO else { throw BenchError(description: "\(arguments[index]) applies to io-write and io-read") }
                switch arguments[index] {
                case "-p":
                    options.pattern = try value()
                    guard ["contiguous", "strided"].contains(options.pattern) else {
                        throw BenchError(description: "-p needs contiguous or strided, got '\(options.pattern)'")
                    }
                case "-b": options.block = try positive(try value(), "-b")
                case "-c": options.collective = true
                case "-d": options.directory = try value()
                case "--sync": options.sync = true
                case "--posix": options.posix = true
                case "--drop-caches": options.dropCaches = true
                case "--cb-nodes": options.aggregators = try positive(try value(), "--cb-nodes")
                default:
                    options.collectiveBuffering = try value()
                    guard ["enable", "disable", "automatic"].contains(options.collectiveBuffering) else {
                        throw BenchError(description: "--cb needs enable, disable or automatic, got '\(options.collectiveBuffering)'")
                    }
                }
            case "-D":
                guard benchmark.takesDatatype else { throw BenchError(description: "-D applies to latency, bw, bibw and mbw-mr") }
                options.datatype = try DatatypeOption.parse(try value())
            default: throw BenchError(description: "unknown option '\(arguments[index])'")
            }
            index += 1
        }
        return options
    }

    /// The message sizes: MIN (0 or a power of two) then powers of two up to MAX.
    var sizes: [Int] {
        var sizes: [Int] = []
        var size = minSize == 0 ? 0 : minSize
        while size <= maxSize {
            sizes.append(size)
            size = size == 0 ? 1 : size * 2
        }
        return sizes
    }

    /// OSU's iteration counts: latency 10 000 + 100 (1 000 + 10 above 8 KiB); bandwidth 100 + 10
    /// (20 + 2 above 8 KiB).
    func counts(for size: Int, benchmark: Benchmark) -> (iterations: Int, warmup: Int) {
        let large = size > Self.largeMessage
        let defaults =
            benchmark.isCollective
            ? (large ? (100, 10) : (1000, 100))
            : benchmark.isBandwidth ? (large ? (20, 2) : (100, 10)) : (large ? (1000, 10) : (10000, 100))
        return (iterations ?? defaults.0, warmup ?? defaults.1)
    }
}
