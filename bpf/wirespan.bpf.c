// SPDX-License-Identifier: GPL-2.0
/* wirespan capture programs: TCP socket I/O of selected processes into one ring buffer.
 *
 * Shape: every syscall of interest saves its arguments at sys_enter (keyed by pid_tgid) and does
 * the work at sys_exit, when the byte count is known and the user buffer holds the data for both
 * directions. Connection state lives in ws_conns keyed by {tgid, fd}; user space receives
 * CONN_OPEN / DATA / CONN_CLOSE / PROC_* records (bpf/events.h) and does all the protocol work.
 * Kernel reads go through core_read.bpf.h, the pre-filter is proto_sniff.bpf.h.
 */
// clang-format off
#include "vmlinux.h" /* first: every other kernel header relies on its types */
// clang-format on

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "bpf/events.h"
#include "core_read.bpf.h"
#include "proto_sniff.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define WS_EINPROGRESS 115
#define WS_MSG_PEEK 2
/* A connection first seen mid-stream may show the middle of a message to the sniffer: give it this
 * many data syscalls to show a recognisable start. Also bounds how long "unsure" may last. */
#define WS_SNIFF_BUDGET 16
/* Room in the scratch value: a chunk starts at offset < WS_MAX_COPY_PER_EVENT and copies at most
 * WS_MAX_COPY_PER_EVENT, so twice that keeps every variable-offset copy provably in bounds. */
#define WS_SCRATCH_DATA (2 * WS_MAX_COPY_PER_EVENT)

/* ---- configuration (rodata, set by user space before load) ---- */
const volatile __u32 self_tgid = 0;
const volatile __u32 filter_tgids = 0;
const volatile __u32 filter_ports = 0;
const volatile __u32 proto_filter = 1;
const volatile __u32 max_copy_per_event = WS_MAX_COPY_PER_EVENT;
const volatile __u32 max_copy_per_syscall = WS_DEFAULT_MAX_COPY_PER_SYSCALL;

/* Connection ids: one global counter, so ids stay unique across CPUs and fd reuse. */
__u64 ws_next_conn_id = 0;

/* ---- maps ---- */
struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 32 << 20); /* resized by user space */
} ws_events SEC(".maps");

struct ws_args {
  __u64 enter_ts;
  __u64 buf;   /* buffer, iovec array or msghdr (user pointer) */
  __u64 len;   /* byte count or iovec count */
  __u64 flags; /* recv/send flags (MSG_PEEK matters) */
  __s32 fd;
  __u32 sys; /* enum ws_syscall */
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 32768);
  __type(key, __u64); /* pid_tgid */
  __type(value, struct ws_args);
} ws_args SEC(".maps");

struct ws_conn_key {
  __u32 tgid;
  __s32 fd;
};

enum ws_filter_state {
  WS_FILTER_UNDECIDED = 0,
  WS_FILTER_KEEP = 1,
  WS_FILTER_DROP = 2,    /* pre-filter said no: data skipped, close still reported */
  WS_FILTER_IGNORED = 3, /* outside the port filter: nothing at all is reported */
};

struct ws_conn {
  __u64 conn_id;
  __u64 sk;     /* struct sock *, detects an fd reused behind our back (dup2, close_range) */
  __u64 pos[2]; /* bytes so far per enum ws_direction */
  struct ws_tuple tuple;
  struct ws_ns_ids ns;
  __u8 role;
  __u8 filter; /* enum ws_filter_state */
  __u8 budget; /* sniff attempts left before an undecided connection is dropped */
  __u8 midstream;
};

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct ws_conn_key);
  __type(value, struct ws_conn);
} ws_conns SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32);
  __type(value, __u8);
} ws_tgids SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 256);
  __type(key, __u16);
  __type(value, __u8);
} ws_ports SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, WS_STAT_COUNT);
  __type(key, __u32);
  __type(value, __u64);
} ws_stats SEC(".maps");

