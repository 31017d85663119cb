#include "exporters/otlp/encoder.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "wirespan/version.h"

namespace wirespan::exporters::otlp {
namespace {

namespace pb_common = opentelemetry::proto::common::v1;
namespace pb_resource = opentelemetry::proto::resource::v1;
namespace pb_trace = opentelemetry::proto::trace::v1;
namespace pb_metrics = opentelemetry::proto::metrics::v1;
namespace pb_ctrace = opentelemetry::proto::collector::trace::v1;
namespace pb_cmetrics = opentelemetry::proto::collector::metrics::v1;

using json = nlohmann::ordered_json;

// W3C trace flags: wirespan exports only sampled spans.
constexpr uint32_t kSpanFlags = 0x01;

const std::string& ScopeVersion(const EncodeOptions& o) {
  static const std::string kVersion = WIRESPAN_VERSION;
  return o.scope_version.empty() ? kVersion : o.scope_version;
}

void SetAnyValue(const model::AttributeValue& v, pb_common::AnyValue* out) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          out->set_string_value(x);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          out->set_int_value(x);
        } else if constexpr (std::is_same_v<T, double>) {
          out->set_double_value(x);
        } else {
          out->set_bool_value(x);
        }
      },
      v);
}

template <typename RepeatedKv>
void SetAttributes(const model::Attributes& attrs, RepeatedKv* out) {
  out->Reserve(static_cast<int>(attrs.size()));
  for (const auto& a : attrs.items()) {
    auto* kv = out->Add();
    kv->set_key(a.key);
    SetAnyValue(a.value, kv->mutable_value());
  }
}

template <typename Resource>
void SetResource(const model::Resource* r, Resource* out) {
  if (r) SetAttributes(r->attributes, out->mutable_attributes());
}

void SetScope(const EncodeOptions& o, pb_common::InstrumentationScope* scope) {
  scope->set_name(o.scope_name);
  scope->set_version(ScopeVersion(o));
}

// Groups items by resource pointer, in first-seen order.
template <typename Item, typename GetResource>
std::vector<std::pair<const model::Resource*, std::vector<const Item*>>> GroupByResource(
    const std::vector<Item>& items, const EncodeOptions& o, GetResource get) {
  std::vector<std::pair<const model::Resource*, std::vector<const Item*>>> groups;
  const model::Resource* last = nullptr;
  size_t last_index = 0;
  for (const Item& item : items) {
    const model::Resource* r = get(item);
    if (r == nullptr) r = o.default_resource.get();
    if (!groups.empty() && r == last) {
      groups[last_index].second.push_back(&item);
      continue;
    }
    size_t i = 0;
    for (; i < groups.size(); ++i) {
      if (groups[i].first == r) break;
    }
    if (i == groups.size()) groups.push_back({r, {}});
    groups[i].second.push_back(&item);
    last = r;
    last_index = i;
  }
  return groups;
}

std::string Hex(const uint8_t* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0xf];
  }
  return out;
}

json JsonDouble(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  return d;
}

json JsonAnyValue(const model::AttributeValue& v) {
  json out = json::object();
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          out["stringValue"] = x;
        } else if constexpr (std::is_same_v<T, int64_t>) {
          out["intValue"] = std::to_string(x);
        } else if constexpr (std::is_same_v<T, double>) {
          out["doubleValue"] = JsonDouble(x);
        } else {
          out["boolValue"] = x;
        }
      },
      v);
  return out;
}

json JsonAttributes(const model::Attributes& attrs) {
  json out = json::array();
  for (const auto& a : attrs.items()) {
    out.push_back(json{{"key", a.key}, {"value", JsonAnyValue(a.value)}});
  }
  return out;
}

json JsonResource(const model::Resource* r) {
  json out = json::object();
  out["attributes"] = r ? JsonAttributes(r->attributes) : json::array();
  return out;
}

json JsonScope(const EncodeOptions& o) {
  return json{{"name", o.scope_name}, {"version", ScopeVersion(o)}};
}

