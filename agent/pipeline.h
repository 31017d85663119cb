// Events in, spans out: an event source feeding connection tracking and decoding, spans linked
// into traces, all driven by one thread.
#pragma once

#include <atomic>
#include <functional>

#include "agent/sources/event_source.h"
#include "agent/tracing/trace_builder.h"
#include "agent/tracking/connection_tracker.h"
#include "base/status.h"
#include "model/span.h"

namespace wirespan::agent {

struct PipelineOptions : TrackerOptions {
  TraceBuilderOptions trace_options;
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

  // Sees every process event before tracking does (process selection by executable uses it).
  void set_proc_observer(std::function<void(const ProcEvent&)> observer) {
    tap_.observer = std::move(observer);
  }

  ConnectionTracker& tracker() { return tracker_; }
  const ConnectionTracker& tracker() const { return tracker_; }
  const TraceBuilder& trace_builder() const { return trace_builder_; }
  EventSource& source() { return source_; }

 private:
  // Forwards to tracking, letting the observer see process events first.
  struct Tap : EventSink {
    ConnectionTracker* tracker = nullptr;
    std::function<void(const ProcEvent&)> observer;
    void OnConn(const ConnEvent& e) override { tracker->OnConn(e); }
    void OnData(const DataEvent& e) override { tracker->OnData(e); }
    void OnProc(const ProcEvent& e) override {
      if (observer) observer(e);
      tracker->OnProc(e);
    }
  };

  EventSource& source_;
  PipelineOptions options_;
  TraceBuilder trace_builder_;  // between decoding and the caller's sink: links parents
  ConnectionTracker tracker_;
  Tap tap_;
  uint64_t last_tick_ns_ = 0;
  bool finished_ = false;
};

}  // namespace wirespan::agent
