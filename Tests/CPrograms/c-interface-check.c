/*
 * c-interface-check: a C program that checks SwiftMPI's C interface from the outside, through mpi.h
 * alone. Built by the tests twice: with swiftmpicc against SwiftMPI's mpi.h, and with MPICH's
 * mpicc.mpich against MPICH's (the same source must run on libmpich.so.12 = SwiftMPI). Rank 0
 * prints " No Errors" when every check passed on every rank (as MPICH's test suite does).
 *
 *   c-interface-check            all checks (any number of ranks)
 *   c-interface-check fatal      rank 0 sends to an invalid rank under the default MPI_ERRORS_ARE_FATAL
 *   c-interface-check profile    a profiling layer (this file's MPI_Send) counts sends via PMPI_Send
 */
#include <complex.h>
#include <limits.h>
#include <mpi.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int errors = 0;
static int rank, size;

#define CHECK(condition, ...) do { if (!(condition)) { errors++; \
    fprintf(stderr, "rank %d: %s:%d: check failed: %s: ", rank, __FILE__, __LINE__, #condition); \
    fprintf(stderr, __VA_ARGS__); fprintf(stderr, "\n"); } } while (0)

/* The profiling interface: with `profile`, this definition replaces the library's weak MPI_Send. */
static int profiling = 0, profiledSends = 0;
int MPI_Comm_join(int fd, MPI_Comm *intercomm);  /* not in SwiftMPI's mpi.h yet: it is exported and reports itself */
int MPI_Send(const void *buf, int count, MPI_Datatype datatype, int dest, int tag, MPI_Comm comm) {
    if (profiling) profiledSends++;
    return PMPI_Send(buf, count, datatype, dest, tag, comm);
}

/* The class of an error code (codes may carry more than their class, as MPICH's do). */
static int classOf(int code) { int errorClass = -1; MPI_Error_class(code, &errorClass); return errorClass; }

