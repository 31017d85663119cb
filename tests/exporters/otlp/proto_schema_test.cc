// The repository's .proto files must carry the published OTLP field numbers and types, and the
// generated classes must be built from exactly those files.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;

struct F {
  const char* name;
  int number;
  FieldDescriptor::Type type;
  bool repeated = false;
};

using T = FieldDescriptor::Type;
constexpr T kBytes = FieldDescriptor::TYPE_BYTES;
constexpr T kString = FieldDescriptor::TYPE_STRING;
constexpr T kFixed64 = FieldDescriptor::TYPE_FIXED64;
constexpr T kFixed32 = FieldDescriptor::TYPE_FIXED32;
constexpr T kSFixed64 = FieldDescriptor::TYPE_SFIXED64;
constexpr T kUint32 = FieldDescriptor::TYPE_UINT32;
constexpr T kUint64 = FieldDescriptor::TYPE_UINT64;
constexpr T kInt64 = FieldDescriptor::TYPE_INT64;
constexpr T kSInt32 = FieldDescriptor::TYPE_SINT32;
constexpr T kDouble = FieldDescriptor::TYPE_DOUBLE;
constexpr T kBool = FieldDescriptor::TYPE_BOOL;
constexpr T kMsg = FieldDescriptor::TYPE_MESSAGE;
constexpr T kEnum = FieldDescriptor::TYPE_ENUM;

