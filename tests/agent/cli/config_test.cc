// Configuration of the agent: YAML `export:` section, WIRESPAN_* and OTEL_* environment, and
// the rules that decide where spans go. Errors must be one line naming the setting.
#include "agent/cli/config.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <map>
#include <string>

namespace wirespan::agent {
namespace {

using exporters::otlp::Protocol;
using exporters::otlp::Signal;

// getenv for tests: a static map the function pointer can reach.
std::map<std::string, std::string>& FakeEnv() {
  static std::map<std::string, std::string> env;
  return env;
}
const char* FakeGetenv(const char* name) {
  auto it = FakeEnv().find(name);
  return it == FakeEnv().end() ? nullptr : it->second.c_str();
}

class Config : public ::testing::Test {
 protected:
  void SetUp() override { FakeEnv().clear(); }
  Status Yaml(const std::string& text) { return ApplyYaml(YAML::Load(text), config); }
  Status Env(std::map<std::string, std::string> vars) {
    FakeEnv() = std::move(vars);
    return ApplyEnvironment(config, FakeGetenv);
  }
  AgentConfig config;
};

void ExpectOneLineError(const Status& s, const std::string& names) {
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(names), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
}

TEST_F(Config, ConsoleIsTheDefaultWithoutAnEndpoint) {
  ASSERT_TRUE(Validate(config).ok());
  EXPECT_FALSE(config.otlp_enabled);
  EXPECT_EQ(EffectivePrint(config), "text");
  EXPECT_TRUE(config.prometheus_listen.empty());
}

TEST_F(Config, EnvironmentEndpointTurnsOtlpOnAndConsoleOff) {
  ASSERT_TRUE(Env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"},
                   {"OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Basic%20YWJjOmRlZg=="},
                   {"OTEL_BSP_MAX_QUEUE_SIZE", "100"},
                   {"OTEL_METRIC_EXPORT_INTERVAL", "5000"}})
                  .ok());
  ASSERT_TRUE(Validate(config).ok());
  EXPECT_TRUE(config.otlp_enabled);
  EXPECT_EQ(EffectivePrint(config), "none");
  EXPECT_EQ(ResolveSignal(config.otlp, Signal::kTraces).url, "http://127.0.0.1:4318/v1/traces");
  EXPECT_EQ(ResolveSignal(config.otlp, Signal::kMetrics).url, "http://127.0.0.1:4318/v1/metrics");
  ASSERT_EQ(config.otlp.headers.size(), 1u);
  EXPECT_EQ(config.otlp.headers[0].second, "Basic YWJjOmRlZg==");
  EXPECT_EQ(config.otlp.max_queue_size, 100u);
  EXPECT_EQ(config.otlp.metric_export_interval, std::chrono::milliseconds(5000));
}