static void pointToPoint(void) {
    int right = (rank + 1) % size, left = (rank + size - 1) % size;
    int out[4] = {rank, rank * 10, rank * 100, -rank}, in[4] = {0};
    MPI_Status status;
    /* sendrecv around a ring, with status and count */
    MPI_Sendrecv(out, 4, MPI_INT, right, 5, in, 4, MPI_INT, left, 5, MPI_COMM_WORLD, &status);
    int count = -1;
    MPI_Get_count(&status, MPI_INT, &count);
    CHECK(in[1] == left * 10 && status.MPI_SOURCE == left && status.MPI_TAG == 5 && count == 4,
          "sendrecv got %d from %d tag %d count %d", in[1], status.MPI_SOURCE, status.MPI_TAG, count);
    /* wildcards: everyone sends rank 0 a double; rank 0 takes them in any order */
    if (rank == 0) {
        int seen = 0;
        for (int i = 1; i < size; i++) {
            double value;
            MPI_Recv(&value, 1, MPI_DOUBLE, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &status);
            CHECK(value == status.MPI_SOURCE + 0.5 && status.MPI_TAG == 100 + status.MPI_SOURCE, "wildcard receive");
            seen |= 1 << status.MPI_SOURCE;
        }
        CHECK(size == 1 || seen == ((1 << size) - 2), "every sender seen once");
    } else {
        double value = rank + 0.5;
        MPI_Ssend(&value, 1, MPI_DOUBLE, 0, 100 + rank, MPI_COMM_WORLD);
    }
    MPI_Barrier(MPI_COMM_WORLD);  /* no later message may meet rank 0's wildcard receives */
    /* MPI_PROC_NULL */
    MPI_Recv(in, 4, MPI_INT, MPI_PROC_NULL, 0, MPI_COMM_WORLD, &status);
    MPI_Get_count(&status, MPI_INT, &count);
    CHECK(status.MPI_SOURCE == MPI_PROC_NULL && status.MPI_TAG == MPI_ANY_TAG && count == 0, "MPI_PROC_NULL receive");
    /* nonblocking: irecv from left, isend to right, waitall; then waitany and testall */
    MPI_Request requests[2];
    MPI_Irecv(in, 4, MPI_INT, left, 6, MPI_COMM_WORLD, &requests[0]);
    MPI_Isend(out, 4, MPI_INT, right, 6, MPI_COMM_WORLD, &requests[1]);
    MPI_Status statuses[2];
    MPI_Waitall(2, requests, statuses);
    CHECK(requests[0] == MPI_REQUEST_NULL && requests[1] == MPI_REQUEST_NULL, "waitall frees requests");
    CHECK(in[2] == left * 100 && statuses[0].MPI_SOURCE == left, "isend/irecv");
    MPI_Irecv(in, 4, MPI_INT, left, 7, MPI_COMM_WORLD, &requests[0]);
    MPI_Isend(out, 4, MPI_INT, right, 7, MPI_COMM_WORLD, &requests[1]);
    int done = 0, index = -1;
    for (int k = 0; k < 2; k++) {
        MPI_Waitany(2, requests, &index, &status);
        done |= 1 << index;
    }
    CHECK(done == 3, "waitany completed both");
    MPI_Waitany(2, requests, &index, &status);
    CHECK(index == MPI_UNDEFINED, "waitany of null requests gives MPI_UNDEFINED");
    /* probe, then receive what it found */
    MPI_Send(out, 3, MPI_INT, right, 8, MPI_COMM_WORLD);
    MPI_Probe(left, 8, MPI_COMM_WORLD, &status);
    MPI_Get_count(&status, MPI_INT, &count);
    CHECK(count == 3, "probe count %d", count);
    MPI_Recv(in, count, MPI_INT, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    /* buffered send */
    int bufferSize = 1024 + MPI_BSEND_OVERHEAD;
    void *buffer = malloc(bufferSize);
    MPI_Buffer_attach(buffer, bufferSize);
    MPI_Bsend(out, 4, MPI_INT, right, 9, MPI_COMM_WORLD);
    MPI_Recv(in, 4, MPI_INT, left, 9, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    void *detached; int detachedSize;
    MPI_Buffer_detach(&detached, &detachedSize);
    CHECK(detached == buffer && detachedSize == bufferSize && in[3] == -left, "bsend and buffer detach");
    free(buffer);
}

/* A program's large-count operation: the product of int pairs' first members, MPI_Count lengths. */
static void multiplyFirsts(void *in, void *inout, MPI_Count *len, MPI_Datatype *type) {
    (void)type;
    for (MPI_Count i = 0; i < *len; i++) ((int *)inout)[2 * i] *= ((int *)in)[2 * i];
}

/* The large-count collectives: MPI_Count counts, MPI_Aint displacements in the v- and w-forms. */
static void largeCountCollectives(void) {
    long sum = 0, mine = rank + 1;
    MPI_Allreduce_c(&mine, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    CHECK(sum == (long)size * (size + 1) / 2, "allreduce_c: %ld", sum);
    double shared[2] = {rank == 0 ? 2.5 : 0, rank == 0 ? 3.5 : 0};
    MPI_Request request;
    MPI_Ibcast_c(shared, 2, MPI_DOUBLE, 0, MPI_COMM_WORLD, &request);
    MPI_Wait(&request, MPI_STATUS_IGNORE);
    CHECK(shared[0] == 2.5 && shared[1] == 3.5, "ibcast_c: %g %g", shared[0], shared[1]);
    /* gatherv_c: rank r sends r + 1 ints, placed in reverse rank order at the root. */
    int sent[8], *gathered = calloc(64, sizeof(int));
    MPI_Count counts[8];
    MPI_Aint displacements[8];
    for (int i = 0; i < rank + 1; i++) sent[i] = rank * 10 + i;
    MPI_Aint at = 0;
    for (int r = size - 1; r >= 0; r--) { counts[r] = r + 1; displacements[r] = at; at += r + 1; }
    MPI_Gatherv_c(sent, rank + 1, MPI_INT, gathered, counts, displacements, MPI_INT, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        int last = size - 1;
        CHECK(gathered[0] == last * 10 && gathered[last] == last * 10 + last && gathered[at - 1] == 0, "gatherv_c: %d %d %d",
            gathered[0], gathered[last], gathered[at - 1]);
    }
    free(gathered);
    /* alltoallw_c: one int to every rank, byte displacements. */
    int out[8], in[8] = {0};
    MPI_Count ones[8];
    MPI_Aint bytes[8];
    MPI_Datatype ints[8];
    for (int r = 0; r < size; r++) { out[r] = rank * 100 + r; ones[r] = 1; bytes[r] = r * (MPI_Aint)sizeof(int); ints[r] = MPI_INT; }
    MPI_Alltoallw_c(out, ones, bytes, ints, in, ones, bytes, ints, MPI_COMM_WORLD);
    CHECK(in[size - 1] == (size - 1) * 100 + rank, "alltoallw_c: %d", in[size - 1]);
    /* A user operation made by MPI_Op_create_c, in MPI_Reduce_c and MPI_Reduce_local_c. */
    MPI_Op multiply;
    MPI_Op_create_c(multiplyFirsts, 1, &multiply);
    int pairIn[2] = {rank + 2, 7}, pairOut[2] = {0, 0};
    MPI_Reduce_c(pairIn, pairOut, 1, MPI_2INT, multiply, 0, MPI_COMM_WORLD);
    long product = 1;
    for (int r = 0; r < size; r++) product *= r + 2;
    if (rank == 0) CHECK(pairOut[0] == product, "reduce_c with an MPI_Op_create_c operation: %d, not %ld", pairOut[0], product);
    int local[2] = {3, 1}, other[2] = {5, 1};
    MPI_Reduce_local_c(local, other, 1, MPI_2INT, multiply);
    CHECK(other[0] == 15, "reduce_local_c: %d", other[0]);
    MPI_Op_free(&multiply);
    /* Persistent forms, started twice: a ring of send_init_c/recv_init_c, and allreduce_init_c. */
    int right = (rank + 1) % size, left = (rank + size - 1) % size;
    long token = 0, from = -1, total = 0;
    MPI_Request ring[2], reduction;
    MPI_Recv_init_c(&from, 1, MPI_LONG, left, 43, MPI_COMM_WORLD, &ring[0]);
    MPI_Send_init_c(&token, 1, MPI_LONG, right, 43, MPI_COMM_WORLD, &ring[1]);
    MPI_Allreduce_init_c(&token, &total, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD, MPI_INFO_NULL, &reduction);
    for (int round = 1; round <= 2; round++) {
        token = rank * 10 + round;
        MPI_Status ringStatuses[2];  /* (not MPI_STATUSES_IGNORE: GCC's bounds check of MPICH's mpi.h refuses it) */
        MPI_Startall(2, ring);
        MPI_Waitall(2, ring, ringStatuses);
        MPI_Start(&reduction);
        MPI_Wait(&reduction, MPI_STATUS_IGNORE);
        CHECK(from == left * 10 + round && total == 10L * size * (size - 1) / 2 + (long)size * round,
            "persistent _c forms, round %d: from %ld, total %ld", round, from, total);
    }
    MPI_Request_free(&ring[0]);
    MPI_Request_free(&ring[1]);
    MPI_Request_free(&reduction);
    /* sendrecv_replace_c around the ring; a buffer attached and detached with MPI_Count sizes. */
    int value = rank;
    MPI_Sendrecv_replace_c(&value, 1, MPI_INT, right, 44, left, 44, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    CHECK(value == left, "sendrecv_replace_c: %d", value);
    static char area[4096 + MPI_BSEND_OVERHEAD];
    void *detached = NULL;
    MPI_Count detachedSize = 0;
    MPI_Buffer_attach_c(area, sizeof area);
    MPI_Bsend_c(&value, 1, MPI_INT, rank, 45, MPI_COMM_WORLD);
    MPI_Recv_c(&value, 1, MPI_INT, rank, 45, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    MPI_Buffer_detach_c(&detached, &detachedSize);
    CHECK(detached == area && detachedSize == (MPI_Count)sizeof area, "buffer_attach_c/detach_c: size %ld", (long)detachedSize);
}

/* Datatypes made and decoded by the _c constructors: their integer arguments are large counts, which
 * only MPI_Type_get_envelope_c describes (MPI_Type_get_envelope refuses them with MPI_ERR_TYPE). */
static void largeCountDatatypes(void) {
    MPI_Count ni = -1, na = -1, nc = -1, nd = -1, large[8] = {0};
    int combiner = -1, integers[8] = {0}, intCount = -1;
    MPI_Aint addresses[4];
    MPI_Datatype constituents[4], vector, record, block, spread, plain;
    MPI_Type_vector_c(4, 1, 5, MPI_INT, &vector);
    MPI_Type_get_envelope_c(vector, &ni, &na, &nc, &nd, &combiner);
    MPI_Type_get_contents_c(vector, 0, 0, 3, 1, integers, addresses, large, constituents);
    CHECK(ni == 0 && na == 0 && nc == 3 && nd == 1 && combiner == MPI_COMBINER_VECTOR && large[0] == 4 && large[2] == 5
        && constituents[0] == MPI_INT, "vector_c envelope: %ld %ld %ld %ld, combiner %d", (long)ni, (long)na, (long)nc, (long)nd, combiner);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    int code = MPI_Type_get_envelope(vector, &intCount, &intCount, &intCount, &combiner);
    CHECK(classOf(code) == MPI_ERR_TYPE, "MPI_Type_get_envelope of a _c type: class %d", classOf(code));
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    MPI_Type_free(&vector);
    /* A record { int; double } through struct_c, to itself: 5 large counts (count, lengths, displacements). */
    struct { int i; double d; } out = {rank + 7, rank + 0.5}, in = {0, 0};
    MPI_Count lengths[2] = {1, 1}, displacements[2] = {offsetof(__typeof__(out), i), offsetof(__typeof__(out), d)};
    MPI_Datatype fields[2] = {MPI_INT, MPI_DOUBLE};
    MPI_Type_create_struct_c(2, lengths, displacements, fields, &record);
    MPI_Type_commit(&record);
    MPI_Sendrecv_c(&out, 1, record, rank, 46, &in, 1, record, rank, 46, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    MPI_Type_get_envelope_c(record, &ni, &na, &nc, &nd, &combiner);
    CHECK(in.i == rank + 7 && in.d == rank + 0.5 && ni == 0 && na == 0 && nc == 5 && nd == 2 && combiner == MPI_COMBINER_STRUCT,
        "struct_c: %d %g, envelope %ld %ld %ld %ld", in.i, in.d, (long)ni, (long)na, (long)nc, (long)nd);
    MPI_Type_free(&record);
    /* The 2 x 3 block at (1, 1) of a 4 x 5 grid through subarray_c, packed and unpacked with _c. */
    int grid[4][5], packedBack[6] = {0};
    for (int i = 0; i < 4; i++) for (int j = 0; j < 5; j++) grid[i][j] = i * 10 + j;
    MPI_Count sizes[2] = {4, 5}, subsizes[2] = {2, 3}, starts[2] = {1, 1}, position = 0, readAt = 0;
    MPI_Type_create_subarray_c(2, sizes, subsizes, starts, MPI_ORDER_C, MPI_INT, &block);
    MPI_Type_commit(&block);
    char packed[64];
    MPI_Pack_c(grid, 1, block, packed, sizeof packed, &position, MPI_COMM_WORLD);
    MPI_Unpack_c(packed, position, &readAt, packedBack, 6, MPI_INT, MPI_COMM_WORLD);
    MPI_Type_get_envelope_c(block, &ni, &na, &nc, &nd, &combiner);
    MPI_Type_get_contents_c(block, 2, 0, 6, 1, integers, addresses, large, constituents);
    CHECK(position == 24 && readAt == 24 && packedBack[0] == 11 && packedBack[5] == 23 && ni == 2 && nc == 6 && integers[0] == 2
        && integers[1] == MPI_ORDER_C && large[1] == 5 && large[5] == 1, "subarray_c/pack_c: position %ld, %d..%d, envelope %ld %ld",
        (long)position, packedBack[0], packedBack[5], (long)ni, (long)nc);
    MPI_Type_free(&block);
    /* darray_c: one process holding all 6 ints of a block distribution; only the global size is a large count. */
    MPI_Count globalSizes[1] = {6};
    int distributions[1] = {MPI_DISTRIBUTE_BLOCK}, dargs[1] = {MPI_DISTRIBUTE_DFLT_DARG}, grid1[1] = {1};
    MPI_Type_create_darray_c(1, 0, 1, globalSizes, distributions, dargs, grid1, MPI_ORDER_C, MPI_INT, &spread);
    MPI_Count spreadSize = 0;
    MPI_Type_size_c(spread, &spreadSize);
    MPI_Type_get_envelope_c(spread, &ni, &na, &nc, &nd, &combiner);
    CHECK(spreadSize == 6 * (MPI_Count)sizeof(int) && ni == 7 && nc == 1 && combiner == MPI_COMBINER_DARRAY, "darray_c: size %ld, envelope %ld %ld",
        (long)spreadSize, (long)ni, (long)nc);
    MPI_Type_free(&spread);
    /* An int constructor's type: MPI_Type_get_envelope_c describes it with integers, no large counts. */
    MPI_Type_contiguous(5, MPI_INT, &plain);
    MPI_Type_get_envelope_c(plain, &ni, &na, &nc, &nd, &combiner);
    CHECK(ni == 1 && na == 0 && nc == 0 && nd == 1 && combiner == MPI_COMBINER_CONTIGUOUS, "contiguous envelope_c: %ld %ld", (long)ni, (long)nc);
    MPI_Type_free(&plain);
}

/* One-sided calls with MPI_Count counts and MPI_Aint displacement units. */
static void largeCountOneSided(void) {
    int right = (rank + 1) % size, left = (rank + size - 1) % size;
    long *base = NULL, mine[2] = {rank + 10, rank + 20}, got[2] = {0}, one = 1, old = -1;
    MPI_Win win;
    MPI_Win_allocate_c(4 * sizeof(long), sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD, &base, &win);
    for (int i = 0; i < 4; i++) base[i] = 0;
    MPI_Win_fence(0, win);
    MPI_Put_c(mine, 2, MPI_LONG, right, 0, 2, MPI_LONG, win);
    MPI_Accumulate_c(&one, 1, MPI_LONG, right, 2, 1, MPI_LONG, MPI_SUM, win);
    MPI_Win_fence(0, win);
    MPI_Get_c(got, 2, MPI_LONG, right, 0, 2, MPI_LONG, win);
    MPI_Get_accumulate_c(&one, 1, MPI_LONG, &old, 1, MPI_LONG, right, 2, 1, MPI_LONG, MPI_SUM, win);
    MPI_Win_fence(0, win);
    MPI_Request request;
    MPI_Rput_c(&mine[1], 1, MPI_LONG, right, 3, 1, MPI_LONG, win, &request);
    MPI_Wait(&request, MPI_STATUS_IGNORE);
    MPI_Win_fence(0, win);
    CHECK(got[0] == rank + 10 && got[1] == rank + 20 && old == 1 && base[0] == left + 10 && base[2] == 2 && base[3] == left + 20,
        "put_c/get_c/accumulate_c/get_accumulate_c/rput_c: got %ld %ld, old %ld, window %ld %ld %ld", got[0], got[1], old, base[0], base[2], base[3]);
    MPI_Barrier(MPI_COMM_WORLD);  /* every rank has read its window before the next epoch changes it */
    long fetched = -1;
    MPI_Rget_c(&fetched, 1, MPI_LONG, left, 2, 1, MPI_LONG, win, &request);
    MPI_Wait(&request, MPI_STATUS_IGNORE);
    MPI_Raccumulate_c(&one, 1, MPI_LONG, left, 2, 1, MPI_LONG, MPI_SUM, win, &request);
    MPI_Wait(&request, MPI_STATUS_IGNORE);
    MPI_Rget_accumulate_c(&one, 1, MPI_LONG, &old, 1, MPI_LONG, left, 3, 1, MPI_LONG, MPI_NO_OP, win, &request);
    MPI_Wait(&request, MPI_STATUS_IGNORE);
    MPI_Win_fence(0, win);
    CHECK(fetched == 2 && base[2] == 3 && old == (left + size - 1) % size + 20, "rget_c/raccumulate_c/rget_accumulate_c: %ld, %ld, %ld", fetched, base[2], old);
    MPI_Win_free(&win);
    long exposed[2] = {rank, rank};
    MPI_Win_create_c(exposed, sizeof exposed, sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD, &win);
    MPI_Win_fence(0, win);
    MPI_Put_c(&mine[0], 1, MPI_LONG, right, 1, 1, MPI_LONG, win);
    MPI_Win_fence(0, win);
    MPI_Win_free(&win);
    CHECK(exposed[0] == rank && exposed[1] == left + 10, "win_create_c: %ld %ld", exposed[0], exposed[1]);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    long *part = NULL, *first = NULL;
    MPI_Win_allocate_shared_c(sizeof(long), sizeof(long), MPI_INFO_NULL, node, &part, &win);
    MPI_Aint bytes = 0, unit = 0;
    MPI_Win_shared_query_c(win, 0, &bytes, &unit, &first);
    CHECK(bytes == (MPI_Aint)sizeof(long) && unit == (MPI_Aint)sizeof(long) && first != NULL, "shared_query_c: %ld bytes, unit %ld", (long)bytes, (long)unit);
    MPI_Win_free(&win);
#ifdef SWIFTMPI
    /* A displacement unit only the _c form can give: the int form refuses it rather than cut it. */
    MPI_Win_allocate_shared_c(sizeof(long), (MPI_Aint)INT_MAX + 1, MPI_INFO_NULL, node, &part, &win);
    MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN);
    int intUnit = -1;
    int code = MPI_Win_shared_query(win, 0, &bytes, &intUnit, &first);
    MPI_Win_shared_query_c(win, 0, &bytes, &unit, &first);
    CHECK(classOf(code) == MPI_ERR_DISP && intUnit == -1 && unit == (MPI_Aint)INT_MAX + 1, "shared_query of a unit beyond int: class %d, %d, %ld",
        classOf(code), intUnit, (long)unit);
    MPI_Win_free(&win);
#endif
    MPI_Comm_free(&node);
}

/* Persistent v- and w-form collectives with MPI_Count counts and MPI_Aint displacements. */
static void largeCountPersistentVectors(void) {
    MPI_Count counts[64], ones[64];
    MPI_Aint displacements[64], bytes[64];
    MPI_Datatype ints[64];
    int sent[64], gathered[64], out[64], in[64];
    for (int r = 0; r < size; r++) {
        counts[r] = r + 1;
        displacements[r] = r * (r + 1) / 2;
        ones[r] = 1;
        bytes[r] = r * (MPI_Aint)sizeof(int);
        ints[r] = MPI_INT;
        out[r] = rank * 100 + r;
    }
    for (int i = 0; i <= rank; i++) sent[i] = rank;
    MPI_Request requests[2];
    MPI_Allgatherv_init_c(sent, rank + 1, MPI_INT, gathered, counts, displacements, MPI_INT, MPI_COMM_WORLD, MPI_INFO_NULL, &requests[0]);
    MPI_Alltoallw_init_c(out, ones, bytes, ints, in, ones, bytes, ints, MPI_COMM_WORLD, MPI_INFO_NULL, &requests[1]);
    for (int round = 0; round < 2; round++) {
        memset(gathered, -1, sizeof gathered);
        memset(in, -1, sizeof in);
        MPI_Status statuses[2];
        MPI_Startall(2, requests);
        MPI_Waitall(2, requests, statuses);
        int good = 1;
        for (int r = 0; r < size; r++) good = good && gathered[r * (r + 1) / 2 + r] == r && in[r] == r * 100 + rank;
        CHECK(good, "allgatherv_init_c/alltoallw_init_c round %d", round);
    }
    MPI_Request_free(&requests[0]);
    MPI_Request_free(&requests[1]);
}

/* MPI_Pack_external: every element big-endian in MPI's external32 size (a long is 4 bytes there,
 * a long double a 16-byte IEEE quadruple), and back. */
static void external32(void) {
    struct { int i; long l; double d; long double q; float _Complex z; } in = {0x01020304, -2, 1.0, -3.0L, 2.0f + 0.5f * I}, out;
    MPI_Datatype types[5] = {MPI_INT, MPI_LONG, MPI_DOUBLE, MPI_LONG_DOUBLE, MPI_C_FLOAT_COMPLEX}, record;
    int lengths[5] = {1, 1, 1, 1, 1};
    MPI_Aint displacements[5] = {offsetof(__typeof__(in), i), offsetof(__typeof__(in), l), offsetof(__typeof__(in), d), offsetof(__typeof__(in), q),
        offsetof(__typeof__(in), z)};
    MPI_Type_create_struct(5, lengths, displacements, types, &record);
    MPI_Type_commit(&record);
    MPI_Aint size = -1, position = 0, readAt = 0;
    MPI_Pack_external_size("external32", 1, record, &size);
    unsigned char packed[64] = {0};
    MPI_Pack_external("external32", &in, 1, record, packed, sizeof packed, &position);
    const unsigned char expected[40] = {1, 2, 3, 4, 0xFF, 0xFF, 0xFF, 0xFE, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0, 0xC0, 0x00, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0x40, 0, 0, 0, 0x3F, 0, 0, 0};
    CHECK(size == 40 && position == 40 && memcmp(packed, expected, 40) == 0, "pack_external: size %ld, position %ld, bytes %02x %02x %02x %02x | %02x %02x",
        (long)size, (long)position, packed[0], packed[3], packed[4], packed[7], packed[16], packed[18]);
    memset(&out, 0, sizeof out);
    MPI_Unpack_external("external32", packed, position, &readAt, &out, 1, record);
    CHECK(readAt == 40 && out.i == in.i && out.l == -2 && out.d == 1.0 && out.q == -3.0L && out.z == in.z, "unpack_external: %d %ld %g %Lg",
        out.i, out.l, out.d, out.q);
    MPI_Count sizeC = -1;
    MPI_Pack_external_size_c("external32", 2, MPI_LONG, &sizeC);
    CHECK(sizeC == 8, "pack_external_size_c of 2 longs: %ld", (long)sizeC);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    position = 0;
    int code = MPI_Pack_external("native", &in, 1, record, packed, sizeof packed, &position);
    CHECK(classOf(code) == MPI_ERR_ARG, "a data representation other than external32: class %d", classOf(code));
    position = 30;
    code = MPI_Pack_external("external32", &in, 1, record, packed, sizeof packed, &position);
    CHECK(classOf(code) == MPI_ERR_TRUNCATE && position == 30, "pack_external past the buffer: class %d", classOf(code));
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    MPI_Type_free(&record);
}

/* Fortran 90's parameterized types from C: the smallest predefined type that holds the request,
 * the same handle each time, described by its F90 combiner, not to be freed. */
static void fortranTypes(void) {
    MPI_Datatype real = MPI_DATATYPE_NULL, again = MPI_DATATYPE_NULL, integer = MPI_DATATYPE_NULL, freed;
    MPI_Type_create_f90_real(7, MPI_UNDEFINED, &real);
    MPI_Type_create_f90_real(7, MPI_UNDEFINED, &again);
    MPI_Type_create_f90_integer(3, &integer);
    int size = 0, intSize = 0, ni = -1, na = -1, nd = -1, combiner = -1, arguments[2] = {0};
    MPI_Type_size(real, &size);
    MPI_Type_size(integer, &intSize);
    MPI_Type_get_envelope(real, &ni, &na, &nd, &combiner);
    MPI_Type_get_contents(real, 2, 0, 0, arguments, NULL, NULL);
    CHECK(real == again && size == 8 && intSize == 2 && ni == 2 && na == 0 && nd == 0 && combiner == MPI_COMBINER_F90_REAL && arguments[0] == 7
        && arguments[1] == MPI_UNDEFINED, "f90_real(7, undefined): size %d, combiner %d, (%d, %d)", size, combiner, arguments[0], arguments[1]);
    double sum[2] = {1.5, 2.5}, other[2] = {0.5, 0.5};
    MPI_Reduce_local(sum, other, 2, real, MPI_SUM);
    CHECK(other[0] == 2.0 && other[1] == 3.0, "reduce_local on an f90 real: %g %g", other[0], other[1]);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    freed = real;
    int code = MPI_Type_free(&freed);
    CHECK(classOf(code) == MPI_ERR_TYPE, "freeing an f90 type: class %d", classOf(code));
    code = MPI_Type_create_f90_integer(19, &freed);
    CHECK(classOf(code) == MPI_ERR_ARG, "an integer of 19 digits: class %d", classOf(code));
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
}

/* MPI-4 partitioned communication: 4 parts of 2 ints to the right neighbour, two rounds. */
static void partitioned(void) {
    int right = (rank + 1) % size, left = (rank + size - 1) % size;
    int out[8] = {0}, in[8] = {0};
    MPI_Request requests[2];
    MPI_Psend_init(out, 4, 2, MPI_INT, right, 47, MPI_COMM_WORLD, MPI_INFO_NULL, &requests[0]);
    MPI_Precv_init(in, 4, 2, MPI_INT, left, 47, MPI_COMM_WORLD, MPI_INFO_NULL, &requests[1]);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 8; i++) { out[i] = rank * 100 + round * 10 + i; in[i] = -1; }
        MPI_Startall(2, requests);
        MPI_Pready_range(0, 1, requests[0]);
        int rest[2] = {3, 2}, arrived = 0;
        MPI_Pready_list(2, rest, requests[0]);
        for (int spins = 0; !arrived && spins < 10000000; spins++) MPI_Parrived(requests[1], 3, &arrived);
        MPI_Status statuses[2];
        MPI_Waitall(2, requests, statuses);
        int count = -1;
        MPI_Get_count(&statuses[1], MPI_INT, &count);
        CHECK(arrived && count == 8 && in[0] == left * 100 + round * 10 && in[7] == left * 100 + round * 10 + 7,
            "partitioned round %d: arrived %d, count %d, in %d..%d", round, arrived, count, in[0], in[7]);
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    int code = MPI_Pready(0, requests[0]);  /* (classes as MPICH gives them) */
    CHECK(classOf(code) == MPI_ERR_REQUEST, "MPI_Pready on a completed round: class %d", classOf(code));
    int flag = -1;
    code = MPI_Parrived(requests[1], 0, &flag);
    CHECK(classOf(code) == MPI_ERR_REQUEST, "MPI_Parrived on a completed round: class %d", classOf(code));
#ifdef SWIFTMPI
    MPI_Startall(2, requests);
    code = MPI_Pready(4, requests[0]);
    CHECK(classOf(code) == MPI_ERR_ARG, "MPI_Pready of partition 4 of 4: class %d", classOf(code));
    code = MPI_Parrived(requests[0], 0, &flag);
    CHECK(classOf(code) == MPI_ERR_ARG, "MPI_Parrived on a partitioned send: class %d", classOf(code));
    for (int part = 0; part < 4; part++) MPI_Pready(part, requests[0]);
    /* An ordinary message with the same tag is another matching space: the receive gets it, not the partitioned one. */
    MPI_Status plain, statuses[2];
    MPI_Sendrecv(NULL, 0, MPI_INT, right, 47, in, 8, MPI_INT, left, 47, MPI_COMM_WORLD, &plain);
    int plainCount = -1;
    MPI_Get_count(&plain, MPI_INT, &plainCount);
    MPI_Waitall(2, requests, statuses);
    CHECK(plainCount == 0 && statuses[1].MPI_TAG == 47 && statuses[1].MPI_SOURCE == left, "partitioned and ordinary messages of one tag: %d, tag %d",
        plainCount, statuses[1].MPI_TAG);
#endif
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    MPI_Request_free(&requests[0]);
    MPI_Request_free(&requests[1]);
}

/* MPI-4's large-count (_c) forms: the same calls with MPI_Count counts, and sizes past INT_MAX. */
static void largeCounts(void) {
    int right = (rank + 1) % size, left = (rank + size - 1) % size;
    double out[3] = {rank + 0.25, rank + 0.5, rank + 0.75}, in[3] = {0};
    MPI_Request request;
    MPI_Status status;
    MPI_Irecv_c(in, 3, MPI_DOUBLE, left, 40, MPI_COMM_WORLD, &request);
    MPI_Send_c(out, 3, MPI_DOUBLE, right, 40, MPI_COMM_WORLD);
    MPI_Wait(&request, &status);
    MPI_Count count = -1;
    MPI_Get_count_c(&status, MPI_DOUBLE, &count);
    CHECK(count == 3 && in[2] == left + 0.75, "isend_c/recv_c: count %ld, in[2] %g", (long)count, in[2]);
    MPI_Sendrecv_c(out, 2, MPI_DOUBLE, right, 41, in, 3, MPI_DOUBLE, left, 41, MPI_COMM_WORLD, &status);
    MPI_Get_count_c(&status, MPI_DOUBLE, &count);
    CHECK(count == 2 && in[1] == left + 0.5, "sendrecv_c: count %ld", (long)count);
    /* A type of 2^31 + 8 bytes: MPI_Type_size cannot say it, MPI_Type_size_c can. */
    MPI_Datatype huge, column;
    MPI_Type_contiguous_c((MPI_Count)INT_MAX + 9, MPI_CHAR, &huge);
    MPI_Count hugeSize = 0, lb = -1, extent = 0;
    int intSize = 0;
    MPI_Type_size_c(huge, &hugeSize);
    MPI_Type_size(huge, &intSize);
    MPI_Type_get_true_extent_c(huge, &lb, &extent);
    CHECK(hugeSize == (MPI_Count)INT_MAX + 9 && intSize == MPI_UNDEFINED && lb == 0 && extent == hugeSize,
        "type_contiguous_c: size %ld, int size %d, true extent %ld", (long)hugeSize, intSize, (long)extent);
    MPI_Type_free(&huge);
    /* A column of a 4 x 5 grid of ints through vector_c, sent to itself. */
    int grid[4][5], got[4] = {0};
    for (int i = 0; i < 4; i++) for (int j = 0; j < 5; j++) grid[i][j] = i * 10 + j;
    MPI_Type_vector_c(4, 1, 5, MPI_INT, &column);
    MPI_Type_commit(&column);
    MPI_Sendrecv_c(&grid[0][2], 1, column, rank, 42, got, 4, MPI_INT, rank, 42, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    CHECK(got[0] == 2 && got[3] == 32, "vector_c column: %d %d", got[0], got[3]);
    MPI_Type_free(&column);
    /* Elements of a struct (char, double): set by element count, read back in elements and bytes. */
    MPI_Datatype pair;
    int lengths[2] = {1, 1};
    MPI_Aint displacements[2] = {0, 8};
    MPI_Datatype types[2] = {MPI_CHAR, MPI_DOUBLE};
    MPI_Type_create_struct(2, lengths, displacements, types, &pair);
    MPI_Type_commit(&pair);
    MPI_Count elements = -1;
    int bytes = -1, instances = -1;
#ifdef SWIFTMPI
    MPI_Status_set_elements_c(&status, pair, 5);  /* two whole pairs and a char: 2 * 9 + 1 bytes (MPI-4.1: not in MPICH 4.0.2) */
#else
    MPI_Status_set_elements_x(&status, pair, 5);
#endif
    MPI_Get_elements_c(&status, pair, &elements);
    MPI_Get_count(&status, MPI_BYTE, &bytes);
    MPI_Get_count(&status, pair, &instances);
    CHECK(elements == 5 && bytes == 19 && instances == MPI_UNDEFINED, "status_set_elements_c: %ld elements, %d bytes, count %d",
        (long)elements, bytes, instances);
    MPI_Type_free(&pair);
    largeCountDatatypes();
    largeCountCollectives();
    largeCountOneSided();
    largeCountPersistentVectors();
}

static void datatypes(void) {
    /* a column of a 4x3 matrix, sent as a vector and received as contiguous ints */
    int matrix[4][3], column[4];
    for (int i = 0; i < 4; i++) for (int j = 0; j < 3; j++) matrix[i][j] = rank * 100 + i * 10 + j;
    MPI_Datatype columnType;
    MPI_Type_vector(4, 1, 3, MPI_INT, &columnType);
    MPI_Type_commit(&columnType);
    int typeSize; MPI_Aint lb, extent;
    MPI_Type_size(columnType, &typeSize);
    MPI_Type_get_extent(columnType, &lb, &extent);
    CHECK(typeSize == 16 && lb == 0 && extent == 40, "vector size %d extent %ld", typeSize, (long)extent);
    /* MPI-3.1 address arithmetic: MPI_Aint_add and MPI_Aint_diff agree with MPI_Get_address */
    MPI_Aint base, there;
    MPI_Get_address(&matrix[0][0], &base);
    MPI_Get_address(&matrix[1][2], &there);
    CHECK(MPI_Aint_add(base, 5 * (MPI_Aint)sizeof(int)) == there && MPI_Aint_diff(there, base) == 5 * (MPI_Aint)sizeof(int),
          "MPI_Aint_add/diff: %ld %ld", (long)MPI_Aint_add(base, 5 * (MPI_Aint)sizeof(int)), (long)MPI_Aint_diff(there, base));
    /* A status to Fortran's MPI_F_STATUS_SIZE integers and back (MPI_Status_c2f/f2c) */
    int three[3] = {1, 2, 3}, got[3];
    MPI_Status selfStatus, restored;
    MPI_Sendrecv(three, 3, MPI_INT, 0, 7, got, 3, MPI_INT, 0, 7, MPI_COMM_SELF, &selfStatus);
    MPI_Fint fortranStatus[MPI_F_STATUS_SIZE];
    int restoredCount = -1;
    CHECK(MPI_Status_c2f(&selfStatus, fortranStatus) == MPI_SUCCESS && fortranStatus[MPI_F_SOURCE] == 0 && fortranStatus[MPI_F_TAG] == 7,
          "MPI_Status_c2f: source %d tag %d", (int)fortranStatus[MPI_F_SOURCE], (int)fortranStatus[MPI_F_TAG]);
    CHECK(MPI_Status_f2c(fortranStatus, &restored) == MPI_SUCCESS && MPI_Get_count(&restored, MPI_INT, &restoredCount) == MPI_SUCCESS
          && restoredCount == 3 && restored.MPI_SOURCE == 0 && restored.MPI_TAG == 7, "MPI_Status_f2c: count %d", restoredCount);
    /* A null request's status is MPI's empty status, error field included */
    MPI_Status empty = {7, 7, 7, 7, 7};
    int nullFlag = 0;
    MPI_Request_get_status(MPI_REQUEST_NULL, &nullFlag, &empty);
    CHECK(nullFlag == 1 && empty.MPI_SOURCE == MPI_ANY_SOURCE && empty.MPI_TAG == MPI_ANY_TAG && empty.MPI_ERROR == MPI_SUCCESS,
          "MPI_Request_get_status(MPI_REQUEST_NULL): flag %d source %d tag %d error %d", nullFlag, empty.MPI_SOURCE, empty.MPI_TAG, empty.MPI_ERROR);
    MPI_Request nullRequest = MPI_REQUEST_NULL;
    empty.MPI_ERROR = 7;
    MPI_Wait(&nullRequest, &empty);
    CHECK(empty.MPI_SOURCE == MPI_ANY_SOURCE && empty.MPI_ERROR == MPI_SUCCESS, "MPI_Wait(MPI_REQUEST_NULL): error %d", empty.MPI_ERROR);
    /* Fortran's ignore constants are data (MPICH's ABI; MPICH leaves the first two null without
     * Fortran, SwiftMPI makes them distinct addresses) and no status to convert */
    CHECK(MPI_F_STATUS_IGNORE != NULL && MPI_F_STATUSES_IGNORE != NULL && MPI_F_STATUS_IGNORE != MPI_F_STATUSES_IGNORE
          && MPI_F08_STATUS_IGNORE == &MPIR_F08_MPI_STATUS_IGNORE_OBJ && MPI_F08_STATUSES_IGNORE == MPIR_F08_MPI_STATUSES_IGNORE_OBJ,
          "MPI_F_STATUS_IGNORE %p, MPI_F_STATUSES_IGNORE %p", (void *)MPI_F_STATUS_IGNORE, (void *)MPI_F_STATUSES_IGNORE);
    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);  /* (SwiftMPI raises there; MPICH on the world) */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    int toIgnored = MPI_Status_c2f(&selfStatus, MPI_F_STATUS_IGNORE), fromIgnored = MPI_Status_f2c(MPI_F_STATUSES_IGNORE, &restored);
    CHECK(classOf(toIgnored) == MPI_ERR_ARG && classOf(fromIgnored) == MPI_ERR_ARG, "MPI_Status_c2f/f2c with MPI_F_STATUS(ES)_IGNORE: classes %d %d",
          classOf(toIgnored), classOf(fromIgnored));
    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_ARE_FATAL);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    int right = (rank + 1) % size, left = (rank + size - 1) % size;
    MPI_Sendrecv(&matrix[0][1], 1, columnType, right, 20, column, 4, MPI_INT, left, 20, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    CHECK(column[0] == left * 100 + 1 && column[3] == left * 100 + 31, "vector column received as %d %d", column[0], column[3]);
    /* the same column through MPI_Isendrecv (vector to vector), MPI_Isendrecv_replace and a matched
     * probe received into a column with MPI_Mrecv and MPI_Imrecv */
    int into[4][3];
    for (int i = 0; i < 4; i++) for (int j = 0; j < 3; j++) into[i][j] = -1;
    MPI_Request request;
    MPI_Isendrecv(&matrix[0][1], 1, columnType, right, 22, &into[0][2], 1, columnType, left, 22, MPI_COMM_WORLD, &request);
    MPI_Wait(&request, MPI_STATUS_IGNORE);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++)
            CHECK(into[i][j] == (j == 2 ? left * 100 + i * 10 + 1 : -1), "isendrecv of a column: [%d][%d] = %d", i, j, into[i][j]);
    int plain[4] = {-1, -1, -1, -1}; /* a column sent, received as contiguous ints */
    MPI_Isendrecv(&matrix[0][1], 1, columnType, right, 25, plain, 4, MPI_INT, left, 25, MPI_COMM_WORLD, &request);
    MPI_Wait(&request, MPI_STATUS_IGNORE);
    for (int i = 0; i < 4; i++) CHECK(plain[i] == left * 100 + i * 10 + 1, "isendrecv of a column into ints: [%d] = %d", i, plain[i]);
    int own[4][3];
    for (int i = 0; i < 4; i++) for (int j = 0; j < 3; j++) own[i][j] = rank * 100 + i * 10 + j;
    MPI_Isendrecv_replace(&own[0][0], 1, columnType, right, 23, left, 23, MPI_COMM_WORLD, &request);
    MPI_Wait(&request, MPI_STATUS_IGNORE);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++)
            CHECK(own[i][j] == (j == 0 ? left : rank) * 100 + i * 10 + j, "isendrecv_replace of a column: [%d][%d] = %d", i, j, own[i][j]);
    for (int round = 0; round < 2; round++) {
        MPI_Message message;
        MPI_Status status;
        MPI_Isend(&matrix[0][1], 1, columnType, right, 24, MPI_COMM_WORLD, &request);
        MPI_Mprobe(left, 24, MPI_COMM_WORLD, &message, &status);
        for (int i = 0; i < 4; i++) for (int j = 0; j < 3; j++) into[i][j] = -1;
        if (round == 0) {
            MPI_Mrecv(&into[0][0], 1, columnType, &message, &status);
        } else {
            MPI_Request receive;
            MPI_Imrecv(&into[0][0], 1, columnType, &message, &receive);
            MPI_Wait(&receive, &status);
        }
        MPI_Wait(&request, MPI_STATUS_IGNORE);
        int received = -1;
        MPI_Get_count(&status, columnType, &received);
        CHECK(received == 1 && message == MPI_MESSAGE_NULL, "%s of a column: count %d", round == 0 ? "mrecv" : "imrecv", received);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 3; j++)
                CHECK(into[i][j] == (j == 0 ? left * 100 + i * 10 + 1 : -1), "%s of a column: [%d][%d] = %d", round == 0 ? "mrecv" : "imrecv",
                      i, j, into[i][j]);
    }
    MPI_Type_free(&columnType);
    CHECK(columnType == MPI_DATATYPE_NULL, "type free");
    /* a struct {int; double} */
    struct Record { int i; double d; } record = {rank, rank * 1.5}, received;
    int lengths[2] = {1, 1};
    MPI_Aint offsets[2] = {offsetof(struct Record, i), offsetof(struct Record, d)};
    MPI_Datatype types[2] = {MPI_INT, MPI_DOUBLE}, recordType;
    MPI_Type_create_struct(2, lengths, offsets, types, &recordType);
    MPI_Type_commit(&recordType);
    MPI_Sendrecv(&record, 1, recordType, right, 21, &received, 1, recordType, left, 21, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    CHECK(received.i == left && received.d == left * 1.5, "struct record");
    MPI_Type_free(&recordType);
    char name[MPI_MAX_OBJECT_NAME]; int length;
    MPI_Type_get_name(MPI_DOUBLE, name, &length);
    CHECK(strcmp(name, "MPI_DOUBLE") == 0 && length == 10, "type name %s", name);
}

/* What mpi4py's test suite found (docs/C-ABI.md): datatype contents that outlive their parts'
 * handles, in-place nonblocking gathers, MPI_Ibcast of a derived datatype, long double complex
 * reductions. */
static void peerSuiteFindings(void) {
    MPI_Datatype dup, pair, vector, parts[1];
    int integers[1], integerCount, addressCount, typeCount, combiner;
    MPI_Aint addresses[1];
    MPI_Type_dup(MPI_INT, &dup);
    MPI_Type_contiguous(2, dup, &pair);
    MPI_Type_free(&dup);
    MPI_Type_vector(3, 1, 2, MPI_DOUBLE, &vector); /* may take the freed handle's slot */
    MPI_Type_get_contents(pair, 1, 0, 1, integers, addresses, parts);
    MPI_Type_get_envelope(parts[0], &integerCount, &addressCount, &typeCount, &combiner);
    CHECK(integers[0] == 2 && combiner == MPI_COMBINER_DUP, "contents of a contiguous type after its part was freed: count %d combiner %d",
          integers[0], combiner);
    MPI_Type_free(&parts[0]);
    MPI_Type_free(&pair);
    MPI_Type_free(&vector);

    int *all = malloc(sizeof(int) * size), mine = rank * 7;
    MPI_Request request;
    for (int r = 0; r < size; r++) all[r] = r == rank ? mine : -1;
    if (rank == 0) MPI_Igather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, all, 1, MPI_INT, 0, MPI_COMM_WORLD, &request);
    else MPI_Igather(&mine, 1, MPI_INT, NULL, 0, MPI_INT, 0, MPI_COMM_WORLD, &request);
    MPI_Wait(&request, MPI_STATUS_IGNORE);
    if (rank == 0) for (int r = 0; r < size; r++) CHECK(all[r] == r * 7, "in-place igather block %d: %d", r, all[r]);
    for (int r = 0; r < size; r++) all[r] = r == rank ? rank * 3 : -1;
    MPI_Iallgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, all, 1, MPI_INT, MPI_COMM_WORLD, &request);
    MPI_Wait(&request, MPI_STATUS_IGNORE);
    for (int r = 0; r < size; r++) CHECK(all[r] == r * 3, "in-place iallgather block %d: %d", r, all[r]);
    free(all);

    /* MPI_Ibcast of a matrix column (a vector type): packed at the root, unpacked at completion */
    int matrix[4][3];
    MPI_Datatype column;
    for (int r = 0; r < 4; r++) for (int c = 0; c < 3; c++) matrix[r][c] = rank == 0 && c == 1 ? 10 * r : -1;
    MPI_Type_vector(4, 1, 3, MPI_INT, &column);
    MPI_Type_commit(&column);
    MPI_Ibcast(&matrix[0][1], 1, column, 0, MPI_COMM_WORLD, &request);
    MPI_Wait(&request, MPI_STATUS_IGNORE);
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 3; c++)
            CHECK(matrix[r][c] == (c == 1 ? 10 * r : -1), "ibcast of a column: [%d][%d] = %d", r, c, matrix[r][c]);
    MPI_Type_free(&column);

    long double _Complex z = (long double)rank + 1.0L * I, total = 0;
    MPI_Allreduce(&z, &total, 1, MPI_C_LONG_DOUBLE_COMPLEX, MPI_SUM, MPI_COMM_WORLD);
    CHECK(creall(total) == (long double)size * (size - 1) / 2 && cimagl(total) == size, "long double complex sum %Lg%+Lgi",
          creall(total), cimagl(total));
}

