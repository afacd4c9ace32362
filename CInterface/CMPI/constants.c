/* The C interface's predefined objects that are data, not macros (MPICH's ABI exports them). */
#include "mpi.h"
#include "swiftmpi_cmpi.h"

static int unweighted;
static int weightsEmpty;
int * const MPI_UNWEIGHTED = &unweighted;
int * const MPI_WEIGHTS_EMPTY = &weightsEmpty;
/* Fortran's status ignore constants, as seen from C: the addresses of two unused statuses. */
static MPI_Fint fortranStatusIgnore[MPI_F_STATUS_SIZE];
static MPI_Fint fortranStatusesIgnore[MPI_F_STATUS_SIZE];
MPI_Fint *MPI_F_STATUS_IGNORE = fortranStatusIgnore;
MPI_Fint *MPI_F_STATUSES_IGNORE = fortranStatusesIgnore;
MPI_F08_status MPIR_F08_MPI_STATUS_IGNORE_OBJ;
MPI_F08_status MPIR_F08_MPI_STATUSES_IGNORE_OBJ[1];
int MPIR_F08_MPI_IN_PLACE;
int MPIR_F08_MPI_BOTTOM;
MPI_F08_status *MPI_F08_STATUS_IGNORE = &MPIR_F08_MPI_STATUS_IGNORE_OBJ;
MPI_F08_status *MPI_F08_STATUSES_IGNORE = MPIR_F08_MPI_STATUSES_IGNORE_OBJ;

int MPIR_SwiftMPI_F_status_ignored(const MPI_Fint *status) {
    return status == MPI_F_STATUS_IGNORE || status == MPI_F_STATUSES_IGNORE;
}

static _Thread_local int callbackError;
int MPIR_SwiftMPI_callback_error(void) { return callbackError; }
void MPIR_SwiftMPI_set_callback_error(int error) { callbackError = error; }

/* MPI_T_pvar_start/stop/reset with this handle act on every handle of the session. SwiftMPI's
   handles are the numbers 1, 2, ...; this one is the all-ones pointer, never one of them. */
struct MPIR_T_pvar_handle_s * const MPI_T_PVAR_ALL_HANDLES = (struct MPIR_T_pvar_handle_s *)~(unsigned long)0;

/* MPI_COMM_DUP_FN (MPICH's name for it): the copy keeps the same value. */
int MPIR_Dup_fn(MPI_Comm oldcomm, int keyval, void *extra_state, void *attribute_val_in, void *attribute_val_out, int *flag) {
    (void)oldcomm; (void)keyval; (void)extra_state;
    *(void **)attribute_val_out = attribute_val_in;
    *flag = 1;
    return MPI_SUCCESS;
}

/* MPI_Pcontrol: for profiling libraries, which define MPI_Pcontrol themselves; SwiftMPI's does nothing
   (as MPI allows), so the call succeeds. Variadic, so written here rather than generated. */
int PMPI_Pcontrol(const int level, ...) {
    (void)level;
    return MPI_SUCCESS;
}
#pragma weak MPI_Pcontrol = PMPI_Pcontrol
