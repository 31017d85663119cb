// RED (rate, errors, duration) metrics from finished spans, per OpenTelemetry semantic
// conventions, as a SpanSink decorator: each span is recorded, then passed on unchanged (except
// that HTTP server spans get http.route). Also a MetricProducer for the exporters.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/metrics.h"
#include "model/span.h"

namespace wirespan::agent::metrics {

// Semantic-convention advice for duration histograms, seconds.
const std::vector<double>& DurationBoundsSeconds();
// Body sizes: semconv gives no advice; powers of 4 from 64 B to 16 MiB
// [0, 64, 256, 1 Ki, 4 Ki, 16 Ki, 64 Ki, 256 Ki, 1 Mi, 4 Mi, 16 Mi] (0 separates empty bodies).
const std::vector<double>& BodySizeBoundsBytes();

struct RedMetricsOptions {
  // Series per metric name (over all resources), the OpenTelemetry SDK default cardinality
  // limit. Beyond it, recordings go to one series per resource with the single attribute
  // otel.metric.overflow=true.
  size_t max_series_per_metric = 2000;
  // Set http.route on HTTP server spans (from url.path / http.target) before passing them on,
  // and rename a server span named just "{method}" to "{method} {route}".
  bool set_http_route = true;
  bool rename_server_spans = true;
};

// Instruments (all cumulative explicit-bucket histograms):
//   http.server.request.duration, http.client.request.duration            (s)
//   http.server.request.body.size, http.server.response.body.size          (By)
//   http.client.request.body.size, http.client.response.body.size          (By)
//   db.client.operation.duration           postgresql / redis client spans  (s)
//   messaging.client.operation.duration    producer (publish) and client spans of amqp (s)
//   messaging.process.duration             consumer spans of amqp (s)
// Attributes (only these; raw paths, query text and ids never become attributes):
//   http: http.request.method (unknown -> _OTHER), http.response.status_code, http.route (server
//         only), url.scheme, server.address, server.port, error.type
//   db:   db.system.name, db.operation.name, db.namespace, db.collection.name, server.address,
//         server.port, error.type
//   messaging: messaging.system, messaging.operation.name, messaging.operation.type,
//         messaging.destination.name (ids collapsed; temporary/anonymous queues left out),
//         server.address, server.port, error.type
// error.type: the span's error.type, else the HTTP status (>= 500 on servers, >= 400 on clients),
// else "_OTHER" for spans with status ERROR.
class RedMetrics : public model::SpanSink, public model::MetricProducer {
 public:
  // `next` (may be null) receives every span after it was recorded.
  explicit RedMetrics(std::shared_ptr<model::SpanSink> next, RedMetricsOptions options = {});
  ~RedMetrics() override;

  void OnSpan(model::Span span) override;
  void Collect(uint64_t now_unix_nano, std::vector<model::Metric>& out) override;

  // Records one span without passing it on (OnSpan = Record + route + next).
  void Record(const model::Span& span);

  struct Stats {
    uint64_t spans = 0;       // spans seen
    uint64_t recorded = 0;    // spans that fed at least one instrument
    uint64_t overflowed = 0;  // recordings (one per instrument) sent to an overflow series
    uint64_t series = 0;      // live series, overflow ones included
  };
  Stats stats() const;

  enum Instrument : uint8_t {
    kHttpServerDuration,
    kHttpClientDuration,
    kHttpServerRequestBodySize,
    kHttpServerResponseBodySize,
    kHttpClientRequestBodySize,
    kHttpClientResponseBodySize,
    kDbClientDuration,
    kMessagingClientDuration,
    kMessagingProcessDuration,
    kInstrumentCount,
  };

 private:
  struct Series;
  struct InstrumentState;
  void RecordLocked(Instrument instrument, const std::shared_ptr<const model::Resource>& resource,
                    model::Attributes&& attrs, double value);

  std::shared_ptr<model::SpanSink> next_;
  RedMetricsOptions options_;
  uint64_t start_unix_nano_;
  std::shared_ptr<const std::vector<double>> duration_bounds_;
  std::shared_ptr<const std::vector<double>> size_bounds_;

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<InstrumentState>> instruments_;
  uint64_t spans_ = 0;
  uint64_t recorded_ = 0;
  uint64_t overflowed_ = 0;
};

}  // namespace wirespan::agent::metrics
