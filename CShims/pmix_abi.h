// The parts of the PMIx ABI that CShims/pmix.c uses, declared under names of our own (see pmix.c).
// Checked against <pmix_common.h> by Tests/Scripts/pmix-abi-check.c.
#ifndef CSHIMS_PMIX_ABI_H
#define CSHIMS_PMIX_ABI_H
#include <stddef.h>
#include <stdint.h>

enum {
    PMIX_OK = 0,
    PMIX_TYPE_BOOL = 1,
    PMIX_TYPE_STRING = 3,
    PMIX_TYPE_UINT16 = 13,
    PMIX_TYPE_UINT32 = 14,
    PMIX_TYPE_UINT64 = 15,
    PMIX_TYPE_BYTE_OBJECT = 27,
    PMIX_TYPE_PROC_RANK = 40,
    PMIX_SCOPE_GLOBAL = 3,
    PMIX_STATUS_TIMEOUT = -24,      // PMIX_ERR_TIMEOUT
    PMIX_STATUS_NOT_FOUND = -46,    // PMIX_ERR_NOT_FOUND
};
#define PMIX_RANK_WILDCARD_VALUE (UINT32_MAX - 1)

typedef struct {
    char nspace[256];
    uint32_t rank;
} pmix_proc;

typedef struct {
    uint16_t type;
    union {
        _Bool flag;
        char *string;
        uint16_t uint16;
        uint32_t uint32;
        uint64_t uint64;
        struct {
            char *bytes;
            size_t size;
        } bo;
        char largest[24];  // pmix_envar_t
    } data;
} pmix_value;

typedef struct {
    char key[512];
    uint32_t flags;
    pmix_value value;
} pmix_info;

#endif
