#include "agent/sources/synthetic_source.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstring>

namespace wirespan::agent {

Tuple MakeTuple(const std::string& local_ip, uint16_t local_port, const std::string& remote_ip,
                uint16_t remote_port) {
  Tuple t{};
  const bool v6 = local_ip.find(':') != std::string::npos;
  t.family = v6 ? AF_INET6 : AF_INET;
  t.local_port = local_port;
  t.remote_port = remote_port;
  inet_pton(t.family, local_ip.c_str(), t.local_addr);
  inet_pton(t.family, remote_ip.c_str(), t.remote_addr);
  return t;
}

SyntheticSource::Conn& SyntheticSource::Find(uint64_t conn_id) {
  for (auto& [id, conn] : conns_) {
    if (id == conn_id) return conn;
  }
  // Tests only call with ids Open returned; an unknown id is a bug in the test itself.
  std::abort();
}

uint64_t SyntheticSource::Open(const Endpoint& endpoint, uint16_t flags) {
  const uint64_t id = next_conn_id_++;
  Conn conn;
  conn.endpoint = endpoint;
  conn.tuple =
      MakeTuple(endpoint.local_ip, endpoint.local_port, endpoint.remote_ip, endpoint.remote_port);
  conns_.emplace_back(id, conn);
  ConnEvent ev;
  ev.ts_ns = now_ns_;
  ev.conn_id = id;
  ev.tgid = endpoint.tgid;
  ev.tid = tid_ ? tid_ : endpoint.tgid;
  ev.fd = endpoint.fd;
  ev.open = true;
  ev.role = endpoint.role;
  ev.flags = flags;
  ev.tuple = conn.tuple;
  queue_.emplace_back(ev);
  return id;
}

void SyntheticSource::Send(uint64_t conn_id, uint8_t direction, std::string_view bytes) {
  Conn& conn = Find(conn_id);
  SendAt(conn_id, direction, conn.pos[direction & 1], bytes, bytes.size());
}

void SyntheticSource::SendAt(uint64_t conn_id, uint8_t direction, uint64_t stream_pos,
                             std::string_view copied, uint64_t covered_len) {
  Conn& conn = Find(conn_id);
  QueuedData q;
  q.bytes.assign(copied);
  DataEvent& ev = q.event;
  ev.ts_ns = now_ns_;
  ev.enter_ts_ns = now_ns_;
  ev.conn_id = conn_id;
  ev.tgid = conn.endpoint.tgid;
  ev.tid = tid_ ? tid_ : conn.endpoint.tgid;
  ev.fd = conn.endpoint.fd;
  ev.direction = direction;
  ev.role = conn.endpoint.role;
  ev.syscall = direction == WS_DIR_EGRESS ? WS_SYS_WRITE : WS_SYS_READ;
  ev.tuple = conn.tuple;
  ev.stream_pos = stream_pos;
  ev.syscall_len = covered_len;
  ev.covered_len = covered_len;
  if (covered_len > copied.size()) ev.flags |= WS_DATA_FLAG_TRUNCATED;
  uint64_t& pos = conn.pos[direction & 1];
  if (stream_pos + covered_len > pos) pos = stream_pos + covered_len;
  queue_.emplace_back(std::move(q));
}

void SyntheticSource::Close(uint64_t conn_id) {
  Conn& conn = Find(conn_id);
  ConnEvent ev;
  ev.ts_ns = now_ns_;
  ev.conn_id = conn_id;
  ev.tgid = conn.endpoint.tgid;
  ev.tid = tid_ ? tid_ : conn.endpoint.tgid;
  ev.fd = conn.endpoint.fd;
  ev.open = false;
  ev.role = conn.endpoint.role;
  ev.tuple = conn.tuple;
  ev.bytes_sent = conn.pos[WS_DIR_EGRESS];
  ev.bytes_received = conn.pos[WS_DIR_INGRESS];
  queue_.emplace_back(ev);
}

StatusOr<size_t> SyntheticSource::Poll(EventSink& sink, int /*timeout_ms*/) {
  size_t delivered = 0;
  while (!queue_.empty()) {
    auto item = std::move(queue_.front());
    queue_.pop_front();
    if (auto* conn = std::get_if<ConnEvent>(&item)) {
      sink.OnConn(*conn);
    } else {
      auto& q = std::get<QueuedData>(item);
      q.event.data = q.bytes;
      stats_.bytes += q.bytes.size();
      sink.OnData(q.event);
    }
    ++stats_.events;
    ++delivered;
  }
  return delivered;
}

}  // namespace wirespan::agent