static void userMax(void *in, void *inout, int *length, MPI_Datatype *type) {
    (void)type;
    for (int i = 0; i < *length; i++) if (((int *)in)[i] > ((int *)inout)[i]) ((int *)inout)[i] = ((int *)in)[i];
}

static void collectives(void) {
    MPI_Barrier(MPI_COMM_WORLD);
    int value = rank == 0 ? 42 : -1;
    MPI_Bcast(&value, 1, MPI_INT, 0, MPI_COMM_WORLD);
    CHECK(value == 42, "bcast");
    long sum = 0, mine = rank + 1;
    MPI_Reduce(&mine, &sum, 1, MPI_LONG, MPI_SUM, size - 1, MPI_COMM_WORLD);
    CHECK(rank != size - 1 || sum == (long)size * (size + 1) / 2, "reduce sum %ld", sum);
    double both[2] = {rank, -rank};
    MPI_Allreduce(MPI_IN_PLACE, both, 2, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    CHECK(both[0] == size - 1 && both[1] == 0, "allreduce in place max");
    struct { double value; int index; } pair = {(double)((rank * 7) % size), rank}, least;
    MPI_Allreduce(&pair, &least, 1, MPI_DOUBLE_INT, MPI_MINLOC, MPI_COMM_WORLD);
    CHECK(least.value == 0 && least.index == 0, "minloc %g at %d", least.value, least.index);
    /* A pair type (size 12, extent 16, as MPICH's) in a v-form: rank i's pair lands at slot size-1-i. */
    struct { double value; int index; } pairs[64];
    int pairCounts[64], pairDisplacements[64];
    for (int i = 0; i < size && i < 64; i++) { pairCounts[i] = 1; pairDisplacements[i] = size - 1 - i; pairs[i].index = -1; }
    int pairSize = 0;
    MPI_Type_size(MPI_DOUBLE_INT, &pairSize);
    if (size <= 64) {
        MPI_Allgatherv(&pair, 1, MPI_DOUBLE_INT, pairs, pairCounts, pairDisplacements, MPI_DOUBLE_INT, MPI_COMM_WORLD);
        CHECK(pairSize == 12 && pairs[0].index == size - 1 && pairs[size - 1].index == 0, "allgatherv of MPI_DOUBLE_INT (size %d)", pairSize);
    }
    MPI_Op maxOp;
    MPI_Op_create(userMax, 1, &maxOp);
    int top = 0, candidate = rank * 3;
    MPI_Allreduce(&candidate, &top, 1, MPI_INT, maxOp, MPI_COMM_WORLD);
    CHECK(top == (size - 1) * 3, "user operation %d", top);
    MPI_Op_free(&maxOp);
    int *all = malloc(sizeof(int) * size * 2), part[2] = {rank, rank * rank};
    MPI_Gather(part, 2, MPI_INT, all, 2, MPI_INT, 0, MPI_COMM_WORLD);
    if (rank == 0) for (int r = 0; r < size; r++) CHECK(all[2 * r + 1] == r * r, "gather block %d", r);
    MPI_Allgather(part, 2, MPI_INT, all, 2, MPI_INT, MPI_COMM_WORLD);
    for (int r = 0; r < size; r++) CHECK(all[2 * r] == r, "allgather block %d", r);
    if (rank == 0) for (int r = 0; r < size; r++) { all[2 * r] = r + 1; all[2 * r + 1] = -(r + 1); }
    MPI_Scatter(all, 2, MPI_INT, part, 2, MPI_INT, 0, MPI_COMM_WORLD);
    CHECK(part[0] == rank + 1 && part[1] == -(rank + 1), "scatter");
    for (int r = 0; r < size; r++) { all[2 * r] = rank * 1000 + r; all[2 * r + 1] = 0; }
    int *received = malloc(sizeof(int) * size * 2);
    MPI_Alltoall(NULL, 0, MPI_INT, NULL, 0, MPI_INT, MPI_COMM_WORLD);  /* zero counts: nothing moves, nothing is touched */
    MPI_Allgather(NULL, 0, MPI_INT, NULL, 0, MPI_INT, MPI_COMM_WORLD);
    MPI_Alltoall(all, 2, MPI_INT, received, 2, MPI_INT, MPI_COMM_WORLD);
    for (int r = 0; r < size; r++) CHECK(received[2 * r] == r * 1000 + rank, "alltoall block %d", r);
    /* v-forms: rank r contributes r + 1 ints, placed in reverse rank order */
    int *counts = malloc(sizeof(int) * size), *displs = malloc(sizeof(int) * size), total = 0;
    for (int r = size - 1; r >= 0; r--) { counts[r] = r + 1; displs[r] = total; total += r + 1; }
    int *mineV = malloc(sizeof(int) * (rank + 1)), *gathered = malloc(sizeof(int) * total);
    for (int i = 0; i <= rank; i++) mineV[i] = rank;
    MPI_Allgatherv(mineV, rank + 1, MPI_INT, gathered, counts, displs, MPI_INT, MPI_COMM_WORLD);
    for (int r = 0; r < size; r++) CHECK(gathered[displs[r]] == r && gathered[displs[r] + r] == r, "allgatherv block %d", r);
    /* scatterv from rank 1 and gatherv to rank 0, blocks in reverse rank order: counts only at the roots */
    int *source = malloc(sizeof(int) * total), *back = malloc(sizeof(int) * total), *myPart = malloc(sizeof(int) * (rank + 1));
    if (rank == 1 % size) for (int r = 0; r < size; r++) for (int i = 0; i <= r; i++) source[displs[r] + i] = r * 10 + i;
    MPI_Scatterv(source, rank == 1 % size ? counts : NULL, rank == 1 % size ? displs : NULL, MPI_INT, myPart, rank + 1, MPI_INT, 1 % size, MPI_COMM_WORLD);
    for (int i = 0; i <= rank; i++) CHECK(myPart[i] == rank * 10 + i, "scatterv part element %d: %d", i, myPart[i]);
    MPI_Gatherv(myPart, rank + 1, MPI_INT, back, rank == 0 ? counts : NULL, rank == 0 ? displs : NULL, MPI_INT, 0, MPI_COMM_WORLD);
    if (rank == 0) for (int r = 0; r < size; r++) CHECK(back[displs[r] + r] == r * 10 + r, "gatherv block %d", r);
    free(source); free(back); free(myPart);
    int prefix = 0;
    MPI_Scan(&mine, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    CHECK(sum == (long)(rank + 1) * (rank + 2) / 2, "scan %ld", sum);
    MPI_Exscan(&candidate, &prefix, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    CHECK(rank == 0 || prefix == 3 * rank * (rank - 1) / 2, "exscan %d", prefix);
    int *blocks = malloc(sizeof(int) * size), block = 0;
    for (int r = 0; r < size; r++) blocks[r] = r + rank;
    MPI_Reduce_scatter_block(blocks, &block, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    CHECK(block == size * rank + size * (size - 1) / 2, "reduce_scatter_block %d", block);
    /* nonblocking collectives */
    MPI_Request requests[2];
    int token = rank == size - 1 ? 7 : 0, total2 = 0, one = 1;
    MPI_Ibcast(&token, 1, MPI_INT, size - 1, MPI_COMM_WORLD, &requests[0]);
    MPI_Iallreduce(&one, &total2, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD, &requests[1]);
    MPI_Status statuses[2];
    MPI_Waitall(2, requests, statuses);
    CHECK(token == 7 && total2 == size, "ibcast and iallreduce");
    free(all); free(received); free(counts); free(displs); free(mineV); free(gathered); free(blocks);
}

static void communicators(void) {
    MPI_Comm halves, copy;
    MPI_Comm_split(MPI_COMM_WORLD, rank % 2, -rank, &halves);
    int halfRank, halfSize, result;
    MPI_Comm_rank(halves, &halfRank);
    MPI_Comm_size(halves, &halfSize);
    CHECK(halfSize == (size + 1 - rank % 2) / 2 && halfRank == halfSize - 1 - rank / 2, "split keys order ranks: %d of %d", halfRank, halfSize);
    MPI_Comm_dup(halves, &copy);
    MPI_Comm_compare(halves, copy, &result);
    CHECK(result == MPI_CONGRUENT, "dup is congruent");
    MPI_Comm_compare(MPI_COMM_WORLD, MPI_COMM_WORLD, &result);
    CHECK(result == MPI_IDENT, "world is identical to itself");
    int sum = 0, one = 1;
    MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, copy);
    CHECK(sum == halfSize, "allreduce on a split communicator");
    MPI_Comm_set_name(copy, "copy");
    char name[MPI_MAX_OBJECT_NAME]; int length;
    MPI_Comm_get_name(copy, name, &length);
    CHECK(strcmp(name, "copy") == 0, "communicator name %s", name);
    MPI_Comm_free(&copy);
    MPI_Comm_free(&halves);
    CHECK(copy == MPI_COMM_NULL && halves == MPI_COMM_NULL, "comm free");
    MPI_Comm none;
    MPI_Comm_split(MPI_COMM_WORLD, rank == 0 ? MPI_UNDEFINED : 1, 0, &none);
    CHECK((rank == 0) == (none == MPI_COMM_NULL), "MPI_UNDEFINED color gives MPI_COMM_NULL");
    if (none != MPI_COMM_NULL) MPI_Comm_free(&none);
    int *tagUpperBound, flag = 0;
    MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &tagUpperBound, &flag);
    CHECK(flag && *tagUpperBound >= 32767, "MPI_TAG_UB");
}

static int deletes = 0;
static int countDelete(MPI_Comm comm, int keyval, void *value, void *extra) { (void)comm; (void)keyval; (void)value; (void)extra; deletes++; return MPI_SUCCESS; }

static void groupsInfoTopologies(void) {
    /* groups: the even ranks, translated back to the world */
    MPI_Group world, evens;
    MPI_Comm_group(MPI_COMM_WORLD, &world);
    int ranges[1][3] = {{0, size - 1, 2}}, groupSize, groupRank, translated = -7, zero = 0;
    MPI_Group_range_incl(world, 1, ranges, &evens);
    MPI_Group_size(evens, &groupSize);
    MPI_Group_rank(evens, &groupRank);
    CHECK(groupSize == (size + 1) / 2 && groupRank == (rank % 2 ? MPI_UNDEFINED : rank / 2), "range_incl: %d of %d", groupRank, groupSize);
    MPI_Group_translate_ranks(evens, 1, &zero, world, &translated);
    CHECK(translated == 0, "translate_ranks %d", translated);
    MPI_Comm evenComm;
    MPI_Comm_create(MPI_COMM_WORLD, evens, &evenComm);
    CHECK((rank % 2 == 0) == (evenComm != MPI_COMM_NULL), "comm_create members");
    if (evenComm != MPI_COMM_NULL) MPI_Comm_free(&evenComm);
    MPI_Group_free(&evens);
    MPI_Group_free(&world);
    CHECK(world == MPI_GROUP_NULL, "group free");
    /* info */
    MPI_Info info;
    char value[MPI_MAX_INFO_VAL];
    int flag = 0, keys = 0;
    MPI_Info_create(&info);
    MPI_Info_set(info, "color", "blue");
    MPI_Info_get(info, "color", MPI_MAX_INFO_VAL - 1, value, &flag);
    MPI_Info_get_nkeys(info, &keys);
    CHECK(flag && strcmp(value, "blue") == 0 && keys == 1, "info get: %d '%s' %d keys", flag, value, keys);
    MPI_Info_free(&info);
    CHECK(info == MPI_INFO_NULL, "info free");
    /* a periodic ring as a Cartesian grid, its shift and a neighbour allgather */
    int dims[1] = {0}, periods[1] = {1}, left = -1, right = -1;
    MPI_Dims_create(size, 1, dims);
    MPI_Comm ring;
    MPI_Cart_create(MPI_COMM_WORLD, 1, dims, periods, 0, &ring);
    int topology = -1;
    MPI_Topo_test(ring, &topology);
    MPI_Cart_shift(ring, 0, 1, &left, &right);
    CHECK(dims[0] == size && topology == MPI_CART && left == (rank + size - 1) % size && right == (rank + 1) % size, "cart shift %d %d", left, right);
    int neighbours[2] = {-1, -1};
    MPI_Neighbor_allgather(&rank, 1, MPI_INT, neighbours, 1, MPI_INT, ring);
    CHECK(neighbours[0] == left && neighbours[1] == right, "neighbor allgather %d %d", neighbours[0], neighbours[1]);
    /* attributes: a keyval whose delete callback runs when the communicator is freed */
    int keyval, stored = 5, *found = NULL;
    MPI_Comm_create_keyval(MPI_COMM_DUP_FN, countDelete, &keyval, NULL);
    MPI_Comm_set_attr(ring, keyval, &stored);
    MPI_Comm copy;
    MPI_Comm_dup(ring, &copy);
    MPI_Comm_get_attr(copy, keyval, &found, &flag);
    CHECK(flag && found == &stored, "attribute copied by dup");
    MPI_Comm_free(&copy);
    MPI_Comm_free(&ring);
    MPI_Comm_free_keyval(&keyval);
    CHECK(deletes == 2 && keyval == MPI_KEYVAL_INVALID, "delete callbacks %d", deletes);
    /* matched probe, then pack and unpack through it */
    int values[3] = {rank, rank + 1, rank + 2}, position = 0, unpacked[3] = {0};
    char packed[64];
    MPI_Pack(values, 3, MPI_INT, packed, sizeof packed, &position, MPI_COMM_WORLD);
    MPI_Request request;
    MPI_Isend(packed, position, MPI_PACKED, rank, 40, MPI_COMM_WORLD, &request);
    MPI_Message message;
    MPI_Status status;
    MPI_Mprobe(rank, 40, MPI_COMM_WORLD, &message, &status);
    int bytes = 0;
    MPI_Get_count(&status, MPI_PACKED, &bytes);
    char received[64];
    MPI_Mrecv(received, bytes, MPI_PACKED, &message, MPI_STATUS_IGNORE);
    MPI_Wait(&request, MPI_STATUS_IGNORE);
    position = 0;
    MPI_Unpack(received, bytes, &position, unpacked, 3, MPI_INT, MPI_COMM_WORLD);
    CHECK(bytes == 12 && message == MPI_MESSAGE_NULL && unpacked[2] == rank + 2, "mprobe/mrecv/pack: %d bytes", bytes);
    /* A transpose's size equals its extent, but its bytes are permuted: it must not travel as plain
       bytes (to itself, and packed). */
    int grid[9], transposed[9];
    for (int i = 0; i < 9; i++) { grid[i] = i; transposed[i] = -1; }
    MPI_Datatype column, transpose;
    MPI_Type_vector(3, 1, 3, MPI_INT, &column);
    MPI_Type_create_hvector(3, 1, sizeof(int), column, &transpose);
    MPI_Type_commit(&transpose);
    MPI_Sendrecv(grid, 1, transpose, rank, 41, transposed, 9, MPI_INT, rank, 41, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    CHECK(transposed[1] == 3 && transposed[3] == 1 && transposed[8] == 8, "a transpose sent: %d %d %d", transposed[1], transposed[3], transposed[8]);
    position = 0;
    MPI_Pack(grid, 1, transpose, packed, sizeof packed, &position, MPI_COMM_WORLD);
    int packedInts[9];
    memcpy(packedInts, packed, sizeof packedInts);
    CHECK(position == 36 && packedInts[1] == 3 && packedInts[5] == 7, "a transpose packed");
    MPI_Type_free(&column);
    MPI_Type_free(&transpose);
}

static int handlerCalls = 0;
static void countingHandler(MPI_Comm *comm, int *code, ...) { (void)comm; (void)code; handlerCalls++; }

static void errorsReturned(void) {
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    int value = 1, errorClass = -1, length = 0;
    char text[MPI_MAX_ERROR_STRING];
    int code = MPI_Send(&value, 1, MPI_INT, size, 0, MPI_COMM_WORLD);
    MPI_Error_class(code, &errorClass);
    MPI_Error_string(code, text, &length);
    CHECK(errorClass == MPI_ERR_RANK && length > 0 && strstr(text, "MPI_Send") != NULL, "invalid rank: class %d, '%s'", errorClass, text);
    code = MPI_Send(&value, 1, MPI_DATATYPE_NULL, 0, 0, MPI_COMM_WORLD);
    CHECK(classOf(code) == MPI_ERR_TYPE, "MPI_DATATYPE_NULL gives MPI_ERR_TYPE, not %d", code);
    code = MPI_Send(&value, -1, MPI_INT, 0, 0, MPI_COMM_WORLD);
    CHECK(classOf(code) == MPI_ERR_COUNT, "a negative count gives MPI_ERR_COUNT, not %d", code);
    code = MPI_Send(&value, 1, MPI_INT, 0, -5, MPI_COMM_WORLD);
    CHECK(classOf(code) == MPI_ERR_TAG, "a negative tag gives MPI_ERR_TAG, not %d", code);
    code = MPI_Barrier(MPI_COMM_NULL);
    CHECK(classOf(code) == MPI_ERR_COMM, "MPI_COMM_NULL gives MPI_ERR_COMM, not %d", code);
    code = MPI_Sendrecv_replace(&value, 1, MPI_INT, size, 0, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    CHECK(classOf(code) == MPI_ERR_RANK, "sendrecv_replace to an invalid rank gives MPI_ERR_RANK, not %d", code);
    int position = -1;
    char packed[16];
    code = MPI_Pack(&value, 1, MPI_INT, packed, sizeof packed, &position, MPI_COMM_WORLD);
    CHECK(code != MPI_SUCCESS, "a negative pack position is refused");  /* SwiftMPI only: MPICH does not check it */
    /* truncation: 2 ints into room for 1 */
    int pair[2] = {1, 2}, one = 0;
    MPI_Request request;
    MPI_Isend(pair, 2, MPI_INT, rank, 30, MPI_COMM_WORLD, &request);
    code = MPI_Recv(&one, 1, MPI_INT, rank, 30, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    CHECK(classOf(code) == MPI_ERR_TRUNCATE, "truncation gives MPI_ERR_TRUNCATE, not %d", code);
    MPI_Wait(&request, MPI_STATUS_IGNORE);
    /* a handler of the program's own */
    MPI_Errhandler handler;
    MPI_Comm_create_errhandler(countingHandler, &handler);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, handler);
    code = MPI_Send(&value, 1, MPI_INT, -7, 0, MPI_COMM_WORLD);
    CHECK(handlerCalls == 1 && classOf(code) == MPI_ERR_RANK, "user handler called %d times, code %d", handlerCalls, code);
    MPI_Errhandler_free(&handler);
    /* a function SwiftMPI does not have yet reports itself, through the handler */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm unused = MPI_COMM_NULL;
    code = MPI_Comm_join(-1, &unused);
    MPI_Error_string(code, text, &length);
    CHECK(classOf(code) == MPI_ERR_UNSUPPORTED_OPERATION && strstr(text, "MPI_Comm_join") != NULL, "unsupported: %d '%s'", code, text);
    /* MPI_Comm_disconnect of MPI_COMM_NULL is refused; of a duplicate, it frees it */
    code = MPI_Comm_disconnect(&unused);
    CHECK(classOf(code) == MPI_ERR_COMM, "MPI_Comm_disconnect(MPI_COMM_NULL): %d", code);
    MPI_Comm_dup(MPI_COMM_WORLD, &unused);
    code = MPI_Comm_disconnect(&unused);
    CHECK(code == MPI_SUCCESS && unused == MPI_COMM_NULL, "MPI_Comm_disconnect of a duplicate: %d", code);
    /* A failed request among several: MPI_ERR_IN_STATUS and every status, a persistent receive's too
       (a truncated one keeps its source and tag; the good one says MPI_SUCCESS). */
    int big[2] = {7, 8}, small = 0, fine = 0;
    MPI_Request pair2[2];
    MPI_Status statuses[2];
    MPI_Recv_init(&small, 1, MPI_INT, rank, 31, MPI_COMM_WORLD, &pair2[0]);
    MPI_Recv_init(&fine, 1, MPI_INT, rank, 32, MPI_COMM_WORLD, &pair2[1]);
    MPI_Startall(2, pair2);
    MPI_Send(big, 2, MPI_INT, rank, 31, MPI_COMM_WORLD);
    MPI_Send(big, 1, MPI_INT, rank, 32, MPI_COMM_WORLD);
    statuses[0].MPI_ERROR = statuses[1].MPI_ERROR = -1;
    code = MPI_Waitall(2, pair2, statuses);
    CHECK(classOf(code) == MPI_ERR_IN_STATUS && statuses[0].MPI_ERROR == MPI_ERR_TRUNCATE && statuses[0].MPI_TAG == 31
          && statuses[1].MPI_ERROR == MPI_SUCCESS && statuses[1].MPI_TAG == 32 && fine == 7,
          "persistent Waitall with a truncation: %d, errors %d/%d, tags %d/%d", code, statuses[0].MPI_ERROR, statuses[1].MPI_ERROR,
          statuses[0].MPI_TAG, statuses[1].MPI_TAG);
    MPI_Startall(2, pair2);
    MPI_Send(big, 2, MPI_INT, rank, 31, MPI_COMM_WORLD);
    MPI_Send(big, 1, MPI_INT, rank, 32, MPI_COMM_WORLD);
    int outcount = 0, indices[2] = {-1, -1}, rounds = 0, done = 0, inStatus = 0, truncatedReported = 0;
    while (done < 2 && ++rounds < 1000000) {
        statuses[0].MPI_ERROR = statuses[1].MPI_ERROR = -1;
        code = MPI_Testsome(2, pair2, &outcount, indices, statuses);
        if (outcount == MPI_UNDEFINED) break;
        if (classOf(code) == MPI_ERR_IN_STATUS) {
            inStatus = 1;
            for (int i = 0; i < outcount; i++)
                if (indices[i] == 0) truncatedReported = statuses[i].MPI_ERROR == MPI_ERR_TRUNCATE && statuses[i].MPI_TAG == 31;
        }
        done += outcount;
    }
    CHECK(done == 2 && inStatus && truncatedReported, "persistent Testsome with a truncation: %d done, in status %d, reported %d", done,
          inStatus, truncatedReported);
    MPI_Request_free(&pair2[0]);
    MPI_Request_free(&pair2[1]);
    /* MPI_Comm_free with a message nobody received: an error, through the freed communicator's own handler */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    MPI_Comm leftover;
    MPI_Comm_dup(MPI_COMM_WORLD, &leftover);
    MPI_Comm_set_errhandler(leftover, MPI_ERRORS_RETURN);
    MPI_Send(&value, 1, MPI_INT, rank, 33, leftover);
    int arrived = 0;
    while (!arrived) MPI_Iprobe(rank, 33, leftover, &arrived, MPI_STATUS_IGNORE);
    code = MPI_Comm_free(&leftover);
    CHECK(code != MPI_SUCCESS && leftover == MPI_COMM_NULL, "MPI_Comm_free with an unreceived message: %d", code);
}

/* One-sided communication: every window flavor, data call and synchronization mode, against what
   the ranks know each other hold. */
static void oneSided(void) {
    int right = (rank + 1) % size, left = (rank + size - 1) % size;
    int *base = NULL;
    MPI_Win win;
    CHECK(MPI_Win_allocate(16 * sizeof(int), sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD, &base, &win) == MPI_SUCCESS, "MPI_Win_allocate");
    for (int i = 0; i < 16; i++) base[i] = -1;
    void *attribute = NULL;
    int flag = 0;
    MPI_Win_get_attr(win, MPI_WIN_BASE, &attribute, &flag);
    CHECK(flag && attribute == base, "MPI_WIN_BASE %p, base %p", attribute, (void *)base);
    MPI_Win_get_attr(win, MPI_WIN_SIZE, &attribute, &flag);
    CHECK(flag && *(MPI_Aint *)attribute == 16 * (MPI_Aint)sizeof(int), "MPI_WIN_SIZE");
    MPI_Win_get_attr(win, MPI_WIN_DISP_UNIT, &attribute, &flag);
    CHECK(flag && *(int *)attribute == (int)sizeof(int), "MPI_WIN_DISP_UNIT");
    MPI_Win_get_attr(win, MPI_WIN_CREATE_FLAVOR, &attribute, &flag);
    CHECK(flag && *(int *)attribute == MPI_WIN_FLAVOR_ALLOCATE, "MPI_WIN_CREATE_FLAVOR");
    MPI_Win_get_attr(win, MPI_WIN_MODEL, &attribute, &flag);
    CHECK(flag && *(int *)attribute == MPI_WIN_UNIFIED, "MPI_WIN_MODEL");
    {
        /* Window hints: reported by MPI_Win_get_info and changed by MPI_Win_set_info; on SwiftMPI a
           lock of a rank that gave no_locks=true is MPI_ERR_RMA_SYNC (MPICH takes the hint and locks). */
        MPI_Info hints, used;
        char value[MPI_MAX_INFO_VAL + 1];
        int found = 0, code, class_;
        int *promisedBase = NULL;
        MPI_Win promised;
        MPI_Info_create(&hints);
        MPI_Info_set(hints, "no_locks", "true");
        MPI_Info_set(hints, "accumulate_ops", "same_op");
        CHECK(MPI_Win_allocate(sizeof(int), sizeof(int), hints, MPI_COMM_WORLD, &promisedBase, &promised) == MPI_SUCCESS, "MPI_Win_allocate with hints");
        MPI_Info_free(&hints);
        MPI_Win_set_errhandler(promised, MPI_ERRORS_RETURN);
        MPI_Win_get_info(promised, &used);
        MPI_Info_get(used, "no_locks", MPI_MAX_INFO_VAL, value, &found);
        CHECK(found && strcmp(value, "true") == 0, "MPI_Win_get_info: no_locks %s", found ? value : "missing");
        MPI_Info_get(used, "accumulate_ops", MPI_MAX_INFO_VAL, value, &found);
        CHECK(found && strcmp(value, "same_op") == 0, "MPI_Win_get_info: accumulate_ops %s", found ? value : "missing");
        MPI_Info_get(used, "accumulate_ordering", MPI_MAX_INFO_VAL, value, &found);
        CHECK(found && strcmp(value, "rar,raw,war,waw") == 0, "MPI_Win_get_info: accumulate_ordering %s", found ? value : "missing");
        MPI_Info_free(&used);
#ifdef SWIFTMPI
        code = MPI_Win_lock(MPI_LOCK_SHARED, right, 0, promised);
        MPI_Error_class(code, &class_);
        CHECK(class_ == MPI_ERR_RMA_SYNC, "MPI_Win_lock of a rank that gave no_locks=true: class %d", class_);
#else
        (void)code;
        (void)class_;
#endif
        MPI_Info_create(&hints);
        MPI_Info_set(hints, "accumulate_ordering", "none");
        CHECK(MPI_Win_set_info(promised, hints) == MPI_SUCCESS, "MPI_Win_set_info");
        MPI_Info_free(&hints);
        MPI_Win_get_info(promised, &used);
        MPI_Info_get(used, "accumulate_ordering", MPI_MAX_INFO_VAL, value, &found);
        CHECK(found && strcmp(value, "none") == 0, "accumulate_ordering after MPI_Win_set_info: %s", found ? value : "missing");
        MPI_Info_free(&used);
        MPI_Win_free(&promised);
    }
    MPI_Group group, worldGroup;
    int comparison = -1;
    MPI_Win_get_group(win, &group);
    MPI_Comm_group(MPI_COMM_WORLD, &worldGroup);
    MPI_Group_compare(group, worldGroup, &comparison);
    CHECK(comparison == MPI_IDENT, "window group %d", comparison);
    MPI_Group_free(&group);

    /* fence: put to the right, get from the left, accumulate everywhere */
    MPI_Win_fence(0, win);
    int mine[4] = {rank, rank + 100, rank + 200, rank + 300};
    MPI_Put(mine, 4, MPI_INT, right, 2, 4, MPI_INT, win);
    MPI_Win_fence(0, win);
    CHECK(base[2] == left && base[5] == left + 300 && base[1] == -1 && base[6] == -1, "put + fence: %d %d %d %d", base[1], base[2], base[5], base[6]);
    int got[4] = {0};
    MPI_Get(got, 4, MPI_INT, left, 2, 4, MPI_INT, win);
    MPI_Win_fence(0, win);
    int leftOfLeft = (left + size - 1) % size;
    CHECK(got[0] == leftOfLeft && got[3] == leftOfLeft + 300, "get + fence: %d %d", got[0], got[3]);
    int one = 1;
    if (rank == 0) base[8] = 0;
    MPI_Win_fence(0, win);
    MPI_Accumulate(&one, 1, MPI_INT, 0, 8, 1, MPI_INT, MPI_SUM, win);
    MPI_Win_fence(0, win);
    if (rank == 0) CHECK(base[8] == size, "accumulate sum %d", base[8]);
    /* a vector origin (every other int) is packed */
    MPI_Datatype everyOther;
    MPI_Type_vector(2, 1, 2, MPI_INT, &everyOther);
    MPI_Type_commit(&everyOther);
    int spaced[3] = {rank + 7, -5, rank + 9};
    MPI_Put(spaced, 1, everyOther, right, 10, 2, MPI_INT, win);
    MPI_Win_fence(0, win);
    CHECK(base[10] == left + 7 && base[11] == left + 9, "vector put %d %d", base[10], base[11]);
    /* a vector target (every other int from 13): written, then read back, run by run */
    int pair[2] = {rank + 40, rank + 41};
    MPI_Put(pair, 2, MPI_INT, right, 13, 1, everyOther, win);
    MPI_Win_fence(0, win);
    CHECK(base[13] == left + 40 && base[14] == -1 && base[15] == left + 41, "vector target put %d %d %d", base[13], base[14], base[15]);
    int back[2] = {0, 0};
    MPI_Get(back, 2, MPI_INT, left, 13, 1, everyOther, win);
    MPI_Win_fence(0, win);
    CHECK(back[0] == leftOfLeft + 40 && back[1] == leftOfLeft + 41, "vector target get %d %d", back[0], back[1]);
    /* past the window's end: an error, nothing written */
    MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN);
    CHECK(classOf(MPI_Put(pair, 2, MPI_INT, right, 14, 1, everyOther, win)) == MPI_ERR_RMA_RANGE, "a vector target past the window");
    MPI_Win_set_errhandler(win, MPI_ERRORS_ARE_FATAL);
    MPI_Win_fence(0, win);
    MPI_Type_free(&everyOther);

    /* passive target: a ticket counter on rank 0 (fetch-and-op), a compare-and-swap, lock_all + flush */
    MPI_Win_lock_all(0, win);
    int ticket = -1, previous = -1;
    if (rank == 0) base[12] = 0;
    MPI_Win_unlock_all(win);
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win);
    MPI_Fetch_and_op(&one, &ticket, MPI_INT, 0, 12, MPI_SUM, win);
    MPI_Win_unlock(0, win);
    int tickets[64] = {0};
    MPI_Allgather(&ticket, 1, MPI_INT, tickets, 1, MPI_INT, MPI_COMM_WORLD);
    int seen = 0;
    for (int r = 0; r < size; r++) seen |= 1 << tickets[r];
    CHECK(seen == (1 << size) - 1, "fetch-and-op tickets 0x%x", seen);
    MPI_Win_lock(MPI_LOCK_EXCLUSIVE, size - 1, 0, win);
    int expected = -1, desired = rank;
    MPI_Compare_and_swap(&desired, &expected, &previous, MPI_INT, size - 1, 0, win);
    MPI_Win_unlock(size - 1, win);
    int swaps = previous == -1 ? 1 : 0, allSwaps = 0;
    MPI_Allreduce(&swaps, &allSwaps, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    CHECK(allSwaps == 1, "compare-and-swap succeeded on %d ranks", allSwaps);
    MPI_Win_lock_all(0, win);
    int value = rank * 10;
    MPI_Request request;
    MPI_Rput(&value, 1, MPI_INT, right, 13, 1, MPI_INT, win, &request);
    MPI_Wait(&request, MPI_STATUS_IGNORE);
    MPI_Win_flush(right, win);
    MPI_Win_flush_local_all(win);
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_Win_sync(win);  /* in the passive epoch: this rank's view of its own memory is current */
    CHECK(base[13] == left * 10, "rput + flush %d", base[13]);
    MPI_Win_unlock_all(win);
    /* MPI_MODE_NOCHECK: no lock taken; unlock_all still completes the epoch's puts */
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_Win_lock_all(MPI_MODE_NOCHECK, win);
    value = rank * 10 + 1;
    MPI_Put(&value, 1, MPI_INT, right, 13, 1, MPI_INT, win);
    MPI_Win_unlock_all(win);
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_Win_lock(MPI_LOCK_SHARED, rank, MPI_MODE_NOCHECK, win);
    CHECK(base[13] == left * 10 + 1, "put in a MPI_MODE_NOCHECK epoch %d", base[13]);
    MPI_Win_unlock(rank, win);

    /* post/start/complete/wait around the ring */
    MPI_Group leftGroup, rightGroup;
    MPI_Group_incl(worldGroup, 1, &left, &leftGroup);
    MPI_Group_incl(worldGroup, 1, &right, &rightGroup);
    MPI_Win_post(leftGroup, 0, win);
    MPI_Win_start(rightGroup, 0, win);
    int stamp = rank + 1000;
    MPI_Put(&stamp, 1, MPI_INT, right, 14, 1, MPI_INT, win);
    MPI_Win_complete(win);
    MPI_Win_wait(win);
    CHECK(base[14] == left + 1000, "post/start/complete/wait %d", base[14]);
    MPI_Group_free(&leftGroup);
    MPI_Group_free(&rightGroup);
    MPI_Group_free(&worldGroup);

    /* errors: out of range, outside an epoch, a bad lock type; the window's handler returns them */
    MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN);
    MPI_Errhandler handler;
    MPI_Win_get_errhandler(win, &handler);
    CHECK(handler == MPI_ERRORS_RETURN, "window error handler");
    MPI_Win_fence(MPI_MODE_NOSUCCEED, win);  /* no epoch follows */
    CHECK(classOf(MPI_Put(&one, 1, MPI_INT, right, 0, 1, MPI_INT, win)) == MPI_ERR_RMA_SYNC, "put outside an epoch");
    MPI_Win_fence(0, win);
    CHECK(classOf(MPI_Put(&one, 1, MPI_INT, right, 16, 1, MPI_INT, win)) == MPI_ERR_RMA_RANGE, "put past the end");
    CHECK(classOf(MPI_Accumulate(&one, 1, MPI_INT, right, 0, 1, MPI_INT, MPI_MAXLOC, win)) == MPI_ERR_OP, "accumulate with MAXLOC");
    MPI_Win_fence(0, win);
    CHECK(classOf(MPI_Win_lock(7, right, 0, win)) == MPI_ERR_LOCKTYPE, "bad lock type");
    char name[MPI_MAX_OBJECT_NAME];
    int length = 0;
    MPI_Win_set_name(win, "ring");
    MPI_Win_get_name(win, name, &length);
    CHECK(length == 4 && strcmp(name, "ring") == 0, "window name '%s'", name);
    CHECK(MPI_Win_free(&win) == MPI_SUCCESS && win == MPI_WIN_NULL, "MPI_Win_free");

    /* a dynamic window: each rank attaches a buffer and tells its left neighbour where it is */
    int attachedInts[3] = {0, 0, 0};
    MPI_Win_create_dynamic(MPI_INFO_NULL, MPI_COMM_WORLD, &win);
    MPI_Win_attach(win, attachedInts, sizeof attachedInts);
    MPI_Aint mine0, theirs = 0;
    MPI_Get_address(attachedInts, &mine0);
    MPI_Sendrecv(&mine0, 1, MPI_AINT, left, 9, &theirs, 1, MPI_AINT, right, 9, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    MPI_Win_get_attr(win, MPI_WIN_CREATE_FLAVOR, &attribute, &flag);
    CHECK(flag && *(int *)attribute == MPI_WIN_FLAVOR_DYNAMIC, "dynamic flavor");
    MPI_Win_fence(0, win);
    int seven = 7 + rank;
    MPI_Put(&seven, 1, MPI_INT, right, theirs + (MPI_Aint)sizeof(int), 1, MPI_INT, win);
    MPI_Win_fence(0, win);
    CHECK(attachedInts[1] == 7 + left && attachedInts[0] == 0, "put into an attached region: %d", attachedInts[1]);
    MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN);
    MPI_Put(&seven, 1, MPI_INT, right, theirs + 3 * (MPI_Aint)sizeof(int), 1, MPI_INT, win);  /* just past it */
    CHECK(classOf(MPI_Win_fence(0, win)) == MPI_ERR_RMA_RANGE, "a put outside the attached region is reported by the fence");
    MPI_Win_fence(0, win);
    MPI_Win_detach(win, attachedInts);
    MPI_Win_free(&win);

    /* a window over the program's memory, and a shared one on each host */
    double exposed[4] = {0, 0, 0, 0};
    MPI_Win_create(exposed, sizeof exposed, sizeof(double), MPI_INFO_NULL, MPI_COMM_WORLD, &win);
    MPI_Win_fence(0, win);
    double half = 0.5;
    MPI_Accumulate(&half, 1, MPI_DOUBLE, right, 3, 1, MPI_DOUBLE, MPI_SUM, win);
    MPI_Win_fence(0, win);
    CHECK(exposed[3] == 0.5, "accumulate into MPI_Win_create memory %g", exposed[3]);
    MPI_Win_free(&win);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    int nodeRank, nodeSize;
    MPI_Comm_rank(node, &nodeRank);
    MPI_Comm_size(node, &nodeSize);
    long *part = NULL;
    MPI_Win_allocate_shared(2 * sizeof(long), sizeof(long), MPI_INFO_NULL, node, &part, &win);
    part[0] = nodeRank;
    part[1] = nodeRank * 2;
    MPI_Win_fence(0, win);
    for (int r = 0; r < nodeSize; r++) {
        MPI_Aint bytes = 0;
        int unit = 0;
        long *other = NULL;
        MPI_Win_shared_query(win, r, &bytes, &unit, &other);
        CHECK(bytes == 2 * (MPI_Aint)sizeof(long) && unit == (int)sizeof(long) && other[0] == r && other[1] == 2 * r, "shared part %d", r);
        CHECK(other == part + 2 * (r - nodeRank), "shared parts are contiguous");
    }
    MPI_Win_fence(0, win);
    MPI_Win_free(&win);
    MPI_Comm_free(&node);
}

/* Accumulates into derived target layouts, MINLOC/MAXLOC on pair types (MPICH's rma tests), and
   the bases a program sees: what it gave MPI_Win_create, NULL for an empty allocation, NULL and 0
   from MPI_Win_shared_query for memory not mapped here. */
static void oneSidedLayouts(void) {
    MPI_Win win;
    void *base = &win;
    int flag = 0;
    MPI_Win_create(NULL, 0, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &win);
    MPI_Win_get_attr(win, MPI_WIN_BASE, &base, &flag);
    CHECK(flag && base == NULL, "MPI_WIN_BASE of a window created on NULL is %p", base);
    MPI_Win_free(&win);
    base = &win;
    MPI_Win_allocate(0, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &base, &win);
    CHECK(base == NULL, "an empty MPI_Win_allocate gives %p", base);
    MPI_Win_free(&win);

    /* Every rank exposes 8 ints; rank 0's are the target. */
    int exposed[8] = {0};
    MPI_Win_create(exposed, sizeof exposed, sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD, &win);
    MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN);
    for (int r = 0; r < size; r++) {
        MPI_Aint bytes = -1;
        int unit = 0;
        int *part = &unit;
        MPI_Win_shared_query(win, r, &bytes, &unit, &part);
        if (r == rank) CHECK(bytes == sizeof exposed && part == exposed, "own part: %ld bytes at %p", (long)bytes, (void *)part);
        else CHECK(bytes == 0 && part == NULL && unit == sizeof(int), "rank %d's part: %ld bytes at %p", r, (long)bytes, (void *)part);
    }
    MPI_Datatype everyOther, picks;
    MPI_Type_vector(4, 1, 2, MPI_INT, &everyOther);
    MPI_Type_commit(&everyOther);
    int lengths[2] = {1, 2}, displacements[2] = {1, 5};
    MPI_Type_indexed(2, lengths, displacements, MPI_INT, &picks);
    MPI_Type_commit(&picks);
    int ones[4] = {1, 2, 3, 4};
    MPI_Win_fence(0, win);
    MPI_Accumulate(ones, 4, MPI_INT, 0, 0, 1, everyOther, MPI_SUM, win);
    MPI_Win_fence(0, win);
    if (rank == 0)
        for (int i = 0; i < 8; i++)
            CHECK(exposed[i] == (i % 2 == 0 ? size * (i / 2 + 1) : 0), "vector accumulate: element %d is %d", i, exposed[i]);
    MPI_Win_fence(MPI_MODE_NOSUCCEED, win);
    int seen[3] = {-1, -1, -1}, add[3] = {10, 20, 30};
    MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, win);
    MPI_Get_accumulate(add, 3, MPI_INT, seen, 3, MPI_INT, 0, 0, 1, picks, MPI_SUM, win);
    MPI_Win_unlock(0, win);
    /* The ranks take the lock in some order: the k-th sees 10k, 20k and 4 × size + 30k. */
    CHECK(seen[0] >= 0 && seen[0] % 10 == 0 && seen[1] == 2 * seen[0] && seen[2] == 4 * size + 3 * seen[0], "get-accumulate on picks: %d %d %d",
          seen[0], seen[1], seen[2]);
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) CHECK(exposed[1] == 10 * size && exposed[5] == 20 * size && exposed[6] == 34 * size, "picks after get-accumulate");
    double wrong[4] = {1, 1, 1, 1};
    MPI_Win_fence(0, win);
    int code = MPI_Accumulate(wrong, 4, MPI_FLOAT, 0, 0, 1, everyOther, MPI_SUM, win);
    CHECK(classOf(code) == MPI_ERR_TYPE, "floats summed into ints: error class %d", classOf(code));
    /* An origin made of several basic types (an int and a float) cannot be summed into ints either. */
    int mixedLengths[2] = {1, 1};
    MPI_Aint mixedDisplacements[2] = {0, 4};
    MPI_Datatype mixedTypes[2] = {MPI_INT, MPI_FLOAT}, mixed;
    MPI_Type_create_struct(2, mixedLengths, mixedDisplacements, mixedTypes, &mixed);
    MPI_Type_commit(&mixed);
    code = MPI_Accumulate(wrong, 2, mixed, 0, 0, 1, everyOther, MPI_SUM, win);
    CHECK(classOf(code) == MPI_ERR_TYPE, "an int-and-float origin summed into ints: error class %d", classOf(code));
    MPI_Type_free(&mixed);
    MPI_Win_fence(0, win);
    MPI_Type_free(&everyOther);
    MPI_Type_free(&picks);
    MPI_Win_free(&win);

    /* Pairs: {double; int} has 4 bytes of padding, {short; int} a hole in the middle. */
    struct { double value; int index; } doubles[2] = {{-1, -1}, {1e9, -1}};
    struct { short value; int index; } shorts[1] = {{-1, -1}};
    MPI_Win pairs, shortPairs;
    MPI_Win_create(doubles, sizeof doubles, sizeof doubles[0], MPI_INFO_NULL, MPI_COMM_WORLD, &pairs);
    MPI_Win_create(shorts, sizeof shorts, sizeof shorts[0], MPI_INFO_NULL, MPI_COMM_WORLD, &shortPairs);
    struct { double value; int index; } mine[2] = {{(double)(rank % 2), rank}, {(double)(rank % 2), rank}};
    struct { short value; int index; } mineShort = {(short)(100 - rank), rank};
    MPI_Win_fence(0, pairs);
    MPI_Win_fence(0, shortPairs);
    MPI_Accumulate(&mine[0], 1, MPI_DOUBLE_INT, 0, 0, 1, MPI_DOUBLE_INT, MPI_MAXLOC, pairs);
    MPI_Accumulate(&mine[1], 1, MPI_DOUBLE_INT, 0, 1, 1, MPI_DOUBLE_INT, MPI_MINLOC, pairs);
    MPI_Accumulate(&mineShort, 1, MPI_SHORT_INT, 0, 0, 1, MPI_SHORT_INT, MPI_MAXLOC, shortPairs);
    MPI_Win_fence(0, pairs);
    MPI_Win_fence(0, shortPairs);
    if (rank == 0) {
        CHECK(doubles[0].value == (size > 1 ? 1 : 0) && doubles[0].index == (size > 1 ? 1 : 0), "MAXLOC: (%g, %d)", doubles[0].value, doubles[0].index);
        CHECK(doubles[1].value == 0 && doubles[1].index == 0, "MINLOC: (%g, %d)", doubles[1].value, doubles[1].index);
        CHECK(shorts[0].value == 100 && shorts[0].index == 0, "MAXLOC on MPI_SHORT_INT: (%d, %d)", shorts[0].value, shorts[0].index);
    }
    /* Inside a derived datatype {short; int} moves packed (its int at byte 2): MINLOC and MAXLOC
       cannot compute on it there, MPI_REPLACE can. */
    MPI_Datatype oneShortPair;
    MPI_Type_contiguous(1, MPI_SHORT_INT, &oneShortPair);
    MPI_Type_commit(&oneShortPair);
    MPI_Win_set_errhandler(shortPairs, MPI_ERRORS_RETURN);
    MPI_Win_fence(0, shortPairs);
    code = MPI_Accumulate(&mineShort, 1, oneShortPair, 0, 0, 1, oneShortPair, MPI_MAXLOC, shortPairs);
    CHECK(classOf(code) == MPI_ERR_TYPE, "MAXLOC on a derived MPI_SHORT_INT: error class %d", classOf(code));
    MPI_Win_fence(0, shortPairs);
    if (rank == size - 1) MPI_Accumulate(&mineShort, 1, oneShortPair, 0, 0, 1, oneShortPair, MPI_REPLACE, shortPairs);
    MPI_Win_fence(0, shortPairs);
    if (rank == 0) CHECK(shorts[0].value == 100 - (size - 1) && shorts[0].index == size - 1, "REPLACE of a derived MPI_SHORT_INT: (%d, %d)",
                         shorts[0].value, shorts[0].index);
    MPI_Type_free(&oneShortPair);
    MPI_Win_free(&pairs);
    MPI_Win_free(&shortPairs);
}

