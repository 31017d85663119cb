#include "agent/sources/tcp_reassembler.h"

#include <pcap/dlt.h>

#include <algorithm>
#include <cstring>

namespace wirespan::agent {
namespace {

constexpr uint16_t kAfInet = 2;
constexpr uint16_t kAfInet6 = 10;
constexpr uint8_t kIpProtoTcp = 6;

// Receive windows never exceed 1 GiB (RFC 7323), so a segment further ahead than that is garbage,
// not a loss; taking it at face value would report a huge bogus gap.
constexpr int64_t kMaxAhead = int64_t{1} << 30;

// Bounds-checked big-endian reads over an untrusted frame.
class Bytes {
 public:
  explicit Bytes(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  size_t size() const { return bytes_.size(); }
  bool Has(size_t offset, size_t n) const {
    return offset <= bytes_.size() && n <= bytes_.size() - offset;
  }
  // Callers check Has() first.
  uint8_t U8(size_t offset) const { return bytes_[offset]; }
  uint16_t Be16(size_t offset) const {
    return static_cast<uint16_t>((bytes_[offset] << 8) | bytes_[offset + 1]);
  }
  uint32_t Be32(size_t offset) const {
    return (uint32_t{bytes_[offset]} << 24) | (uint32_t{bytes_[offset + 1]} << 16) |
           (uint32_t{bytes_[offset + 2]} << 8) | uint32_t{bytes_[offset + 3]};
  }
  uint32_t Le32(size_t offset) const {
    return (uint32_t{bytes_[offset + 3]} << 24) | (uint32_t{bytes_[offset + 2]} << 16) |
           (uint32_t{bytes_[offset + 1]} << 8) | uint32_t{bytes_[offset]};
  }
  void Copy(size_t offset, size_t n, uint8_t* out) const { std::memcpy(out, &bytes_[offset], n); }
  std::string_view View(size_t offset, size_t n) const {
    return {reinterpret_cast<const char*>(bytes_.data()) + offset, n};
  }

 private:
  std::span<const uint8_t> bytes_;
};

enum class Net { kNone, kIpv4, kIpv6, kByVersion };

Net NetFromEthertype(uint16_t type) {
  if (type == 0x0800) return Net::kIpv4;
  if (type == 0x86DD) return Net::kIpv6;
  return Net::kNone;
}

// Decodes the TCP header at `offset`; wire_len is the segment length the IP header claims.
ParseResult ParseTcp(const Bytes& b, size_t offset, size_t wire_len, TcpSegment* out) {
  if (!b.Has(offset, 0)) return ParseResult::kMalformed;
  const size_t captured = std::min(wire_len, b.size() - offset);
  if (captured < 20) return ParseResult::kMalformed;
  const size_t header_len = size_t{static_cast<uint8_t>(b.U8(offset + 12) >> 4)} * 4;
  if (header_len < 20 || header_len > captured) return ParseResult::kMalformed;
  out->src_port = b.Be16(offset);
  out->dst_port = b.Be16(offset + 2);
  out->seq = b.Be32(offset + 4);
  out->ack = b.Be32(offset + 8);
  out->flags = b.U8(offset + 13);
  out->payload_len = static_cast<uint32_t>(wire_len - header_len);
  out->payload = b.View(offset + header_len, captured - header_len);
  return ParseResult::kTcp;
}

ParseResult ParseIpv4(const Bytes& b, size_t offset, TcpSegment* out) {
  if (!b.Has(offset, 20)) return ParseResult::kMalformed;
  const uint8_t version_ihl = b.U8(offset);
  if ((version_ihl >> 4) != 4) return ParseResult::kMalformed;
  const size_t ihl = size_t{static_cast<uint8_t>(version_ihl & 0x0f)} * 4;
  if (ihl < 20 || !b.Has(offset, ihl)) return ParseResult::kMalformed;
  size_t total = b.Be16(offset + 2);
  // Captures taken on the sending host before segmentation offload may say 0: the frame is all.
  if (total == 0) total = b.size() - offset;
  if (total < ihl) return ParseResult::kMalformed;
  // Fragments are rare for TCP (PMTU discovery) and would need IP reassembly: skip them.
  if ((b.Be16(offset + 6) & 0x3fff) != 0) return ParseResult::kNotTcp;
  if (b.U8(offset + 9) != kIpProtoTcp) return ParseResult::kNotTcp;
  out->family = kAfInet;
  out->src_addr = {};
  out->dst_addr = {};
  b.Copy(offset + 12, 4, out->src_addr.data());
  b.Copy(offset + 16, 4, out->dst_addr.data());
  // The IP length, not the frame length, bounds the segment: Ethernet pads short frames.
  return ParseTcp(b, offset + ihl, total - ihl, out);
}

ParseResult ParseIpv6(const Bytes& b, size_t offset, TcpSegment* out) {
  if (!b.Has(offset, 40)) return ParseResult::kMalformed;
  if ((b.U8(offset) >> 4) != 6) return ParseResult::kMalformed;
  size_t remaining = b.Be16(offset + 4);
  // 0 is a jumbogram or an offloaded send captured before segmentation: the frame is all.
  if (remaining == 0) remaining = b.size() - offset - 40;
  uint8_t next = b.U8(offset + 6);
  out->family = kAfInet6;
  b.Copy(offset + 8, 16, out->src_addr.data());
  b.Copy(offset + 24, 16, out->dst_addr.data());
  size_t cur = offset + 40;
  // Walk a bounded number of extension headers to the TCP header.
  for (int i = 0; i < 8; ++i) {
    if (next == kIpProtoTcp) return ParseTcp(b, cur, remaining, out);
    size_t len = 0;
    switch (next) {
      case 0:   // hop-by-hop options
      case 43:  // routing
      case 60:  // destination options
        if (!b.Has(cur, 2)) return ParseResult::kMalformed;
        len = (size_t{b.U8(cur + 1)} + 1) * 8;
        break;
      case 51:  // authentication header
        if (!b.Has(cur, 2)) return ParseResult::kMalformed;
        len = (size_t{b.U8(cur + 1)} + 2) * 4;
        break;
      default:  // fragment (44), ESP, no next header, other protocols
        return ParseResult::kNotTcp;
    }
    if (len > remaining || !b.Has(cur, len)) return ParseResult::kMalformed;
    next = b.U8(cur);
    cur += len;
    remaining -= len;
  }
  return ParseResult::kMalformed;
}

}  // namespace

bool IsSupportedLinkType(int link_type) {
  switch (link_type) {
    case DLT_EN10MB:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_NULL:
    case DLT_LOOP:
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
      return true;
    default:
      return false;
  }
}

ParseResult ParseFrame(int link_type, std::span<const uint8_t> frame, TcpSegment* out) {
  const Bytes b(frame);
  size_t offset = 0;
  Net net = Net::kNone;
  switch (link_type) {
    case DLT_EN10MB: {
      if (!b.Has(0, 14)) return ParseResult::kMalformed;
      uint16_t type = b.Be16(12);
      offset = 14;
      // Up to two VLAN tags (802.1Q, 802.1ad QinQ).
      for (int i = 0; i < 2 && (type == 0x8100 || type == 0x88a8 || type == 0x9100); ++i) {
        if (!b.Has(offset, 4)) return ParseResult::kMalformed;
        type = b.Be16(offset + 2);
        offset += 4;
      }
      net = NetFromEthertype(type);
      break;
    }
    case DLT_LINUX_SLL:
      if (!b.Has(0, 16)) return ParseResult::kMalformed;
      net = NetFromEthertype(b.Be16(14));
      offset = 16;
      break;
    case DLT_LINUX_SLL2:
      if (!b.Has(0, 20)) return ParseResult::kMalformed;
      net = NetFromEthertype(b.Be16(0));
      offset = 20;
      break;
    case DLT_NULL:
    case DLT_LOOP: {
      if (!b.Has(0, 4)) return ParseResult::kMalformed;
      // DLT_NULL holds the address family in the capturing host's byte order: accept either.
      uint32_t family = link_type == DLT_LOOP ? b.Be32(0) : b.Le32(0);
      if (link_type == DLT_NULL && family > 0xffff) family = b.Be32(0);
      if (family == 2) {
        net = Net::kIpv4;
      } else if (family == 10 || family == 24 || family == 28 || family == 30) {
        net = Net::kIpv6;  // Linux, NetBSD/OpenBSD, FreeBSD, macOS values of AF_INET6
      }
      offset = 4;
      break;
    }
    case DLT_RAW:
      net = Net::kByVersion;
      break;
    case DLT_IPV4:
      net = Net::kIpv4;
      break;
    case DLT_IPV6:
      net = Net::kIpv6;
      break;
    default:
      return ParseResult::kNotTcp;
  }
  if (net == Net::kByVersion) {
    if (!b.Has(offset, 1)) return ParseResult::kMalformed;
    const uint8_t version = b.U8(offset) >> 4;
    net = version == 4 ? Net::kIpv4 : version == 6 ? Net::kIpv6 : Net::kNone;
    if (net == Net::kNone) return ParseResult::kMalformed;
  }
  switch (net) {
    case Net::kIpv4:
      return ParseIpv4(b, offset, out);
    case Net::kIpv6:
      return ParseIpv6(b, offset, out);
    default:
      return ParseResult::kNotTcp;
  }
}

// ---------------------------------------------------------------------------------------------
// TcpReassembler

size_t TcpReassembler::ConnKeyHash::operator()(const ConnKey& key) const {
  // FNV-1a over the fields; the key is small and this is not adversarially sensitive enough to
  // warrant a keyed hash (the connection count is bounded anyway).
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      h ^= p[i];
      h *= 1099511628211ull;
    }
  };
  auto mix16 = [&mix](uint16_t v) {
    const uint8_t bytes[2] = {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8)};
    mix(bytes, 2);
  };
  mix16(key.family);
  mix(key.lo.addr.data(), key.lo.addr.size());
  mix16(key.lo.port);
  mix(key.hi.addr.data(), key.hi.addr.size());
  mix16(key.hi.port);
  return static_cast<size_t>(h);
}

