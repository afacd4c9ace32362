// Process spawning and CPU affinity for the launcher and the runtime.
#define _GNU_SOURCE
#include "CShims.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <signal.h>
#include <string.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int dup_to(int fd, int target) {
    if (fd == target) {  // keep it, but make sure it survives execve
        int flags = fcntl(fd, F_GETFD);
        return flags < 0 ? -1 : fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
    }
    return dup2(fd, target) < 0 ? -1 : 0;
}

// What the parent hands the child.
struct spawn_request {
    const char *path;
    char *const *argv;
    char *const *envp;
    int in_fd, out_fd, err_fd, parent_death_signal;
    const cshims_cpu_mask *cpus;  // NULL: keep the parent's affinity
    const char *directory;        // NULL: keep the parent's working directory
    pid_t parent;
    int status_fd;  // -1, or a descriptor the child gets as fd 3 (swiftmpirun's status channel)
    int report_fd;  // close-on-exec: the child writes its errno here if set-up or execve fails
};

// The signals the child resets to their default action. Ignored dispositions survive execve:
// SIGPIPE, which the launcher ignores, and the signals it forwards to ranks (a launcher started in
// the background by a non-interactive shell ignores SIGINT and SIGQUIT, and forwarding them would do
// nothing) must not stay ignored in a rank. The rest are the signals the Swift runtime's crash
// handler catches when it is enabled. No other handler of the parent can run in the child: the
// launcher catches no signal with a handler (a signalfd reads them), every signal stays blocked
// until just before execve, and by then the child is alone in a new process group under a pid that
// only the suspended parent knows. Other inherited dispositions pass to the program as execve
// passes them, as with Open MPI (which resets five). One sigaction per signal of NSIG would cost
// ~30 us per rank on these VMs, on the path where the parent waits.
static const int reset_signals[] = {
    SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGCHLD, SIGPIPE, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV,
};

// The child side: only async-signal-safe system calls until execve, while the parent waits (vfork).
// Signal dispositions are per process, so resetting them here leaves the parent's alone. Never
// returns (it shares the parent's stack until it execs or exits).
__attribute__((noinline, noreturn))
static void child_after_vfork(const struct spawn_request *request) {
    int err = 0;
    for (size_t i = 0; i < sizeof reset_signals / sizeof reset_signals[0]; i++) signal(reset_signals[i], SIG_DFL);
    if (setpgid(0, 0) != 0) { err = errno; goto fail; }
    if (request->parent_death_signal > 0) {
        if (prctl(PR_SET_PDEATHSIG, request->parent_death_signal) != 0) { err = errno; goto fail; }
        if (getppid() != request->parent) { _exit(127); }  // the parent died before prctl took effect
    }
    if (dup_to(request->in_fd, 0) || dup_to(request->out_fd, 1) || dup_to(request->err_fd, 2)) { err = errno; goto fail; }
    if (request->status_fd >= 0 && dup_to(request->status_fd, 3)) { err = errno; goto fail; }
    if (request->directory != NULL && chdir(request->directory) != 0) { err = errno; goto fail; }
    if (request->cpus != NULL) {
        if (sched_setaffinity(0, sizeof(cpu_set_t), (const cpu_set_t *)request->cpus) != 0) { err = errno; goto fail; }
    }
    sigset_t empty;
    sigemptyset(&empty);
    sigprocmask(SIG_SETMASK, &empty, NULL);
    execve(request->path, request->argv, request->envp);
    err = errno;
fail:
    (void)!write(request->report_fd, &err, sizeof err);
    _exit(127);
}