/* A persistent alltoallv in place: its send arrays are ignored, whatever they point to (here an
   address that reading would crash on), and each start exchanges the buffer's current contents, so
   two rounds of the transposition give it back. */
static uintptr_t unreadable = 8;
/* A program's non-commutative operation on a datatype with gaps: composition of affine maps
 * x -> m x + c, each instance two unsigned ints 12 bytes apart in a 20-byte extent. The function
 * finds them through the datatype it is given (as MPICH's tests do); the bytes between them in a
 * receive buffer must keep what they held. */
static MPI_Datatype affineType = MPI_DATATYPE_NULL;
static int affineCalls = 0, affineWrongType = 0;
static void composeAffine(void *invec, void *inoutvec, int *len, MPI_Datatype *datatype) {
    MPI_Aint lb, extent;
    MPI_Type_get_extent(*datatype, &lb, &extent);
    if (*datatype != affineType) affineWrongType++;
    for (int i = 0; i < *len; i++) {
        const unsigned *first = (const unsigned *)((const char *)invec + i * extent);  /* lower ranks: applied first */
        unsigned *then = (unsigned *)((char *)inoutvec + i * extent);
        unsigned m = then[0] * first[0], c = then[0] * first[3] + then[3];
        then[0] = m;
        then[3] = c;
        affineCalls++;
    }
}