/* ---- small helpers ---- */
static __always_inline void ws_stat_add(__u32 idx, __u64 v) {
  __u64* p = bpf_map_lookup_elem(&ws_stats, &idx);
  if (p) *p += v;
}

static __always_inline int ws_tgid_traced(__u32 tgid) {
  if (tgid == self_tgid) return 0;
  if (filter_tgids && !bpf_map_lookup_elem(&ws_tgids, &tgid)) return 0;
  return 1;
}

static __always_inline int ws_port_selected(const struct ws_tuple* t) {
  if (!filter_ports) return 1;
  __u16 p = t->local_port;
  if (bpf_map_lookup_elem(&ws_ports, &p)) return 1;
  p = t->remote_port;
  return bpf_map_lookup_elem(&ws_ports, &p) != NULL;
}

static __always_inline void ws_fill_header(struct ws_event_header* h, __u8 type, __u64 ts,
                                           __u64 conn_id, __u64 pid_tgid, __s32 fd) {
  h->ts_ns = ts;
  h->conn_id = conn_id;
  h->tgid = pid_tgid >> 32;
  h->tid = (__u32)pid_tgid;
  h->fd = fd;
  h->type = type;
  h->pad[0] = h->pad[1] = h->pad[2] = 0;
}

static __always_inline void ws_emit_conn(struct ws_conn* c, __u8 type, __u64 pid_tgid, __s32 fd,
                                         __u8 sys, __u16 flags) {
  struct ws_conn_event* e = bpf_ringbuf_reserve(&ws_events, sizeof(*e), 0);
  if (!e) {
    ws_stat_add(WS_STAT_RINGBUF_FULL, 1);
    return;
  }
  ws_fill_header(&e->hdr, type, bpf_ktime_get_ns(), c->conn_id, pid_tgid, fd);
  e->tuple = c->tuple;
  e->role = c->role;
  e->syscall = sys;
  e->flags = flags;
  e->pidns_ino = c->ns.pid;
  e->mntns_ino = c->ns.mnt;
  e->netns_ino = c->ns.net;
  e->bytes_sent = type == WS_EVENT_CONN_CLOSE ? c->pos[WS_DIR_EGRESS] : 0;
  e->bytes_received = type == WS_EVENT_CONN_CLOSE ? c->pos[WS_DIR_INGRESS] : 0;
  bpf_ringbuf_submit(e, 0);
  ws_stat_add(WS_STAT_EVENTS, 1);
}

/* Starts tracking (tgid, fd) -> sk and reports CONN_OPEN. An entry already holding the same socket
 * is kept (a second connect() after EINPROGRESS); one holding another socket is a close we missed
 * (dup2 over it, close_range) and is reported closed first. */
#define WS_OPEN_META(role, sys, flags) \
  ((__u32)(role) | ((__u32)(sys) << 8) | ((__u32)(flags) << 16))

static __noinline struct ws_conn* ws_conn_open(struct sock* sk, __u64 pid_tgid, __s32 fd,
                                               __u32 meta) {
  /* BPF subprograms take at most 5 arguments: role, syscall and flags travel packed in meta. */
  __u8 role = meta & 0xff, sys = (meta >> 8) & 0xff;
  __u16 flags = meta >> 16;
  struct task_struct* task = bpf_get_current_task_btf();
  struct ws_conn_key key = {.tgid = pid_tgid >> 32, .fd = fd};
  struct ws_conn* old = bpf_map_lookup_elem(&ws_conns, &key);
  if (old) {
    if (old->sk == (__u64)sk) return old;
    if (old->filter != WS_FILTER_IGNORED)
      ws_emit_conn(old, WS_EVENT_CONN_CLOSE, pid_tgid, fd, WS_SYS_NONE, 0);
  }
  struct ws_conn c = {};
  c.conn_id = __sync_fetch_and_add(&ws_next_conn_id, 1) + 1;
  c.sk = (__u64)sk;
  ws_read_tuple(sk, &c.tuple);
  ws_read_ns(task, &c.ns);
  c.role = role;
  c.budget = WS_SNIFF_BUDGET;
  c.midstream = (flags & WS_CONN_FLAG_MIDSTREAM) != 0;
  c.filter = ws_port_selected(&c.tuple) ? WS_FILTER_UNDECIDED : WS_FILTER_IGNORED;
  if (!proto_filter && c.filter == WS_FILTER_UNDECIDED) c.filter = WS_FILTER_KEEP;
  if (bpf_map_update_elem(&ws_conns, &key, &c, BPF_ANY)) {
    ws_stat_add(WS_STAT_MAP_FULL, 1);
    return NULL;
  }
  struct ws_conn* cp = bpf_map_lookup_elem(&ws_conns, &key);
  if (cp && cp->filter != WS_FILTER_IGNORED)
    ws_emit_conn(cp, WS_EVENT_CONN_OPEN, pid_tgid, fd, sys, flags);
  return cp;
}

