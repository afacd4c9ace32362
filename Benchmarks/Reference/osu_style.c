/*
 * osu_style.c -- the C side of Benchmarks/compare.sh: the same benchmarks as swiftmpi-bench,
 * written against the MPI C API so that Open MPI and MPICH run exactly what SwiftMPI runs.
 *
 *     mpirun -n 2 ./osu_style <benchmark> [-m MIN:MAX] [-i ITERS] [-x WARMUP] [-W WINDOW] [-D vect:S:B]
 *     benchmarks: latency, bw, bibw, mbw-mr, barrier, allreduce, bcast, reduce, gather, scatter, allgather,
 *                 alltoall, gatherv, scatterv, allgatherv, alltoallv, alltoallw, reduce-scatter,
 *                 reduce-scatter-block, their non-blocking forms (ibarrier, ibcast, ..., ireduce-scatter-block), halo
 *
 * Why a copy of swiftmpi-bench rather than the OSU Micro-Benchmarks themselves: a comparison is only
 * fair when both sides time the same thing. This file follows Benchmarks/Sources/Runner.swift line by
 * line (see the comment above each benchmark) and prints the same rows, so one parser reads both:
 *
 *     # Size          Latency (us)          <- '#' lines are headers
 *     0                       0.14          <- size left-aligned in 10 columns, value right-aligned in 18
 *
 * What is measured, as in Runner.swift (OSU's methodology with its defaults):
 *   - sizes MIN, then doubling up to MAX (default 0:4194304; bw, bibw and mbw-mr start at 1);
 *   - iterations + warm-up: latency 10000+100 (1000+10 above 8 KiB); bw, bibw, mbw-mr 100+10 windows
 *     (20+2 above 8 KiB); collectives 1000+100 (100+10 above 8 KiB); -i and -x override all sizes;
 *   - latency = round trip / 2 from blocking send/recv, averaged over both ranks;
 *   - bw: rank 0 isends a window of 64, rank 1 irecvs 64 into one buffer, then a 4-byte ack;
 *     bibw: both sides irecv 64 then isend 64, no ack; MB/s with MB = 10^6, rank 0's clock;
 *   - mbw-mr: rank i streams to rank i + n/2 (bw with an ack), aggregate MB/s and messages/s;
 *   - collectives: each call timed alone, calls separated by an untimed barrier on a private
 *     communicator, the mean per rank averaged over the ranks; allreduce is an in-place MPI_SUM on
 *     max(size / 8, 1) doubles, as SwiftMPI's allreduce(inPlace:) on [Double], reduce the same sum
 *     into a separate buffer at rank 0 (SwiftMPI's reduce on spans, OSU's osu_reduce); the v-forms give every
 *     rank SIZE bytes; reduce-scatter splits max(size / 8, 1) doubles as evenly as it can,
 *     reduce-scatter-block gives each rank the quotient (OSU's portion);
 *   - non-blocking collectives (OSU's osu_ibcast ...): each call started and waited for at once (pure
 *     communication), then started, followed by OSU's dummy computation for that long, then waited
 *     for (overall); rows give overall, compute, pure and OSU's overlap (%); sizes without an
 *     element are skipped (reductions: size / 8 doubles), as OSU skips them;
 *   - one barrier on the private communicator before each size;
 *   - -D vect:STRIDE:BLOCK (OSU 7.4's derived-datatype option): each message of a SIZE-byte buffer is
 *     one MPI_Type_vector(SIZE / STRIDE, BLOCK, STRIDE, MPI_CHAR); a last column gives the bytes
 *     transmitted; bandwidth counts them (cont is plain bytes; indx is swiftmpi-bench only);
 *   - halo: the two ranks swap a column of an N x N grid of doubles (MPI_Type_vector(N, 1, N,
 *     MPI_DOUBLE)) with MPI_Sendrecv, column 1 out and column 0 in, N = 64, 512, 4096 (or -m N);
 *     latency iteration counts by the column's bytes; us per exchange averaged over both ranks.
 * The barrier between sizes and the sum over ranks are the same hand-written send/recv exchanges as in
 * Runner.swift (not MPI_Barrier/MPI_Reduce), so the two programs also agree on what happens between
 * the timed regions.
 *
 * One deliberate difference: buffers here are page-aligned (OSU aligns them); Runner.swift allocates
 * with Swift's default alignment. Both allocate once and touch every page before timing.
 *
 * Build: mpicc -std=c99 -O2 -o osu_style osu_style.c   (compare.sh builds one per MPI library;
 * it adds -Wno-stringop-overflow because GCC 12 mistakes MPICH's MPI_STATUSES_IGNORE, a pointer
 * constant, for a zero-length array)
 */
