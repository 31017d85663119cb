#include "exporters/otlp/span_exporter.h"

#include <spdlog/spdlog.h>

namespace wirespan::exporters::otlp {

using Clock = std::chrono::steady_clock;

SpanExporterOptions SpanExporterOptionsFrom(const OtlpConfig& config) {
  SpanExporterOptions o;
  o.signal = ResolveSignal(config, Signal::kTraces);
  o.max_queue_size = config.max_queue_size;
  o.max_export_batch_size = config.max_export_batch_size;
  o.schedule_delay = config.schedule_delay;
  o.retry = RetryPolicyFrom(config);
  o.sampler = std::make_shared<Sampler>(config.sampler);
  return o;
}

StatusOr<std::unique_ptr<OtlpSpanExporter>> OtlpSpanExporter::Create(
    SpanExporterOptions options, std::unique_ptr<HttpTransport> transport) {
  Status s = ValidateSignalConfig(options.signal);
  if (!s.ok()) return s;
  if (options.max_queue_size == 0 || options.max_export_batch_size == 0) {
    return Status::Error("OTLP span exporter: queue and batch sizes must be positive");
  }
  options.max_export_batch_size = std::min(options.max_export_batch_size, options.max_queue_size);
  return std::unique_ptr<OtlpSpanExporter>(
      new OtlpSpanExporter(std::move(options), std::move(transport)));
}

StatusOr<std::unique_ptr<OtlpSpanExporter>> OtlpSpanExporter::Create(
    const OtlpConfig& config, EncodeOptions encode, std::unique_ptr<HttpTransport> transport) {
  SpanExporterOptions o = SpanExporterOptionsFrom(config);
  o.encode = std::move(encode);
  return Create(std::move(o), std::move(transport));
}

OtlpSpanExporter::OtlpSpanExporter(SpanExporterOptions options,
                                   std::unique_ptr<HttpTransport> transport)
    : options_(std::move(options)),
      client_(Signal::kTraces, options_.signal, options_.retry, std::move(transport), &stats_) {
  stats_.queue_capacity = options_.max_queue_size;
  worker_ = std::thread([this] { Run(); });
}

OtlpSpanExporter::~OtlpSpanExporter() { Shutdown(std::chrono::seconds(5)); }

void OtlpSpanExporter::OnSpan(model::Span span) {
  if (options_.sampler && !options_.sampler->ShouldSample(span)) {
    stats_.sampled_out.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      stats_.dropped_shutdown.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (queue_.size() >= options_.max_queue_size) {
      queue_.pop_front();
      stats_.dropped_queue_full.fetch_add(1, std::memory_order_relaxed);
    }
    queue_.push_back(std::move(span));
    stats_.queue_size.store(queue_.size(), std::memory_order_relaxed);
    wake = queue_.size() == options_.max_export_batch_size;
  }
  if (wake) cv_.notify_one();
}

bool OtlpSpanExporter::SleepUntil(Clock::time_point until) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    // A retry that would wake after the shutdown deadline is pointless: give up now.
    if (stopping_ && stop_deadline_ < until) return false;
    if (Clock::now() >= until) return true;
    cv_.wait_until(lock, until);
  }
}

void OtlpSpanExporter::ExportBatch(std::vector<model::Span>& batch) {
  std::string body = EncodeTraces(options_.signal.protocol, batch, options_.encode);
  auto deadline = Clock::now() + options_.retry.max_retry_time;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) deadline = std::min(deadline, stop_deadline_);
  }
  client_.Export(body, batch.size(), deadline,
                 [this](Clock::time_point until) { return SleepUntil(until); });
}

void OtlpSpanExporter::Run() {
  std::vector<model::Span> batch;
  batch.reserve(options_.max_export_batch_size);
  auto next_export = Clock::now() + options_.schedule_delay;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait_until(lock, next_export, [&] {
      return stopping_ || queue_.size() >= options_.max_export_batch_size ||
             flush_requested_ != flush_done_;
    });
    bool draining = stopping_ || flush_requested_ != flush_done_;
    uint64_t flush_target = flush_requested_;
    if (stopping_ && (queue_.empty() || Clock::now() >= stop_deadline_)) break;
    bool due = Clock::now() >= next_export || queue_.size() >= options_.max_export_batch_size;
    if (!draining && !due) continue;
    if (queue_.empty()) {
      next_export = Clock::now() + options_.schedule_delay;
      if (draining) {
        flush_done_ = flush_target;
        done_cv_.notify_all();
      }
      continue;
    }
    size_t n = std::min(queue_.size(), options_.max_export_batch_size);
    batch.clear();
    for (size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    stats_.queue_size.store(queue_.size(), std::memory_order_relaxed);
    in_flight_ = true;
    lock.unlock();
    ExportBatch(batch);
    batch.clear();
    lock.lock();
    in_flight_ = false;
    if (queue_.size() < options_.max_export_batch_size) {
      next_export = Clock::now() + options_.schedule_delay;
    }
    if (draining && queue_.empty()) {
      flush_done_ = flush_target;
      done_cv_.notify_all();
    }
  }
  // Out of time (or nothing left): whatever is queued is dropped.
  if (!queue_.empty()) {
    stats_.dropped_shutdown.fetch_add(queue_.size(), std::memory_order_relaxed);
    spdlog::warn("OTLP span exporter: shutdown deadline passed, {} spans dropped", queue_.size());
    queue_.clear();
  }
  stats_.queue_size.store(0, std::memory_order_relaxed);
  flush_done_ = flush_requested_;
  done_cv_.notify_all();
}

bool OtlpSpanExporter::ForceFlush(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!worker_.joinable() && queue_.empty()) return true;
  uint64_t target = ++flush_requested_;
  cv_.notify_one();
  return done_cv_.wait_for(lock, timeout, [&] { return flush_done_ >= target; });
}

void OtlpSpanExporter::Shutdown(std::chrono::milliseconds deadline) {
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

ExporterStats OtlpSpanExporter::stats() const { return stats_.Snapshot(); }

}  // namespace wirespan::exporters::otlp
