#include "agent/tracking/connection_tracker.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include "decoders/registry.h"

namespace wirespan::agent {

using decoders::Direction;
using decoders::Protocol;
using decoders::Role;

namespace {

std::string FormatAddress(uint16_t family, const uint8_t* addr) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family == AF_INET) {
    inet_ntop(AF_INET, addr, buf, sizeof(buf));
  } else if (family == AF_INET6) {
    // Dual-stack sockets carry IPv4 peers as ::ffff:a.b.c.d; report them as the IPv4 they are.
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(kMapped, kMapped + 12, addr)) {
      inet_ntop(AF_INET, addr + 12, buf, sizeof(buf));
    } else {
      inet_ntop(AF_INET6, addr, buf, sizeof(buf));
    }
  }
  return buf;
}

Role RoleFrom(uint8_t role) {
  switch (role) {
    case WS_ROLE_CLIENT:
      return Role::kClient;
    case WS_ROLE_SERVER:
      return Role::kServer;
    default:
      return Role::kUnknown;
  }
}

}  // namespace

struct ConnectionTracker::Connection {
  uint64_t id = 0;
  decoders::ConnectionInfo info;
  bool midstream = false;
  Protocol protocol = Protocol::kUnknown;
  bool undetectable = false;  // detection gave up: bytes are dropped on arrival
  std::array<uint32_t, 2> detection_attempts{};
  std::array<decoders::DataStream, 2> streams;
  std::unique_ptr<decoders::ConnectionDecoder> decoder;
  uint64_t last_activity_ns = 0;
  LruList::iterator lru_pos;
};

ConnectionTracker::ConnectionTracker(TrackerOptions options, model::SpanSink* sink,
                                     ResourceProvider* resources, int64_t clock_offset_ns)
    : options_(std::move(options)),
      sink_(sink),
      resources_(resources),
      clock_offset_ns_(clock_offset_ns) {}

ConnectionTracker::~ConnectionTracker() = default;

ConnectionTracker::Connection* ConnectionTracker::Find(uint64_t conn_id) {
  auto it = conns_.find(conn_id);
  return it == conns_.end() ? nullptr : it->second.get();
}

ConnectionTracker::Connection& ConnectionTracker::Create(uint64_t conn_id, uint32_t tgid,
                                                         int32_t /*fd*/, uint8_t role,
                                                         const Tuple& tuple, bool midstream) {
  auto conn = std::make_unique<Connection>();
  conn->id = conn_id;
  conn->midstream = midstream;
  conn->streams = {decoders::DataStream(options_.stream_limits),
                   decoders::DataStream(options_.stream_limits)};
  // Every source numbers stream bytes from 0 at the first byte it saw, mid-stream or not.
  for (auto& s : conn->streams) s.StartAt(0);
  auto& info = conn->info;
  info.conn_id = conn_id;
  info.tgid = tgid;
  info.role = RoleFrom(role);
  info.ipv6 = tuple.family == AF_INET6;
  info.local_address = FormatAddress(tuple.family, tuple.local_addr);
  info.remote_address = FormatAddress(tuple.family, tuple.remote_addr);
  if (info.ipv6 && info.local_address.find(':') == std::string::npos) info.ipv6 = false;
  info.local_port = tuple.local_port;
  info.remote_port = tuple.remote_port;
  info.clock_offset_ns = clock_offset_ns_;
  if (resources_ != nullptr) info.resource = resources_->ForProcess(tgid);
  lru_.push_back(conn_id);
  conn->lru_pos = std::prev(lru_.end());
  ++stats_.connections_opened;
  if (midstream) ++stats_.connections_midstream;
  Connection& ref = *conn;
  conns_[conn_id] = std::move(conn);
  return ref;
}

void ConnectionTracker::Touch(Connection& conn, uint64_t now_ns) {
  conn.last_activity_ns = now_ns;
  lru_.splice(lru_.end(), lru_, conn.lru_pos);
}

