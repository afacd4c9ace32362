/*
 * io_style.c -- the C side of swiftmpi-bench's io-write and io-read (Benchmarks/Sources/FileIO.swift),
 * written against MPI-IO so that MPICH (ROMIO) and Open MPI (OMPIO) run exactly what SwiftMPI runs.
 *
 *     mpirun -n N ./io_style io-write|io-read [-m MIN:MAX] [-i ITERS] [-x WARMUP] [-p contiguous|strided]
 *                 [-b BLOCK] [-c] [--cb enable|disable|automatic] [--cb-nodes N] [-d DIR] [--sync] [--drop-caches]
 *
 * What is measured, as in FileIO.swift: every rank writes (reads) SIZE bytes of one shared file per
 * iteration; the aggregate bandwidth is all ranks' bytes over the slowest rank's time (MPI_MAX of
 * the per-rank times), MB = 10^6, averaged over the timed iterations (default 5 after 1 warm-up).
 * Sizes double from MIN to MAX (default 1 MiB to 256 MiB). contiguous: rank r's block at r * SIZE;
 * strided: a view of a BLOCK-byte block resized to N * BLOCK, displaced by r * BLOCK (default 4096).
 * -c: MPI_File_write_at_all / read_at_all, else MPI_File_write_at / read_at. --cb sets
 * romio_cb_write and romio_cb_read, --cb-nodes cb_nodes. Each size: the file is written once untimed and synced, then
 * each iteration runs between two barriers; --sync adds MPI_File_sync to the timed writes;
 * --drop-caches (root) drops the page cache before each timed read. Output rows as osu_style.c's.
 *
 * Build: mpicc -std=c99 -O2 -o io_style io_style.c  (compare.sh builds one per MPI library)
 */
#define _DEFAULT_SOURCE /* sync(2) */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long parse_long(const char *text) {
    char *end;
    if (*text < '0' || *text > '9') return -1;
    long value = strtol(text, &end, 10);
    return *end == '\0' ? value : -1;
}

static void drop_page_cache(void) {
    sync();
    FILE *handle = fopen("/proc/sys/vm/drop_caches", "w");
    if (!handle) return;
    fputs("1\n", handle);
    fclose(handle);
}

