// The whole agent in-process on the real kernel: BPF capture of selected processes, tracking,
// decoding, spans collected in memory. Tests using it need root.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "agent/pipeline.h"
#include "agent/probe/bpf_event_source.h"
#include "agent/tracking/process_resources.h"
#include "tests/support/replay.h"

namespace wirespan::testing {

class LiveAgent {
 public:
  static StatusOr<std::unique_ptr<LiveAgent>> Start(const agent::PipelineOptions& options = {},
                                                    agent::BpfSourceConfig source_config = {});
  ~LiveAgent();

  // Starts tracing a process (and, from now on, its threads).
  void Trace(uint32_t tgid);
  // Waits until `done(spans)` holds or the timeout passes; returns the spans collected.
  std::vector<model::Span> WaitFor(std::function<bool(const std::vector<model::Span>&)> done,
                                   std::chrono::milliseconds timeout);
  std::vector<model::Span> Spans() const { return sink_.Snapshot(); }
  // Sum of the kernel's drop counters: ring buffer full, map full, copy truncated, failed reads,
  // iovec limit.
  uint64_t KernelDrops();
  StatusOr<agent::ProbeManager::Stats> KernelStats();
  decoders::DecoderStats StatsFor(decoders::Protocol protocol);
  agent::TrackerStats TrackerStats();
  // Stops capture and flushes every connection (pending spans are emitted).
  void Stop();

 private:
  LiveAgent(const agent::PipelineOptions& options, agent::BpfSourceConfig source_config);
  void Loop();

  agent::BpfEventSource source_;
  CollectingSink sink_;
  agent::ProcResourceProvider resources_;
  agent::Pipeline pipeline_;
  std::mutex mu_;  // held while the pipeline runs one step; stats readers take it too
  std::atomic<bool> stop_{false};
  std::thread thread_;
  bool stopped_ = false;
  // Read just before the probes are destroyed, so tests can check drops after Stop().
  StatusOr<agent::ProbeManager::Stats> final_kernel_stats_ = Status::Error("not stopped");
};

}  // namespace wirespan::testing