// vfork, as glibc's posix_spawn (which cannot set a parent-death signal or CPU affinity) in effect
// does: no copy of the launcher's page tables (fork's cost grows with the parent's mappings), the
// parent resuming once the child has exec'd or failed. All signals stay blocked around it so no
// handler of the parent ever runs in the child. The errno of a failed set-up or execve comes back
// through a close-on-exec pipe, so a missing program is an error here, not an exit status later.
// (Sanitizers that replace vfork by fork, such as ThreadSanitizer, still work: nothing relies on
// the shared memory.)
int cshims_spawn(const char *path, char *const argv[], char *const envp[],
                 int in_fd, int out_fd, int err_fd, int status_fd, const cshims_cpu_mask *cpus,
                 const char *directory, int parent_death_signal, pid_t *pid_out) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return errno;
    struct spawn_request request = {
        .path = path, .argv = argv, .envp = envp, .in_fd = in_fd, .out_fd = out_fd, .err_fd = err_fd,
        .status_fd = status_fd, .cpus = cpus, .directory = directory, .parent_death_signal = parent_death_signal, .parent = getpid(), .report_fd = report[1],
    };
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    pid_t pid = vfork();
    if (pid == 0) child_after_vfork(&request);
    int vfork_error = pid < 0 ? errno : 0;
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    close(report[1]);
    if (pid < 0) {
        close(report[0]);
        return vfork_error;
    }
    int child_err = 0;
    ssize_t n;
    do { n = read(report[0], &child_err, sizeof child_err); } while (n < 0 && errno == EINTR);
    close(report[0]);
    if (n == (ssize_t)sizeof child_err) {  // set-up or execve failed: reap the child, report its errno
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        return child_err ? child_err : ECHILD;
    }
    *pid_out = pid;
    return 0;
}

int cshims_allowed_cpus(int *cpus, int capacity, int *count_out) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return errno;
    int count = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && count < capacity; cpu++) {
        if (CPU_ISSET(cpu, &set)) cpus[count++] = cpu;
    }
    *count_out = count;
    return 0;
}

int cshims_current_cpu(int *cpu_out) {
    int cpu = sched_getcpu();
    if (cpu < 0) return errno;
    *cpu_out = cpu;
    return 0;
}

_Static_assert(sizeof(cshims_cpu_mask) == sizeof(cpu_set_t), "cshims_cpu_mask must be a cpu_set_t");

int cshims_affinity_get(cshims_cpu_mask *mask) {
    return sched_getaffinity(0, sizeof(cpu_set_t), (cpu_set_t *)mask) == 0 ? 0 : errno;
}

int cshims_affinity_set(const cshims_cpu_mask *mask) {
    return sched_setaffinity(0, sizeof(cpu_set_t), (const cpu_set_t *)mask) == 0 ? 0 : errno;
}

int cshims_bind_to_cpu(int cpu) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) return EINVAL;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : errno;
}

// The wire-up guard: one name per process, set before the segment exists and cleared after its name
// is gone. Only async-signal-safe calls in the handler.
static char guarded_name[256];
static int guard_active = 0;
static int saved_parent_death_signal = 0;
static struct sigaction saved_term_action;

static void remove_guarded_name(int sig) {
    (void)sig;
    shm_unlink(guarded_name);
    _exit(128 + SIGTERM);
}

int cshims_name_guard_begin(const char *shm_name) {
    if (guard_active) return EBUSY;
    if (strlen(shm_name) >= sizeof guarded_name) return ENAMETOOLONG;
    int current = 0;
    if (prctl(PR_GET_PDEATHSIG, &current) != 0) return errno;
    if (current == 0) return 0;  // nobody asked this process to die with its parent
    strcpy(guarded_name, shm_name);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = remove_guarded_name;
    sigfillset(&action.sa_mask);
    if (sigaction(SIGTERM, &action, &saved_term_action) != 0) return errno;
    saved_parent_death_signal = current;
    guard_active = 1;
    // Until now the parent's death sent `current` (SIGKILL): no moment is unguarded.
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) {
        int err = errno;
        cshims_name_guard_end();
        return err;
    }
    return 0;
}

void cshims_name_guard_end(void) {
    if (!guard_active) return;
    (void)prctl(PR_SET_PDEATHSIG, saved_parent_death_signal);
    (void)sigaction(SIGTERM, &saved_term_action, NULL);
    guard_active = 0;
}