// The published opentelemetry-proto schema (v1.x), message by message: every field.
const std::vector<std::pair<const char*, std::vector<F>>>& Expected() {
  static const std::vector<std::pair<const char*, std::vector<F>>> kSchema = {
      {"opentelemetry.proto.common.v1.AnyValue",
       {{"string_value", 1, kString},
        {"bool_value", 2, kBool},
        {"int_value", 3, kInt64},
        {"double_value", 4, kDouble},
        {"array_value", 5, kMsg},
        {"kvlist_value", 6, kMsg},
        {"bytes_value", 7, kBytes}}},
      {"opentelemetry.proto.common.v1.ArrayValue", {{"values", 1, kMsg, true}}},
      {"opentelemetry.proto.common.v1.KeyValueList", {{"values", 1, kMsg, true}}},
      {"opentelemetry.proto.common.v1.KeyValue", {{"key", 1, kString}, {"value", 2, kMsg}}},
      {"opentelemetry.proto.common.v1.InstrumentationScope",
       {{"name", 1, kString},
        {"version", 2, kString},
        {"attributes", 3, kMsg, true},
        {"dropped_attributes_count", 4, kUint32}}},
      {"opentelemetry.proto.resource.v1.Resource",
       {{"attributes", 1, kMsg, true}, {"dropped_attributes_count", 2, kUint32}}},
      {"opentelemetry.proto.trace.v1.TracesData", {{"resource_spans", 1, kMsg, true}}},
      {"opentelemetry.proto.trace.v1.ResourceSpans",
       {{"resource", 1, kMsg}, {"scope_spans", 2, kMsg, true}, {"schema_url", 3, kString}}},
      {"opentelemetry.proto.trace.v1.ScopeSpans",
       {{"scope", 1, kMsg}, {"spans", 2, kMsg, true}, {"schema_url", 3, kString}}},
      {"opentelemetry.proto.trace.v1.Span",
       {{"trace_id", 1, kBytes},
        {"span_id", 2, kBytes},
        {"trace_state", 3, kString},
        {"parent_span_id", 4, kBytes},
        {"flags", 16, kFixed32},
        {"name", 5, kString},
        {"kind", 6, kEnum},
        {"start_time_unix_nano", 7, kFixed64},
        {"end_time_unix_nano", 8, kFixed64},
        {"attributes", 9, kMsg, true},
        {"dropped_attributes_count", 10, kUint32},
        {"events", 11, kMsg, true},
        {"dropped_events_count", 12, kUint32},
        {"links", 13, kMsg, true},
        {"dropped_links_count", 14, kUint32},
        {"status", 15, kMsg}}},
      {"opentelemetry.proto.trace.v1.Span.Event",
       {{"time_unix_nano", 1, kFixed64},
        {"name", 2, kString},
        {"attributes", 3, kMsg, true},
        {"dropped_attributes_count", 4, kUint32}}},
      {"opentelemetry.proto.trace.v1.Span.Link",
       {{"trace_id", 1, kBytes},
        {"span_id", 2, kBytes},
        {"trace_state", 3, kString},
        {"attributes", 4, kMsg, true},
        {"dropped_attributes_count", 5, kUint32},
        {"flags", 6, kFixed32}}},
      {"opentelemetry.proto.trace.v1.Status", {{"message", 2, kString}, {"code", 3, kEnum}}},
      {"opentelemetry.proto.metrics.v1.MetricsData", {{"resource_metrics", 1, kMsg, true}}},
      {"opentelemetry.proto.metrics.v1.ResourceMetrics",
       {{"resource", 1, kMsg}, {"scope_metrics", 2, kMsg, true}, {"schema_url", 3, kString}}},
      {"opentelemetry.proto.metrics.v1.ScopeMetrics",
       {{"scope", 1, kMsg}, {"metrics", 2, kMsg, true}, {"schema_url", 3, kString}}},
      {"opentelemetry.proto.metrics.v1.Metric",
       {{"name", 1, kString},
        {"description", 2, kString},
        {"unit", 3, kString},
        {"gauge", 5, kMsg},
        {"sum", 7, kMsg},
        {"histogram", 9, kMsg},
        {"exponential_histogram", 10, kMsg},
        {"summary", 11, kMsg},
        {"metadata", 12, kMsg, true}}},
      {"opentelemetry.proto.metrics.v1.Gauge", {{"data_points", 1, kMsg, true}}},
      {"opentelemetry.proto.metrics.v1.Sum",
       {{"data_points", 1, kMsg, true},
        {"aggregation_temporality", 2, kEnum},
        {"is_monotonic", 3, kBool}}},
      {"opentelemetry.proto.metrics.v1.Histogram",
       {{"data_points", 1, kMsg, true}, {"aggregation_temporality", 2, kEnum}}},
      {"opentelemetry.proto.metrics.v1.ExponentialHistogram",
       {{"data_points", 1, kMsg, true}, {"aggregation_temporality", 2, kEnum}}},
      {"opentelemetry.proto.metrics.v1.Summary", {{"data_points", 1, kMsg, true}}},
      {"opentelemetry.proto.metrics.v1.NumberDataPoint",
       {{"attributes", 7, kMsg, true},
        {"start_time_unix_nano", 2, kFixed64},
        {"time_unix_nano", 3, kFixed64},
        {"as_double", 4, kDouble},
        {"as_int", 6, kSFixed64},
        {"exemplars", 5, kMsg, true},
        {"flags", 8, kUint32}}},
      {"opentelemetry.proto.metrics.v1.HistogramDataPoint",
       {{"attributes", 9, kMsg, true},
        {"start_time_unix_nano", 2, kFixed64},
        {"time_unix_nano", 3, kFixed64},
        {"count", 4, kFixed64},
        {"sum", 5, kDouble},
        {"bucket_counts", 6, kFixed64, true},
        {"explicit_bounds", 7, kDouble, true},
        {"exemplars", 8, kMsg, true},
        {"flags", 10, kUint32},
        {"min", 11, kDouble},
        {"max", 12, kDouble}}},
      {"opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint",
       {{"attributes", 1, kMsg, true},
        {"start_time_unix_nano", 2, kFixed64},
        {"time_unix_nano", 3, kFixed64},
        {"count", 4, kFixed64},
        {"sum", 5, kDouble},
        {"scale", 6, kSInt32},
        {"zero_count", 7, kFixed64},
        {"positive", 8, kMsg},
        {"negative", 9, kMsg},
        {"flags", 10, kUint32},
        {"exemplars", 11, kMsg, true},
        {"min", 12, kDouble},
        {"max", 13, kDouble},
        {"zero_threshold", 14, kDouble}}},
      {"opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint.Buckets",
       {{"offset", 1, kSInt32}, {"bucket_counts", 2, kUint64, true}}},
      {"opentelemetry.proto.metrics.v1.SummaryDataPoint",
       {{"attributes", 7, kMsg, true},
        {"start_time_unix_nano", 2, kFixed64},
        {"time_unix_nano", 3, kFixed64},
        {"count", 4, kFixed64},
        {"sum", 5, kDouble},
        {"quantile_values", 6, kMsg, true},
        {"flags", 8, kUint32}}},
      {"opentelemetry.proto.metrics.v1.SummaryDataPoint.ValueAtQuantile",
       {{"quantile", 1, kDouble}, {"value", 2, kDouble}}},
      {"opentelemetry.proto.metrics.v1.Exemplar",
       {{"filtered_attributes", 7, kMsg, true},
        {"time_unix_nano", 2, kFixed64},
        {"as_double", 3, kDouble},
        {"as_int", 6, kSFixed64},
        {"span_id", 4, kBytes},
        {"trace_id", 5, kBytes}}},
      {"opentelemetry.proto.logs.v1.LogsData", {{"resource_logs", 1, kMsg, true}}},
      {"opentelemetry.proto.logs.v1.ResourceLogs",
       {{"resource", 1, kMsg}, {"scope_logs", 2, kMsg, true}, {"schema_url", 3, kString}}},
      {"opentelemetry.proto.logs.v1.ScopeLogs",
       {{"scope", 1, kMsg}, {"log_records", 2, kMsg, true}, {"schema_url", 3, kString}}},
      {"opentelemetry.proto.logs.v1.LogRecord",
       {{"time_unix_nano", 1, kFixed64},
        {"observed_time_unix_nano", 11, kFixed64},
        {"severity_number", 2, kEnum},
        {"severity_text", 3, kString},
        {"body", 5, kMsg},
        {"attributes", 6, kMsg, true},
        {"dropped_attributes_count", 7, kUint32},
        {"flags", 8, kFixed32},
        {"trace_id", 9, kBytes},
        {"span_id", 10, kBytes},
        {"event_name", 12, kString}}},
      {"opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
       {{"resource_spans", 1, kMsg, true}}},
      {"opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse",
       {{"partial_success", 1, kMsg}}},
      {"opentelemetry.proto.collector.trace.v1.ExportTracePartialSuccess",
       {{"rejected_spans", 1, kInt64}, {"error_message", 2, kString}}},
      {"opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest",
       {{"resource_metrics", 1, kMsg, true}}},
      {"opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse",
       {{"partial_success", 1, kMsg}}},
      {"opentelemetry.proto.collector.metrics.v1.ExportMetricsPartialSuccess",
       {{"rejected_data_points", 1, kInt64}, {"error_message", 2, kString}}},
      {"opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest",
       {{"resource_logs", 1, kMsg, true}}},
      {"opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse",
       {{"partial_success", 1, kMsg}}},
      {"opentelemetry.proto.collector.logs.v1.ExportLogsPartialSuccess",
       {{"rejected_log_records", 1, kInt64}, {"error_message", 2, kString}}},
  };
  return kSchema;
}

