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
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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
    struct ibv_pd *(*alloc_pd)(struct ibv_context *);
    int (*dealloc_pd)(struct ibv_pd *);
    struct ibv_cq *(*create_cq)(struct ibv_context *, int, void *, struct ibv_comp_channel *, int);
    int (*destroy_cq)(struct ibv_cq *);
    struct ibv_qp *(*create_qp)(struct ibv_pd *, struct ibv_qp_init_attr *);
    int (*destroy_qp)(struct ibv_qp *);
    int (*modify_qp)(struct ibv_qp *, struct ibv_qp_attr *, int);
    struct ibv_mr *(*reg_mr)(struct ibv_pd *, void *, size_t, int);
    int (*dereg_mr)(struct ibv_mr *);
    const char *(*wc_status_str)(enum ibv_wc_status);
    // Optional (rdma-core ≥ 31): tells RoCE v1 from v2 GIDs.
    int (*query_gid_ex)(struct ibv_context *, uint32_t, uint32_t, struct ibv_gid_entry *, uint32_t, size_t);
    int load_error;
    char load_reason[256];
} verbs;

static pthread_once_t verbs_once = PTHREAD_ONCE_INIT;

// Looks up `symbol` in libibverbs into `*field`; when it is missing, records why the load failed.
static bool lookup(void **field, const char *symbol) {
    *field = dlsym(verbs.library, symbol);
    if (*field) return true;
    verbs.load_error = ENOENT;
    snprintf(verbs.load_reason, sizeof verbs.load_reason, "libibverbs lacks %s", symbol);
    return false;
}

static void verbs_load_once(void) {
    verbs.library = dlopen("libibverbs.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!verbs.library) {
        verbs.load_error = ENOENT;
        snprintf(verbs.load_reason, sizeof verbs.load_reason, "libibverbs not loadable: %s", dlerror());
        return;
    }
    // Each symbol in turn; the first one missing stops the load with its name as the reason.
    bool found = lookup((void **)&verbs.get_device_list, "ibv_get_device_list")
        && lookup((void **)&verbs.free_device_list, "ibv_free_device_list")
        && lookup((void **)&verbs.get_device_name, "ibv_get_device_name")
        && lookup((void **)&verbs.get_device_guid, "ibv_get_device_guid")
        && lookup((void **)&verbs.open_device, "ibv_open_device")
        && lookup((void **)&verbs.close_device, "ibv_close_device")
        && lookup((void **)&verbs.query_device, "ibv_query_device")
        && lookup((void **)&verbs.query_port, "ibv_query_port")
        && lookup((void **)&verbs.query_gid, "ibv_query_gid")
        && lookup((void **)&verbs.alloc_pd, "ibv_alloc_pd")
        && lookup((void **)&verbs.dealloc_pd, "ibv_dealloc_pd")
        && lookup((void **)&verbs.create_cq, "ibv_create_cq")
        && lookup((void **)&verbs.destroy_cq, "ibv_destroy_cq")
        && lookup((void **)&verbs.create_qp, "ibv_create_qp")
        && lookup((void **)&verbs.destroy_qp, "ibv_destroy_qp")
        && lookup((void **)&verbs.modify_qp, "ibv_modify_qp")
        && lookup((void **)&verbs.reg_mr, "ibv_reg_mr")
        && lookup((void **)&verbs.dereg_mr, "ibv_dereg_mr")
        && lookup((void **)&verbs.wc_status_str, "ibv_wc_status_str");
    if (!found) return;
    *(void **)&verbs.query_gid_ex = dlsym(verbs.library, "_ibv_query_gid_ex");
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

int cshims_malloc_keep_pages(void) {
    // Only glibc's malloc obeys mallopt. Under another allocator (jemalloc preloaded, or a
    // sanitizer's, which replace malloc) freed memory may be unmapped and its address reused with
    // new pages, so the caller must not cache registrations.
    void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
    void *glibc_malloc = libc ? dlsym(libc, "malloc") : NULL;
    void *active_malloc = dlsym(RTLD_DEFAULT, "malloc");
    if (libc) dlclose(libc);
    if (!glibc_malloc || glibc_malloc != active_malloc) return ENOTSUP;
    return mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, -1) == 1 ? 0 : EINVAL;
}

// MARK: - Endpoints, queue pairs, registrations

