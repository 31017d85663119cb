#include "exporters/otlp/sampler.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace wirespan::exporters::otlp {

const char* SamplerName(SamplerType type) {
  switch (type) {
    case SamplerType::kAlwaysOn:
      return "always_on";
    case SamplerType::kAlwaysOff:
      return "always_off";
    case SamplerType::kTraceIdRatio:
      return "traceidratio";
    case SamplerType::kParentBasedAlwaysOn:
      return "parentbased_always_on";
    case SamplerType::kParentBasedAlwaysOff:
      return "parentbased_always_off";
    case SamplerType::kParentBasedTraceIdRatio:
      return "parentbased_traceidratio";
  }
  return "?";
}

StatusOr<SamplerConfig> ParseSampler(std::string_view name, std::string_view arg) {
  SamplerConfig config;
  bool found = false;
  for (SamplerType t : {SamplerType::kAlwaysOn, SamplerType::kAlwaysOff, SamplerType::kTraceIdRatio,
                        SamplerType::kParentBasedAlwaysOn, SamplerType::kParentBasedAlwaysOff,
                        SamplerType::kParentBasedTraceIdRatio}) {
    if (name == SamplerName(t)) {
      config.type = t;
      found = true;
    }
  }
  if (!found) {
    return Status::Error(
        fmt::format("unknown sampler '{}' (expected always_on, always_off, traceidratio, "
                    "parentbased_always_on, parentbased_always_off or parentbased_traceidratio)",
                    name));
  }
  bool ratio_type = config.type == SamplerType::kTraceIdRatio ||
                    config.type == SamplerType::kParentBasedTraceIdRatio;
  if (ratio_type && !arg.empty()) {
    std::string s(arg);
    char* end = nullptr;
    double r = std::strtod(s.c_str(), &end);
    if (end == s.c_str() || *end != '\0' || !std::isfinite(r) || r < 0.0 || r > 1.0) {
      return Status::Error(
          fmt::format("sampler argument '{}' is not a probability in [0, 1]", arg));
    }
    config.ratio = r;
  }
  return config;
}

Sampler::Sampler(SamplerConfig config) : config_(config) {}

bool Sampler::TraceIdRatioSample(const model::TraceId& trace_id, double ratio) {
  if (ratio >= 1.0) return true;
  if (!(ratio > 0.0)) return false;
  uint64_t x = 0;
  for (size_t i = 8; i < 16; ++i) x = (x << 8) | trace_id[i];
  x >>= 1;
  const uint64_t bound = static_cast<uint64_t>(ratio * 9223372036854775808.0);  // ratio * 2^63
  return x < bound;
}

bool Sampler::RootDecision(const model::TraceId& trace_id) const {
  switch (config_.type) {
    case SamplerType::kAlwaysOn:
    case SamplerType::kParentBasedAlwaysOn:
      return true;
    case SamplerType::kAlwaysOff:
    case SamplerType::kParentBasedAlwaysOff:
      return false;
    case SamplerType::kTraceIdRatio:
    case SamplerType::kParentBasedTraceIdRatio:
      return TraceIdRatioSample(trace_id, config_.ratio);
  }
  return true;
}

bool Sampler::ShouldSample(const model::TraceId& trace_id, bool has_parent,
                           std::optional<bool> parent_sampled) const {
  bool parent_based = config_.type == SamplerType::kParentBasedAlwaysOn ||
                      config_.type == SamplerType::kParentBasedAlwaysOff ||
                      config_.type == SamplerType::kParentBasedTraceIdRatio;
  if (parent_based && has_parent && parent_sampled.has_value()) return *parent_sampled;
  return RootDecision(trace_id);
}

bool Sampler::ShouldSample(const model::Span& span) const {
  return ShouldSample(span.trace_id, !model::IsZero(span.parent_span_id), std::nullopt);
}

std::string Sampler::Description() const {
  switch (config_.type) {
    case SamplerType::kTraceIdRatio:
    case SamplerType::kParentBasedTraceIdRatio:
      return fmt::format("{}({})", SamplerName(config_.type), config_.ratio);
    default:
      return SamplerName(config_.type);
  }
}

}  // namespace wirespan::exporters::otlp
