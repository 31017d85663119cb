#include <spdlog/spdlog.h>

#include "agent/cli/commands.h"
#include "agent/cli/common.h"
#include "agent/sources/pcap_source.h"
#include "agent/tracking/process_resources.h"

namespace wirespan::agent {

int RunReplay(const AgentConfig& config, const ReplayArgs& args) {
  PcapSourceConfig source_config;
  source_config.path = args.path;
  source_config.filter = args.filter;
  if (args.side == "client") source_config.sides = ReplaySides::kClient;
  if (args.side == "server") source_config.sides = ReplaySides::kServer;
  for (uint16_t port : config.ports) source_config.ports.push_back(port);
  PcapEventSource source(source_config);

  auto output = SpanOutput::Create(config);
  if (!output.ok()) {
    spdlog::error("{}", output.status().message());
    return 2;
  }
  if (Status s = (*output)->Start(); !s.ok()) {
    spdlog::error("{}", s.message());
    return 2;
  }
  StaticResourceProvider resources("replay");
  Pipeline pipeline(source, (*output)->sink(), resources, PipelineOptionsFrom(config));
  if (Status s = pipeline.Start(); !s.ok()) {
    spdlog::error("replay: {}", s.message());
    return 1;
  }
  Status s = pipeline.Run(StopRequested());
  const auto& t = pipeline.tracker().stats();
  metrics::SelfMetricsSnapshot snapshot;
  snapshot.events_read = source.stats().events;
  snapshot.connections_opened = t.connections_opened;
  snapshot.connections_closed = t.connections_closed;
  snapshot.connections_undetected = t.undetected;
  snapshot.stream_gap_bytes = t.stream_gap_bytes;
  (*output)->self_metrics().Publish(snapshot);
  (*output)->Shutdown(config.shutdown_timeout);
  spdlog::info("replay: {} connections, {} undetected, {} gap bytes", t.connections_opened,
               t.undetected, t.stream_gap_bytes);
  if (!s.ok()) {
    spdlog::error("replay: {}", s.message());
    return 1;
  }
  return 0;
}

}  // namespace wirespan::agent
