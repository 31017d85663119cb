#include "exporters/otlp/config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cstdlib>

#include "model/key_value_list.h"

namespace wirespan::exporters::otlp {
namespace {

StatusOr<std::chrono::milliseconds> ParseMillis(std::string_view text) {
  text = model::TrimBlanks(text);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < 0) {
    return Status::Error(fmt::format("'{}' is not a non-negative integer (milliseconds)", text));
  }
  return std::chrono::milliseconds(v);
}

StatusOr<size_t> ParseCount(std::string_view text) {
  text = model::TrimBlanks(text);
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v == 0) {
    return Status::Error(fmt::format("'{}' is not a positive integer", text));
  }
  return static_cast<size_t>(v);
}

void MergeHeaders(Headers& into, const Headers& from) {
  for (const auto& [k, v] : from) {
    bool replaced = false;
    for (auto& [ik, iv] : into) {
      if (ik.size() == k.size() && std::equal(ik.begin(), ik.end(), k.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) ==
                   std::tolower(static_cast<unsigned char>(b));
          })) {
        iv = v;
        replaced = true;
      }
    }
    if (!replaced) into.emplace_back(k, v);
  }
}

std::string JoinPath(const std::string& base, std::string_view path) {
  std::string url = base;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url.append(path);
  return url;
}

}  // namespace

const char* ProtocolName(Protocol protocol) {
  switch (protocol) {
    case Protocol::kHttpProtobuf:
      return "http/protobuf";
    case Protocol::kHttpJson:
      return "http/json";
    case Protocol::kGrpc:
      return "grpc";
  }
  return "?";
}

const char* CompressionName(Compression c) { return c == Compression::kGzip ? "gzip" : "none"; }

StatusOr<Protocol> ParseProtocol(std::string_view name) {
  name = model::TrimBlanks(name);
  if (name == "http/protobuf") return Protocol::kHttpProtobuf;
  if (name == "http/json") return Protocol::kHttpJson;
  if (name == "grpc") return Protocol::kGrpc;
  return Status::Error(
      fmt::format("unknown OTLP protocol '{}' (expected http/protobuf, http/json or grpc)", name));
}

StatusOr<Compression> ParseCompression(std::string_view name) {
  name = model::TrimBlanks(name);
  if (name == "gzip") return Compression::kGzip;
  if (name == "none" || name.empty()) return Compression::kNone;
  return Status::Error(fmt::format("unknown compression '{}' (expected gzip or none)", name));
}

std::string PercentDecode(std::string_view text) { return model::PercentDecode(text); }

