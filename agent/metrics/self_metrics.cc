#include "agent/metrics/self_metrics.h"

namespace wirespan::agent::metrics {
namespace {

using model::Metric;
using model::MetricType;
using model::NumberPoint;

class Builder {
 public:
  Builder(std::vector<Metric>& out, std::shared_ptr<const model::Resource> resource, uint64_t start,
          uint64_t now)
      : out_(out), resource_(std::move(resource)), start_(start), now_(now) {}

  // A monotonic cumulative Sum; one point per call of Point().
  Metric& Counter(const char* name, const char* description, const char* unit) {
    Metric& m = New(name, description, unit);
    m.type = MetricType::kSum;
    m.monotonic = true;
    return m;
  }
  Metric& Gauge(const char* name, const char* description, const char* unit) {
    Metric& m = New(name, description, unit);
    m.type = MetricType::kGauge;
    return m;
  }
  void Point(Metric& m, uint64_t value, model::Attributes attrs = {}) {
    NumberPoint p;
    p.attributes = std::move(attrs);
    p.start_time_unix_nano = m.type == MetricType::kSum ? start_ : 0;
    p.time_unix_nano = now_;
    p.value = static_cast<int64_t>(value);
    m.number_points.push_back(std::move(p));
  }
  void PointDouble(Metric& m, double value) {
    NumberPoint p;
    p.time_unix_nano = now_;
    p.value = value;
    m.number_points.push_back(std::move(p));
  }
  static model::Attributes Attr(const char* key, const std::string& value) {
    model::Attributes a;
    a.Set(key, value);
    return a;
  }

