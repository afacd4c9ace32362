/* What SwiftMPI's Swift side of the C interface needs from CMPI beyond mpi.h. Not part of MPI:
   C programs have no reason to include it. */
#ifndef SWIFTMPI_CMPI_H
#define SWIFTMPI_CMPI_H

#include "mpi.h"

/* 1 when `status` is MPI_F_STATUS_IGNORE or MPI_F_STATUSES_IGNORE (their current values: MPICH's ABI
   makes them writable data, which Swift 6 cannot read directly), else 0. */
int MPIR_SwiftMPI_F_status_ignored(const MPI_Fint *status);

/* The first error an attribute callback of the calling thread returned during its current MPI call
   (MPI_SUCCESS when none did): per thread, since at MPI_THREAD_MULTIPLE threads run callbacks at
   once. */
int MPIR_SwiftMPI_callback_error(void);
void MPIR_SwiftMPI_set_callback_error(int error);

#endif
