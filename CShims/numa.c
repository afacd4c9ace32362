// NUMA topology: libnuma when it can be loaded, the sysfs node directories otherwise.
#define _GNU_SOURCE
#include "CShims.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int cshims_numa_node_count(int *count_out, const char **source_out) {
    void *lib = dlopen("libnuma.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib) {
        int (*available)(void) = (int (*)(void))dlsym(lib, "numa_available");
        int (*max_node)(void) = (int (*)(void))dlsym(lib, "numa_max_node");
        if (available && max_node && available() >= 0) {
            *count_out = max_node() + 1;
            *source_out = "libnuma";
            return 0;  // libnuma stays loaded: unloading it buys nothing
        }
    }
    DIR *dir = opendir("/sys/devices/system/node");
    if (!dir) return errno;
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (strncmp(entry->d_name, "node", 4) == 0 && entry->d_name[4] >= '0' && entry->d_name[4] <= '9')
            count++;
    }
    closedir(dir);
    *count_out = count;
    *source_out = "sysfs";
    return 0;
}
