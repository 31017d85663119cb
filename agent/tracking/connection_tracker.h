// Connection tracking: per-connection state, two directional streams, protocol detection, and
// the hand-off to the protocol's decoder. The single owner of connection state in user space.
#pragma once

#include <array>
#include <cstdint>
#include <list>
#include <memory>
#include <unordered_map>
#include <vector>

#include "agent/sources/event_source.h"
#include "decoders/common/connection_decoder.h"
#include "decoders/common/data_stream.h"
#include "model/span.h"

namespace wirespan::agent {

// Gives each traced process its resource (service identity); live capture reads /proc.
class ResourceProvider {
 public:
  virtual ~ResourceProvider() = default;
  virtual std::shared_ptr<const model::Resource> ForProcess(uint32_t tgid) = 0;
  virtual void Forget(uint32_t /*tgid*/) {}
};

struct TrackerOptions {
  decoders::DecoderOptions decoder_options;
  std::vector<decoders::Protocol> protocols;  // empty: all
  size_t max_connections = 16384;
  uint64_t idle_timeout_ns = 300'000'000'000;  // 5 min without traffic: flushed and forgotten
  int detection_threshold = 50;                // minimum Detection::confidence to claim
  // Chunks examined per direction before a connection is declared none of our protocols.
  uint32_t max_detection_attempts = 8;
  uint32_t max_midstream_detection_attempts = 64;
  decoders::DataStreamLimits stream_limits;
};

struct TrackerStats {
  uint64_t connections_opened = 0;
  uint64_t connections_closed = 0;
  uint64_t connections_midstream = 0;  // first seen on data: opened before we looked
  uint64_t evicted_idle = 0;
  uint64_t evicted_capacity = 0;
  uint64_t undetected = 0;        // gave up detecting: none of our protocols
  uint64_t ignored_bytes = 0;     // bytes of undetected or unsupported connections
  uint64_t stream_gap_bytes = 0;  // bytes known never to arrive (copy cap, losses)
  uint64_t holes_expired = 0;
  std::array<uint64_t, 5> detected{};  // per decoders::Protocol
};

class ConnectionTracker : public EventSink {
 public:
  ConnectionTracker(TrackerOptions options, model::SpanSink* sink, ResourceProvider* resources,
                    int64_t clock_offset_ns);
  ~ConnectionTracker() override;

  void OnConn(const ConnEvent& event) override;
  void OnData(const DataEvent& event) override;
  void OnProc(const ProcEvent& event) override;

  // Periodic housekeeping at source time now_ns: ages holes, times out requests, evicts idle.
  void Tick(uint64_t now_ns);
  // Flushes and forgets every connection (end of a replay, agent shutdown).
  void CloseAll(uint64_t now_ns);

  size_t connection_count() const { return conns_.size(); }
  const TrackerStats& stats() const { return stats_; }
  const decoders::DecoderStats& decoder_stats(decoders::Protocol p) const {
    return decoder_stats_[static_cast<size_t>(p)];
  }
  void set_clock_offset(int64_t clock_offset_ns) { clock_offset_ns_ = clock_offset_ns; }

 private:
  struct Connection;
  using LruList = std::list<uint64_t>;

  Connection* Find(uint64_t conn_id);
  Connection& Create(uint64_t conn_id, uint32_t tgid, int32_t fd, uint8_t role, const Tuple& tuple,
                     bool midstream);
  void Touch(Connection& conn, uint64_t now_ns);
  void Detect(Connection& conn, decoders::Direction dir);
  void Process(Connection& conn, decoders::Direction dir, uint64_t now_ns);
  void Finish(uint64_t conn_id, uint64_t now_ns);
  void EnforceCapacity(uint64_t now_ns);

  TrackerOptions options_;
  model::SpanSink* sink_;
  ResourceProvider* resources_;
  int64_t clock_offset_ns_;
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> conns_;
  LruList lru_;  // least recently active first
  TrackerStats stats_;
  std::array<decoders::DecoderStats, 5> decoder_stats_{};
  uint64_t last_tick_ns_ = 0;
};

}  // namespace wirespan::agent
