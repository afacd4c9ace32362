/* MPI-1's deprecated names (removed from the standard in MPI-3, still exported by MPICH and used by
   older programs) and two MPI-4 conveniences, each over the modern call it is defined by. Each PMPI_X
   here is SwiftMPI's implementation; CMPI/profiling.c makes MPI_X call it. An error is reported
   through the error handler by the modern call, under the modern call's name. */
#include "mpi.h"

int PMPI_Keyval_create(MPI_Copy_function *copy_fn, MPI_Delete_function *delete_fn, int *keyval, void *extra_state) {
    return PMPI_Comm_create_keyval(copy_fn, delete_fn, keyval, extra_state);
}

int PMPI_Keyval_free(int *keyval) { return PMPI_Comm_free_keyval(keyval); }

int PMPI_Attr_put(MPI_Comm comm, int keyval, void *attribute_val) { return PMPI_Comm_set_attr(comm, keyval, attribute_val); }

int PMPI_Attr_get(MPI_Comm comm, int keyval, void *attribute_val, int *flag) {
    return PMPI_Comm_get_attr(comm, keyval, attribute_val, flag);
}

int PMPI_Attr_delete(MPI_Comm comm, int keyval) { return PMPI_Comm_delete_attr(comm, keyval); }

int PMPI_Errhandler_create(MPI_Comm_errhandler_function *comm_errhandler_fn, MPI_Errhandler *errhandler) {
    return PMPI_Comm_create_errhandler(comm_errhandler_fn, errhandler);
}

int PMPI_Errhandler_set(MPI_Comm comm, MPI_Errhandler errhandler) { return PMPI_Comm_set_errhandler(comm, errhandler); }

int PMPI_Errhandler_get(MPI_Comm comm, MPI_Errhandler *errhandler) { return PMPI_Comm_get_errhandler(comm, errhandler); }

int PMPI_Address(void *location, MPI_Aint *address) { return PMPI_Get_address(location, address); }

int PMPI_Type_extent(MPI_Datatype datatype, MPI_Aint *extent) {
    MPI_Aint lb;
    return PMPI_Type_get_extent(datatype, &lb, extent);
}

int PMPI_Type_lb(MPI_Datatype datatype, MPI_Aint *displacement) {
    MPI_Aint extent;
    return PMPI_Type_get_extent(datatype, displacement, &extent);
}

int PMPI_Type_ub(MPI_Datatype datatype, MPI_Aint *displacement) {
    MPI_Aint lb, extent;
    if (displacement == NULL) return PMPI_Type_get_extent(datatype, NULL, &extent); /* MPI_ERR_ARG, through the handler */
    int error = PMPI_Type_get_extent(datatype, &lb, &extent);
    if (error == MPI_SUCCESS) *displacement = lb + extent;
    return error;
}

int PMPI_Type_hindexed(int count, int array_of_blocklengths[], MPI_Aint array_of_displacements[], MPI_Datatype oldtype,
                       MPI_Datatype *newtype) {
    return PMPI_Type_create_hindexed(count, array_of_blocklengths, array_of_displacements, oldtype, newtype);
}

int PMPI_Type_hvector(int count, int blocklength, MPI_Aint stride, MPI_Datatype oldtype, MPI_Datatype *newtype) {
    return PMPI_Type_create_hvector(count, blocklength, stride, oldtype, newtype);
}

int PMPI_Type_struct(int count, int array_of_blocklengths[], MPI_Aint array_of_displacements[], MPI_Datatype array_of_types[],
                     MPI_Datatype *newtype) {
    return PMPI_Type_create_struct(count, array_of_blocklengths, array_of_displacements, array_of_types, newtype);
}

int PMPI_Status_set_elements(MPI_Status *status, MPI_Datatype datatype, int count) {
    return PMPI_Status_set_elements_x(status, datatype, count);
}

/* MPI-4.0: *buflen in: the buffer's size with its terminating zero; out: the value's length + 1. A
   value longer than the buffer is cut to *buflen - 1 characters (the standard's rule). */
int PMPI_Info_get_string(MPI_Info info, const char *key, int *buflen, char *value, int *flag) {
    int length;
    int error = PMPI_Info_get_valuelen(info, key, &length, flag);
    if (error != MPI_SUCCESS || !*flag) return error;
    if (*buflen > 0) {
        error = PMPI_Info_get(info, key, *buflen - 1, value, flag);
        if (error != MPI_SUCCESS) return error;
    }
    *buflen = length + 1;
    return MPI_SUCCESS;
}
