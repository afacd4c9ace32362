/* MPI_THREAD_MULTIPLE from C: several threads of each rank call MPI at once.
 *
 * Each rank starts THREADS threads after MPI_Init_thread(MPI_THREAD_MULTIPLE). Every thread, on its
 * own tags and its own duplicate of MPI_COMM_WORLD, exchanges messages with the next and previous
 * rank (blocking, nonblocking, small and 1 MiB), runs collectives on its communicator, and meanwhile
 * makes and frees the C interface's objects (datatypes, info objects, attribute keys and values —
 * on its own communicator, on its duplicates through a copy callback, and on MPI_COMM_WORLD, which
 * every thread changes at once —, requests, added error classes, codes and strings) so that the
 * C interface's state changes under every thread at once. A generalized
 * request is completed by one thread while another waits for it. Every received value is checked;
 * rank 0 prints " No Errors" (as MPICH's tests do) when no rank found a mismatch.
 *
 * Built by CInterfaceTests with swiftmpicc -pthread and with MPICH's mpicc.mpich -pthread; runs at
 * 1 rank (each thread talks to itself) and more. */
#include <mpi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define THREADS 4
#define ROUNDS 200
#define SMALL 64
#define LARGE (1 << 20)

static int rank, size;
static MPI_Comm comms[THREADS];
static int errors[THREADS];

#define CHECK(thread, condition, ...)                                                   \
    do {                                                                               \
        if (!(condition)) {                                                            \
            errors[thread]++;                                                          \
            if (errors[thread] < 5) {                                                  \
                fprintf(stderr, "rank %d thread %d: line %d: ", rank, thread, __LINE__); \
                fprintf(stderr, __VA_ARGS__);                                          \
                fprintf(stderr, "\n");                                                 \
            }                                                                          \
        }                                                                              \
    } while (0)

static int copies[THREADS];

/* Copies the value (the address of the thread's mark) and counts the copy for that thread. */
static int copyAttribute(MPI_Comm comm, int keyval, void *extra, void *in, void *out, int *flag) {
    (void)comm, (void)keyval, (void)extra;
    *(void **)out = in;
    *flag = 1;
    copies[*(int *)in]++;
    return MPI_SUCCESS;
}