TEST_F(Config, PerSignalEndpointAloneTurnsOtlpOn) {
  ASSERT_TRUE(Env({{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4318/custom/traces"}}).ok());
  EXPECT_TRUE(config.otlp_enabled);
  EXPECT_EQ(ResolveSignal(config.otlp, Signal::kTraces).url, "http://c:4318/custom/traces");
}

TEST_F(Config, EmptyEndpointVariableIsUnset) {
  ASSERT_TRUE(Env({{"OTEL_EXPORTER_OTLP_ENDPOINT", ""}}).ok());
  EXPECT_FALSE(config.otlp_enabled);
}

TEST_F(Config, ExplicitPrintIsKeptAlongsideOtlp) {
  config.print = "json";
  ASSERT_TRUE(Env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"}}).ok());
  EXPECT_EQ(EffectivePrint(config), "json");
  ASSERT_TRUE(Env({{"WIRESPAN_PRINT", "text"}}).ok());
  EXPECT_EQ(EffectivePrint(config), "text");
}

TEST_F(Config, YamlExportSection) {
  ASSERT_TRUE(Yaml(R"(
export:
  otlp:
    endpoint: http://collector:4318
    protocol: http/json
    headers: {authorization: "Bearer x"}
    compression: gzip
    max_queue_size: 4096
  prometheus:
    listen: "[::1]:9999"
  metrics_interval: 15s
  shutdown_timeout: 2500ms
)")
                  .ok());
  ASSERT_TRUE(Validate(config).ok());
  EXPECT_TRUE(config.otlp_enabled);
  EXPECT_EQ(config.otlp.protocol, Protocol::kHttpJson);
  EXPECT_EQ(config.otlp.max_queue_size, 4096u);
  EXPECT_EQ(ResolveSignal(config.otlp, Signal::kTraces).url, "http://collector:4318/v1/traces");
  EXPECT_EQ(config.prometheus_listen, "[::1]:9999");
  EXPECT_EQ(config.otlp.metric_export_interval, std::chrono::seconds(15));
  EXPECT_EQ(config.shutdown_timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(EffectivePrint(config), "none");
}

TEST_F(Config, YamlShortForms) {
  ASSERT_TRUE(Yaml("export:\n  otlp:\n  prometheus: true\n").ok());
  EXPECT_TRUE(config.otlp_enabled);
  EXPECT_EQ(ResolveSignal(config.otlp, Signal::kTraces).url, "http://localhost:4318/v1/traces");
  EXPECT_EQ(config.prometheus_listen, kDefaultPrometheusListen);

  AgentConfig other;
  ASSERT_TRUE(
      ApplyYaml(YAML::Load("export:\n  otlp: http://c:4318\n  prometheus: 0.0.0.0:9464\n"), other)
          .ok());
  EXPECT_TRUE(other.otlp_enabled);
  EXPECT_EQ(other.otlp.endpoint.value_or(""), "http://c:4318");
  EXPECT_EQ(other.prometheus_listen, "0.0.0.0:9464");

  AgentConfig off;
  ASSERT_TRUE(
      ApplyYaml(YAML::Load("export:\n  otlp: {enabled: false, endpoint: \"http://c:4318\"}\n"
                           "  prometheus: {enabled: false}\n"),
                off)
          .ok());
  EXPECT_FALSE(off.otlp_enabled);
  EXPECT_TRUE(off.prometheus_listen.empty());
}

TEST_F(Config, EnvironmentWinsOverTheFile) {
  Status y = Yaml("export:\n  otlp: {endpoint: \"http://file:4318\", max_queue_size: 1000}\n");
  ASSERT_TRUE(y.ok()) << y.message();
  ASSERT_TRUE(Env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318"}}).ok());
  EXPECT_EQ(ResolveSignal(config.otlp, Signal::kTraces).url, "http://env:4318/v1/traces");
  EXPECT_EQ(config.otlp.max_queue_size, 1000u);
}

TEST_F(Config, SignalExporterVariables) {
  ASSERT_TRUE(
      Env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}, {"OTEL_METRICS_EXPORTER", "none"}})
          .ok());
  EXPECT_TRUE(config.otlp_enabled);
  EXPECT_TRUE(config.otlp_traces);
  EXPECT_FALSE(config.otlp_metrics);

  AgentConfig c2;
  config = c2;
  ASSERT_TRUE(
      Env({{"OTEL_TRACES_EXPORTER", "otlp"}, {"OTEL_METRICS_EXPORTER", "prometheus"}}).ok());
  EXPECT_TRUE(config.otlp_enabled);  // asked for by name: the default endpoint
  EXPECT_FALSE(config.otlp_metrics);
  EXPECT_EQ(config.prometheus_listen, kDefaultPrometheusListen);

  config = c2;
  ExpectOneLineError(Env({{"OTEL_TRACES_EXPORTER", "zipkin"}}), "OTEL_TRACES_EXPORTER");
}

TEST_F(Config, PrometheusFromEnvironment) {
  ASSERT_TRUE(Env({{"WIRESPAN_PROMETHEUS", "127.0.0.1:9100"}}).ok());
  EXPECT_EQ(config.prometheus_listen, "127.0.0.1:9100");
  ASSERT_TRUE(Env({{"WIRESPAN_PROMETHEUS", "on"}}).ok());
  EXPECT_EQ(config.prometheus_listen, kDefaultPrometheusListen);
  ASSERT_TRUE(Env({{"WIRESPAN_PROMETHEUS", "off"}}).ok());
  EXPECT_TRUE(config.prometheus_listen.empty());
}

TEST_F(Config, ErrorsNameTheSetting) {
  ExpectOneLineError(Yaml("export:\n  otlp: {endpont: x}\n"), "export.otlp.endpont");
  config = AgentConfig{};
  ExpectOneLineError(Yaml("export:\n  otlp: {protocol: carrier-pigeon}\n"), "export.otlp.protocol");
  config = AgentConfig{};
  ExpectOneLineError(Yaml("export:\n  promethues: {}\n"), "export.promethues");
  config = AgentConfig{};
  ExpectOneLineError(Yaml("export:\n  prometheus: {port: 1}\n"), "export.prometheus.port");
  config = AgentConfig{};
  ExpectOneLineError(Yaml("export:\n  metrics_interval: soon\n"), "export.metrics_interval");
  config = AgentConfig{};
  ExpectOneLineError(Env({{"OTEL_BSP_MAX_QUEUE_SIZE", "lots"}}), "OTEL_BSP_MAX_QUEUE_SIZE");
  config = AgentConfig{};
  ExpectOneLineError(Env({{"WIRESPAN_SHUTDOWN_TIMEOUT", "-1s"}}), "WIRESPAN_SHUTDOWN_TIMEOUT");

  config = AgentConfig{};
  config.prometheus_listen = "localhost";
  ExpectOneLineError(Validate(config), "export.prometheus.listen");
  config = AgentConfig{};
  config.otlp_enabled = true;
  config.otlp.endpoint = "collector:4318";
  ExpectOneLineError(Validate(config), "export.otlp");
  config = AgentConfig{};
  config.otlp_enabled = true;
  config.otlp.protocol = Protocol::kGrpc;
  ExpectOneLineError(Validate(config), "grpc");
  config = AgentConfig{};
  config.print = "yaml";
  ExpectOneLineError(Validate(config), "print");
}

TEST_F(Config, Durations) {
  EXPECT_EQ(ParseDuration("x", "250ms").value(), std::chrono::milliseconds(250));
  EXPECT_EQ(ParseDuration("x", "10s").value(), std::chrono::seconds(10));
  EXPECT_EQ(ParseDuration("x", "2m").value(), std::chrono::minutes(2));
  EXPECT_EQ(ParseDuration("x", "1.5").value(), std::chrono::milliseconds(1500));
  EXPECT_EQ(ParseDuration("x", " 3s ").value(), std::chrono::seconds(3));
  for (const char* bad : {"", "s", "ten", "5 parsecs", "-2s", "1e400"}) {
    auto d = ParseDuration("some.setting", bad);
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_NE(d.status().message().find("some.setting"), std::string::npos);
  }
}

TEST_F(Config, OldKeysStillWork) {
  ASSERT_TRUE(Yaml("select: {pids: [1, 2]}\nprint: json\ncapture: {ring_buffer_mib: 8}\n").ok());
  ASSERT_TRUE(Validate(config).ok());
  EXPECT_EQ(config.pids.size(), 2u);
  EXPECT_EQ(EffectivePrint(config), "json");
  EXPECT_EQ(config.ring_buffer_mib, 8u);
  ExpectOneLineError(Yaml("exports: {}\n"), "exports");
}

}  // namespace
}  // namespace wirespan::agent
