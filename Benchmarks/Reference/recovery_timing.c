/*
 * recovery_timing.c -- how long after a rank dies its peers know it and have a shrunk communicator
 * (ULFM), in C, so that Open MPI 5's ULFM (`mpirun --with-ft ulfm`) and SwiftMPI's C interface
 * (`swiftmpirun --enable-recovery`) run the same program. It does what `swiftmpi-testrank
 * recover-timing` does (Tests/Programs/Recovery.swift):
 *   - every survivor tells the last rank (the victim) it has left the first barrier;
 *   - the victim sends each of them MPI_Wtime() and dies by SIGKILL at once;
 *   - each survivor then posts a receive from the victim, which can only fail (detection), and
 *     calls MPIX_Comm_shrink (recovery);
 *   - rank 0 prints both times in milliseconds after the death (one host: the clocks agree).
 * Build: mpicc -std=c99 -O2 -o recovery_timing recovery_timing.c (Benchmarks/recovery-compare.sh).
 */
#define _POSIX_C_SOURCE 200112L
#include <mpi.h>
#if defined(OPEN_MPI) && OPEN_MPI
#include <mpi-ext.h> /* Open MPI declares the MPIX_ calls of ULFM here; MPICH and SwiftMPI in mpi.h */
#endif
#include <signal.h>
#include <stdio.h>

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    int victim = size - 1, word = rank;
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == victim) {
        for (int peer = 0; peer < victim; peer++) MPI_Recv(&word, 1, MPI_INT, peer, 8, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        double now = MPI_Wtime();
        for (int peer = 0; peer < victim; peer++) MPI_Send(&now, 1, MPI_DOUBLE, peer, 9, MPI_COMM_WORLD);
        raise(SIGKILL);
    }
    MPI_Send(&word, 1, MPI_INT, victim, 8, MPI_COMM_WORLD);
    double death = 0;
    MPI_Recv(&death, 1, MPI_DOUBLE, victim, 9, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    int nothing = 0;
    int failed = MPI_Recv(&nothing, 1, MPI_INT, victim, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE) != MPI_SUCCESS;
    double detected = MPI_Wtime();
    MPI_Comm survivors;
    MPIX_Comm_shrink(MPI_COMM_WORLD, &survivors);
    double recovered = MPI_Wtime();
    int remaining = 0;
    MPI_Comm_size(survivors, &remaining);
    if (rank == 0) {
        printf("recovery timing at %d ranks: detected after %.2f ms%s, shrunk to %d ranks after %.2f ms\n", size, (detected - death) * 1e3,
               failed ? "" : " (the receive did not fail)", remaining, (recovered - death) * 1e3);
        fflush(stdout);
    }
    MPI_Comm_free(&survivors);
    MPI_Finalize();
    return 0;
}
