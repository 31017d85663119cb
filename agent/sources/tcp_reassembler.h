// TCP stream reassembly for captured packets, turning both directions of every connection into the
// events a syscall tracer at each end would have produced.
//
// The capture sees wire segments, the pipeline expects what processes wrote and read: this layer
// orders segments, drops retransmitted and overlapping bytes, and reports bytes that never showed
// up as gaps (covered but uncopied) so the decoders resynchronise instead of misparsing.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "agent/sources/event_source.h"

namespace wirespan::agent {

// TCP header flags, as on the wire.
inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpAck = 0x10;

// One TCP segment decoded from a captured frame. `payload` points into the caller's frame buffer.
struct TcpSegment {
  uint16_t family = 0;  // AF_INET (2) or AF_INET6 (10)
  std::array<uint8_t, 16> src_addr{};
  std::array<uint8_t, 16> dst_addr{};
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;         // kTcp*
  uint32_t payload_len = 0;  // on the wire, from the IP length
  // The captured prefix of the payload: shorter than payload_len when the snap length cut the
  // frame, in which case the rest is reported as a gap.
  std::string_view payload;
};

enum class ParseResult {
  kTcp,        // *out is filled
  kNotTcp,     // well-formed but not for us: not IP, not TCP, or an IP fragment
  kMalformed,  // truncated or inconsistent headers
};

// True for the pcap link types ParseFrame understands (DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2,
// DLT_NULL, DLT_LOOP, DLT_RAW, DLT_IPV4, DLT_IPV6).
bool IsSupportedLinkType(int link_type);

// Decodes one captured frame of the given pcap link type. Every read is bounds-checked: a capture
// file is untrusted input.
ParseResult ParseFrame(int link_type, std::span<const uint8_t> frame, TcpSegment* out);

// Which ends of each connection to replay.
enum class ReplaySides { kBoth, kClient, kServer };

struct ReassemblerConfig {
  using Sides = ReplaySides;
  Sides sides = Sides::kBoth;
  // Captures carry no pids: every client end is reported as this process, every server end as
  // that one (tid = tgid).
  uint32_t client_tgid = 1;
  uint32_t server_tgid = 2;
  // When not empty, only connections with one of these ports at either end are tracked.
  std::vector<uint16_t> ports;
  // Memory bounds. Beyond max_connections the least recently active connection is closed early.
  size_t max_connections = 65536;
  // Out-of-order bytes (and segments) held per direction while waiting for a hole to fill; when
  // exceeded the hole is given up on and reported as a gap.
  size_t max_ooo_bytes_per_flow = size_t{1} << 20;
  size_t max_ooo_segments_per_flow = 1024;
  // Across all connections; exceeding it gives up on the holes of the connection being fed.
  size_t max_ooo_bytes_total = size_t{64} << 20;
  // A hole the receiver has acknowledged past was delivered to it but missed by the capture, so it
  // can never be filled: report it at once rather than at close.
  bool gap_on_acked_hole = true;
  // Recently closed connections whose stray packets (late retransmissions, final ACKs) are ignored
  // rather than taken for a new mid-stream connection.
  size_t max_tombstones = 4096;
};

struct ReassemblerStats {
  uint64_t segments = 0;               // segments fed
  uint64_t connections = 0;            // connections opened
  uint64_t midstream_connections = 0;  // of which without a handshake in the capture
  uint64_t evicted_connections = 0;    // closed early: max_connections reached
  uint64_t ignored_segments = 0;       // of unknown/closed connections, or filtered by port
  uint64_t duplicate_bytes = 0;        // retransmitted or overlapping bytes dropped
  uint64_t out_of_order_segments = 0;  // segments buffered ahead of a hole
  uint64_t out_of_window = 0;          // segments implausibly far ahead, dropped
  uint64_t buffer_overflows = 0;       // holes given up because the buffer limits were hit
  uint64_t acked_holes = 0;            // holes given up because the receiver acked past them
  uint64_t gaps = 0;                   // events carrying uncopied bytes
  uint64_t gap_bytes = 0;              // bytes covered but never captured
  uint64_t events = 0;                 // events emitted
  uint64_t data_bytes = 0;             // payload bytes emitted (counted once per side)
};

class TcpReassembler {
 public:
  explicit TcpReassembler(ReassemblerConfig config);

