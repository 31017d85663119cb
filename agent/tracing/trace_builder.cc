#include "agent/tracing/trace_builder.h"

#include <algorithm>

namespace wirespan::agent {
namespace {

bool Encloses(model::SpanKind kind) {
  return kind == model::SpanKind::kServer || kind == model::SpanKind::kConsumer;
}

bool IsCall(model::SpanKind kind) {
  return kind == model::SpanKind::kClient || kind == model::SpanKind::kProducer;
}

}  // namespace

TraceBuilder::TraceBuilder(model::SpanSink* next, TraceBuilderOptions options)
    : next_(next), options_(options) {}

void TraceBuilder::OnSpanStart(const model::SpanStart& start) {
  if (!Encloses(start.kind)) return;
  Process& p = processes_[start.tgid];
  for (const Request& r : p.requests) {
    if (r.conn_id == start.conn_id && r.start == start.start_time_unix_nano) return;
  }
  Request r;
  r.tid = start.tid;
  r.conn_id = start.conn_id;
  r.start = start.start_time_unix_nano;
  r.announced_at = std::max(latest_ns_, start.start_time_unix_nano);
  latest_ns_ = r.announced_at;
  // Keep start order: announcements come nearly sorted, so insert from the back.
  auto it = p.requests.end();
  while (it != p.requests.begin() && std::prev(it)->start > r.start) --it;
  p.requests.insert(it, r);
  if (p.requests.size() > options_.max_requests_per_process) {
    p.requests.pop_front();
    Resolve(p, /*force=*/false);
  }
}

void TraceBuilder::OnSpan(model::Span span) {
  latest_ns_ = std::max(latest_ns_, span.end_time_unix_nano);
  const uint32_t tgid = span.origin.tgid;
  if (Encloses(span.kind)) {
    auto pit = processes_.find(tgid);
    if (pit != processes_.end()) {
      Process& p = pit->second;
      bool found = false;
      for (Request& r : p.requests) {
        if (r.conn_id == span.origin.conn_id && r.start == span.start_time_unix_nano) {
          r.end = std::max(span.end_time_unix_nano, r.start);
          r.trace_id = span.trace_id;
          r.span_id = span.span_id;
          found = true;
          break;
        }
      }
      // A request that was never announced (its decoder does not announce) still counts as a
      // possible parent for spans decided from now on.
      if (!found && !p.held.empty()) {
        Request r;
        r.tid = span.origin.tid;
        r.conn_id = span.origin.conn_id;
        r.start = span.start_time_unix_nano;
        r.end = std::max(span.end_time_unix_nano, r.start);
        r.trace_id = span.trace_id;
        r.span_id = span.span_id;
        auto it = p.requests.end();
        while (it != p.requests.begin() && std::prev(it)->start > r.start) --it;
        p.requests.insert(it, r);
      }
      next_->OnSpan(std::move(span));
      Resolve(p, /*force=*/false);
      return;
    }
    next_->OnSpan(std::move(span));
    return;
  }
  // A call that already carries a parent (context the application propagated itself) keeps it.
  if (!IsCall(span.kind) || !model::IsZero(span.parent_span_id)) {
    next_->OnSpan(std::move(span));
    return;
  }
  auto pit = processes_.find(tgid);
  if (pit == processes_.end() || pit->second.requests.empty()) {
    Release(std::move(span), Verdict::kRoot, nullptr);
    return;
  }
  Process& p = pit->second;
  p.held.push_back(Held{std::move(span), latest_ns_});
  ++stats_.held;
  if (stats_.held > options_.max_held_spans) {
    ++stats_.released_on_pressure;
    Held oldest = std::move(p.held.front());
    p.held.pop_front();
    --stats_.held;
    Release(std::move(oldest.span), Verdict::kAmbiguous, nullptr);
  }
  Resolve(p, /*force=*/false);
}

TraceBuilder::Verdict TraceBuilder::Decide(const Process& process, const model::Span& span,
                                           const Request** parent) const {
  const Request* match = nullptr;
  int matches = 0;
  for (const Request& r : process.requests) {
    if (r.start > span.start_time_unix_nano) break;  // began after the call: not its cause
    if (r.tid != span.origin.tid) continue;          // another thread's request
    if (r.end == 0) return Verdict::kWait;           // in flight: may still contain the call
    if (r.end < span.end_time_unix_nano) continue;   // ended before the call did
    match = &r;
    ++matches;
  }
  if (matches == 1) {
    *parent = match;
    return Verdict::kParent;
  }
  return matches == 0 ? Verdict::kRoot : Verdict::kAmbiguous;
}

void TraceBuilder::Resolve(Process& process, bool force) {
  // Held spans are released in arrival order where possible, but one waiting on a long request
  // does not block the others.
  for (auto it = process.held.begin(); it != process.held.end();) {
    const Request* parent = nullptr;
    Verdict v = Decide(process, it->span, &parent);
    if (v == Verdict::kWait && !force) {
      ++it;
      continue;
    }
    if (v == Verdict::kWait) {
      v = Verdict::kAmbiguous;
      ++stats_.released_on_timeout;
    }
    model::Span span = std::move(it->span);
    it = process.held.erase(it);
    --stats_.held;
    Release(std::move(span), v, parent);
  }
}

void TraceBuilder::Release(model::Span span, Verdict verdict, const Request* parent) {
  switch (verdict) {
    case Verdict::kParent:
      span.trace_id = parent->trace_id;
      span.parent_span_id = parent->span_id;
      ++stats_.parented;
      break;
    case Verdict::kAmbiguous:
      span.attributes.Set("wirespan.parent", "unknown");
      ++stats_.ambiguous;
      break;
    case Verdict::kRoot:
    case Verdict::kWait:
      ++stats_.roots;
      break;
  }
  next_->OnSpan(std::move(span));
}

void TraceBuilder::Forget(Process& p, uint64_t now) {
  auto stale = [&](const Request& r) {
    if (r.end != 0) return r.end + options_.ended_retention_ns < now;
    return r.announced_at + options_.open_request_timeout_ns < now;
  };
  p.requests.erase(std::remove_if(p.requests.begin(), p.requests.end(), stale), p.requests.end());
}

void TraceBuilder::Tick(uint64_t now_unix_ns) {
  latest_ns_ = std::max(latest_ns_, now_unix_ns);
  for (auto it = processes_.begin(); it != processes_.end();) {
    Process& p = it->second;
    // Spans held too long are released: their request lost its response.
    while (!p.held.empty() && p.held.front().held_since + options_.max_hold_ns < latest_ns_) {
      Held h = std::move(p.held.front());
      p.held.pop_front();
      --stats_.held;
      const Request* parent = nullptr;
      Verdict v = Decide(p, h.span, &parent);
      if (v == Verdict::kWait) {
        v = Verdict::kAmbiguous;
        ++stats_.released_on_timeout;
      }
      Release(std::move(h.span), v, parent);
    }
    Forget(p, latest_ns_);
    Resolve(p, /*force=*/false);
    if (p.requests.empty() && p.held.empty()) {
      it = processes_.erase(it);
    } else {
      ++it;
    }
  }
}

void TraceBuilder::Flush() {
  for (auto& [tgid, p] : processes_) Resolve(p, /*force=*/true);
  processes_.clear();
}

}  // namespace wirespan::agent
