// A tiny HTTP/1.1 server for Prometheus scrapes: GET /metrics in text format 0.0.4.
//
// It is an open port: one thread, poll(), non-blocking sockets, a cap on connections, on request
// head size and on idle time; anything that is not a well-formed GET/HEAD gets 4xx and a close.
// One response per connection (Connection: close).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "base/status.h"
#include "exporters/prometheus/text_format.h"
#include "model/metrics.h"

namespace wirespan::exporters::prometheus {

struct ServerOptions {
  std::string address = "127.0.0.1";            // numeric IPv4 or IPv6 ("::1", "[::1]", "0.0.0.0")
  uint16_t port = 9464;                         // 0: any free port (see PrometheusServer::port())
  size_t max_connections = 16;                  // more are accepted and closed at once
  size_t max_request_bytes = 8192;              // request line + headers
  std::chrono::milliseconds io_timeout{10000};  // idle connections are closed after this
  TextFormatOptions format;
};

// "127.0.0.1:9464", "[::1]:9464", ":9464" (address kept) into options.
Status ParseListenAddress(std::string_view text, ServerOptions& options);

class PrometheusServer {
 public:
  struct Stats {
    uint64_t connections = 0;
    uint64_t scrapes = 0;               // 200 answers to /metrics
    uint64_t bad_requests = 0;          // 4xx answers
    uint64_t rejected_connections = 0;  // over max_connections
    uint64_t timeouts = 0;
  };

  PrometheusServer(ServerOptions options, std::shared_ptr<model::MetricProducer> producer);
  ~PrometheusServer();  // Stop()

  // Binds and listens, then serves on its own thread.
  Status Start();
  // Closes the listening socket and every connection, joins the thread. Idempotent.
  void Stop();

  uint16_t port() const { return bound_port_; }
  Stats stats() const;

 private:
  void Run();

  ServerOptions options_;
  std::shared_ptr<model::MetricProducer> producer_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;
  uint16_t bound_port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::atomic<uint64_t> connections_{0}, scrapes_{0}, bad_requests_{0}, rejected_{0}, timeouts_{0};
};

}  // namespace wirespan::exporters::prometheus
