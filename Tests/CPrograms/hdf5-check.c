/* hdf5-check: parallel HDF5 (Debian's libhdf5-mpich, HDF5 1.10 built for MPICH) on SwiftMPI's C library.
 * Every rank writes its block of rows of a 2-D dataset by hyperslab with collective transfer
 * (H5FD_MPIO_COLLECTIVE), the file is reopened read-only and every rank reads the whole dataset
 * independently and checks it; the test then shows it with h5dump. Prints " No Errors" on success.
 *
 *     mpicc.mpich -I/usr/include/hdf5/mpich -o hdf5-check hdf5-check.c -L/usr/lib/x86_64-linux-gnu/hdf5/mpich -lhdf5
 *     swiftmpirun -n 3 ./hdf5-check FILE.h5
 */
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

enum { ROWS_PER_RANK = 4, COLUMNS = 6 };

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size, errors = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc < 2) {
        if (rank == 0) fprintf(stderr, "usage: hdf5-check FILE.h5\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    const char *path = argv[1];
    hsize_t dims[2] = {(hsize_t)(ROWS_PER_RANK * size), COLUMNS};

    /* Write: every rank its rows, collectively. */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL);
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (file < 0) {
        fprintf(stderr, "rank %d: H5Fcreate failed\n", rank);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    hid_t space = H5Screate_simple(2, dims, NULL);
    hid_t dataset = H5Dcreate2(file, "/data", H5T_NATIVE_INT, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t start[2] = {(hsize_t)(rank * ROWS_PER_RANK), 0}, count[2] = {ROWS_PER_RANK, COLUMNS};
    H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL);
    hid_t memory = H5Screate_simple(2, count, NULL);
    int mine[ROWS_PER_RANK][COLUMNS];
    for (int r = 0; r < ROWS_PER_RANK; r++)
        for (int c = 0; c < COLUMNS; c++) mine[r][c] = (rank * ROWS_PER_RANK + r) * 100 + c;
    hid_t transfer = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_dxpl_mpio(transfer, H5FD_MPIO_COLLECTIVE);
    if (H5Dwrite(dataset, H5T_NATIVE_INT, memory, space, transfer, mine) < 0) {
        fprintf(stderr, "rank %d: H5Dwrite failed\n", rank);
        errors++;
    }
    H5Pclose(transfer);
    H5Sclose(memory);
    H5Sclose(space);
    H5Dclose(dataset);
    H5Fclose(file);

    /* Read back: the whole dataset on every rank. */
    file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    dataset = H5Dopen2(file, "/data", H5P_DEFAULT);
    int *all = malloc(sizeof(int) * ROWS_PER_RANK * (size_t)size * COLUMNS);
    if (H5Dread(dataset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, all) < 0) {
        fprintf(stderr, "rank %d: H5Dread failed\n", rank);
        errors++;
    }
    for (int r = 0; r < ROWS_PER_RANK * size; r++)
        for (int c = 0; c < COLUMNS; c++)
            if (all[r * COLUMNS + c] != r * 100 + c) {
                if (errors++ < 5) fprintf(stderr, "rank %d: data[%d][%d] = %d, expected %d\n", rank, r, c, all[r * COLUMNS + c], r * 100 + c);
            }
    free(all);
    H5Dclose(dataset);
    H5Fclose(file);
    H5Pclose(fapl);

    int total = 0;
    MPI_Allreduce(&errors, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0 && total == 0) printf(" No Errors\n");
    MPI_Finalize();
    return total != 0;
}
