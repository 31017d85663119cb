// OTEL_TRACES_SAMPLER as a per-span decision for spans wirespan builds from captured traffic.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "model/span.h"

namespace wirespan::exporters::otlp {

enum class SamplerType {
  kAlwaysOn,
  kAlwaysOff,
  kTraceIdRatio,
  kParentBasedAlwaysOn,
  kParentBasedAlwaysOff,
  kParentBasedTraceIdRatio,
};

struct SamplerConfig {
  SamplerType type = SamplerType::kParentBasedAlwaysOn;  // the OpenTelemetry default
  double ratio = 1.0;                                    // for the *traceidratio types
};

// `name` as in OTEL_TRACES_SAMPLER, `arg` as in OTEL_TRACES_SAMPLER_ARG (may be empty: ratio 1).
StatusOr<SamplerConfig> ParseSampler(std::string_view name, std::string_view arg);
const char* SamplerName(SamplerType type);

// Stateless and thread-safe. TraceIdRatio follows the OpenTelemetry SDKs (Go, Java): the lower 8
// bytes of the trace id, big-endian, shifted right by one, are compared with ratio * 2^63; every
// span of a trace, in every process and agent using the same ratio, gets the same answer.
class Sampler {
 public:
  explicit Sampler(SamplerConfig config = {});

  // has_parent: the span has a parent span id. parent_sampled: the parent's sampled flag when it
  // is known (e.g. from a traceparent header). Parent-based samplers whose parent flag is unknown
  // fall back to their root sampler on the trace id, which for trace-id-ratio is the same
  // decision the parent got if it was sampled by a wirespan agent, so traces stay whole.
  bool ShouldSample(const model::TraceId& trace_id, bool has_parent,
                    std::optional<bool> parent_sampled = std::nullopt) const;
  // For a finished span: has_parent = non-zero parent_span_id, parent flag unknown.
  bool ShouldSample(const model::Span& span) const;

  // The decision of the trace-id-ratio rule alone.
  static bool TraceIdRatioSample(const model::TraceId& trace_id, double ratio);

  const SamplerConfig& config() const { return config_; }
  std::string Description() const;

 private:
  bool RootDecision(const model::TraceId& trace_id) const;
  SamplerConfig config_;
};

}  // namespace wirespan::exporters::otlp
