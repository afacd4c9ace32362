// Small system calls that Swift's Glibc module does not expose.
#define _GNU_SOURCE
#include "CShims.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/socket.h>

int cshims_socket_peer_credentials(int fd, pid_t *pid_out, uid_t *uid_out) {
    struct ucred credentials;
    socklen_t length = sizeof credentials;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return errno;
    *pid_out = credentials.pid;
    *uid_out = credentials.uid;
    return 0;
}

int cshims_random_bytes(void *buffer, size_t length) {
    size_t filled = 0;
    while (filled < length) {
        ssize_t n = getrandom((char *)buffer + filled, length - filled, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        filled += (size_t)n;
    }
    return 0;
}

#include <fcntl.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

int cshims_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC) == 0 ? 0 : errno; }

int cshims_accept_nonblocking(int listen_fd, int *fd_out) {
    int fd;
    do { fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK); } while (fd < 0 && errno == EINTR);
    if (fd < 0) return errno;
    *fd_out = fd;
    return 0;
}

int cshims_signalfd_open(const int *signals, int count, int *fd_out) {
    sigset_t set;
    sigemptyset(&set);
    for (int i = 0; i < count; i++) sigaddset(&set, signals[i]);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) return errno;
    int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0) return errno;
    *fd_out = fd;
    return 0;
}

int cshims_signalfd_read(int fd, int *signal_out) {
    struct signalfd_siginfo info;
    ssize_t n;
    do { n = read(fd, &info, sizeof info); } while (n < 0 && errno == EINTR);
    if (n < 0) return errno;
    if (n != (ssize_t)sizeof info) return EIO;
    *signal_out = (int)info.ssi_signo;
    return 0;
}

int cshims_stdout_line_buffered(void) {
    if (fflush(stdout) != 0) return errno ? errno : EIO;
    return setvbuf(stdout, NULL, _IOLBF, 0) == 0 ? 0 : (errno ? errno : EINVAL);
}

int cshims_lock_range(int fd, int type, long long start, long long length) {
    struct flock lock = {0};
    lock.l_type = (short)type;
    lock.l_whence = SEEK_SET;
    lock.l_start = (off_t)start;
    lock.l_len = (off_t)length;
    while (fcntl(fd, F_SETLKW, &lock) != 0) {
        if (errno != EINTR) return errno;
    }
    return 0;
}