/* ---- data emission ---- */

/* State of one syscall's emission, walked by bpf_loop one step at a time: each step either loads
 * the next iovec or copies one piece into the scratch chunk. Scalars only: the callback looks the
 * scratch value up again rather than carrying pointers through the loop context. */
struct ws_emit {
  __u64 iov_ptr;   /* user iovec array; 0 for a single buffer */
  __u64 seg_ptr;   /* user pointer of the current segment */
  __u64 seg_left;  /* bytes left in it (already capped to copy_left) */
  __u64 copy_left; /* bytes still to copy under the per-syscall cap */
  __u64 total;     /* the syscall's return value */
  __u64 done;      /* bytes covered by emitted events so far */
  __u64 pos0;      /* stream position of the syscall's first byte */
  __u32 seq0;      /* TCP sequence number of the syscall's first byte */
  __u32 iov_idx;
  __u32 iov_cnt;
  __u32 fill;      /* bytes waiting in the scratch chunk */
  __u32 chunk_max; /* max_copy_per_event, clamped */
  __u32 gap_stat;  /* counter charged for an uncopied tail: cap, iovec limit or read failure */
  __u8 last_flags; /* added to the final event (WS_DATA_FLAG_FILTERED) */
};

/* The emission state lives in the map value, not on the stack: values loaded from a map are
 * unknown to the verifier, so every bpf_loop iteration starts from the same abstract state and
 * verification converges (stack-held counters are tracked precisely and never converge). */
struct ws_scratch {
  struct ws_emit x;
  __u8 buf[sizeof(struct ws_data_event) + WS_SCRATCH_DATA];
};

/* Per-CPU scratch for data records: header + payload, emitted with bpf_ringbuf_output so the ring
 * space used matches the bytes copied. A per-CPU array value is limited to 32 KiB, less than the
 * header plus WS_SCRATCH_DATA, so this is a plain array indexed by CPU (user space sets
 * max_entries to the number of possible CPUs). */

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ws_scratch);
} ws_scratch SEC(".maps");

static __always_inline void ws_flush(struct ws_emit* x, __u8* buf, __u64 covered, __u32 copied,
                                     __u8 flags) {
  struct ws_data_event* ev = (void*)buf;
  if (covered > 0xffffffffull) covered = 0xffffffffull;
  ev->stream_pos = x->pos0 + x->done;
  ev->tcp_seq = x->seq0 + (__u32)x->done;
  ev->covered_len = (__u32)covered;
  ev->copied_len = copied;
  x->done += covered;
  ev->flags = flags | (x->done >= x->total ? x->last_flags : 0);
  if (copied > WS_MAX_COPY_PER_EVENT) return; /* cannot happen; keeps the size provably bounded */
  if (bpf_ringbuf_output(&ws_events, buf, sizeof(*ev) + copied, 0)) {
    ws_stat_add(WS_STAT_RINGBUF_FULL, 1);
    return;
  }
  ws_stat_add(WS_STAT_EVENTS, 1);
  ws_stat_add(WS_STAT_BYTES_COPIED, copied);
}

