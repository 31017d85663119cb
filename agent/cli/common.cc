#include "agent/cli/common.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <csignal>

#include "agent/cli/commands.h"
#include "agent/metrics/red_metrics.h"
#include "decoders/registry.h"
#include "exporters/console/console_exporter.h"
#include "exporters/otlp/metric_exporter.h"
#include "exporters/otlp/span_exporter.h"
#include "exporters/prometheus/server.h"
#include "wirespan/version.h"

namespace wirespan::agent {
namespace {

using Clock = std::chrono::steady_clock;

// Every span to each of several sinks (the last one gets the original).
class TeeSink : public model::SpanSink {
 public:
  void Add(model::SpanSink* sink) {
    if (sink != nullptr) sinks_.push_back(sink);
  }
  void OnSpan(model::Span span) override {
    for (size_t i = 0; i + 1 < sinks_.size(); ++i) sinks_[i]->OnSpan(span);
    if (!sinks_.empty()) sinks_.back()->OnSpan(std::move(span));
  }

 private:
  std::vector<model::SpanSink*> sinks_;
};

// Shared ownership of a sink owned elsewhere (RedMetrics wants a shared_ptr to its next sink).
std::shared_ptr<model::SpanSink> Borrow(model::SpanSink* sink) {
  return std::shared_ptr<model::SpanSink>(sink, [](model::SpanSink*) {});
}

void CopyStats(const exporters::otlp::ExporterStats& s, metrics::ExportCounters& c) {
  c.present = true;
  c.exported = s.exported;
  c.dropped_queue_full = s.dropped_queue_full;
  c.dropped_shutdown = s.dropped_shutdown;
  c.sampled_out = s.sampled_out;
  c.failed = s.failed;
  c.rejected = s.rejected;
  c.requests = s.requests;
  c.retries = s.retries;
  c.export_failures = s.export_failures;
  c.bytes_sent = s.bytes_sent;
  c.queue_size = s.queue_size;
  c.queue_capacity = s.queue_capacity;
}

class Outputs : public SpanOutput {
 public:
  explicit Outputs(const AgentConfig& config) : config_(config) {}

  Status Init() {
    agent_resource_ = AgentResource();
    self_ = std::make_shared<metrics::SelfMetrics>(agent_resource_);
    producers_ = std::make_shared<model::MetricProducerSet>();

    exporters::otlp::EncodeOptions encode;
    encode.default_resource = agent_resource_;
    if (config_.otlp_enabled && config_.otlp_traces) {
      auto spans = exporters::otlp::OtlpSpanExporter::Create(config_.otlp, encode);
      if (!spans.ok()) return Status::Error("export.otlp (traces): " + spans.status().message());
      otlp_spans_ = std::move(spans.value());
      tee_.Add(otlp_spans_.get());
    }
    const std::string print = EffectivePrint(config_);
    if (print == "text" || print == "json") {
      console_ = std::make_unique<exporters::ConsoleSpanExporter>(
          print == "json" ? exporters::ConsoleFormat::kJson : exporters::ConsoleFormat::kText);
      tee_.Add(console_.get());
    }
    red_ = std::make_shared<metrics::RedMetrics>(Borrow(&tee_));
    producers_->Add(red_);
    producers_->Add(self_);
    if (config_.otlp_enabled && config_.otlp_metrics) {
      auto m = exporters::otlp::OtlpMetricExporter::Create(config_.otlp, producers_, encode);
      if (!m.ok()) return Status::Error("export.otlp (metrics): " + m.status().message());
      otlp_metrics_ = std::move(m.value());
    }
    if (config_.otlp_enabled) {
      using exporters::otlp::Signal;
      spdlog::info("OTLP export ({}): traces {}, metrics {} every {} ms",
                   exporters::otlp::ProtocolName(config_.otlp.protocol),
                   otlp_spans_ ? ResolveSignal(config_.otlp, Signal::kTraces).url : "off",
                   otlp_metrics_ ? ResolveSignal(config_.otlp, Signal::kMetrics).url : "off",
                   config_.otlp.metric_export_interval.count());
    }
    return Status::Ok();
  }

  Status Start() override {
    if (config_.prometheus_listen.empty()) return Status::Ok();
    exporters::prometheus::ServerOptions options;
    if (Status s = exporters::prometheus::ParseListenAddress(config_.prometheus_listen, options);
        !s.ok()) {
      return Status::Error("export.prometheus.listen: " + s.message());
    }
    prometheus_ = std::make_unique<exporters::prometheus::PrometheusServer>(options, producers_);
    if (Status s = prometheus_->Start(); !s.ok()) {
      prometheus_.reset();
      return Status::Error(fmt::format("export.prometheus.listen: cannot serve on {}: {}",
                                       config_.prometheus_listen, s.message()));
    }
    return Status::Ok();
  }

