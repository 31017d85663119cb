// The agent's configuration: a YAML file, then WIRESPAN_* environment variables, then flags
// (flags win). Every bad value gives a clear error naming the setting.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "exporters/otlp/config.h"

namespace YAML {
class Node;
}

namespace wirespan::agent {

struct AgentConfig {
  // Which processes to trace. All empty: every process but the agent itself.
  std::vector<uint32_t> pids;
  std::vector<std::string> exe_globs;  // matched against the executable path and its basename
  std::vector<uint16_t> ports;         // local or remote port of the connection

  // Console output: "text", "json", "none", or empty = automatic (text when no OTLP endpoint is
  // configured, none when one is). An explicit value is honoured alongside OTLP export.
  std::string print;
  std::string log_level = "info";

  // Capture.
  uint32_t copy_bytes_per_event = 16384;
  uint32_t max_copy_bytes_per_syscall = 512 * 1024;
  uint32_t ring_buffer_mib = 32;
  bool protocol_prefilter = true;

  // Decoding.
  std::vector<std::string> protocols;  // empty: all of http, postgresql, redis, amqp
  bool sanitize_queries = true;
  uint32_t max_query_text_bytes = 4096;
  uint32_t max_connections = 16384;
  uint32_t idle_timeout_s = 300;

  // Export (YAML `export:`). OTLP is on when an endpoint is configured: the YAML `export.otlp`
  // section (unless `enabled: false`), OTEL_EXPORTER_OTLP_ENDPOINT or a per-signal endpoint, or
  // --otlp-endpoint. OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER=none turn one signal off.
  bool otlp_enabled = false;
  bool otlp_traces = true;
  bool otlp_metrics = true;
  exporters::otlp::OtlpConfig otlp;
  // Prometheus text endpoint: "ADDR:PORT" to listen on; empty = off.
  std::string prometheus_listen;
  // Deadline for flushing exporters at shutdown.
  std::chrono::milliseconds shutdown_timeout{5000};
  // How often the agent's self-metrics snapshot is refreshed (and kernel counters logged: 60 s).
  std::chrono::milliseconds self_metrics_interval{1000};
};

inline constexpr const char* kDefaultPrometheusListen = "127.0.0.1:9464";

// The console format in effect ("text", "json" or "none") once `print` is resolved.
std::string EffectivePrint(const AgentConfig& config);
// "250ms", "10s", "2m", or a plain number of seconds ("1.5").
StatusOr<std::chrono::milliseconds> ParseDuration(std::string_view name, std::string_view text);

// Applies a YAML document (the whole file) onto `config`.
Status ApplyYaml(const YAML::Node& root, AgentConfig& config);
Status LoadConfigFile(const std::string& path, AgentConfig& config);
// Applies WIRESPAN_* variables and the standard OTEL_* exporter variables (OTEL_EXPORTER_OTLP_*,
// OTEL_BSP_*, OTEL_METRIC_EXPORT_INTERVAL, OTEL_TRACES_SAMPLER, OTEL_{TRACES,METRICS}_EXPORTER)
// read through `getenv` (injectable for tests).
Status ApplyEnvironment(AgentConfig& config, const char* (*getenv_fn)(const char*));
Status Validate(const AgentConfig& config);

}  // namespace wirespan::agent
