// Compile-time guard of the kernel/user contract in bpf/events.h: the BPF object is compiled by
// clang for the bpf target and this library by the host compiler, so any layout drift (a field
// added without padding, a type changed on one side) must fail the build, not corrupt events.
#include <cstddef>

#include "bpf/events.h"

namespace {

static_assert(WS_MAX_COPY_PER_EVENT <= 16384, "scratch value holds 2x this (ws_scratch)");
static_assert(WS_STAT_COUNT == 8);

static_assert(sizeof(ws_tuple) == 40);
static_assert(offsetof(ws_tuple, family) == 0);
static_assert(offsetof(ws_tuple, local_port) == 2);
static_assert(offsetof(ws_tuple, remote_port) == 4);
static_assert(offsetof(ws_tuple, pad) == 6);
static_assert(offsetof(ws_tuple, local_addr) == 8);
static_assert(offsetof(ws_tuple, remote_addr) == 24);

static_assert(sizeof(ws_event_header) == 32);
static_assert(offsetof(ws_event_header, ts_ns) == 0);
static_assert(offsetof(ws_event_header, conn_id) == 8);
static_assert(offsetof(ws_event_header, tgid) == 16);
static_assert(offsetof(ws_event_header, tid) == 20);
static_assert(offsetof(ws_event_header, fd) == 24);
static_assert(offsetof(ws_event_header, type) == 28);
static_assert(offsetof(ws_event_header, pad) == 29);

static_assert(sizeof(ws_conn_event) == 104);
static_assert(offsetof(ws_conn_event, hdr) == 0);
static_assert(offsetof(ws_conn_event, tuple) == 32);
static_assert(offsetof(ws_conn_event, role) == 72);
static_assert(offsetof(ws_conn_event, syscall) == 73);
static_assert(offsetof(ws_conn_event, flags) == 74);
static_assert(offsetof(ws_conn_event, pidns_ino) == 76);
static_assert(offsetof(ws_conn_event, mntns_ino) == 80);
static_assert(offsetof(ws_conn_event, netns_ino) == 84);
static_assert(offsetof(ws_conn_event, bytes_sent) == 88);
static_assert(offsetof(ws_conn_event, bytes_received) == 96);

static_assert(sizeof(ws_data_event) == 128);
static_assert(offsetof(ws_data_event, hdr) == 0);
static_assert(offsetof(ws_data_event, tuple) == 32);
static_assert(offsetof(ws_data_event, enter_ts_ns) == 72);
static_assert(offsetof(ws_data_event, stream_pos) == 80);
static_assert(offsetof(ws_data_event, syscall_len) == 88);
static_assert(offsetof(ws_data_event, covered_len) == 96);
static_assert(offsetof(ws_data_event, copied_len) == 100);
static_assert(offsetof(ws_data_event, tcp_seq) == 104);
static_assert(offsetof(ws_data_event, pidns_ino) == 108);
static_assert(offsetof(ws_data_event, mntns_ino) == 112);
static_assert(offsetof(ws_data_event, netns_ino) == 116);
static_assert(offsetof(ws_data_event, direction) == 120);
static_assert(offsetof(ws_data_event, role) == 121);
static_assert(offsetof(ws_data_event, syscall) == 122);
static_assert(offsetof(ws_data_event, flags) == 123);
static_assert(offsetof(ws_data_event, pad) == 124);
// data[] (flexible) starts at sizeof(ws_data_event): records are sized as 128 + copied_len.

static_assert(sizeof(ws_proc_event) == 56);
static_assert(offsetof(ws_proc_event, hdr) == 0);
static_assert(offsetof(ws_proc_event, ppid) == 32);
static_assert(offsetof(ws_proc_event, pad) == 36);
static_assert(offsetof(ws_proc_event, comm) == 40);

}  // namespace
