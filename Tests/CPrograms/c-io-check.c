/* c-io-check: MPI-IO through SwiftMPI's C interface, the same source built with swiftmpicc and with
 * MPICH's mpicc (ABI compatibility: MPI_File handles, MPI_MODE_*, MPI_SEEK_*, error classes).
 * Every rank checks what it reads against what the ranks wrote; prints " No Errors" on success. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int rank, size, errors;

#define CHECK(cond, ...)                                            \
    do {                                                            \
        if (!(cond)) {                                              \
            errors++;                                               \
            fprintf(stderr, "rank %d, line %d: ", rank, __LINE__);  \
            fprintf(stderr, __VA_ARGS__);                           \
            fprintf(stderr, "\n");                                  \
        }                                                           \
    } while (0)

#define OK(call) CHECK((call) == MPI_SUCCESS, "%s failed", #call)

enum { N = 64 };

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    char directory[256] = "";
    if (rank == 0) {
        strcpy(directory, "/tmp/swiftmpi-c-io-XXXXXX");
        if (!mkdtemp(directory)) directory[0] = 0;
    }
    MPI_Bcast(directory, sizeof directory, MPI_CHAR, 0, MPI_COMM_WORLD);
    char path[320];
    snprintf(path, sizeof path, "%s/data", directory);

    /* Contiguous blocks, collective, at explicit offsets. */
    MPI_File fh;
    OK(MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_CREATE | MPI_MODE_RDWR, MPI_INFO_NULL, &fh));
    int block[N], all[N * 16];
    for (int i = 0; i < N; i++) block[i] = rank * 1000 + i;
    MPI_Status status;
    OK(MPI_File_write_at_all(fh, (MPI_Offset)rank * N * sizeof(int), block, N, MPI_INT, &status));
    int count = -1;
    MPI_Get_count(&status, MPI_INT, &count);
    CHECK(count == N, "write_at_all status count %d", count);
    OK(MPI_File_sync(fh));
    MPI_Barrier(MPI_COMM_WORLD);
    OK(MPI_File_sync(fh));
    MPI_Offset fileSize = 0;
    OK(MPI_File_get_size(fh, &fileSize));
    CHECK(fileSize == (MPI_Offset)size * N * sizeof(int), "file size %lld", (long long)fileSize);
    OK(MPI_File_read_at(fh, 0, all, N * size, MPI_INT, &status));
    for (int r = 0; r < size; r++)
        for (int i = 0; i < N; i++) CHECK(all[r * N + i] == r * 1000 + i, "block of rank %d, element %d: %d", r, i, all[r * N + i]);

    /* A strided view: each rank sees every size-th pair of ints. */
    MPI_Datatype pair, tiled;
    MPI_Type_contiguous(2, MPI_INT, &pair);
    MPI_Type_create_resized(pair, 0, (MPI_Aint)size * 2 * sizeof(int), &tiled);
    MPI_Type_commit(&tiled);
    OK(MPI_File_set_view(fh, (MPI_Offset)rank * 2 * sizeof(int), MPI_INT, tiled, "native", MPI_INFO_NULL));
    MPI_Offset disp;
    MPI_Datatype etype, filetype;
    char datarep[MPI_MAX_DATAREP_STRING];
    OK(MPI_File_get_view(fh, &disp, &etype, &filetype, datarep));
    CHECK(disp == (MPI_Offset)rank * 8 && etype == MPI_INT && strcmp(datarep, "native") == 0, "get_view");
    MPI_Aint lb, extent;
    int typeSize;
    MPI_Type_get_extent(filetype, &lb, &extent);
    MPI_Type_size(filetype, &typeSize);
    CHECK(lb == 0 && extent == (MPI_Aint)size * 8 && typeSize == 8, "get_view's file type: lb %ld extent %ld size %d", (long)lb, (long)extent, typeSize);
    MPI_Type_free(&filetype); /* a new datatype (MPI-4.1 14.3) */
    for (int i = 0; i < N; i++) block[i] = -(rank * 1000 + i);
    OK(MPI_File_write_all(fh, block, N, MPI_INT, &status));
    MPI_Offset position;
    OK(MPI_File_get_position(fh, &position));
    CHECK(position == N, "individual pointer after write_all: %lld", (long long)position);
    OK(MPI_File_seek(fh, 0, MPI_SEEK_SET));
    int back[N];
    memset(back, 0, sizeof back);
    OK(MPI_File_read_all(fh, back, N, MPI_INT, &status));
    for (int i = 0; i < N; i++) CHECK(back[i] == -(rank * 1000 + i), "strided read element %d: %d", i, back[i]);
    OK(MPI_File_set_view(fh, 0, MPI_BYTE, MPI_BYTE, "native", MPI_INFO_NULL));
    OK(MPI_File_sync(fh));
    MPI_Barrier(MPI_COMM_WORLD);
    OK(MPI_File_sync(fh));
    OK(MPI_File_read_at(fh, 0, all, N * size, MPI_INT, &status));
    for (int k = 0; k < N * size; k++) {
        int pairIndex = k / 2, owner = pairIndex % size, element = (pairIndex / size) * 2 + k % 2;
        CHECK(all[k] == -(owner * 1000 + element), "interleaved file element %d: %d", k, all[k]);
    }

    /* Non-contiguous memory: every other int of a buffer, written contiguously. */
    MPI_Datatype everyOther;
    MPI_Type_vector(N / 2, 1, 2, MPI_INT, &everyOther);
    MPI_Type_commit(&everyOther);
    int spread[N];
    for (int i = 0; i < N; i++) spread[i] = (i % 2 == 0) ? rank * 100 + i / 2 : -1;
    OK(MPI_File_write_at_all(fh, (MPI_Offset)rank * (N / 2) * sizeof(int), spread, 1, everyOther, &status));
    OK(MPI_File_sync(fh));
    MPI_Barrier(MPI_COMM_WORLD);
    int half[N / 2];
    OK(MPI_File_read_at(fh, (MPI_Offset)rank * (N / 2) * sizeof(int), half, N / 2, MPI_INT, &status));
    for (int i = 0; i < N / 2; i++) CHECK(half[i] == rank * 100 + i, "vector memory element %d: %d", i, half[i]);

    /* Shared pointer in rank order, split collectives, nonblocking, size, atomicity. */
    OK(MPI_File_set_size(fh, 0));
    OK(MPI_File_seek_shared(fh, 0, MPI_SEEK_SET));
    int mine[2] = {rank, rank};
    OK(MPI_File_write_ordered(fh, mine, 2, MPI_INT, &status));
    MPI_Offset shared;
    OK(MPI_File_get_position_shared(fh, &shared));
    CHECK(shared == (MPI_Offset)size * 2 * sizeof(int), "shared pointer %lld", (long long)shared);
    OK(MPI_File_sync(fh));
    MPI_Barrier(MPI_COMM_WORLD);
    OK(MPI_File_read_at(fh, 0, all, 2 * size, MPI_INT, &status));
    for (int k = 0; k < 2 * size; k++) CHECK(all[k] == k / 2, "write_ordered element %d: %d", k, all[k]);
    OK(MPI_File_write_at_all_begin(fh, (MPI_Offset)rank * sizeof(int), &rank, 1, MPI_INT));
    OK(MPI_File_write_at_all_end(fh, &rank, &status));
    MPI_Get_count(&status, MPI_INT, &count);
    CHECK(count == 1, "split collective status count %d", count);
    MPI_Request request;
    int value = -1;
    OK(MPI_File_iread_at(fh, (MPI_Offset)rank * sizeof(int), &value, 1, MPI_INT, &request));
    OK(MPI_Wait(&request, &status));
    CHECK(value == rank, "iread_at after the split collective write: %d", value);

    /* The large-count (_c) forms: MPI_Count counts, the same data. */
    int wide[4] = {rank, rank + 1, rank + 2, rank + 3}, wideBack[4] = {0};
    int next = (rank + 1) % size;
    MPI_Count wideCount = -1, intExtent = -1;
    OK(MPI_File_write_at_all_c(fh, (MPI_Offset)rank * sizeof wide, wide, 4, MPI_INT, &status));
    MPI_Get_count_c(&status, MPI_INT, &wideCount);
    CHECK(wideCount == 4, "write_at_all_c status count %ld", (long)wideCount);
    OK(MPI_File_sync(fh));
    MPI_Barrier(MPI_COMM_WORLD);
    OK(MPI_File_sync(fh));
    OK(MPI_File_read_at_c(fh, (MPI_Offset)next * sizeof wide, wideBack, 4, MPI_INT, &status));
    CHECK(wideBack[0] == next && wideBack[3] == next + 3, "read_at_c of the next rank's block: %d %d", wideBack[0], wideBack[3]);
    memset(wideBack, 0, sizeof wideBack);
    OK(MPI_File_iread_at_all_c(fh, (MPI_Offset)rank * sizeof wide, wideBack, 4, MPI_INT, &request));
    OK(MPI_Wait(&request, &status));
    CHECK(wideBack[2] == rank + 2, "iread_at_all_c: %d", wideBack[2]);
    memset(wideBack, 0, sizeof wideBack);
    OK(MPI_File_read_at_all_begin_c(fh, (MPI_Offset)next * sizeof wide, wideBack, 4, MPI_INT));
    OK(MPI_File_read_at_all_end(fh, wideBack, &status));
    CHECK(wideBack[1] == next + 1, "read_at_all_begin_c: %d", wideBack[1]);
    OK(MPI_File_seek(fh, (MPI_Offset)rank * sizeof wide, MPI_SEEK_SET));
    OK(MPI_File_read_c(fh, wideBack, 4, MPI_INT, &status));
    CHECK(wideBack[3] == rank + 3, "read_c at the individual pointer: %d", wideBack[3]);
    OK(MPI_File_get_type_extent_c(fh, MPI_INT, &intExtent));
    CHECK(intExtent == (MPI_Count)sizeof(int), "get_type_extent_c: %ld", (long)intExtent);
    OK(MPI_File_seek_shared(fh, 0, MPI_SEEK_SET));
    OK(MPI_File_write_ordered_c(fh, wide, 4, MPI_INT, &status));
    OK(MPI_File_seek_shared(fh, 0, MPI_SEEK_SET));
    OK(MPI_File_read_ordered_c(fh, wideBack, 4, MPI_INT, &status));
    CHECK(wideBack[0] == rank && wideBack[3] == rank + 3, "write_ordered_c then read_ordered_c: %d %d", wideBack[0], wideBack[3]);
    int flag = -1;
    OK(MPI_File_set_atomicity(fh, 1));
    OK(MPI_File_get_atomicity(fh, &flag));
    CHECK(flag == 1, "atomicity flag %d", flag);
    int amode = 0;
    /* Fortran handles (MPI_File_c2f/f2c): an integer that names the open file, the same each time. */
    MPI_Fint fortranFile = MPI_File_c2f(fh);
    CHECK(fortranFile != 0 && MPI_File_c2f(fh) == fortranFile && MPI_File_f2c(fortranFile) == fh, "MPI_File_c2f/f2c round trip");
    CHECK(MPI_File_c2f(MPI_FILE_NULL) == 0 && MPI_File_f2c(0) == MPI_FILE_NULL, "MPI_FILE_NULL converts to 0 and back");
    OK(MPI_File_get_amode(fh, &amode));
    CHECK(amode == (MPI_MODE_CREATE | MPI_MODE_RDWR), "amode %d", amode);
    MPI_Info info;
    OK(MPI_File_get_info(fh, &info));
    char hint[64];
    int found = 0;
    MPI_Info_get(info, "cb_buffer_size", sizeof hint - 1, hint, &found);
    CHECK(found && atoi(hint) > 0, "cb_buffer_size hint reported");
    MPI_Info_free(&info);
    OK(MPI_File_close(&fh));
    CHECK(fh == MPI_FILE_NULL, "close sets MPI_FILE_NULL");
    char library[MPI_MAX_LIBRARY_VERSION_STRING];
    int length = 0;
    MPI_Get_library_version(library, &length);
    if (strstr(library, "SwiftMPI")) /* SwiftMPI's promise (MPI leaves it open): a closed file's integer names no file */
        CHECK(MPI_File_f2c(fortranFile) == MPI_FILE_NULL, "a closed file's Fortran integer still names a file");

    /* Mistakes return error classes (files' default handler is MPI_ERRORS_RETURN). */
    char missing[340];
    snprintf(missing, sizeof missing, "%s/missing", directory);
    int code = MPI_File_open(MPI_COMM_WORLD, missing, MPI_MODE_RDONLY, MPI_INFO_NULL, &fh), errorClass = -1;
    MPI_Error_class(code, &errorClass);
    CHECK(errorClass == MPI_ERR_NO_SUCH_FILE, "opening a missing file: class %d", errorClass);
    code = MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_RDONLY | MPI_MODE_CREATE, MPI_INFO_NULL, &fh);
    MPI_Error_class(code, &errorClass);
    CHECK(errorClass == MPI_ERR_AMODE, "read-only with create: class %d", errorClass);
    OK(MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_RDONLY, MPI_INFO_NULL, &fh));
    code = MPI_File_write_at(fh, 0, &rank, 1, MPI_INT, &status);
    MPI_Error_class(code, &errorClass);
    CHECK(errorClass == MPI_ERR_READ_ONLY, "writing a read-only file: class %d", errorClass);
    OK(MPI_File_close(&fh));

    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) {
        OK(MPI_File_delete(path, MPI_INFO_NULL));
        code = MPI_File_delete(path, MPI_INFO_NULL);
        MPI_Error_class(code, &errorClass);
        CHECK(errorClass == MPI_ERR_NO_SUCH_FILE, "deleting a missing file: class %d", errorClass);
        rmdir(directory);
    }
    MPI_Type_free(&tiled);
    MPI_Type_free(&pair);
    MPI_Type_free(&everyOther);
    int total = 0;
    MPI_Allreduce(&errors, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0 && total == 0) printf(" No Errors\n");
    MPI_Finalize();
    return total != 0;
}