/* The objects of the C interface, made, used and freed by one thread while the others do the same. */
static void churnObjects(int thread, int round) {
    MPI_Datatype vector;
    MPI_Type_vector(3, 2, 4, MPI_INT, &vector);
    MPI_Type_commit(&vector);
    int typeSize = 0;
    MPI_Type_size(vector, &typeSize);
    CHECK(thread, typeSize == 6 * (int)sizeof(int), "vector size %d", typeSize);
    char name[MPI_MAX_OBJECT_NAME];
    snprintf(name, sizeof name, "t%d-r%d", thread, round);
    MPI_Type_set_name(vector, name);
    char back[MPI_MAX_OBJECT_NAME];
    int length = 0;
    MPI_Type_get_name(vector, back, &length);
    CHECK(thread, strcmp(name, back) == 0, "type name %s, not %s", back, name);
    MPI_Type_free(&vector);
    CHECK(thread, vector == MPI_DATATYPE_NULL, "freed type not null");

    MPI_Info info;
    MPI_Info_create(&info);
    char value[32];
    snprintf(value, sizeof value, "%d", thread * 1000 + round);
    MPI_Info_set(info, "key", value);
    char got[32] = "";
    int flag = 0;
    MPI_Info_get(info, "key", sizeof got - 1, got, &flag);
    CHECK(thread, flag && strcmp(got, value) == 0, "info value %s, not %s", got, value);
    MPI_Info_free(&info);

    /* A value on this thread's communicator, carried to a duplicate by the copy callback. */
    static int marks[THREADS] = {0, 1, 2, 3};
    int keyval;
    MPI_Comm_create_keyval(copyAttribute, MPI_COMM_NULL_DELETE_FN, &keyval, NULL);
    CHECK(thread, MPI_Comm_set_attr(comms[thread], keyval, &marks[thread]) == MPI_SUCCESS, "MPI_Comm_set_attr failed");
    void *stored = NULL;
    MPI_Comm_get_attr(comms[thread], keyval, &stored, &flag);
    CHECK(thread, flag && stored == &marks[thread], "attribute not found");
    int copiesBefore = copies[thread];
    MPI_Comm duplicate;
    CHECK(thread, MPI_Comm_dup(comms[thread], &duplicate) == MPI_SUCCESS, "MPI_Comm_dup failed");
    stored = NULL;
    MPI_Comm_get_attr(duplicate, keyval, &stored, &flag);
    CHECK(thread, flag && stored == &marks[thread] && copies[thread] == copiesBefore + 1, "the duplicate's attribute: flag %d, copies %d", flag,
          copies[thread] - copiesBefore);
    MPI_Comm_free(&duplicate);
    MPI_Comm_delete_attr(comms[thread], keyval);
    MPI_Comm_get_attr(comms[thread], keyval, &stored, &flag);
    CHECK(thread, !flag, "a deleted attribute is still there");

    /* A value on MPI_COMM_WORLD, which the other threads change at the same time. */
    CHECK(thread, MPI_Comm_set_attr(MPI_COMM_WORLD, keyval, &marks[thread]) == MPI_SUCCESS, "MPI_Comm_set_attr on the world failed");
    MPI_Comm_get_attr(MPI_COMM_WORLD, keyval, &stored, &flag);
    CHECK(thread, flag && stored == &marks[thread], "the world's attribute not found");
    MPI_Comm_delete_attr(MPI_COMM_WORLD, keyval);
    MPI_Comm_free_keyval(&keyval);

    /* An error answered through MPI_ERRORS_RETURN, its text kept. */
    int code = MPI_Send(NULL, 0, MPI_INT, size + thread, 0, comms[thread]);
    int errorClass = MPI_SUCCESS;
    MPI_Error_class(code, &errorClass);
    CHECK(thread, errorClass == MPI_ERR_RANK, "send to rank %d: class %d", size + thread, errorClass);
    char text[MPI_MAX_ERROR_STRING];
    MPI_Error_string(code, text, &length);
    char success[MPI_MAX_ERROR_STRING];
    int successLength = 0;
    MPI_Error_string(MPI_SUCCESS, success, &successLength);
    CHECK(thread, length > 0 && strcmp(text, success) != 0, "error string \"%s\"", text);

    /* An error class and code of the program's own, with its string. */
    int addedClass, addedCode;
    MPI_Add_error_class(&addedClass);
    MPI_Add_error_code(addedClass, &addedCode);
    char message[64];
    snprintf(message, sizeof message, "thread %d round %d", thread, round);
    MPI_Add_error_string(addedCode, message);
    MPI_Error_string(addedCode, text, &length);
    MPI_Error_class(addedCode, &errorClass);
    CHECK(thread, strcmp(text, message) == 0 && errorClass == addedClass, "added code %d: string %s, class %d (not %d)", addedCode, text, errorClass,
          addedClass);
}

static void *work(void *argument) {
    int thread = (int)(long)argument;
    MPI_Comm comm = comms[thread];
    int next = (rank + 1) % size, previous = (rank + size - 1) % size;
    int *out = malloc(LARGE), *in = malloc(LARGE);
    int isMain = 1;
    MPI_Is_thread_main(&isMain);
    CHECK(thread, !isMain, "MPI_Is_thread_main is true in a thread the program started");
    for (int round = 0; round < ROUNDS; round++) {
        /* Blocking, on MPI_COMM_WORLD with this thread's tag. */
        for (int i = 0; i < SMALL; i++) out[i] = rank * 1000000 + thread * 10000 + round * 10 + i % 10;
        MPI_Status status;
        MPI_Sendrecv(out, SMALL, MPI_INT, next, thread, in, SMALL, MPI_INT, previous, thread, MPI_COMM_WORLD, &status);
        for (int i = 0; i < SMALL; i++) {
            int expected = previous * 1000000 + thread * 10000 + round * 10 + i % 10;
            if (in[i] != expected) {
                CHECK(thread, 0, "round %d: sendrecv element %d is %d, not %d", round, i, in[i], expected);
                break;
            }
        }
        CHECK(thread, status.MPI_SOURCE == previous && status.MPI_TAG == thread, "sendrecv status %d/%d", status.MPI_SOURCE, status.MPI_TAG);

        /* Nonblocking on this thread's communicator; 1 MiB every 20 rounds (the single-copy path). */
        int count = round % 20 == 0 ? LARGE / (int)sizeof(int) : SMALL;
        for (int i = 0; i < count; i++) out[i] = thread + round + i;
        MPI_Request requests[2];
        MPI_Status statuses[2];
        int codes[3];
        codes[0] = MPI_Irecv(in, count, MPI_INT, previous, round, comm, &requests[0]);
        codes[1] = MPI_Isend(out, count, MPI_INT, next, round, comm, &requests[1]);
        codes[2] = MPI_Waitall(2, requests, statuses);
        CHECK(thread, codes[0] == MPI_SUCCESS && codes[1] == MPI_SUCCESS && codes[2] == MPI_SUCCESS, "round %d: irecv %d, isend %d, waitall %d", round,
              codes[0], codes[1], codes[2]);
        CHECK(thread, statuses[0].MPI_SOURCE == previous && statuses[0].MPI_TAG == round, "irecv status %d/%d", statuses[0].MPI_SOURCE,
              statuses[0].MPI_TAG);
        for (int i = 0; i < count; i++) {
            if (in[i] != thread + round + i) {
                CHECK(thread, 0, "round %d: isend element %d is %d, not %d", round, i, in[i], thread + round + i);
                break;
            }
        }

        /* A collective on this thread's communicator, while the other threads run theirs. */
        int mine = thread + round + 1, sum = 0;
        int code = MPI_Allreduce(&mine, &sum, 1, MPI_INT, MPI_SUM, comm);
        CHECK(thread, code == MPI_SUCCESS && sum == size * mine, "round %d: allreduce code %d, sum %d, not %d", round, code, sum, size * mine);

        if (round % 10 == 0) churnObjects(thread, round);
    }
    free(out);
    free(in);
    return NULL;
}