static long ws_emit_step(__u32 index, void* arg) {
  __u32 cpu = bpf_get_smp_processor_id();
  struct ws_scratch* sc = bpf_map_lookup_elem(&ws_scratch, &cpu);
  if (!sc) return 1;
  struct ws_emit* x = &sc->x;
  __u8* buf = sc->buf;

  if (x->copy_left == 0) {
    /* Everything under the cap is copied: flush, then one uncopied event covers the rest. */
    if (x->fill) {
      ws_flush(x, buf, x->fill, x->fill, 0);
      x->fill = 0;
    }
    if (x->done < x->total) {
      __u64 rest = x->total - x->done;
      ws_stat_add(x->gap_stat, x->gap_stat == WS_STAT_COPY_TRUNCATED ? rest : 1);
      ws_flush(x, buf, rest, 0, WS_DATA_FLAG_TRUNCATED);
    }
    return 1;
  }

  if (x->seg_left == 0) {
    if (!x->iov_ptr || x->iov_idx >= x->iov_cnt || x->iov_idx >= WS_MAX_IOVECS) {
      /* Out of buffers before the byte count: the rest becomes a counted gap. */
      x->gap_stat = x->iov_idx >= WS_MAX_IOVECS ? WS_STAT_IOV_LIMIT : WS_STAT_READ_FAILED;
      x->copy_left = 0;
      return 0;
    }
    struct iovec iov = {};
    if (bpf_probe_read_user(&iov, sizeof(iov),
                            (void*)(x->iov_ptr + (__u64)x->iov_idx * sizeof(struct iovec)))) {
      x->gap_stat = WS_STAT_READ_FAILED;
      x->copy_left = 0;
      return 0;
    }
    x->iov_idx++;
    x->seg_ptr = (__u64)iov.iov_base;
    x->seg_left = iov.iov_len < x->copy_left ? iov.iov_len : x->copy_left;
    return 0;
  }

  __u32 off = x->fill;
  __u64 n = x->chunk_max - off;
  if (x->seg_left < n) n = x->seg_left;
  if (off >= WS_MAX_COPY_PER_EVENT || n == 0 || n > WS_MAX_COPY_PER_EVENT) return 1;
  if (bpf_probe_read_user(buf + sizeof(struct ws_data_event) + off, n, (void*)x->seg_ptr)) {
    /* Page not present: these bytes become a gap; the stream stays aligned. */
    ws_stat_add(WS_STAT_READ_FAILED, 1);
    if (x->fill) {
      ws_flush(x, buf, x->fill, x->fill, 0);
      x->fill = 0;
    }
    ws_flush(x, buf, n, 0, WS_DATA_FLAG_TRUNCATED);
  } else {
    x->fill += n;
  }
  x->seg_ptr += n;
  x->seg_left -= n;
  x->copy_left -= n;
  if (x->fill && (x->fill >= x->chunk_max || x->copy_left == 0)) {
    ws_flush(x, buf, x->fill, x->fill, 0);
    x->fill = 0;
  }
  return 0;
}

/* Reads the first bytes the syscall moved and decides whether the connection may keep flowing.
 * Every protocol wirespan decodes is client-first, so a connection seen from connect/accept is
 * judged on its first data: the client's opening bytes. Mid-stream connections get a budget. */
static __always_inline __u8 ws_prefilter(struct ws_conn* c, __u64 ptr, __u64 len) {
  __u8 head[WS_PROTO_SNIFF_LEN] = {};
  __u32 n = len < WS_PROTO_SNIFF_LEN ? (__u32)len : WS_PROTO_SNIFF_LEN;
  int verdict = WS_SNIFF_UNSURE;
  if (n > 0 && n <= WS_PROTO_SNIFF_LEN && bpf_probe_read_user(head, n, (void*)ptr) == 0)
    verdict = ws_sniff(head, n);
  if (verdict == WS_SNIFF_YES) {
    c->filter = WS_FILTER_KEEP;
    return 0;
  }
  if (verdict == WS_SNIFF_NO && !c->midstream) c->budget = 0;
  if (c->budget > 0) c->budget--;
  if (c->budget == 0) {
    c->filter = WS_FILTER_DROP;
    return WS_DATA_FLAG_FILTERED;
  }
  return 0;
}

