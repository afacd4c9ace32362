// Compile-time proof that CShims/pmix_abi.h matches the installed PMIx headers (CI compiles this with
// -I/usr/lib/x86_64-linux-gnu/pmix2/include; a mismatch is a compile error).
#include <pmix_common.h>
#include <stddef.h>
#include "../../CShims/pmix_abi.h"

_Static_assert(sizeof(pmix_proc) == sizeof(pmix_proc_t), "pmix_proc_t size");
_Static_assert(offsetof(pmix_proc, rank) == offsetof(pmix_proc_t, rank), "pmix_proc_t.rank");
_Static_assert(sizeof(pmix_value) == sizeof(pmix_value_t), "pmix_value_t size");
_Static_assert(offsetof(pmix_value, data) == offsetof(pmix_value_t, data), "pmix_value_t.data");
_Static_assert(offsetof(pmix_value, data.bo.size) == offsetof(pmix_value_t, data.bo.size), "byte object size");
_Static_assert(sizeof(pmix_info) == sizeof(pmix_info_t), "pmix_info_t size");
_Static_assert(offsetof(pmix_info, flags) == offsetof(pmix_info_t, flags), "pmix_info_t.flags");
_Static_assert(offsetof(pmix_info, value) == offsetof(pmix_info_t, value), "pmix_info_t.value");
_Static_assert(PMIX_TYPE_BOOL == PMIX_BOOL, "PMIX_BOOL");
_Static_assert(PMIX_OK == PMIX_SUCCESS, "PMIX_SUCCESS");
_Static_assert(PMIX_TYPE_STRING == PMIX_STRING && PMIX_TYPE_UINT16 == PMIX_UINT16 && PMIX_TYPE_UINT32 == PMIX_UINT32
               && PMIX_TYPE_UINT64 == PMIX_UINT64 && PMIX_TYPE_BYTE_OBJECT == PMIX_BYTE_OBJECT
               && PMIX_TYPE_PROC_RANK == PMIX_PROC_RANK, "data types");
_Static_assert(PMIX_SCOPE_GLOBAL == PMIX_GLOBAL, "PMIX_GLOBAL");
_Static_assert(PMIX_STATUS_TIMEOUT == PMIX_ERR_TIMEOUT && PMIX_STATUS_NOT_FOUND == PMIX_ERR_NOT_FOUND, "error statuses");
_Static_assert(PMIX_RANK_WILDCARD_VALUE == PMIX_RANK_WILDCARD, "PMIX_RANK_WILDCARD");
