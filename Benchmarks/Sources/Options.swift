/// The benchmarks, named as `swiftmpi-bench` subcommands.
enum Benchmark: String {
    case latency, bw, bibw, mbwMR = "mbw-mr", multiLatency = "multi-lat"
    case barrier, bcast, allreduce, reduce, allgather, alltoall

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
        case .allgather: "Allgather Latency Test"
        case .alltoall: "All-to-All Latency Test"
        }
    }

    /// Collective benchmarks report the average latency per call, averaged over the ranks (OSU).
    var isCollective: Bool {
        switch self {
        case .barrier, .bcast, .allreduce, .reduce, .allgather, .alltoall: true
        default: false
        }
    }

    var isBandwidth: Bool { self == .bw || self == .bibw || self == .mbwMR }
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

    static let largeMessage = 8192

    static func parse(_ arguments: [String], benchmark: Benchmark) throws -> BenchOptions {
        var options = BenchOptions()
        if benchmark.isBandwidth { options.minSize = 1 }
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
