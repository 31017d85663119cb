// Trace building, first level: a client span (SQL, Redis, publish, outgoing HTTP) becomes the
// child of the server or consumer span its thread was serving when the call was made.
//
// Spans arrive when they end, children before their parent. Server and consumer spans announce
// their start (SpanSink::OnSpanStart), so while a request is in flight its thread's client spans
// are held; when the requests that could contain a held span have all ended, it gets its parent:
//   * exactly one request on the same thread contains it in time -> that request is its parent;
//   * several do (an event loop serving concurrent requests) -> it stays a root span, marked
//     wirespan.parent=unknown, because a wrong parent is worse than none;
//   * none does -> it is a root span (a background job, a daemon's own work).
// Server and consumer spans pass straight through; nothing waits for a whole trace.
#pragma once

#include <cstdint>
#include <deque>
#include <unordered_map>

#include "model/span.h"

namespace wirespan::agent {

struct TraceBuilderOptions {
  // A held span whose enclosing request never ends (lost response) is released after this.
  uint64_t max_hold_ns = 30'000'000'000;
  // Ended requests are remembered this long for client spans still being decoded.
  uint64_t ended_retention_ns = 10'000'000'000;
  // Requests announced but never ended are forgotten after this.
  uint64_t open_request_timeout_ns = 300'000'000'000;
  size_t max_held_spans = 65536;
  size_t max_requests_per_process = 4096;
};

struct TraceBuilderStats {
  uint64_t parented = 0;   // client spans given a parent
  uint64_t ambiguous = 0;  // several candidate parents: left as roots, marked unknown
  uint64_t roots = 0;      // no request in flight on their thread
  uint64_t released_on_timeout = 0;
  uint64_t released_on_pressure = 0;
  uint64_t held = 0;  // currently held
};

class TraceBuilder : public model::SpanSink {
 public:
  explicit TraceBuilder(model::SpanSink* next, TraceBuilderOptions options = {});

  void OnSpanStart(const model::SpanStart& start) override;
  void OnSpan(model::Span span) override;
  // Releases spans held past their deadline; `now_unix_ns` follows the event source's clock.
  void Tick(uint64_t now_unix_ns);
  // Releases everything held (shutdown, end of a replay).
  void Flush();

  const TraceBuilderStats& stats() const { return stats_; }

 private:
  struct Request {
    uint32_t tid = 0;
    uint64_t conn_id = 0;
    uint64_t start = 0;
    uint64_t end = 0;  // 0 while in flight
    model::TraceId trace_id{};
    model::SpanId span_id{};
    uint64_t announced_at = 0;
  };
  struct Held {
    model::Span span;
    uint64_t held_since = 0;
  };
  struct Process {
    std::deque<Request> requests;  // in start order
    std::deque<Held> held;
  };
  enum class Verdict { kWait, kParent, kAmbiguous, kRoot };

  Verdict Decide(const Process& process, const model::Span& span, const Request** parent) const;
  void Resolve(Process& process, bool force);
  void Release(model::Span span, Verdict verdict, const Request* parent);
  void Forget(Process& process, uint64_t now_unix_ns);

  model::SpanSink* next_;
  TraceBuilderOptions options_;
  std::unordered_map<uint32_t, Process> processes_;
  uint64_t latest_ns_ = 0;  // latest time seen in any span: the builder's notion of now
  TraceBuilderStats stats_;
};

}  // namespace wirespan::agent
