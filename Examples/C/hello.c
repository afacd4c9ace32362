/*
 * hello.c: a C MPI program for SwiftMPI's C interface (docs/C-ABI.md). Build it either way:
 *   CInterface/swiftmpicc Examples/C/hello.c -o hello        (SwiftMPI's mpi.h; no MPICH needed)
 *   mpicc.mpich Examples/C/hello.c -o hello                  (MPICH's; the same binary runs on both)
 * and run it with swiftmpirun -n 4 ./hello.
 */
#include <mpi.h>
#include <stdio.h>

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size, sum = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int mine = rank + 1;
    MPI_Allreduce(&mine, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);  /* 1 + 2 + ... + size */
    char name[MPI_MAX_PROCESSOR_NAME];
    int length;
    MPI_Get_processor_name(name, &length);
    printf("rank %d of %d on %s: sum %d\n", rank, size, name, sum);
    MPI_Finalize();
    return 0;
}
