// OTLP exporter configuration: the standard OTEL_* environment variables and a YAML section.
//
// Precedence is the caller's business (flags > env > file): start from OtlpConfig{}, ApplyYaml
// the file section, ApplyEnv the environment, then set what flags say.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "exporters/otlp/sampler.h"
#include "model/attributes.h"

namespace YAML {
class Node;
}

namespace wirespan::exporters::otlp {

enum class Protocol { kHttpProtobuf, kHttpJson, kGrpc };
enum class Compression { kNone, kGzip };
enum class Signal { kTraces, kMetrics };

using Headers = std::vector<std::pair<std::string, std::string>>;

const char* ProtocolName(Protocol protocol);  // "http/protobuf", "http/json", "grpc"
const char* CompressionName(Compression c);   // "none", "gzip"
StatusOr<Protocol> ParseProtocol(std::string_view name);
StatusOr<Compression> ParseCompression(std::string_view name);

// Per-signal settings (OTEL_EXPORTER_OTLP_TRACES_* / _METRICS_*); unset ones fall back to the
// general ones. Headers are merged: general first, then these (same key: these win).
struct SignalOverrides {
  std::optional<std::string> endpoint;  // the full URL, used as-is (no /v1/... appended)
  std::optional<Protocol> protocol;
  std::optional<Headers> headers;
  std::optional<Compression> compression;
  std::optional<std::chrono::milliseconds> timeout;
  std::optional<std::string> certificate;
  std::optional<std::string> client_certificate;
  std::optional<std::string> client_key;
};

struct OtlpConfig {
  // Base URL; "/v1/traces" or "/v1/metrics" is appended. Unset: http://localhost:4318
  // (http/*) or http://localhost:4317 (grpc).
  std::optional<std::string> endpoint;
  Protocol protocol = Protocol::kHttpProtobuf;
  Headers headers;
  Compression compression = Compression::kNone;
  std::chrono::milliseconds timeout{10000};  // per request
  std::string certificate;                   // CA bundle (PEM) to verify the server
  std::string client_certificate;            // mTLS (PEM)
  std::string client_key;
  SignalOverrides traces;
  SignalOverrides metrics;

  // Batching (OTEL_BSP_*).
  size_t max_queue_size = 2048;
  size_t max_export_batch_size = 512;
  std::chrono::milliseconds schedule_delay{1000};

  // Retries of retryable failures (429, 502, 503, 504, connection errors, timeouts):
  // exponential backoff from retry_initial_backoff up to retry_max_backoff with +-20% jitter,
  // Retry-After honoured; a batch is given up once max_retry_time has passed since its first try.
  std::chrono::milliseconds retry_initial_backoff{1000};
  std::chrono::milliseconds retry_max_backoff{5000};
  std::chrono::milliseconds max_retry_time{60000};

  // Metrics (OTEL_METRIC_EXPORT_INTERVAL).
  std::chrono::milliseconds metric_export_interval{60000};

  // OTEL_TRACES_SAMPLER / _ARG.
  SamplerConfig sampler;
};

// What one signal's exporter uses once general settings and overrides are combined.
struct SignalConfig {
  std::string url;
  Protocol protocol = Protocol::kHttpProtobuf;
  Headers headers;
  Compression compression = Compression::kNone;
  std::chrono::milliseconds timeout{10000};
  std::string certificate;
  std::string client_certificate;
  std::string client_key;
};
SignalConfig ResolveSignal(const OtlpConfig& config, Signal signal);

// getenv-like: returns null when the variable is unset. Pass ::getenv or a fake.
using EnvLookup = std::function<const char*(const char*)>;
EnvLookup ProcessEnv();

// Reads OTEL_EXPORTER_OTLP_{,TRACES_,METRICS_}{ENDPOINT,PROTOCOL,HEADERS,COMPRESSION,TIMEOUT,
// CERTIFICATE,CLIENT_CERTIFICATE,CLIENT_KEY}, OTEL_BSP_{SCHEDULE_DELAY,MAX_QUEUE_SIZE,
// MAX_EXPORT_BATCH_SIZE}, OTEL_METRIC_EXPORT_INTERVAL and OTEL_TRACES_SAMPLER(_ARG). Empty
// variables count as unset. Valid values are applied; the invalid ones are left out and all
// named in the returned error.
Status ApplyEnv(OtlpConfig& config, const EnvLookup& getenv = ProcessEnv());

// A YAML map, e.g.
//   endpoint: http://collector:4318     protocol: http/protobuf | http/json | grpc
//   headers: {authorization: "Bearer x"} compression: gzip | none     timeout_ms: 10000
//   certificate / client_certificate / client_key: /path.pem
//   traces_endpoint / metrics_endpoint: full URLs (as the per-signal env variables)
//   traces: {endpoint, protocol, headers, compression, timeout_ms, certificate, ...}  (same for
//   metrics) max_queue_size, max_export_batch_size, schedule_delay_ms, retry_initial_backoff_ms,
//   retry_max_backoff_ms, max_retry_time_ms, metric_export_interval_ms
//   sampler: {type: parentbased_traceidratio, arg: 0.25}   (or sampler: always_on)
// Unknown keys and bad values give an error naming the key; config is then partly applied.
Status ApplyYaml(OtlpConfig& config, const YAML::Node& node);

// "k1=v1, k2=v2" with percent-encoded values (OTEL_EXPORTER_OTLP_HEADERS, W3C baggage style).
StatusOr<Headers> ParseHeaders(std::string_view text);
// OTEL_RESOURCE_ATTRIBUTES: the same syntax, values percent-decoded, as string attributes.
StatusOr<model::Attributes> ParseResourceAttributes(std::string_view text);
// OTEL_RESOURCE_ATTRIBUTES then OTEL_SERVICE_NAME (which wins for service.name).
StatusOr<model::Attributes> ResourceAttributesFromEnv(const EnvLookup& getenv = ProcessEnv());
// %XX sequences decoded; a malformed one is kept as it is.
std::string PercentDecode(std::string_view text);

}  // namespace wirespan::exporters::otlp
