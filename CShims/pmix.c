// PMIx, loaded at run time.
//
// libpmix.so.2 is opened with dlopen, so SwiftMPI builds and runs where it is absent. Debian keeps the
// PMIx headers outside the default include path, so the few ABI types used here are declared below,
// following pmix_common.h (their layout has been stable since PMIx 2), in pmix_abi.h; CI compiles
// Tests/Scripts/pmix-abi-check.c against the real header to prove they match.
#define _GNU_SOURCE
#include "CShims.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmix_abi.h"

static struct {
    void *library;
    int (*init)(pmix_proc *, void *, size_t);
    int (*finalize)(const void *, size_t);
    int (*abort)(int, const char *, pmix_proc *, size_t);
    int (*put)(uint8_t, const char *, pmix_value *);
    int (*commit)(void);
    int (*fence)(const pmix_proc *, size_t, const void *, size_t);
    int (*get)(const pmix_proc *, const char *, const void *, size_t, pmix_value **);
    void (*value_destruct)(pmix_value *);
    const char *(*error_string)(int);
    pmix_proc self;
    int load_error;
    char load_reason[256];
} pmix;

static pthread_once_t pmix_once = PTHREAD_ONCE_INIT;

// Looks up `symbol` in libpmix into `*field`; when it is missing, records why the load failed.
static bool lookup(void **field, const char *symbol) {
    *field = dlsym(pmix.library, symbol);
    if (*field) return true;
    pmix.load_error = ENOENT;
    snprintf(pmix.load_reason, sizeof pmix.load_reason, "libpmix lacks %s", symbol);
    return false;
}

static void pmix_load_once(void) {
    pmix.library = dlopen("libpmix.so.2", RTLD_NOW | RTLD_GLOBAL);  // its plugins look up its symbols
    if (!pmix.library) {
        pmix.load_error = ENOENT;
        snprintf(pmix.load_reason, sizeof pmix.load_reason, "libpmix not loadable (install libpmix2): %s", dlerror());
        return;
    }
    // Each symbol in turn; the first one missing stops the load with its name as the reason.
    bool found = lookup((void **)&pmix.init, "PMIx_Init") && lookup((void **)&pmix.finalize, "PMIx_Finalize")
        && lookup((void **)&pmix.abort, "PMIx_Abort") && lookup((void **)&pmix.put, "PMIx_Put")
        && lookup((void **)&pmix.commit, "PMIx_Commit") && lookup((void **)&pmix.fence, "PMIx_Fence")
        && lookup((void **)&pmix.get, "PMIx_Get") && lookup((void **)&pmix.value_destruct, "PMIx_Value_destruct")
        && lookup((void **)&pmix.error_string, "PMIx_Error_string");
    (void)found;  // pmix.load_error tells callers
}

/// A pmix_info_t holding a true boolean directive (PMIX_COLLECT_DATA, PMIX_OPTIONAL).
static pmix_info flag(const char *key) {
    pmix_info info;
    memset(&info, 0, sizeof info);
    snprintf(info.key, sizeof info.key, "%s", key);
    info.value.type = PMIX_TYPE_BOOL;
    info.value.data.flag = 1;
    return info;
}

// A failed PMIx call: writes "call: PMIx's text (status)" to `reason` and returns the errno that
// stands for the status (PMIx statuses are not errnos): ENOENT for a key nobody put, ETIMEDOUT for
// a timeout, EIO for any other failure.
static int fail(int status, const char *call, char *reason, size_t reason_length) {
    if (reason && reason_length)
        snprintf(reason, reason_length, "%s: %s (%d)", call, pmix.error_string(status), status);
    switch (status) {
    case PMIX_STATUS_NOT_FOUND: return ENOENT;
    case PMIX_STATUS_TIMEOUT: return ETIMEDOUT;
    default: return EIO;
    }
}

// A PMIx call that reported success but returned no value.
static int no_value(const char *call, char *reason, size_t reason_length) {
    if (reason && reason_length) snprintf(reason, reason_length, "%s: no value", call);
    return EIO;
}