/* The common exit path of every data syscall that moved ret > 0 bytes. */
static __noinline int ws_handle_data(struct ws_args* a, __u64 pid_tgid, __s64 ret, __u8 dir) {
  struct task_struct* task = bpf_get_current_task_btf();
  struct sock* sk = ws_tcp_sock_from_fd(task, a->fd);
  if (!sk) return 0;

  struct ws_conn_key key = {.tgid = pid_tgid >> 32, .fd = a->fd};
  struct ws_conn* c = bpf_map_lookup_elem(&ws_conns, &key);
  if (!c || c->sk != (__u64)sk) {
    /* Opened before we started (or its connect/accept went unseen). */
    c = ws_conn_open(sk, pid_tgid, a->fd,
                     WS_OPEN_META(WS_ROLE_UNKNOWN, a->sys, WS_CONN_FLAG_MIDSTREAM));
    if (!c) return 0;
  }
  if (c->filter == WS_FILTER_IGNORED) return 0;

  /* Positions advance even when nothing is emitted so close totals and later gaps stay right. */
  __u64 pos0 = c->pos[dir & 1];
  c->pos[dir & 1] = pos0 + ret;
  if (c->filter == WS_FILTER_DROP) {
    ws_stat_add(WS_STAT_PROTO_FILTERED, 1);
    return 0;
  }

  __u32 cpu = bpf_get_smp_processor_id();
  struct ws_scratch* sc = bpf_map_lookup_elem(&ws_scratch, &cpu);
  if (!sc) return 0;
  struct ws_emit* x = &sc->x;
  __builtin_memset(x, 0, sizeof(*x));
  x->total = ret;
  x->pos0 = pos0;
  x->chunk_max = max_copy_per_event;
  if (x->chunk_max == 0 || x->chunk_max > WS_MAX_COPY_PER_EVENT)
    x->chunk_max = WS_MAX_COPY_PER_EVENT;
  x->copy_left = (__u64)ret < max_copy_per_syscall ? (__u64)ret : max_copy_per_syscall;
  x->gap_stat = WS_STAT_COPY_TRUNCATED;
  __u32 seq_end = dir == WS_DIR_EGRESS ? ws_tcp_write_seq(sk) : ws_tcp_copied_seq(sk);
  x->seq0 = seq_end - (__u32)ret;

  int size_only = a->sys == WS_SYS_SENDFILE;
  if (size_only) {
    x->copy_left = 0;
  } else if (a->sys == WS_SYS_READV || a->sys == WS_SYS_WRITEV) {
    x->iov_ptr = a->buf;
    x->iov_cnt = a->len;
  } else if (a->sys == WS_SYS_RECVMSG || a->sys == WS_SYS_SENDMSG) {
    struct user_msghdr msg = {};
    if (bpf_probe_read_user(&msg, sizeof(msg), (void*)a->buf) == 0) {
      x->iov_ptr = (__u64)msg.msg_iov;
      x->iov_cnt = msg.msg_iovlen;
    }
  } else {
    x->seg_ptr = a->buf;
    x->seg_left = x->copy_left;
  }

  if (c->filter == WS_FILTER_UNDECIDED && !size_only) {
    __u64 sniff_ptr = x->seg_ptr, sniff_len = x->seg_left;
    if (x->iov_ptr) {
      struct iovec iov = {};
      if (bpf_probe_read_user(&iov, sizeof(iov), (void*)x->iov_ptr) == 0) {
        sniff_ptr = (__u64)iov.iov_base;
        sniff_len = iov.iov_len < (__u64)ret ? iov.iov_len : (__u64)ret;
      }
    }
    x->last_flags = ws_prefilter(c, sniff_ptr, sniff_len);
  }

  struct ws_data_event* ev = (void*)sc->buf;
  ws_fill_header(&ev->hdr, WS_EVENT_DATA, bpf_ktime_get_ns(), c->conn_id, pid_tgid, a->fd);
  ev->tuple = c->tuple;
  ev->enter_ts_ns = a->enter_ts;
  ev->syscall_len = ret;
  ev->pidns_ino = c->ns.pid;
  ev->mntns_ino = c->ns.mnt;
  ev->netns_ino = c->ns.net;
  ev->direction = dir;
  ev->role = c->role;
  ev->syscall = a->sys;
  ev->flags = 0;
  ev->pad = 0;

  if (size_only) {
    ws_flush(x, sc->buf, ret, 0, WS_DATA_FLAG_SIZE_ONLY);
    return 0;
  }
  /* Steps: one per iovec plus one per chunk, plus the closing flush/gap step. */
  __u32 steps = WS_MAX_IOVECS + max_copy_per_syscall / x->chunk_max + 4;
  if (steps > 4096) steps = 4096;
  bpf_loop(steps, ws_emit_step, NULL, 0);
  return 0;
}