static int queried;
static int queryGeneralized(void *extra, MPI_Status *status) {
    (void)extra;
    queried++;
    MPI_Status_set_elements(status, MPI_BYTE, 0);
    MPI_Status_set_cancelled(status, 0);
    status->MPI_SOURCE = MPI_UNDEFINED;
    status->MPI_TAG = MPI_UNDEFINED;
    return MPI_SUCCESS;
}
static int freeGeneralized(void *extra) { (void)extra; return MPI_SUCCESS; }
static int cancelGeneralized(void *extra, int complete) { (void)extra, (void)complete; return MPI_SUCCESS; }

static void *completeLater(void *argument) {
    MPI_Request request = *(MPI_Request *)argument;
    struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, NULL);
    MPI_Grequest_complete(request);
    return NULL;
}

int main(int argc, char **argv) {
    int provided = -1;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int failures = 0;
    if (provided != MPI_THREAD_MULTIPLE) {
        fprintf(stderr, "rank %d: provided thread level %d, not MPI_THREAD_MULTIPLE (%d)\n", rank, provided, MPI_THREAD_MULTIPLE);
        failures++;
    }
    int queriedLevel = -1, isMain = 0;
    MPI_Query_thread(&queriedLevel);
    MPI_Is_thread_main(&isMain);
    if (queriedLevel != MPI_THREAD_MULTIPLE || !isMain) {
        fprintf(stderr, "rank %d: MPI_Query_thread %d, MPI_Is_thread_main %d\n", rank, queriedLevel, isMain);
        failures++;
    }
    /* Communicators are made in the same order on every rank, before the threads start. */
    for (int t = 0; t < THREADS; t++) {
        MPI_Comm_dup(MPI_COMM_WORLD, &comms[t]);
        MPI_Comm_set_errhandler(comms[t], MPI_ERRORS_RETURN);
    }

    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) pthread_create(&threads[t], NULL, work, (void *)(long)t);

    /* Meanwhile: a generalized request another thread completes while this one waits for it. */
    MPI_Request generalized;
    MPI_Grequest_start(queryGeneralized, freeGeneralized, cancelGeneralized, NULL, &generalized);
    pthread_t completer;
    pthread_create(&completer, NULL, completeLater, &generalized);
    MPI_Status status;
    int code = MPI_Wait(&generalized, &status);
    pthread_join(completer, NULL);
    if (code != MPI_SUCCESS || generalized != MPI_REQUEST_NULL || queried != 1) {
        fprintf(stderr, "rank %d: generalized request: code %d, handle null %d, queried %d\n", rank, code, generalized == MPI_REQUEST_NULL, queried);
        failures++;
    }

    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        failures += errors[t];
    }
    for (int t = 0; t < THREADS; t++) MPI_Comm_free(&comms[t]);
    int total = 0;
    MPI_Reduce(&failures, &total, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        if (total == 0)
            printf(" No Errors\n");
        else
            printf(" Found %d errors\n", total);
    }
    MPI_Finalize();
    return total == 0 ? 0 : 1;
}
