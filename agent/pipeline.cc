#include "agent/pipeline.h"

namespace wirespan::agent {

Pipeline::Pipeline(EventSource& source, model::SpanSink& sink, ResourceProvider& resources,
                   const PipelineOptions& options)
    : source_(source),
      options_(options),
      trace_builder_(&sink, options.trace_options),
      tracker_(options, &trace_builder_, &resources, static_cast<int64_t>(source.ToUnixNanos(0))) {
  tap_.tracker = &tracker_;
}

Status Pipeline::Start() {
  Status s = source_.Start();
  // The clock offset is known once the source runs (live capture measures it at start).
  tracker_.set_clock_offset(static_cast<int64_t>(source_.ToUnixNanos(0)));
  return s;
}

StatusOr<size_t> Pipeline::RunOnce() {
  StatusOr<size_t> n = source_.Poll(tap_, options_.poll_timeout_ms);
  if (!n.ok()) return n;
  const uint64_t now = source_.NowNanos();
  if (now >= last_tick_ns_ + options_.tick_interval_ns) {
    last_tick_ns_ = now;
    tracker_.Tick(now);
    trace_builder_.Tick(source_.ToUnixNanos(now));
  }
  return n;
}

Status Pipeline::Run(const std::atomic<bool>& stop) {
  while (!stop.load(std::memory_order_relaxed)) {
    StatusOr<size_t> n = RunOnce();
    if (!n.ok()) {
      Finish();
      return n.status();
    }
    if (source_.Exhausted()) break;
  }
  Finish();
  return Status::Ok();
}

void Pipeline::Finish() {
  if (finished_) return;
  finished_ = true;
  tracker_.CloseAll(source_.NowNanos());
  trace_builder_.Flush();
  source_.Stop();
}

}  // namespace wirespan::agent