TcpReassembler::TcpReassembler(ReassemblerConfig config) : config_(std::move(config)) {
  // Zero limits would make no progress possible; keep at least one segment / connection.
  config_.max_connections = std::max<size_t>(config_.max_connections, 1);
  config_.max_ooo_segments_per_flow = std::max<size_t>(config_.max_ooo_segments_per_flow, 1);
}

TcpReassembler::ConnKey TcpReassembler::MakeKey(const TcpSegment& segment) {
  Endpoint src{segment.src_addr, segment.src_port};
  Endpoint dst{segment.dst_addr, segment.dst_port};
  ConnKey key;
  key.family = segment.family;
  if (src < dst) {
    key.lo = src;
    key.hi = dst;
  } else {
    key.lo = dst;
    key.hi = src;
  }
  return key;
}

bool TcpReassembler::PortSelected(uint16_t a, uint16_t b) const {
  if (config_.ports.empty()) return true;
  return std::find(config_.ports.begin(), config_.ports.end(), a) != config_.ports.end() ||
         std::find(config_.ports.begin(), config_.ports.end(), b) != config_.ports.end();
}

bool TcpReassembler::SideEnabled(int side) const {
  switch (config_.sides) {
    case ReplaySides::kBoth:
      return true;
    case ReplaySides::kClient:
      return side == 0;
    case ReplaySides::kServer:
      return side == 1;
  }
  return true;
}

