// CShims: the few operating-system interfaces SwiftMPI needs that Swift cannot call well by itself.
//
// THE RULE: every cshims_ function that can fail returns 0 or a positive errno value, and never
// leaves the caller to read `errno` (Swift may run code of its own, which can change errno, between
// a C call and the caller's next line). Results go through out-parameters. Failures that have no
// errno of their own get the nearest one and a text in a `reason` buffer: a PMIx status (ENOENT for
// a key nobody put, ETIMEDOUT, else EIO), a verbs completion queue that fails (EIO). Swift callers
// check with `SystemCallError.check("name", cshims_...(...))` (SwiftMPIWireup/SystemCall.swift).
// The only functions that return something else cannot fail: the inline atomics and copy helpers,
// cshims_cycle_count, cshims_cpu_relax, cshims_verbs_compiled_in, cshims_verbs_max_message,
// cshims_verbs_status_text, and the release functions that return nothing (cshims_name_guard_end,
// cshims_verbs_close, cshims_verbs_destroy_qp, cshims_verbs_deregister, cshims_pmix_abort).
// No macro here or in CShims/*.c is a statement with control flow of its own (the few there are define
// whole functions).
//
// Policy-free: each function does one system-level job. Symbols carry the `cshims_` prefix so that
// they can never collide with a user's C code.
//
// Why each shim exists:
//  - process spawning: the child side of fork() must run only async-signal-safe code (the parent may
//    have threads); it sets the process group, the parent-death signal, the CPU binding and the signal
//    mask before execve, which posix_spawn cannot all do.
//  - Cross Memory Attach: process_vm_readv/writev are not exported by Glibc's Swift overlay.
//  - verbs: libibverbs is loaded with dlopen so that binaries run where rdma-core is absent; the
//    package builds without its headers (`__has_include`).
//  - NUMA: libnuma is loaded with dlopen for the same reason; sysfs is the fallback.
#ifndef CSHIMS_H
#define CSHIMS_H

#include <stddef.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <x86intrin.h>
#endif
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - Processes and CPU affinity

/// A CPU affinity mask (1024 CPUs, as glibc's cpu_set_t), opaque to Swift.
typedef struct { uint64_t words[16]; } cshims_cpu_mask;

/// Starts `path` as a new process with `argv` and `envp` (NULL-terminated arrays).
/// The child gets `in_fd`, `out_fd` and `err_fd` as its standard streams (and `status_fd`, unless -1,
/// as descriptor 3), becomes the leader of a new
/// process group, receives `parent_death_signal` (0 = none) when its parent dies, runs with an empty
/// signal mask and default dispositions for the signals a launcher ignores, forwards or may catch
/// (process.c lists them; the caller must catch no other signal with a handler), and is bound to
/// the CPUs of `cpus` when it is not NULL (NULL: the caller's affinity, which a launcher that holds
/// itself on one CPU while it starts ranks must not pass on: it passes its own saved mask instead),
/// and starts in `directory` when it is not NULL.
/// Returns 0 and the child's pid in `*pid_out`, or the errno of the failed vfork, set-up or execve
/// (reported by the child through a close-on-exec pipe: a missing program is an error here, not an
/// exit status later).
int cshims_spawn(const char *path, char *const argv[], char *const envp[],
                 int in_fd, int out_fd, int err_fd, int status_fd, const cshims_cpu_mask *cpus,
                 const char *directory, int parent_death_signal, pid_t *pid_out);

/// Guards a shared-memory name while wire-up runs: if this process was started with a parent-death
/// signal (as swiftmpirun starts ranks, with SIGKILL), it becomes SIGTERM until
/// ``cshims_name_guard_end``, and SIGTERM (the parent's death, or a forwarded signal) removes the
/// name `shm_name` (shm_unlink, async-signal-safe) and exits with status 128+15. Without a
/// parent-death signal nothing changes. Returns 0 or an errno.
int cshims_name_guard_begin(const char *shm_name);

/// Ends the guard: SIGTERM's previous action and the previous parent-death signal come back.
void cshims_name_guard_end(void);

/// Writes the CPUs this process may run on (ascending) into `cpus` (up to `capacity`) and their
/// number into `*count_out`. Returns 0 or an errno.
int cshims_allowed_cpus(int *cpus, int capacity, int *count_out);

