/* Recovery mode from C (MPIX_Comm_revoke, _agree, _failure_ack, _failure_get_acked, _shrink), run
   under `swiftmpirun --enable-recovery`: the last rank is killed; the survivors see
   MPIX_ERR_PROC_FAILED and MPIX_ERR_REVOKED, agree, shrink the world and use the new communicator.
   Rank 0 of the survivors prints " No Errors" when every check passed (RecoveryTests).

   Also: an MPI_Sendrecv whose send goes to the killed rank returns MPIX_ERR_PROC_FAILED only once
   its receive, already matched to rank 1's 8 MiB message, has finished: nothing writes into the
   receive buffer after the call has returned. */
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define LARGE (2 * 1024 * 1024) /* ints: 8 MiB, a rendezvous message on every transport */

static int errors = 0;
static int world_rank = -1;

#define CHECK(condition, ...)                    \
    do {                                         \
        if (!(condition)) {                      \
            errors++;                            \
            printf("rank %d: ", world_rank);     \
            printf(__VA_ARGS__);                 \
            printf("\n");                        \
        }                                        \
    } while (0)

static int error_class(int code) {
    int class = -1;
    MPI_Error_class(code, &class);
    return class;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int world_size;
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    int victim = world_size - 1;
    MPI_Barrier(MPI_COMM_WORLD);
    /* The victim dies only once every survivor has left the barrier and said so (on a loaded
       machine a survivor still in the barrier would see the failure there instead). */
    int word = world_rank;
    if (world_rank == victim) {
        for (int peer = 0; peer < victim; peer++) MPI_Recv(&word, 1, MPI_INT, peer, 9, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        raise(SIGKILL);
    }
    MPI_Send(&word, 1, MPI_INT, victim, 9, MPI_COMM_WORLD);

    int value = 0;
    int *large = malloc(LARGE * sizeof(int));
    if (world_rank == 0) {
        int class = error_class(MPI_Recv(&value, 1, MPI_INT, victim, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        CHECK(class == MPIX_ERR_PROC_FAILED, "MPI_Recv from the killed rank: class %d, not MPIX_ERR_PROC_FAILED", class);
        /* A wildcard MPI_Sendrecv (its send to this rank itself) is blocking: before the failure is
           acknowledged it ends with MPIX_ERR_PROC_FAILED, not _PENDING, and withdraws its receive,
           so a message sent afterwards with its tag goes to the next receive, not into `wild`. */
        int wild = -1, got = -1, own = 11;
        class = error_class(MPI_Sendrecv(&own, 1, MPI_INT, 0, 8, &wild, 1, MPI_INT, MPI_ANY_SOURCE, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        CHECK(class == MPIX_ERR_PROC_FAILED, "a wildcard MPI_Sendrecv before the acknowledgement: class %d, not MPIX_ERR_PROC_FAILED", class);
        MPI_Recv(&got, 1, MPI_INT, 0, 8, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Send(&own, 1, MPI_INT, 0, 7, MPI_COMM_WORLD);
        got = -1;
        MPI_Recv(&got, 1, MPI_INT, 0, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        CHECK(got == 11 && wild == -1, "after the failed wildcard MPI_Sendrecv: received %d, its buffer holds %d", got, wild);
        MPI_Probe(1, 5, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        for (int i = 0; i < LARGE; i++) large[i] = -1;
        class = error_class(MPI_Sendrecv(&value, 1, MPI_INT, victim, 1, large, LARGE, MPI_INT, 1, 5, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        CHECK(class == MPIX_ERR_PROC_FAILED, "MPI_Sendrecv to the killed rank: class %d, not MPIX_ERR_PROC_FAILED", class);
        int whole = 1;
        for (int i = 0; i < LARGE; i++) whole &= large[i] == 3 * i;
        CHECK(whole, "MPI_Sendrecv returned before its matched receive had finished");
        for (int i = 0; i < LARGE; i++) large[i] = -7;
        CHECK(MPIX_Comm_revoke(MPI_COMM_WORLD) == MPI_SUCCESS, "MPIX_Comm_revoke failed");
    } else {
        if (world_rank == 1) {
            for (int i = 0; i < LARGE; i++) large[i] = 3 * i;
            CHECK(MPI_Send(large, LARGE, MPI_INT, 0, 5, MPI_COMM_WORLD) == MPI_SUCCESS, "MPI_Send of the large message failed");
        }
        int class = error_class(MPI_Recv(&value, 1, MPI_INT, 0, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        CHECK(class == MPIX_ERR_REVOKED, "MPI_Recv on the revoked world: class %d, not MPIX_ERR_REVOKED", class);
    }
    int class = error_class(MPI_Send(&value, 1, MPI_INT, (world_rank + 1) % victim, 3, MPI_COMM_WORLD));
    CHECK(class == MPIX_ERR_REVOKED, "MPI_Send on the revoked world: class %d, not MPIX_ERR_REVOKED", class);

    /* Before the failure is acknowledged, agree raises MPIX_ERR_PROC_FAILED, with the flag agreed. */
    int flag = world_rank == 0 ? 0x6 : 0x7;
    class = error_class(MPIX_Comm_agree(MPI_COMM_WORLD, &flag));
    CHECK(class == MPIX_ERR_PROC_FAILED, "MPIX_Comm_agree before MPIX_Comm_failure_ack: class %d, not MPIX_ERR_PROC_FAILED", class);
    CHECK(flag == 0x6, "MPIX_Comm_agree gave %#x, not 0x6", flag);

    CHECK(MPIX_Comm_failure_ack(MPI_COMM_WORLD) == MPI_SUCCESS, "MPIX_Comm_failure_ack failed");
    flag = world_rank == 1 ? 0x3 : 0x7;
    CHECK(MPIX_Comm_agree(MPI_COMM_WORLD, &flag) == MPI_SUCCESS, "MPIX_Comm_agree after MPIX_Comm_failure_ack failed");
    CHECK(flag == 0x3, "MPIX_Comm_agree gave %#x, not 0x3", flag);
    MPI_Group acked, world_group;
    int acked_size = -1, first = 0, translated = -1;
    CHECK(MPIX_Comm_failure_get_acked(MPI_COMM_WORLD, &acked) == MPI_SUCCESS, "MPIX_Comm_failure_get_acked failed");
    MPI_Group_size(acked, &acked_size);
    CHECK(acked_size == 1, "%d acknowledged failures, not 1", acked_size);
    MPI_Comm_group(MPI_COMM_WORLD, &world_group);
    MPI_Group_translate_ranks(acked, 1, &first, world_group, &translated);
    CHECK(translated == victim, "the acknowledged failure is world rank %d, not %d", translated, victim);

    MPI_Comm shrunk;
    CHECK(MPIX_Comm_shrink(MPI_COMM_WORLD, &shrunk) == MPI_SUCCESS, "MPIX_Comm_shrink failed");
    int size = -1, rank = -1, sum = -1, total = -1;
    MPI_Comm_size(shrunk, &size);
    MPI_Comm_rank(shrunk, &rank);
    CHECK(size == world_size - 1 && rank == world_rank, "shrunk to rank %d of %d", rank, size);
    MPI_Allreduce(&world_rank, &sum, 1, MPI_INT, MPI_SUM, shrunk);
    CHECK(sum == (world_size - 1) * (world_size - 2) / 2, "the survivors' ranks sum to %d", sum);
    if (world_rank == 0) {
        int untouched = 1;
        for (int i = 0; i < LARGE; i++) untouched &= large[i] == -7;
        CHECK(untouched, "the receive buffer changed after MPI_Sendrecv had returned");
    }
    free(large);
    MPI_Reduce(&errors, &total, 1, MPI_INT, MPI_SUM, 0, shrunk);
    if (rank == 0 && total == 0) printf(" No Errors\n");
    MPI_Group_free(&acked);
    MPI_Group_free(&world_group);
    MPI_Comm_free(&shrunk);
    MPI_Finalize();
    return 0;
}