struct cshims_verbs_endpoint {
    struct ibv_context *context;
    struct ibv_pd *pd;
    struct ibv_cq *cq;
    uint32_t max_message;
    int max_qp_rd_atom;
    int max_qp_init_rd_atom;
    int max_sge;
    cshims_verbs_address address;
};

// Writes a printf-style explanation into the caller's `reason` buffer, when it gave one.
__attribute__((format(printf, 3, 4)))
static void explain(char *reason, size_t reason_length, const char *format, ...) {
    if (!reason || !reason_length) return;
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(reason, reason_length, format, arguments);
    va_end(arguments);
}

static int is_ipv4_mapped(const uint8_t *gid) {
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(gid, prefix, 12) == 0;
}

// The GID to use on an Ethernet port: RoCE v2 with an IPv4-mapped address, else any RoCE v2, else
// the first valid one. (Only the first 64 entries: rxe has 1024 slots, almost all empty.)
static int choose_gid(struct ibv_context *context, uint8_t port, int table_length) {
    int best = -1, best_score = -1;
    for (int index = 0; index < table_length && index < 64; index++) {
        union ibv_gid gid;
        static const uint8_t zero[16];
        if (verbs.query_gid(context, port, index, &gid) != 0) break;
        if (memcmp(gid.raw, zero, 16) == 0) continue;
        int version2 = 1;  // unknown type: rxe (RoCE v2 only) and most current ports
        if (verbs.query_gid_ex) {
            struct ibv_gid_entry entry;
            if (verbs.query_gid_ex(context, port, (uint32_t)index, &entry, 0, sizeof entry) == 0)
                version2 = entry.gid_type == IBV_GID_TYPE_ROCE_V2;
        }
        int score = version2 * 2 + is_ipv4_mapped(gid.raw);
        if (score > best_score) { best = index; best_score = score; }
    }
    return best;
}

