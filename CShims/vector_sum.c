// Element-wise sums (target[i] += origin[i]) with the widest vector unit the CPU has: one-sided
// accumulates of the common types. The same loop compiled three times (baseline x86-64, AVX2,
// AVX-512) and chosen once at run time; elsewhere only the portable loop.
#include "CShims.h"

#include <stddef.h>
#include <stdint.h>

// The macros below only define whole functions (one per element type); none is a statement with
// control flow of its own (CShims.h).
#define SUM_FUNCTIONS(name, type) \
    static void name##_portable(type *target, const type *origin, size_t count) { \
        for (size_t i = 0; i < count; i++) target[i] = (type)(target[i] + origin[i]); \
    }

#define SUM_FUNCTIONS_X86(name, type) \
    __attribute__((target("avx2"))) static void name##_avx2(type *target, const type *origin, size_t count) { \
        for (size_t i = 0; i < count; i++) target[i] = (type)(target[i] + origin[i]); \
    } \
    __attribute__((target("avx512f,avx512bw"))) static void name##_avx512(type *target, const type *origin, size_t count) { \
        for (size_t i = 0; i < count; i++) target[i] = (type)(target[i] + origin[i]); \
    }

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

/// 2: AVX-512F, 1: AVX2, 0: neither (asked once): the index into each type's table of loops.
static int vector_level(void) {
    static int level = -1;
    if (level < 0) {
        __builtin_cpu_init();
        level = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") ? 2 : __builtin_cpu_supports("avx2") ? 1 : 0;
    }
    return level;
}
#define VARIANTS(name) {name##_portable, name##_avx2, name##_avx512}
#else
static int vector_level(void) { return 0; }
#define VARIANTS(name) {name##_portable}
#endif

static void (*const sum_u8_loops[])(uint8_t *, const uint8_t *, size_t) = VARIANTS(sum_u8);
static void (*const sum_u16_loops[])(uint16_t *, const uint16_t *, size_t) = VARIANTS(sum_u16);
static void (*const sum_u32_loops[])(uint32_t *, const uint32_t *, size_t) = VARIANTS(sum_u32);
static void (*const sum_u64_loops[])(uint64_t *, const uint64_t *, size_t) = VARIANTS(sum_u64);
static void (*const sum_f32_loops[])(float *, const float *, size_t) = VARIANTS(sum_f32);
static void (*const sum_f64_loops[])(double *, const double *, size_t) = VARIANTS(sum_f64);

void cshims_sum_u8(uint8_t *target, const uint8_t *origin, size_t count) { sum_u8_loops[vector_level()](target, origin, count); }
void cshims_sum_u16(uint16_t *target, const uint16_t *origin, size_t count) { sum_u16_loops[vector_level()](target, origin, count); }
void cshims_sum_u32(uint32_t *target, const uint32_t *origin, size_t count) { sum_u32_loops[vector_level()](target, origin, count); }
void cshims_sum_u64(uint64_t *target, const uint64_t *origin, size_t count) { sum_u64_loops[vector_level()](target, origin, count); }
void cshims_sum_f32(float *target, const float *origin, size_t count) { sum_f32_loops[vector_level()](target, origin, count); }
void cshims_sum_f64(double *target, const double *origin, size_t count) { sum_f64_loops[vector_level()](target, origin, count); }