StatusOr<Headers> ParseHeaders(std::string_view text) {
  auto items = model::ParseKeyValueList(text);
  if (!items.ok()) return items.status();
  Headers out;
  for (auto& [key, value] : *items) {
    for (char c : key) {
      if (c <= 32 || c >= 127 || c == ':') {
        return Status::Error(fmt::format("'{}' is not a valid header name", key));
      }
    }
    for (char c : value) {
      if (c == '\r' || c == '\n' || c == '\0') {
        return Status::Error(fmt::format("the value of '{}' has a line break or NUL", key));
      }
    }
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

StatusOr<model::Attributes> ParseResourceAttributes(std::string_view text) {
  auto items = model::ParseKeyValueList(text, "resource attribute ");
  if (!items.ok()) return items.status();
  model::Attributes attrs;
  for (auto& [key, value] : *items) attrs.Set(key, std::move(value));
  return attrs;
}

StatusOr<model::Attributes> ResourceAttributesFromEnv(const EnvLookup& getenv) {
  model::Attributes attrs;
  if (const char* v = getenv("OTEL_RESOURCE_ATTRIBUTES"); v && *v) {
    auto parsed = ParseResourceAttributes(v);
    if (!parsed.ok())
      return Status::Error("OTEL_RESOURCE_ATTRIBUTES: " + parsed.status().message());
    attrs = std::move(parsed.value());
  }
  if (const char* v = getenv("OTEL_SERVICE_NAME"); v && *v) attrs.Set("service.name", v);
  return attrs;
}

EnvLookup ProcessEnv() {
  return [](const char* name) -> const char* { return std::getenv(name); };
}

SignalConfig ResolveSignal(const OtlpConfig& config, Signal signal) {
  const SignalOverrides& o = signal == Signal::kTraces ? config.traces : config.metrics;
  SignalConfig s;
  s.protocol = o.protocol.value_or(config.protocol);
  if (o.endpoint) {
    s.url = *o.endpoint;
  } else {
    std::string base = config.endpoint.value_or(
        s.protocol == Protocol::kGrpc ? "http://localhost:4317" : "http://localhost:4318");
    if (s.protocol == Protocol::kGrpc) {
      s.url = base;  // gRPC: the method path is the transport's business
    } else {
      s.url = JoinPath(base, signal == Signal::kTraces ? "/v1/traces" : "/v1/metrics");
    }
  }
  s.headers = config.headers;
  if (o.headers) MergeHeaders(s.headers, *o.headers);
  s.compression = o.compression.value_or(config.compression);
  s.timeout = o.timeout.value_or(config.timeout);
  s.certificate = o.certificate.value_or(config.certificate);
  s.client_certificate = o.client_certificate.value_or(config.client_certificate);
  s.client_key = o.client_key.value_or(config.client_key);
  return s;
}

namespace {

// Applies one setting from a text value; shared by env and YAML. `general` is the top-level
// config when `o` is null.
Status ApplySignalSetting(OtlpConfig& config, SignalOverrides* o, std::string_view setting,
                          std::string_view value) {
  if (setting == "endpoint") {
    if (value.empty()) return Status::Error("empty endpoint");
    if (value.find("://") == std::string_view::npos) {
      return Status::Error(fmt::format("endpoint '{}' is not a URL (http://host:port)", value));
    }
    if (o) {
      o->endpoint = std::string(value);
    } else {
      config.endpoint = std::string(value);
    }
  } else if (setting == "protocol") {
    auto p = ParseProtocol(value);
    if (!p.ok()) return p.status();
    if (o) {
      o->protocol = *p;
    } else {
      config.protocol = *p;
    }
  } else if (setting == "headers") {
    auto h = ParseHeaders(value);
    if (!h.ok()) return h.status();
    if (o) {
      o->headers = std::move(h.value());
    } else {
      config.headers = std::move(h.value());
    }
  } else if (setting == "compression") {
    auto c = ParseCompression(value);
    if (!c.ok()) return c.status();
    if (o) {
      o->compression = *c;
    } else {
      config.compression = *c;
    }
  } else if (setting == "timeout") {
    auto t = ParseMillis(value);
    if (!t.ok()) return t.status();
    if (o) {
      o->timeout = *t;
    } else {
      config.timeout = *t;
    }
  } else if (setting == "certificate" || setting == "client_certificate" ||
             setting == "client_key") {
    std::string v(value);
    if (o) {
      (setting == "certificate"  ? o->certificate
       : setting == "client_key" ? o->client_key
                                 : o->client_certificate) = v;
    } else {
      (setting == "certificate"  ? config.certificate
       : setting == "client_key" ? config.client_key
                                 : config.client_certificate) = v;
    }
  } else {
    return Status::Error(fmt::format("unknown setting '{}'", setting));
  }
  return Status::Ok();
}

}  // namespace

Status ApplyEnv(OtlpConfig& config, const EnvLookup& getenv) {
  std::vector<std::string> errors;
  auto get = [&](const std::string& name) -> std::optional<std::string_view> {
    const char* v = getenv(name.c_str());
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string_view(v);
  };
  static constexpr std::pair<const char*, const char*> kSettings[] = {
      {"ENDPOINT", "endpoint"},
      {"PROTOCOL", "protocol"},
      {"HEADERS", "headers"},
      {"COMPRESSION", "compression"},
      {"TIMEOUT", "timeout"},
      {"CERTIFICATE", "certificate"},
      {"CLIENT_CERTIFICATE", "client_certificate"},
      {"CLIENT_KEY", "client_key"},
  };
  struct Scope {
    const char* prefix;
    SignalOverrides* o;
  };
  const Scope scopes[] = {{"OTEL_EXPORTER_OTLP_", nullptr},
                          {"OTEL_EXPORTER_OTLP_TRACES_", &config.traces},
                          {"OTEL_EXPORTER_OTLP_METRICS_", &config.metrics}};
  for (const Scope& scope : scopes) {
    for (const auto& [suffix, setting] : kSettings) {
      std::string name = std::string(scope.prefix) + suffix;
      auto v = get(name);
      if (!v) continue;
      Status s = ApplySignalSetting(config, scope.o, setting, *v);
      if (!s.ok()) errors.push_back(name + ": " + s.message());
    }
  }
  auto millis = [&](const char* name, std::chrono::milliseconds& out) {
    if (auto v = get(name)) {
      auto t = ParseMillis(*v);
      if (t.ok()) {
        out = *t;
      } else {
        errors.push_back(std::string(name) + ": " + t.status().message());
      }
    }
  };
  auto count = [&](const char* name, size_t& out) {
    if (auto v = get(name)) {
      auto c = ParseCount(*v);
      if (c.ok()) {
        out = *c;
      } else {
        errors.push_back(std::string(name) + ": " + c.status().message());
      }
    }
  };
  millis("OTEL_BSP_SCHEDULE_DELAY", config.schedule_delay);
  count("OTEL_BSP_MAX_QUEUE_SIZE", config.max_queue_size);
  count("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", config.max_export_batch_size);
  millis("OTEL_METRIC_EXPORT_INTERVAL", config.metric_export_interval);
  if (auto name = get("OTEL_TRACES_SAMPLER")) {
    auto arg = get("OTEL_TRACES_SAMPLER_ARG");
    auto s =
        ParseSampler(model::TrimBlanks(*name), arg ? model::TrimBlanks(*arg) : std::string_view());
    if (s.ok()) {
      config.sampler = *s;
    } else {
      errors.push_back("OTEL_TRACES_SAMPLER: " + s.status().message());
    }
  }
  if (errors.empty()) return Status::Ok();
  std::string msg = "invalid OpenTelemetry environment variables: ";
  for (size_t i = 0; i < errors.size(); ++i) {
    if (i) msg += "; ";
    msg += errors[i];
  }
  return Status::Error(msg);
}

namespace {

StatusOr<std::string> Scalar(const YAML::Node& node, const std::string& path) {
  if (!node.IsScalar()) return Status::Error(fmt::format("{}: expected a scalar value", path));
  return node.Scalar();
}

StatusOr<Headers> YamlHeaders(const YAML::Node& node, const std::string& path) {
  if (node.IsScalar()) {
    auto h = ParseHeaders(node.Scalar());
    if (!h.ok()) return Status::Error(path + ": " + h.status().message());
    return h;
  }
  if (!node.IsMap()) return Status::Error(path + ": expected a map of header name to value");
  Headers out;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar() || !kv.second.IsScalar()) {
      return Status::Error(path + ": header names and values must be scalars");
    }
    auto h = ParseHeaders(kv.first.Scalar() + "=x");
    if (!h.ok()) return Status::Error(path + ": " + h.status().message());
    for (char c : kv.second.Scalar()) {
      if (c == '\r' || c == '\n' || c == '\0') {
        return Status::Error(
            fmt::format("{}.{}: line break or NUL in value", path, kv.first.Scalar()));
      }
    }
    out.emplace_back(kv.first.Scalar(), kv.second.Scalar());  // YAML values are not URL-encoded
  }
  return out;
}

Status ApplyYamlSignal(OtlpConfig& config, SignalOverrides* o, const std::string& key,
                       const YAML::Node& value, const std::string& path) {
  if (key == "headers") {
    auto h = YamlHeaders(value, path);
    if (!h.ok()) return h.status();
    if (o) {
      o->headers = std::move(h.value());
    } else {
      config.headers = std::move(h.value());
    }
    return Status::Ok();
  }
  std::string setting = key == "timeout_ms" ? "timeout" : key;
  auto s = Scalar(value, path);
  if (!s.ok()) return s.status();
  Status st = ApplySignalSetting(config, o, setting, *s);
  if (!st.ok()) return Status::Error(path + ": " + st.message());
  return Status::Ok();
}

bool IsSignalKey(const std::string& key) {
  return key == "endpoint" || key == "protocol" || key == "headers" || key == "compression" ||
         key == "timeout_ms" || key == "certificate" || key == "client_certificate" ||
         key == "client_key";
}

}  // namespace

