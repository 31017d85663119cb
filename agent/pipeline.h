// Events in, spans out: an event source feeding connection tracking, driven by one thread.
#pragma once

#include <atomic>
#include <functional>

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

  // Sees every process event before tracking does (process selection by executable uses it).
  void set_proc_observer(std::function<void(const ProcEvent&)> observer) {
    tap_.observer = std::move(observer);
  }

  ConnectionTracker& tracker() { return tracker_; }
  const ConnectionTracker& tracker() const { return tracker_; }
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
  ConnectionTracker tracker_;
  Tap tap_;
  uint64_t last_tick_ns_ = 0;
  bool finished_ = false;
};

}  // namespace wirespan::agent
