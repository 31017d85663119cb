// Metric data snapshots, independent of any export format (OTLP, Prometheus text), and the
// producer interface exporters collect from.
//
// Producers keep their own aggregation state and hand out snapshots on Collect(); exporters never
// see the state itself. Everything here is cumulative unless a Metric says otherwise.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "model/attributes.h"
#include "model/span.h"

namespace wirespan::model {

enum class MetricType : uint8_t { kSum, kGauge, kHistogram };
enum class AggregationTemporality : uint8_t { kCumulative, kDelta };

// One value of a Sum or Gauge time series.
struct NumberPoint {
  Attributes attributes;
  uint64_t start_time_unix_nano = 0;  // start of the cumulative interval (Sum); 0 for gauges
  uint64_t time_unix_nano = 0;
  std::variant<int64_t, double> value = int64_t{0};
};

// One explicit-bucket histogram time series. bucket_counts has bounds.size() + 1 entries: bucket
// i counts values in (bounds[i-1], bounds[i]], the last one (bounds.back(), +inf).
struct HistogramPoint {
  Attributes attributes;
  uint64_t start_time_unix_nano = 0;
  uint64_t time_unix_nano = 0;
  uint64_t count = 0;
  double sum = 0;
  std::optional<double> min;  // unset when count == 0
  std::optional<double> max;
  std::vector<double> bounds;
  std::vector<uint64_t> bucket_counts;
};

// One instrument's snapshot for one resource.
struct Metric {
  std::string name;  // OpenTelemetry name, e.g. "http.server.request.duration"
  std::string description;
  std::string unit;  // UCUM: "s", "By", "1", "{request}", ...
  MetricType type = MetricType::kSum;
  bool monotonic = true;  // Sum only: a counter (true) or an up-down counter
  AggregationTemporality temporality = AggregationTemporality::kCumulative;
  std::vector<NumberPoint> number_points;        // kSum, kGauge
  std::vector<HistogramPoint> histogram_points;  // kHistogram
  // The service the series belong to; null means the exporter's own (agent) resource.
  std::shared_ptr<const Resource> resource;
};

// Anything that can report metrics. Collect is called from exporter threads (OTLP, Prometheus),
// possibly concurrently: implementations must be thread-safe. Append to `out`, never clear it.
class MetricProducer {
 public:
  virtual ~MetricProducer() = default;
  virtual void Collect(uint64_t now_unix_nano, std::vector<Metric>& out) = 0;
};

// Several producers behind one: what the OTLP metric exporter and the Prometheus endpoint share.
class MetricProducerSet : public MetricProducer {
 public:
  void Add(std::shared_ptr<MetricProducer> producer);
  void Collect(uint64_t now_unix_nano, std::vector<Metric>& out) override;
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<MetricProducer>> producers_;
};

// Explicit-bucket histogram aggregation (not thread-safe; callers lock). Values are bucketed the
// OpenTelemetry/Prometheus way: a value equal to a bound belongs to that bound's bucket ("le").
class HistogramAggregator {
 public:
  explicit HistogramAggregator(std::shared_ptr<const std::vector<double>> bounds);
  void Record(double value);
  // Fills count, sum, min, max, bounds and bucket_counts (not attributes or times).
  void Snapshot(HistogramPoint& point) const;
  uint64_t count() const { return count_; }
  const std::vector<uint64_t>& bucket_counts() const { return counts_; }
  // Index of the bucket `value` falls in, for bounds sorted ascending.
  static size_t BucketIndex(const std::vector<double>& bounds, double value);

 private:
  std::shared_ptr<const std::vector<double>> bounds_;
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  double sum_ = 0;
  double min_ = 0;
  double max_ = 0;
};

// Agent self-metrics from callbacks, read at collection time. Thread-safe if the callbacks are.
// A counter is a monotonic cumulative Sum whose start time is when the producer was made.
class CallbackCounterProducer : public MetricProducer {
 public:
  CallbackCounterProducer(std::string name, std::string description, std::string unit,
                          std::function<int64_t()> read, Attributes attributes = {});
  void Collect(uint64_t now_unix_nano, std::vector<Metric>& out) override;

 private:
  Metric proto_;
  std::function<int64_t()> read_;
  uint64_t start_unix_nano_;
};

class CallbackGaugeProducer : public MetricProducer {
 public:
  CallbackGaugeProducer(std::string name, std::string description, std::string unit,
                        std::function<double()> read, Attributes attributes = {});
  void Collect(uint64_t now_unix_nano, std::vector<Metric>& out) override;

 private:
  Metric proto_;
  std::function<double()> read_;
};

// Wall clock in Unix nanoseconds.
uint64_t UnixNanosNow();

}  // namespace wirespan::model