  model::SpanSink& sink() override { return *red_; }
  metrics::SelfMetrics& self_metrics() override { return *self_; }

  void FillExportCounters(metrics::SelfMetricsSnapshot& s) const override {
    if (otlp_spans_) CopyStats(otlp_spans_->stats(), s.spans);
    if (otlp_metrics_) CopyStats(otlp_metrics_->stats(), s.metrics);
  }

  void Shutdown(std::chrono::milliseconds deadline) override {
    const auto end = Clock::now() + deadline;
    auto left = [&] {
      return std::max(std::chrono::milliseconds(0),
                      std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()));
    };
    if (otlp_spans_) {
      otlp_spans_->Shutdown(left());
      const auto st = otlp_spans_->stats();
      spdlog::info(
          "spans: exported={} dropped_queue_full={} dropped_shutdown={} failed={} "
          "export_failures={}",
          st.exported, st.dropped_queue_full, st.dropped_shutdown, st.failed, st.export_failures);
    }
    // The last self-metrics snapshot carries the span exporter's final counters.
    metrics::SelfMetricsSnapshot snap = self_->Latest();
    FillExportCounters(snap);
    self_->Publish(snap);
    if (otlp_metrics_) otlp_metrics_->Shutdown(std::max(left(), std::chrono::milliseconds(200)));
    if (prometheus_) prometheus_->Stop();
  }

 private:
  AgentConfig config_;
  std::shared_ptr<const model::Resource> agent_resource_;
  std::shared_ptr<metrics::SelfMetrics> self_;
  std::shared_ptr<model::MetricProducerSet> producers_;
  std::unique_ptr<exporters::otlp::OtlpSpanExporter> otlp_spans_;
  std::unique_ptr<exporters::ConsoleSpanExporter> console_;
  TeeSink tee_;
  std::shared_ptr<metrics::RedMetrics> red_;
  std::unique_ptr<exporters::otlp::OtlpMetricExporter> otlp_metrics_;
  std::unique_ptr<exporters::prometheus::PrometheusServer> prometheus_;
};

void OnStopSignal(int) { StopRequested().store(true); }

}  // namespace

std::atomic<bool>& StopRequested() {
  static std::atomic<bool> stop{false};
  return stop;
}

void InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking poll returns so the loop sees the flag
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

PipelineOptions PipelineOptionsFrom(const AgentConfig& config) {
  PipelineOptions o;
  o.decoder_options.sanitize_queries = config.sanitize_queries;
  o.decoder_options.max_query_text_bytes = config.max_query_text_bytes;
  for (const auto& p : config.protocols) o.protocols.push_back(decoders::ProtocolFromName(p));
  o.max_connections = config.max_connections;
  o.idle_timeout_ns = uint64_t{config.idle_timeout_s} * 1'000'000'000;
  return o;
}

std::shared_ptr<const model::Resource> AgentResource() {
  auto resource = std::make_shared<model::Resource>();
  auto& a = resource->attributes;
  char host[256] = {};
  std::string host_name;
  if (gethostname(host, sizeof(host) - 1) == 0) host_name = host;
  a.Set("service.name", "wirespan");
  a.Set("service.version", WIRESPAN_VERSION);
  a.Set("service.instance.id", host_name + "/" + std::to_string(getpid()));
  if (!host_name.empty()) a.Set("host.name", host_name);
  a.Set("process.pid", int64_t{getpid()});
  a.Set("process.executable.name", "wirespan");
  a.Set("telemetry.distro.name", "wirespan");
  a.Set("telemetry.distro.version", WIRESPAN_VERSION);
  auto from_env = exporters::otlp::ResourceAttributesFromEnv();
  if (from_env.ok()) {
    for (const auto& item : from_env->items()) {
      std::visit([&](const auto& v) { a.Set(item.key, v); }, item.value);
    }
  } else {
    spdlog::warn("{} (ignored for the agent's own resource)", from_env.status().message());
  }
  return resource;
}

StatusOr<std::unique_ptr<SpanOutput>> SpanOutput::Create(const AgentConfig& config) {
  auto out = std::make_unique<Outputs>(config);
  if (Status s = out->Init(); !s.ok()) return s;
  return std::unique_ptr<SpanOutput>(std::move(out));
}

}  // namespace wirespan::agent
