/*
 * hello.c -- the C counterpart of swiftmpi-hello (Examples/Hello), for the launch-time comparison in
 * Benchmarks/compare.sh: initialize, print one line per rank, finalize. What hyperfine measures is
 * then launcher start-up + wire-up + MPI_Init + MPI_Finalize, the same work swiftmpi-hello does.
 *
 * Build: mpicc -std=c99 -O2 -o hello hello.c
 */
#include <mpi.h>
#include <stdio.h>

int main(int argc, char **argv) {
    int rank, size, length;
    char host[MPI_MAX_PROCESSOR_NAME];
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Get_processor_name(host, &length);
    printf("Hello from rank %d of %d on %s\n", rank, size, host);
    MPI_Finalize();
    return 0;
}