enum { AFFINE_COUNT = 3, AFFINE_STRIDE = 5, AFFINE_GAP = 0x5A5A5A5A };

/* Rank r's instance i: x -> (r + 2 + i) x + 7 r + i, stored in `buffer` (gaps set to AFFINE_GAP). */
static void affineFill(unsigned *buffer, int r) {
    for (int k = 0; k < AFFINE_COUNT * AFFINE_STRIDE; k++) buffer[k] = AFFINE_GAP;
    for (int i = 0; i < AFFINE_COUNT; i++) { buffer[i * AFFINE_STRIDE] = r + 2 + i; buffer[i * AFFINE_STRIDE + 3] = 7 * r + i; }
}

/* The composition of ranks `from`..<`to`'s maps, instance `i`: (m, c). */
static void affineExpected(int from, int to, int i, unsigned *m, unsigned *c) {
    *m = 1; *c = 0;
    for (int r = from; r < to; r++) { unsigned mr = r + 2 + i, cr = 7 * r + i; *c = mr * *c + cr; *m = mr * *m; }
}

/* Checks `buffer`'s instances against ranks from..<to, and that its gaps still hold AFFINE_GAP. */
static void affineCheck(const unsigned *buffer, int from, int to, const char *what) {
    for (int i = 0; i < AFFINE_COUNT; i++) {
        unsigned m, c;
        affineExpected(from, to, i, &m, &c);
        CHECK(buffer[i * AFFINE_STRIDE] == m && buffer[i * AFFINE_STRIDE + 3] == c, "%s: instance %d is (%u, %u), not (%u, %u)", what, i,
              buffer[i * AFFINE_STRIDE], buffer[i * AFFINE_STRIDE + 3], m, c);
        for (int k = 1; k < AFFINE_STRIDE; k++)
            if (k != 3) CHECK(buffer[i * AFFINE_STRIDE + k] == AFFINE_GAP, "%s: gap word %d of instance %d changed to %#x", what, k, i, buffer[i * AFFINE_STRIDE + k]);
    }
}

