#include "tests/support/live_agent.h"

namespace wirespan::testing {

namespace {
agent::BpfSourceConfig Selective(agent::BpfSourceConfig config) {
  config.trace_all = false;
  return config;
}
}  // namespace

LiveAgent::LiveAgent(const agent::PipelineOptions& options, agent::BpfSourceConfig source_config)
    : source_(Selective(std::move(source_config))), pipeline_(source_, sink_, resources_, [&] {
        agent::PipelineOptions o = options;
        o.poll_timeout_ms = 20;
        return o;
      }()) {}

StatusOr<std::unique_ptr<LiveAgent>> LiveAgent::Start(const agent::PipelineOptions& options,
                                                      agent::BpfSourceConfig source_config) {
  std::unique_ptr<LiveAgent> agent(new LiveAgent(options, std::move(source_config)));
  if (Status s = agent->pipeline_.Start(); !s.ok()) return s;
  agent->thread_ = std::thread([a = agent.get()] { a->Loop(); });
  return agent;
}

LiveAgent::~LiveAgent() { Stop(); }

void LiveAgent::Loop() {
  while (!stop_.load()) {
    std::lock_guard lock(mu_);
    StatusOr<size_t> n = pipeline_.RunOnce();
    if (!n.ok()) break;
  }
}

void LiveAgent::Trace(uint32_t tgid) { (void)source_.AddTgid(tgid); }

std::vector<model::Span> LiveAgent::WaitFor(
    std::function<bool(const std::vector<model::Span>&)> done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::vector<model::Span> spans = sink_.Snapshot();
    if (done(spans) || std::chrono::steady_clock::now() >= deadline) return spans;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

StatusOr<agent::ProbeManager::Stats> LiveAgent::KernelStats() {
  std::lock_guard lock(mu_);
  if (stopped_) return final_kernel_stats_;
  return source_.KernelStats();
}

uint64_t LiveAgent::KernelDrops() {
  auto stats = KernelStats();
  if (!stats.ok()) return ~uint64_t{0};
  const auto& k = *stats;
  return k[WS_STAT_RINGBUF_FULL] + k[WS_STAT_MAP_FULL] + k[WS_STAT_COPY_TRUNCATED] +
         k[WS_STAT_READ_FAILED] + k[WS_STAT_IOV_LIMIT];
}

decoders::DecoderStats LiveAgent::StatsFor(decoders::Protocol protocol) {
  std::lock_guard lock(mu_);
  return pipeline_.tracker().decoder_stats(protocol);
}

agent::TrackerStats LiveAgent::TrackerStats() {
  std::lock_guard lock(mu_);
  return pipeline_.tracker().stats();
}

void LiveAgent::Stop() {
  if (stopped_) return;
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  stopped_ = true;
  // Drain what the ring still holds, then flush every connection.
  for (int i = 0; i < 50; ++i) {
    StatusOr<size_t> n = pipeline_.RunOnce();
    if (!n.ok() || *n == 0) break;
  }
  final_kernel_stats_ = source_.KernelStats();
  pipeline_.Finish();
}

}  // namespace wirespan::testing