#define _POSIX_C_SOURCE 200112L
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum benchmark {
    LATENCY, BW, BIBW, MBW_MR,
    BARRIER, ALLREDUCE, BCAST, REDUCE, GATHER, SCATTER, ALLGATHER, ALLTOALL,
    GATHERV, SCATTERV, ALLGATHERV, ALLTOALLV, ALLTOALLW, REDUCE_SCATTER, REDUCE_SCATTER_BLOCK,
    IBARRIER, IBCAST, IALLREDUCE, IREDUCE, IGATHER, ISCATTER, IALLGATHER, IALLTOALL,
    IGATHERV, ISCATTERV, IALLGATHERV, IALLTOALLV, IALLTOALLW, IREDUCE_SCATTER, IREDUCE_SCATTER_BLOCK,
    HALO
};

static const struct {
    const char *name;
    const char *title;
} benchmarks[] = {
    [LATENCY] = {"latency", "Latency Test"},
    [BW] = {"bw", "Bandwidth Test"},
    [BIBW] = {"bibw", "Bi-Directional Bandwidth Test"},
    [MBW_MR] = {"mbw-mr", "Multiple Bandwidth / Message Rate Test"},
    [BARRIER] = {"barrier", "Barrier Latency Test"},
    [ALLREDUCE] = {"allreduce", "Allreduce Latency Test"},
    [BCAST] = {"bcast", "Broadcast Latency Test"},
    [REDUCE] = {"reduce", "Reduce Latency Test"},
    [GATHER] = {"gather", "Gather Latency Test"},
    [SCATTER] = {"scatter", "Scatter Latency Test"},
    [ALLGATHER] = {"allgather", "Allgather Latency Test"},
    [ALLTOALL] = {"alltoall", "All-to-All Latency Test"},
    [GATHERV] = {"gatherv", "Gatherv Latency Test"},
    [SCATTERV] = {"scatterv", "Scatterv Latency Test"},
    [ALLGATHERV] = {"allgatherv", "Allgatherv Latency Test"},
    [ALLTOALLV] = {"alltoallv", "All-to-Allv Personalized Exchange Latency Test"},
    [ALLTOALLW] = {"alltoallw", "All-to-Allw Personalized Exchange Latency Test"},
    [REDUCE_SCATTER] = {"reduce-scatter", "Reduce_scatter Latency Test"},
    [REDUCE_SCATTER_BLOCK] = {"reduce-scatter-block", "Reduce_scatter_block Latency Test"},
    [IBARRIER] = {"ibarrier", "Non-blocking Barrier Latency Test"},
    [IBCAST] = {"ibcast", "Non-Blocking Broadcast Latency Test"},
    [IALLREDUCE] = {"iallreduce", "Non-blocking Allreduce Latency Test"},
    [IREDUCE] = {"ireduce", "Non-blocking Reduce Latency Test"},
    [IGATHER] = {"igather", "Non-blocking Gather Latency Test"},
    [ISCATTER] = {"iscatter", "Non-blocking Scatter Latency Test"},
    [IALLGATHER] = {"iallgather", "Non-blocking Allgather Latency Test"},
    [IALLTOALL] = {"ialltoall", "Non-blocking All-to-All Latency Test"},
    [IGATHERV] = {"igatherv", "Non-blocking Gatherv Latency Test"},
    [ISCATTERV] = {"iscatterv", "Non-blocking Scatterv Latency Test"},
    [IALLGATHERV] = {"iallgatherv", "Non-blocking Allgatherv Latency Test"},
    [IALLTOALLV] = {"ialltoallv", "Non-blocking All-to-Allv Latency Test"},
    [IALLTOALLW] = {"ialltoallw", "Non-blocking All-to-Allw Latency Test"},
    [IREDUCE_SCATTER] = {"ireduce-scatter", "Non-blocking Reduce_scatter Latency Test"},
    [IREDUCE_SCATTER_BLOCK] = {"ireduce-scatter-block", "Non-blocking Reduce_scatter_block Latency Test"},
    [HALO] = {"halo", "Halo Exchange Test (a column of an N×N grid of doubles, MPI_Type_vector)"},
};
#define BENCHMARK_COUNT ((int)(sizeof benchmarks / sizeof benchmarks[0]))

/* OSU's "large message" threshold: sizes above it get fewer iterations. */
#define LARGE_MESSAGE 8192

struct options {
    long min_size, max_size;
    int iterations, warmup; /* 0: OSU's default for the size */
    int window;
    long stride, block; /* -D vect:STRIDE:BLOCK; 0 without -D */
};

static int is_collective(enum benchmark b) { return b >= BARRIER && b <= IREDUCE_SCATTER_BLOCK; }
static int is_nonblocking(enum benchmark b) { return b >= IBARRIER && b <= IREDUCE_SCATTER_BLOCK; }
static int reduces(enum benchmark b) {
    return b == ALLREDUCE || b == REDUCE || b == REDUCE_SCATTER || b == REDUCE_SCATTER_BLOCK || b == IALLREDUCE || b == IREDUCE ||
           b == IREDUCE_SCATTER || b == IREDUCE_SCATTER_BLOCK;
}
static int is_bandwidth(enum benchmark b) { return b == BW || b == BIBW || b == MBW_MR; }

/* ---------------------------------------------------------------- state shared by the benchmarks */

