#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>

#include "agent/cli/commands.h"
#include "agent/cli/common.h"
#include "agent/probe/bpf_event_source.h"
#include "agent/tracking/process_resources.h"
#include "agent/tracking/process_selector.h"
#include "decoders/registry.h"

namespace wirespan::agent {
namespace {

void LogKernelCounters(const BpfEventSource& source, const Pipeline& pipeline) {
  auto stats = source.KernelStats();
  if (!stats.ok()) return;
  const auto& k = *stats;
  const auto& t = pipeline.tracker().stats();
  spdlog::info(
      "events={} bytes_copied={} drops: ringbuf_full={} map_full={} copy_truncated={} "
      "read_failed={} iov_limit={} | prefiltered={} connections={} undetected={}",
      k[WS_STAT_EVENTS], k[WS_STAT_BYTES_COPIED], k[WS_STAT_RINGBUF_FULL], k[WS_STAT_MAP_FULL],
      k[WS_STAT_COPY_TRUNCATED], k[WS_STAT_READ_FAILED], k[WS_STAT_IOV_LIMIT],
      k[WS_STAT_PROTO_FILTERED], t.connections_opened, t.undetected);
}

// The pipeline thread's counters, copied for the exporters' threads.
metrics::SelfMetricsSnapshot TakeSnapshot(const BpfEventSource& source, const Pipeline& pipeline,
                                          const SpanOutput& output) {
  metrics::SelfMetricsSnapshot s;
  if (auto stats = source.KernelStats(); stats.ok()) {
    const auto& k = *stats;
    s.has_kernel_stats = true;
    s.events_submitted = k[WS_STAT_EVENTS];
    s.bytes_copied = k[WS_STAT_BYTES_COPIED];
    using metrics::KernelDrop;
    s.kernel_drops[static_cast<size_t>(KernelDrop::kRingBufferFull)] = k[WS_STAT_RINGBUF_FULL];
    s.kernel_drops[static_cast<size_t>(KernelDrop::kCopyTruncated)] = k[WS_STAT_COPY_TRUNCATED];
    s.kernel_drops[static_cast<size_t>(KernelDrop::kMapFull)] = k[WS_STAT_MAP_FULL];
    s.kernel_drops[static_cast<size_t>(KernelDrop::kReadFailed)] = k[WS_STAT_READ_FAILED];
    s.kernel_drops[static_cast<size_t>(KernelDrop::kIovecLimit)] = k[WS_STAT_IOV_LIMIT];
    s.protocol_prefiltered = k[WS_STAT_PROTO_FILTERED];
  }
  s.events_read = source.stats().events;
  const auto& tracker = pipeline.tracker();
  const auto& t = tracker.stats();
  s.connections_tracked = tracker.connection_count();
  s.connections_opened = t.connections_opened;
  s.connections_closed = t.connections_closed;
  s.connections_evicted_idle = t.evicted_idle;
  s.connections_evicted_capacity = t.evicted_capacity;
  s.connections_undetected = t.undetected;
  s.stream_gap_bytes = t.stream_gap_bytes;
  for (decoders::Protocol p : {decoders::Protocol::kHttp, decoders::Protocol::kPostgres,
                               decoders::Protocol::kRedis, decoders::Protocol::kAmqp}) {
    const auto& d = tracker.decoder_stats(p);
    metrics::ProtocolCounters c;
    c.protocol = decoders::ProtocolName(p);
    c.parse_errors = d.parse_errors;
    c.spans = d.spans;
    c.connections_detected = t.detected[static_cast<size_t>(p)];
    s.protocols.push_back(std::move(c));
  }
  const auto& tb = pipeline.trace_builder().stats();
  s.has_trace_stats = true;
  s.trace_parented = tb.parented;
  s.trace_ambiguous = tb.ambiguous;
  s.trace_roots = tb.roots;
  output.FillExportCounters(s);
  return s;
}

}  // namespace

int RunAgent(const AgentConfig& config, const RunArgs& args) {
  if (geteuid() != 0) {
    spdlog::error(
        "run: loading eBPF programs needs root (or CAP_BPF+CAP_PERFMON+CAP_SYS_RESOURCE)");
    return 2;
  }
  BpfSourceConfig sc;
  sc.max_copy_per_event = config.copy_bytes_per_event;
  sc.max_copy_per_syscall = config.max_copy_bytes_per_syscall;
  sc.ringbuf_bytes = uint64_t{config.ring_buffer_mib} << 20;
  sc.proto_filter = config.protocol_prefilter;
  sc.trace_all = config.pids.empty() && config.exe_globs.empty();
  sc.tgids = config.pids;
  sc.ports = config.ports;
  BpfEventSource source(sc);

  auto output = SpanOutput::Create(config);
  if (!output.ok()) {
    spdlog::error("{}", output.status().message());
    return 2;
  }
  if (Status s = (*output)->Start(); !s.ok()) {
    spdlog::error("{}", s.message());
    (*output)->Shutdown(std::chrono::milliseconds(0));
    return 2;
  }
  ProcResourceProvider resources;
  Pipeline pipeline(source, (*output)->sink(), resources, PipelineOptionsFrom(config));
  if (Status s = pipeline.Start(); !s.ok()) {
    spdlog::error("run: {} (see `wirespan doctor`)", s.message());
    (*output)->Shutdown(std::chrono::milliseconds(0));
    return 1;
  }
  std::unique_ptr<ProcessSelector> selector;
  if (!config.exe_globs.empty()) {
    selector = std::make_unique<ProcessSelector>(config.exe_globs, [&source](uint32_t tgid) {
      if (tgid == static_cast<uint32_t>(getpid())) return;
      if (Status s = source.AddTgid(tgid); !s.ok()) {
        spdlog::warn("cannot trace pid {}: {}", tgid, s.message());
      } else {
        spdlog::info("tracing pid {}", tgid);
      }
    });
    selector->ScanRunning();
    pipeline.set_proc_observer([&](const ProcEvent& e) { selector->OnProc(e); });
  }
  spdlog::info("wirespan running: {}; Ctrl-C stops",
               sc.trace_all ? "tracing every process" : "tracing selected processes");

  const auto started = std::chrono::steady_clock::now();
  auto last_stats = started;
  auto last_snapshot = started;
  (*output)->self_metrics().Publish(TakeSnapshot(source, pipeline, **output));
  const auto deadline = started + std::chrono::duration<double>(args.duration_s);
  int rc = 0;
  while (!StopRequested().load()) {
    StatusOr<size_t> n = pipeline.RunOnce();
    if (!n.ok()) {
      spdlog::error("run: {}", n.status().message());
      rc = 1;
      break;
    }
    const auto now = std::chrono::steady_clock::now();
    if (args.duration_s > 0 && now >= deadline) break;
    if (now - last_snapshot >= config.self_metrics_interval) {
      last_snapshot = now;
      (*output)->self_metrics().Publish(TakeSnapshot(source, pipeline, **output));
    }
    if (now - last_stats >= std::chrono::seconds(60)) {
      last_stats = now;
      LogKernelCounters(source, pipeline);
    }
  }
  LogKernelCounters(source, pipeline);
  // Counters before the probes go away; Finish() then flushes connections (their last spans go
  // to the exporters) and detaches every program.
  metrics::SelfMetricsSnapshot last = TakeSnapshot(source, pipeline, **output);
  pipeline.Finish();
  const auto& t = pipeline.tracker().stats();
  last.connections_tracked = pipeline.tracker().connection_count();
  last.connections_closed = t.connections_closed;
  (*output)->self_metrics().Publish(last);
  (*output)->Shutdown(config.shutdown_timeout);  // flush with a deadline
  spdlog::info("wirespan stopped; all BPF programs detached");
  return rc;
}

}  // namespace wirespan::agent
