#include "agent/cli/config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <sstream>

#include "decoders/registry.h"
#include "exporters/otlp/export_client.h"
#include "exporters/prometheus/server.h"

namespace wirespan::agent {
namespace {

template <typename T>
Status ParseNumber(std::string_view name, std::string_view text, T& out) {
  T value{};
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return Status::Error(fmt::format("{}: '{}' is not a valid number", name, text));
  }
  out = value;
  return Status::Ok();
}

Status ParseBool(std::string_view name, std::string_view text, bool& out) {
  if (text == "1" || text == "true" || text == "yes" || text == "on") {
    out = true;
  } else if (text == "0" || text == "false" || text == "no" || text == "off") {
    out = false;
  } else {
    return Status::Error(fmt::format("{}: '{}' is not a boolean (true/false)", name, text));
  }
  return Status::Ok();
}

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  std::stringstream ss{std::string(text)};
  std::string item;
  while (std::getline(ss, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// YAML scalars go through the same parsers as environment strings, so errors read the same.
template <typename T>
Status YamlNumber(const YAML::Node& node, const char* key, T& out) {
  if (!node[key]) return Status::Ok();
  return ParseNumber(key, node[key].Scalar(), out);
}

Status YamlBool(const YAML::Node& node, const char* key, bool& out) {
  if (!node[key]) return Status::Ok();
  return ParseBool(key, node[key].Scalar(), out);
}

Status YamlStrings(const YAML::Node& node, const char* key, std::vector<std::string>& out) {
  const YAML::Node n = node[key];
  if (!n) return Status::Ok();
  out.clear();
  if (n.IsScalar()) {
    out = SplitList(n.Scalar());
  } else if (n.IsSequence()) {
    for (const auto& item : n) out.push_back(item.Scalar());
  } else {
    return Status::Error(fmt::format("{}: expected a list", key));
  }
  return Status::Ok();
}

template <typename T>
Status NumberList(std::string_view name, const std::vector<std::string>& items,
                  std::vector<T>& out) {
  out.clear();
  for (const auto& item : items) {
    T v{};
    if (Status s = ParseNumber(name, item, v); !s.ok()) return s;
    out.push_back(v);
  }
  return Status::Ok();
}

#define WS_RETURN_IF_ERROR(expr)                 \
  do {                                           \
    if (Status _s = (expr); !_s.ok()) return _s; \
  } while (0)

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

// `export:` — otlp: {...}, prometheus: {listen: ADDR} | ADDR | true/false, metrics_interval,
// shutdown_timeout.
Status ApplyExportYaml(const YAML::Node& exp, AgentConfig& c) {
  if (exp.IsNull()) return Status::Ok();
  if (!exp.IsMap()) return Status::Error("export: expected a mapping");
  static const char* kKnown[] = {"otlp", "prometheus", "metrics_interval", "shutdown_timeout"};
  for (const auto& kv : exp) {
    const std::string key = kv.first.Scalar();
    bool known = false;
    for (const char* k : kKnown) known |= key == k;
    if (!known) {
      return Status::Error(fmt::format(
          "export.{}: unknown key (otlp, prometheus, metrics_interval, shutdown_timeout)", key));
    }
  }
  if (const YAML::Node otlp = exp["otlp"]) {
    if (otlp.IsNull()) {
      c.otlp_enabled = true;  // `otlp:` alone: defaults (http://localhost:4318)
    } else if (otlp.IsScalar()) {
      // `otlp: http://collector:4318` or `otlp: false`
      const std::string v = otlp.Scalar();
      bool on = false;
      if (ParseBool("export.otlp", v, on).ok()) {
        c.otlp_enabled = on;
      } else {
        c.otlp.endpoint = v;
        c.otlp_enabled = true;
      }
    } else if (otlp.IsMap()) {
      YAML::Node copy = YAML::Clone(otlp);
      bool enabled = true;
      if (copy["enabled"]) {
        WS_RETURN_IF_ERROR(ParseBool("export.otlp.enabled", copy["enabled"].Scalar(), enabled));
        copy.remove("enabled");
      }
      if (Status s = exporters::otlp::ApplyYaml(c.otlp, copy); !s.ok()) {
        return Status::Error("export." + s.message());
      }
      c.otlp_enabled = enabled;
    } else {
      return Status::Error("export.otlp: expected a mapping");
    }
  }
  if (const YAML::Node prom = exp["prometheus"]) {
    if (prom.IsNull()) {
      c.prometheus_listen = kDefaultPrometheusListen;
    } else if (prom.IsScalar()) {
      bool on = false;
      if (ParseBool("export.prometheus", prom.Scalar(), on).ok()) {
        c.prometheus_listen = on ? kDefaultPrometheusListen : "";
      } else {
        c.prometheus_listen = prom.Scalar();
      }
    } else if (prom.IsMap()) {
      for (const auto& kv : prom) {
        const std::string key = kv.first.Scalar();
        if (key != "listen" && key != "enabled") {
          return Status::Error(
              fmt::format("export.prometheus.{}: unknown key (listen, enabled)", key));
        }
      }
      bool enabled = true;
      if (prom["enabled"]) {
        WS_RETURN_IF_ERROR(
            ParseBool("export.prometheus.enabled", prom["enabled"].Scalar(), enabled));
      }
      c.prometheus_listen = !enabled         ? ""
                            : prom["listen"] ? prom["listen"].Scalar()
                                             : kDefaultPrometheusListen;
    } else {
      return Status::Error("export.prometheus: expected a mapping, an address or true/false");
    }
  }
  if (const YAML::Node v = exp["metrics_interval"]) {
    auto d = ParseDuration("export.metrics_interval", v.Scalar());
    if (!d.ok()) return d.status();
    c.otlp.metric_export_interval = *d;
  }
  if (const YAML::Node v = exp["shutdown_timeout"]) {
    auto d = ParseDuration("export.shutdown_timeout", v.Scalar());
    if (!d.ok()) return d.status();
    c.shutdown_timeout = *d;
  }
  return Status::Ok();
}

// OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER: comma-separated exporter names.
Status ApplySignalExporters(const char* name, std::string_view text, bool traces, AgentConfig& c,
                            bool& otlp_on, bool& any_otlp_listed) {
  bool otlp = false;
  for (const std::string& raw : SplitList(text)) {
    const std::string item = Lower(raw);
    if (item == "otlp") {
      otlp = true;
    } else if (item == "none") {
    } else if (traces && item == "console") {
      if (c.print.empty()) c.print = "text";
    } else if (!traces && item == "prometheus") {
      if (c.prometheus_listen.empty()) c.prometheus_listen = kDefaultPrometheusListen;
    } else {
      return Status::Error(fmt::format("{}: '{}' is not supported ({})", name, raw,
                                       traces ? "otlp, console, none" : "otlp, prometheus, none"));
    }
  }
  otlp_on = otlp;
  any_otlp_listed |= otlp;
  return Status::Ok();
}

}  // namespace

Status ApplyYaml(const YAML::Node& root, AgentConfig& c) {
  if (!root || root.IsNull()) return Status::Ok();
  if (!root.IsMap()) return Status::Error("configuration: the top level must be a mapping");
  static const char* kKnown[] = {"select", "print", "log_level", "capture", "decode", "export"};
  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();
    bool known = false;
    for (const char* k : kKnown) known |= key == k;
    if (!known) return Status::Error(fmt::format("configuration: unknown key '{}'", key));
  }
  try {
    if (const YAML::Node sel = root["select"]) {
      std::vector<std::string> items;
      WS_RETURN_IF_ERROR(YamlStrings(sel, "pids", items));
      if (sel["pids"]) WS_RETURN_IF_ERROR(NumberList("select.pids", items, c.pids));
      WS_RETURN_IF_ERROR(YamlStrings(sel, "exe", c.exe_globs));
      items.clear();
      WS_RETURN_IF_ERROR(YamlStrings(sel, "ports", items));
      if (sel["ports"]) WS_RETURN_IF_ERROR(NumberList("select.ports", items, c.ports));
    }
    if (root["print"]) c.print = root["print"].Scalar();
    if (root["log_level"]) c.log_level = root["log_level"].Scalar();
    if (const YAML::Node cap = root["capture"]) {
      WS_RETURN_IF_ERROR(YamlNumber(cap, "copy_bytes_per_event", c.copy_bytes_per_event));
      WS_RETURN_IF_ERROR(
          YamlNumber(cap, "max_copy_bytes_per_syscall", c.max_copy_bytes_per_syscall));
      WS_RETURN_IF_ERROR(YamlNumber(cap, "ring_buffer_mib", c.ring_buffer_mib));
      WS_RETURN_IF_ERROR(YamlBool(cap, "protocol_prefilter", c.protocol_prefilter));
    }
    if (const YAML::Node dec = root["decode"]) {
      WS_RETURN_IF_ERROR(YamlStrings(dec, "protocols", c.protocols));
      WS_RETURN_IF_ERROR(YamlBool(dec, "sanitize_queries", c.sanitize_queries));
      WS_RETURN_IF_ERROR(YamlNumber(dec, "max_query_text_bytes", c.max_query_text_bytes));
      WS_RETURN_IF_ERROR(YamlNumber(dec, "max_connections", c.max_connections));
      WS_RETURN_IF_ERROR(YamlNumber(dec, "idle_timeout_s", c.idle_timeout_s));
    }
    if (const YAML::Node exp = root["export"]) WS_RETURN_IF_ERROR(ApplyExportYaml(exp, c));
  } catch (const YAML::Exception& e) {
    // yaml-cpp reports through exceptions; configuration loading is not the data path.
    return Status::Error(fmt::format("configuration: {}", e.what()));
  }
  return Status::Ok();
}

Status LoadConfigFile(const std::string& path, AgentConfig& config) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Status::Error(fmt::format("configuration file '{}' cannot be read", path));
  } catch (const YAML::Exception& e) {
    return Status::Error(fmt::format("configuration file '{}': {}", path, e.what()));
  }
  Status s = ApplyYaml(root, config);
  if (!s.ok()) return Status::Error(fmt::format("{}: {}", path, s.message()));
  return Status::Ok();
}

