#if canImport(Glibc)
import Glibc
#endif
import SwiftMPI

/// io-write and io-read: every rank writes (reads) SIZE bytes of one shared file per iteration, the
/// aggregate bandwidth reported (all ranks' bytes over the slowest rank's time, MB = 10^6).
///
/// - `-p contiguous` (default): rank r's bytes are one block at offset r × SIZE.
/// - `-p strided`: the ranks' data interleaves in blocks of `-b` bytes (default 4096): a view of a
///   BLOCK-byte block resized to ranks × BLOCK, displaced by r × BLOCK.
/// - `-c`: collective (`writeAll`/`readAll`, two-phase collective buffering where it pays); else
///   independent (`write`/`read`).
/// - `--posix`: the same pattern with plain `pwrite`/`pread` per block and no MPI-IO: the file
///   system's limit.
/// - `-d DIR` (default /dev/shm, a tmpfs): where the file is made; `--sync` adds `fsync` to the timed
///   region (without it, writes are measured into the page cache, as they land); reads come from the
///   page cache unless `--drop-caches` (root only) drops it before each timed read.
///
/// Each size: the file is written once (untimed; for reads this prepares the data), then warm-up and
/// timed iterations, each after a barrier on a private communicator and ended by the max of the
/// ranks' times (an allreduce).
extension BenchRunner {
    func fileIO(_ benchmark: Benchmark) throws {
        let write = benchmark == .ioWrite
        let n = world.size
        let name = "\(options.directory)/swiftmpi-bench-io.\(try world.bcast(object: world.rank == 0 ? Int(getpid()) : nil, root: 0))"
        let byte = Datatype(UInt8.self)
        for size in options.sizes where size > 0 {
            let iterations = options.iterations ?? 5
            let warmup = options.warmup ?? 1
            let block = min(options.block, size)
            guard size % block == 0 else { throw BenchError(description: "-b \(block) must divide every size (\(size))") }
            var info = try Info(["romio_cb_write": options.collectiveBuffering, "romio_cb_read": options.collectiveBuffering])
            if let aggregators = options.aggregators { try info.set("cb_nodes", "\(aggregators)") }
            let file = try File.open(on: world, path: name, mode: [.create, .readWrite], info: info)
            if options.pattern == "strided" {
                let tile = try Datatype.contiguous(count: block, of: byte).resized(lowerBound: 0, extent: n * block)
                try file.setView(displacement: world.rank * block, elementType: byte, fileType: tile)
            }
            let start = options.pattern == "strided" ? 0 : world.rank * size
            let data = UnsafeMutableBufferPointer(rebasing: sendBuffer[0..<size])
            let posix =
                options.posix ? PosixAccess(path: name, rank: world.rank, ranks: n, size: size, block: block, strided: options.pattern == "strided") : nil
            func once(_ writing: Bool) throws {
                if let posix {
                    try posix.run(writing, data)
                } else if writing {
                    _ = options.collective ? try file.writeAll(UnsafeBufferPointer(data), at: start) : try file.write(UnsafeBufferPointer(data), at: start)
                } else {
                    _ = options.collective ? try file.readAll(into: data, at: start) : try file.read(into: data, at: start)
                }
            }
            try once(true)
            try file.sync()
            var total = 0.0
            for i in 0..<(warmup + iterations) {
                if !write && options.dropCaches && world.rank == 0 { dropPageCache() }
                try control.barrier()
                let begin = MPI.wtime()
                try once(write)
                if write && options.sync { if let posix { posix.sync() } else { try file.sync() } }
                let elapsed = try world.allreduce([MPI.wtime() - begin], op: .max)[0]
                if i >= warmup { total += elapsed }
            }
            try file.close()
            if world.rank == 0 { unlink(name) }
            let seconds = total / Double(iterations)
            if world.rank == 0 { report(benchmark, size: size, result: (Double(n * size) / seconds / 1e6, nil)) }
        }
    }

    /// Writes dirty pages out and drops the page cache (root only; a no-op message otherwise).
    private func dropPageCache() {
        Glibc.sync()
        guard let handle = fopen("/proc/sys/vm/drop_caches", "w") else { return }
        fputs("1\n", handle)
        fclose(handle)
    }
}

/// The `--posix` baseline: the same bytes at the same file offsets with one `pwrite`/`pread` per
/// block (one per rank for contiguous data), on a descriptor of its own.
final class PosixAccess {
    let descriptor: Int32
    let offsets: [Int]
    let block: Int

    init(path: String, rank: Int, ranks: Int, size: Int, block: Int, strided: Bool) {
        descriptor = open(path, O_RDWR | O_CREAT, 0o644)
        self.block = strided ? block : size
        offsets = strided ? (0..<(size / block)).map { ($0 * ranks + rank) * block } : [rank * size]
    }

    func run(_ writing: Bool, _ data: UnsafeMutableBufferPointer<UInt8>) throws {
        for (index, offset) in offsets.enumerated() {
            let memory = data.baseAddress! + index * block
            let done = writing ? pwrite(descriptor, memory, block, off_t(offset)) : pread(descriptor, memory, block, off_t(offset))
            let code = done < 0 ? errno : 0  // read before anything else can change it
            guard done == block else { throw BenchError(description: "\(writing ? "pwrite" : "pread") moved \(done) of \(block) bytes (errno \(code))") }
        }
    }

    func sync() { fsync(descriptor) }

    deinit { close(descriptor) }
}
