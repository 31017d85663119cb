// Events in, spans out: an event source feeding connection tracking, driven by one thread.
#pragma once

#include <atomic>

#include "agent/sources/event_source.h"
#include "agent/tracking/connection_tracker.h"
#include "base/status.h"
#include "model/span.h"

namespace wirespan::agent {

struct PipelineOptions : TrackerOptions {
  uint64_t tick_interval_ns = 50'000'000;  // housekeeping cadence, in source time
  int poll_timeout_ms = 100;
};

class Pipeline {
 public:
  Pipeline(EventSource& source, model::SpanSink& sink, ResourceProvider& resources,
           const PipelineOptions& options);

  // Starts the source. Must be called before RunOnce/Run.
  Status Start();
  // One poll of the source plus housekeeping. Returns the number of events handled.
  StatusOr<size_t> RunOnce();
  // Runs until `stop` is set or a finite source is exhausted, then flushes every connection.
  Status Run(const std::atomic<bool>& stop);
  // Flushes every connection (pending responses, close-delimited bodies) and stops the source.
  void Finish();

  ConnectionTracker& tracker() { return tracker_; }
  const ConnectionTracker& tracker() const { return tracker_; }
  EventSource& source() { return source_; }

 private:
  EventSource& source_;
  PipelineOptions options_;
  ConnectionTracker tracker_;
  uint64_t last_tick_ns_ = 0;
  bool finished_ = false;
};

}  // namespace wirespan::agent