/// Binds the calling thread to `cpu`. Returns 0 or an errno.
int cshims_bind_to_cpu(int cpu);

/// The CPU the calling thread runs on now (sched_getcpu, a GNU extension), in `*cpu_out`. Returns
/// 0 or an errno.
int cshims_current_cpu(int *cpu_out);


/// The calling thread's affinity. Returns 0 or an errno.
int cshims_affinity_get(cshims_cpu_mask *mask);

/// Sets the calling thread's affinity. Returns 0 or an errno.
int cshims_affinity_set(const cshims_cpu_mask *mask);

// MARK: - Sockets and randomness

/// The process and user ids of the peer of a connected Unix socket, as they were when it connected
/// (SO_PEERCRED, which needs _GNU_SOURCE and so is not visible to Swift). Returns 0 or an errno.
int cshims_socket_peer_credentials(int fd, pid_t *pid_out, uid_t *uid_out);

/// Creates a pipe whose both ends are close-on-exec (pipe2 needs _GNU_SOURCE). Returns 0 or an errno.
int cshims_pipe_cloexec(int fds[2]);

/// Accepts one connection on a listening socket; the new descriptor is close-on-exec and nonblocking
/// (accept4). Returns 0 and the descriptor, or an errno (EAGAIN when none is pending).
int cshims_accept_nonblocking(int listen_fd, int *fd_out);

/// Blocks `signals` for the calling thread and returns a nonblocking, close-on-exec signalfd that
/// reports them. Returns 0 or an errno.
int cshims_signalfd_open(const int *signals, int count, int *fd_out);

/// Reads one pending signal number from a signalfd. Returns 0, EAGAIN when none is pending, or an errno.
int cshims_signalfd_read(int fd, int *signal_out);

/// Flushes the C library's standard output and makes it line-buffered (setvbuf _IOLBF; the `stdout`
/// global is not visible to Swift 6 code). Returns 0 or an errno.
int cshims_stdout_line_buffered(void);

/// Fills `buffer` with `length` bytes from the kernel's random source (getrandom, retrying EINTR and
/// short reads). Returns 0 or an errno.
int cshims_random_bytes(void *buffer, size_t length);

/// Takes (`type` F_RDLCK or F_WRLCK) or releases (F_UNLCK) the POSIX byte-range lock on `length`
/// bytes of `fd` from `start` (fcntl F_SETLKW: waits for conflicting locks of other processes,
/// retrying EINTR). Returns 0 or an errno.
int cshims_lock_range(int fd, int type, long long start, long long length);

// MARK: - Shared-memory segments and atomics

/// Creates the shared-memory segment `name` ("/swiftmpi-..."; O_EXCL, mode 0600 so only the job's user
/// can open it), sizes it to `size` bytes, maps it read-write and zero-filled at `*address_out`.
/// Returns 0 or an errno (EEXIST when the name is taken).
int cshims_segment_create(const char *name, size_t size, void **address_out);

/// Maps the existing segment `name` of exactly `size` bytes read-write. Returns 0 or an errno
/// (EINVAL when its size differs from `size`).
int cshims_segment_attach(const char *name, size_t size, void **address_out);

/// Removes the segment's name; mappings stay valid until unmapped. Returns 0 or an errno.
int cshims_segment_unlink(const char *name);

/// Unmaps a mapping made by the calls above. Returns 0 or an errno.
int cshims_segment_unmap(void *address, size_t size);

/// Asks the cache for the line at `address` ahead of a read (a hint: never faults, may do nothing).
static inline void cshims_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// Acquire load of a 32-bit word that another process stores to.
static inline uint32_t cshims_load_acquire_u32(const uint32_t *word) {
    return __atomic_load_n(word, __ATOMIC_ACQUIRE);
}

/// Release store of a 32-bit word that another process loads.
static inline void cshims_store_release_u32(uint32_t *word, uint32_t value) {
    __atomic_store_n(word, value, __ATOMIC_RELEASE);
}

/// Relaxed load of a 32-bit word that another process stores to (a hint: no ordering).
static inline uint32_t cshims_load_relaxed_u32(const uint32_t *word) {
    return __atomic_load_n(word, __ATOMIC_RELAXED);
}