/* A record whose data starts 4 bytes past its origin (MPI's true lower bound 4): an int at 4 and a
 * double at 8, as `struct { int pad; int value; double weight; }` lays them out. The operation sees
 * each operand's double aligned for a double, as in the program's own buffer. */
struct record { int pad; int value; double weight; };
static int misalignedRecords = 0;
static void addRecords(void *invec, void *inoutvec, int *len, MPI_Datatype *datatype) {
    (void)datatype;
    struct record *in = invec, *inout = inoutvec;
    for (int i = 0; i < *len; i++) {
        if ((uintptr_t)&in[i].weight % _Alignof(double) || (uintptr_t)&inout[i].weight % _Alignof(double)) misalignedRecords++;
        inout[i].value += in[i].value;
        inout[i].weight += in[i].weight;
    }
}

static void userOperationOnOffsetRecords(void) {
    int lengths[2] = {1, 1};
    MPI_Aint displacements[2] = {offsetof(struct record, value), offsetof(struct record, weight)};
    MPI_Datatype types[2] = {MPI_INT, MPI_DOUBLE}, fields, recordType;
    MPI_Type_create_struct(2, lengths, displacements, types, &fields);
    MPI_Type_create_resized(fields, 0, sizeof(struct record), &recordType);
    MPI_Type_commit(&recordType);
    MPI_Type_free(&fields);
    MPI_Op add;
    MPI_Op_create(addRecords, 1, &add);
    struct record mine[3], sum[3];
    for (int i = 0; i < 3; i++) {
        mine[i] = (struct record){.pad = -7, .value = rank + i, .weight = 0.5 * rank + i};
        sum[i] = (struct record){.pad = -9, .value = 0, .weight = 0};
    }
    MPI_Allreduce(mine, sum, 3, recordType, add, MPI_COMM_WORLD);
    for (int i = 0; i < 3; i++) {
        CHECK(sum[i].value == size * (size - 1) / 2 + size * i && sum[i].weight == 0.25 * size * (size - 1) + size * i && sum[i].pad == -9,
              "allreduce of offset records, instance %d: value %d weight %g pad %d", i, sum[i].value, sum[i].weight, sum[i].pad);
    }
    CHECK(misalignedRecords == 0, "the operation saw %d misaligned doubles", misalignedRecords);
    MPI_Op_free(&add);
    MPI_Type_free(&recordType);
}

