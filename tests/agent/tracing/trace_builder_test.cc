#include "agent/tracing/trace_builder.h"

#include <gtest/gtest.h>

#include <vector>

namespace wirespan::agent {
namespace {

using model::Span;
using model::SpanKind;

class Collect : public model::SpanSink {
 public:
  void OnSpan(Span span) override { spans.push_back(std::move(span)); }
  std::vector<Span> spans;
  const Span* Named(const std::string& name) const {
    for (const auto& s : spans) {
      if (s.name == name) return &s;
    }
    return nullptr;
  }
};

constexpr uint32_t kPid = 10;

Span MakeSpan(const std::string& name, SpanKind kind, uint64_t start, uint64_t end, uint32_t tid,
              uint64_t conn) {
  Span s;
  s.name = name;
  s.kind = kind;
  s.trace_id = model::NewTraceId();
  s.span_id = model::NewSpanId();
  s.start_time_unix_nano = start;
  s.end_time_unix_nano = end;
  s.origin.tgid = kPid;
  s.origin.tid = tid;
  s.origin.conn_id = conn;
  return s;
}

model::SpanStart Started(uint64_t start, uint32_t tid, uint64_t conn) {
  return model::SpanStart{kPid, tid, conn, start, SpanKind::kServer};
}

bool IsChildOf(const Span& child, const Span& parent) {
  return child.parent_span_id == parent.span_id && child.trace_id == parent.trace_id;
}

TEST(TraceBuilder, ClientCallDuringARequestBecomesItsChild) {
  Collect out;
  TraceBuilder tb(&out);
  tb.OnSpanStart(Started(100, 1, 1));
  tb.OnSpan(MakeSpan("SELECT", SpanKind::kClient, 110, 120, 1, 2));
  EXPECT_TRUE(out.spans.empty()) << "held while its request is in flight";
  Span server = MakeSpan("GET", SpanKind::kServer, 100, 200, 1, 1);
  tb.OnSpan(server);
  ASSERT_EQ(out.spans.size(), 2u);
  ASSERT_NE(out.Named("SELECT"), nullptr);
  EXPECT_TRUE(IsChildOf(*out.Named("SELECT"), server));
  EXPECT_EQ(tb.stats().parented, 1u);
}

TEST(TraceBuilder, ThreadsServingDifferentRequestsGetTheirOwnParents) {
  Collect out;
  TraceBuilder tb(&out);
  tb.OnSpanStart(Started(100, 1, 1));
  tb.OnSpanStart(Started(105, 2, 2));
  tb.OnSpan(MakeSpan("q1", SpanKind::kClient, 110, 120, 1, 3));
  tb.OnSpan(MakeSpan("q2", SpanKind::kClient, 111, 121, 2, 4));
  Span a = MakeSpan("A", SpanKind::kServer, 100, 200, 1, 1);
  Span b = MakeSpan("B", SpanKind::kServer, 105, 210, 2, 2);
  tb.OnSpan(a);
  tb.OnSpan(b);
  EXPECT_TRUE(IsChildOf(*out.Named("q1"), a));
  EXPECT_TRUE(IsChildOf(*out.Named("q2"), b));
}

TEST(TraceBuilder, ConcurrentRequestsOnOneEventLoopLeaveTheCallUnparented) {
  Collect out;
  TraceBuilder tb(&out);
  tb.OnSpanStart(Started(100, 1, 1));
  tb.OnSpanStart(Started(105, 1, 2));
  tb.OnSpan(MakeSpan("q", SpanKind::kClient, 110, 120, 1, 3));
  tb.OnSpan(MakeSpan("A", SpanKind::kServer, 100, 200, 1, 1));
  EXPECT_EQ(out.Named("q"), nullptr) << "B may still contain it";
  tb.OnSpan(MakeSpan("B", SpanKind::kServer, 105, 210, 1, 2));
  const Span* q = out.Named("q");
  ASSERT_NE(q, nullptr);
  EXPECT_TRUE(model::IsZero(q->parent_span_id));
  EXPECT_EQ(q->attributes.FindString("wirespan.parent")[0], "unknown");
  EXPECT_EQ(tb.stats().ambiguous, 1u);
}

TEST(TraceBuilder, OnlyTheRequestThatContainsTheCallCanBeItsParent) {
  Collect out;
  TraceBuilder tb(&out);
  // A runs 100..150; B starts at 160. A call at 120..130 can only be A's.
  tb.OnSpanStart(Started(100, 1, 1));
  tb.OnSpan(MakeSpan("q", SpanKind::kClient, 120, 130, 1, 3));
  tb.OnSpanStart(Started(160, 1, 2));
  Span a = MakeSpan("A", SpanKind::kServer, 100, 150, 1, 1);
  tb.OnSpan(a);
  ASSERT_NE(out.Named("q"), nullptr);
  EXPECT_TRUE(IsChildOf(*out.Named("q"), a));
}

TEST(TraceBuilder, CallsWithNoRequestInFlightAreRootsAtOnce) {
  Collect out;
  TraceBuilder tb(&out);
  tb.OnSpan(MakeSpan("cron", SpanKind::kClient, 10, 20, 1, 1));
  ASSERT_EQ(out.spans.size(), 1u);
  EXPECT_TRUE(model::IsZero(out.spans[0].parent_span_id));
  EXPECT_EQ(out.spans[0].attributes.Find("wirespan.parent"), nullptr);
}

TEST(TraceBuilder, ACallThatOutlivesTheRequestIsNotItsChild) {
  Collect out;
  TraceBuilder tb(&out);
  tb.OnSpanStart(Started(100, 1, 1));
  tb.OnSpan(MakeSpan("A", SpanKind::kServer, 100, 150, 1, 1));
  tb.OnSpan(MakeSpan("late", SpanKind::kClient, 140, 400, 1, 3));
  ASSERT_NE(out.Named("late"), nullptr);
  EXPECT_TRUE(model::IsZero(out.Named("late")->parent_span_id));
}

TEST(TraceBuilder, ConsumerSpansEncloseTheirProcessingToo) {
  Collect out;
  TraceBuilder tb(&out);
  tb.OnSpanStart(model::SpanStart{kPid, 1, 9, 100, SpanKind::kConsumer});
  tb.OnSpan(MakeSpan("INSERT", SpanKind::kClient, 110, 120, 1, 3));
  Span consume = MakeSpan("receive q", SpanKind::kConsumer, 100, 130, 1, 9);
  tb.OnSpan(consume);
  EXPECT_TRUE(IsChildOf(*out.Named("INSERT"), consume));
}

TEST(TraceBuilder, HeldSpansAreReleasedWhenTheirRequestNeverEnds) {
  Collect out;
  TraceBuilderOptions options;
  options.max_hold_ns = 1000;
  TraceBuilder tb(&out, options);
  tb.OnSpanStart(Started(100, 1, 1));
  tb.OnSpan(MakeSpan("q", SpanKind::kClient, 110, 120, 1, 3));
  tb.Tick(500);
  EXPECT_TRUE(out.spans.empty());
  tb.Tick(5000);
  ASSERT_EQ(out.spans.size(), 1u);
  EXPECT_EQ(tb.stats().released_on_timeout, 1u);
  EXPECT_EQ(tb.stats().held, 0u);
}

TEST(TraceBuilder, ExistingParentsAreKept) {
  Collect out;
  TraceBuilder tb(&out);
  tb.OnSpanStart(Started(100, 1, 1));
  Span outgoing = MakeSpan("GET", SpanKind::kClient, 110, 120, 1, 3);
  outgoing.parent_span_id = model::NewSpanId();
  const auto parent = outgoing.parent_span_id;
  tb.OnSpan(outgoing);
  ASSERT_EQ(out.spans.size(), 1u);
  EXPECT_EQ(out.spans[0].parent_span_id, parent);
}

TEST(TraceBuilder, FlushReleasesEverything) {
  Collect out;
  TraceBuilder tb(&out);
  tb.OnSpanStart(Started(100, 1, 1));
  tb.OnSpan(MakeSpan("q", SpanKind::kClient, 110, 120, 1, 3));
  tb.Flush();
  EXPECT_EQ(out.spans.size(), 1u);
}

}  // namespace
}  // namespace wirespan::agent