Status ApplyYaml(OtlpConfig& config, const YAML::Node& node) {
  if (!node || node.IsNull()) return Status::Ok();
  if (!node.IsMap()) return Status::Error("otlp: expected a map");
  try {
    for (const auto& kv : node) {
      if (!kv.first.IsScalar()) return Status::Error("otlp: keys must be scalars");
      const std::string key = kv.first.Scalar();
      const YAML::Node& value = kv.second;
      const std::string path = "otlp." + key;
      if (IsSignalKey(key)) {
        Status s = ApplyYamlSignal(config, nullptr, key, value, path);
        if (!s.ok()) return s;
      } else if (key == "traces_endpoint" || key == "metrics_endpoint") {
        SignalOverrides* o = key == "traces_endpoint" ? &config.traces : &config.metrics;
        Status s = ApplyYamlSignal(config, o, "endpoint", value, path);
        if (!s.ok()) return s;
      } else if (key == "traces" || key == "metrics") {
        if (value.IsNull()) continue;
        if (!value.IsMap()) return Status::Error(path + ": expected a map");
        SignalOverrides* o = key == "traces" ? &config.traces : &config.metrics;
        for (const auto& skv : value) {
          const std::string skey = skv.first.Scalar();
          if (!IsSignalKey(skey)) {
            return Status::Error(fmt::format("{}.{}: unknown key", path, skey));
          }
          Status s = ApplyYamlSignal(config, o, skey, skv.second, path + "." + skey);
          if (!s.ok()) return s;
        }
      } else if (key == "max_queue_size" || key == "max_export_batch_size") {
        auto s = Scalar(value, path);
        if (!s.ok()) return s.status();
        auto c = ParseCount(*s);
        if (!c.ok()) return Status::Error(path + ": " + c.status().message());
        (key == "max_queue_size" ? config.max_queue_size : config.max_export_batch_size) = *c;
      } else if (key == "schedule_delay_ms" || key == "retry_initial_backoff_ms" ||
                 key == "retry_max_backoff_ms" || key == "max_retry_time_ms" ||
                 key == "metric_export_interval_ms") {
        auto s = Scalar(value, path);
        if (!s.ok()) return s.status();
        auto t = ParseMillis(*s);
        if (!t.ok()) return Status::Error(path + ": " + t.status().message());
        if (key == "schedule_delay_ms") config.schedule_delay = *t;
        if (key == "retry_initial_backoff_ms") config.retry_initial_backoff = *t;
        if (key == "retry_max_backoff_ms") config.retry_max_backoff = *t;
        if (key == "max_retry_time_ms") config.max_retry_time = *t;
        if (key == "metric_export_interval_ms") {
          if (t->count() == 0) return Status::Error(path + ": must be positive");
          config.metric_export_interval = *t;
        }
      } else if (key == "sampler") {
        std::string type, arg;
        if (value.IsScalar()) {
          type = value.Scalar();
        } else if (value.IsMap()) {
          for (const auto& skv : value) {
            const std::string skey = skv.first.Scalar();
            auto s = Scalar(skv.second, path + "." + skey);
            if (!s.ok()) return s.status();
            if (skey == "type") {
              type = *s;
            } else if (skey == "arg" || skey == "ratio") {
              arg = *s;
            } else {
              return Status::Error(
                  fmt::format("{}.{}: unknown key (expected type, arg)", path, skey));
            }
          }
        } else {
          return Status::Error(path + ": expected a sampler name or {type, arg}");
        }
        auto s = ParseSampler(type, arg);
        if (!s.ok()) return Status::Error(path + ": " + s.status().message());
        config.sampler = *s;
      } else {
        return Status::Error(fmt::format("{}: unknown key", path));
      }
    }
  } catch (const YAML::Exception& e) {
    return Status::Error(std::string("otlp: ") + e.what());
  }
  if (config.max_export_batch_size > config.max_queue_size) {
    return Status::Error("otlp: max_export_batch_size must not exceed max_queue_size");
  }
  return Status::Ok();
}

}  // namespace wirespan::exporters::otlp