void CheckPool(const DescriptorPool* pool, const char* what) {
  for (const auto& [message, fields] : Expected()) {
    SCOPED_TRACE(std::string(what) + " " + message);
    const Descriptor* d = pool->FindMessageTypeByName(message);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->field_count(), static_cast<int>(fields.size())) << "unexpected extra fields";
    for (const F& f : fields) {
      const FieldDescriptor* fd = d->FindFieldByName(f.name);
      ASSERT_NE(fd, nullptr) << f.name;
      EXPECT_EQ(fd->number(), f.number) << f.name;
      EXPECT_EQ(fd->type(), f.type) << f.name;
      EXPECT_EQ(fd->is_repeated(), f.repeated) << f.name;
    }
  }
}

TEST(OtlpProtoSchema, GeneratedClassesHavePublishedFieldNumbers) {
  // Touch the generated classes so their descriptors are registered.
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest t;
  opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest m;
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest l;
  CheckPool(DescriptorPool::generated_pool(), "generated");
  // The examples the issue names, spelled out.
  using opentelemetry::proto::trace::v1::Span;
  EXPECT_EQ(Span::descriptor()->FindFieldByName("parent_span_id")->number(), 4);
  EXPECT_EQ(Span::descriptor()->FindFieldByName("flags")->number(), 16);
  EXPECT_EQ(Span::descriptor()->FindFieldByName("status")->number(), 15);
}

