// swiftmpi-bench: OSU-style micro-benchmarks for SwiftMPI (filled in by the benchmark issue).
#if canImport(Glibc)
import Glibc
#endif

let usage = """
    usage: swiftmpirun -n 2 swiftmpi-bench <benchmark> [options]

    Benchmarks (OSU Micro-Benchmarks methodology): latency, bw, bibw, mbw-mr, multi-lat,
    barrier, bcast, allreduce, reduce, allgather, alltoall.
    Not implemented yet in this version: they arrive with the point-to-point and benchmark work.
    """
print(usage)
exit(CommandLine.arguments.count > 1 && CommandLine.arguments[1] != "--help" ? 2 : 0)
