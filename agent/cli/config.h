// The agent's configuration: a YAML file, then WIRESPAN_* environment variables, then flags
// (flags win). Every bad value gives a clear error naming the setting.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace YAML {
class Node;
}

namespace wirespan::agent {

struct AgentConfig {
  // Which processes to trace. All empty: every process but the agent itself.
  std::vector<uint32_t> pids;
  std::vector<std::string> exe_globs;  // matched against the executable path and its basename
  std::vector<uint16_t> ports;         // local or remote port of the connection

  // Output when no collector is configured: "text", "json", or "none".
  std::string print = "text";
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
};

// Applies a YAML document (the whole file) onto `config`.
Status ApplyYaml(const YAML::Node& root, AgentConfig& config);
Status LoadConfigFile(const std::string& path, AgentConfig& config);
// Applies WIRESPAN_* variables read through `getenv` (injectable for tests).
Status ApplyEnvironment(AgentConfig& config, const char* (*getenv_fn)(const char*));
Status Validate(const AgentConfig& config);

}  // namespace wirespan::agent