Status ApplyEnvironment(AgentConfig& c, const char* (*getenv_fn)(const char*)) {
  auto env = [&](const char* name) -> const char* { return getenv_fn(name); };
  if (const char* v = env("WIRESPAN_PIDS")) {
    WS_RETURN_IF_ERROR(NumberList("WIRESPAN_PIDS", SplitList(v), c.pids));
  }
  if (const char* v = env("WIRESPAN_EXE")) c.exe_globs = SplitList(v);
  if (const char* v = env("WIRESPAN_PORTS")) {
    WS_RETURN_IF_ERROR(NumberList("WIRESPAN_PORTS", SplitList(v), c.ports));
  }
  if (const char* v = env("WIRESPAN_PRINT")) c.print = v;
  if (const char* v = env("WIRESPAN_LOG_LEVEL")) c.log_level = v;
  if (const char* v = env("WIRESPAN_PROTOCOLS")) c.protocols = SplitList(v);
  if (const char* v = env("WIRESPAN_SANITIZE_QUERIES")) {
    WS_RETURN_IF_ERROR(ParseBool("WIRESPAN_SANITIZE_QUERIES", v, c.sanitize_queries));
  }
  if (const char* v = env("WIRESPAN_RING_BUFFER_MIB")) {
    WS_RETURN_IF_ERROR(
        ParseNumber("WIRESPAN_RING_BUFFER_MIB", std::string_view(v), c.ring_buffer_mib));
  }
  if (const char* v = env("WIRESPAN_PROMETHEUS"); v != nullptr && *v != '\0') {
    bool on = false;
    if (ParseBool("WIRESPAN_PROMETHEUS", v, on).ok()) {
      c.prometheus_listen = on ? kDefaultPrometheusListen : "";
    } else {
      c.prometheus_listen = v;
    }
  }
  if (const char* v = env("WIRESPAN_SHUTDOWN_TIMEOUT"); v != nullptr && *v != '\0') {
    auto d = ParseDuration("WIRESPAN_SHUTDOWN_TIMEOUT", v);
    if (!d.ok()) return d.status();
    c.shutdown_timeout = *d;
  }

  // The standard OpenTelemetry exporter variables.
  auto set = [&](const char* name) {
    const char* v = env(name);
    return v != nullptr && *v != '\0';
  };
  WS_RETURN_IF_ERROR(
      exporters::otlp::ApplyEnv(c.otlp, [&](const char* name) { return env(name); }));
  if (set("OTEL_EXPORTER_OTLP_ENDPOINT") || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") ||
      set("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")) {
    c.otlp_enabled = true;
  }
  bool any_otlp_listed = false;
  if (set("OTEL_TRACES_EXPORTER")) {
    WS_RETURN_IF_ERROR(ApplySignalExporters("OTEL_TRACES_EXPORTER", env("OTEL_TRACES_EXPORTER"),
                                            true, c, c.otlp_traces, any_otlp_listed));
  }
  if (set("OTEL_METRICS_EXPORTER")) {
    WS_RETURN_IF_ERROR(ApplySignalExporters("OTEL_METRICS_EXPORTER", env("OTEL_METRICS_EXPORTER"),
                                            false, c, c.otlp_metrics, any_otlp_listed));
  }
  if (any_otlp_listed) c.otlp_enabled = true;  // asked for by name: default endpoint if none
  return Status::Ok();
}