/* ---- syscall programs ---- */

static __always_inline int ws_save(__u32 sys, __s64 fd, __u64 buf, __u64 len, __u64 flags) {
  __u64 id = bpf_get_current_pid_tgid();
  if (!ws_tgid_traced(id >> 32)) return 0;
  struct ws_args a = {
      .enter_ts = bpf_ktime_get_ns(), .buf = buf, .len = len, .flags = flags, .fd = fd, .sys = sys};
  if (bpf_map_update_elem(&ws_args, &id, &a, BPF_ANY)) ws_stat_add(WS_STAT_MAP_FULL, 1);
  return 0;
}

static __always_inline __u8 ws_sys_direction(__u32 sys) {
  switch (sys) {
    case WS_SYS_WRITE:
    case WS_SYS_WRITEV:
    case WS_SYS_SENDTO:
    case WS_SYS_SENDMSG:
    case WS_SYS_SENDFILE:
      return WS_DIR_EGRESS;
    default:
      return WS_DIR_INGRESS;
  }
}

/* The data path proper, shared by every data syscall's exit through a tail call. Verifying it
 * once instead of inside each of the nine sys_exit programs cuts load time roughly tenfold. It is
 * reached only through ws_jump, so it has no attach point of its own. */
SEC("tracepoint")
int ws_data(struct trace_event_raw_sys_exit* ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  struct ws_args* ap = bpf_map_lookup_elem(&ws_args, &id);
  if (!ap) return 0;
  struct ws_args a = *ap;
  bpf_map_delete_elem(&ws_args, &id);
  __s64 ret = ctx->ret;
  if (ret <= 0) return 0;
  return ws_handle_data(&a, id, ret, ws_sys_direction(a.sys));
}

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 1);
  __uint(key_size, sizeof(__u32)); /* sizes, not BTF types: prog arrays refuse BTF keys */
  __array(values, int(struct trace_event_raw_sys_exit*));
} ws_jump SEC(".maps") = {
    .values = {[0] = (void*)&ws_data},
};

/* Cheap checks stay here so most syscalls (errors, EAGAIN, MSG_PEEK) never take the tail call.
 * A syscall that entered before the programs were attached has no saved arguments; they are
 * recovered from the saved user registers, so a read blocked since before start-up (a server
 * waiting on a keep-alive connection) is not lost. */
