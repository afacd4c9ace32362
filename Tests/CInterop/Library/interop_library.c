#include "interop_library.h"

int interop_initialized(int *flag) { return MPI_Initialized(flag); }

int interop_world_size(int *size) { return MPI_Comm_size(MPI_COMM_WORLD, size); }

int interop_describe(MPI_Comm comm, int *rank, int *size) {
    int error = MPI_Comm_rank(comm, rank);
    return error != MPI_SUCCESS ? error : MPI_Comm_size(comm, size);
}

int interop_sum_world_ranks(MPI_Comm comm, long *sum) {
    int world_rank;
    int error = MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    if (error != MPI_SUCCESS) return error;
    long mine = world_rank;
    return MPI_Allreduce(&mine, sum, 1, MPI_LONG, MPI_SUM, comm);
}

int interop_bcast(void *buffer, int count, MPI_Datatype type, int root, MPI_Comm comm) {
    return MPI_Bcast(buffer, count, type, root, comm);
}

int interop_allreduce(const double *in, double *out, int count, MPI_Op op, MPI_Comm comm) {
    return MPI_Allreduce(in, out, count, MPI_DOUBLE, op, comm);
}

int interop_group_first_world_rank(MPI_Group group, int *size, int *world_rank) {
    int error = MPI_Group_size(group, size);
    if (error != MPI_SUCCESS) return error;
    MPI_Group world;
    if ((error = MPI_Comm_group(MPI_COMM_WORLD, &world)) != MPI_SUCCESS) return error;
    int first = 0;
    error = MPI_Group_translate_ranks(group, 1, &first, world, world_rank);
    MPI_Group_free(&world);
    return error;
}

int interop_dup(MPI_Comm comm, MPI_Comm *made) { return MPI_Comm_dup(comm, made); }

int interop_free(MPI_Comm *comm) { return MPI_Comm_free(comm); }

int interop_start_ring(MPI_Comm comm, const int *outgoing, int *incoming, MPI_Request requests[2]) {
    int rank, size, error;
    if ((error = interop_describe(comm, &rank, &size)) != MPI_SUCCESS) return error;
    if ((error = MPI_Irecv(incoming, 1, MPI_INT, (rank + size - 1) % size, 7, comm, &requests[0])) != MPI_SUCCESS) return error;
    return MPI_Isend(outgoing, 1, MPI_INT, (rank + 1) % size, 7, comm, &requests[1]);
}

int interop_wait(MPI_Request *request, int *source) {
    MPI_Status status;
    int error = MPI_Wait(request, &status);
    *source = status.MPI_SOURCE;
    return error;
}
