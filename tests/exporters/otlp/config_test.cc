#include "exporters/otlp/config.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <map>

#include "exporters/otlp/http_client.h"
#include "exporters/otlp/sampler.h"

namespace wirespan::exporters::otlp {
namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  auto store = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [store](const char* name) -> const char* {
    auto it = store->find(name);
    return it == store->end() ? nullptr : it->second.c_str();
  };
}

TEST(OtlpConfig, Defaults) {
  OtlpConfig c;
  auto t = ResolveSignal(c, Signal::kTraces);
  EXPECT_EQ(t.url, "http://localhost:4318/v1/traces");
  EXPECT_EQ(t.protocol, Protocol::kHttpProtobuf);
  EXPECT_EQ(ResolveSignal(c, Signal::kMetrics).url, "http://localhost:4318/v1/metrics");
  EXPECT_EQ(c.max_export_batch_size, 512u);
  EXPECT_EQ(c.schedule_delay.count(), 1000);
  EXPECT_EQ(c.metric_export_interval.count(), 60000);
  EXPECT_EQ(c.sampler.type, SamplerType::kParentBasedAlwaysOn);
}

TEST(OtlpConfig, EnvGeneralAndPerSignal) {
  OtlpConfig c;
  Status s = ApplyEnv(
      c, FakeEnv({
             {"OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4318/"},
             {"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://m:9090/custom/path"},
             {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
             {"OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Basic%20dXNlcjpwYXNz , x-tenant = acme"},
             {"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-tenant=traces"},
             {"OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"},
             {"OTEL_EXPORTER_OTLP_TIMEOUT", "2500"},
             {"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "700"},
             {"OTEL_EXPORTER_OTLP_CERTIFICATE", "/ca.pem"},
             {"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/c.pem"},
             {"OTEL_EXPORTER_OTLP_CLIENT_KEY", "/k.pem"},
             {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "100"},
             {"OTEL_BSP_SCHEDULE_DELAY", "250"},
             {"OTEL_METRIC_EXPORT_INTERVAL", "15000"},
             {"OTEL_TRACES_SAMPLER", "parentbased_traceidratio"},
             {"OTEL_TRACES_SAMPLER_ARG", "0.25"},
         }));
  ASSERT_TRUE(s.ok()) << s.message();
  auto t = ResolveSignal(c, Signal::kTraces);
  EXPECT_EQ(t.url, "https://collector:4318/v1/traces");
  EXPECT_EQ(t.protocol, Protocol::kHttpJson);
  ASSERT_EQ(t.headers.size(), 2u);
  EXPECT_EQ(t.headers[0].first, "Authorization");
  EXPECT_EQ(t.headers[0].second, "Basic dXNlcjpwYXNz");
  EXPECT_EQ(t.headers[1].second, "traces");  // per-signal header overrides the general one
  EXPECT_EQ(t.compression, Compression::kGzip);
  EXPECT_EQ(t.timeout.count(), 700);
  EXPECT_EQ(t.certificate, "/ca.pem");
  EXPECT_EQ(t.client_certificate, "/c.pem");
  EXPECT_EQ(t.client_key, "/k.pem");
  auto m = ResolveSignal(c, Signal::kMetrics);
  EXPECT_EQ(m.url, "http://m:9090/custom/path");  // used as-is
  EXPECT_EQ(m.timeout.count(), 2500);
  EXPECT_EQ(m.headers[1].second, "acme");
  EXPECT_EQ(c.max_export_batch_size, 100u);
  EXPECT_EQ(c.schedule_delay.count(), 250);
  EXPECT_EQ(c.metric_export_interval.count(), 15000);
  EXPECT_EQ(c.sampler.type, SamplerType::kParentBasedTraceIdRatio);
  EXPECT_DOUBLE_EQ(c.sampler.ratio, 0.25);
}

TEST(OtlpConfig, EnvGrpcDefaultPort) {
  OtlpConfig c;
  ASSERT_TRUE(ApplyEnv(c, FakeEnv({{"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"}})).ok());
  EXPECT_EQ(ResolveSignal(c, Signal::kTraces).url, "http://localhost:4317");
}

TEST(OtlpConfig, EnvBadValuesAreReportedAndSkipped) {
  OtlpConfig c;
  Status s = ApplyEnv(c, FakeEnv({{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/xml"},
                                  {"OTEL_EXPORTER_OTLP_TIMEOUT", "soon"},
                                  {"OTEL_EXPORTER_OTLP_COMPRESSION", "brotli"},
                                  {"OTEL_EXPORTER_OTLP_HEADERS", "novalue"},
                                  {"OTEL_TRACES_SAMPLER", "traceidratio"},
                                  {"OTEL_TRACES_SAMPLER_ARG", "1.5"},
                                  {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://ok:4318"}}));
  ASSERT_FALSE(s.ok());
  for (const char* name :
       {"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TIMEOUT",
        "OTEL_EXPORTER_OTLP_COMPRESSION", "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_TRACES_SAMPLER"}) {
    EXPECT_NE(s.message().find(name), std::string::npos) << s.message();
  }
  EXPECT_EQ(c.protocol, Protocol::kHttpProtobuf);
  EXPECT_EQ(c.timeout.count(), 10000);
  EXPECT_EQ(*c.endpoint, "http://ok:4318");  // valid ones still applied
}

TEST(OtlpConfig, EmptyEnvIsUnset) {
  OtlpConfig c;
  ASSERT_TRUE(ApplyEnv(c, FakeEnv({{"OTEL_EXPORTER_OTLP_ENDPOINT", ""}})).ok());
  EXPECT_FALSE(c.endpoint.has_value());
}

TEST(OtlpConfig, Yaml) {
  OtlpConfig c;
  YAML::Node n = YAML::Load(R"(
endpoint: http://collector:4318
protocol: http/json
headers:
  Authorization: Bearer abc
  x-team: core
compression: gzip
timeout_ms: 3000
traces_endpoint: http://t:1/x
metrics:
  protocol: http/protobuf
  timeout_ms: 500
max_queue_size: 4096
max_export_batch_size: 256
schedule_delay_ms: 200
max_retry_time_ms: 10000
metric_export_interval_ms: 30000
sampler: {type: traceidratio, arg: 0.5}
)");
  Status s = ApplyYaml(c, n);
  ASSERT_TRUE(s.ok()) << s.message();
  auto t = ResolveSignal(c, Signal::kTraces);
  EXPECT_EQ(t.url, "http://t:1/x");
  EXPECT_EQ(t.protocol, Protocol::kHttpJson);
  EXPECT_EQ(t.headers.size(), 2u);
  EXPECT_EQ(t.headers[0].second, "Bearer abc");
  EXPECT_EQ(t.timeout.count(), 3000);
  auto m = ResolveSignal(c, Signal::kMetrics);
  EXPECT_EQ(m.url, "http://collector:4318/v1/metrics");
  EXPECT_EQ(m.protocol, Protocol::kHttpProtobuf);
  EXPECT_EQ(m.timeout.count(), 500);
  EXPECT_EQ(c.max_queue_size, 4096u);
  EXPECT_EQ(c.max_export_batch_size, 256u);
  EXPECT_EQ(c.max_retry_time.count(), 10000);
  EXPECT_EQ(c.sampler.type, SamplerType::kTraceIdRatio);
  EXPECT_DOUBLE_EQ(c.sampler.ratio, 0.5);
}

TEST(OtlpConfig, YamlErrorsNameTheKey) {
  struct Case {
    const char* yaml;
    const char* expect;
  } cases[] = {
      {"protocol: udp", "otlp.protocol"},
      {"timeout_ms: -1", "otlp.timeout_ms"},
      {"timeout_ms: [1]", "otlp.timeout_ms"},
      {"compression: lz4", "otlp.compression"},
      {"endpont: http://x", "otlp.endpont: unknown key"},
      {"endpoint: collector:4318", "otlp.endpoint"},
      {"headers: [a, b]", "otlp.headers"},
      {"traces: {colour: red}", "otlp.traces.colour"},
      {"sampler: {type: sometimes}", "otlp.sampler"},
      {"max_queue_size: 0", "otlp.max_queue_size"},
      {"- a\n- b", "expected a map"},
  };
  for (const auto& c : cases) {
    OtlpConfig config;
    Status s = ApplyYaml(config, YAML::Load(c.yaml));
    ASSERT_FALSE(s.ok()) << c.yaml;
    EXPECT_NE(s.message().find(c.expect), std::string::npos) << c.yaml << " -> " << s.message();
  }
}

TEST(OtlpConfig, Headers) {
  auto h = ParseHeaders("a=1,b=x%3Dy%2Cz, c = spaced value ,,");
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 3u);
  EXPECT_EQ((*h)[1].second, "x=y,z");
  EXPECT_EQ((*h)[2].first, "c");
  EXPECT_EQ((*h)[2].second, "spaced value");
  EXPECT_FALSE(ParseHeaders("=v").ok());
  EXPECT_FALSE(ParseHeaders("bad header=v").ok());
  EXPECT_FALSE(ParseHeaders("k=line%0D%0Abreak").ok());  // no header injection
  EXPECT_TRUE(ParseHeaders("").ok());
}

TEST(OtlpConfig, ResourceAttributes) {
  auto a = ParseResourceAttributes("service.name=shop%20api,deployment.environment=prod,k=a%2Cb");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a->FindString("service.name"), "shop api");
  EXPECT_EQ(*a->FindString("deployment.environment"), "prod");
  EXPECT_EQ(*a->FindString("k"), "a,b");
  EXPECT_FALSE(ParseResourceAttributes("justakey").ok());
  auto env = ResourceAttributesFromEnv(
      FakeEnv({{"OTEL_RESOURCE_ATTRIBUTES", "service.name=a,team=x"}, {"OTEL_SERVICE_NAME", "b"}}));
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(*env->FindString("service.name"), "b");
  EXPECT_EQ(*env->FindString("team"), "x");
  EXPECT_EQ(PercentDecode("100%"), "100%");
  EXPECT_EQ(PercentDecode("%zz%41"), "%zzA");
}

TEST(OtlpHttp, RetryAfter) {
  auto now = std::chrono::system_clock::from_time_t(784111777);  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(ParseRetryAfter("3", now)->count(), 3000);
  EXPECT_EQ(ParseRetryAfter(" 0 ", now)->count(), 0);
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:47 GMT", now)->count(), 10000);
  EXPECT_EQ(ParseRetryAfter("Sunday, 06-Nov-94 08:49:57 GMT", now)->count(), 20000);
  EXPECT_EQ(ParseRetryAfter("Sun Nov  6 08:50:37 1994", now)->count(), 60000);
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:00:00 GMT", now)->count(), 0);  // past
  EXPECT_FALSE(ParseRetryAfter("soon", now).has_value());
  EXPECT_FALSE(ParseRetryAfter("5s", now).has_value());
}

TEST(OtlpHttp, GzipRoundTrip) {
  std::string data(100000, 'x');
  for (size_t i = 0; i < data.size(); i += 7) data[i] = static_cast<char>(i);
  auto gz = GzipCompress(data);
  ASSERT_TRUE(gz.ok());
  EXPECT_LT(gz->size(), data.size());
  EXPECT_EQ(static_cast<uint8_t>((*gz)[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<uint8_t>((*gz)[1]), 0x8b);
  auto back = GzipDecompress(*gz);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, data);
  EXPECT_FALSE(GzipDecompress(gz->substr(0, gz->size() / 2)).ok());
  EXPECT_FALSE(GzipDecompress(*gz, 1000).ok());  // bomb guard
}

TEST(OtlpHttp, Retryable) {
  for (int code : {0, 429, 502, 503, 504}) {
    HttpResponse r;
    r.status = code;
    EXPECT_TRUE(IsRetryable(r)) << code;
  }
  for (int code : {400, 401, 403, 404, 413, 500, 501}) {
    HttpResponse r;
    r.status = code;
    EXPECT_FALSE(IsRetryable(r)) << code;
  }
}

}  // namespace
}  // namespace wirespan::exporters::otlp
