#include "exporters/otlp/encoder.h"

#include <google/protobuf/unknown_field_set.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "wirespan/version.h"

namespace wirespan::exporters::otlp {
namespace {

namespace pbt = opentelemetry::proto::collector::trace::v1;
namespace pbm = opentelemetry::proto::collector::metrics::v1;
using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;

std::shared_ptr<const model::Resource> MakeResource(const std::string& service) {
  auto r = std::make_shared<model::Resource>();
  r->attributes.Set("service.name", service);
  r->attributes.Set("process.pid", int64_t{4242});
  return r;
}

model::Span MakeSpan(std::shared_ptr<const model::Resource> r, uint8_t seed) {
  model::Span s;
  for (size_t i = 0; i < s.trace_id.size(); ++i) s.trace_id[i] = static_cast<uint8_t>(seed + i);
  for (size_t i = 0; i < s.span_id.size(); ++i) s.span_id[i] = static_cast<uint8_t>(0xa0 + i);
  s.name = "GET /users/{id}";
  s.kind = model::SpanKind::kServer;
  s.start_time_unix_nano = 1700000000123456789ull;
  s.end_time_unix_nano = 1700000000223456789ull;
  s.attributes.Set("http.request.method", "GET");
  s.attributes.Set("http.response.status_code", int64_t{200});
  s.attributes.Set("sampled.ratio", 0.25);
  s.attributes.Set("cache.hit", true);
  s.resource = std::move(r);
  s.protocol = "http";
  return s;
}

std::vector<model::Span> SampleSpans() {
  auto a = MakeResource("checkout");
  auto b = MakeResource("payments");
  std::vector<model::Span> spans = {MakeSpan(a, 1), MakeSpan(b, 2), MakeSpan(a, 3)};
  spans[1].kind = model::SpanKind::kClient;
  spans[1].status = model::StatusCode::kError;
  spans[1].status_message = "boom";
  spans[1].trace_state = "vendor=x";
  for (size_t i = 0; i < 8; ++i) spans[2].parent_span_id[i] = static_cast<uint8_t>(0x10 + i);
  return spans;
}

TEST(OtlpEncoder, TracesProtoRoundTrip) {
  auto spans = SampleSpans();
  std::string body = EncodeTracesProto(spans, EncodeOptions{});
  pbt::ExportTraceServiceRequest req;
  ASSERT_TRUE(req.ParseFromString(body));
  // Grouped by resource object, first-seen order.
  ASSERT_EQ(req.resource_spans_size(), 2);
  const auto& rs0 = req.resource_spans(0);
  EXPECT_EQ(rs0.resource().attributes(0).key(), "service.name");
  EXPECT_EQ(rs0.resource().attributes(0).value().string_value(), "checkout");
  EXPECT_EQ(rs0.resource().attributes(1).value().int_value(), 4242);
  ASSERT_EQ(rs0.scope_spans_size(), 1);
  EXPECT_EQ(rs0.scope_spans(0).scope().name(), "wirespan");
  EXPECT_EQ(rs0.scope_spans(0).scope().version(), WIRESPAN_VERSION);
  ASSERT_EQ(rs0.scope_spans(0).spans_size(), 2);
  ASSERT_EQ(req.resource_spans(1).scope_spans(0).spans_size(), 1);

  const auto& s0 = rs0.scope_spans(0).spans(0);
  EXPECT_EQ(s0.trace_id(),
            std::string(reinterpret_cast<const char*>(spans[0].trace_id.data()), 16));
  EXPECT_EQ(s0.span_id(), std::string(reinterpret_cast<const char*>(spans[0].span_id.data()), 8));
  EXPECT_TRUE(s0.parent_span_id().empty());
  EXPECT_EQ(s0.name(), "GET /users/{id}");
  EXPECT_EQ(s0.kind(), opentelemetry::proto::trace::v1::Span::SPAN_KIND_SERVER);
  EXPECT_EQ(s0.start_time_unix_nano(), 1700000000123456789ull);
  EXPECT_EQ(s0.end_time_unix_nano(), 1700000000223456789ull);
  EXPECT_EQ(s0.flags() & 0xff, 1u);
  ASSERT_EQ(s0.attributes_size(), 4);
  EXPECT_EQ(s0.attributes(0).value().string_value(), "GET");
  EXPECT_EQ(s0.attributes(1).value().int_value(), 200);
  EXPECT_DOUBLE_EQ(s0.attributes(2).value().double_value(), 0.25);
  EXPECT_TRUE(s0.attributes(3).value().bool_value());
  EXPECT_FALSE(s0.has_status());

  const auto& s2 = rs0.scope_spans(0).spans(1);
  EXPECT_EQ(s2.parent_span_id().size(), 8u);
  EXPECT_EQ(static_cast<uint8_t>(s2.parent_span_id()[0]), 0x10);

  const auto& s1 = req.resource_spans(1).scope_spans(0).spans(0);
  EXPECT_EQ(s1.kind(), opentelemetry::proto::trace::v1::Span::SPAN_KIND_CLIENT);
  EXPECT_EQ(s1.status().code(), opentelemetry::proto::trace::v1::Status::STATUS_CODE_ERROR);
  EXPECT_EQ(s1.status().message(), "boom");
  EXPECT_EQ(s1.trace_state(), "vendor=x");
}

// Field numbers and wire types on the wire, read without the generated classes.
TEST(OtlpEncoder, WireFormatFieldNumbers) {
  auto spans = SampleSpans();
  std::string body = EncodeTracesProto(spans, EncodeOptions{});
  UnknownFieldSet req;
  ASSERT_TRUE(req.ParseFromString(body));
  ASSERT_EQ(req.field(0).number(), 1);  // resource_spans
  UnknownFieldSet rs;
  ASSERT_TRUE(rs.ParseFromString(req.field(0).length_delimited()));
  std::map<int, const UnknownField*> rs_fields;
  for (int i = 0; i < rs.field_count(); ++i) rs_fields[rs.field(i).number()] = &rs.field(i);
  ASSERT_TRUE(rs_fields.count(1));  // resource
  ASSERT_TRUE(rs_fields.count(2));  // scope_spans
  UnknownFieldSet ss;
  ASSERT_TRUE(ss.ParseFromString(rs_fields[2]->length_delimited()));
  UnknownFieldSet span;
  const UnknownField* first_span = nullptr;
  for (int i = 0; i < ss.field_count(); ++i) {
    if (ss.field(i).number() == 2 && !first_span) first_span = &ss.field(i);
    if (ss.field(i).number() == 1) {
      UnknownFieldSet scope;
      ASSERT_TRUE(scope.ParseFromString(ss.field(i).length_delimited()));
      EXPECT_EQ(scope.field(0).number(), 1);
      EXPECT_EQ(scope.field(0).length_delimited(), "wirespan");
    }
  }
  ASSERT_NE(first_span, nullptr);
  ASSERT_TRUE(span.ParseFromString(first_span->length_delimited()));
  std::map<int, const UnknownField*> f;
  for (int i = 0; i < span.field_count(); ++i) f[span.field(i).number()] = &span.field(i);
  ASSERT_TRUE(f.count(1));
  EXPECT_EQ(f[1]->type(), UnknownField::TYPE_LENGTH_DELIMITED);
  EXPECT_EQ(f[1]->length_delimited().size(), 16u);
  EXPECT_EQ(f[2]->length_delimited().size(), 8u);
  EXPECT_EQ(f[5]->length_delimited(), "GET /users/{id}");
  EXPECT_EQ(f[6]->type(), UnknownField::TYPE_VARINT);
  EXPECT_EQ(f[6]->varint(), 2u);
  EXPECT_EQ(f[7]->type(), UnknownField::TYPE_FIXED64);
  EXPECT_EQ(f[7]->fixed64(), 1700000000123456789ull);
  EXPECT_EQ(f[8]->type(), UnknownField::TYPE_FIXED64);
  EXPECT_EQ(f[9]->type(), UnknownField::TYPE_LENGTH_DELIMITED);  // attributes
  EXPECT_EQ(f[16]->type(), UnknownField::TYPE_FIXED32);          // flags
}

// hex ids -> base64, so protobuf's own proto3 JSON parser can read OTLP/JSON.
void HexIdsToBase64(nlohmann::json& j) {
  static const char* kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (j.is_object()) {
    for (auto& [k, v] : j.items()) {
      if ((k == "traceId" || k == "spanId" || k == "parentSpanId") && v.is_string()) {
        std::string hex = v.get<std::string>();
        std::string bytes;
        for (size_t i = 0; i + 1 < hex.size(); i += 2) {
          bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
        }
        std::string out;
        size_t i = 0;
        for (; i + 2 < bytes.size(); i += 3) {
          uint32_t n =
              (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
          for (int s = 18; s >= 0; s -= 6) out.push_back(kB64[(n >> s) & 63]);
        }
        if (bytes.size() - i == 1) {
          uint32_t n = uint8_t(bytes[i]) << 16;
          out += {kB64[(n >> 18) & 63], kB64[(n >> 12) & 63], '=', '='};
        } else if (bytes.size() - i == 2) {
          uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
          out += {kB64[(n >> 18) & 63], kB64[(n >> 12) & 63], kB64[(n >> 6) & 63], '='};
        }
        v = out;
      } else {
        HexIdsToBase64(v);
      }
    }
  } else if (j.is_array()) {
    for (auto& v : j) HexIdsToBase64(v);
  }
}

TEST(OtlpEncoder, TracesJsonMatchesProto) {
  auto spans = SampleSpans();
  std::string text = EncodeTracesJson(spans, EncodeOptions{});
  auto j = nlohmann::json::parse(text);
  // OTLP/JSON specifics.
  const auto& js = j["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
  EXPECT_EQ(js["traceId"], model::ToHex(spans[0].trace_id));
  EXPECT_EQ(js["spanId"], model::ToHex(spans[0].span_id));
  EXPECT_EQ(js["kind"], 2);  // enum as integer
  EXPECT_EQ(js["startTimeUnixNano"], "1700000000123456789");
  EXPECT_EQ(js["attributes"][1]["value"]["intValue"], "200");
  EXPECT_EQ(j["resourceSpans"][0]["scopeSpans"][0]["spans"][1]["parentSpanId"],
            model::ToHex(spans[2].parent_span_id));
  EXPECT_EQ(j["resourceSpans"][1]["scopeSpans"][0]["spans"][0]["status"]["code"], 2);

  HexIdsToBase64(j);
  pbt::ExportTraceServiceRequest from_json, from_proto;
  auto st = google::protobuf::util::JsonStringToMessage(j.dump(), &from_json);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(from_proto.ParseFromString(EncodeTracesProto(spans, EncodeOptions{})));
  std::string diff;
  google::protobuf::util::MessageDifferencer d;
  d.ReportDifferencesToString(&diff);
  EXPECT_TRUE(d.Compare(from_json, from_proto)) << diff;
}

std::vector<model::Metric> SampleMetrics(std::shared_ptr<const model::Resource> r) {
  std::vector<model::Metric> out;
  model::Metric counter;
  counter.name = "wirespan.spans";
  counter.description = "Spans made";
  counter.unit = "{span}";
  counter.type = model::MetricType::kSum;
  counter.number_points.push_back({{}, 100, 200, int64_t{42}});
  counter.number_points[0].attributes.Set("protocol", "http");
  out.push_back(counter);
  model::Metric gauge;
  gauge.name = "wirespan.queue.fill";
  gauge.type = model::MetricType::kGauge;
  gauge.unit = "1";
  gauge.number_points.push_back({{}, 0, 200, 0.5});
  out.push_back(gauge);
  model::Metric hist;
  hist.name = "http.server.request.duration";
  hist.unit = "s";
  hist.type = model::MetricType::kHistogram;
  hist.resource = r;
  model::HistogramPoint p;
  p.start_time_unix_nano = 100;
  p.time_unix_nano = 200;
  p.bounds = {0.1, 1};
  p.bucket_counts = {1, 2, 0};
  p.count = 3;
  p.sum = 1.05;
  p.min = 0.05;
  p.max = 0.6;
  p.attributes.Set("http.route", "/users/{id}");
  hist.histogram_points.push_back(p);
  out.push_back(hist);
  return out;
}

TEST(OtlpEncoder, MetricsProtoRoundTrip) {
  auto agent = MakeResource("wirespan");
  auto svc = MakeResource("checkout");
  EncodeOptions o;
  o.default_resource = agent;
  std::string body = EncodeMetricsProto(SampleMetrics(svc), o);
  pbm::ExportMetricsServiceRequest req;
  ASSERT_TRUE(req.ParseFromString(body));
  ASSERT_EQ(req.resource_metrics_size(), 2);
  EXPECT_EQ(req.resource_metrics(0).resource().attributes(0).value().string_value(), "wirespan");
  const auto& ms = req.resource_metrics(0).scope_metrics(0);
  ASSERT_EQ(ms.metrics_size(), 2);
  const auto& c = ms.metrics(0);
  EXPECT_EQ(c.name(), "wirespan.spans");
  EXPECT_EQ(c.unit(), "{span}");
  ASSERT_TRUE(c.has_sum());
  EXPECT_TRUE(c.sum().is_monotonic());
  EXPECT_EQ(c.sum().aggregation_temporality(),
            opentelemetry::proto::metrics::v1::AGGREGATION_TEMPORALITY_CUMULATIVE);
  EXPECT_EQ(c.sum().data_points(0).as_int(), 42);
  EXPECT_EQ(c.sum().data_points(0).start_time_unix_nano(), 100u);
  EXPECT_EQ(c.sum().data_points(0).attributes(0).key(), "protocol");
  ASSERT_TRUE(ms.metrics(1).has_gauge());
  EXPECT_DOUBLE_EQ(ms.metrics(1).gauge().data_points(0).as_double(), 0.5);
  const auto& h = req.resource_metrics(1).scope_metrics(0).metrics(0);
  EXPECT_EQ(req.resource_metrics(1).resource().attributes(0).value().string_value(), "checkout");
  ASSERT_TRUE(h.has_histogram());
  const auto& dp = h.histogram().data_points(0);
  EXPECT_EQ(dp.count(), 3u);
  EXPECT_DOUBLE_EQ(dp.sum(), 1.05);
  EXPECT_TRUE(dp.has_min());
  EXPECT_DOUBLE_EQ(dp.min(), 0.05);
  EXPECT_DOUBLE_EQ(dp.max(), 0.6);
  ASSERT_EQ(dp.bucket_counts_size(), 3);
  EXPECT_EQ(dp.bucket_counts(1), 2u);
  ASSERT_EQ(dp.explicit_bounds_size(), 2);
  EXPECT_DOUBLE_EQ(dp.explicit_bounds(0), 0.1);
}

TEST(OtlpEncoder, MetricsJsonMatchesProto) {
  auto agent = MakeResource("wirespan");
  EncodeOptions o;
  o.default_resource = agent;
  auto metrics = SampleMetrics(MakeResource("checkout"));
  std::string text = EncodeMetricsJson(metrics, o);
  auto j = nlohmann::json::parse(text);
  const auto& sum = j["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]["sum"];
  EXPECT_EQ(sum["aggregationTemporality"], 2);
  EXPECT_EQ(sum["isMonotonic"], true);
  EXPECT_EQ(sum["dataPoints"][0]["asInt"], "42");
  const auto& hist = j["resourceMetrics"][1]["scopeMetrics"][0]["metrics"][0]["histogram"];
  EXPECT_EQ(hist["dataPoints"][0]["bucketCounts"][1], "2");
  EXPECT_EQ(hist["dataPoints"][0]["count"], "3");
  pbm::ExportMetricsServiceRequest from_json, from_proto;
  auto st = google::protobuf::util::JsonStringToMessage(text, &from_json);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(from_proto.ParseFromString(EncodeMetricsProto(metrics, o)));
  std::string diff;
  google::protobuf::util::MessageDifferencer d;
  d.ReportDifferencesToString(&diff);
  EXPECT_TRUE(d.Compare(from_json, from_proto)) << diff;
}

TEST(OtlpEncoder, ParsesPartialSuccess) {
  pbt::ExportTraceServiceResponse resp;
  resp.mutable_partial_success()->set_rejected_spans(3);
  resp.mutable_partial_success()->set_error_message("too old");
  auto p = ParseExportResponse(Signal::kTraces, resp.SerializeAsString(), false);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->rejected, 3);
  EXPECT_EQ(p->error_message, "too old");
  auto pj = ParseExportResponse(
      Signal::kMetrics, R"({"partialSuccess":{"rejectedDataPoints":"5","errorMessage":"x"}})",
      true);
  ASSERT_TRUE(pj.ok());
  EXPECT_EQ(pj->rejected, 5);
  auto empty = ParseExportResponse(Signal::kTraces, "", false);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->rejected, 0);
  EXPECT_FALSE(ParseExportResponse(Signal::kTraces, "\xff\xff\xff", false).ok());
}

}  // namespace
}  // namespace wirespan::exporters::otlp