json JsonSpan(const model::Span& s) {
  json j = json::object();
  j["traceId"] = Hex(s.trace_id.data(), s.trace_id.size());
  j["spanId"] = Hex(s.span_id.data(), s.span_id.size());
  if (!s.trace_state.empty()) j["traceState"] = s.trace_state;
  if (!model::IsZero(s.parent_span_id)) {
    j["parentSpanId"] = Hex(s.parent_span_id.data(), s.parent_span_id.size());
  }
  j["flags"] = kSpanFlags;
  j["name"] = s.name;
  j["kind"] = static_cast<int>(s.kind);
  j["startTimeUnixNano"] = std::to_string(s.start_time_unix_nano);
  j["endTimeUnixNano"] = std::to_string(s.end_time_unix_nano);
  j["attributes"] = JsonAttributes(s.attributes);
  json status = json::object();
  if (!s.status_message.empty()) status["message"] = s.status_message;
  if (s.status != model::StatusCode::kUnset) status["code"] = static_cast<int>(s.status);
  if (!status.empty()) j["status"] = std::move(status);
  return j;
}

json JsonNumberPoint(const model::NumberPoint& p) {
  json j = json::object();
  j["attributes"] = JsonAttributes(p.attributes);
  if (p.start_time_unix_nano) j["startTimeUnixNano"] = std::to_string(p.start_time_unix_nano);
  j["timeUnixNano"] = std::to_string(p.time_unix_nano);
  if (const int64_t* i = std::get_if<int64_t>(&p.value)) {
    j["asInt"] = std::to_string(*i);
  } else {
    j["asDouble"] = JsonDouble(std::get<double>(p.value));
  }
  return j;
}

json JsonHistogramPoint(const model::HistogramPoint& p) {
  json j = json::object();
  j["attributes"] = JsonAttributes(p.attributes);
  j["startTimeUnixNano"] = std::to_string(p.start_time_unix_nano);
  j["timeUnixNano"] = std::to_string(p.time_unix_nano);
  j["count"] = std::to_string(p.count);
  j["sum"] = JsonDouble(p.sum);
  json counts = json::array();
  for (uint64_t c : p.bucket_counts) counts.push_back(std::to_string(c));
  j["bucketCounts"] = std::move(counts);
  json bounds = json::array();
  for (double b : p.bounds) bounds.push_back(JsonDouble(b));
  j["explicitBounds"] = std::move(bounds);
  if (p.min) j["min"] = JsonDouble(*p.min);
  if (p.max) j["max"] = JsonDouble(*p.max);
  return j;
}

constexpr int kCumulative = 2;
constexpr int kDelta = 1;

int Temporality(const model::Metric& m) {
  return m.temporality == model::AggregationTemporality::kCumulative ? kCumulative : kDelta;
}

json JsonMetric(const model::Metric& m) {
  json j = json::object();
  j["name"] = m.name;
  if (!m.description.empty()) j["description"] = m.description;
  if (!m.unit.empty()) j["unit"] = m.unit;
  switch (m.type) {
    case model::MetricType::kGauge: {
      json points = json::array();
      for (const auto& p : m.number_points) points.push_back(JsonNumberPoint(p));
      j["gauge"] = json{{"dataPoints", std::move(points)}};
      break;
    }
    case model::MetricType::kSum: {
      json points = json::array();
      for (const auto& p : m.number_points) points.push_back(JsonNumberPoint(p));
      j["sum"] = json{{"dataPoints", std::move(points)},
                      {"aggregationTemporality", Temporality(m)},
                      {"isMonotonic", m.monotonic}};
      break;
    }
    case model::MetricType::kHistogram: {
      json points = json::array();
      for (const auto& p : m.histogram_points) points.push_back(JsonHistogramPoint(p));
      j["histogram"] =
          json{{"dataPoints", std::move(points)}, {"aggregationTemporality", Temporality(m)}};
      break;
    }
  }
  return j;
}

template <typename Points>
void SetNumberPoints(const std::vector<model::NumberPoint>& points, Points* out) {
  out->Reserve(static_cast<int>(points.size()));
  for (const auto& p : points) {
    auto* dp = out->Add();
    SetAttributes(p.attributes, dp->mutable_attributes());
    dp->set_start_time_unix_nano(p.start_time_unix_nano);
    dp->set_time_unix_nano(p.time_unix_nano);
    if (const int64_t* i = std::get_if<int64_t>(&p.value)) {
      dp->set_as_int(*i);
    } else {
      dp->set_as_double(std::get<double>(p.value));
    }
  }
}

