// Model spans and metrics -> OTLP request bodies (protobuf or JSON), and OTLP responses -> partial
// success. Pure functions; no I/O.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "exporters/otlp/config.h"
#include "model/metrics.h"
#include "model/span.h"

namespace opentelemetry::proto::collector::trace::v1 {
class ExportTraceServiceRequest;
}
namespace opentelemetry::proto::collector::metrics::v1 {
class ExportMetricsServiceRequest;
}

namespace wirespan::exporters::otlp {

struct EncodeOptions {
  std::string scope_name = "wirespan";
  std::string scope_version;  // empty: the wirespan version
  // Used for spans/metrics whose resource is null (e.g. the agent's self-metrics).
  std::shared_ptr<const model::Resource> default_resource;
};

// Spans with the same Resource object (pointer) become one ResourceSpans, in first-seen order,
// each with one ScopeSpans for `scope_name`.
void BuildTraceRequest(const std::vector<model::Span>& spans, const EncodeOptions& options,
                       opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest* out);
void BuildMetricsRequest(
    const std::vector<model::Metric>& metrics, const EncodeOptions& options,
    opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest* out);

// Serialized ExportTraceServiceRequest / ExportMetricsServiceRequest.
std::string EncodeTracesProto(const std::vector<model::Span>& spans, const EncodeOptions& options);
std::string EncodeMetricsProto(const std::vector<model::Metric>& metrics,
                               const EncodeOptions& options);
// OTLP/JSON (protobuf JSON mapping with the OTLP exceptions): lowerCamelCase names, trace and span
// ids as lowercase hex, enums as integers, 64-bit integers as decimal strings.
std::string EncodeTracesJson(const std::vector<model::Span>& spans, const EncodeOptions& options);
std::string EncodeMetricsJson(const std::vector<model::Metric>& metrics,
                              const EncodeOptions& options);

std::string EncodeTraces(Protocol protocol, const std::vector<model::Span>& spans,
                         const EncodeOptions& options);
std::string EncodeMetrics(Protocol protocol, const std::vector<model::Metric>& metrics,
                          const EncodeOptions& options);

// The partial_success of an Export*ServiceResponse (protobuf, or JSON when `json`). An empty body
// is full success.
struct PartialSuccess {
  int64_t rejected = 0;  // rejected_spans / rejected_data_points
  std::string error_message;
};
StatusOr<PartialSuccess> ParseExportResponse(Signal signal, std::string_view body, bool json);

// Number of data points in a batch of metrics (what partial success counts).
size_t CountDataPoints(const std::vector<model::Metric>& metrics);

}  // namespace wirespan::exporters::otlp
