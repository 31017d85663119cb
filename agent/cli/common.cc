#include "agent/cli/common.h"

#include <csignal>

#include "agent/cli/commands.h"
#include "decoders/registry.h"
#include "exporters/console/console_exporter.h"

namespace wirespan::agent {
namespace {

class DiscardSink : public model::SpanSink {
 public:
  void OnSpan(model::Span) override {}
};

class ConsoleOutput : public SpanOutput {
 public:
  explicit ConsoleOutput(const std::string& print)
      : console_(print == "json" ? exporters::ConsoleFormat::kJson
                                 : exporters::ConsoleFormat::kText) {}
  model::SpanSink& sink() override { return console_; }

 private:
  exporters::ConsoleSpanExporter console_;
};

class NoOutput : public SpanOutput {
 public:
  model::SpanSink& sink() override { return discard_; }

 private:
  DiscardSink discard_;
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

StatusOr<std::unique_ptr<SpanOutput>> SpanOutput::Create(const AgentConfig& config) {
  if (config.print == "none") return std::unique_ptr<SpanOutput>(new NoOutput());
  return std::unique_ptr<SpanOutput>(new ConsoleOutput(config.print));
}

}  // namespace wirespan::agent
