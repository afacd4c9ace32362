/* placement_probe.c -- which vCPU placement the VM is in right now, for Benchmarks/compare.sh.
 *
 *     placement_probe        prints the one-way time, in microseconds, of a cache line passed
 *                            between two threads pinned to the first two allowed CPUs
 *
 * The 2-vCPU VMs these benchmarks run on switch, every few seconds to minutes, between a placement
 * where that takes ~0.03 us (the vCPUs share a core's caches) and one where it takes ~0.16-0.2 us
 * (they share none). Every MPI library's small-message latency and mid-size bandwidth follow it, so
 * compare.sh probes before and after each run and plot.py compares runs of the same placement.
 * 20 000 round trips: 2-12 ms. Plain C and pthreads; no MPI. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { ROUND_TRIPS = 20000 };

static _Alignas(64) atomic_int ball;
static int cpus[2];

static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0) {
        fprintf(stderr, "placement_probe: cannot pin to CPU %d\n", cpu);
        exit(1);
    }
}

static void *partner(void *unused) {
    (void)unused;
    pin(cpus[1]);
    for (int i = 0; i < ROUND_TRIPS; i++) {
        while (atomic_load_explicit(&ball, memory_order_acquire) != 2 * i + 1) {}
        atomic_store_explicit(&ball, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

int main(void) {
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) { perror("placement_probe: sched_getaffinity"); return 1; }
    int found = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && found < 2; cpu++) {
        if (CPU_ISSET(cpu, &allowed)) cpus[found++] = cpu;
    }
    if (found < 2) { fprintf(stderr, "placement_probe: needs two CPUs\n"); return 1; }
    pthread_t thread;
    if (pthread_create(&thread, NULL, partner, NULL) != 0) { fprintf(stderr, "placement_probe: pthread_create failed\n"); return 1; }
    pin(cpus[0]);
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < ROUND_TRIPS; i++) {
        atomic_store_explicit(&ball, 2 * i + 1, memory_order_release);
        while (atomic_load_explicit(&ball, memory_order_acquire) != 2 * i + 2) {}
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    pthread_join(thread, NULL);
    double seconds = (double)(end.tv_sec - start.tv_sec) + 1e-9 * (double)(end.tv_nsec - start.tv_nsec);
    printf("%.3f\n", seconds / ROUND_TRIPS / 2 * 1e6);
    return 0;
}