static __always_inline int ws_data_exit(struct trace_event_raw_sys_exit* ctx, __u32 sys,
                                        int fd_arg, int buf_arg, int len_arg, int flags_arg) {
  __u64 id = bpf_get_current_pid_tgid();
  struct ws_args* ap = bpf_map_lookup_elem(&ws_args, &id);
  if (!ap) {
    if (ctx->ret <= 0 || !ws_tgid_traced(id >> 32)) return 0;
    struct pt_regs* regs = (struct pt_regs*)bpf_task_pt_regs(bpf_get_current_task_btf());
    if (!regs) return 0;
    struct ws_args a = {
        .enter_ts = bpf_ktime_get_ns(),
        .buf = ws_syscall_arg(regs, buf_arg),
        .len = ws_syscall_arg(regs, len_arg),
        .flags = flags_arg >= 0 ? ws_syscall_arg(regs, flags_arg) : 0,
        .fd = (__s32)ws_syscall_arg(regs, fd_arg),
        .sys = sys};
    if (a.flags & WS_MSG_PEEK) return 0;
    if (bpf_map_update_elem(&ws_args, &id, &a, BPF_ANY)) {
      ws_stat_add(WS_STAT_MAP_FULL, 1);
      return 0;
    }
    ap = bpf_map_lookup_elem(&ws_args, &id);
    if (!ap) return 0;
  }
  /* MSG_PEEK leaves the bytes queued: they will be seen again by the consuming read. */
  if (ctx->ret <= 0 || (ap->flags & WS_MSG_PEEK)) {
    bpf_map_delete_elem(&ws_args, &id);
    return 0;
  }
  bpf_tail_call(ctx, &ws_jump, 0);
  /* Only reached if the tail call failed (e.g. the call chain limit): drop the saved call. */
  bpf_map_delete_elem(&ws_args, &id);
  ws_stat_add(WS_STAT_MAP_FULL, 1);
  return 0;
}

#define WS_DATA_PROGS(name, sys, fd_arg, buf_arg, len_arg, flags_arg)                        \
  SEC("tracepoint/syscalls/sys_enter_" #name)                                                \
  int ws_enter_##name(struct trace_event_raw_sys_enter* ctx) {                               \
    return ws_save(sys, (__s64)ctx->args[fd_arg], ctx->args[buf_arg], ctx->args[len_arg],    \
                   (flags_arg) >= 0 ? ctx->args[(flags_arg) >= 0 ? (flags_arg) : 0] : 0);    \
  }                                                                                          \
  SEC("tracepoint/syscalls/sys_exit_" #name)                                                 \
  int ws_exit_##name(struct trace_event_raw_sys_exit* ctx) {                                 \
    return ws_data_exit(ctx, sys, fd_arg, buf_arg, len_arg, flags_arg);                      \
  }

/* name, syscall, argument positions of fd, buffer, length, and flags (-1: none) */
WS_DATA_PROGS(read, WS_SYS_READ, 0, 1, 2, -1)
WS_DATA_PROGS(write, WS_SYS_WRITE, 0, 1, 2, -1)
WS_DATA_PROGS(readv, WS_SYS_READV, 0, 1, 2, -1)
WS_DATA_PROGS(writev, WS_SYS_WRITEV, 0, 1, 2, -1)
WS_DATA_PROGS(recvfrom, WS_SYS_RECVFROM, 0, 1, 2, 3)
WS_DATA_PROGS(sendto, WS_SYS_SENDTO, 0, 1, 2, -1)
WS_DATA_PROGS(recvmsg, WS_SYS_RECVMSG, 0, 1, 1, 2)
WS_DATA_PROGS(sendmsg, WS_SYS_SENDMSG, 0, 1, 1, -1)
/* sendfile64(out_fd, in_fd, offset, count): the socket is out_fd; only the size is reported. */
WS_DATA_PROGS(sendfile64, WS_SYS_SENDFILE, 0, 2, 3, -1)

SEC("tracepoint/syscalls/sys_enter_connect")
int ws_enter_connect(struct trace_event_raw_sys_enter* ctx) {
  return ws_save(WS_SYS_CONNECT, (__s64)ctx->args[0], 0, 0, 0);
}

