/* The one header shared by the BPF programs and user space.
 *
 * Plain C with fixed-width types only, so the same bytes mean the same thing on both sides. Its
 * layout is guarded by static_asserts in agent/probe/event_layout.cc; change both together.
 * Every record in the ring buffer starts with struct ws_event_header.
 */
#ifndef WIRESPAN_BPF_EVENTS_H_
#define WIRESPAN_BPF_EVENTS_H_

#ifdef __cplusplus
#include <cstdint>
extern "C" {
#define WS_U8 std::uint8_t
#define WS_U16 std::uint16_t
#define WS_U32 std::uint32_t
#define WS_U64 std::uint64_t
#define WS_S32 std::int32_t
#elif defined(__VMLINUX_H__) || defined(__bpf__)
/* BPF side: vmlinux.h provides __u8 and friends. */
#define WS_U8 __u8
#define WS_U16 __u16
#define WS_U32 __u32
#define WS_U64 __u64
#define WS_S32 __s32
#else
#include <stdint.h>
#define WS_U8 uint8_t
#define WS_U16 uint16_t
#define WS_U32 uint32_t
#define WS_U64 uint64_t
#define WS_S32 int32_t
#endif

/* Per-event copy is bounded by one per-CPU scratch value (32 KiB on these kernels). */
#define WS_MAX_COPY_PER_EVENT 16384u
#define WS_DEFAULT_MAX_COPY_PER_SYSCALL (512u * 1024u)
#define WS_MAX_IOVECS 64u
#define WS_PROTO_SNIFF_LEN 16u

enum ws_event_type {
  WS_EVENT_CONN_OPEN = 1,  /* connect() or accept() completed, or first sight of a socket */
  WS_EVENT_CONN_CLOSE = 2, /* close() of a tracked socket */
  WS_EVENT_DATA = 3,       /* bytes sent or received (or only their count, see ws_data_event) */
  WS_EVENT_PROC_EXEC = 4,  /* a process exec'd: user space refreshes its process cache */
  WS_EVENT_PROC_EXIT = 5,  /* a thread group ended: its connections are gone */
};

/* Direction relative to the traced process. */
enum ws_direction {
  WS_DIR_EGRESS = 0,  /* the process wrote these bytes */
  WS_DIR_INGRESS = 1, /* the process read these bytes */
};

enum ws_role {
  WS_ROLE_UNKNOWN = 0, /* first seen mid-stream: user space infers the role from the protocol */
  WS_ROLE_CLIENT = 1,  /* the process called connect() */
  WS_ROLE_SERVER = 2,  /* the process accepted the connection */
};

/* Which syscall produced an event; kept so user space can explain odd streams. */
enum ws_syscall {
  WS_SYS_NONE = 0,
  WS_SYS_READ,
  WS_SYS_WRITE,
  WS_SYS_READV,
  WS_SYS_WRITEV,
  WS_SYS_RECVFROM,
  WS_SYS_SENDTO,
  WS_SYS_RECVMSG,
  WS_SYS_SENDMSG,
  WS_SYS_SENDFILE,
  WS_SYS_CONNECT,
  WS_SYS_ACCEPT,
  WS_SYS_CLOSE,
};

/* ws_data_event.flags */
#define WS_DATA_FLAG_SIZE_ONLY 0x1u /* no bytes were copied by design (sendfile) */
#define WS_DATA_FLAG_TRUNCATED 0x2u /* the copy cap was hit: the uncovered rest is a gap */
#define WS_DATA_FLAG_FILTERED 0x4u  /* the protocol pre-filter ruled the connection out */

/* ws_conn_event.flags */
#define WS_CONN_FLAG_MIDSTREAM 0x1u /* first seen on a data syscall, not at connect/accept */
#define WS_CONN_FLAG_CONNECTING 0x2u /* non-blocking connect returned EINPROGRESS */

/* Drop and degradation reasons, one per-CPU counter each (map ws_stats). */
enum ws_stat {
  WS_STAT_RINGBUF_FULL = 0,    /* a record could not be reserved: its bytes are lost */
  WS_STAT_COPY_TRUNCATED = 1,  /* bytes beyond the per-syscall copy cap, reported as gaps */
  WS_STAT_MAP_FULL = 2,        /* a map update failed: a syscall or connection went untracked */
  WS_STAT_READ_FAILED = 3,     /* bpf_probe_read_user failed (page not present) */
  WS_STAT_IOV_LIMIT = 4,       /* more iovecs than WS_MAX_IOVECS in one call */
  WS_STAT_PROTO_FILTERED = 5,  /* data syscalls skipped by the protocol pre-filter */
  WS_STAT_EVENTS = 6,          /* records submitted */
  WS_STAT_BYTES_COPIED = 7,    /* payload bytes copied into the ring buffer */
  WS_STAT_COUNT = 8,
};

struct ws_tuple {
  WS_U16 family; /* AF_INET (2) or AF_INET6 (10) */
  WS_U16 local_port;  /* host byte order */
  WS_U16 remote_port; /* host byte order */
  WS_U16 pad;
  WS_U8 local_addr[16];  /* IPv4 in the first 4 bytes, network order */
  WS_U8 remote_addr[16];
};

struct ws_event_header {
  WS_U64 ts_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) at syscall exit */
  WS_U64 conn_id; /* unique per connection for the agent's lifetime; survives fd reuse */
  WS_U32 tgid;
  WS_U32 tid;
  WS_S32 fd;
  WS_U8 type; /* enum ws_event_type */
  WS_U8 pad[3];
};

