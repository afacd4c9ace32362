// Element-wise sums (target[i] += origin[i]) with the widest vector unit the CPU has: one-sided
// accumulates of the common types. The same loop compiled three times (baseline x86-64, AVX2,
// AVX-512) and chosen once at run time; elsewhere only the portable loop.
#include "CShims.h"

#include <stddef.h>
#include <stdint.h>

#define SUM_LOOP(type) \
    for (size_t i = 0; i < count; i++) target[i] = (type)(target[i] + origin[i]);

#define SUM_FUNCTIONS(name, type) \
    static void name##_portable(type *target, const type *origin, size_t count) { SUM_LOOP(type) }

#define SUM_FUNCTIONS_X86(name, type) \
    __attribute__((target("avx2"))) static void name##_avx2(type *target, const type *origin, size_t count) { SUM_LOOP(type) } \
    __attribute__((target("avx512f,avx512bw"))) static void name##_avx512(type *target, const type *origin, size_t count) { SUM_LOOP(type) }

// Unsigned arithmetic for the integers: a signed sum wraps (two's complement), as the Swift kernels'.
SUM_FUNCTIONS(sum_u8, uint8_t)
SUM_FUNCTIONS(sum_u16, uint16_t)
SUM_FUNCTIONS(sum_u32, uint32_t)
SUM_FUNCTIONS(sum_u64, uint64_t)
SUM_FUNCTIONS(sum_f32, float)
SUM_FUNCTIONS(sum_f64, double)

#if defined(__x86_64__)
SUM_FUNCTIONS_X86(sum_u8, uint8_t)
SUM_FUNCTIONS_X86(sum_u16, uint16_t)
SUM_FUNCTIONS_X86(sum_u32, uint32_t)
SUM_FUNCTIONS_X86(sum_u64, uint64_t)
SUM_FUNCTIONS_X86(sum_f32, float)
SUM_FUNCTIONS_X86(sum_f64, double)

/// 2: AVX-512F, 1: AVX2, 0: neither (asked once).
static int vector_level(void) {
    static int level = -1;
    if (level < 0) {
        __builtin_cpu_init();
        level = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") ? 2 : __builtin_cpu_supports("avx2") ? 1 : 0;
    }
    return level;
}
#define DISPATCH(name)                                                   \
    switch (vector_level()) {                                            \
    case 2: name##_avx512(target, origin, count); return;                \
    case 1: name##_avx2(target, origin, count); return;                  \
    default: name##_portable(target, origin, count); return;             \
    }
#else
#define DISPATCH(name) name##_portable(target, origin, count);
#endif

void cshims_sum_u8(uint8_t *target, const uint8_t *origin, size_t count) { DISPATCH(sum_u8) }
void cshims_sum_u16(uint16_t *target, const uint16_t *origin, size_t count) { DISPATCH(sum_u16) }
void cshims_sum_u32(uint32_t *target, const uint32_t *origin, size_t count) { DISPATCH(sum_u32) }
void cshims_sum_u64(uint64_t *target, const uint64_t *origin, size_t count) { DISPATCH(sum_u64) }
void cshims_sum_f32(float *target, const float *origin, size_t count) { DISPATCH(sum_f32) }
void cshims_sum_f64(double *target, const double *origin, size_t count) { DISPATCH(sum_f64) }