static MPI_Comm world, control; /* control: a private duplicate for the untimed exchanges */
static int rank, nranks;
static struct options opt;
static unsigned char *send_buffer, *receive_buffer, *window_buffer;
static unsigned char *all_send, *all_receive; /* size bytes per rank, for the rooted and all-to-all collectives */
static double *doubles, *results; /* results: the reduce-scatters' and the non-blocking reductions' output */
static int *counts_v, *displacements_v, *split_v; /* the v-forms' counts and byte displacements; reduce-scatter's counts */
static MPI_Datatype *bytes_w; /* alltoallw: MPI_BYTE for every peer */
static MPI_Request *requests;
static MPI_Datatype message_type = MPI_BYTE; /* -D: the vector for the current size */
static int message_count(long size) { return opt.stride ? 1 : (int)size; }
static long transmitted(long size) { return opt.stride ? size / opt.stride * opt.block : size; }

/* -D vect: the vector for SIZE bytes (as OSU 7.4's omb_ddt_assign builds it). */
static void set_message_type(long size) {
    if (!opt.stride) return;
    if (message_type != MPI_BYTE) MPI_Type_free(&message_type);
    MPI_Type_vector((int)(size / opt.stride), (int)opt.block, (int)opt.stride, MPI_CHAR, &message_type);
    MPI_Type_commit(&message_type);
}

