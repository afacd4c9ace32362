// Process spawning and CPU affinity for the launcher and the runtime.
#define _GNU_SOURCE
#include "CShims.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
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

// The child side: only async-signal-safe calls until execve.
static void child_after_fork(const char *path, char *const argv[], char *const envp[],
                             int in_fd, int out_fd, int err_fd, int cpu, int parent_death_signal,
                             pid_t parent, int report_fd) {
    int err = 0;
    if (setpgid(0, 0) != 0) { err = errno; goto fail; }
    if (parent_death_signal > 0) {
        if (prctl(PR_SET_PDEATHSIG, parent_death_signal) != 0) { err = errno; goto fail; }
        if (getppid() != parent) { _exit(127); }  // the parent died before prctl took effect
    }
    if (dup_to(in_fd, 0) || dup_to(out_fd, 1) || dup_to(err_fd, 2)) { err = errno; goto fail; }
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0) { err = errno; goto fail; }
    }
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
    }
    sigset_t empty;
    sigemptyset(&empty);
    sigprocmask(SIG_SETMASK, &empty, NULL);
    execve(path, argv, envp);
    err = errno;
fail:
    (void)!write(report_fd, &err, sizeof err);
    _exit(127);
}

int cshims_spawn(const char *path, char *const argv[], char *const envp[],
                 int in_fd, int out_fd, int err_fd, int cpu, int parent_death_signal,
                 pid_t *pid_out) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return errno;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        close(report[0]);
        close(report[1]);
        return err;
    }
    if (pid == 0) {
        close(report[0]);
        child_after_fork(path, argv, envp, in_fd, out_fd, err_fd, cpu, parent_death_signal, parent,
                         report[1]);
    }
    close(report[1]);
    int child_err = 0;
    ssize_t n;
    do { n = read(report[0], &child_err, sizeof child_err); } while (n < 0 && errno == EINTR);
    close(report[0]);
    if (n == (ssize_t)sizeof child_err) {  // execve failed: reap the child, report its errno
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

int cshims_bind_to_cpu(int cpu) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) return EINVAL;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : errno;
}