int main(int argc, char **argv) {
    if (argc < 2 || (strcmp(argv[1], "io-write") && strcmp(argv[1], "io-read"))) {
        fprintf(stderr, "usage: mpirun -n N io_style io-write|io-read [-m MIN:MAX] [-i N] [-x N] [-p contiguous|strided] [-b BLOCK] [-c]\n"
                        "       [--cb enable|disable|automatic] [-d DIR] [--sync] [--drop-caches]\n");
        return 2;
    }
    int writing = strcmp(argv[1], "io-write") == 0;
    long min_size = 1L << 20, max_size = 1L << 28, block_size = 4096;
    int iterations = 5, warmup = 1, strided = 0, collective = 0, timed_sync = 0, drop_caches = 0;
    const char *directory = "/dev/shm", *cb = "automatic", *cb_nodes = NULL;
    for (int i = 2; i < argc; i++) {
        const char *flag = argv[i];
        int takes_value = !strcmp(flag, "-m") || !strcmp(flag, "-i") || !strcmp(flag, "-x") || !strcmp(flag, "-p") || !strcmp(flag, "-b") ||
                          !strcmp(flag, "--cb") || !strcmp(flag, "--cb-nodes") || !strcmp(flag, "-d");
        const char *text = takes_value && i + 1 < argc ? argv[++i] : NULL;
        if (takes_value && !text) {
            fprintf(stderr, "io_style: %s needs a value\n", flag);
            return 2;
        }
        if (!strcmp(flag, "-m")) {
            const char *colon = strchr(text, ':');
            if (colon) {
                char head[32];
                size_t length = (size_t)(colon - text) < sizeof head - 1 ? (size_t)(colon - text) : sizeof head - 1;
                memcpy(head, text, length), head[length] = '\0';
                min_size = parse_long(head), max_size = parse_long(colon + 1);
            } else {
                max_size = parse_long(text);
            }
            if (min_size <= 0 || max_size < min_size) {
                fprintf(stderr, "io_style: -m needs MIN:MAX with 0 < MIN <= MAX, got '%s'\n", text);
                return 2;
            }
        } else if (!strcmp(flag, "-i") || !strcmp(flag, "-x") || !strcmp(flag, "-b")) {
            long value = parse_long(text);
            if (value <= 0) {
                fprintf(stderr, "io_style: %s needs a positive integer, got '%s'\n", flag, text);
                return 2;
            }
            if (flag[1] == 'i') iterations = (int)value;
            if (flag[1] == 'x') warmup = (int)value;
            if (flag[1] == 'b') block_size = value;
        } else if (!strcmp(flag, "-p")) {
            if (strcmp(text, "contiguous") && strcmp(text, "strided")) {
                fprintf(stderr, "io_style: -p needs contiguous or strided, got '%s'\n", text);
                return 2;
            }
            strided = !strcmp(text, "strided");
        } else if (!strcmp(flag, "--cb")) {
            cb = text;
        } else if (!strcmp(flag, "--cb-nodes")) {
            cb_nodes = text;
        } else if (!strcmp(flag, "-d")) {
            directory = text;
        } else if (!strcmp(flag, "-c")) {
            collective = 1;
        } else if (!strcmp(flag, "--sync")) {
            timed_sync = 1;
        } else if (!strcmp(flag, "--drop-caches")) {
            drop_caches = 1;
        } else {
            fprintf(stderr, "io_style: unknown option '%s'\n", flag);
            return 2;
        }
    }

    MPI_Init(&argc, &argv);
    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    int pid = (int)getpid();
    MPI_Bcast(&pid, 1, MPI_INT, 0, MPI_COMM_WORLD);
    char path[4096];
    snprintf(path, sizeof path, "%s/io-style-bench.%d", directory, pid);
    unsigned char *data = NULL;
    if (posix_memalign((void **)&data, (size_t)sysconf(_SC_PAGESIZE), (size_t)max_size) != 0) MPI_Abort(MPI_COMM_WORLD, 1);
    memset(data, 0x61, (size_t)max_size);
    MPI_Info info;
    MPI_Info_create(&info);
    MPI_Info_set(info, "romio_cb_write", cb);
    MPI_Info_set(info, "romio_cb_read", cb);
    if (cb_nodes) MPI_Info_set(info, "cb_nodes", cb_nodes);

    if (rank == 0) {
        char version[MPI_MAX_LIBRARY_VERSION_STRING];
        int length;
        MPI_Get_library_version(version, &length);
        version[strcspn(version, ",\n")] = '\0';
        printf("# Reference MPI-IO File %s Bandwidth Test (io_style.c, %s)\n", writing ? "Write" : "Read", version);
        printf("# [ ranks: %d ] %s, %s, in %s%s\n", nranks, collective ? "collective (write_at_all/read_at_all)" : "independent (write_at/read_at)",
               strided ? "strided" : "contiguous blocks", directory, timed_sync ? ", fsync timed" : "");
        puts("# Size      Bandwidth (MB/s)");
        fflush(stdout);
    }
    for (long size = min_size; size <= max_size; size *= 2) {
        long block = block_size < size ? block_size : size;
        if (size % block) {
            if (rank == 0) fprintf(stderr, "io_style: -b %ld must divide every size (%ld)\n", block, size);
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
        MPI_File file;
        if (MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_CREATE | MPI_MODE_RDWR, info, &file) != MPI_SUCCESS) {
            fprintf(stderr, "io_style: cannot open %s\n", path);
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        MPI_Datatype contiguous = MPI_DATATYPE_NULL, tile = MPI_DATATYPE_NULL;
        if (strided) {
            MPI_Type_contiguous((int)block, MPI_BYTE, &contiguous);
            MPI_Type_create_resized(contiguous, 0, (MPI_Aint)nranks * block, &tile);
            MPI_Type_commit(&tile);
            MPI_File_set_view(file, (MPI_Offset)rank * block, MPI_BYTE, tile, "native", info);
        }
        MPI_Offset start = strided ? 0 : (MPI_Offset)rank * size;
        double total = 0;
        for (int i = -1; i < warmup + iterations; i++) {
            int write_now = i < 0 || writing; /* i = -1: the untimed write that prepares the file */
            if (!write_now && drop_caches && rank == 0) drop_page_cache();
            MPI_Barrier(MPI_COMM_WORLD);
            double begin = MPI_Wtime();
            if (write_now) {
                if (collective) MPI_File_write_at_all(file, start, data, (int)size, MPI_BYTE, MPI_STATUS_IGNORE);
                else MPI_File_write_at(file, start, data, (int)size, MPI_BYTE, MPI_STATUS_IGNORE);
                if (timed_sync || i < 0) MPI_File_sync(file);
            } else {
                if (collective) MPI_File_read_at_all(file, start, data, (int)size, MPI_BYTE, MPI_STATUS_IGNORE);
                else MPI_File_read_at(file, start, data, (int)size, MPI_BYTE, MPI_STATUS_IGNORE);
            }
            double elapsed = MPI_Wtime() - begin, slowest;
            MPI_Allreduce(&elapsed, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
            if (i >= warmup) total += slowest;
        }
        MPI_File_close(&file);
        if (rank == 0) MPI_File_delete(path, MPI_INFO_NULL);
        if (strided) {
            MPI_Type_free(&tile);
            MPI_Type_free(&contiguous);
        }
        if (rank == 0) {
            printf("%-10ld%18.2f\n", size, (double)nranks * (double)size / (total / iterations) / 1e6);
            fflush(stdout);
        }
    }
    MPI_Info_free(&info);
    free(data);
    MPI_Finalize();
    return 0;
}
