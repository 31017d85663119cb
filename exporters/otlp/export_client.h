// One OTLP/HTTP export with retries: compress, POST, classify the answer, back off, try again.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include "exporters/otlp/config.h"
#include "exporters/otlp/encoder.h"
#include "exporters/otlp/http_client.h"

namespace wirespan::exporters::otlp {

struct RetryPolicy {
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::milliseconds max_retry_time{60000};  // since the first attempt of a batch
  double jitter = 0.2;                              // +-20% on each backoff
};
RetryPolicy RetryPolicyFrom(const OtlpConfig& config);

// Counters an exporter keeps; read with Snapshot() from any thread.
struct ExporterStats {
  uint64_t exported = 0;            // items the receiver accepted (minus partial rejections)
  uint64_t dropped_queue_full = 0;  // spans: oldest dropped when the queue was full
  uint64_t dropped_shutdown = 0;    // offered after Shutdown, or left when its deadline passed
  uint64_t sampled_out = 0;         // spans the sampler dropped
  uint64_t failed = 0;              // items in batches given up (non-retryable or out of time)
  uint64_t rejected = 0;            // items the receiver rejected in a partial success
  uint64_t retries = 0;             // retried requests
  uint64_t requests = 0;            // HTTP requests made (tries included)
  uint64_t export_failures = 0;     // batches given up
  uint64_t bytes_sent = 0;          // request bodies as sent (after compression)
  uint64_t queue_size = 0;          // current fill
  uint64_t queue_capacity = 0;
};

class AtomicExporterStats {
 public:
  std::atomic<uint64_t> exported{0}, dropped_queue_full{0}, dropped_shutdown{0}, sampled_out{0},
      failed{0}, rejected{0}, retries{0}, requests{0}, export_failures{0}, bytes_sent{0},
      queue_size{0}, queue_capacity{0};
  ExporterStats Snapshot() const;
};

class ExportClient {
 public:
  ExportClient(Signal signal, SignalConfig config, RetryPolicy retry,
               std::unique_ptr<HttpTransport> transport, AtomicExporterStats* stats);

  enum class Outcome { kDelivered, kRejected, kGaveUp, kAborted };
  struct Result {
    Outcome outcome = Outcome::kDelivered;
    PartialSuccess partial;
    std::string error;  // last failure, for logs
  };

  // `body` is the encoded request of `items` spans/data points. Retries until `deadline`.
  // `sleep_until` waits between tries and returns false when the wait was cut short (shutdown
  // deadline): the export is then given up as kAborted. Updates requests, retries, bytes_sent,
  // exported, rejected, failed and export_failures.
  Result Export(const std::string& body, size_t items,
                std::chrono::steady_clock::time_point deadline,
                const std::function<bool(std::chrono::steady_clock::time_point)>& sleep_until);

  const SignalConfig& config() const { return config_; }
  const char* content_type() const;

 private:
  // An outage must not flood the log: one warning per interval, with a count of the others.
  bool WarnAllowed(uint64_t* suppressed);

  Signal signal_;
  SignalConfig config_;
  std::chrono::steady_clock::time_point last_warning_{};
  uint64_t suppressed_warnings_ = 0;
  RetryPolicy retry_;
  std::unique_ptr<HttpTransport> transport_;
  AtomicExporterStats* stats_;
  std::mt19937_64 rng_{std::random_device{}()};
};

// Checks what an exporter can do with this config (protocol support, URL scheme).
Status ValidateSignalConfig(const SignalConfig& config);

}  // namespace wirespan::exporters::otlp