void ConnectionTracker::OnConn(const ConnEvent& event) {
  if (event.open) {
    if (Connection* existing = Find(event.conn_id)) {
      // A midstream sighting followed by the open (or a duplicate): keep the better role.
      if (event.role != WS_ROLE_UNKNOWN && existing->info.role == Role::kUnknown &&
          existing->decoder == nullptr) {
        existing->info.role = RoleFrom(event.role);
      }
      return;
    }
    Connection& conn = Create(event.conn_id, event.tgid, event.fd, event.role, event.tuple,
                              (event.flags & WS_CONN_FLAG_MIDSTREAM) != 0);
    Touch(conn, event.ts_ns);
    EnforceCapacity(event.ts_ns);
    return;
  }
  Finish(event.conn_id, event.ts_ns);
}

void ConnectionTracker::OnData(const DataEvent& event) {
  Connection* conn = Find(event.conn_id);
  if (conn == nullptr) {
    conn = &Create(event.conn_id, event.tgid, event.fd, event.role, event.tuple,
                   /*midstream=*/event.stream_pos != 0);
    EnforceCapacity(event.ts_ns);
  }
  Touch(*conn, event.ts_ns);
  if (conn->undetectable) {
    stats_.ignored_bytes += event.covered_len;
    return;
  }
  const auto dir = event.direction == WS_DIR_EGRESS ? Direction::kEgress : Direction::kIngress;
  auto& stream = conn->streams[static_cast<size_t>(dir)];
  decoders::ChunkMeta meta;
  // A write's first byte moves when the call starts; a read's bytes are there when it returns.
  meta.first_ts_ns =
      dir == Direction::kEgress && event.enter_ts_ns != 0 ? event.enter_ts_ns : event.ts_ns;
  meta.last_ts_ns = event.ts_ns;
  meta.tid = event.tid;
  meta.tcp_seq = event.tcp_seq;
  const uint64_t covered = std::max<uint64_t>(event.covered_len, event.data.size());
  if (covered > event.data.size()) stats_.stream_gap_bytes += covered - event.data.size();
  stream.Add(event.stream_pos, event.data, covered, meta, event.ts_ns);
  Process(*conn, dir, event.ts_ns);
}

void ConnectionTracker::OnProc(const ProcEvent& event) {
  if (event.exec) {
    // The process image changed: its identity must be read again.
    if (resources_ != nullptr) resources_->Forget(event.tgid);
    return;
  }
  std::vector<uint64_t> ids;
  for (const auto& [id, conn] : conns_) {
    if (conn->info.tgid == event.tgid) ids.push_back(id);
  }
  for (uint64_t id : ids) Finish(id, event.ts_ns);
  if (resources_ != nullptr) resources_->Forget(event.tgid);
}

void ConnectionTracker::Detect(Connection& conn, Direction dir) {
  auto& stream = conn.streams[static_cast<size_t>(dir)];
  while (!stream.Head().empty() || stream.GapAtHead() > 0) {
    if (stream.GapAtHead() > 0) {
      stream.ConsumeGap(stream.GapAtHead());
      continue;
    }
    const bool at_start = !conn.midstream && stream.head_pos() == 0;
    decoders::Detection d = decoders::Detect(stream.Head(), at_start, options_.protocols);
    if (d.confidence >= options_.detection_threshold) {
      Role role = conn.info.role;
      if (role == Role::kUnknown) {
        // Whoever sends requests is the client.
        const bool sender_is_client = d.kind == decoders::MessageKind::kRequest;
        const bool we_sent = dir == Direction::kEgress;
        role = sender_is_client == we_sent ? Role::kClient : Role::kServer;
        conn.info.role = role;
      }
      const decoders::ProtocolSpec* spec = decoders::FindProtocol(d.protocol);
      if (spec == nullptr) return;
      conn.protocol = d.protocol;
      ++stats_.detected[static_cast<size_t>(d.protocol)];
      conn.decoder = spec->create(role, options_.decoder_options,
                                  &decoder_stats_[static_cast<size_t>(d.protocol)]);
      // Bytes already buffered in the other direction may predate a message boundary; the
      // decoder's resync handles them.
      return;
    }
    // Too few bytes to judge: wait for more, unless this chunk alone is already large.
    if (d.confidence > 0 && stream.Head().size() < 64) return;
    if (stream.Head().size() < 4) return;
    // Not a message start we know. Mid-stream, the next syscall may start one: drop this chunk.
    const uint32_t limit = conn.midstream ? options_.max_midstream_detection_attempts
                                          : options_.max_detection_attempts;
    if (++conn.detection_attempts[static_cast<size_t>(dir)] >= limit) {
      conn.undetectable = true;
      ++stats_.undetected;
      for (auto& s : conn.streams) stats_.ignored_bytes += s.DiscardReadable();
      return;
    }
    // Drop up to the start of the next captured chunk, so detection retries at a boundary.
    const size_t chunk_end = static_cast<size_t>(
        std::min<uint64_t>(stream.Head().size(), stream.NextChunkStart() - stream.head_pos()));
    stats_.ignored_bytes += chunk_end;
    stream.Consume(chunk_end);
  }
}