int cshims_verbs_open(const char *device, int port, int gid_index, int cq_depth, cshims_verbs_endpoint **endpoint_out,
                      cshims_verbs_address *address_out, char *reason, size_t reason_length) {
    *endpoint_out = NULL;
    memset(address_out, 0, sizeof *address_out);
    int err = cshims_verbs_load(reason, reason_length);
    if (err) return err;
    int n = 0;
    errno = 0;
    struct ibv_device **list = verbs.get_device_list(&n);
    if (!list) {
        err = errno ? errno : ENODEV;
        explain(reason, reason_length, "no RDMA devices: ibv_get_device_list: %s", strerror(err));
        return err;
    }
    struct ibv_context *chosen = NULL;
    struct ibv_port_attr chosen_port;
    uint8_t chosen_port_number = 0;
    int matched_name = 0;
    for (int i = 0; i < n && !chosen; i++) {
        if (device && strcmp(device, verbs.get_device_name(list[i])) != 0) continue;
        matched_name = 1;
        struct ibv_context *context = verbs.open_device(list[i]);
        if (!context) continue;
        struct ibv_device_attr attributes;
        if (verbs.query_device(context, &attributes) == 0) {
            for (int p = 1; p <= attributes.phys_port_cnt && !chosen; p++) {
                if (port > 0 && p != port) continue;
                struct ibv_port_attr attr;
                memset(&attr, 0, sizeof attr);
                if (verbs.query_port(context, (uint8_t)p, &attr) != 0 || attr.state != IBV_PORT_ACTIVE) continue;
                chosen = context;
                chosen_port = attr;
                chosen_port_number = (uint8_t)p;
            }
        }
        if (!chosen) verbs.close_device(context);
    }
    verbs.free_device_list(list);
    if (!chosen) {
        if (n == 0) explain(reason, reason_length, "libibverbs loaded, but there are no RDMA devices");
        else if (device && !matched_name) explain(reason, reason_length, "no RDMA device named %s", device);
        else explain(reason, reason_length, "no active port on %s%s", device ? device : "any of the RDMA devices", port > 0 ? " at the requested port" : "");
        return ENODEV;
    }
    cshims_verbs_endpoint *endpoint = calloc(1, sizeof *endpoint);
    if (!endpoint) {
        explain(reason, reason_length, "no memory for the endpoint");
        verbs.close_device(chosen);
        return ENOMEM;
    }
    endpoint->context = chosen;
    struct ibv_device_attr attributes;
    verbs.query_device(chosen, &attributes);
    endpoint->max_message = chosen_port.max_msg_sz;
    endpoint->max_qp_rd_atom = attributes.max_qp_rd_atom;
    endpoint->max_qp_init_rd_atom = attributes.max_qp_init_rd_atom;
    endpoint->max_sge = attributes.max_sge < CSHIMS_VERBS_MAX_SGE ? attributes.max_sge : CSHIMS_VERBS_MAX_SGE;
    if (endpoint->max_sge < 1) endpoint->max_sge = 1;
    cshims_verbs_address *address = &endpoint->address;
    address->port_number = chosen_port_number;
    address->lid = chosen_port.lid;
    address->active_mtu = (uint8_t)chosen_port.active_mtu;
    address->link_layer = chosen_port.link_layer == IBV_LINK_LAYER_ETHERNET ? 2 : 1;
    int outstanding = attributes.max_qp_rd_atom < 16 ? attributes.max_qp_rd_atom : 16;
    address->max_rd_atomic = (uint8_t)(outstanding > 0 ? outstanding : 1);
    union ibv_gid gid0;
    if (verbs.query_gid(chosen, chosen_port_number, 0, &gid0) == 0) memcpy(&address->subnet_prefix, gid0.raw, 8);
    if (gid_index < 0) gid_index = address->link_layer == 2 ? choose_gid(chosen, chosen_port_number, chosen_port.gid_tbl_len) : 0;
    if (gid_index >= 0) {
        union ibv_gid gid;
        if (verbs.query_gid(chosen, chosen_port_number, gid_index, &gid) != 0) {
            explain(reason, reason_length, "cannot read GID %d of port %d", gid_index, chosen_port_number);
            cshims_verbs_close(endpoint);
            return EINVAL;
        }
        memcpy(address->gid, gid.raw, 16);
        address->gid_index = (uint8_t)gid_index;
    }
    if (address->link_layer == 2 && gid_index < 0) {
        explain(reason, reason_length, "RoCE port %d has no usable GID", chosen_port_number);
        cshims_verbs_close(endpoint);
        return ENODEV;
    }
    errno = 0;  // the library sets errno on failure, or may not: ENOMEM then
    endpoint->pd = verbs.alloc_pd(chosen);
    if (!endpoint->pd) {
        err = errno ? errno : ENOMEM;
        explain(reason, reason_length, "ibv_alloc_pd: %s", strerror(err));
        cshims_verbs_close(endpoint);
        return err;
    }
    errno = 0;
    endpoint->cq = verbs.create_cq(chosen, cq_depth, NULL, NULL, 0);
    if (!endpoint->cq) {
        err = errno ? errno : ENOMEM;
        explain(reason, reason_length, "ibv_create_cq(%d): %s", cq_depth, strerror(err));
        cshims_verbs_close(endpoint);
        return err;
    }
    *address_out = *address;
    *endpoint_out = endpoint;
    return 0;
}

void cshims_verbs_close(cshims_verbs_endpoint *endpoint) {
    if (!endpoint) return;
    if (endpoint->cq) verbs.destroy_cq(endpoint->cq);
    if (endpoint->pd) verbs.dealloc_pd(endpoint->pd);
    if (endpoint->context) verbs.close_device(endpoint->context);
    free(endpoint);
}

uint32_t cshims_verbs_max_message(const cshims_verbs_endpoint *endpoint) { return endpoint->max_message; }

int cshims_verbs_create_qp(cshims_verbs_endpoint *endpoint, int send_depth, int receive_depth, int max_inline,
                           void **qp_out, uint32_t *qp_number_out, uint32_t *max_inline_out, uint32_t *max_sge_out) {
    struct ibv_qp_init_attr init;
    memset(&init, 0, sizeof init);
    init.send_cq = endpoint->cq;
    init.recv_cq = endpoint->cq;
    init.qp_type = IBV_QPT_RC;
    init.sq_sig_all = 0;
    init.cap.max_send_wr = (uint32_t)send_depth;
    init.cap.max_recv_wr = (uint32_t)receive_depth;
    init.cap.max_send_sge = (uint32_t)endpoint->max_sge;
    init.cap.max_recv_sge = 1;
    init.cap.max_inline_data = (uint32_t)max_inline;
    errno = 0;
    struct ibv_qp *qp = verbs.create_qp(endpoint->pd, &init);
    if (!qp && max_inline > 0) {  // some providers refuse inline data: do without
        init.cap.max_inline_data = 0;
        qp = verbs.create_qp(endpoint->pd, &init);
    }
    if (!qp && init.cap.max_send_sge > 1) {  // nor several entries: one each
        init.cap.max_send_sge = 1;
        qp = verbs.create_qp(endpoint->pd, &init);
    }
    if (!qp) return errno ? errno : ENOMEM;
    *qp_out = qp;
    *qp_number_out = qp->qp_num;
    *max_inline_out = init.cap.max_inline_data;
    uint32_t granted = init.cap.max_send_sge;  // the provider may raise it; never above what is asked here
    *max_sge_out = granted < 1 ? 1 : granted > CSHIMS_VERBS_MAX_SGE ? CSHIMS_VERBS_MAX_SGE : granted;
    return 0;
}

