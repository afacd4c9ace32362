/* MPI's tool information interface (MPI_T) on SwiftMPI, judged with known traffic between 2 ranks
   on one host (Tests/SwiftMPITests/CInterfaceTests.swift builds it with swiftmpicc and runs it):
   control variables read before MPI_Init and written after; per-transport message counters that
   count exactly the messages sent while started; continuous counters (rendezvous sends, unexpected
   arrivals, the unexpected queue) that follow the traffic; and the error codes of misuse.
   Prints " No Errors" on rank 0 when every check passed. */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

static int errors = 0;
#define CHECK(condition) do { if (!(condition)) { errors++; fprintf(stderr, "rank %d: check failed at line %d: %s\n", rank, __LINE__, #condition); } } while (0)

static int pvarIndex(const char *name, int varClass) {
    int index = -1;
    if (MPI_T_pvar_get_index(name, varClass, &index) != MPI_SUCCESS) return -1;
    return index;
}

int main(int argc, char **argv) {
    int rank = -1, provided = -1, count = 0, index = -1, value = 0;
    /* Before MPI_Init: the interface works, and shows the settings the runtime will use. */
    CHECK(MPI_T_cvar_get_num(&count) == MPI_T_ERR_NOT_INITIALIZED);
    CHECK(MPI_T_init_thread(MPI_THREAD_SINGLE, &provided) == MPI_SUCCESS && provided == MPI_THREAD_SINGLE);
    CHECK(MPI_T_cvar_get_num(&count) == MPI_SUCCESS && count >= 5);
    CHECK(MPI_T_cvar_get_index("SWIFTMPI_SINGLE_COPY_THRESHOLD", &index) == MPI_SUCCESS);
    MPI_T_cvar_handle threshold = MPI_T_CVAR_HANDLE_NULL;
    CHECK(MPI_T_cvar_handle_alloc(index, NULL, &threshold, &count) == MPI_SUCCESS && count == 1);
    CHECK(MPI_T_cvar_read(threshold, &value) == MPI_SUCCESS && value == 32768);
    int four = 4096;
    CHECK(MPI_T_cvar_write(threshold, &four) == MPI_T_ERR_CVAR_SET_NOT_NOW);  /* nothing runs yet */

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);

    /* Control variables: the writable one changes; a read-only one refuses. */
    CHECK(MPI_T_cvar_write(threshold, &four) == MPI_SUCCESS);
    CHECK(MPI_T_cvar_read(threshold, &value) == MPI_SUCCESS && value == 4096);
    int transport = -1, verbosity, bind, scope, nameLength = 64, descriptionLength = 0;
    char name[64], text[256];
    MPI_Datatype datatype;
    MPI_T_enum enumtype;
    CHECK(MPI_T_cvar_get_index("SWIFTMPI_TRANSPORT", &transport) == MPI_SUCCESS);
    CHECK(MPI_T_cvar_get_info(transport, name, &nameLength, &verbosity, &datatype, &enumtype, NULL, &descriptionLength, &bind, &scope) == MPI_SUCCESS);
    CHECK(strcmp(name, "SWIFTMPI_TRANSPORT") == 0 && nameLength == (int)strlen(name) + 1 && datatype == MPI_CHAR);
    CHECK(scope == MPI_T_SCOPE_READONLY && bind == MPI_T_BIND_NO_OBJECT && enumtype == MPI_T_ENUM_NULL && descriptionLength > 1);
    MPI_T_cvar_handle transportHandle;
    CHECK(MPI_T_cvar_handle_alloc(transport, NULL, &transportHandle, &count) == MPI_SUCCESS && count == 256);
    CHECK(MPI_T_cvar_read(transportHandle, text) == MPI_SUCCESS && strcmp(text, "auto") == 0);
    CHECK(MPI_T_cvar_write(transportHandle, "tcp") == MPI_T_ERR_CVAR_SET_NEVER);
    CHECK(MPI_T_cvar_handle_free(&transportHandle) == MPI_SUCCESS && transportHandle == MPI_T_CVAR_HANDLE_NULL);
    CHECK(MPI_T_cvar_get_info(999, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL) == MPI_T_ERR_INVALID_INDEX);
    CHECK(MPI_T_cvar_get_index("NO_SUCH_VARIABLE", &index) == MPI_T_ERR_INVALID_NAME);

    /* Per-transport counters: exactly the messages sent while started. */
    MPI_T_pvar_session session;
    CHECK(MPI_T_pvar_session_create(&session) == MPI_SUCCESS);
    int messagesIndex = pvarIndex("swiftmpi_messages_sent_shm", MPI_T_PVAR_CLASS_COUNTER);
    int bytesIndex = pvarIndex("swiftmpi_bytes_sent_shm", MPI_T_PVAR_CLASS_COUNTER);
    CHECK(messagesIndex >= 0 && bytesIndex >= 0);
    CHECK(pvarIndex("swiftmpi_messages_sent_shm", MPI_T_PVAR_CLASS_LEVEL) == -1);  /* the class must match */
    MPI_T_pvar_handle messages, bytes;
    CHECK(MPI_T_pvar_handle_alloc(session, messagesIndex, NULL, &messages, &count) == MPI_SUCCESS && count == 1);
    CHECK(MPI_T_pvar_handle_alloc(session, bytesIndex, NULL, &bytes, &count) == MPI_SUCCESS);
    unsigned long long sent = 99, sentBytes = 99;
    char payload[100] = {0};
    MPI_Barrier(MPI_COMM_WORLD);
    CHECK(MPI_T_pvar_start(session, MPI_T_PVAR_ALL_HANDLES) == MPI_SUCCESS);
    for (int i = 0; i < 10; i++) {
        if (rank == 0) MPI_Send(payload, 100, MPI_CHAR, 1, 5, MPI_COMM_WORLD);
        if (rank == 1) MPI_Recv(payload, 100, MPI_CHAR, 0, 5, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
    CHECK(MPI_T_pvar_stop(session, MPI_T_PVAR_ALL_HANDLES) == MPI_SUCCESS);
    if (rank == 0) MPI_Send(payload, 100, MPI_CHAR, 1, 6, MPI_COMM_WORLD);  /* not counted: stopped */
    if (rank == 1) MPI_Recv(payload, 100, MPI_CHAR, 0, 6, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    CHECK(MPI_T_pvar_read(session, messages, &sent) == MPI_SUCCESS);
    CHECK(MPI_T_pvar_read(session, bytes, &sentBytes) == MPI_SUCCESS);
    CHECK(sent == (rank == 0 ? 10 : 0) && sentBytes == (rank == 0 ? 1000 : 0));
    CHECK(MPI_T_pvar_readreset(session, messages, &sent) == MPI_SUCCESS && MPI_T_pvar_read(session, messages, &sent) == MPI_SUCCESS && sent == 0);
    CHECK(MPI_T_pvar_read(session, MPI_T_PVAR_ALL_HANDLES, &sent) == MPI_T_ERR_INVALID_HANDLE);

    /* Continuous counters. */
    MPI_T_pvar_handle rendezvous, unexpected, length, highWater;
    CHECK(MPI_T_pvar_handle_alloc(session, pvarIndex("swiftmpi_rendezvous_sends", MPI_T_PVAR_CLASS_COUNTER), NULL, &rendezvous, &count) == MPI_SUCCESS);
    CHECK(MPI_T_pvar_handle_alloc(session, pvarIndex("swiftmpi_unexpected_messages", MPI_T_PVAR_CLASS_COUNTER), NULL, &unexpected, &count) == MPI_SUCCESS);
    CHECK(MPI_T_pvar_handle_alloc(session, pvarIndex("swiftmpi_unexpected_queue_length", MPI_T_PVAR_CLASS_LEVEL), NULL, &length, &count) == MPI_SUCCESS);
    CHECK(MPI_T_pvar_handle_alloc(session, pvarIndex("swiftmpi_unexpected_queue_high_water", MPI_T_PVAR_CLASS_HIGHWATERMARK), NULL, &highWater, &count)
          == MPI_SUCCESS);
    CHECK(MPI_T_pvar_start(session, rendezvous) == MPI_T_ERR_PVAR_NO_STARTSTOP);
    CHECK(MPI_T_pvar_reset(session, length) == MPI_T_ERR_PVAR_NO_WRITE);
    static char large[1 << 20];
    if (rank == 0) MPI_Send(large, sizeof large, MPI_CHAR, 1, 7, MPI_COMM_WORLD);
    if (rank == 1) MPI_Recv(large, sizeof large, MPI_CHAR, 0, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    unsigned long long rendezvousSends = 99;
    CHECK(MPI_T_pvar_read(session, rendezvous, &rendezvousSends) == MPI_SUCCESS && rendezvousSends == (rank == 0 ? 1 : 0));
    /* Five messages with tag 8, then one with tag 9 that rank 1 probes for: all six wait unexpected. */
    if (rank == 0) {
        for (int i = 0; i < 5; i++) MPI_Send(payload, 10, MPI_CHAR, 1, 8, MPI_COMM_WORLD);
        MPI_Send(payload, 10, MPI_CHAR, 1, 9, MPI_COMM_WORLD);
    } else if (rank == 1) {
        MPI_Probe(0, 9, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        unsigned long long queued = 0, most = 0, arrived = 0;
        CHECK(MPI_T_pvar_read(session, length, &queued) == MPI_SUCCESS && queued == 6);
        CHECK(MPI_T_pvar_read(session, highWater, &most) == MPI_SUCCESS && most >= 6);
        CHECK(MPI_T_pvar_read(session, unexpected, &arrived) == MPI_SUCCESS && arrived == 6);
        for (int i = 0; i < 5; i++) MPI_Recv(payload, 10, MPI_CHAR, 0, 8, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Recv(payload, 10, MPI_CHAR, 0, 9, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        CHECK(MPI_T_pvar_read(session, length, &queued) == MPI_SUCCESS && queued == 0);
    }
    CHECK(MPI_T_pvar_handle_free(session, &messages) == MPI_SUCCESS && messages == MPI_T_PVAR_HANDLE_NULL);
    CHECK(MPI_T_pvar_read(session, messages, &sent) == MPI_T_ERR_INVALID_HANDLE);
    CHECK(MPI_T_pvar_session_free(&session) == MPI_SUCCESS && session == MPI_T_PVAR_SESSION_NULL);

    /* Categories: one of the settings, one of the counters. */
    int categories = 0, controls = 0, performance = 0, subcategories = -1;
    CHECK(MPI_T_category_get_num(&categories) == MPI_SUCCESS && categories == 2);
    CHECK(MPI_T_category_get_info(0, NULL, NULL, NULL, NULL, &controls, &performance, &subcategories) == MPI_SUCCESS);
    MPI_T_cvar_get_num(&count);
    CHECK(controls == count && performance == 0 && subcategories == 0);

    CHECK(MPI_T_cvar_handle_free(&threshold) == MPI_SUCCESS);
    CHECK(MPI_T_finalize() == MPI_SUCCESS);
    CHECK(MPI_T_cvar_get_num(&count) == MPI_T_ERR_NOT_INITIALIZED);
    int total = 0;
    MPI_Reduce(&errors, &total, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0 && total == 0) printf(" No Errors\n");
    MPI_Finalize();
    return total == 0 ? 0 : 1;
}
