#define _GNU_SOURCE
#include "CMallocCounter.h"
#include <errno.h>
#include <stddef.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

#if defined(__has_feature)
#  if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#    define CMALLOC_COUNTER_SANITIZED 1
#  endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#  define CMALLOC_COUNTER_SANITIZED 1
#endif

#ifdef CMALLOC_COUNTER_SANITIZED
// A sanitizer owns malloc and free: interposing them too would free its memory with glibc.
int malloc_counter_available(void) { return 0; }
uint64_t malloc_counter_allocations(void) { return 0; }
#else
int malloc_counter_available(void) { return 1; }

// Per thread: what is measured is the calling thread's message path. A rank's helper threads (the
// one that answers the launcher's hang reports starts at MPI.initialize() and may first run, and
// allocate, at any later moment on a busy machine) are not part of it.
static __thread uint64_t allocations;

static inline void count(void) { allocations++; }

uint64_t malloc_counter_allocations(void) { return allocations; }

void *malloc(size_t size) { count(); return __libc_malloc(size); }
void *calloc(size_t n, size_t size) { count(); return __libc_calloc(n, size); }
void *realloc(void *p, size_t size) { count(); return __libc_realloc(p, size); }
void free(void *p) { __libc_free(p); }
void *memalign(size_t alignment, size_t size) { count(); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { count(); return __libc_memalign(alignment, size); }
int posix_memalign(void **out, size_t alignment, size_t size) {
    count();
    void *p = __libc_memalign(alignment, size);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
#endif
