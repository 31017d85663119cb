#include "decoders/common/span_helpers.h"

namespace wirespan::decoders {

model::Span NewSpan(const ConnectionInfo& conn, model::SpanKind kind, const ChunkMeta& first,
                    const ChunkMeta& last, std::string_view protocol) {
  model::Span span;
  span.trace_id = model::NewTraceId();
  span.span_id = model::NewSpanId();
  span.kind = kind;
  span.start_time_unix_nano = conn.ToUnixNanos(first.first_ts_ns);
  span.end_time_unix_nano = conn.ToUnixNanos(last.last_ts_ns);
  if (span.end_time_unix_nano < span.start_time_unix_nano) {
    span.end_time_unix_nano = span.start_time_unix_nano;
  }
  span.resource = conn.resource;
  span.origin.tgid = conn.tgid;
  span.origin.tid = first.tid;
  span.origin.end_tid = last.tid;
  span.origin.conn_id = conn.conn_id;
  span.origin.request_tcp_seq = first.tcp_seq;
  span.protocol = std::string(protocol);
  return span;
}

void SetNetworkAttributes(const ConnectionInfo& conn, model::Span& span) {
  auto& a = span.attributes;
  if (!conn.server_address().empty()) a.Set("server.address", conn.server_address());
  if (conn.server_port() != 0) a.Set("server.port", int64_t{conn.server_port()});
  if (!conn.remote_address.empty()) a.Set("network.peer.address", conn.remote_address);
  if (conn.remote_port != 0) a.Set("network.peer.port", int64_t{conn.remote_port});
  a.Set("network.transport", "tcp");
  a.Set("network.type", conn.ipv6 ? "ipv6" : "ipv4");
  if (conn.role == Role::kServer) {
    if (!conn.client_address().empty()) a.Set("client.address", conn.client_address());
    if (conn.client_port() != 0) a.Set("client.port", int64_t{conn.client_port()});
  }
}

}  // namespace wirespan::decoders
