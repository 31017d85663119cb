// OTLP metric export: every interval, collect from a MetricProducer and send one
// ExportMetricsServiceRequest (retried within the interval).
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "base/status.h"
#include "exporters/otlp/config.h"
#include "exporters/otlp/encoder.h"
#include "exporters/otlp/export_client.h"
#include "exporters/otlp/http_client.h"
#include "model/metrics.h"

namespace wirespan::exporters::otlp {

struct MetricExporterOptions {
  SignalConfig signal;  // ResolveSignal(config, Signal::kMetrics)
  std::chrono::milliseconds interval{60000};
  RetryPolicy retry;  // max_retry_time is capped at the interval
  EncodeOptions encode;
};
MetricExporterOptions MetricExporterOptionsFrom(const OtlpConfig& config);

class OtlpMetricExporter {
 public:
  // `producer`: what to collect (a model::MetricProducerSet to combine several). Starts the thread.
  static StatusOr<std::unique_ptr<OtlpMetricExporter>> Create(
      MetricExporterOptions options, std::shared_ptr<model::MetricProducer> producer,
      std::unique_ptr<HttpTransport> transport = nullptr);
  static StatusOr<std::unique_ptr<OtlpMetricExporter>> Create(
      const OtlpConfig& config, std::shared_ptr<model::MetricProducer> producer,
      EncodeOptions encode = {}, std::unique_ptr<HttpTransport> transport = nullptr);
  ~OtlpMetricExporter();

  // Collects and exports now (from the exporter thread); true if done within `timeout`.
  bool ForceFlush(std::chrono::milliseconds timeout);
  // A last collection and export within `deadline`, then the thread stops. Idempotent.
  void Shutdown(std::chrono::milliseconds deadline = std::chrono::seconds(5));

  // exported/failed/rejected count data points; queue fields are unused.
  ExporterStats stats() const;

 private:
  OtlpMetricExporter(MetricExporterOptions options, std::shared_ptr<model::MetricProducer> producer,
                     std::unique_ptr<HttpTransport> transport);
  void Run();
  void CollectAndExport(std::chrono::steady_clock::time_point deadline);
  bool SleepUntil(std::chrono::steady_clock::time_point until);

  MetricExporterOptions options_;
  std::shared_ptr<model::MetricProducer> producer_;
  AtomicExporterStats stats_;
  ExportClient client_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable done_cv_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point stop_deadline_{};
  uint64_t flush_requested_ = 0;
  uint64_t flush_done_ = 0;
  std::mutex shutdown_mu_;
  std::thread worker_;
};

}  // namespace wirespan::exporters::otlp
