// RDMA verbs, loaded at run time.
//
// libibverbs is opened with dlopen and its setup calls are looked up once, so that a SwiftMPI binary
// runs on machines without rdma-core (the verbs transport then reports itself unavailable, with the
// reason). The package also builds without the headers: every function below then reports ENOTSUP.
// (CI compiles that configuration too, by defining CSHIMS_WITHOUT_VERBS_HEADERS.)
// Trap: <infiniband/verbs.h> defines `ibv_query_port` as a macro around an inline helper; we never
// name the library's functions directly, only through pointers with our own names.
#define _GNU_SOURCE
#include "CShims.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#if __has_include(<infiniband/verbs.h>) && !defined(CSHIMS_WITHOUT_VERBS_HEADERS)
#include <dlfcn.h>
#include <infiniband/verbs.h>
#include <pthread.h>

static struct {
    void *library;
    struct ibv_device **(*get_device_list)(int *);
    void (*free_device_list)(struct ibv_device **);
    const char *(*get_device_name)(struct ibv_device *);
    __be64 (*get_device_guid)(struct ibv_device *);
    struct ibv_context *(*open_device)(struct ibv_device *);
    int (*close_device)(struct ibv_context *);
    int (*query_device)(struct ibv_context *, struct ibv_device_attr *);
    int (*query_port)(struct ibv_context *, uint8_t, struct ibv_port_attr *);
    int (*query_gid)(struct ibv_context *, uint8_t, int, union ibv_gid *);
    int load_error;
    char load_reason[256];
} verbs;

static pthread_once_t verbs_once = PTHREAD_ONCE_INIT;

static void verbs_load_once(void) {
    verbs.library = dlopen("libibverbs.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!verbs.library) {
        verbs.load_error = ENOENT;
        snprintf(verbs.load_reason, sizeof verbs.load_reason, "libibverbs not loadable: %s", dlerror());
        return;
    }
#define LOOKUP(field, symbol)                                                                        \
    do {                                                                                             \
        *(void **)&verbs.field = dlsym(verbs.library, symbol);                                       \
        if (!verbs.field) {                                                                          \
            verbs.load_error = ENOENT;                                                               \
            snprintf(verbs.load_reason, sizeof verbs.load_reason, "libibverbs lacks %s", symbol);    \
            return;                                                                                  \
        }                                                                                            \
    } while (0)
    LOOKUP(get_device_list, "ibv_get_device_list");
    LOOKUP(free_device_list, "ibv_free_device_list");
    LOOKUP(get_device_name, "ibv_get_device_name");
    LOOKUP(get_device_guid, "ibv_get_device_guid");
    LOOKUP(open_device, "ibv_open_device");
    LOOKUP(close_device, "ibv_close_device");
    LOOKUP(query_device, "ibv_query_device");
    LOOKUP(query_port, "ibv_query_port");
    LOOKUP(query_gid, "ibv_query_gid");
#undef LOOKUP
}

int cshims_verbs_compiled_in(void) { return 1; }

int cshims_verbs_load(char *reason, size_t reason_length) {
    pthread_once(&verbs_once, verbs_load_once);
    if (verbs.load_error && reason && reason_length) {
        snprintf(reason, reason_length, "%s", verbs.load_reason);
    }
    return verbs.load_error;
}

int cshims_verbs_list_devices(cshims_verbs_device *devices, int capacity, int *count_out) {
    *count_out = 0;
    int err = cshims_verbs_load(NULL, 0);
    if (err) return err;
    int n = 0;
    errno = 0;
    struct ibv_device **list = verbs.get_device_list(&n);
    if (!list) return errno ? errno : ENODEV;
    int count = 0;
    for (int i = 0; i < n && count < capacity; i++) {
        cshims_verbs_device *d = &devices[count++];
        memset(d, 0, sizeof *d);
        snprintf(d->name, sizeof d->name, "%s", verbs.get_device_name(list[i]));
        d->node_guid = be64toh(verbs.get_device_guid(list[i]));
        struct ibv_context *context = verbs.open_device(list[i]);
        if (!context) continue;
        struct ibv_device_attr attributes;
        if (verbs.query_device(context, &attributes) == 0) {
            int ports = attributes.phys_port_cnt < 4 ? attributes.phys_port_cnt : 4;
            for (int p = 1; p <= ports; p++) {
                struct ibv_port_attr port;
                memset(&port, 0, sizeof port);
                if (verbs.query_port(context, (uint8_t)p, &port) != 0) continue;
                cshims_verbs_port *out = &d->ports[d->port_count++];
                out->port_number = (uint8_t)p;
                out->state = (uint8_t)port.state;
                out->link_layer = port.link_layer;
                out->active_mtu = (uint8_t)port.active_mtu;
                out->lid = port.lid;
                for (int g = 0; g < port.gid_tbl_len && out->gid_count < 4; g++) {
                    union ibv_gid gid;
                    if (verbs.query_gid(context, (uint8_t)p, g, &gid) != 0) break;
                    static const uint8_t zero[16];
                    if (memcmp(gid.raw, zero, 16) == 0) continue;
                    memcpy(out->gids[out->gid_count++], gid.raw, 16);
                }
            }
        }
        verbs.close_device(context);
    }
    verbs.free_device_list(list);
    *count_out = count;
    return 0;
}

#else  // built without <infiniband/verbs.h>

int cshims_verbs_compiled_in(void) { return 0; }

int cshims_verbs_load(char *reason, size_t reason_length) {
    if (reason && reason_length)
        snprintf(reason, reason_length, "built without the libibverbs headers (install libibverbs-dev)");
    return ENOTSUP;
}

int cshims_verbs_list_devices(cshims_verbs_device *devices, int capacity, int *count_out) {
    (void)devices;
    (void)capacity;
    *count_out = 0;
    return ENOTSUP;
}

#endif