int64_t TcpReassembler::PosOf(const Flow& flow, uint32_t seq) {
  // The signed 32-bit distance from the next expected sequence number is what makes wraparound a
  // non-event: positions themselves are 64-bit.
  const uint32_t next_seq = flow.isn + static_cast<uint32_t>(flow.next_pos);
  return static_cast<int64_t>(flow.next_pos) + static_cast<int32_t>(seq - next_seq);
}

TcpReassembler::Conn* TcpReassembler::Create(const ConnKey& key, const Endpoint& client,
                                             const Endpoint& server, bool midstream, uint64_t ts_ns,
                                             EventSink& sink) {
  while (conns_.size() >= config_.max_connections && !lru_.empty()) {
    auto victim = conns_.find(lru_.back());
    ++stats_.evicted_connections;
    Finish(victim->second, ts_ns, sink);
  }
  tombstones_.erase(key);  // the tuple is reused; its order entry expires harmlessly
  auto [it, inserted] = conns_.try_emplace(key);
  Conn& conn = it->second;
  conn.key = key;
  conn.ep[0] = client;
  conn.ep[1] = server;
  conn.midstream = midstream;
  for (int side = 0; side < 2; ++side) {
    conn.conn_id[side] = next_conn_id_++;
    conn.fd[side] = next_fd_[side];
    // fds only label sockets here; wrap rather than overflow on absurdly long captures.
    next_fd_[side] = next_fd_[side] == INT32_MAX ? 3 : next_fd_[side] + 1;
  }
  lru_.push_front(key);
  conn.lru = lru_.begin();
  ++stats_.connections;
  if (midstream) ++stats_.midstream_connections;
  EmitConn(conn, /*open=*/true, ts_ns, sink);
  return &conn;
}

