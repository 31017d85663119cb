#include "model/metrics.h"

#include <algorithm>
#include <chrono>

namespace wirespan::model {

void MetricProducerSet::Add(std::shared_ptr<MetricProducer> producer) {
  if (!producer) return;
  std::lock_guard<std::mutex> lock(mu_);
  producers_.push_back(std::move(producer));
}

void MetricProducerSet::Collect(uint64_t now_unix_nano, std::vector<Metric>& out) {
  std::vector<std::shared_ptr<MetricProducer>> producers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    producers = producers_;
  }
  for (const auto& p : producers) p->Collect(now_unix_nano, out);
}

size_t MetricProducerSet::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return producers_.size();
}

HistogramAggregator::HistogramAggregator(std::shared_ptr<const std::vector<double>> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_->size() + 1, 0) {}

size_t HistogramAggregator::BucketIndex(const std::vector<double>& bounds, double value) {
  // First bound >= value: (bounds[i-1], bounds[i]]. NaN lands in the overflow bucket.
  if (value != value) return bounds.size();
  return static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), value) -
                             bounds.begin());
}

void HistogramAggregator::Record(double value) {
  ++counts_[BucketIndex(*bounds_, value)];
  if (count_ == 0) {
    min_ = max_ = value;
  } else {
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
  }
  ++count_;
  sum_ += value;
}

void HistogramAggregator::Snapshot(HistogramPoint& point) const {
  point.count = count_;
  point.sum = sum_;
  if (count_ > 0) {
    point.min = min_;
    point.max = max_;
  } else {
    point.min.reset();
    point.max.reset();
  }
  point.bounds = *bounds_;
  point.bucket_counts = counts_;
}

uint64_t UnixNanosNow() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

CallbackCounterProducer::CallbackCounterProducer(std::string name, std::string description,
                                                 std::string unit, std::function<int64_t()> read,
                                                 Attributes attributes)
    : read_(std::move(read)), start_unix_nano_(UnixNanosNow()) {
  proto_.name = std::move(name);
  proto_.description = std::move(description);
  proto_.unit = std::move(unit);
  proto_.type = MetricType::kSum;
  proto_.monotonic = true;
  proto_.number_points.resize(1);
  proto_.number_points[0].attributes = std::move(attributes);
}

void CallbackCounterProducer::Collect(uint64_t now_unix_nano, std::vector<Metric>& out) {
  Metric m = proto_;
  m.number_points[0].start_time_unix_nano = start_unix_nano_;
  m.number_points[0].time_unix_nano = now_unix_nano;
  m.number_points[0].value = read_ ? read_() : int64_t{0};
  out.push_back(std::move(m));
}

CallbackGaugeProducer::CallbackGaugeProducer(std::string name, std::string description,
                                             std::string unit, std::function<double()> read,
                                             Attributes attributes)
    : read_(std::move(read)) {
  proto_.name = std::move(name);
  proto_.description = std::move(description);
  proto_.unit = std::move(unit);
  proto_.type = MetricType::kGauge;
  proto_.number_points.resize(1);
  proto_.number_points[0].attributes = std::move(attributes);
}

void CallbackGaugeProducer::Collect(uint64_t now_unix_nano, std::vector<Metric>& out) {
  Metric m = proto_;
  m.number_points[0].time_unix_nano = now_unix_nano;
  m.number_points[0].value = read_ ? read_() : 0.0;
  out.push_back(std::move(m));
}

}  // namespace wirespan::model
