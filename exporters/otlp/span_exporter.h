// OTLP span export: a bounded queue filled by OnSpan (never blocks), a background thread that
// batches, encodes and sends with retries.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "base/status.h"
#include "exporters/otlp/config.h"
#include "exporters/otlp/encoder.h"
#include "exporters/otlp/export_client.h"
#include "exporters/otlp/http_client.h"
#include "exporters/otlp/sampler.h"
#include "model/span.h"

namespace wirespan::exporters::otlp {

struct SpanExporterOptions {
  SignalConfig signal;  // where and how (ResolveSignal(config, Signal::kTraces))
  size_t max_queue_size = 2048;
  size_t max_export_batch_size = 512;
  std::chrono::milliseconds schedule_delay{1000};
  RetryPolicy retry;
  EncodeOptions encode;
  std::shared_ptr<const Sampler> sampler;  // null: every span is exported
};
SpanExporterOptions SpanExporterOptionsFrom(const OtlpConfig& config);

class OtlpSpanExporter : public model::SpanSink {
 public:
  // Validates the options and starts the export thread. `transport` null: libcurl.
  static StatusOr<std::unique_ptr<OtlpSpanExporter>> Create(
      SpanExporterOptions options, std::unique_ptr<HttpTransport> transport = nullptr);
  // Shorthand: options from an OtlpConfig (endpoint, batching, retries, sampler).
  static StatusOr<std::unique_ptr<OtlpSpanExporter>> Create(
      const OtlpConfig& config, EncodeOptions encode = {},
      std::unique_ptr<HttpTransport> transport = nullptr);

  ~OtlpSpanExporter() override;  // Shutdown(5 s) if not done yet

  // Lock, push, unlock: when the queue is full the oldest span is dropped and counted.
  void OnSpan(model::Span span) override;

  // Exports everything queued now; true if it was all handled (sent or given up) in time.
  bool ForceFlush(std::chrono::milliseconds timeout);
  // Stops taking spans, exports what is queued (retries included) until `deadline` from now,
  // then drops the rest (counted in dropped_shutdown) and joins the thread. Idempotent.
  void Shutdown(std::chrono::milliseconds deadline = std::chrono::seconds(5));

  ExporterStats stats() const;
  const SpanExporterOptions& options() const { return options_; }

 private:
  OtlpSpanExporter(SpanExporterOptions options, std::unique_ptr<HttpTransport> transport);
  void Run();
  bool SleepUntil(std::chrono::steady_clock::time_point until);
  void ExportBatch(std::vector<model::Span>& batch);

  SpanExporterOptions options_;
  AtomicExporterStats stats_;
  ExportClient client_;

  mutable std::mutex mu_;
  std::condition_variable cv_;       // wakes the worker
  std::condition_variable done_cv_;  // wakes ForceFlush waiters
  std::deque<model::Span> queue_;
  bool stopping_ = false;
  bool in_flight_ = false;
  std::chrono::steady_clock::time_point stop_deadline_{};
  uint64_t flush_requested_ = 0;
  uint64_t flush_done_ = 0;
  std::mutex shutdown_mu_;
  std::thread worker_;
};

}  // namespace wirespan::exporters::otlp
