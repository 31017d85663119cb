// Pieces the run and replay commands share: pipeline options and span output from the config.
#pragma once

#include <memory>

#include "agent/cli/config.h"
#include "agent/pipeline.h"
#include "model/span.h"

namespace wirespan::agent {

PipelineOptions PipelineOptionsFrom(const AgentConfig& config);

// Where spans go: the console printer unless a collector is configured.
class SpanOutput {
 public:
  static StatusOr<std::unique_ptr<SpanOutput>> Create(const AgentConfig& config);
  virtual ~SpanOutput() = default;
  virtual model::SpanSink& sink() = 0;
  // Flushes buffered spans (bounded wait) before exit.
  virtual void Shutdown() {}
};

}  // namespace wirespan::agent