void TcpReassembler::AddTombstone(const ConnKey& key) {
  if (config_.max_tombstones == 0) return;
  if (!tombstones_.insert(key).second) return;
  tombstone_order_.push_back(key);
  while (tombstone_order_.size() > config_.max_tombstones) {
    tombstones_.erase(tombstone_order_.front());
    tombstone_order_.pop_front();
  }
}

void TcpReassembler::Finish(Conn& conn, uint64_t ts_ns, EventSink& sink) {
  for (int dir = 0; dir < 2; ++dir) {
    FlushHoles(conn, dir, ts_ns, sink);
    Flow& flow = conn.flow[dir];
    // Bytes before a FIN that never arrived: a tail the capture missed.
    if (flow.fin && flow.fin_pos > flow.next_pos) SkipTo(conn, dir, flow.fin_pos, ts_ns, sink);
  }
  EmitConn(conn, /*open=*/false, ts_ns, sink);
  const ConnKey key = conn.key;
  lru_.erase(conn.lru);
  conns_.erase(key);  // conn is dangling from here
  AddTombstone(key);
}

bool TcpReassembler::CloseOldest(uint64_t ts_ns, EventSink& sink) {
  if (lru_.empty()) return false;
  Finish(conns_.find(lru_.back())->second, ts_ns, sink);
  return true;
}

