// Cross Memory Attach: single-copy transfers between processes of the same user.
#define _GNU_SOURCE
#include "CShims.h"

#include <errno.h>
#include <sys/uio.h>

int cshims_cma_read(pid_t pid, void *local, const void *remote, size_t length) {
    size_t done = 0;
    while (done < length) {
        struct iovec l = { (char *)local + done, length - done };
        struct iovec r = { (char *)remote + done, length - done };
        ssize_t n = process_vm_readv(pid, &l, 1, &r, 1, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (n == 0) return EFAULT;
        done += (size_t)n;
    }
    return 0;
}

int cshims_cma_write(pid_t pid, void *remote, const void *local, size_t length) {
    size_t done = 0;
    while (done < length) {
        struct iovec l = { (char *)local + done, length - done };
        struct iovec r = { (char *)remote + done, length - done };
        ssize_t n = process_vm_writev(pid, &l, 1, &r, 1, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (n == 0) return EFAULT;
        done += (size_t)n;
    }
    return 0;
}