/// Sequentially consistent store of a 32-bit word shared with other processes: later loads of
/// this thread are not performed before it (a full fence).
static inline void cshims_store_fenced_u32(uint32_t *word, uint32_t value) {
    __atomic_store_n(word, value, __ATOMIC_SEQ_CST);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/// A full memory fence: this thread's loads and stores before it are performed before those after
/// it, as other processes sharing the memory see them (one-sided windows' flush and fence).
static inline void cshims_memory_fence(void) {
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/// `target[i] += origin[i]` for `count` elements (1- to 8-byte integers, which wrap; floats and doubles), with the widest vector unit the CPU
/// has (AVX-512, AVX2, or the baseline, chosen once): one-sided accumulates' sums. Naturally aligned
/// elements; the two ranges either coincide or do not overlap.
void cshims_sum_u8(uint8_t *target, const uint8_t *origin, size_t count);
void cshims_sum_u16(uint16_t *target, const uint16_t *origin, size_t count);
void cshims_sum_u32(uint32_t *target, const uint32_t *origin, size_t count);
void cshims_sum_u64(uint64_t *target, const uint64_t *origin, size_t count);
void cshims_sum_f32(float *target, const float *origin, size_t count);
void cshims_sum_f64(double *target, const double *origin, size_t count);

/// Sleeps while the 32-bit word (in memory shared between processes) holds `expected`, at most
/// `timeout_ms` milliseconds (futex FUTEX_WAIT, process-shared). Returns 0 when woken (or the word
/// differed, EAGAIN), ETIMEDOUT, EINTR, or another errno.
int cshims_futex_wait(uint32_t *word, uint32_t expected, int timeout_ms);

/// Wakes up to `count` processes sleeping on the word in ``cshims_futex_wait``. Returns 0 or an errno.
int cshims_futex_wake(uint32_t *word, int count);

/// Acquire load of a 64-bit word (8-byte aligned) that another process stores to.
static inline uint64_t cshims_load_acquire_u64(const uint64_t *word) {
    return __atomic_load_n(word, __ATOMIC_ACQUIRE);
}

/// Release store of a 64-bit word (8-byte aligned) that another process loads.
static inline void cshims_store_release_u64(uint64_t *word, uint64_t value) {
    __atomic_store_n(word, value, __ATOMIC_RELEASE);
}

/// Atomically adds `value` to a 64-bit word shared with another process (acquire-release) and
/// returns the previous value.
static inline uint64_t cshims_fetch_add_u64(uint64_t *word, uint64_t value) {
    return __atomic_fetch_add(word, value, __ATOMIC_ACQ_REL);
}

/// Atomically replaces a 64-bit word shared with another process by `desired` if it still holds
/// `*expected` (acquire-release); otherwise loads its value into `*expected`. Returns whether it
/// replaced it.
static inline bool cshims_compare_exchange_u64(uint64_t *word, uint64_t *expected, uint64_t desired) {
    return __atomic_compare_exchange_n(word, expected, desired, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/// Copies `length` bytes to `destination` (16-byte aligned) with non-temporal stores where the CPU
/// has them (x86-64 SSE2), plain memcpy elsewhere; ends with a store fence, so a release store after
/// it publishes the bytes. The copy does not pull the destination's lines into this core's caches.
static inline void cshims_copy_nontemporal(void *destination, const void *source, size_t length) {
#if defined(__SSE2__)
    char *to = (char *)destination;
    const char *from = (const char *)source;
    size_t bulk = length & ~(size_t)63;
    for (size_t offset = 0; offset < bulk; offset += 64) {
        __m128i a = _mm_loadu_si128((const __m128i *)(from + offset));
        __m128i b = _mm_loadu_si128((const __m128i *)(from + offset + 16));
        __m128i c = _mm_loadu_si128((const __m128i *)(from + offset + 32));
        __m128i d = _mm_loadu_si128((const __m128i *)(from + offset + 48));
        _mm_stream_si128((__m128i *)(to + offset), a);
        _mm_stream_si128((__m128i *)(to + offset + 16), b);
        _mm_stream_si128((__m128i *)(to + offset + 32), c);
        _mm_stream_si128((__m128i *)(to + offset + 48), d);
    }
    if (length > bulk) __builtin_memcpy(to + bulk, from + bulk, length - bulk);
    _mm_sfence();
#else
    __builtin_memcpy(destination, source, length);
#endif
}

/// A cheap, monotonic cycle counter for timing short copies (the TSC on x86-64; 0 elsewhere, which
/// makes every timed copy look fast).
static inline uint64_t cshims_cycle_count(void) {
#if defined(__x86_64__)
    return __rdtsc();
#else
    return 0;
#endif
}

/// Makes the pages of [`address`, `address + length`) present and writable in this process without
/// changing them (madvise MADV_POPULATE_WRITE), so first writes cost no page fault later. Returns 0 or
/// the errno: EINVAL on kernels before 5.14; EFAULT or ENOMEM when the memory cannot be backed (a full
/// /dev/shm), reported instead of the SIGBUS a plain write would raise.
int cshims_populate_write(void *address, size_t length);

/// A spin-wait hint to the CPU (PAUSE on x86, YIELD on ARM).
static inline void cshims_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

// MARK: - Cross Memory Attach

/// Copies `length` bytes from address `remote` in process `pid` to `local` with process_vm_readv,
/// looping over partial transfers. Returns 0 or an errno (EPERM/ENOSYS where the kernel or a
/// container forbids Cross Memory Attach, ESRCH when the process is gone, EFAULT on a bad address).
int cshims_cma_read(pid_t pid, void *local, const void *remote, size_t length);

/// Copies `length` bytes from `local` to address `remote` in process `pid` with process_vm_writev.
int cshims_cma_write(pid_t pid, void *remote, const void *local, size_t length);

/// One piece of a scattered region: an address (in this or another process) and a length. The same
/// layout as `struct iovec` on Linux (checked in cma.c), so lists pass to the kernel as they are.
struct cshims_segment {
    uint64_t address;
    uint64_t length;
};

/// Copies the bytes of process `pid` listed in `remote` (`remote_count` segments) into the local
/// segments `local` (`local_count`), in order, with process_vm_readv — one system call per 1024
/// segments a side (IOV_MAX), looping over partial transfers. Both lists must cover the same number
/// of bytes (else EINVAL, nothing copied). The lists are consumed: the call advances them as it
/// copies. Returns 0 or an errno, as cshims_cma_read.
int cshims_cma_readv(pid_t pid, struct cshims_segment *local, size_t local_count,
                     struct cshims_segment *remote, size_t remote_count);

/// The other direction: copies the local segments into the segments of process `pid` listed in
/// `remote`, in order, with process_vm_writev (same rules and return values as cshims_cma_readv).
int cshims_cma_writev(pid_t pid, struct cshims_segment *local, size_t local_count,
                      struct cshims_segment *remote, size_t remote_count);

// MARK: - NUMA

/// The number of NUMA nodes (via libnuma when it loads, else /sys/devices/system/node), in `*count_out`.
/// Returns 0 or an errno. `*source_out` is set to "libnuma" or "sysfs".
int cshims_numa_node_count(int *count_out, const char **source_out);

// MARK: - RDMA verbs (libibverbs loaded at run time)

/// True when this build saw the libibverbs headers (`infiniband/verbs.h`).
int cshims_verbs_compiled_in(void);

/// Loads libibverbs.so.1 and looks up the setup symbols, once. Returns 0, or an errno with a
/// human-readable reason in `reason` (for example the dlopen error, or ENOSYS when the kernel has no
/// RDMA support).
int cshims_verbs_load(char *reason, size_t reason_length);

/// One port of an RDMA device, as `swiftmpirun --info` reports it.
typedef struct cshims_verbs_port {
    uint8_t port_number;
    uint8_t state;          ///< enum ibv_port_state: 4 = ACTIVE
    uint8_t link_layer;     ///< 1 = InfiniBand, 2 = Ethernet (RoCE)
    uint8_t active_mtu;     ///< enum ibv_mtu: 1 = 256 ... 5 = 4096
    uint16_t lid;
    uint16_t gid_count;     ///< entries of the GID table that are valid (non-zero), up to 4 reported
    uint8_t gids[4][16];
} cshims_verbs_port;

/// One RDMA device.
typedef struct cshims_verbs_device {
    char name[64];
    uint64_t node_guid;
    uint8_t port_count;     ///< ports reported in `ports`, at most 4
    cshims_verbs_port ports[4];
} cshims_verbs_device;

/// Lists up to `capacity` devices after `cshims_verbs_load` succeeded. Returns 0 or an errno
/// (ENOSYS: no kernel support) with `*count_out` set.
int cshims_verbs_list_devices(cshims_verbs_device *devices, int capacity, int *count_out);

/// An opened RDMA port: device context, protection domain and one completion queue (opaque).
typedef struct cshims_verbs_endpoint cshims_verbs_endpoint;

/// What a peer needs to connect a queue pair to this port; published at wire-up.
typedef struct cshims_verbs_address {
    uint8_t gid[16];        ///< the chosen GID (all zero on InfiniBand without a GRH)
    uint16_t lid;           ///< 0 on RoCE
    uint8_t port_number;
    uint8_t active_mtu;     ///< enum ibv_mtu
    uint8_t link_layer;     ///< 1 = InfiniBand, 2 = Ethernet (RoCE)
    uint8_t gid_index;
    uint8_t max_rd_atomic;  ///< outstanding RDMA reads this port accepts per queue pair
    uint8_t reserved;
    uint64_t subnet_prefix; ///< the first 8 bytes of GID 0: equal on ports of one fabric (IB)
} cshims_verbs_address;

/// Opens `device` (NULL: the first device with an active port) at `port` (0: its first active
/// port), chooses a GID (`gid_index` < 0: automatically, preferring RoCE v2 with an IPv4-mapped
/// address on Ethernet ports) and creates a completion queue of `cq_depth` entries. Returns 0 or an
/// errno with a reason.
int cshims_verbs_open(const char *device, int port, int gid_index, int cq_depth, cshims_verbs_endpoint **endpoint_out,
                      cshims_verbs_address *address_out, char *reason, size_t reason_length);
/// Releases the completion queue, protection domain and device (queue pairs and registrations first).
void cshims_verbs_close(cshims_verbs_endpoint *endpoint);
/// The largest message one work request may carry on this port (`max_msg_sz`).
uint32_t cshims_verbs_max_message(const cshims_verbs_endpoint *endpoint);

/// The most scatter/gather entries one RDMA READ work request of SwiftMPI carries (the device's
/// limit may be lower: `cshims_verbs_create_qp` reports what a queue pair got).
#define CSHIMS_VERBS_MAX_SGE 16

/// Creates a Reliable Connected queue pair on the endpoint's completion queue, asking for the
/// device's scatter/gather limit up to CSHIMS_VERBS_MAX_SGE entries per send-queue work request.
/// `*max_inline_out` is the inline size the provider granted (0 if none), `*max_sge_out` the entries
/// per work request (at least 1). Returns 0 or an errno.
int cshims_verbs_create_qp(cshims_verbs_endpoint *endpoint, int send_depth, int receive_depth, int max_inline,
                           void **qp_out, uint32_t *qp_number_out, uint32_t *max_inline_out, uint32_t *max_sge_out);
/// Moves a queue pair through INIT, RTR and RTS towards `remote`'s queue pair (retries: 7, RNR
/// retries: infinite). Returns 0 or an errno with a reason naming the failed step.
int cshims_verbs_connect_qp(cshims_verbs_endpoint *endpoint, void *qp, const cshims_verbs_address *remote,
                            uint32_t remote_qp_number, uint32_t remote_psn, uint32_t local_psn,
                            char *reason, size_t reason_length);
/// Destroys a queue pair.
void cshims_verbs_destroy_qp(void *qp);

/// Registers `length` bytes at `address` for local writes and remote reads. Returns 0 or an errno.
int cshims_verbs_register(cshims_verbs_endpoint *endpoint, void *address, size_t length, void **mr_out,
                          uint32_t *lkey_out, uint32_t *rkey_out);
/// Tells malloc never to give memory back to the system (no mmap'd chunks, no trimming), so that
/// freed heap memory keeps its pages and a cached registration of it stays valid. Returns 0, or
/// ENOTSUP when the process's malloc is not glibc's (a preloaded allocator, a sanitizer's), which
/// mallopt cannot govern, or EINVAL.
int cshims_malloc_keep_pages(void);
/// Deregisters memory registered with `cshims_verbs_register`.
void cshims_verbs_deregister(void *mr);

/// Posts a signaled SEND of `length` bytes (inline when `inline_data`). Returns 0 or an errno.
int cshims_verbs_post_send(void *qp, uint64_t wr_id, const void *address, uint32_t length, uint32_t lkey, int inline_data);
/// Posts a signaled RDMA READ of `length` bytes from (`remote`, `rkey`) into `local`. Returns 0 or an errno.
int cshims_verbs_post_read(void *qp, uint64_t wr_id, void *local, uint32_t length, uint32_t lkey, uint64_t remote, uint32_t rkey);
/// Posts a signaled RDMA READ of the contiguous remote range at (`remote`, `rkey`) into the `count`
/// local pieces `local` (1 ≤ count ≤ the queue pair's max_sge), in order, all registered under `lkey`;
/// the range's length is the pieces' total (at most 4 GiB − 1). Returns 0 or an errno (EINVAL for a
/// bad count or length).
int cshims_verbs_post_read_list(void *qp, uint64_t wr_id, const struct cshims_segment *local, int count, uint32_t lkey,
                                uint64_t remote, uint32_t rkey);
/// Posts a signaled RDMA WRITE of `length` bytes from `local` to (`remote`, `rkey`); inline (the
/// bytes copied at the call, `lkey` unused) when `inline_data`. Its completion means the bytes are in
/// the peer's memory (a Reliable Connected pair completes a write when the peer acknowledged it).
/// Returns 0 or an errno.
int cshims_verbs_post_write(void *qp, uint64_t wr_id, const void *local, uint32_t length, uint32_t lkey, uint64_t remote, uint32_t rkey,
                            int inline_data);
/// Posts one receive buffer. Returns 0 or an errno.
int cshims_verbs_post_receive(void *qp, uint64_t wr_id, void *address, uint32_t length, uint32_t lkey);

/// One work completion, reduced to what the transport uses.
typedef struct cshims_verbs_completion {
    uint64_t wr_id;
    uint32_t status;        ///< enum ibv_wc_status: 0 = success
    uint32_t byte_len;
} cshims_verbs_completion;

/// Polls the endpoint's completion queue for up to `capacity` (at most 16) completions, their number
/// in `*count_out` (0 when the queue is empty). Returns 0, or EIO when the completion queue failed.
int cshims_verbs_poll(cshims_verbs_endpoint *endpoint, cshims_verbs_completion *completions, int capacity, int *count_out);
/// The name of a work-completion status (`ibv_wc_status_str`), e.g. "remote access error".
const char *cshims_verbs_status_text(uint32_t status);

// MARK: - PMIx (libpmix loaded at run time)

// Each call below that can fail returns 0 or an errno and writes why to `reason` (PMIx's own status
// and its text included): ENOENT when libpmix cannot be loaded or lacks a symbol, or for a key nobody
// put; ETIMEDOUT when PMIx timed out; EPROTO for a value of an unexpected type; ENOMEM; EIO for any
// other PMIx failure.

/// Loads libpmix.so.2 and connects to the PMIx server named by the environment. Returns 0 with this
/// process's namespace and rank, or an errno with a reason.
int cshims_pmix_init(char *nspace_out, size_t nspace_length, uint32_t *rank_out, char *reason, size_t reason_length);
/// An integer the server knows about this process (`job_level` 0) or its job (`job_level` 1), such
/// as "pmix.job.size" or "pmix.lrank". Returns 0 or an errno with a reason.
int cshims_pmix_get_number(int job_level, const char *key, uint64_t *value_out, char *reason, size_t reason_length);
/// Publishes `length` bytes under `key` for every process of the job (after the next fence). Returns
/// 0 or an errno with a reason.
int cshims_pmix_put(const char *key, const void *bytes, size_t length, char *reason, size_t reason_length);
/// Commits what was put and waits for every process of the job to do the same. Returns 0 or an
/// errno with a reason.
int cshims_pmix_commit_and_fence(char *reason, size_t reason_length);
/// The bytes `rank` put under `key`, in a malloc'd buffer the caller frees. Returns 0, ENOENT when
/// nobody put `key` (at once: the look-up does not wait for it), or another errno with a reason.
int cshims_pmix_get_bytes(uint32_t rank, const char *key, void **bytes_out, size_t *length_out, char *reason, size_t reason_length);
/// Asks the server to end the whole job with `code`.
void cshims_pmix_abort(int code, const char *message);
/// Tells the server this process is done with PMIx. Returns 0 or an errno with a reason.
int cshims_pmix_finalize(char *reason, size_t reason_length);

#ifdef __cplusplus
}
#endif
#endif
