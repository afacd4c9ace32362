// POSIX shared-memory segments for the shared-memory transport.
#define _GNU_SOURCE
#include "CShims.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int cshims_segment_create(const char *name, size_t size, void **address_out) {
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return errno;
    int err = 0;
    if (fchmod(fd, 0600) != 0 || ftruncate(fd, (off_t)size) != 0) {
        err = errno;
    } else {
        void *address = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (address == MAP_FAILED) err = errno; else *address_out = address;
    }
    close(fd);
    if (err) shm_unlink(name);
    return err;
}

int cshims_segment_attach(const char *name, size_t size, void **address_out) {
    int fd = shm_open(name, O_RDWR | O_CLOEXEC, 0);
    if (fd < 0) return errno;
    struct stat info;
    int err = 0;
    if (fstat(fd, &info) != 0) {
        err = errno;
    } else if ((size_t)info.st_size != size) {
        err = EINVAL;
    } else {
        void *address = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (address == MAP_FAILED) err = errno; else *address_out = address;
    }
    close(fd);
    return err;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

int cshims_populate_write(void *address, size_t length) {
    return madvise(address, length, MADV_POPULATE_WRITE) == 0 ? 0 : errno;
}

int cshims_segment_unlink(const char *name) { return shm_unlink(name) == 0 ? 0 : errno; }

int cshims_segment_unmap(void *address, size_t size) { return munmap(address, size) == 0 ? 0 : errno; }

int cshims_futex_wait(uint32_t *word, uint32_t expected, int timeout_ms) {
    struct timespec timeout = {.tv_sec = timeout_ms / 1000, .tv_nsec = (long)(timeout_ms % 1000) * 1000000L};
    if (syscall(SYS_futex, word, FUTEX_WAIT, expected, &timeout, NULL, 0) == 0) return 0;
    return errno == EAGAIN ? 0 : errno;
}

int cshims_futex_wake(uint32_t *word, int count) {
    return syscall(SYS_futex, word, FUTEX_WAKE, count, NULL, NULL, 0) < 0 ? errno : 0;
}
