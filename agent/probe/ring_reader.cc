#include "agent/probe/ring_reader.h"

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

#include "agent/probe/libbpf_env.h"

namespace wirespan::agent {
namespace {

// Records are copied out of the ring field by field with memcpy: the ring guarantees only 8-byte
// alignment of the record start, and copying keeps this free of aliasing assumptions.
template <typename T>
T Load(const void* data) {
  T value;
  std::memcpy(&value, data, sizeof(T));
  return value;
}

NamespaceIds Ns(uint32_t pid, uint32_t mnt, uint32_t net) { return NamespaceIds{pid, mnt, net}; }

}  // namespace

RingReader::~RingReader() { Close(); }

Status RingReader::Open(int ring_map_fd) {
  if (ring_) return Status::Error("ring reader already open");
  ring_ = ring_buffer__new(ring_map_fd, &RingReader::OnRecord, this, nullptr);
  if (!ring_) return Status::Error("opening the ring buffer failed: " + ErrnoName(errno));
  return Status::Ok();
}

void RingReader::Close() {
  if (ring_) ring_buffer__free(ring_);
  ring_ = nullptr;
}

StatusOr<size_t> RingReader::Poll(EventSink& sink, int timeout_ms) {
  if (!ring_) return Status::Error("ring reader not open");
  sink_ = &sink;
  const uint64_t before = events_;
  int n = ring_buffer__poll(ring_, timeout_ms);
  sink_ = nullptr;
  if (n < 0 && n != -EINTR) return Status::Error("ring buffer poll failed: " + ErrnoName(n));
  return static_cast<size_t>(events_ - before);
}

int RingReader::OnRecord(void* ctx, void* data, size_t size) {
  auto* self = static_cast<RingReader*>(ctx);
  if (self->sink_) self->Dispatch(data, size, *self->sink_);
  return 0;  // never stop the drain: one bad record must not stall the ring
}

bool RingReader::Dispatch(const void* data, size_t size, EventSink& sink) {
  if (size < sizeof(ws_event_header)) {
    ++malformed_;
    return false;
  }
  const auto hdr = Load<ws_event_header>(data);
  switch (hdr.type) {
    case WS_EVENT_CONN_OPEN:
    case WS_EVENT_CONN_CLOSE: {
      if (size < sizeof(ws_conn_event)) break;
      const auto raw = Load<ws_conn_event>(data);
      ConnEvent e;
      e.ts_ns = hdr.ts_ns;
      e.conn_id = hdr.conn_id;
      e.tgid = hdr.tgid;
      e.tid = hdr.tid;
      e.fd = hdr.fd;
      e.open = hdr.type == WS_EVENT_CONN_OPEN;
      e.role = raw.role;
      e.flags = raw.flags;
      e.tuple = raw.tuple;
      e.ns = Ns(raw.pidns_ino, raw.mntns_ino, raw.netns_ino);
      e.bytes_sent = raw.bytes_sent;
      e.bytes_received = raw.bytes_received;
      ++events_;
      sink.OnConn(e);
      return true;
    }
    case WS_EVENT_DATA: {
      if (size < sizeof(ws_data_event)) break;
      const auto raw = Load<ws_data_event>(data);
      if (raw.copied_len > raw.covered_len || sizeof(ws_data_event) + raw.copied_len > size) break;
      DataEvent e;
      e.ts_ns = hdr.ts_ns;
      e.enter_ts_ns = raw.enter_ts_ns;
      e.conn_id = hdr.conn_id;
      e.tgid = hdr.tgid;
      e.tid = hdr.tid;
      e.fd = hdr.fd;
      e.direction = raw.direction;
      e.role = raw.role;
      e.syscall = raw.syscall;
      e.flags = raw.flags;
      e.tuple = raw.tuple;
      e.ns = Ns(raw.pidns_ino, raw.mntns_ino, raw.netns_ino);
      e.stream_pos = raw.stream_pos;
      e.syscall_len = raw.syscall_len;
      e.covered_len = raw.covered_len;
      e.tcp_seq = raw.tcp_seq;
      e.data =
          std::string_view(static_cast<const char*>(data) + sizeof(ws_data_event), raw.copied_len);
      ++events_;
      data_bytes_ += raw.copied_len;
      sink.OnData(e);
      return true;
    }
    case WS_EVENT_PROC_EXEC:
    case WS_EVENT_PROC_EXIT: {
      if (size < sizeof(ws_proc_event)) break;
      const auto raw = Load<ws_proc_event>(data);
      ProcEvent e;
      e.ts_ns = hdr.ts_ns;
      e.tgid = hdr.tgid;
      e.ppid = raw.ppid;
      e.exec = hdr.type == WS_EVENT_PROC_EXEC;
      e.comm.assign(raw.comm, strnlen(raw.comm, sizeof(raw.comm)));
      ++events_;
      sink.OnProc(e);
      return true;
    }
    default:
      break;
  }
  ++malformed_;
  return false;
}

}  // namespace wirespan::agent
