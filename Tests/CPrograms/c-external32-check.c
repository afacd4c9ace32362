/* c-external32-check: MPI-IO file views in the portable "external32" data representation, the same
 * source built with swiftmpicc (run on SwiftMPI) and with MPICH's mpicc (run on MPICH), so that a
 * file one MPI writes is read by the other (IOTests runs both ways and compares the files).
 *
 *   c-external32-check write PATH   writes PATH, reads it back, checks its bytes
 *   c-external32-check read PATH    reads a PATH written by this program (on any MPI), checks it
 *
 * The file, for `size` ranks: K ints per rank interleaved block by block (a collective write), then
 * 2 doubles per rank (independent writes), then 3 shorts per rank in rank order (the shared file
 * pointer), the shorts taken from every other short in memory (a vector memory type). Every element
 * is big-endian in the file: rank 0 checks the raw bytes through a native byte view.
 * Prints " No Errors" on success. */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

enum { K = 5 };

static int int_value(int r, int i) { return r * 1000 + i - 3; }
static double double_value(int r, int i) { return i == 0 ? r + 0.25 : -(r + 1) * 1e-300; }
static short short_value(int r, int i) { return (short)(r * 10 - 1 + i); }

static MPI_Offset doubles_at(void) { return (MPI_Offset)size * K * 4; }
static MPI_Offset shorts_at(void) { return doubles_at() + (MPI_Offset)size * 16; }

/* Sets the views of the three parts in turn; part 0 is the ints. */
static void view(MPI_File fh, int part, MPI_Datatype interleaved) {
    if (part == 0) OK(MPI_File_set_view(fh, (MPI_Offset)rank * K * 4, MPI_INT, interleaved, "external32", MPI_INFO_NULL));
    if (part == 1) OK(MPI_File_set_view(fh, doubles_at() + rank * 16, MPI_DOUBLE, MPI_DOUBLE, "external32", MPI_INFO_NULL));
    if (part == 2) OK(MPI_File_set_view(fh, shorts_at(), MPI_SHORT, MPI_SHORT, "external32", MPI_INFO_NULL));
}

static void write_file(const char *path, MPI_Datatype interleaved, MPI_Datatype every_other_short) {
    MPI_File fh;
    OK(MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_CREATE | MPI_MODE_WRONLY, MPI_INFO_NULL, &fh));
    OK(MPI_File_set_size(fh, 0));
    int ints[K];
    for (int i = 0; i < K; i++) ints[i] = int_value(rank, i);
    view(fh, 0, interleaved);
    OK(MPI_File_write_at_all(fh, 0, ints, K, MPI_INT, MPI_STATUS_IGNORE));
    double doubles[2] = {double_value(rank, 0), double_value(rank, 1)};
    view(fh, 1, interleaved);
    OK(MPI_File_write_at(fh, 0, doubles, 2, MPI_DOUBLE, MPI_STATUS_IGNORE));
    short shorts[6] = {short_value(rank, 0), -1, short_value(rank, 1), -1, short_value(rank, 2), -1};
    view(fh, 2, interleaved);
    OK(MPI_File_write_ordered(fh, shorts, 1, every_other_short, MPI_STATUS_IGNORE));

    /* SwiftMPI moves in external32 only data whose elements keep their size (C's long is 8 bytes
     * here and 4 in external32): it says so with MPI_ERR_UNSUPPORTED_DATAREP. */
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int length;
    MPI_Get_library_version(version, &length);
    if (strstr(version, "SwiftMPI")) {
        long one = 1;
        int code = MPI_File_write_at(fh, 0, &one, 1, MPI_LONG, MPI_STATUS_IGNORE), class_;
        MPI_Error_class(code, &class_);
        char text[MPI_MAX_ERROR_STRING];
        MPI_Error_string(code, text, &length);
        CHECK(class_ == MPI_ERR_UNSUPPORTED_DATAREP && strstr(text, "8 bytes in memory and 4 in external32"), "MPI_LONG in external32: class %d: %s", class_, text);
    }
    OK(MPI_File_close(&fh));
}

