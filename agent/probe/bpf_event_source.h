// BpfEventSource: live capture through the wirespan BPF programs. ProbeManager owns the kernel
// objects, RingReader decodes the ring; this class wires them to the EventSource interface and
// converts the kernel's CLOCK_MONOTONIC timestamps to Unix time.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "agent/probe/probe_manager.h"
#include "agent/probe/ring_reader.h"
#include "agent/sources/event_source.h"
#include "base/status.h"
#include "bpf/events.h"

namespace wirespan::agent {

struct BpfSourceConfig {
  // Bytes copied into one ring record (at most WS_MAX_COPY_PER_EVENT).
  uint32_t max_copy_per_event = WS_MAX_COPY_PER_EVENT;
  // Bytes copied per syscall; the rest is reported as a counted gap (WS_STAT_COPY_TRUNCATED).
  uint32_t max_copy_per_syscall = WS_DEFAULT_MAX_COPY_PER_SYSCALL;
  uint64_t ringbuf_bytes = 32ull << 20;
  bool proto_filter = true;
  // false: only the tgids listed here or added later with AddTgid are traced.
  bool trace_all = true;
  std::vector<uint32_t> tgids;
  // Empty: every port. Otherwise only connections whose local or remote port is listed.
  std::vector<uint16_t> ports;
  // Never traced; 0 means the current process.
  uint32_t self_tgid = 0;
};

class BpfEventSource : public EventSource {
 public:
  explicit BpfEventSource(BpfSourceConfig config);
  ~BpfEventSource() override;

  std::string_view name() const override { return "bpf"; }
  Status Start() override;
  StatusOr<size_t> Poll(EventSink& sink, int timeout_ms) override;
  void Stop() override;
  uint64_t ToUnixNanos(uint64_t source_ts_ns) const override;
  uint64_t NowNanos() const override;
  // events/bytes as delivered; dropped = ring full + map full + failed reads + iovec overflow.
  SourceStats stats() const override;

  // Process and port selection while running (e.g. a tgid whose exec matched --exe).
  Status AddTgid(uint32_t tgid) { return probe_.AddTgid(tgid); }
  Status RemoveTgid(uint32_t tgid) { return probe_.RemoveTgid(tgid); }
  Status AddPort(uint16_t port) { return probe_.AddPort(port); }

  // The kernel's counters, indexed by enum ws_stat.
  StatusOr<ProbeManager::Stats> KernelStats() const { return probe_.ReadStats(); }
  const ProbeManager& probe() const { return probe_; }
  const BpfSourceConfig& config() const { return config_; }

 private:
  BpfSourceConfig config_;
  ProbeManager probe_;
  RingReader reader_;
  int64_t mono_to_unix_ns_ = 0;  // unix = monotonic + offset, measured at Start
};

}  // namespace wirespan::agent