int cshims_verbs_connect_qp(cshims_verbs_endpoint *endpoint, void *opaque_qp, const cshims_verbs_address *remote,
                            uint32_t remote_qp_number, uint32_t remote_psn, uint32_t local_psn,
                            char *reason, size_t reason_length) {
    struct ibv_qp *qp = opaque_qp;
    const cshims_verbs_address *local = &endpoint->address;
    struct ibv_qp_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.qp_state = IBV_QPS_INIT;
    attr.pkey_index = 0;
    attr.port_num = local->port_number;
    attr.qp_access_flags = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE;
    int err = verbs.modify_qp(qp, &attr, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS);
    if (err) { explain(reason, reason_length, "queue pair to INIT: %s", strerror(err)); return err; }

    memset(&attr, 0, sizeof attr);
    attr.qp_state = IBV_QPS_RTR;
    attr.path_mtu = (enum ibv_mtu)(local->active_mtu < remote->active_mtu ? local->active_mtu : remote->active_mtu);
    attr.dest_qp_num = remote_qp_number;
    attr.rq_psn = remote_psn;
    attr.max_dest_rd_atomic = local->max_rd_atomic;
    attr.min_rnr_timer = 12;  // 0.64 ms
    attr.ah_attr.dlid = remote->lid;
    attr.ah_attr.port_num = local->port_number;
    static const uint8_t zero[16];
    if (local->link_layer == 2 || memcmp(remote->gid, zero, 16) != 0) {
        attr.ah_attr.is_global = 1;  // RoCE always routes by GID (GRH)
        memcpy(attr.ah_attr.grh.dgid.raw, remote->gid, 16);
        attr.ah_attr.grh.sgid_index = local->gid_index;
        attr.ah_attr.grh.hop_limit = 64;
    }
    err = verbs.modify_qp(qp, &attr, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
                                         IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER);
    if (err) { explain(reason, reason_length, "queue pair to RTR (ready to receive): %s", strerror(err)); return err; }

    memset(&attr, 0, sizeof attr);
    attr.qp_state = IBV_QPS_RTS;
    attr.timeout = 18;     // 4.096 µs × 2^18 ≈ 1.07 s per attempt (UCX's default is 1 s; 67 ms retransmitted needlessly under load)
    attr.retry_cnt = 7;
    attr.rnr_retry = 7;    // infinite: credits keep receivers posted, RNR only slows a sender down
    attr.sq_psn = local_psn;
    attr.max_rd_atomic = remote->max_rd_atomic < local->max_rd_atomic ? remote->max_rd_atomic : local->max_rd_atomic;
    err = verbs.modify_qp(qp, &attr, IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN |
                                         IBV_QP_MAX_QP_RD_ATOMIC);
    if (err) { explain(reason, reason_length, "queue pair to RTS (ready to send): %s", strerror(err)); return err; }
    return 0;
}

void cshims_verbs_destroy_qp(void *qp) {
    if (qp) verbs.destroy_qp(qp);
}

int cshims_verbs_register(cshims_verbs_endpoint *endpoint, void *address, size_t length, void **mr_out,
                          uint32_t *lkey_out, uint32_t *rkey_out) {
    errno = 0;
    struct ibv_mr *mr = verbs.reg_mr(endpoint->pd, address, length,
                                     IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE);
    if (!mr) return errno ? errno : ENOMEM;
    *mr_out = mr;
    *lkey_out = mr->lkey;
    *rkey_out = mr->rkey;
    return 0;
}