int cshims_pmix_init(char *nspace_out, size_t nspace_length, uint32_t *rank_out, char *reason, size_t reason_length) {
    pthread_once(&pmix_once, pmix_load_once);
    if (pmix.load_error) {
        if (reason && reason_length) snprintf(reason, reason_length, "%s", pmix.load_reason);
        return pmix.load_error;
    }
    int status = pmix.init(&pmix.self, NULL, 0);
    if (status != PMIX_OK) return fail(status, "PMIx_Init", reason, reason_length);
    snprintf(nspace_out, nspace_length, "%s", pmix.self.nspace);
    *rank_out = pmix.self.rank;
    return 0;
}

int cshims_pmix_get_number(int job_level, const char *key, uint64_t *value_out, char *reason, size_t reason_length) {
    pmix_proc proc = pmix.self;
    if (job_level) proc.rank = PMIX_RANK_WILDCARD_VALUE;
    pmix_value *value = NULL;
    int status = pmix.get(&proc, key, NULL, 0, &value);
    if (status != PMIX_OK) return fail(status, key, reason, reason_length);
    if (!value) return no_value(key, reason, reason_length);
    int result = 0;
    switch (value->type) {
    case PMIX_TYPE_UINT16: *value_out = value->data.uint16; break;
    case PMIX_TYPE_UINT32: case PMIX_TYPE_PROC_RANK: *value_out = value->data.uint32; break;
    case PMIX_TYPE_UINT64: *value_out = value->data.uint64; break;
    default:
        if (reason && reason_length) snprintf(reason, reason_length, "%s: unexpected PMIx type %u", key, value->type);
        result = EPROTO;
    }
    pmix.value_destruct(value);
    free(value);
    return result;
}

int cshims_pmix_put(const char *key, const void *bytes, size_t length, char *reason, size_t reason_length) {
    pmix_value value;
    memset(&value, 0, sizeof value);
    value.type = PMIX_TYPE_BYTE_OBJECT;
    value.data.bo.bytes = (char *)bytes;  // copied by PMIx_Put
    value.data.bo.size = length;
    int status = pmix.put(PMIX_SCOPE_GLOBAL, key, &value);
    return status == PMIX_OK ? 0 : fail(status, "PMIx_Put", reason, reason_length);
}

int cshims_pmix_commit_and_fence(char *reason, size_t reason_length) {
    int status = pmix.commit();
    if (status != PMIX_OK) return fail(status, "PMIx_Commit", reason, reason_length);
    pmix_proc all = pmix.self;
    all.rank = PMIX_RANK_WILDCARD_VALUE;
    pmix_info collect = flag("pmix.collect");  // every value to every node now: later gets are local
    status = pmix.fence(&all, 1, &collect, 1);
    return status == PMIX_OK ? 0 : fail(status, "PMIx_Fence", reason, reason_length);
}

int cshims_pmix_get_bytes(uint32_t rank, const char *key, void **bytes_out, size_t *length_out, char *reason, size_t reason_length) {
    *bytes_out = NULL;
    *length_out = 0;
    pmix_proc proc = pmix.self;
    proc.rank = rank;
    pmix_value *value = NULL;
    pmix_info optional = flag("pmix.optional");  // a key nobody put: NOT_FOUND at once, not a wait
    int status = pmix.get(&proc, key, &optional, 1, &value);
    if (status != PMIX_OK) return fail(status, "PMIx_Get", reason, reason_length);
    if (!value) return no_value("PMIx_Get", reason, reason_length);
    int result = 0;
    if (value->type != PMIX_TYPE_BYTE_OBJECT) {
        if (reason && reason_length) snprintf(reason, reason_length, "%s: unexpected PMIx type %u", key, value->type);
        result = EPROTO;
    } else if (!(*bytes_out = malloc(value->data.bo.size ? value->data.bo.size : 1))) {
        if (reason && reason_length) snprintf(reason, reason_length, "%s: no memory for %zu bytes", key, value->data.bo.size);
        result = ENOMEM;
    } else {
        memcpy(*bytes_out, value->data.bo.bytes, value->data.bo.size);
        *length_out = value->data.bo.size;
    }
    pmix.value_destruct(value);
    free(value);
    return result;
}

void cshims_pmix_abort(int code, const char *message) {
    pmix_proc all = pmix.self;
    all.rank = PMIX_RANK_WILDCARD_VALUE;
    pmix.abort(code, message, &all, 1);
}

int cshims_pmix_finalize(char *reason, size_t reason_length) {
    int status = pmix.finalize(NULL, 0);
    return status == PMIX_OK ? 0 : fail(status, "PMIx_Finalize", reason, reason_length);
}
