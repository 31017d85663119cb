// A scripted event source for tests: events are queued in code and delivered in order, so
// connection tracking and decoding can be exercised exactly, without a kernel or a capture.
#pragma once

#include <deque>
#include <string>
#include <variant>

#include "agent/sources/event_source.h"

namespace wirespan::agent {

class SyntheticSource : public EventSource {
 public:
  struct Endpoint {
    uint32_t tgid = 100;
    int32_t fd = 3;
    uint8_t role = WS_ROLE_CLIENT;
    std::string local_ip = "127.0.0.1";
    uint16_t local_port = 40000;
    std::string remote_ip = "127.0.0.1";
    uint16_t remote_port = 8080;
  };

  // Opens a connection and returns its id; later calls refer to it by id.
  uint64_t Open(const Endpoint& endpoint, uint16_t flags = 0);
  // Appends bytes in one direction at the stream's current position.
  void Send(uint64_t conn_id, uint8_t direction, std::string_view bytes);
  // Appends an explicit event (any position, partial copy) for gap and reordering tests.
  void SendAt(uint64_t conn_id, uint8_t direction, uint64_t stream_pos, std::string_view copied,
              uint64_t covered_len);
  void Close(uint64_t conn_id);
  // Moves the synthetic clock forward; events are stamped with it.
  void Advance(uint64_t nanos) { now_ns_ += nanos; }
  void set_tid(uint32_t tid) { tid_ = tid; }

  std::string_view name() const override { return "synthetic"; }
  Status Start() override { return Status::Ok(); }
  StatusOr<size_t> Poll(EventSink& sink, int timeout_ms) override;
  bool Exhausted() const override { return queue_.empty(); }
  void Stop() override {}
  uint64_t ToUnixNanos(uint64_t ts) const override { return ts; }
  uint64_t NowNanos() const override { return now_ns_; }
  SourceStats stats() const override { return stats_; }

 private:
  struct Conn {
    Endpoint endpoint;
    Tuple tuple{};
    uint64_t pos[2] = {0, 0};
  };
  struct QueuedData {
    DataEvent event;
    std::string bytes;
  };
  Conn& Find(uint64_t conn_id);

  std::deque<std::variant<ConnEvent, QueuedData>> queue_;
  std::deque<std::pair<uint64_t, Conn>> conns_;
  uint64_t next_conn_id_ = 1;
  uint64_t now_ns_ = 1'000'000'000;
  uint32_t tid_ = 0;
  SourceStats stats_;
};

// Builds a tuple from textual addresses (IPv4 or IPv6); used by tests and the synthetic source.
Tuple MakeTuple(const std::string& local_ip, uint16_t local_port, const std::string& remote_ip,
                uint16_t remote_port);

}  // namespace wirespan::agent