void cshims_verbs_deregister(void *mr) {
    if (mr) verbs.dereg_mr(mr);
}

// MARK: - Data path (the library's inline calls: provider function pointers, no symbol look-up)

/// Posts one signaled work request of `count` scatter/gather entries: a SEND, or an RDMA READ or
/// WRITE of (`remote`, `rkey`).
static int post_one(void *qp, uint64_t wr_id, struct ibv_sge *sge, int count, enum ibv_wr_opcode opcode, int inline_data,
                    uint64_t remote, uint32_t rkey) {
    struct ibv_send_wr wr, *bad = NULL;
    memset(&wr, 0, sizeof wr);
    wr.wr_id = wr_id;
    wr.sg_list = sge;
    wr.num_sge = count;
    wr.opcode = opcode;
    wr.send_flags = IBV_SEND_SIGNALED | (inline_data ? IBV_SEND_INLINE : 0);
    if (opcode != IBV_WR_SEND) {
        wr.wr.rdma.remote_addr = remote;
        wr.wr.rdma.rkey = rkey;
    }
    return ibv_post_send(qp, &wr, &bad);
}

int cshims_verbs_post_send(void *qp, uint64_t wr_id, const void *address, uint32_t length, uint32_t lkey, int inline_data) {
    struct ibv_sge sge = {.addr = (uintptr_t)address, .length = length, .lkey = lkey};
    return post_one(qp, wr_id, &sge, 1, IBV_WR_SEND, inline_data, 0, 0);
}

int cshims_verbs_post_read(void *qp, uint64_t wr_id, void *local, uint32_t length, uint32_t lkey, uint64_t remote, uint32_t rkey) {
    struct ibv_sge sge = {.addr = (uintptr_t)local, .length = length, .lkey = lkey};
    return post_one(qp, wr_id, &sge, 1, IBV_WR_RDMA_READ, 0, remote, rkey);
}

int cshims_verbs_post_write(void *qp, uint64_t wr_id, const void *local, uint32_t length, uint32_t lkey, uint64_t remote, uint32_t rkey,
                            int inline_data) {
    struct ibv_sge sge = {.addr = (uintptr_t)local, .length = length, .lkey = lkey};
    return post_one(qp, wr_id, &sge, 1, IBV_WR_RDMA_WRITE, inline_data, remote, rkey);
}

int cshims_verbs_post_read_list(void *qp, uint64_t wr_id, const struct cshims_segment *local, int count, uint32_t lkey,
                                uint64_t remote, uint32_t rkey) {
    if (count < 1 || count > CSHIMS_VERBS_MAX_SGE) return EINVAL;
    struct ibv_sge sge[CSHIMS_VERBS_MAX_SGE];
    uint64_t total = 0;
    for (int i = 0; i < count; i++) {
        if (local[i].length == 0 || local[i].length > UINT32_MAX) return EINVAL;
        sge[i].addr = local[i].address;
        sge[i].length = (uint32_t)local[i].length;
        sge[i].lkey = lkey;
        total += local[i].length;
    }
    if (total > UINT32_MAX) return EINVAL;
    return post_one(qp, wr_id, sge, count, IBV_WR_RDMA_READ, 0, remote, rkey);
}

int cshims_verbs_post_receive(void *qp, uint64_t wr_id, void *address, uint32_t length, uint32_t lkey) {
    struct ibv_sge sge = {.addr = (uintptr_t)address, .length = length, .lkey = lkey};
    struct ibv_recv_wr wr, *bad = NULL;
    memset(&wr, 0, sizeof wr);
    wr.wr_id = wr_id;
    wr.sg_list = &sge;
    wr.num_sge = 1;
    return ibv_post_recv(qp, &wr, &bad);
}

int cshims_verbs_poll(cshims_verbs_endpoint *endpoint, cshims_verbs_completion *completions, int capacity, int *count_out) {
    struct ibv_wc wc[16];
    if (capacity > 16) capacity = 16;
    *count_out = 0;
    int n = ibv_poll_cq(endpoint->cq, capacity, wc);
    if (n < 0) return EIO;  // ibv_poll_cq reports a failure by a negative count, without an errno
    for (int i = 0; i < n; i++) {
        completions[i].wr_id = wc[i].wr_id;
        completions[i].status = (uint32_t)wc[i].status;
        completions[i].byte_len = wc[i].byte_len;
    }
    *count_out = n;
    return 0;
}

