/* What SwiftMPI's Swift side of the C interface needs from CMPI beyond mpi.h. Not part of MPI:
   C programs have no reason to include it. */
#ifndef SWIFTMPI_CMPI_H
#define SWIFTMPI_CMPI_H

#include "mpi.h"

/* 1 when `status` is MPI_F_STATUS_IGNORE or MPI_F_STATUSES_IGNORE (their current values: MPICH's ABI
   makes them writable data, which Swift 6 cannot read directly), else 0. */
int MPIR_SwiftMPI_F_status_ignored(const MPI_Fint *status);

#endif