static void userOperationsOnGaps(void) {
    MPI_Datatype twoApart;
    MPI_Type_vector(2, 1, 3, MPI_UNSIGNED, &twoApart);
    MPI_Type_create_resized(twoApart, 0, AFFINE_STRIDE * sizeof(unsigned), &affineType);
    MPI_Type_commit(&affineType);
    MPI_Type_free(&twoApart);
    MPI_Op compose;
    MPI_Op_create(composeAffine, 0, &compose);
    enum { WORDS = AFFINE_COUNT * AFFINE_STRIDE };
    unsigned mine[WORDS], result[WORDS], blocks[64 * AFFINE_STRIDE];
    affineFill(mine, rank);

    affineFill(result, -1);
    MPI_Allreduce(mine, result, AFFINE_COUNT, affineType, compose, MPI_COMM_WORLD);
    affineCheck(result, 0, size, "allreduce");

    affineFill(result, -1);
    MPI_Reduce(mine, rank == size - 1 ? result : NULL, AFFINE_COUNT, affineType, compose, size - 1, MPI_COMM_WORLD);
    if (rank == size - 1) affineCheck(result, 0, size, "reduce to the last rank");

    affineFill(result, rank);  /* in place at root 0 */
    MPI_Reduce(rank == 0 ? MPI_IN_PLACE : mine, rank == 0 ? result : NULL, AFFINE_COUNT, affineType, compose, 0, MPI_COMM_WORLD);
    if (rank == 0) affineCheck(result, 0, size, "reduce in place");

    affineFill(result, -1);
    MPI_Scan(mine, result, AFFINE_COUNT, affineType, compose, MPI_COMM_WORLD);
    affineCheck(result, 0, rank + 1, "scan");

    affineFill(result, -1);
    MPI_Exscan(mine, result, AFFINE_COUNT, affineType, compose, MPI_COMM_WORLD);
    if (rank > 0) affineCheck(result, 0, rank, "exscan");

    MPI_Request request;
    affineFill(result, -1);
    MPI_Iscan(mine, result, AFFINE_COUNT, affineType, compose, MPI_COMM_WORLD, &request);
    MPI_Wait(&request, MPI_STATUS_IGNORE);
    affineCheck(result, 0, rank + 1, "iscan");

    affineFill(result, -1);
    MPI_Iallreduce(mine, result, AFFINE_COUNT, affineType, compose, MPI_COMM_WORLD, &request);
    MPI_Wait(&request, MPI_STATUS_IGNORE);
    affineCheck(result, 0, size, "iallreduce");

    affineFill(result, rank);  /* persistent, in place, started twice */
    MPI_Allreduce_init(MPI_IN_PLACE, result, AFFINE_COUNT, affineType, compose, MPI_COMM_WORLD, MPI_INFO_NULL, &request);
    for (int round = 0; round < 2; round++) {
        if (round == 1) affineFill(result, rank);
        MPI_Start(&request);
        MPI_Wait(&request, MPI_STATUS_IGNORE);
        affineCheck(result, 0, size, round == 0 ? "allreduce_init, first start" : "allreduce_init, second start");
    }
    MPI_Request_free(&request);

    /* reduce_scatter_block: one instance each, rank r's block i holds instance 0 of map (r, i) */
    if (size <= 64) {
        unsigned sendBlocks[64 * AFFINE_STRIDE];
        for (int r = 0; r < size; r++) {
            for (int k = 0; k < AFFINE_STRIDE; k++) sendBlocks[r * AFFINE_STRIDE + k] = AFFINE_GAP;
            sendBlocks[r * AFFINE_STRIDE] = rank + 2 + r;
            sendBlocks[r * AFFINE_STRIDE + 3] = 7 * rank + r;
        }
        for (int k = 0; k < AFFINE_STRIDE; k++) blocks[k] = AFFINE_GAP;
        MPI_Ireduce_scatter_block(sendBlocks, blocks, 1, affineType, compose, MPI_COMM_WORLD, &request);
        MPI_Wait(&request, MPI_STATUS_IGNORE);
        unsigned m, c;
        affineExpected(0, size, rank, &m, &c);
        CHECK(blocks[0] == m && blocks[3] == c && blocks[1] == AFFINE_GAP && blocks[4] == AFFINE_GAP,
              "ireduce_scatter_block: (%u, %u), not (%u, %u)", blocks[0], blocks[3], m, c);
    }

    /* reduce_local: inoutbuf = inbuf o inoutbuf, the gaps of inoutbuf kept */
    unsigned earlier[WORDS];
    affineFill(earlier, 0);
    affineFill(result, 1);
    MPI_Reduce_local(earlier, result, AFFINE_COUNT, affineType, compose);
    affineCheck(result, 0, 2, "reduce_local");

    CHECK(affineCalls > 0 && affineWrongType == 0, "the operation ran %d times, %d with another datatype", affineCalls, affineWrongType);
    MPI_Op_free(&compose);
    MPI_Type_free(&affineType);
}