TEST(OtlpProtoSchema, EnumValues) {
  using opentelemetry::proto::trace::v1::Span;
  using opentelemetry::proto::trace::v1::Status;
  EXPECT_EQ(Span::SPAN_KIND_UNSPECIFIED, 0);
  EXPECT_EQ(Span::SPAN_KIND_INTERNAL, 1);
  EXPECT_EQ(Span::SPAN_KIND_SERVER, 2);
  EXPECT_EQ(Span::SPAN_KIND_CLIENT, 3);
  EXPECT_EQ(Span::SPAN_KIND_PRODUCER, 4);
  EXPECT_EQ(Span::SPAN_KIND_CONSUMER, 5);
  EXPECT_EQ(Status::STATUS_CODE_UNSET, 0);
  EXPECT_EQ(Status::STATUS_CODE_OK, 1);
  EXPECT_EQ(Status::STATUS_CODE_ERROR, 2);
  EXPECT_EQ(opentelemetry::proto::metrics::v1::AGGREGATION_TEMPORALITY_DELTA, 1);
  EXPECT_EQ(opentelemetry::proto::metrics::v1::AGGREGATION_TEMPORALITY_CUMULATIVE, 2);
  EXPECT_EQ(opentelemetry::proto::trace::v1::SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK, 0x100);
  EXPECT_EQ(opentelemetry::proto::logs::v1::SEVERITY_NUMBER_FATAL4, 24);
  // proto3 optional: presence is tracked for these.
  using opentelemetry::proto::metrics::v1::HistogramDataPoint;
  EXPECT_TRUE(HistogramDataPoint::descriptor()->FindFieldByName("sum")->has_presence());
  EXPECT_TRUE(HistogramDataPoint::descriptor()->FindFieldByName("min")->has_presence());
}

// The .proto files from the source tree, compiled by protoc into a FileDescriptorSet at build
// time (OTLP_DESCRIPTOR_SET) and loaded into a fresh pool: same schema, and the generated code
// was built from these very files (descriptor protos equal).
TEST(OtlpProtoSchema, RepositoryProtoFilesMatchGeneratedCode) {
  std::ifstream in(OTLP_DESCRIPTOR_SET, std::ios::binary);
  ASSERT_TRUE(in) << OTLP_DESCRIPTOR_SET;
  std::stringstream data;
  data << in.rdbuf();
  google::protobuf::FileDescriptorSet set;
  ASSERT_TRUE(set.ParseFromString(data.str()));
  DescriptorPool pool;
  for (const auto& file : set.file()) ASSERT_NE(pool.BuildFile(file), nullptr) << file.name();
  EXPECT_EQ(set.file_size(), 8);

  opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest touch_logs;
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest touch_traces;
  opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest touch_metrics;
  for (const auto& file : set.file()) {
    const google::protobuf::FileDescriptor* generated =
        DescriptorPool::generated_pool()->FindFileByName(file.name());
    ASSERT_NE(generated, nullptr) << file.name();
    google::protobuf::FileDescriptorProto a, b;
    pool.FindFileByName(file.name())->CopyTo(&a);
    pool.FindFileByName(file.name())->CopyJsonNameTo(&a);
    generated->CopyTo(&b);
    generated->CopyJsonNameTo(&b);
    EXPECT_EQ(a.DebugString(), b.DebugString()) << file.name();
  }
  CheckPool(&pool, "parsed");
  // Services are declared (only messages are generated).
  const auto* svc = pool.FindServiceByName("opentelemetry.proto.collector.trace.v1.TraceService");
  ASSERT_NE(svc, nullptr);
  EXPECT_EQ(svc->FindMethodByName("Export")->input_type()->full_name(),
            "opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest");
}

}  // namespace
