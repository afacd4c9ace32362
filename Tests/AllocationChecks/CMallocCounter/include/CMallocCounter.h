// Counts heap allocations, per thread, in the process it is linked into, for allocation-count tests.
// Linking this target into an executable interposes malloc, calloc, realloc, the aligned forms and
// free (the executable's definitions win over glibc's for every library); each forwards to glibc's
// __libc_* implementation.
#ifndef CMALLOC_COUNTER_H
#define CMALLOC_COUNTER_H
#include <stdint.h>

/// 1 when allocations are counted; 0 in a sanitizer build, where the sanitizer owns malloc.
int malloc_counter_available(void);

/// The number of allocation calls (malloc, calloc, realloc, aligned) the calling thread made so far.
uint64_t malloc_counter_allocations(void);

#endif