  // Feeds one segment captured at ts_ns and emits the events it completes to sink.
  void OnSegment(const TcpSegment& segment, uint64_t ts_ns, EventSink& sink);
  // Closes the least recently active connection, reporting its unfilled holes as gaps. Used at the
  // end of a capture so decoders flush. Returns false when no connection is open.
  bool CloseOldest(uint64_t ts_ns, EventSink& sink);

  size_t open_connections() const { return conns_.size(); }
  const ReassemblerStats& stats() const { return stats_; }

 private:
  struct Endpoint {
    std::array<uint8_t, 16> addr{};
    uint16_t port = 0;
    auto operator<=>(const Endpoint&) const = default;
  };
  struct ConnKey {
    uint16_t family = 0;
    Endpoint lo, hi;  // ordered, so both directions map to the same key
    bool operator==(const ConnKey&) const = default;
  };
  struct ConnKeyHash {
    size_t operator()(const ConnKey& key) const;
  };
  // Bytes waiting behind a hole. data may be shorter than covered (snap length cut the frame).
  struct Pending {
    uint64_t covered = 0;
    std::string data;
  };
  // One direction's byte stream. Positions are 64-bit offsets from the stream start, so sequence
  // numbers wrapping around 2^32 do not matter.
  struct Flow {
    bool started = false;  // isn is known
    uint32_t isn = 0;      // sequence number of stream position 0
    uint64_t next_pos = 0;
    std::map<uint64_t, Pending> ooo;  // by stream position
    size_t ooo_bytes = 0;
    bool fin = false;
    uint64_t fin_pos = 0;
  };
  struct Conn {
    ConnKey key;
    Endpoint ep[2];  // [0] the client (or the guessed client when midstream), [1] the server
    bool midstream = false;
    Flow flow[2];                  // flow[d] carries the bytes ep[d] sent
    uint64_t conn_id[2] = {0, 0};  // per replayed side
    int32_t fd[2] = {-1, -1};
    std::list<ConnKey>::iterator lru;
  };

  static ConnKey MakeKey(const TcpSegment& segment);
  bool PortSelected(uint16_t a, uint16_t b) const;
  bool SideEnabled(int side) const;
  Conn* Create(const ConnKey& key, const Endpoint& client, const Endpoint& server, bool midstream,
               uint64_t ts_ns, EventSink& sink);
  void Finish(Conn& conn, uint64_t ts_ns, EventSink& sink);  // flushes, emits closes, forgets it
  void AddTombstone(const ConnKey& key);

  static int64_t PosOf(const Flow& flow, uint32_t seq);
  void HandlePayload(Conn& conn, int dir, uint32_t seq, uint64_t covered, std::string_view data,
                     uint64_t ts_ns, EventSink& sink);
  void HandleAck(Conn& conn, int dir, uint32_t ack, uint64_t ts_ns, EventSink& sink);
  void Deliver(Conn& conn, int dir, uint64_t covered, std::string_view data, uint64_t ts_ns,
               EventSink& sink);
  void SkipTo(Conn& conn, int dir, uint64_t pos, uint64_t ts_ns, EventSink& sink);  // as a gap
  void Drain(Conn& conn, int dir, uint64_t ts_ns, EventSink& sink);
  void FlushHoles(Conn& conn, int dir, uint64_t ts_ns, EventSink& sink);
  void EnforceLimits(Conn& conn, int dir, uint64_t ts_ns, EventSink& sink);

  void EmitConn(const Conn& conn, bool open, uint64_t ts_ns, EventSink& sink);
  void EmitData(const Conn& conn, int dir, uint64_t pos, uint64_t covered, std::string_view data,
                uint64_t ts_ns, EventSink& sink);

  ReassemblerConfig config_;
  ReassemblerStats stats_;
  std::unordered_map<ConnKey, Conn, ConnKeyHash> conns_;
  std::list<ConnKey> lru_;  // front: most recently active
  std::unordered_set<ConnKey, ConnKeyHash> tombstones_;
  std::deque<ConnKey> tombstone_order_;
  size_t ooo_bytes_total_ = 0;
  uint64_t next_conn_id_ = 1;
  int32_t next_fd_[2] = {3, 3};  // per side: each replayed process numbers its own sockets
};

}  // namespace wirespan::agent