void TcpReassembler::OnSegment(const TcpSegment& seg, uint64_t ts_ns, EventSink& sink) {
  ++stats_.segments;
  const ConnKey key = MakeKey(seg);
  const Endpoint src{seg.src_addr, seg.src_port};
  const Endpoint dst{seg.dst_addr, seg.dst_port};
  const bool syn = seg.flags & kTcpSyn;
  const bool ack = seg.flags & kTcpAck;
  auto it = conns_.find(key);
  Conn* conn = it == conns_.end() ? nullptr : &it->second;

  if (syn && !ack && conn != nullptr) {
    // A retransmitted SYN changes nothing; a SYN with a new ISN is the tuple being reused while
    // the capture missed the old connection's end.
    const bool same = !conn->midstream && conn->ep[0] == src && conn->flow[0].started &&
                      conn->flow[0].isn == seg.seq + 1;
    if (same) {
      lru_.splice(lru_.begin(), lru_, conn->lru);
      return;
    }
    Finish(*conn, ts_ns, sink);
    conn = nullptr;
  }
  if (conn == nullptr) {
    if (!PortSelected(seg.src_port, seg.dst_port)) {
      ++stats_.ignored_segments;
      return;
    }
    if (syn) {
      if (!ack) {
        conn = Create(key, src, dst, /*midstream=*/false, ts_ns, sink);
      } else if (!tombstones_.contains(key)) {
        // SYN-ACK whose SYN the capture missed: the roles are still certain.
        conn = Create(key, dst, src, /*midstream=*/false, ts_ns, sink);
      }
    } else if (seg.payload_len > 0 && !tombstones_.contains(key)) {
      // First sight mid-stream. The role is for the decoders to infer; the lower port merely
      // decides which end is replayed as the "client" process (tgid, Sides selection).
      const bool src_is_client = src.port > dst.port || (src.port == dst.port && src < dst);
      conn = src_is_client ? Create(key, src, dst, /*midstream=*/true, ts_ns, sink)
                           : Create(key, dst, src, /*midstream=*/true, ts_ns, sink);
    }
    if (conn == nullptr) {
      // Pure ACK/FIN/RST of a connection we do not know, or a stray packet of a closed one.
      ++stats_.ignored_segments;
      return;
    }
  } else {
    lru_.splice(lru_.begin(), lru_, conn->lru);
  }

  const int dir = conn->ep[0] == src ? 0 : 1;
  Flow& flow = conn->flow[dir];
  // A SYN occupies one sequence number; its payload (TCP Fast Open) starts after it.
  const uint32_t data_seq = syn ? seg.seq + 1 : seg.seq;
  if (!flow.started) {
    flow.started = true;
    flow.isn = data_seq;
  }
  Flow& peer = conn->flow[1 - dir];
  if (syn && ack && !peer.started) {
    // The SYN-ACK acknowledges the client's ISN + 1, the first byte of its stream.
    peer.started = true;
    peer.isn = seg.ack;
  }
  // Acknowledgements first: a hole they give up on precedes, in the peer's stream, the bytes this
  // segment carries in reply.
  if (ack && peer.started) HandleAck(*conn, 1 - dir, seg.ack, ts_ns, sink);
  if (seg.payload_len > 0) {
    HandlePayload(*conn, dir, data_seq, seg.payload_len, seg.payload, ts_ns, sink);
  }
  if ((seg.flags & kTcpFin) && !flow.fin) {
    const int64_t fin_pos = PosOf(flow, data_seq + seg.payload_len);
    if (fin_pos >= 0 && fin_pos - static_cast<int64_t>(flow.next_pos) <= kMaxAhead) {
      flow.fin = true;
      flow.fin_pos = static_cast<uint64_t>(fin_pos);
    }
  }
  if (seg.flags & kTcpRst) {
    Finish(*conn, ts_ns, sink);
    return;
  }
  const auto done = [](const Flow& f) { return f.fin && f.next_pos >= f.fin_pos; };
  if (done(conn->flow[0]) && done(conn->flow[1])) Finish(*conn, ts_ns, sink);
}

void TcpReassembler::HandlePayload(Conn& conn, int dir, uint32_t seq, uint64_t covered,
                                   std::string_view data, uint64_t ts_ns, EventSink& sink) {
  Flow& flow = conn.flow[dir];
  int64_t start = PosOf(flow, seq);
  const int64_t next = static_cast<int64_t>(flow.next_pos);
  if (start - next > kMaxAhead) {
    ++stats_.out_of_window;
    return;
  }
  const int64_t end = start + static_cast<int64_t>(covered);
  if (end <= next) {
    stats_.duplicate_bytes += covered;
    return;
  }
  if (start < next) {
    // Overlaps bytes already delivered: keep only the new tail.
    const uint64_t skip = static_cast<uint64_t>(next - start);
    stats_.duplicate_bytes += skip;
    data.remove_prefix(std::min<uint64_t>(skip, data.size()));
    covered -= skip;
    start = next;
  }
  if (start == next) {
    Deliver(conn, dir, covered, data, ts_ns, sink);
    Drain(conn, dir, ts_ns, sink);
    return;
  }
  // Ahead of a hole: hold it until the hole fills or is given up on.
  ++stats_.out_of_order_segments;
  auto [it, inserted] = flow.ooo.try_emplace(static_cast<uint64_t>(start));
  Pending& pending = it->second;
  if (!inserted) {
    if (pending.covered >= covered && pending.data.size() >= data.size()) {
      stats_.duplicate_bytes += covered;
      return;
    }
    flow.ooo_bytes -= pending.data.size();
    ooo_bytes_total_ -= pending.data.size();
  }
  pending.covered = covered;
  pending.data.assign(data);
  flow.ooo_bytes += data.size();
  ooo_bytes_total_ += data.size();
  EnforceLimits(conn, dir, ts_ns, sink);
}