void SetMetric(const model::Metric& m, pb_metrics::Metric* out) {
  out->set_name(m.name);
  out->set_description(m.description);
  out->set_unit(m.unit);
  auto temporality = m.temporality == model::AggregationTemporality::kCumulative
                         ? pb_metrics::AGGREGATION_TEMPORALITY_CUMULATIVE
                         : pb_metrics::AGGREGATION_TEMPORALITY_DELTA;
  switch (m.type) {
    case model::MetricType::kGauge:
      SetNumberPoints(m.number_points, out->mutable_gauge()->mutable_data_points());
      break;
    case model::MetricType::kSum: {
      auto* sum = out->mutable_sum();
      SetNumberPoints(m.number_points, sum->mutable_data_points());
      sum->set_aggregation_temporality(temporality);
      sum->set_is_monotonic(m.monotonic);
      break;
    }
    case model::MetricType::kHistogram: {
      auto* h = out->mutable_histogram();
      h->set_aggregation_temporality(temporality);
      for (const auto& p : m.histogram_points) {
        auto* dp = h->add_data_points();
        SetAttributes(p.attributes, dp->mutable_attributes());
        dp->set_start_time_unix_nano(p.start_time_unix_nano);
        dp->set_time_unix_nano(p.time_unix_nano);
        dp->set_count(p.count);
        dp->set_sum(p.sum);
        dp->mutable_bucket_counts()->Add(p.bucket_counts.begin(), p.bucket_counts.end());
        dp->mutable_explicit_bounds()->Add(p.bounds.begin(), p.bounds.end());
        if (p.min) dp->set_min(*p.min);
        if (p.max) dp->set_max(*p.max);
      }
      break;
    }
  }
}

}  // namespace

void BuildTraceRequest(const std::vector<model::Span>& spans, const EncodeOptions& options,
                       pb_ctrace::ExportTraceServiceRequest* out) {
  auto groups =
      GroupByResource(spans, options, [](const model::Span& s) { return s.resource.get(); });
  for (const auto& [resource, group] : groups) {
    auto* rs = out->add_resource_spans();
    SetResource(resource, rs->mutable_resource());
    auto* ss = rs->add_scope_spans();
    SetScope(options, ss->mutable_scope());
    ss->mutable_spans()->Reserve(static_cast<int>(group.size()));
    for (const model::Span* s : group) {
      auto* ps = ss->add_spans();
      ps->set_trace_id(s->trace_id.data(), s->trace_id.size());
      ps->set_span_id(s->span_id.data(), s->span_id.size());
      if (!s->trace_state.empty()) ps->set_trace_state(s->trace_state);
      if (!model::IsZero(s->parent_span_id)) {
        ps->set_parent_span_id(s->parent_span_id.data(), s->parent_span_id.size());
      }
      ps->set_flags(kSpanFlags);
      ps->set_name(s->name);
      ps->set_kind(static_cast<pb_trace::Span::SpanKind>(static_cast<int>(s->kind)));
      ps->set_start_time_unix_nano(s->start_time_unix_nano);
      ps->set_end_time_unix_nano(s->end_time_unix_nano);
      SetAttributes(s->attributes, ps->mutable_attributes());
      if (s->status != model::StatusCode::kUnset || !s->status_message.empty()) {
        auto* st = ps->mutable_status();
        st->set_code(static_cast<pb_trace::Status::StatusCode>(static_cast<int>(s->status)));
        st->set_message(s->status_message);
      }
    }
  }
}

void BuildMetricsRequest(const std::vector<model::Metric>& metrics, const EncodeOptions& options,
                         pb_cmetrics::ExportMetricsServiceRequest* out) {
  auto groups =
      GroupByResource(metrics, options, [](const model::Metric& m) { return m.resource.get(); });
  for (const auto& [resource, group] : groups) {
    auto* rm = out->add_resource_metrics();
    SetResource(resource, rm->mutable_resource());
    auto* sm = rm->add_scope_metrics();
    SetScope(options, sm->mutable_scope());
    for (const model::Metric* m : group) SetMetric(*m, sm->add_metrics());
  }
}

std::string EncodeTracesProto(const std::vector<model::Span>& spans, const EncodeOptions& options) {
  google::protobuf::Arena arena;
  auto* req = google::protobuf::Arena::CreateMessage<pb_ctrace::ExportTraceServiceRequest>(&arena);
  BuildTraceRequest(spans, options, req);
  return req->SerializeAsString();
}

