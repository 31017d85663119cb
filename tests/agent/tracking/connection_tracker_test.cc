// Connection tracking driven by the synthetic source: detection, roles, gaps, reordering,
// cleanup and bounded memory, with the real HTTP decoder behind it.
#include "agent/tracking/connection_tracker.h"

#include <gtest/gtest.h>

#include "agent/pipeline.h"
#include "agent/sources/synthetic_source.h"
#include "agent/tracking/process_resources.h"
#include "tests/support/replay.h"

namespace wirespan::agent {
namespace {

using testing::AttrText;
using testing::CollectingSink;

constexpr std::string_view kRequest = "GET /items/1 HTTP/1.1\r\nHost: shop\r\n\r\n";

std::string Response(size_t body) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body) + "\r\n\r\n" +
         std::string(body, 'x');
}

class TrackerTest : public ::testing::Test {
 protected:
  // Runs everything queued in the source through a fresh pipeline and returns the spans.
  std::vector<model::Span> Run(PipelineOptions options = {}) {
    Pipeline pipeline(source_, sink_, resources_, options);
    EXPECT_TRUE(pipeline.Start().ok());
    std::atomic<bool> stop{false};
    EXPECT_TRUE(pipeline.Run(stop).ok());
    stats_ = pipeline.tracker().stats();
    http_stats_ = pipeline.tracker().decoder_stats(decoders::Protocol::kHttp);
    return sink_.Snapshot();
  }

  SyntheticSource source_;
  CollectingSink sink_;
  StaticResourceProvider resources_{"test"};
  TrackerStats stats_;
  decoders::DecoderStats http_stats_;
};

TEST_F(TrackerTest, ClientExchangeBecomesAClientSpan) {
  auto id = source_.Open({.tgid = 42, .role = WS_ROLE_CLIENT});
  source_.Send(id, WS_DIR_EGRESS, kRequest);
  source_.Advance(5'000'000);
  source_.Send(id, WS_DIR_INGRESS, Response(10));
  source_.Close(id);
  auto spans = Run();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].kind, model::SpanKind::kClient);
  EXPECT_EQ(AttrText(spans[0], "url.path"), "/items/1");
  EXPECT_EQ(AttrText(spans[0], "http.response.status_code"), "200");
  EXPECT_EQ(AttrText(spans[0], "server.port"), "8080");
  EXPECT_EQ(spans[0].end_time_unix_nano - spans[0].start_time_unix_nano, 5'000'000u);
  EXPECT_EQ(spans[0].origin.tgid, 42u);
  EXPECT_EQ(stats_.detected[static_cast<size_t>(decoders::Protocol::kHttp)], 1u);
}

TEST_F(TrackerTest, ServerRoleGivesServerSpanWithClientAddress) {
  auto id = source_.Open({.role = WS_ROLE_SERVER, .local_port = 8080, .remote_port = 51000});
  source_.Send(id, WS_DIR_INGRESS, kRequest);
  source_.Send(id, WS_DIR_EGRESS, Response(3));
  source_.Close(id);
  auto spans = Run();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].kind, model::SpanKind::kServer);
  EXPECT_EQ(AttrText(spans[0], "client.port"), "51000");
  EXPECT_EQ(AttrText(spans[0], "server.port"), "8080");
}

TEST_F(TrackerTest, UnknownRoleIsInferredFromWhoSendsRequests) {
  // Seen mid-stream: the kernel could not say who connected. We received the request: server.
  auto id = source_.Open({.role = WS_ROLE_UNKNOWN}, WS_CONN_FLAG_MIDSTREAM);
  source_.Send(id, WS_DIR_INGRESS, kRequest);
  source_.Send(id, WS_DIR_EGRESS, Response(0));
  source_.Close(id);
  auto spans = Run();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].kind, model::SpanKind::kServer);
}

TEST_F(TrackerTest, MidstreamConnectionIsPickedUpAtTheNextRequest) {
  auto id = source_.Open({.role = WS_ROLE_UNKNOWN}, WS_CONN_FLAG_MIDSTREAM);
  // The tail of a body whose headers went by before we looked, then its response.
  source_.Send(id, WS_DIR_EGRESS, std::string(300, 'z'));
  source_.Send(id, WS_DIR_INGRESS, Response(5));
  source_.Send(id, WS_DIR_EGRESS, kRequest);
  source_.Send(id, WS_DIR_INGRESS, Response(7));
  source_.Close(id);
  auto spans = Run();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].kind, model::SpanKind::kClient);
  EXPECT_EQ(AttrText(spans[0], "http.response.body.size"), "7");
  EXPECT_EQ(stats_.connections_midstream, 1u);
}

TEST_F(TrackerTest, UncopiedBodyBytesAreAGapTheDecoderStepsOver) {
  auto id = source_.Open({});
  source_.Send(id, WS_DIR_EGRESS, kRequest);
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
  // Only the headers and 1000 body bytes copied; the rest of the syscall is a known gap.
  source_.SendAt(id, WS_DIR_INGRESS, 0, head + std::string(1000, 'b'), head.size() + 100000);
  source_.Send(id, WS_DIR_EGRESS, kRequest);
  source_.Send(id, WS_DIR_INGRESS, Response(4));
  source_.Close(id);
  auto spans = Run();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(AttrText(spans[0], "http.response.body.size"), "100000");
  EXPECT_EQ(AttrText(spans[1], "http.response.body.size"), "4");
  EXPECT_EQ(stats_.stream_gap_bytes, 99000u);
  EXPECT_EQ(http_stats_.parse_errors, 0u);
}