void TcpReassembler::EnforceLimits(Conn& conn, int dir, uint64_t ts_ns, EventSink& sink) {
  Flow& flow = conn.flow[dir];
  if (ooo_bytes_total_ > config_.max_ooo_bytes_total) {
    ++stats_.buffer_overflows;
    FlushHoles(conn, dir, ts_ns, sink);
    return;
  }
  while (!flow.ooo.empty() && (flow.ooo_bytes > config_.max_ooo_bytes_per_flow ||
                               flow.ooo.size() > config_.max_ooo_segments_per_flow)) {
    // Give up on the first hole only: later ones may still fill.
    ++stats_.buffer_overflows;
    SkipTo(conn, dir, flow.ooo.begin()->first, ts_ns, sink);
    Drain(conn, dir, ts_ns, sink);
  }
}

void TcpReassembler::HandleAck(Conn& conn, int dir, uint32_t ack, uint64_t ts_ns, EventSink& sink) {
  if (!config_.gap_on_acked_hole) return;
  Flow& flow = conn.flow[dir];
  int64_t ack_pos = PosOf(flow, ack);
  // A FIN takes a sequence number of its own: acknowledging it covers no data byte.
  if (flow.fin) ack_pos = std::min(ack_pos, static_cast<int64_t>(flow.fin_pos));
  while (ack_pos > static_cast<int64_t>(flow.next_pos) &&
         ack_pos - static_cast<int64_t>(flow.next_pos) <= kMaxAhead) {
    // The receiver has bytes the capture never showed: they will not be retransmitted.
    uint64_t upto = static_cast<uint64_t>(ack_pos);
    if (!flow.ooo.empty()) upto = std::min(upto, flow.ooo.begin()->first);
    if (upto > flow.next_pos) {
      ++stats_.acked_holes;
      SkipTo(conn, dir, upto, ts_ns, sink);
    }
    const uint64_t before = flow.next_pos;
    Drain(conn, dir, ts_ns, sink);
    if (flow.next_pos == before) break;
  }
}

void TcpReassembler::Deliver(Conn& conn, int dir, uint64_t covered, std::string_view data,
                             uint64_t ts_ns, EventSink& sink) {
  Flow& flow = conn.flow[dir];
  if (data.size() > covered) data = data.substr(0, covered);
  if (data.size() < covered) {
    // The snap length cut this segment: the uncaptured tail is a gap.
    ++stats_.gaps;
    stats_.gap_bytes += covered - data.size();
  }
  EmitData(conn, dir, flow.next_pos, covered, data, ts_ns, sink);
  flow.next_pos += covered;
}

void TcpReassembler::SkipTo(Conn& conn, int dir, uint64_t pos, uint64_t ts_ns, EventSink& sink) {
  Flow& flow = conn.flow[dir];
  if (pos <= flow.next_pos) return;
  const uint64_t len = pos - flow.next_pos;
  ++stats_.gaps;
  stats_.gap_bytes += len;
  EmitData(conn, dir, flow.next_pos, len, {}, ts_ns, sink);
  flow.next_pos = pos;
}

void TcpReassembler::Drain(Conn& conn, int dir, uint64_t ts_ns, EventSink& sink) {
  Flow& flow = conn.flow[dir];
  while (!flow.ooo.empty() && flow.ooo.begin()->first <= flow.next_pos) {
    auto node = flow.ooo.extract(flow.ooo.begin());
    const uint64_t start = node.key();
    Pending& pending = node.mapped();
    flow.ooo_bytes -= pending.data.size();
    ooo_bytes_total_ -= pending.data.size();
    const uint64_t end = start + pending.covered;
    if (end <= flow.next_pos) {
      stats_.duplicate_bytes += pending.covered;
      continue;
    }
    const uint64_t skip = flow.next_pos - start;
    stats_.duplicate_bytes += skip;
    std::string_view data = pending.data;
    data.remove_prefix(std::min<uint64_t>(skip, data.size()));
    // Delivered at the time the hole filled: that is when a reader could have read them.
    Deliver(conn, dir, pending.covered - skip, data, ts_ns, sink);
  }
}