std::string EncodeMetricsProto(const std::vector<model::Metric>& metrics,
                               const EncodeOptions& options) {
  google::protobuf::Arena arena;
  auto* req =
      google::protobuf::Arena::CreateMessage<pb_cmetrics::ExportMetricsServiceRequest>(&arena);
  BuildMetricsRequest(metrics, options, req);
  return req->SerializeAsString();
}

std::string EncodeTracesJson(const std::vector<model::Span>& spans, const EncodeOptions& options) {
  auto groups =
      GroupByResource(spans, options, [](const model::Span& s) { return s.resource.get(); });
  json resource_spans = json::array();
  for (const auto& [resource, group] : groups) {
    json js = json::array();
    for (const model::Span* s : group) js.push_back(JsonSpan(*s));
    json scope_spans = json::array();
    scope_spans.push_back(json{{"scope", JsonScope(options)}, {"spans", std::move(js)}});
    resource_spans.push_back(
        json{{"resource", JsonResource(resource)}, {"scopeSpans", std::move(scope_spans)}});
  }
  return json{{"resourceSpans", std::move(resource_spans)}}.dump(-1, ' ', false,
                                                                 json::error_handler_t::replace);
}

std::string EncodeMetricsJson(const std::vector<model::Metric>& metrics,
                              const EncodeOptions& options) {
  auto groups =
      GroupByResource(metrics, options, [](const model::Metric& m) { return m.resource.get(); });
  json resource_metrics = json::array();
  for (const auto& [resource, group] : groups) {
    json jm = json::array();
    for (const model::Metric* m : group) jm.push_back(JsonMetric(*m));
    json scope_metrics = json::array();
    scope_metrics.push_back(json{{"scope", JsonScope(options)}, {"metrics", std::move(jm)}});
    resource_metrics.push_back(
        json{{"resource", JsonResource(resource)}, {"scopeMetrics", std::move(scope_metrics)}});
  }
  return json{{"resourceMetrics", std::move(resource_metrics)}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
}

std::string EncodeTraces(Protocol protocol, const std::vector<model::Span>& spans,
                         const EncodeOptions& options) {
  return protocol == Protocol::kHttpJson ? EncodeTracesJson(spans, options)
                                         : EncodeTracesProto(spans, options);
}

std::string EncodeMetrics(Protocol protocol, const std::vector<model::Metric>& metrics,
                          const EncodeOptions& options) {
  return protocol == Protocol::kHttpJson ? EncodeMetricsJson(metrics, options)
                                         : EncodeMetricsProto(metrics, options);
}

StatusOr<PartialSuccess> ParseExportResponse(Signal signal, std::string_view body, bool is_json) {
  PartialSuccess out;
  if (body.empty()) return out;
  if (is_json) {
    json j = json::parse(body.begin(), body.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) return Status::Error("response is not a JSON object");
    auto it = j.find("partialSuccess");
    if (it == j.end() || !it->is_object()) return out;
    const char* field = signal == Signal::kTraces ? "rejectedSpans" : "rejectedDataPoints";
    if (auto r = it->find(field); r != it->end()) {
      if (r->is_number_integer()) {
        out.rejected = r->get<int64_t>();
      } else if (r->is_string()) {
        try {
          out.rejected = std::stoll(r->get<std::string>());
        } catch (...) {
          return Status::Error("bad rejected count in response");
        }
      }
    }
    if (auto m = it->find("errorMessage"); m != it->end() && m->is_string()) {
      out.error_message = m->get<std::string>();
    }
    return out;
  }
  if (signal == Signal::kTraces) {
    pb_ctrace::ExportTraceServiceResponse resp;
    if (!resp.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      return Status::Error("response is not an ExportTraceServiceResponse");
    }
    out.rejected = resp.partial_success().rejected_spans();
    out.error_message = resp.partial_success().error_message();
  } else {
    pb_cmetrics::ExportMetricsServiceResponse resp;
    if (!resp.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      return Status::Error("response is not an ExportMetricsServiceResponse");
    }
    out.rejected = resp.partial_success().rejected_data_points();
    out.error_message = resp.partial_success().error_message();
  }
  return out;
}

size_t CountDataPoints(const std::vector<model::Metric>& metrics) {
  size_t n = 0;
  for (const auto& m : metrics) n += m.number_points.size() + m.histogram_points.size();
  return n;
}

}  // namespace wirespan::exporters::otlp
