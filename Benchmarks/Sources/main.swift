// swiftmpi-bench: OSU-style point-to-point micro-benchmarks for SwiftMPI.
//
//     swiftmpirun -n 2 swiftmpi-bench latency [-m MIN:MAX] [-i ITERS] [-x WARMUP] [-W WINDOW] [-D TYPE] [--json] [--async] [--span] [--owned]
//
// Methodology and output follow the OSU Micro-Benchmarks (osu_latency, osu_bw, osu_bibw, osu_mbw_mr,
// osu_multi_lat): sizes in powers of two, warm-up then timed iterations, one-way latency = round trip
// / 2, MB/s with MB = 10^6, two decimals. Buffers are allocated once and touched before timing.
#if canImport(Glibc)
import Glibc
#endif
import SwiftMPI

let usage = """
    usage: swiftmpirun -n 2 swiftmpi-bench <benchmark> [options]

    benchmarks: latency, bw, bibw, mbw-mr, multi-lat (point-to-point, 2 ranks; mbw-mr and multi-lat
                any even number), barrier, bcast, allreduce, reduce, gather, scatter, allgather,
                alltoall, gatherv, scatterv, allgatherv, alltoallv, alltoallw, reduce-scatter,
                reduce-scatter-block (any number), their non-blocking forms ibarrier, ibcast, iallreduce,
                ireduce, igather, iscatter, iallgather, ialltoall, igatherv, iscatterv, iallgatherv,
                ialltoallv, ialltoallw, ireduce-scatter, ireduce-scatter-block (any number; OSU's
                overall, compute, pure communication and overlap columns),
                halo (2 ranks: a column of an N×N grid of doubles, N = 64, 512, 4096; -m N for one N),
                put-latency, get-latency, put-bw, get-bw, put-bibw, acc-latency, fop-latency, cas-latency,
                get-acc-latency (one-sided, 2 ranks: rank 0 accesses rank 1's window, as OSU's
                osu_put_latency and friends; in put-bibw both put into each other's),
                io-write, io-read (MPI-IO, any number of ranks: every rank SIZE bytes of one file;
                aggregate MB/s; sizes 1 MiB to 256 MiB by default, 5 iterations + 1 warm-up)
    options:
      -m MIN:MAX   message sizes in bytes (default 0:4194304; bw, bibw and mbw-mr start at 1)
      -i ITERS     timed iterations (default: OSU's, by size)
      -x WARMUP    warm-up iterations (default: OSU's, by size)
      -W WINDOW    window of messages in flight for bw, bibw, mbw-mr (default 64)
      -D TYPE      latency, bw, bibw, mbw-mr: each message is a derived datatype over the SIZE-byte
                   buffer, as OSU 7.4's -D: cont, vect[:STRIDE:BLOCK] (BLOCK bytes of every STRIDE;
                   default 8:4), indx:FILE ("displacement,blocklength" lines); the last column is the
                   bytes actually transmitted
      --json       one JSON object per line instead of the OSU table
      --async      latency: every send and receive is a request awaited by a task (Request.value)
      --span       latency: sends from a Span and receives into a MutableSpan (of arrays)
      --owned      mbw-mr: isend of arrays and irecv(count:of:) requests that own their buffers
      -w KIND      one-sided: allocate (Window.allocate, default), create (Window.create over the buffer)
                   or dynamic (Window.createDynamic, the buffer attached)
      -s SYNC      one-sided, as OSU: flush (a shared lock taken once, a flush after each access or
                   round: default), flush_local, lock (lock and unlock around each), lock_all (lockAll
                   and unlockAll around each), pscw (start/complete at rank 0, post/wait at rank 1),
                   fence (a fence after each); put-bibw takes pscw (default) or fence
      -p PATTERN   io: contiguous (rank r's block at r × SIZE, default) or strided (the ranks' data
                   interleaved in blocks of -b BLOCK bytes, default 4096, through a file view)
      -c           io: collective calls (writeAll/readAll) instead of independent ones
      --cb MODE    io: the romio_cb_write/read hint: enable, disable or automatic (default)
      --cb-nodes N io: the cb_nodes hint: N aggregators (default one per host, up to 8 on one host)
      -d DIR       io: where the file is made (default /dev/shm, a tmpfs)
      --sync       io-write: fsync inside the timed region (else writes land in the page cache)
      --drop-caches  io-read: drop the page cache before each timed read (root)
      --posix      io: the same pattern with plain pwrite/pread, no MPI-IO (the file system's limit)
    """

var arguments = Array(CommandLine.arguments.dropFirst())
guard let name = arguments.first, let benchmark = Benchmark(rawValue: name) else {
    let asked = CommandLine.arguments.dropFirst().first
    print(usage)
    exit(asked == nil || asked == "--help" || asked == "-h" ? 0 : 2)
}
let options: BenchOptions
do {
    options = try BenchOptions.parse(Array(arguments.dropFirst()), benchmark: benchmark)
} catch {
    print("swiftmpi-bench: \(error)\n\(usage)")
    exit(2)
}

let world = try MPI.initialize()
let pairOnly = benchmark == .latency || benchmark == .bw || benchmark == .bibw || benchmark == .halo || benchmark.isOneSided
guard benchmark.isCollective || benchmark.isFileIO || (world.size >= 2 && (!pairOnly || world.size == 2)) else {
    if world.rank == 0 { print("swiftmpi-bench \(name): needs exactly 2 ranks (mbw-mr and multi-lat take an even number)") }
    try MPI.finalize()
    exit(2)
}
let runner = try BenchRunner(world: world, options: options)
try runner.run(benchmark)
try MPI.finalize()