void ConnectionTracker::Process(Connection& conn, Direction dir, uint64_t now_ns) {
  if (conn.decoder == nullptr) {
    Detect(conn, dir);
    if (conn.decoder == nullptr) return;
    // The other direction may hold bytes buffered before detection.
    const Direction other = dir == Direction::kEgress ? Direction::kIngress : Direction::kEgress;
    conn.decoder->OnData(other, conn.streams[static_cast<size_t>(other)]);
  }
  conn.decoder->OnData(dir, conn.streams[static_cast<size_t>(dir)]);
  conn.decoder->Emit(conn.info, *sink_, now_ns, /*closed=*/false);
}

void ConnectionTracker::Finish(uint64_t conn_id, uint64_t now_ns) {
  auto it = conns_.find(conn_id);
  if (it == conns_.end()) return;
  Connection& conn = *it->second;
  if (conn.decoder != nullptr) {
    for (size_t d = 0; d < 2; ++d) {
      auto& stream = conn.streams[d];
      stream.FlushHoles();
      // Holes after close become gaps one at a time as the decoder steps over them.
      for (int i = 0; i < 64 && !stream.empty(); ++i) {
        const uint64_t before = stream.head_pos();
        conn.decoder->OnData(static_cast<Direction>(d), stream);
        if (stream.head_pos() == before) break;
        stream.FlushHoles();
      }
    }
    conn.decoder->Emit(conn.info, *sink_, now_ns, /*closed=*/true);
  }
  for (auto& s : conn.streams) stats_.holes_expired += s.stats().holes_expired;
  ++stats_.connections_closed;
  lru_.erase(conn.lru_pos);
  conns_.erase(it);
}

void ConnectionTracker::EnforceCapacity(uint64_t now_ns) {
  while (conns_.size() > options_.max_connections && !lru_.empty()) {
    ++stats_.evicted_capacity;
    Finish(lru_.front(), now_ns);
  }
}

void ConnectionTracker::Tick(uint64_t now_ns) {
  last_tick_ns_ = now_ns;
  // Idle connections first: they are at the front of the LRU list.
  while (!lru_.empty()) {
    Connection* conn = Find(lru_.front());
    if (conn == nullptr || conn->last_activity_ns + options_.idle_timeout_ns > now_ns) break;
    ++stats_.evicted_idle;
    Finish(conn->id, now_ns);
  }
  for (auto& [id, conn] : conns_) {
    if (conn->decoder == nullptr) continue;
    for (size_t d = 0; d < 2; ++d) {
      if (conn->streams[d].ExpireHoles(now_ns)) {
        conn->decoder->OnData(static_cast<Direction>(d), conn->streams[d]);
      }
    }
    conn->decoder->Emit(conn->info, *sink_, now_ns, /*closed=*/false);
  }
}

void ConnectionTracker::CloseAll(uint64_t now_ns) {
  while (!lru_.empty()) Finish(lru_.front(), now_ns);
}

}  // namespace wirespan::agent