 private:
  Metric& New(const char* name, const char* description, const char* unit) {
    Metric m;
    m.name = name;
    m.description = description;
    m.unit = unit;
    m.resource = resource_;
    out_.push_back(std::move(m));
    return out_.back();
  }
  std::vector<Metric>& out_;
  std::shared_ptr<const model::Resource> resource_;
  uint64_t start_;
  uint64_t now_;
};

}  // namespace

const char* KernelDropReason(KernelDrop reason) {
  switch (reason) {
    case KernelDrop::kRingBufferFull:
      return "ring_buffer_full";
    case KernelDrop::kCopyTruncated:
      return "copy_truncated";
    case KernelDrop::kMapFull:
      return "map_full";
    case KernelDrop::kReadFailed:
      return "read_failed";
    case KernelDrop::kIovecLimit:
      return "iovec_limit";
    case KernelDrop::kCount:
      break;
  }
  return "unknown";
}

SelfMetrics::SelfMetrics(std::shared_ptr<const model::Resource> resource)
    : resource_(std::move(resource)), start_unix_nano_(model::UnixNanosNow()) {}

void SelfMetrics::Publish(const SelfMetricsSnapshot& snapshot) {
  std::lock_guard<std::mutex> lock(mu_);
  latest_ = snapshot;
}

SelfMetricsSnapshot SelfMetrics::Latest() const {
  std::lock_guard<std::mutex> lock(mu_);
  return latest_;
}

void SelfMetrics::Collect(uint64_t now_unix_nano, std::vector<model::Metric>& out) {
  const SelfMetricsSnapshot s = Latest();
  Builder b(out, resource_, start_unix_nano_, now_unix_nano);

  // Capture. Several series per metric are appended point by point; keep references short-lived
  // (out may reallocate when the next metric is added).
  if (s.has_kernel_stats) {
    b.Point(b.Counter("wirespan.capture.events.submitted",
                      "Ring buffer records the kernel submitted", "{event}"),
            s.events_submitted);
    b.Point(b.Counter("wirespan.capture.copied", "Payload bytes copied into the ring buffer", "By"),
            s.bytes_copied);
    {
      Metric& m = b.Counter("wirespan.capture.drops",
                            "Capture losses in the kernel, by reason (ring buffer full, map "
                            "full, copy truncated, read failed, iovec limit)",
                            "{event}");
      for (size_t i = 0; i < s.kernel_drops.size(); ++i) {
        b.Point(m, s.kernel_drops[i],
                Builder::Attr("reason", KernelDropReason(static_cast<KernelDrop>(i))));
      }
    }
    b.Point(b.Counter("wirespan.capture.prefiltered",
                      "Data syscalls skipped by the in-kernel protocol pre-filter", "{syscall}"),
            s.protocol_prefiltered);
  }
  b.Point(b.Counter("wirespan.capture.events.read", "Capture events read by the agent", "{event}"),
          s.events_read);

  // Tracking and decoding.
  b.Point(b.Gauge("wirespan.connections.tracked", "Connections tracked now", "{connection}"),
          s.connections_tracked);
  b.Point(
      b.Counter("wirespan.connections.opened", "Connections tracked since start", "{connection}"),
      s.connections_opened);
  b.Point(b.Counter("wirespan.connections.closed", "Tracked connections closed", "{connection}"),
          s.connections_closed);
  {
    Metric& m = b.Counter("wirespan.connections.evicted",
                          "Connections forgotten before they closed, by reason", "{connection}");
    b.Point(m, s.connections_evicted_idle, Builder::Attr("reason", "idle"));
    b.Point(m, s.connections_evicted_capacity, Builder::Attr("reason", "capacity"));
  }
  b.Point(b.Counter("wirespan.connections.undetected",
                    "Connections of none of the decoded protocols", "{connection}"),
          s.connections_undetected);
  b.Point(b.Counter("wirespan.capture.gap", "Stream bytes known never to arrive", "By"),
          s.stream_gap_bytes);
  if (!s.protocols.empty()) {
    Metric& errors =
        b.Counter("wirespan.decoder.parse_errors",
                  "Bytes the decoder could not parse (resyncs), by protocol", "{error}");
    for (const auto& p : s.protocols) {
      b.Point(errors, p.parse_errors, Builder::Attr("protocol", p.protocol));
    }
    Metric& spans = b.Counter("wirespan.decoder.spans", "Spans decoded, by protocol", "{span}");
    for (const auto& p : s.protocols)
      b.Point(spans, p.spans, Builder::Attr("protocol", p.protocol));
  }

  if (s.has_trace_stats) {
    Metric& m = b.Counter("wirespan.trace.client_spans",
                          "Client spans by parent linking outcome: parented, unknown (several "
                          "requests in flight on the thread), none (no request in flight)",
                          "{span}");
    b.Point(m, s.trace_parented, Builder::Attr("parent", "parented"));
    b.Point(m, s.trace_ambiguous, Builder::Attr("parent", "unknown"));
    b.Point(m, s.trace_roots, Builder::Attr("parent", "none"));
  }

  // Export.
  if (s.spans.present) {
    const ExportCounters& c = s.spans;
    b.Point(b.Counter("wirespan.spans.exported", "Spans the collector accepted", "{span}"),
            c.exported);
    {
      Metric& m = b.Counter("wirespan.spans.dropped",
                            "Spans dropped before export (queue full: the oldest; shutdown: "
                            "left when the flush deadline passed)",
                            "{span}");
      b.Point(m, c.dropped_queue_full, Builder::Attr("reason", "queue_full"));
      b.Point(m, c.dropped_shutdown, Builder::Attr("reason", "shutdown"));
    }
    b.Point(b.Counter("wirespan.spans.failed",
                      "Spans in batches given up (non-retryable answer or out of retry time) "
                      "or rejected by the collector",
                      "{span}"),
            c.failed + c.rejected);
    b.Point(b.Counter("wirespan.spans.sampled_out", "Spans the sampler did not keep", "{span}"),
            c.sampled_out);
    b.Point(b.Gauge("wirespan.export.queue.size", "Spans waiting in the export queue", "{span}"),
            c.queue_size);
    b.Point(b.Gauge("wirespan.export.queue.capacity", "Export queue capacity", "{span}"),
            c.queue_capacity);
    b.PointDouble(b.Gauge("wirespan.export.queue.fill", "Export queue fill (size / capacity)", "1"),
                  c.queue_capacity == 0
                      ? 0.0
                      : static_cast<double>(c.queue_size) / static_cast<double>(c.queue_capacity));
  }
  if (s.metrics.present) {
    b.Point(b.Counter("wirespan.metrics.exported", "Metric data points the collector accepted",
                      "{data_point}"),
            s.metrics.exported);
  }
  if (s.spans.present || s.metrics.present) {
    struct Item {
      const char* name;
      const char* description;
      const char* unit;
      uint64_t ExportCounters::*field;
    };
    static const Item kItems[] = {
        {"wirespan.export.failures", "Export batches given up", "{batch}",
         &ExportCounters::export_failures},
        {"wirespan.export.requests", "Export HTTP requests, retries included", "{request}",
         &ExportCounters::requests},
        {"wirespan.export.retries", "Export requests retried", "{request}",
         &ExportCounters::retries},
        {"wirespan.export.sent", "Export request bodies sent (after compression)", "By",
         &ExportCounters::bytes_sent},
    };
    for (const Item& item : kItems) {
      Metric& m = b.Counter(item.name, item.description, item.unit);
      if (s.spans.present) b.Point(m, s.spans.*item.field, Builder::Attr("signal", "traces"));
      if (s.metrics.present) {
        b.Point(m, s.metrics.*item.field, Builder::Attr("signal", "metrics"));
      }
    }
  }
}

}  // namespace wirespan::agent::metrics