SEC("tracepoint/syscalls/sys_exit_connect")
int ws_exit_connect(struct trace_event_raw_sys_exit* ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  struct ws_args* ap = bpf_map_lookup_elem(&ws_args, &id);
  if (!ap) return 0;
  __s32 fd = ap->fd;
  bpf_map_delete_elem(&ws_args, &id);
  __s64 ret = ctx->ret;
  if (ret != 0 && ret != -WS_EINPROGRESS) return 0;
  struct task_struct* task = bpf_get_current_task_btf();
  struct sock* sk = ws_tcp_sock_from_fd(task, fd);
  if (!sk) return 0;
  ws_conn_open(
      sk, id, fd,
      WS_OPEN_META(WS_ROLE_CLIENT, WS_SYS_CONNECT, ret == 0 ? 0 : WS_CONN_FLAG_CONNECTING));
  return 0;
}

/* accept/accept4 need no saved arguments: the new fd is the return value. */
static __always_inline int ws_accept_exit(struct trace_event_raw_sys_exit* ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  if (!ws_tgid_traced(id >> 32)) return 0;
  __s64 ret = ctx->ret;
  if (ret < 0) return 0;
  struct task_struct* task = bpf_get_current_task_btf();
  struct sock* sk = ws_tcp_sock_from_fd(task, (__s32)ret);
  if (!sk) return 0;
  ws_conn_open(sk, id, (__s32)ret, WS_OPEN_META(WS_ROLE_SERVER, WS_SYS_ACCEPT, 0));
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int ws_exit_accept(struct trace_event_raw_sys_exit* ctx) { return ws_accept_exit(ctx); }

SEC("tracepoint/syscalls/sys_exit_accept4")
int ws_exit_accept4(struct trace_event_raw_sys_exit* ctx) { return ws_accept_exit(ctx); }

/* close is handled at entry: after it returns the fd may already belong to a new socket. */
SEC("tracepoint/syscalls/sys_enter_close")
int ws_enter_close(struct trace_event_raw_sys_enter* ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  if (!ws_tgid_traced(id >> 32)) return 0;
  struct ws_conn_key key = {.tgid = id >> 32, .fd = (__s32)ctx->args[0]};
  struct ws_conn* c = bpf_map_lookup_elem(&ws_conns, &key);
  if (!c) return 0;
  if (c->filter != WS_FILTER_IGNORED)
    ws_emit_conn(c, WS_EVENT_CONN_CLOSE, id, key.fd, WS_SYS_CLOSE, 0);
  bpf_map_delete_elem(&ws_conns, &key);
  return 0;
}

/* ---- process lifecycle: for every process, cheap and rare ---- */

static __always_inline void ws_emit_proc(__u8 type) {
  struct ws_proc_event* e = bpf_ringbuf_reserve(&ws_events, sizeof(*e), 0);
  if (!e) {
    ws_stat_add(WS_STAT_RINGBUF_FULL, 1);
    return;
  }
  __u64 id = bpf_get_current_pid_tgid();
  ws_fill_header(&e->hdr, type, bpf_ktime_get_ns(), 0, id, -1);
  e->ppid = ws_task_ppid(bpf_get_current_task_btf());
  e->pad = 0;
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  bpf_ringbuf_submit(e, 0);
  ws_stat_add(WS_STAT_EVENTS, 1);
}

SEC("tracepoint/sched/sched_process_exec")
int ws_proc_exec(void* ctx) {
  ws_emit_proc(WS_EVENT_PROC_EXEC);
  return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int ws_proc_exit(void* ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  /* A thread killed inside a syscall never reaches our sys_exit: drop its saved arguments. */
  bpf_map_delete_elem(&ws_args, &id);
  if ((__u32)id == (__u32)(id >> 32)) ws_emit_proc(WS_EVENT_PROC_EXIT);
  return 0;
}
