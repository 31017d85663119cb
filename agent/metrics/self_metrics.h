// The agent's own health metrics: what the capture path read and lost, what the decoders could
// not parse, how many connections are tracked, and what the exporters sent, dropped and failed.
//
// Threading: the pipeline runs on one thread and its counters are not thread-safe, while
// exporters (OTLP metric exporter, Prometheus endpoint) collect on their own threads. So the
// pipeline thread fills a SelfMetricsSnapshot from its own state (e.g. once a second) and
// Publish()es it under a mutex; Collect() only ever reads the last published snapshot.
//
// Metrics (Prometheus names in brackets; all counters are cumulative since agent start):
//   wirespan.capture.events.read / .events.submitted  {event}  [wirespan_capture_events_*_total]
//   wirespan.capture.copied            By       [wirespan_capture_copied_bytes_total]
//   wirespan.capture.drops{reason}     {event}  reason = ring_buffer_full, map_full,
//                                               copy_truncated, read_failed, iovec_limit
//   wirespan.capture.prefiltered       {syscall}  skipped by the in-kernel protocol pre-filter
//   wirespan.capture.gap               By       stream bytes known never to arrive
//   wirespan.connections.tracked (gauge), .opened, .closed, .evicted{reason=idle|capacity},
//     .undetected                      {connection}
//   wirespan.decoder.parse_errors{protocol}, wirespan.decoder.spans{protocol}
//   wirespan.trace.client_spans{parent=parented|unknown|none}
//   wirespan.spans.exported, .dropped{reason=queue_full|shutdown}, .failed, .sampled_out {span}
//   wirespan.export.queue.size / .capacity (gauges, {span}), wirespan.export.queue.fill (ratio)
//   wirespan.export.failures / .requests / .retries {signal=traces|metrics}, .sent (By)
//   wirespan.metrics.exported          {data_point}
// Kernel series appear once capture runs; export series only with the OTLP exporters.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "model/metrics.h"
#include "model/span.h"

namespace wirespan::agent::metrics {

// Kernel-side drop reasons, in the order of the BPF stats (enum ws_stat 0..4).
enum class KernelDrop : uint8_t {
  kRingBufferFull,
  kCopyTruncated,
  kMapFull,
  kReadFailed,
  kIovecLimit,
  kCount,
};
const char* KernelDropReason(KernelDrop reason);  // "ring_buffer_full", "map_full", ...

// Per-protocol decoder counters (decoders::Protocol order: http, postgresql, redis, amqp).
struct ProtocolCounters {
  std::string protocol;  // "http", "postgresql", ...
  uint64_t parse_errors = 0;
  uint64_t spans = 0;
  uint64_t connections_detected = 0;
};

// Counters of one exporter (traces or metrics); the OTLP exporter's ExporterStats, copied.
struct ExportCounters {
  bool present = false;  // false: no such exporter, its series are not reported
  uint64_t exported = 0;
  uint64_t dropped_queue_full = 0;
  uint64_t dropped_shutdown = 0;
  uint64_t sampled_out = 0;
  uint64_t failed = 0;
  uint64_t rejected = 0;
  uint64_t requests = 0;
  uint64_t retries = 0;
  uint64_t export_failures = 0;
  uint64_t bytes_sent = 0;
  uint64_t queue_size = 0;
  uint64_t queue_capacity = 0;
};

struct SelfMetricsSnapshot {
  // Capture.
  bool has_kernel_stats = false;
  uint64_t events_read = 0;       // records read from the ring buffer by user space
  uint64_t events_submitted = 0;  // records the kernel submitted
  uint64_t bytes_copied = 0;      // payload bytes copied into the ring buffer
  std::array<uint64_t, static_cast<size_t>(KernelDrop::kCount)> kernel_drops{};
  uint64_t protocol_prefiltered = 0;  // data syscalls skipped by the in-kernel pre-filter
  // Tracking.
  uint64_t connections_tracked = 0;  // now
  uint64_t connections_opened = 0;
  uint64_t connections_closed = 0;
  uint64_t connections_evicted_idle = 0;
  uint64_t connections_evicted_capacity = 0;
  uint64_t connections_undetected = 0;
  uint64_t stream_gap_bytes = 0;
  std::vector<ProtocolCounters> protocols;
  // Trace building: client spans given a parent, left as roots because several requests were in
  // flight (wirespan.parent=unknown), or with no request in flight on their thread.
  bool has_trace_stats = false;
  uint64_t trace_parented = 0;
  uint64_t trace_ambiguous = 0;
  uint64_t trace_roots = 0;
  // Export.
  ExportCounters spans;
  ExportCounters metrics;
};

class SelfMetrics : public model::MetricProducer {
 public:
  // `resource`: the agent's own identity, set on every metric (Prometheus job/instance and OTLP
  // resource). May be null (the exporter's default resource is then used).
  explicit SelfMetrics(std::shared_ptr<const model::Resource> resource);

  // From the pipeline thread: replaces the snapshot Collect reports.
  void Publish(const SelfMetricsSnapshot& snapshot);
  SelfMetricsSnapshot Latest() const;

  // From any thread.
  void Collect(uint64_t now_unix_nano, std::vector<model::Metric>& out) override;

 private:
  std::shared_ptr<const model::Resource> resource_;
  uint64_t start_unix_nano_;
  mutable std::mutex mu_;
  SelfMetricsSnapshot latest_;
};

}  // namespace wirespan::agent::metrics
