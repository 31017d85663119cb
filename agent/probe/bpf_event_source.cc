#include "agent/probe/bpf_event_source.h"

#include <spdlog/spdlog.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <limits>
#include <utility>

namespace wirespan::agent {
namespace {

int64_t ClockNs(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// CLOCK_REALTIME - CLOCK_MONOTONIC. The realtime read is bracketed by two monotonic reads and the
// tightest of a few brackets wins, so a preemption between the reads does not skew the offset.
int64_t MeasureMonoToUnixOffset() {
  int64_t best_offset = 0;
  int64_t best_width = std::numeric_limits<int64_t>::max();
  for (int i = 0; i < 5; ++i) {
    int64_t m1 = ClockNs(CLOCK_MONOTONIC);
    int64_t r = ClockNs(CLOCK_REALTIME);
    int64_t m2 = ClockNs(CLOCK_MONOTONIC);
    if (m2 - m1 < best_width) {
      best_width = m2 - m1;
      best_offset = r - (m1 + (m2 - m1) / 2);
    }
  }
  return best_offset;
}

}  // namespace

BpfEventSource::BpfEventSource(BpfSourceConfig config) : config_(std::move(config)) {
  if (config_.self_tgid == 0) config_.self_tgid = static_cast<uint32_t>(getpid());
}

BpfEventSource::~BpfEventSource() { Stop(); }

Status BpfEventSource::Start() {
  if (probe_.attached()) return Status::Ok();
  ProbeOptions options;
  options.self_tgid = config_.self_tgid;
  options.filter_tgids = !config_.trace_all;
  options.filter_ports = !config_.ports.empty();
  options.proto_filter = config_.proto_filter;
  options.max_copy_per_event = config_.max_copy_per_event;
  options.max_copy_per_syscall = config_.max_copy_per_syscall;
  options.ringbuf_bytes = config_.ringbuf_bytes;

  Status status = probe_.Load(options);
  if (!status.ok()) return status;
  // Filters go in before attaching so no event of an unselected process slips through.
  for (uint32_t tgid : config_.tgids) {
    if (status = probe_.AddTgid(tgid); !status.ok()) break;
  }
  for (uint16_t port : config_.ports) {
    if (!status.ok()) break;
    status = probe_.AddPort(port);
  }
  if (status.ok()) status = reader_.Open(probe_.ring_fd());
  mono_to_unix_ns_ = MeasureMonoToUnixOffset();
  if (status.ok()) status = probe_.Attach();
  if (!status.ok()) {
    Stop();
    return status;
  }
  spdlog::info("bpf capture started (trace {}, pre-filter {}, ring {} MiB)",
               config_.trace_all ? "all processes" : "selected processes",
               config_.proto_filter ? "on" : "off", probe_.options().ringbuf_bytes >> 20);
  return Status::Ok();
}

StatusOr<size_t> BpfEventSource::Poll(EventSink& sink, int timeout_ms) {
  return reader_.Poll(sink, timeout_ms);
}

void BpfEventSource::Stop() {
  reader_.Close();
  probe_.Destroy();
}

uint64_t BpfEventSource::ToUnixNanos(uint64_t source_ts_ns) const {
  return static_cast<uint64_t>(static_cast<int64_t>(source_ts_ns) + mono_to_unix_ns_);
}

uint64_t BpfEventSource::NowNanos() const {
  return static_cast<uint64_t>(ClockNs(CLOCK_MONOTONIC));
}

SourceStats BpfEventSource::stats() const {
  SourceStats s;
  s.events = reader_.events();
  s.bytes = reader_.data_bytes();
  s.dropped = reader_.malformed();
  auto kernel = probe_.ReadStats();
  if (kernel.ok()) {
    const auto& k = kernel.value();
    s.dropped += k[WS_STAT_RINGBUF_FULL] + k[WS_STAT_MAP_FULL] + k[WS_STAT_READ_FAILED] +
                 k[WS_STAT_IOV_LIMIT];
  }
  return s;
}

}  // namespace wirespan::agent