static void *page_aligned(size_t bytes, int fill) {
    void *p = NULL;
    if (posix_memalign(&p, (size_t)sysconf(_SC_PAGESIZE), bytes) != 0) {
        fprintf(stderr, "osu_style: cannot allocate %zu bytes\n", bytes);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    memset(p, fill, bytes); /* touch every page before timing */
    return p;
}

static void counts(long size, enum benchmark b, int *iterations, int *warmup) {
    int large = size > LARGE_MESSAGE;
    if (is_collective(b)) {
        *iterations = large ? 100 : 1000, *warmup = large ? 10 : 100;
    } else if (is_bandwidth(b)) {
        *iterations = large ? 20 : 100, *warmup = large ? 2 : 10;
    } else {
        *iterations = large ? 1000 : 10000, *warmup = large ? 10 : 100;
    }
    if (opt.iterations) *iterations = opt.iterations;
    if (opt.warmup) *warmup = opt.warmup;
}

/* Runner.swift barrier(): everyone reports to rank 0, rank 0 releases everyone. */
static void control_barrier(void) {
    unsigned char token = 0;
    if (rank == 0) {
        for (int i = 1; i < nranks; i++) MPI_Recv(&token, 1, MPI_BYTE, MPI_ANY_SOURCE, 0, control, MPI_STATUS_IGNORE);
        for (int peer = 1; peer < nranks; peer++) MPI_Send(&token, 1, MPI_BYTE, peer, 0, control);
    } else {
        MPI_Send(&token, 1, MPI_BYTE, 0, 0, control);
        MPI_Recv(&token, 1, MPI_BYTE, 0, 0, control, MPI_STATUS_IGNORE);
    }
}

/* Runner.swift sumOverRanks(): the total is meaningful on rank 0 only. */
static double sum_over_ranks(double value) {
    double total = value, incoming;
    if (rank == 0) {
        for (int i = 1; i < nranks; i++) {
            MPI_Recv(&incoming, 1, MPI_DOUBLE, MPI_ANY_SOURCE, 1, control, MPI_STATUS_IGNORE);
            total += incoming;
        }
    } else {
        MPI_Send(&value, 1, MPI_DOUBLE, 0, 1, control);
    }
    return total;
}

/* ---------------------------------------------------------------- the benchmarks */

/* osu_latency: ping-pong between rank i and rank i + n/2; one-way µs averaged over the ranks. */
static double latency(long size, int iterations, int warmup) {
    int half = nranks / 2;
    int sender = rank < half;
    int partner = sender ? rank + half : rank - half;
    double start = 0;
    for (int i = 0; i < iterations + warmup; i++) {
        if (i == warmup) start = MPI_Wtime();
        if (sender) {
            MPI_Send(send_buffer, message_count(size), message_type, partner, 1, world);
            MPI_Recv(receive_buffer, message_count(size), message_type, partner, 1, world, MPI_STATUS_IGNORE);
        } else {
            MPI_Recv(receive_buffer, message_count(size), message_type, partner, 1, world, MPI_STATUS_IGNORE);
            MPI_Send(send_buffer, message_count(size), message_type, partner, 1, world);
        }
    }
    double one_way = (MPI_Wtime() - start) * 1e6 / (2.0 * iterations);
    return sum_over_ranks(one_way) / nranks;
}

/* osu_bw / osu_bibw: windows of nonblocking messages, all received into one buffer; bw ends each
 * window with a 4-byte acknowledgement from the receiver, bibw has none. */
static double bandwidth(long size, int iterations, int warmup, int bidirectional) {
    int peer = 1 - rank;
    int window = opt.window;
    int ack = opt.max_size < 4 ? (int)(opt.max_size > 0 ? opt.max_size : 1) : 4;
    double start = 0;
    for (int i = 0; i < iterations + warmup; i++) {
        if (i == warmup) start = MPI_Wtime();
        int n = 0;
        if (rank == 0 || bidirectional) {
            if (bidirectional) {
                for (int w = 0; w < window; w++)
                    MPI_Irecv(window_buffer, message_count(size), message_type, peer, 10, world, &requests[n++]);
            }
            for (int w = 0; w < window; w++)
                MPI_Isend(send_buffer, message_count(size), message_type, peer, 10, world, &requests[n++]);
            MPI_Waitall(n, requests, MPI_STATUSES_IGNORE);
            if (!bidirectional) MPI_Recv(receive_buffer, ack, MPI_BYTE, peer, 11, world, MPI_STATUS_IGNORE);
        } else {
            for (int w = 0; w < window; w++)
                MPI_Irecv(window_buffer, message_count(size), message_type, peer, 10, world, &requests[n++]);
            MPI_Waitall(n, requests, MPI_STATUSES_IGNORE);
            MPI_Send(receive_buffer, ack, MPI_BYTE, peer, 11, world);
        }
    }
    double elapsed = MPI_Wtime() - start;
    double bytes = (double)transmitted(size) * iterations * window * (bidirectional ? 2 : 1);
    return bytes / 1e6 / elapsed;
}

/* osu_mbw_mr: the first half streams windows to the second half (with an ack per window);
 * *rate gets the aggregate messages/s, the result is the aggregate MB/s. */
static double message_rate(long size, int iterations, int warmup, double *rate) {
    int half = nranks / 2;
    int sender = rank < half;
    int partner = sender ? rank + half : rank - half;
    int window = opt.window;
    int ack = opt.max_size < 4 ? (int)(opt.max_size > 0 ? opt.max_size : 1) : 4;
    double start = 0;
    for (int i = 0; i < iterations + warmup; i++) {
        if (i == warmup) start = MPI_Wtime();
        if (sender) {
            for (int w = 0; w < window; w++)
                MPI_Isend(send_buffer, message_count(size), message_type, partner, 20, world, &requests[w]);
            MPI_Waitall(window, requests, MPI_STATUSES_IGNORE);
            MPI_Recv(receive_buffer, ack, MPI_BYTE, partner, 21, world, MPI_STATUS_IGNORE);
        } else {
            for (int w = 0; w < window; w++)
                MPI_Irecv(window_buffer, message_count(size), message_type, partner, 20, world, &requests[w]);
            MPI_Waitall(window, requests, MPI_STATUSES_IGNORE);
            MPI_Send(receive_buffer, ack, MPI_BYTE, partner, 21, world);
        }
    }
    double elapsed = MPI_Wtime() - start;
    double pair_rate = sender ? (double)iterations * window / elapsed : 0;
    *rate = sum_over_ranks(pair_rate);
    return *rate * (double)transmitted(size) / 1e6;
}

/* The v-forms' counts and displacements for SIZE bytes per rank, and reduce-scatter's split of
 * ELEMENTS doubles (the quotient each, one more to the first ranks for the remainder). */
static void set_layouts(long size, long elements) {
    for (int r = 0; r < nranks; r++) {
        counts_v[r] = (int)size, displacements_v[r] = (int)(r * size), bytes_w[r] = MPI_BYTE;
        split_v[r] = (int)(elements / nranks + (r < elements % nranks ? 1 : 0));
    }
}

/* osu_barrier, osu_allreduce, osu_bcast, …: each call timed alone; mean per rank, averaged over the
 * ranks. As Collectives.swift collective(): allreduce in place and reduce (to rank 0, into a
 * separate buffer, as SwiftMPI's reduce(_:into:) on spans and OSU's osu_reduce) on max(size / 8, 1)
 * doubles (sum), the others on size bytes per rank, rooted ones at rank 0. */
static double collective(enum benchmark b, long size, int iterations, int warmup) {
    long count = size / 8 > 1 ? size / 8 : 1;
    set_layouts(size, count);
    if (b == ALLREDUCE || b == REDUCE) {
        for (long k = 0; k < count; k++) doubles[k] = 1; /* Runner.swift starts each size from ones */
    }
    int bytes = (int)size;
    double total = 0;
    for (int i = 0; i < iterations + warmup; i++) {
        double start = MPI_Wtime();
        switch (b) {
        case BARRIER: MPI_Barrier(world); break;
        case ALLREDUCE: MPI_Allreduce(MPI_IN_PLACE, doubles, (int)count, MPI_DOUBLE, MPI_SUM, world); break;
        case REDUCE: MPI_Reduce(doubles, results, (int)count, MPI_DOUBLE, MPI_SUM, 0, world); break;
        case BCAST: MPI_Bcast(send_buffer, bytes, MPI_BYTE, 0, world); break;
        case GATHER: MPI_Gather(send_buffer, bytes, MPI_BYTE, all_receive, bytes, MPI_BYTE, 0, world); break;
        case SCATTER: MPI_Scatter(all_send, bytes, MPI_BYTE, receive_buffer, bytes, MPI_BYTE, 0, world); break;
        case ALLGATHER: MPI_Allgather(send_buffer, bytes, MPI_BYTE, all_receive, bytes, MPI_BYTE, world); break;
        case ALLTOALL: MPI_Alltoall(all_send, bytes, MPI_BYTE, all_receive, bytes, MPI_BYTE, world); break;
        case GATHERV: MPI_Gatherv(send_buffer, bytes, MPI_BYTE, all_receive, counts_v, displacements_v, MPI_BYTE, 0, world); break;
        case SCATTERV: MPI_Scatterv(all_send, counts_v, displacements_v, MPI_BYTE, receive_buffer, bytes, MPI_BYTE, 0, world); break;
        case ALLGATHERV: MPI_Allgatherv(send_buffer, bytes, MPI_BYTE, all_receive, counts_v, displacements_v, MPI_BYTE, world); break;
        case ALLTOALLV:
            MPI_Alltoallv(all_send, counts_v, displacements_v, MPI_BYTE, all_receive, counts_v, displacements_v, MPI_BYTE, world);
            break;
        case ALLTOALLW:
            MPI_Alltoallw(all_send, counts_v, displacements_v, bytes_w, all_receive, counts_v, displacements_v, bytes_w, world);
            break;
        case REDUCE_SCATTER: MPI_Reduce_scatter(doubles, results, split_v, MPI_DOUBLE, MPI_SUM, world); break;
        case REDUCE_SCATTER_BLOCK: MPI_Reduce_scatter_block(doubles, results, (int)(count / nranks), MPI_DOUBLE, MPI_SUM, world); break;
        default: break;
        }
        if (i >= warmup) total += MPI_Wtime() - start;
        control_barrier();
    }
    return sum_over_ranks(total * 1e6 / iterations) / nranks;
}

/* OSU's dummy computation (osu_util_mpi.c compute_on_host): a 25 x 25 matrix loop repeated until
 * SECONDS have passed. */
#define DIM 25
static double compute_x[DIM], compute_y[DIM], compute_a[DIM][DIM];
static void compute_on_host(double seconds) {
    double elapsed = 0;
    while (elapsed < seconds) {
        double start = MPI_Wtime();
        for (int i = 0; i < DIM; i++)
            for (int j = 0; j < DIM; j++) compute_x[i] = compute_x[i] + compute_a[i][j] * compute_a[j][i] + compute_y[j];
        elapsed += MPI_Wtime() - start;
    }
}

/* Starts one non-blocking collective on SIZE bytes per rank (reductions: size / 8 doubles). */
static MPI_Request start_nonblocking(enum benchmark b, long size) {
    MPI_Request request = MPI_REQUEST_NULL;
    int bytes = (int)size, elements = (int)(size / 8);
    switch (b) {
    case IBARRIER: MPI_Ibarrier(world, &request); break;
    case IBCAST: MPI_Ibcast(send_buffer, bytes, MPI_BYTE, 0, world, &request); break;
    case IALLREDUCE: MPI_Iallreduce(doubles, results, elements, MPI_DOUBLE, MPI_SUM, world, &request); break;
    case IREDUCE: MPI_Ireduce(doubles, results, elements, MPI_DOUBLE, MPI_SUM, 0, world, &request); break;
    case IGATHER: MPI_Igather(send_buffer, bytes, MPI_BYTE, all_receive, bytes, MPI_BYTE, 0, world, &request); break;
    case ISCATTER: MPI_Iscatter(all_send, bytes, MPI_BYTE, receive_buffer, bytes, MPI_BYTE, 0, world, &request); break;
    case IALLGATHER: MPI_Iallgather(send_buffer, bytes, MPI_BYTE, all_receive, bytes, MPI_BYTE, world, &request); break;
    case IALLTOALL: MPI_Ialltoall(all_send, bytes, MPI_BYTE, all_receive, bytes, MPI_BYTE, world, &request); break;
    case IGATHERV:
        MPI_Igatherv(send_buffer, bytes, MPI_BYTE, all_receive, counts_v, displacements_v, MPI_BYTE, 0, world, &request);
        break;
    case ISCATTERV:
        MPI_Iscatterv(all_send, counts_v, displacements_v, MPI_BYTE, receive_buffer, bytes, MPI_BYTE, 0, world, &request);
        break;
    case IALLGATHERV:
        MPI_Iallgatherv(send_buffer, bytes, MPI_BYTE, all_receive, counts_v, displacements_v, MPI_BYTE, world, &request);
        break;
    case IALLTOALLV:
        MPI_Ialltoallv(all_send, counts_v, displacements_v, MPI_BYTE, all_receive, counts_v, displacements_v, MPI_BYTE, world, &request);
        break;
    case IALLTOALLW:
        MPI_Ialltoallw(all_send, counts_v, displacements_v, bytes_w, all_receive, counts_v, displacements_v, bytes_w, world, &request);
        break;
    case IREDUCE_SCATTER: MPI_Ireduce_scatter(doubles, results, split_v, MPI_DOUBLE, MPI_SUM, world, &request); break;
    case IREDUCE_SCATTER_BLOCK:
        MPI_Ireduce_scatter_block(doubles, results, elements / nranks, MPI_DOUBLE, MPI_SUM, world, &request);
        break;
    default: break;
    }
    return request;
}

/* Runner.swift nonblockingCollective(): *compute and *pure get the computation's and the pure
 * communication's µs, the result is the overall µs, each averaged over the ranks. */
static double nonblocking(enum benchmark b, long size, int iterations, int warmup, double *compute, double *pure) {
    double pure_total = 0, overall_total = 0, compute_total = 0;
    for (int i = 0; i < iterations + warmup; i++) {
        double start = MPI_Wtime();
        MPI_Request request = start_nonblocking(b, size);
        MPI_Wait(&request, MPI_STATUS_IGNORE);
        if (i >= warmup) pure_total += MPI_Wtime() - start;
        control_barrier();
    }
    double compute_seconds = pure_total / iterations;
    for (int i = 0; i < iterations + warmup; i++) {
        double start = MPI_Wtime();
        MPI_Request request = start_nonblocking(b, size);
        double compute_start = MPI_Wtime();
        compute_on_host(compute_seconds);
        double compute_end = MPI_Wtime();
        MPI_Wait(&request, MPI_STATUS_IGNORE);
        if (i >= warmup) overall_total += MPI_Wtime() - start, compute_total += compute_end - compute_start;
        control_barrier();
    }
    double per_call = 1e6 / iterations;
    /* Runner.swift averagesOverRanks(): the three values in one message from each rank in turn */
    double mine[3] = {overall_total * per_call, compute_total * per_call, pure_total * per_call}, totals[3] = {mine[0], mine[1], mine[2]};
    if (rank == 0) {
        for (int source = 1; source < nranks; source++) {
            double incoming[3];
            MPI_Recv(incoming, 3, MPI_DOUBLE, source, 2, control, MPI_STATUS_IGNORE);
            for (int k = 0; k < 3; k++) totals[k] += incoming[k];
        }
    } else {
        MPI_Send(mine, 3, MPI_DOUBLE, 0, 2, control);
    }
    *compute = totals[1] / nranks;
    *pure = totals[2] / nranks;
    return totals[0] / nranks;
}

/* Runner.swift haloExchanges(): a column of an N x N grid swapped with MPI_Sendrecv. */
static void halo(void) {
    long sizes[3] = {64, 512, 4096};
    int count = 3;
    if (opt.max_size != 1L << 22) sizes[0] = opt.max_size, count = 1;
    int peer = 1 - rank;
    for (int k = 0; k < count; k++) {
        long n = sizes[k];
        double *grid = malloc((size_t)(n * n) * sizeof *grid);
        if (!grid) MPI_Abort(world, 1);
        for (long c = 0; c < n * n; c++) grid[c] = rank;
        MPI_Datatype column;
        MPI_Type_vector((int)n, 1, (int)n, MPI_DOUBLE, &column);
        MPI_Type_commit(&column);
        int iterations, warmup;
        counts(n * 8, LATENCY, &iterations, &warmup);
        control_barrier();
        double start = 0;
        for (int i = 0; i < iterations + warmup; i++) {
            if (i == warmup) start = MPI_Wtime();
            MPI_Sendrecv(grid + 1, 1, column, peer, 30, grid, 1, column, peer, 30, world, MPI_STATUS_IGNORE);
        }
        double per_exchange = sum_over_ranks((MPI_Wtime() - start) * 1e6 / iterations) / nranks;
        if (grid[0] != peer || grid[(n - 1) * n] != peer || grid[1] != rank) {
            fprintf(stderr, "osu_style halo: the received column is wrong\n");
            MPI_Abort(world, 1);
        }
        if (rank == 0) printf("%-10ld%18.2f%18ld\n", n, per_exchange, n * 8), fflush(stdout);
        MPI_Type_free(&column);
        free(grid);
    }
}

/* ---------------------------------------------------------------- command line and output */

static void usage(FILE *to) {
    fprintf(to,
            "usage: mpirun -n 2 osu_style <benchmark> [options]\n\n"
            "benchmarks: latency, bw, bibw (2 ranks), mbw-mr (an even number), barrier, allreduce, bcast, reduce, gather, scatter,\n"
            "            allgather, alltoall, gatherv, scatterv, allgatherv, alltoallv, alltoallw, reduce-scatter,\n"
            "            reduce-scatter-block, and each one's non-blocking form (ibarrier ... ireduce-scatter-block) (any)\n"
            "options:\n"
            "  -m MIN:MAX   message sizes in bytes (default 0:4194304; bw, bibw and mbw-mr start at 1)\n"
            "  -i ITERS     timed iterations (default: OSU's, by size)\n"
            "  -x WARMUP    warm-up iterations (default: OSU's, by size)\n"
            "  -W WINDOW    window of messages in flight for bw, bibw, mbw-mr (default 64)\n"
            "  -D vect:S:B  latency, bw, bibw, mbw-mr: each message is MPI_Type_vector(SIZE/S, B, S, MPI_CHAR)\n");
}

/* Parses a non-negative decimal number that fits in an int; -1 when TEXT is not one. */
static long number(const char *text) {
    char *end;
    if (*text < '0' || *text > '9') return -1;
    long value = strtol(text, &end, 10);
    return *end == '\0' && value <= 0x7fffffff ? value : -1;
}

/* Returns NULL on success, or a message naming what is wrong. */
static const char *parse(int argc, char **argv, enum benchmark b, struct options *o) {
    static char message[256];
    *o = (struct options){.min_size = is_bandwidth(b) ? 1 : 0, .max_size = 1L << 22, .window = 64};
    for (int i = 0; i < argc; i++) {
        const char *flag = argv[i];
        if (strcmp(flag, "-m") && strcmp(flag, "-i") && strcmp(flag, "-x") && strcmp(flag, "-W") && strcmp(flag, "-D")) {
            snprintf(message, sizeof message, "unknown option '%s'", flag);
            return message;
        }
        if (++i == argc) {
            snprintf(message, sizeof message, "%s needs a value", flag);
            return message;
        }
        const char *text = argv[i];
        if (flag[1] == 'D') {
            long stride = 8, block = 4;
            if (strcmp(text, "cont") == 0) continue; /* plain bytes */
            if (strncmp(text, "vect", 4) != 0 || (text[4] && sscanf(text + 4, ":%ld:%ld", &stride, &block) != 2) || stride <= 0 ||
                block <= 0 || block > stride) {
                snprintf(message, sizeof message, "-D needs cont or vect[:STRIDE:BLOCK] with 0 < BLOCK <= STRIDE, got '%s'", text);
                return message;
            }
            o->stride = stride, o->block = block;
        } else if (flag[1] == 'm') {
            const char *colon = strchr(text, ':');
            long low = o->min_size, high;
            if (colon) {
                char head[32];
                size_t length = (size_t)(colon - text);
                if (length >= sizeof head) length = sizeof head - 1;
                memcpy(head, text, length), head[length] = '\0';
                low = number(head), high = number(colon + 1);
            } else {
                high = number(text);
            }
            if (low < 0 || high < 0 || low > high) {
                snprintf(message, sizeof message, "-m needs MIN:MAX or MAX with 0 <= MIN <= MAX, got '%s'", text);
                return message;
            }
            o->min_size = low, o->max_size = high;
        } else {
            long value = number(text);
            if (value <= 0) {
                snprintf(message, sizeof message, "%s needs a positive integer, got '%s'", flag, text);
                return message;
            }
            if (flag[1] == 'i') o->iterations = (int)value;
            if (flag[1] == 'x') o->warmup = (int)value;
            if (flag[1] == 'W') o->window = (int)value;
        }
    }
    return NULL;
}

/* The header names the library by its own first line ("Open MPI v4.1.4", "MPICH Version: 4.0.2"). */
static void print_header(enum benchmark b) {
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int length;
    MPI_Get_library_version(version, &length);
    version[strcspn(version, ",\n")] = '\0';
    for (char *tab; (tab = strchr(version, '\t'));) *tab = ' ';
    printf("# Reference OSU-style MPI %s (osu_style.c, %s)\n", benchmarks[b].title, version);
    switch (b) {
    case LATENCY: puts("# Size          Latency (us)"); break;
    case BW:
    case BIBW: puts("# Size      Bandwidth (MB/s)"); break;
    case MBW_MR:
        printf("# [ pairs: %d ] [ window size: %d ]\n", nranks / 2, opt.window);
        puts("# Size                  MB/s        Messages/s");
        break;
    case BARRIER: puts("# Avg Latency(us)"); break;
    case IBARRIER:
        puts("# Overall = Coll. Init + Compute + MPI_Test + MPI_Wait\n");
        printf("# Overall(us)%18s%18s%18s\n", "Compute(us)", "Pure Comm.(us)", "Overlap(%)");
        break;
    case HALO: puts("# N             Latency (us)     Transmit Size"); break;
    default:
        if (is_nonblocking(b)) {
            puts("# Overall = Coll. Init + Compute + MPI_Test + MPI_Wait\n");
            printf("# Size    %18s%18s%18s%18s\n", "Overall(us)", "Compute(us)", "Pure Comm.(us)", "Overlap(%)");
        } else {
            puts("# Size       Avg Latency(us)");
        }
        break;
    }
    fflush(stdout);
}

int main(int argc, char **argv) {
    enum benchmark b = BENCHMARK_COUNT;
    for (int i = 0; argc > 1 && i < BENCHMARK_COUNT; i++) {
        if (strcmp(argv[1], benchmarks[i].name) == 0) b = (enum benchmark)i;
    }
    if (b == BENCHMARK_COUNT) {
        int asked_for_help = argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help");
        usage(asked_for_help ? stdout : stderr);
        return asked_for_help ? 0 : 2;
    }
    const char *problem = parse(argc - 2, argv + 2, b, &opt);
    if (problem) {
        fprintf(stderr, "osu_style: %s\n", problem);
        usage(stderr);
        return 2;
    }

    MPI_Init(&argc, &argv);
    world = MPI_COMM_WORLD;
    MPI_Comm_rank(world, &rank);
    MPI_Comm_size(world, &nranks);
    int two_only = b == LATENCY || b == BW || b == BIBW || b == HALO;
    if (!is_collective(b) && (two_only ? nranks != 2 : nranks < 2 || nranks % 2)) {
        if (rank == 0) fprintf(stderr, "osu_style %s: needs exactly 2 ranks (mbw-mr an even number)\n", benchmarks[b].name);
        MPI_Finalize();
        return 2;
    }
    MPI_Comm_dup(world, &control);

    size_t bytes = opt.max_size > 0 ? (size_t)opt.max_size : 1;
    send_buffer = page_aligned(bytes, 0x61);
    receive_buffer = page_aligned(bytes, 0x62);
    window_buffer = page_aligned(bytes, 0x63);
    doubles = page_aligned((bytes / 8 > 1 ? bytes / 8 : 1) * sizeof(double), 0);
    results = page_aligned((bytes / 8 > 1 ? bytes / 8 : 1) * sizeof(double), 0);
    for (long k = 0; k < (long)(bytes / 8); k++) doubles[k] = 1;
    counts_v = malloc((size_t)nranks * sizeof *counts_v), displacements_v = malloc((size_t)nranks * sizeof *displacements_v);
    split_v = malloc((size_t)nranks * sizeof *split_v), bytes_w = malloc((size_t)nranks * sizeof *bytes_w);
    if (!counts_v || !displacements_v || !split_v || !bytes_w) MPI_Abort(world, 1);
    for (int i = 0; i < DIM; i++) {
        compute_x[i] = 0, compute_y[i] = 1;
        for (int j = 0; j < DIM; j++) compute_a[i][j] = 2;
    }
    if (is_collective(b)) {
        all_send = page_aligned(bytes * (size_t)nranks, 0x64);
        all_receive = page_aligned(bytes * (size_t)nranks, 0x65);
    }
    requests = malloc(2 * (size_t)opt.window * sizeof *requests);
    if (!requests) MPI_Abort(world, 1);

    if (rank == 0) print_header(b);
    if (b == HALO) {
        halo();
        MPI_Comm_free(&control);
        MPI_Finalize();
        return 0;
    }
    int single = b == BARRIER || b == IBARRIER;
    for (long size = single ? 0 : opt.min_size; size <= (single ? 0 : opt.max_size); size = size == 0 ? 1 : size * 2) {
        int iterations, warmup;
        counts(size, b, &iterations, &warmup);
        control_barrier();
        set_message_type(size);
        if (is_nonblocking(b)) {
            if (b != IBARRIER && size < (reduces(b) ? 8 : 1)) continue; /* no element: skipped, as OSU skips it */
            set_layouts(size, size / 8);
            double compute, pure, overall = nonblocking(b, size, iterations, warmup, &compute, &pure);
            double overlap = 100 - (overall - compute) / pure * 100;
            if (overlap < 0) overlap = 0;
            if (rank == 0) {
                if (b == IBARRIER) printf("%13.2f%18.2f%18.2f%18.2f\n", overall, compute, pure, overlap);
                else printf("%-10ld%18.2f%18.2f%18.2f%18.2f\n", size, overall, compute, pure, overlap);
                fflush(stdout);
            }
            continue;
        }
        double value, rate = 0;
        switch (b) {
        case LATENCY: value = latency(size, iterations, warmup); break;
        case BW: value = bandwidth(size, iterations, warmup, 0); break;
        case BIBW: value = bandwidth(size, iterations, warmup, 1); break;
        case MBW_MR: value = message_rate(size, iterations, warmup, &rate); break;
        default: value = collective(b, size, iterations, warmup); break;
        }
        if (rank == 0) {
            if (b == BARRIER) printf("%17.2f\n", value);
            else if (b == MBW_MR) printf("%-10ld%18.2f%18.2f", size, value, rate);
            else printf("%-10ld%18.2f", size, value);
            if (b != BARRIER) printf(opt.stride ? "%18ld\n" : "\n", transmitted(size));
            fflush(stdout);
            /* the same progress note as swiftmpi-bench, so long runs look alike */
            if (opt.max_size >= 1L << 20 && size >= 1L << 16)
                fprintf(stderr, "osu_style %s: %ld bytes done\n", benchmarks[b].name, size);
        }
    }

    free(requests);
    free(counts_v), free(displacements_v), free(split_v), free(bytes_w);
    free(results);
    free(doubles);
    free(window_buffer);
    free(receive_buffer);
    free(send_buffer);
    MPI_Comm_free(&control);
    MPI_Finalize();
    return 0;
}
