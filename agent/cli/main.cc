// wirespan: OpenTelemetry traces and metrics from the network traffic of unmodified services.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>

#include "agent/cli/commands.h"
#include "agent/cli/config.h"
#include "wirespan/version.h"

namespace {

const char* GetEnv(const char* name) { return std::getenv(name); }

}  // namespace

int main(int argc, char** argv) {
  using wirespan::agent::AgentConfig;
  CLI::App app{"wirespan: OpenTelemetry spans from the socket I/O of unmodified services"};
  app.require_subcommand(1);
  app.set_version_flag("--version", WIRESPAN_VERSION);

  std::string config_path;
  std::string print, log_level, protocols;
  bool no_sanitize = false;
  std::string otlp_endpoint, otlp_protocol, metrics_interval, shutdown_timeout;
  std::vector<std::string> prometheus;
  auto add_common = [&](CLI::App* cmd) {
    cmd->add_option("-c,--config", config_path, "YAML configuration file");
    cmd->add_option("--print", print,
                    "Console output: text (the default when no OTLP endpoint is configured), "
                    "json, none; with OTLP export it is none unless given")
        ->check(CLI::IsMember({"text", "json", "none"}));
    cmd->add_option("--otlp-endpoint", otlp_endpoint,
                    "Export to this OTLP/HTTP endpoint (like OTEL_EXPORTER_OTLP_ENDPOINT, e.g. "
                    "http://127.0.0.1:4318)");
    cmd->add_option("--otlp-protocol", otlp_protocol, "http/protobuf (default) or http/json");
    cmd->add_option("--prometheus", prometheus,
                    "Serve Prometheus metrics on ADDR:PORT (default 127.0.0.1:9464)")
        ->expected(0, 1)
        ->type_name("[ADDR]")
        // Only a port or ADDR:PORT: `replay --prometheus FILE` must not take the file as address.
        ->check(CLI::Validator(
            [](std::string& v) -> std::string {
              const size_t colon = v.rfind(':');
              const std::string port = colon == std::string::npos ? v : v.substr(colon + 1);
              const bool digits = !port.empty() && port.size() <= 5 &&
                                  port.find_first_not_of("0123456789") == std::string::npos;
              return v.empty() || digits ? std::string() : "expected PORT or ADDR:PORT, got " + v;
            },
            "ADDR:PORT"));
    cmd->add_option("--metrics-interval", metrics_interval,
                    "OTLP metric export interval, e.g. 10s (default 60s)");
    cmd->add_option("--shutdown-timeout", shutdown_timeout,
                    "Deadline for flushing exporters at exit, e.g. 5s");
    cmd->add_option("--log-level", log_level, "trace, debug, info, warn, error");
    cmd->add_option("--protocols", protocols, "Comma-separated: http,postgresql,redis,amqp");
    cmd->add_flag("--no-sanitize", no_sanitize, "Export SQL and commands with their literals");
  };

  std::vector<uint32_t> pids;
  std::vector<std::string> exes;
  std::vector<uint16_t> ports;
  uint32_t copy_bytes = 0, ring_mib = 0;
  bool no_prefilter = false;
  wirespan::agent::RunArgs run_args;
  CLI::App* run = app.add_subcommand("run", "Trace live processes with eBPF (needs root)");
  add_common(run);
  run->add_option("--pid", pids, "Trace these process ids (repeatable)");
  run->add_option("--exe", exes, "Trace executables matching this glob (repeatable)");
  run->add_option("--port", ports, "Trace connections with this local or remote port");
  run->add_option("--copy-bytes", copy_bytes, "Bytes copied per event (<= 16384)");
  run->add_option("--ring-buffer-mib", ring_mib, "Ring buffer size in MiB (power of two)");
  run->add_flag("--no-prefilter", no_prefilter,
                "Copy every connection's bytes (no in-kernel "
                "protocol pre-filter)");
  run->add_option("--duration", run_args.duration_s, "Stop after this many seconds");

  wirespan::agent::ReplayArgs replay_args;
  CLI::App* replay = app.add_subcommand("replay", "Decode a pcap/pcapng capture file");
  add_common(replay);
  replay->add_option("file", replay_args.path, "Capture file")->required();
  replay->add_option("--filter", replay_args.filter, "Capture filter, e.g. 'tcp port 5432'");
  replay->add_option("--side", replay_args.side, "Which ends to report")
      ->check(CLI::IsMember({"both", "client", "server"}));
  replay->add_option("--port", ports, "Only connections with this port");

  CLI::App* doctor = app.add_subcommand("doctor", "Report which kernel capabilities are usable");
  CLI::App* version = app.add_subcommand("version", "Print the version");

  CLI11_PARSE(app, argc, argv);

  if (version->parsed()) {
    std::printf("wirespan %s\n", WIRESPAN_VERSION);
    return 0;
  }
  if (doctor->parsed()) return wirespan::agent::RunDoctor();

  // File, then environment, then flags.
  AgentConfig config;
  auto fail = [](const wirespan::Status& s) {
    std::fprintf(stderr, "wirespan: %s\n", s.message().c_str());
    return 2;
  };
  if (!config_path.empty()) {
    if (auto s = wirespan::agent::LoadConfigFile(config_path, config); !s.ok()) return fail(s);
  }
  if (auto s = wirespan::agent::ApplyEnvironment(config, GetEnv); !s.ok()) return fail(s);
  if (!print.empty()) config.print = print;
  if (!log_level.empty()) config.log_level = log_level;
  if (!protocols.empty()) {
    config.protocols.clear();
    std::string item;
    for (char c : protocols + ",") {
      if (c == ',') {
        if (!item.empty()) config.protocols.push_back(item);
        item.clear();
      } else if (c != ' ') {
        item.push_back(c);
      }
    }
  }
  if (no_sanitize) config.sanitize_queries = false;
  if (!otlp_endpoint.empty()) {
    config.otlp.endpoint = otlp_endpoint;
    config.otlp_enabled = true;
  }
  if (!otlp_protocol.empty()) {
    auto p = wirespan::exporters::otlp::ParseProtocol(otlp_protocol);
    if (!p.ok()) return fail(wirespan::Status::Error("--otlp-protocol: " + p.status().message()));
    config.otlp.protocol = *p;
  }
  if (!metrics_interval.empty()) {
    auto d = wirespan::agent::ParseDuration("--metrics-interval", metrics_interval);
    if (!d.ok()) return fail(d.status());
    config.otlp.metric_export_interval = *d;
  }
  if (!shutdown_timeout.empty()) {
    auto d = wirespan::agent::ParseDuration("--shutdown-timeout", shutdown_timeout);
    if (!d.ok()) return fail(d.status());
    config.shutdown_timeout = *d;
  }
  for (CLI::App* cmd : {run, replay}) {
    if (cmd->parsed() && cmd->count("--prometheus") > 0) {
      config.prometheus_listen = prometheus.empty() || prometheus.back().empty()
                                     ? wirespan::agent::kDefaultPrometheusListen
                                     : prometheus.back();
    }
  }
  if (!pids.empty()) config.pids = pids;
  if (!exes.empty()) config.exe_globs = exes;
  if (!ports.empty()) config.ports = ports;
  if (copy_bytes != 0) config.copy_bytes_per_event = copy_bytes;
  if (ring_mib != 0) config.ring_buffer_mib = ring_mib;
  if (no_prefilter) config.protocol_prefilter = false;
  if (auto s = wirespan::agent::Validate(config); !s.ok()) return fail(s);

  spdlog::set_level(spdlog::level::from_str(config.log_level));
  // Logs go to stderr so stdout carries only spans.
  spdlog::default_logger()->sinks().clear();
  spdlog::default_logger()->sinks().push_back(
      std::make_shared<spdlog::sinks::stderr_color_sink_mt>());

  wirespan::agent::InstallStopHandlers();
  if (replay->parsed()) return wirespan::agent::RunReplay(config, replay_args);
  return wirespan::agent::RunAgent(config, run_args);
}