static void read_file(const char *path, MPI_Datatype interleaved, MPI_Datatype every_other_short) {
    MPI_File fh;
    OK(MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_RDONLY, MPI_INFO_NULL, &fh));
    MPI_Offset bytes;
    OK(MPI_File_get_size(fh, &bytes));
    CHECK(bytes == shorts_at() + size * 6, "the file has %lld bytes, not %lld", (long long)bytes, (long long)(shorts_at() + size * 6));
    int ints[K];
    view(fh, 0, interleaved);
    char datarep[MPI_MAX_DATAREP_STRING];
    MPI_Offset disp;
    MPI_Datatype etype, filetype;
    OK(MPI_File_get_view(fh, &disp, &etype, &filetype, datarep));
    CHECK(strcmp(datarep, "external32") == 0, "MPI_File_get_view says \"%s\"", datarep);
    MPI_Type_free(&filetype); /* (a new handle for the derived file type; etype is predefined) */
    MPI_Aint extent;
    OK(MPI_File_get_type_extent(fh, MPI_INT, &extent));
    CHECK(extent == 4, "MPI_File_get_type_extent(MPI_INT) = %ld", (long)extent);
    OK(MPI_File_read_at_all(fh, 0, ints, K, MPI_INT, MPI_STATUS_IGNORE));
    for (int i = 0; i < K; i++) CHECK(ints[i] == int_value(rank, i), "int %d: %d", i, ints[i]);
    double doubles[2] = {0, 0};
    view(fh, 1, interleaved);
    OK(MPI_File_read_at(fh, 0, doubles, 2, MPI_DOUBLE, MPI_STATUS_IGNORE));
    for (int i = 0; i < 2; i++) CHECK(doubles[i] == double_value(rank, i), "double %d: %g", i, doubles[i]);
    short shorts[3] = {0, 0, 0};
    view(fh, 2, interleaved);
    MPI_Status status;
    /* (At explicit offsets: MPICH 4.0.2's MPI_File_read_ordered does not convert from external32 —
     * it returned these shorts byte-swapped; SwiftMPI's shared-pointer reads are checked by
     * swiftmpi-io-check.) */
    OK(MPI_File_read_at_all(fh, rank * 3, shorts, 3, MPI_SHORT, &status));
    int count;
    MPI_Get_count(&status, MPI_SHORT, &count);
    CHECK(count == 3, "read_at_all: %d shorts", count);
    for (int i = 0; i < 3; i++) CHECK(shorts[i] == short_value(rank, i), "short %d: %d", i, shorts[i]);
    /* A read the end of the file cuts short inside an instance of a two-short memory type: the
     * elements read are converted (what lies past them MPI leaves undefined: MPICH zeroes it). */
    if (rank == 0) {
        MPI_Datatype pair;
        MPI_Type_contiguous(2, MPI_SHORT, &pair);
        MPI_Type_commit(&pair);
        short tail[4] = {0, 0, 0, 0};
        OK(MPI_File_read_at(fh, size * 3 - 3, tail, 2, pair, &status));
        MPI_Get_elements(&status, MPI_SHORT, &count);
        CHECK(count == 3, "a read cut short by the end of the file: %d shorts", count);
        for (int i = 0; i < 3; i++) CHECK(tail[i] == short_value(size - 1, i), "cut-short read, short %d: %d", i, tail[i]);
        MPI_Type_free(&pair);
    }

    /* The raw bytes: every element big-endian, whatever MPI wrote them. */
    OK(MPI_File_set_view(fh, 0, MPI_BYTE, MPI_BYTE, "native", MPI_INFO_NULL));
    if (rank == 0) {
        unsigned char *raw = calloc((size_t)bytes, 1), *want = calloc((size_t)bytes, 1);
        OK(MPI_File_read_at(fh, 0, raw, (int)bytes, MPI_BYTE, MPI_STATUS_IGNORE));
        for (int r = 0; r < size; r++) {
            for (int i = 0; i < K; i++) {
                uint32_t v = (uint32_t)int_value(r, i);
                for (int b = 0; b < 4; b++) want[(r * K + i) * 4 + b] = (unsigned char)(v >> (24 - 8 * b));
            }
            for (int i = 0; i < 2; i++) {
                double d = double_value(r, i);
                uint64_t v;
                memcpy(&v, &d, 8);
                for (int b = 0; b < 8; b++) want[doubles_at() + r * 16 + i * 8 + b] = (unsigned char)(v >> (56 - 8 * b));
            }
            for (int i = 0; i < 3; i++) {
                uint16_t v = (uint16_t)short_value(r, i);
                want[shorts_at() + r * 6 + i * 2] = (unsigned char)(v >> 8);
                want[shorts_at() + r * 6 + i * 2 + 1] = (unsigned char)v;
            }
        }
        for (MPI_Offset at = 0; at < bytes; at++) {
            if (raw[at] != want[at]) {
                CHECK(0, "file byte %lld is %#x, not %#x (big-endian)", (long long)at, raw[at], want[at]);
                break;
            }
        }
        free(raw);
        free(want);
    }
    OK(MPI_File_close(&fh));
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc != 3 || (strcmp(argv[1], "write") && strcmp(argv[1], "read"))) {
        if (rank == 0) fprintf(stderr, "usage: %s write|read PATH\n", argv[0]);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    MPI_Datatype block, interleaved, every_other_short;
    MPI_Type_contiguous(K, MPI_INT, &block);
    MPI_Type_create_resized(block, 0, (MPI_Aint)size * K * 4, &interleaved);
    MPI_Type_commit(&interleaved);
    MPI_Type_vector(3, 1, 2, MPI_SHORT, &every_other_short);
    MPI_Type_commit(&every_other_short);

    if (strcmp(argv[1], "write") == 0) write_file(argv[2], interleaved, every_other_short);
    MPI_Barrier(MPI_COMM_WORLD);
    read_file(argv[2], interleaved, every_other_short);

    MPI_Type_free(&block);
    MPI_Type_free(&interleaved);
    MPI_Type_free(&every_other_short);
    int all;
    MPI_Allreduce(&errors, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0 && all == 0) printf(" No Errors\n");
    MPI_Finalize();
    return all != 0;
}