TEST_F(TrackerTest, OutOfOrderChunksAreReassembled) {
  auto id = source_.Open({});
  const std::string req(kRequest);
  // The second half arrives first (two threads writing, or two CPUs' ring records).
  source_.SendAt(id, WS_DIR_EGRESS, 10, req.substr(10), req.size() - 10);
  source_.SendAt(id, WS_DIR_EGRESS, 0, req.substr(0, 10), 10);
  source_.Send(id, WS_DIR_INGRESS, Response(1));
  source_.Close(id);
  auto spans = Run();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(AttrText(spans[0], "url.path"), "/items/1");
}

TEST_F(TrackerTest, ConnectionsOfNoKnownProtocolAreDroppedCheaply) {
  auto id = source_.Open({});
  for (int i = 0; i < 20; ++i)
    source_.Send(id, WS_DIR_EGRESS,
                 std::string("\x16\x03\x01\x02\x00", 5) + std::string(200, '\x01'));
  source_.Close(id);
  auto spans = Run();
  EXPECT_TRUE(spans.empty());
  EXPECT_EQ(stats_.undetected, 1u);
  EXPECT_GT(stats_.ignored_bytes, 3000u);
}

TEST_F(TrackerTest, ResponseDelimitedByCloseIsFlushedAtClose) {
  auto id = source_.Open({});
  source_.Send(id, WS_DIR_EGRESS, "GET /stream HTTP/1.0\r\n\r\n");
  source_.Send(id, WS_DIR_INGRESS, "HTTP/1.0 200 OK\r\n\r\nsome bytes until close");
  source_.Close(id);
  auto spans = Run();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(AttrText(spans[0], "http.response.body.size"), "22");
}

TEST_F(TrackerTest, FdReuseGivesSeparateConnections) {
  auto a = source_.Open({.fd = 7});
  source_.Send(a, WS_DIR_EGRESS, kRequest);
  source_.Send(a, WS_DIR_INGRESS, Response(1));
  source_.Close(a);
  auto b = source_.Open({.fd = 7, .remote_port = 9090});
  source_.Send(b, WS_DIR_EGRESS, kRequest);
  source_.Send(b, WS_DIR_INGRESS, Response(2));
  source_.Close(b);
  auto spans = Run();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_NE(spans[0].origin.conn_id, spans[1].origin.conn_id);
  EXPECT_EQ(AttrText(spans[1], "server.port"), "9090");
}

TEST_F(TrackerTest, CapacityIsBoundedByEvictingTheLeastRecentlyActive) {
  PipelineOptions options;
  options.max_connections = 2;
  auto a = source_.Open({.fd = 1});
  auto b = source_.Open({.fd = 2});
  source_.Send(a, WS_DIR_EGRESS, kRequest);  // a is now more recent than b
  auto c = source_.Open({.fd = 3});
  source_.Send(a, WS_DIR_INGRESS, Response(1));
  source_.Send(c, WS_DIR_EGRESS, kRequest);
  source_.Send(c, WS_DIR_INGRESS, Response(1));
  (void)b;
  auto spans = Run(options);
  EXPECT_EQ(stats_.evicted_capacity, 1u);
  EXPECT_EQ(spans.size(), 2u) << "a and c survive; b was evicted";
}

TEST_F(TrackerTest, IdleConnectionsAreFlushedAndForgotten) {
  CollectingSink sink;
  StaticResourceProvider resources("t");
  TrackerOptions options;
  options.idle_timeout_ns = 1'000'000'000;
  ConnectionTracker tracker(options, &sink, &resources, 0);
  SyntheticSource src;
  auto id = src.Open({});
  src.Send(id, WS_DIR_EGRESS, kRequest);
  src.Send(id, WS_DIR_INGRESS, "HTTP/1.0 200 OK\r\n\r\npartial");
  ASSERT_TRUE(src.Poll(tracker, 0).ok());
  EXPECT_EQ(tracker.connection_count(), 1u);
  tracker.Tick(src.NowNanos() + 500'000'000);
  EXPECT_EQ(tracker.connection_count(), 1u);
  tracker.Tick(src.NowNanos() + 2'000'000'000);
  EXPECT_EQ(tracker.connection_count(), 0u);
  EXPECT_EQ(tracker.stats().evicted_idle, 1u);
  EXPECT_EQ(sink.size(), 1u) << "the close-delimited response is flushed on eviction";
}

TEST_F(TrackerTest, ProcessExitClosesItsConnections) {
  CollectingSink sink;
  StaticResourceProvider resources("t");
  ConnectionTracker tracker({}, &sink, &resources, 0);
  SyntheticSource src;
  src.Open({.tgid = 5, .fd = 1});
  src.Open({.tgid = 5, .fd = 2});
  src.Open({.tgid = 6, .fd = 1});
  ASSERT_TRUE(src.Poll(tracker, 0).ok());
  EXPECT_EQ(tracker.connection_count(), 3u);
  ProcEvent exit_event;
  exit_event.tgid = 5;
  exit_event.exec = false;
  tracker.OnProc(exit_event);
  EXPECT_EQ(tracker.connection_count(), 1u);
}

}  // namespace
}  // namespace wirespan::agent
