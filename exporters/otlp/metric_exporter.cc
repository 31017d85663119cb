#include "exporters/otlp/metric_exporter.h"

#include <spdlog/spdlog.h>

namespace wirespan::exporters::otlp {

using Clock = std::chrono::steady_clock;

MetricExporterOptions MetricExporterOptionsFrom(const OtlpConfig& config) {
  MetricExporterOptions o;
  o.signal = ResolveSignal(config, Signal::kMetrics);
  o.interval = config.metric_export_interval;
  o.retry = RetryPolicyFrom(config);
  return o;
}

StatusOr<std::unique_ptr<OtlpMetricExporter>> OtlpMetricExporter::Create(
    MetricExporterOptions options, std::shared_ptr<model::MetricProducer> producer,
    std::unique_ptr<HttpTransport> transport) {
  Status s = ValidateSignalConfig(options.signal);
  if (!s.ok()) return s;
  if (!producer) return Status::Error("OTLP metric exporter: no metric producer");
  if (options.interval.count() <= 0) {
    return Status::Error("OTLP metric exporter: the export interval must be positive");
  }
  // Cumulative data: a later collection supersedes a batch still being retried.
  options.retry.max_retry_time = std::min(options.retry.max_retry_time, options.interval);
  return std::unique_ptr<OtlpMetricExporter>(
      new OtlpMetricExporter(std::move(options), std::move(producer), std::move(transport)));
}

StatusOr<std::unique_ptr<OtlpMetricExporter>> OtlpMetricExporter::Create(
    const OtlpConfig& config, std::shared_ptr<model::MetricProducer> producer, EncodeOptions encode,
    std::unique_ptr<HttpTransport> transport) {
  MetricExporterOptions o = MetricExporterOptionsFrom(config);
  o.encode = std::move(encode);
  return Create(std::move(o), std::move(producer), std::move(transport));
}

OtlpMetricExporter::OtlpMetricExporter(MetricExporterOptions options,
                                       std::shared_ptr<model::MetricProducer> producer,
                                       std::unique_ptr<HttpTransport> transport)
    : options_(std::move(options)),
      producer_(std::move(producer)),
      client_(Signal::kMetrics, options_.signal, options_.retry, std::move(transport), &stats_) {
  worker_ = std::thread([this] { Run(); });
}

OtlpMetricExporter::~OtlpMetricExporter() { Shutdown(std::chrono::seconds(5)); }

bool OtlpMetricExporter::SleepUntil(Clock::time_point until) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (stopping_ && stop_deadline_ < until) return false;
    if (Clock::now() >= until) return true;
    cv_.wait_until(lock, until);
  }
}

void OtlpMetricExporter::CollectAndExport(Clock::time_point deadline) {
  std::vector<model::Metric> metrics;
  producer_->Collect(model::UnixNanosNow(), metrics);
  size_t points = CountDataPoints(metrics);
  if (points == 0) return;
  std::string body = EncodeMetrics(options_.signal.protocol, metrics, options_.encode);
  client_.Export(body, points, deadline,
                 [this](Clock::time_point until) { return SleepUntil(until); });
}

void OtlpMetricExporter::Run() {
  auto next = Clock::now() + options_.interval;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait_until(lock, next, [&] { return stopping_ || flush_requested_ != flush_done_; });
    if (stopping_) break;
    uint64_t target = flush_requested_;
    bool flushing = target != flush_done_;
    if (!flushing && Clock::now() < next) continue;
    lock.unlock();
    auto deadline = Clock::now() + options_.retry.max_retry_time;
    CollectAndExport(deadline);
    lock.lock();
    next = Clock::now() + options_.interval;
    if (flushing) {
      flush_done_ = target;
      done_cv_.notify_all();
    }
  }
  // Final collection so the last interval is not lost.
  auto deadline = stop_deadline_;
  lock.unlock();
  if (Clock::now() < deadline) CollectAndExport(deadline);
  lock.lock();
  flush_done_ = flush_requested_;
  done_cv_.notify_all();
}

bool OtlpMetricExporter::ForceFlush(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_) return true;
  uint64_t target = ++flush_requested_;
  cv_.notify_all();
  return done_cv_.wait_for(lock, timeout, [&] { return flush_done_ >= target; });
}

void OtlpMetricExporter::Shutdown(std::chrono::milliseconds deadline) {
  std::lock_guard<std::mutex> shutdown_lock(shutdown_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      stopping_ = true;
      stop_deadline_ = Clock::now() + deadline;
    }
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

ExporterStats OtlpMetricExporter::stats() const { return stats_.Snapshot(); }

}  // namespace wirespan::exporters::otlp
