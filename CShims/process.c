// Process spawning and CPU affinity for the launcher and the runtime.
#define _GNU_SOURCE
#include "CShims.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <pthread.h>
#include <sys/mman.h>
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

// What the parent hands the child, and where the child leaves the errno of a failed set-up or
// execve (the child shares the parent's memory until it execs).
struct spawn_request {
    const char *path;
    char *const *argv;
    char *const *envp;
    int in_fd, out_fd, err_fd, cpu, parent_death_signal;
    pid_t parent;
    int error;
};

// The child side: only async-signal-safe system calls until execve, on its own small stack, while
// the parent waits (CLONE_VFORK). Signal dispositions are per process (no CLONE_SIGHAND), so
// resetting them here leaves the parent's alone.
static int child_after_clone(void *argument) {
    struct spawn_request *request = argument;
    int err = 0;
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
    }
    if (setpgid(0, 0) != 0) { err = errno; goto fail; }
    if (request->parent_death_signal > 0) {
        if (prctl(PR_SET_PDEATHSIG, request->parent_death_signal) != 0) { err = errno; goto fail; }
        if (getppid() != request->parent) { _exit(127); }  // the parent died before prctl took effect
    }
    if (dup_to(request->in_fd, 0) || dup_to(request->out_fd, 1) || dup_to(request->err_fd, 2)) { err = errno; goto fail; }
    if (request->cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(request->cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0) { err = errno; goto fail; }
    }
    sigset_t empty;
    sigemptyset(&empty);
    sigprocmask(SIG_SETMASK, &empty, NULL);
    execve(request->path, request->argv, request->envp);
    err = errno;
fail:
    request->error = err ? err : ECHILD;
    _exit(127);
}

// clone(CLONE_VM | CLONE_VFORK), as glibc's posix_spawn does: no copy of the launcher's page tables
// (fork's cost grows with the parent's mappings), and the parent resumes once the child has exec'd
// or failed — a failure's errno is then already in the request. All signals stay blocked around the
// clone so no handler of the parent ever runs on the child's stack.
int cshims_spawn(const char *path, char *const argv[], char *const envp[],
                 int in_fd, int out_fd, int err_fd, int cpu, int parent_death_signal,
                 pid_t *pid_out) {
    enum { stack_size = 64 * 1024 };
    void *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return errno;
    struct spawn_request request = {
        .path = path, .argv = argv, .envp = envp, .in_fd = in_fd, .out_fd = out_fd, .err_fd = err_fd,
        .cpu = cpu, .parent_death_signal = parent_death_signal, .parent = getpid(), .error = 0,
    };
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    pid_t pid = clone(child_after_clone, (char *)stack + stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD, &request);
    int clone_error = pid < 0 ? errno : 0;
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    munmap(stack, stack_size);
    if (pid < 0) return clone_error;
    if (request.error != 0) {  // set-up or execve failed: reap the child, report its errno
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        return request.error;
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

int cshims_bind_to_cpu(int cpu) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) return EINVAL;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : errno;
}
