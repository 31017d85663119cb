// Pieces the run and replay commands share: pipeline options, and where spans and metrics go.
#pragma once

#include <chrono>
#include <memory>

#include "agent/cli/config.h"
#include "agent/metrics/self_metrics.h"
#include "agent/pipeline.h"
#include "model/metrics.h"
#include "model/span.h"

namespace wirespan::agent {

PipelineOptions PipelineOptionsFrom(const AgentConfig& config);

// The agent's own resource (self-metrics, and anything without a traced process): service.name
// "wirespan" unless OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES in the agent's environment say
// otherwise, service.instance.id, host.name, process.pid, telemetry.distro.*.
std::shared_ptr<const model::Resource> AgentResource();

// Where spans and metrics go, from the configuration:
//
//   pipeline -> RedMetrics -> { OtlpSpanExporter (OTLP configured), console printer (print) }
//   metrics:  { RedMetrics, SelfMetrics } -> { OtlpMetricExporter, PrometheusServer }
//
// The console printer is the default when no OTLP endpoint is configured; `print` can add it to
// OTLP export. The Prometheus endpoint works in both modes.
class SpanOutput {
 public:
  static StatusOr<std::unique_ptr<SpanOutput>> Create(const AgentConfig& config);
  virtual ~SpanOutput() = default;

  // What the pipeline writes spans to. Never blocks on export.
  virtual model::SpanSink& sink() = 0;
  // The agent's self-metrics (publish snapshots from the pipeline thread).
  virtual metrics::SelfMetrics& self_metrics() = 0;
  // Copies the exporters' counters into a snapshot (any thread).
  virtual void FillExportCounters(metrics::SelfMetricsSnapshot& snapshot) const = 0;
  // Starts listeners (Prometheus). Errors name the setting.
  virtual Status Start() { return Status::Ok(); }
  // Flushes spans, then a last metric export, within `deadline` in total; stops the listeners.
  virtual void Shutdown(std::chrono::milliseconds /*deadline*/) {}
};

}  // namespace wirespan::agent