static void persistentInPlace(void) {
    enum { most = 64 };
    int buffer[most], counts[most], displacements[most];
    if (size > most) return;
    for (int r = 0; r < size; r++) { buffer[r] = rank * 100 + r; counts[r] = 1; displacements[r] = r; }
    MPI_Request request;
    MPI_Alltoallv_init(MPI_IN_PLACE, (const int *)unreadable, (const int *)unreadable, MPI_DATATYPE_NULL, buffer, counts, displacements,
                       MPI_INT, MPI_COMM_WORLD, MPI_INFO_NULL, &request);
    MPI_Start(&request);
    MPI_Wait(&request, MPI_STATUS_IGNORE);
    for (int r = 0; r < size; r++) CHECK(buffer[r] == r * 100 + rank, "persistent alltoallv in place, block %d: %d", r, buffer[r]);
    MPI_Start(&request);
    MPI_Wait(&request, MPI_STATUS_IGNORE);
    for (int r = 0; r < size; r++) CHECK(buffer[r] == rank * 100 + r, "restarted persistent alltoallv in place, block %d: %d", r, buffer[r]);
    MPI_Request_free(&request);
}

/* Generalized requests: query_fn fills the status in the wait, free_fn runs when the request
   is freed (by the wait, or at once by MPI_Request_free, even before completion: MPICH), cancel_fn
   runs at MPI_Cancel with whether it completed, and their nonzero results are the calls' errors. */
struct greqState { int queried, freed, cancelled, cancelledComplete, queryResult, freeResult; };

static int greqQuery(void *extra, MPI_Status *status) {
    struct greqState *state = extra;
    state->queried++;
    status->MPI_SOURCE = 7;
    status->MPI_TAG = 42;
    MPI_Status_set_cancelled(status, 0);
    MPI_Status_set_elements(status, MPI_INT, 3);
    return state->queryResult;
}

static int greqFree(void *extra) {
    struct greqState *state = extra;
    state->freed++;
    return state->freeResult;
}

static int greqCancel(void *extra, int complete) {
    struct greqState *state = extra;
    state->cancelled++;
    state->cancelledComplete = complete;
    return MPI_SUCCESS;
}

static void generalizedRequests(void) {
    struct greqState state = {0, 0, 0, 0, MPI_SUCCESS, MPI_SUCCESS};
    MPI_Request request;
    MPI_Status status;
    int flag = -1, count = -1;
    MPI_Grequest_start(greqQuery, greqFree, greqCancel, &state, &request);
    MPI_Test(&request, &flag, &status);
    CHECK(flag == 0 && request != MPI_REQUEST_NULL && state.queried == 0, "a generalized request tested before it completed: flag %d", flag);
    MPI_Cancel(&request);
    CHECK(state.cancelled == 1 && state.cancelledComplete == 0, "MPI_Cancel ran cancel_fn %d times, complete %d", state.cancelled, state.cancelledComplete);
    MPI_Grequest_complete(request);
    CHECK(state.queried == 0 && state.freed == 0, "MPI_Grequest_complete: query_fn ran %d times, free_fn %d", state.queried, state.freed);
    MPI_Wait(&request, &status);
    MPI_Get_count(&status, MPI_INT, &count);
    CHECK(request == MPI_REQUEST_NULL && state.queried == 1 && state.freed == 1, "MPI_Wait of a generalized request: query_fn ran %d times, free_fn %d",
          state.queried, state.freed);
    CHECK(status.MPI_SOURCE == 7 && status.MPI_TAG == 42 && count == 3, "the status query_fn filled: source %d tag %d count %d", status.MPI_SOURCE,
          status.MPI_TAG, count);
    /* freed before it completes: free_fn runs at MPI_Request_free, not again at completion */
    struct greqState early = {0, 0, 0, 0, MPI_SUCCESS, MPI_SUCCESS};
    MPI_Request copy;
    MPI_Grequest_start(greqQuery, greqFree, greqCancel, &early, &request);
    copy = request;
    MPI_Request_free(&request);
    CHECK(request == MPI_REQUEST_NULL && early.freed == 1, "MPI_Request_free of an incomplete generalized request ran free_fn %d times", early.freed);
    MPI_Grequest_complete(copy);
    CHECK(early.freed == 1 && early.queried == 0, "after MPI_Grequest_complete of a freed request: free_fn ran %d times, query_fn %d", early.freed,
          early.queried);
    /* query_fn's error is the wait's */
    struct greqState failing = {0, 0, 0, 0, MPI_ERR_OTHER, MPI_SUCCESS};
    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);  /* (SwiftMPI raises there; MPICH on the world) */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Grequest_start(greqQuery, greqFree, greqCancel, &failing, &request);
    MPI_Grequest_complete(request);
    int code = MPI_Wait(&request, MPI_STATUS_IGNORE), class = -1;
    MPI_Error_class(code, &class);
    CHECK(class == MPI_ERR_OTHER && failing.freed == 1, "a failing query_fn: MPI_Wait returned class %d, free_fn ran %d times", class, failing.freed);
    code = MPI_Grequest_complete(request);
    CHECK(code != MPI_SUCCESS, "MPI_Grequest_complete of a request already waited for succeeded");
    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_ARE_FATAL);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
}

int main(int argc, char **argv) {
    int provided = -1, flag = 0;
    MPI_Initialized(&flag);
    if (flag) { fprintf(stderr, "initialized before MPI_Init\n"); return 1; }
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc > 1 && strcmp(argv[1], "fatal") == 0) {
        int value = 0;
        if (rank == 0) MPI_Send(&value, 1, MPI_INT, size + 3, 0, MPI_COMM_WORLD);  /* ends the job */
        MPI_Barrier(MPI_COMM_WORLD);  /* the others wait here until the job ends */
        printf("rank %d: returned under MPI_ERRORS_ARE_FATAL\n", rank);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "profile") == 0) {
        profiling = 1;
        int value = rank;
        if (rank == 0) for (int r = 1; r < size; r++) MPI_Send(&value, 1, MPI_INT, r, 1, MPI_COMM_WORLD);
        else MPI_Recv(&value, 1, MPI_INT, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Barrier(MPI_COMM_WORLD);
        printf("rank %d: profiled sends %d\n", rank, profiledSends);
        MPI_Finalize();
        return 0;
    }
    CHECK(provided >= MPI_THREAD_FUNNELED, "provided thread level %d", provided);
    int version, subversion;
    MPI_Get_version(&version, &subversion);
    CHECK(version == MPI_VERSION && subversion == MPI_SUBVERSION, "version %d.%d", version, subversion);
    double start = MPI_Wtime();
    pointToPoint();
    datatypes();
    largeCounts();
    external32();
    fortranTypes();
    partitioned();
    collectives();
    persistentInPlace();
    userOperationsOnGaps();
    userOperationOnOffsetRecords();
    peerSuiteFindings();
    communicators();
    groupsInfoTopologies();
    oneSided();
    oneSidedLayouts();
    errorsReturned();
    generalizedRequests();
    CHECK(MPI_Wtime() >= start && MPI_Wtick() > 0, "clock");
    int allErrors = 0;
    MPI_Reduce(&errors, &allErrors, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    MPI_Finalize();
    MPI_Finalized(&flag);
    if (rank == 0) {
        if (allErrors == 0 && flag) printf(" No Errors\n");
        else printf(" Found %d errors\n", allErrors);
    }
    return allErrors == 0 ? 0 : 1;
}