void TcpReassembler::FlushHoles(Conn& conn, int dir, uint64_t ts_ns, EventSink& sink) {
  Flow& flow = conn.flow[dir];
  while (!flow.ooo.empty()) {
    SkipTo(conn, dir, flow.ooo.begin()->first, ts_ns, sink);
    Drain(conn, dir, ts_ns, sink);
  }
}

void TcpReassembler::EmitConn(const Conn& conn, bool open, uint64_t ts_ns, EventSink& sink) {
  for (int side = 0; side < 2; ++side) {
    if (!SideEnabled(side)) continue;
    ConnEvent event;
    event.ts_ns = ts_ns;
    event.conn_id = conn.conn_id[side];
    event.tgid = side == 0 ? config_.client_tgid : config_.server_tgid;
    event.tid = event.tgid;
    event.fd = conn.fd[side];
    event.open = open;
    event.role = conn.midstream ? WS_ROLE_UNKNOWN : side == 0 ? WS_ROLE_CLIENT : WS_ROLE_SERVER;
    event.flags = conn.midstream ? WS_CONN_FLAG_MIDSTREAM : 0;
    event.tuple.family = conn.key.family;
    event.tuple.local_port = conn.ep[side].port;
    event.tuple.remote_port = conn.ep[1 - side].port;
    std::memcpy(event.tuple.local_addr, conn.ep[side].addr.data(), 16);
    std::memcpy(event.tuple.remote_addr, conn.ep[1 - side].addr.data(), 16);
    if (!open) {
      // Stream lengths, gaps included, as a tracer's byte counters would have them.
      event.bytes_sent = conn.flow[side].next_pos;
      event.bytes_received = conn.flow[1 - side].next_pos;
    }
    ++stats_.events;
    sink.OnConn(event);
  }
}

void TcpReassembler::EmitData(const Conn& conn, int dir, uint64_t pos, uint64_t covered,
                              std::string_view data, uint64_t ts_ns, EventSink& sink) {
  const Flow& flow = conn.flow[dir];
  for (int side = 0; side < 2; ++side) {
    if (!SideEnabled(side)) continue;
    DataEvent event;
    event.ts_ns = ts_ns;
    event.enter_ts_ns = ts_ns;
    event.conn_id = conn.conn_id[side];
    event.tgid = side == 0 ? config_.client_tgid : config_.server_tgid;
    event.tid = event.tgid;
    event.fd = conn.fd[side];
    // The sender wrote these bytes, the other end read them.
    event.direction = side == dir ? WS_DIR_EGRESS : WS_DIR_INGRESS;
    event.role = conn.midstream ? WS_ROLE_UNKNOWN : side == 0 ? WS_ROLE_CLIENT : WS_ROLE_SERVER;
    event.syscall = WS_SYS_NONE;
    event.flags = data.size() < covered ? WS_DATA_FLAG_TRUNCATED : 0;
    event.tuple.family = conn.key.family;
    event.tuple.local_port = conn.ep[side].port;
    event.tuple.remote_port = conn.ep[1 - side].port;
    std::memcpy(event.tuple.local_addr, conn.ep[side].addr.data(), 16);
    std::memcpy(event.tuple.remote_addr, conn.ep[1 - side].addr.data(), 16);
    event.stream_pos = pos;
    event.syscall_len = covered;
    event.covered_len = covered;
    event.tcp_seq = flow.isn + static_cast<uint32_t>(pos);
    event.data = data;
    ++stats_.events;
    stats_.data_bytes += data.size();
    sink.OnData(event);
  }
}

}  // namespace wirespan::agent