std::string EffectivePrint(const AgentConfig& c) {
  if (!c.print.empty()) return c.print;
  return c.otlp_enabled && (c.otlp_traces || c.otlp_metrics) ? "none" : "text";
}

StatusOr<std::chrono::milliseconds> ParseDuration(std::string_view name, std::string_view text) {
  std::string t(text);
  t.erase(0, t.find_first_not_of(" \t"));
  t.erase(t.find_last_not_of(" \t") + 1);
  double scale = 1000.0;  // plain numbers are seconds
  auto strip = [&](std::string_view suffix, double s) {
    if (t.size() > suffix.size() &&
        t.compare(t.size() - suffix.size(), suffix.size(), suffix) == 0) {
      t.resize(t.size() - suffix.size());
      scale = s;
      return true;
    }
    return false;
  };
  strip("ms", 1.0) || strip("s", 1000.0) || strip("m", 60000.0) || strip("h", 3600000.0);
  double value = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (t.empty() || ec != std::errc() || ptr != t.data() + t.size() || !std::isfinite(value) ||
      value < 0) {
    return Status::Error(fmt::format(
        "{}: '{}' is not a duration (e.g. 500ms, 10s, 2m; a plain number is seconds)", name, text));
  }
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(value * scale)));
}

Status Validate(const AgentConfig& c) {
  if (!c.print.empty() && c.print != "text" && c.print != "json" && c.print != "none") {
    return Status::Error(fmt::format("print: '{}' must be text, json or none", c.print));
  }
  static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  bool level_ok = false;
  for (const char* l : kLevels) level_ok |= c.log_level == l;
  if (!level_ok) return Status::Error(fmt::format("log_level: '{}' is not a level", c.log_level));
  if (c.copy_bytes_per_event < 64 || c.copy_bytes_per_event > 16384) {
    return Status::Error("capture.copy_bytes_per_event must be between 64 and 16384");
  }
  if (c.max_copy_bytes_per_syscall < c.copy_bytes_per_event) {
    return Status::Error("capture.max_copy_bytes_per_syscall must be >= copy_bytes_per_event");
  }
  if (c.ring_buffer_mib < 1 || c.ring_buffer_mib > 1024 ||
      (c.ring_buffer_mib & (c.ring_buffer_mib - 1)) != 0) {
    return Status::Error("capture.ring_buffer_mib must be a power of two between 1 and 1024");
  }
  for (const auto& p : c.protocols) {
    if (decoders::ProtocolFromName(p) == decoders::Protocol::kUnknown) {
      return Status::Error(fmt::format(
          "decode.protocols: unknown protocol '{}' (http, postgresql, redis, amqp)", p));
    }
  }
  if (c.max_connections == 0) return Status::Error("decode.max_connections must be > 0");
  if (!c.prometheus_listen.empty()) {
    exporters::prometheus::ServerOptions options;
    if (Status s = exporters::prometheus::ParseListenAddress(c.prometheus_listen, options);
        !s.ok()) {
      return Status::Error(
          fmt::format("export.prometheus.listen: '{}': {}", c.prometheus_listen, s.message()));
    }
  }
  if (c.otlp_enabled) {
    using exporters::otlp::Signal;
    if (c.otlp_traces) {
      if (Status s = exporters::otlp::ValidateSignalConfig(ResolveSignal(c.otlp, Signal::kTraces));
          !s.ok()) {
        return Status::Error("export.otlp (traces): " + s.message());
      }
      if (c.otlp.max_queue_size == 0 || c.otlp.max_export_batch_size == 0) {
        return Status::Error("export.otlp.max_queue_size and max_export_batch_size must be > 0");
      }
    }
    if (c.otlp_metrics) {
      if (Status s = exporters::otlp::ValidateSignalConfig(ResolveSignal(c.otlp, Signal::kMetrics));
          !s.ok()) {
        return Status::Error("export.otlp (metrics): " + s.message());
      }
    }
  }
  if (c.otlp.metric_export_interval < std::chrono::milliseconds(100)) {
    return Status::Error("export.metrics_interval must be at least 100ms");
  }
  return Status::Ok();
}

}  // namespace wirespan::agent
