// A small C library that takes MPI handles, as HDF5 or ScaLAPACK do: the Swift check program
// (Tests/CInterop/Program) calls it with handles of Swift-made objects, and uses in Swift what it
// makes. Every function returns an MPI error code (MPI_SUCCESS = 0).
#ifndef INTEROP_LIBRARY_H
#define INTEROP_LIBRARY_H
#include <mpi.h>

int interop_initialized(int *flag);
int interop_world_size(int *size);
int interop_describe(MPI_Comm comm, int *rank, int *size);
int interop_sum_world_ranks(MPI_Comm comm, long *sum);
int interop_bcast(void *buffer, int count, MPI_Datatype type, int root, MPI_Comm comm);
int interop_allreduce(const double *in, double *out, int count, MPI_Op op, MPI_Comm comm);
int interop_group_first_world_rank(MPI_Group group, int *size, int *world_rank);
int interop_dup(MPI_Comm comm, MPI_Comm *made);
int interop_free(MPI_Comm *comm);
int interop_start_ring(MPI_Comm comm, const int *outgoing, int *incoming, MPI_Request requests[2]);
int interop_wait(MPI_Request *request, int *source);

#endif