struct ws_conn_event {
  struct ws_event_header hdr;
  struct ws_tuple tuple;
  WS_U8 role;    /* enum ws_role */
  WS_U8 syscall; /* enum ws_syscall */
  WS_U16 flags;  /* WS_CONN_FLAG_* */
  WS_U32 pidns_ino;
  WS_U32 mntns_ino;
  WS_U32 netns_ino;
  WS_U64 bytes_sent; /* stream totals at close; 0 on open */
  WS_U64 bytes_received;
};

/* One chunk of one syscall's payload.
 *
 * The event covers stream bytes [stream_pos, stream_pos + covered_len) of its direction. The first
 * copied_len of them follow the struct; the rest (covered_len - copied_len) were not copied and
 * will never arrive: a known gap. A syscall larger than WS_MAX_COPY_PER_EVENT is split into several
 * events sharing syscall_len; beyond the per-syscall cap one final event covers the rest uncopied.
 */
#ifdef __cplusplus
/* The trailing flexible array member is C99; C++ compilers accept it as an extension. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#endif
struct ws_data_event {
  struct ws_event_header hdr;
  struct ws_tuple tuple;
  WS_U64 enter_ts_ns; /* CLOCK_MONOTONIC at syscall entry */
  WS_U64 stream_pos;  /* offset of the first covered byte in this direction's stream */
  WS_U64 syscall_len; /* the syscall's full byte count (its return value) */
  WS_U32 covered_len;
  WS_U32 copied_len;
  WS_U32 tcp_seq;   /* TCP sequence number of the first byte: write_seq (egress) or copied_seq */
  WS_U32 pidns_ino;
  WS_U32 mntns_ino;
  WS_U32 netns_ino;
  WS_U8 direction; /* enum ws_direction */
  WS_U8 role;      /* enum ws_role, as known in the kernel */
  WS_U8 syscall;   /* enum ws_syscall */
  WS_U8 flags;     /* WS_DATA_FLAG_* */
  WS_U32 pad;
#ifndef __cplusplus
  WS_U8 data[]; /* copied_len bytes; C++ reads them at (const uint8_t*)(event + 1) */
#endif
};
#ifdef __cplusplus
#pragma GCC diagnostic pop
#endif

struct ws_proc_event {
  struct ws_event_header hdr;
  WS_U32 ppid;
  WS_U32 pad;
  char comm[16];
};

#ifdef __cplusplus
}
#endif
#undef WS_U8
#undef WS_U16
#undef WS_U32
#undef WS_U64
#undef WS_S32
#endif /* WIRESPAN_BPF_EVENTS_H_ */
