// The one interface every event producer implements: live BPF capture, pcap replay, and the
// synthetic source tests use. Connection tracking and decoding only ever see these events, so
// they are testable without a kernel.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "bpf/events.h"

namespace wirespan::agent {

using Tuple = ws_tuple;

struct NamespaceIds {
  uint32_t pid = 0;
  uint32_t mnt = 0;
  uint32_t net = 0;
};

struct ConnEvent {
  uint64_t ts_ns = 0;  // source clock, see EventSource::ToUnixNanos
  uint64_t conn_id = 0;
  uint32_t tgid = 0;
  uint32_t tid = 0;
  int32_t fd = -1;
  bool open = true;  // false: the connection was closed
  uint8_t role = WS_ROLE_UNKNOWN;
  uint16_t flags = 0;  // WS_CONN_FLAG_*
  Tuple tuple{};
  NamespaceIds ns;
  uint64_t bytes_sent = 0;      // at close
  uint64_t bytes_received = 0;  // at close
};

// Covers stream bytes [stream_pos, stream_pos + covered_len) of one direction; `data` holds the
// first data.size() of them and the rest is a gap that will never be filled.
struct DataEvent {
  uint64_t ts_ns = 0;        // syscall exit (source clock)
  uint64_t enter_ts_ns = 0;  // syscall entry (source clock)
  uint64_t conn_id = 0;
  uint32_t tgid = 0;
  uint32_t tid = 0;
  int32_t fd = -1;
  uint8_t direction = WS_DIR_EGRESS;
  uint8_t role = WS_ROLE_UNKNOWN;
  uint8_t syscall = WS_SYS_NONE;
  uint8_t flags = 0;  // WS_DATA_FLAG_*
  Tuple tuple{};
  NamespaceIds ns;
  uint64_t stream_pos = 0;
  uint64_t syscall_len = 0;
  uint64_t covered_len = 0;
  uint32_t tcp_seq = 0;
  std::string_view data;  // valid only during the EventSink callback
};

struct ProcEvent {
  uint64_t ts_ns = 0;
  uint32_t tgid = 0;
  uint32_t ppid = 0;
  bool exec = true;  // false: the process exited
  std::string comm;
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void OnConn(const ConnEvent& event) = 0;
  virtual void OnData(const DataEvent& event) = 0;
  virtual void OnProc(const ProcEvent& /*event*/) {}
};

struct SourceStats {
  uint64_t events = 0;
  uint64_t bytes = 0;
  // Drops the source knows of (ring buffer full, map full, packets it could not reassemble...).
  uint64_t dropped = 0;
};

class EventSource {
 public:
  virtual ~EventSource() = default;
  virtual std::string_view name() const = 0;
  virtual Status Start() = 0;
  // Delivers the events that are ready, waiting up to timeout_ms for the first one.
  // Returns how many were delivered.
  virtual StatusOr<size_t> Poll(EventSink& sink, int timeout_ms) = 0;
  // True once a finite source (a capture file, a synthetic script) has delivered everything.
  virtual bool Exhausted() const { return false; }
  virtual void Stop() = 0;
  // Event timestamps are in the source's clock; this converts them to Unix time.
  virtual uint64_t ToUnixNanos(uint64_t source_ts_ns) const = 0;
  // The source's own clock now, in the same units as its event timestamps. For a replay this is
  // the time of the last event delivered, so idle timeouts follow the recording, not the wall.
  virtual uint64_t NowNanos() const = 0;
  virtual SourceStats stats() const = 0;
};

}  // namespace wirespan::agent
