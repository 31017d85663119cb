#include "exporters/otlp/export_client.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

namespace wirespan::exporters::otlp {

RetryPolicy RetryPolicyFrom(const OtlpConfig& config) {
  RetryPolicy r;
  r.initial_backoff = config.retry_initial_backoff;
  r.max_backoff = std::max(config.retry_max_backoff, config.retry_initial_backoff);
  r.max_retry_time = config.max_retry_time;
  return r;
}

ExporterStats AtomicExporterStats::Snapshot() const {
  ExporterStats s;
  s.exported = exported.load(std::memory_order_relaxed);
  s.dropped_queue_full = dropped_queue_full.load(std::memory_order_relaxed);
  s.dropped_shutdown = dropped_shutdown.load(std::memory_order_relaxed);
  s.sampled_out = sampled_out.load(std::memory_order_relaxed);
  s.failed = failed.load(std::memory_order_relaxed);
  s.rejected = rejected.load(std::memory_order_relaxed);
  s.retries = retries.load(std::memory_order_relaxed);
  s.requests = requests.load(std::memory_order_relaxed);
  s.export_failures = export_failures.load(std::memory_order_relaxed);
  s.bytes_sent = bytes_sent.load(std::memory_order_relaxed);
  s.queue_size = queue_size.load(std::memory_order_relaxed);
  s.queue_capacity = queue_capacity.load(std::memory_order_relaxed);
  return s;
}

Status ValidateSignalConfig(const SignalConfig& config) {
  if (config.protocol == Protocol::kGrpc) {
#ifdef WIRESPAN_OTLP_GRPC
    return Status::Error("OTLP/gRPC transport is not implemented yet; use http/protobuf");
#else
    return Status::Error(
        "OTLP protocol 'grpc' needs a build with -DWIRESPAN_OTLP_GRPC=ON (libgrpc++-dev); use "
        "http/protobuf or http/json");
#endif
  }
  if (!config.url.starts_with("http://") && !config.url.starts_with("https://")) {
    return Status::Error(
        fmt::format("OTLP endpoint '{}' must be an http:// or https:// URL", config.url));
  }
  return Status::Ok();
}

ExportClient::ExportClient(Signal signal, SignalConfig config, RetryPolicy retry,
                           std::unique_ptr<HttpTransport> transport, AtomicExporterStats* stats)
    : signal_(signal),
      config_(std::move(config)),
      retry_(retry),
      transport_(transport ? std::move(transport) : MakeCurlTransport()),
      stats_(stats) {}

const char* ExportClient::content_type() const {
  return config_.protocol == Protocol::kHttpJson ? "application/json" : "application/x-protobuf";
}

ExportClient::Result ExportClient::Export(
    const std::string& body, size_t items, std::chrono::steady_clock::time_point deadline,
    const std::function<bool(std::chrono::steady_clock::time_point)>& sleep_until) {
  using Clock = std::chrono::steady_clock;
  const char* what = signal_ == Signal::kTraces ? "spans" : "data points";
  Result result;
  HttpRequest req;
  req.url = config_.url;
  req.content_type = content_type();
  req.headers = config_.headers;
  req.ca_file = config_.certificate;
  req.cert_file = config_.client_certificate;
  req.key_file = config_.client_key;
  if (config_.compression == Compression::kGzip) {
    auto gz = GzipCompress(body);
    if (gz.ok()) {
      req.body = std::move(gz.value());
      req.content_encoding = "gzip";
    } else {
      req.body = body;
    }
  } else {
    req.body = body;
  }

  auto give_up = [&](Outcome outcome, std::string error) {
    result.outcome = outcome;
    result.error = std::move(error);
    stats_->failed += items;
    stats_->export_failures++;
    return result;
  };

  auto backoff = retry_.initial_backoff;
  for (int attempt = 0;; ++attempt) {
    auto now = Clock::now();
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    if (attempt > 0 && remaining.count() <= 0) {
      return give_up(Outcome::kGaveUp, result.error);
    }
    req.timeout = std::max(std::chrono::milliseconds(1),
                           attempt == 0 ? config_.timeout : std::min(config_.timeout, remaining));
    stats_->requests++;
    if (attempt > 0) stats_->retries++;
    HttpResponse resp = transport_->Post(req);
    if (resp.status != 0) stats_->bytes_sent += req.body.size();

    if (resp.status >= 200 && resp.status < 300) {
      bool json = config_.protocol == Protocol::kHttpJson ||
                  resp.content_type.find("json") != std::string::npos;
      auto partial = ParseExportResponse(signal_, resp.body, json);
      if (partial.ok()) result.partial = *partial;
      int64_t rejected =
          std::clamp<int64_t>(result.partial.rejected, 0, static_cast<int64_t>(items));
      if (rejected > 0 || !result.partial.error_message.empty()) {
        spdlog::warn("OTLP receiver {} accepted {} of {} {}: {}", config_.url, items - rejected,
                     items, what, result.partial.error_message);
      }
      stats_->rejected += static_cast<uint64_t>(rejected);
      stats_->exported += items - static_cast<uint64_t>(rejected);
      result.outcome = Outcome::kDelivered;
      return result;
    }

    std::string error = resp.status == 0
                            ? fmt::format("{}{}", resp.error, resp.timed_out ? " (timeout)" : "")
                            : fmt::format("HTTP {}: {}", resp.status, resp.body.substr(0, 200));
    result.error = error;
    if (!IsRetryable(resp)) {
      if (uint64_t suppressed = 0; WarnAllowed(&suppressed)) {
        spdlog::warn("OTLP export of {} {} to {} failed, not retryable: {} ({} similar suppressed)",
                     items, what, config_.url, error, suppressed);
      }
      return give_up(Outcome::kRejected, error);
    }

    // Retryable: Retry-After wins over our own backoff.
    auto jittered = [&] {
      std::uniform_real_distribution<double> dist(1.0 - retry_.jitter, 1.0 + retry_.jitter);
      return std::chrono::milliseconds(
          static_cast<int64_t>(static_cast<double>(backoff.count()) * dist(rng_)));
    }();
    std::chrono::milliseconds wait = jittered;
    if (resp.retry_after) {
      if (auto ra = ParseRetryAfter(*resp.retry_after)) wait = *ra;
    }
    backoff = std::min(retry_.max_backoff, backoff * 2);
    auto wake = Clock::now() + wait;
    if (wake >= deadline) {
      if (uint64_t suppressed = 0; WarnAllowed(&suppressed)) {
        spdlog::warn(
            "OTLP export of {} {} to {} given up after {} tries: {} ({} similar suppressed)", items,
            what, config_.url, attempt + 1, error, suppressed);
      }
      return give_up(Outcome::kGaveUp, error);
    }
    spdlog::debug("OTLP export to {} failed ({}), retrying in {} ms", config_.url, error,
                  wait.count());
    if (!sleep_until(wake)) return give_up(Outcome::kAborted, error);
  }
}

bool ExportClient::WarnAllowed(uint64_t* suppressed) {
  constexpr auto kInterval = std::chrono::seconds(30);
  const auto now = std::chrono::steady_clock::now();
  if (last_warning_ != std::chrono::steady_clock::time_point{} && now - last_warning_ < kInterval) {
    ++suppressed_warnings_;
    return false;
  }
  last_warning_ = now;
  *suppressed = suppressed_warnings_;
  suppressed_warnings_ = 0;
  return true;
}

}  // namespace wirespan::exporters::otlp