const char *cshims_verbs_status_text(uint32_t status) {
    if (cshims_verbs_load(NULL, 0) != 0) return "unknown status";
    return verbs.wc_status_str((enum ibv_wc_status)status);
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

int cshims_verbs_open(const char *device, int port, int gid_index, int cq_depth, cshims_verbs_endpoint **endpoint_out,
                      cshims_verbs_address *address_out, char *reason, size_t reason_length) {
    (void)device; (void)port; (void)gid_index; (void)cq_depth; (void)address_out;
    *endpoint_out = NULL;
    return cshims_verbs_load(reason, reason_length);
}
void cshims_verbs_close(cshims_verbs_endpoint *endpoint) { (void)endpoint; }
uint32_t cshims_verbs_max_message(const cshims_verbs_endpoint *endpoint) { (void)endpoint; return 0; }
int cshims_verbs_create_qp(cshims_verbs_endpoint *endpoint, int send_depth, int receive_depth, int max_inline,
                           void **qp_out, uint32_t *qp_number_out, uint32_t *max_inline_out, uint32_t *max_sge_out) {
    (void)endpoint; (void)send_depth; (void)receive_depth; (void)max_inline; (void)qp_out; (void)qp_number_out; (void)max_inline_out; (void)max_sge_out;
    return ENOTSUP;
}
int cshims_verbs_connect_qp(cshims_verbs_endpoint *endpoint, void *qp, const cshims_verbs_address *remote,
                            uint32_t remote_qp_number, uint32_t remote_psn, uint32_t local_psn,
                            char *reason, size_t reason_length) {
    (void)endpoint; (void)qp; (void)remote; (void)remote_qp_number; (void)remote_psn; (void)local_psn;
    return cshims_verbs_load(reason, reason_length);
}
void cshims_verbs_destroy_qp(void *qp) { (void)qp; }
int cshims_verbs_register(cshims_verbs_endpoint *endpoint, void *address, size_t length, void **mr_out,
                          uint32_t *lkey_out, uint32_t *rkey_out) {
    (void)endpoint; (void)address; (void)length; (void)mr_out; (void)lkey_out; (void)rkey_out;
    return ENOTSUP;
}
void cshims_verbs_deregister(void *mr) { (void)mr; }
int cshims_verbs_post_send(void *qp, uint64_t wr_id, const void *address, uint32_t length, uint32_t lkey, int inline_data) {
    (void)qp; (void)wr_id; (void)address; (void)length; (void)lkey; (void)inline_data;
    return ENOTSUP;
}
int cshims_verbs_post_read(void *qp, uint64_t wr_id, void *local, uint32_t length, uint32_t lkey, uint64_t remote, uint32_t rkey) {
    (void)qp; (void)wr_id; (void)local; (void)length; (void)lkey; (void)remote; (void)rkey;
    return ENOTSUP;
}
int cshims_verbs_post_read_list(void *qp, uint64_t wr_id, const struct cshims_segment *local, int count, uint32_t lkey,
                                uint64_t remote, uint32_t rkey) {
    (void)qp; (void)wr_id; (void)local; (void)count; (void)lkey; (void)remote; (void)rkey;
    return ENOTSUP;
}
int cshims_verbs_post_write(void *qp, uint64_t wr_id, const void *local, uint32_t length, uint32_t lkey, uint64_t remote, uint32_t rkey,
                            int inline_data) {
    (void)qp; (void)wr_id; (void)local; (void)length; (void)lkey; (void)remote; (void)rkey; (void)inline_data;
    return ENOTSUP;
}
int cshims_verbs_post_receive(void *qp, uint64_t wr_id, void *address, uint32_t length, uint32_t lkey) {
    (void)qp; (void)wr_id; (void)address; (void)length; (void)lkey;
    return ENOTSUP;
}
int cshims_verbs_poll(cshims_verbs_endpoint *endpoint, cshims_verbs_completion *completions, int capacity, int *count_out) {
    (void)endpoint; (void)completions; (void)capacity;
    *count_out = 0;
    return ENOTSUP;
}
const char *cshims_verbs_status_text(uint32_t status) { (void)status; return "verbs not built"; }
int cshims_malloc_keep_pages(void) { return ENOTSUP; }

#endif
