// Cross Memory Attach: single-copy transfers between processes of the same user.
#define _GNU_SOURCE
#include "CShims.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <sys/uio.h>

_Static_assert(sizeof(struct cshims_segment) == sizeof(struct iovec), "cshims_segment must be laid out as struct iovec");
_Static_assert(offsetof(struct cshims_segment, address) == offsetof(struct iovec, iov_base), "iov_base first");
_Static_assert(offsetof(struct cshims_segment, length) == offsetof(struct iovec, iov_len), "iov_len second");

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

/// Drops the first `bytes` bytes from the list `*segments` of `*count` segments.
static void advance(struct cshims_segment **segments, size_t *count, size_t bytes) {
    while (bytes > 0 && *count > 0) {
        struct cshims_segment *first = *segments;
        if (bytes < first->length) {
            first->address += bytes;
            first->length -= bytes;
            return;
        }
        bytes -= first->length;
        (*segments)++;
        (*count)--;
    }
    while (*count > 0 && (*segments)->length == 0) {  // zero-length segments left at the front
        (*segments)++;
        (*count)--;
    }
}

/// process_vm_readv (`write` 0) or process_vm_writev (1) over whole segment lists (see the header).
static int cma_vectors(int write, pid_t pid, struct cshims_segment *local, size_t local_count,
                       struct cshims_segment *remote, size_t remote_count) {
    size_t local_total = 0, remote_total = 0;
    for (size_t i = 0; i < local_count; i++) local_total += local[i].length;
    for (size_t i = 0; i < remote_count; i++) remote_total += remote[i].length;
    if (local_total != remote_total) return EINVAL;
    size_t left = local_total;
    while (left > 0) {
        size_t l = local_count < IOV_MAX ? local_count : IOV_MAX;
        size_t r = remote_count < IOV_MAX ? remote_count : IOV_MAX;
        ssize_t n = write ? process_vm_writev(pid, (const struct iovec *)local, l, (const struct iovec *)remote, r, 0)
                          : process_vm_readv(pid, (const struct iovec *)local, l, (const struct iovec *)remote, r, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (n == 0) return EFAULT;
        left -= (size_t)n;
        advance(&local, &local_count, (size_t)n);
        advance(&remote, &remote_count, (size_t)n);
    }
    return 0;
}

int cshims_cma_readv(pid_t pid, struct cshims_segment *local, size_t local_count,
                     struct cshims_segment *remote, size_t remote_count) {
    return cma_vectors(0, pid, local, local_count, remote, remote_count);
}

int cshims_cma_writev(pid_t pid, struct cshims_segment *local, size_t local_count,
                      struct cshims_segment *remote, size_t remote_count) {
    return cma_vectors(1, pid, local, local_count, remote, remote_count);
}
