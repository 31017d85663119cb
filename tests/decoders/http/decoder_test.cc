// Matching and span attributes through the ConnectionDecoder interface.
#include "decoders/http/decoder.h"

#include <gtest/gtest.h>

#include "decoders/http/spans.h"
#include "decoders/registry.h"
#include "tests/decoders/http/test_util.h"

namespace wirespan::decoders::http {
namespace {

using model::SpanKind;
using model::StatusCode;
using testing::ConnHarness;
using testing::Int;
using testing::IntOr;
using testing::Str;
using testing::StrOr;

constexpr std::string_view kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

TEST(HttpDecoder, RegisteredInTheRegistry) {
  const ProtocolSpec* spec = FindProtocol(Protocol::kHttp);
  ASSERT_NE(spec, nullptr);
  EXPECT_EQ(spec->detect("GET / HTTP/1.1\r\n", true).confidence, 100);
  EXPECT_EQ(::wirespan::decoders::Detect("HTTP/1.1 200 OK\r\n", false).protocol, Protocol::kHttp);
}

TEST(HttpDecoder, ClientSpan) {
  for (bool byte_at_a_time : {false, true}) {
    ConnHarness c(Role::kClient);
    c.Request(
        "GET /search?q=secret+words&page=2&flag HTTP/1.1\r\nHost: shop.example:8443\r\n"
        "User-Agent: curl/7.88.1\r\n\r\n",
        byte_at_a_time);
    c.Response("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found", byte_at_a_time);
    c.Emit();
    ASSERT_EQ(c.spans().size(), 1u);
    const model::Span& s = c.spans()[0];
    EXPECT_EQ(s.kind, SpanKind::kClient);
    EXPECT_EQ(s.name, "GET");
    EXPECT_EQ(s.protocol, "http");
    EXPECT_EQ(StrOr(s, "http.request.method"), "GET");
    EXPECT_EQ(StrOr(s, "url.full"), "http://shop.example:8443/search?q=?&page=?&?");
    EXPECT_EQ(StrOr(s, "url.path"), "/search");
    EXPECT_EQ(StrOr(s, "url.query"), "q=?&page=?&?");
    EXPECT_EQ(StrOr(s, "url.scheme"), "http");
    EXPECT_EQ(StrOr(s, "server.address"), "shop.example");
    EXPECT_EQ(IntOr(s, "server.port"), 8443);
    EXPECT_EQ(StrOr(s, "network.peer.address"), "127.0.0.1");
    EXPECT_EQ(IntOr(s, "network.peer.port"), 8080);
    EXPECT_EQ(IntOr(s, "http.response.status_code"), 404);
    EXPECT_EQ(StrOr(s, "network.protocol.version"), "1.1");
    EXPECT_EQ(StrOr(s, "user_agent.original"), "curl/7.88.1");
    EXPECT_EQ(IntOr(s, "http.response.body.size"), 9);
    EXPECT_EQ(s.attributes.Find("http.request.body.size"), nullptr);
    EXPECT_EQ(s.attributes.Find("client.address"), nullptr);
    EXPECT_EQ(s.status, StatusCode::kError);  // 4xx is an error for the client
    EXPECT_EQ(StrOr(s, "error.type"), "404");
    for (const auto& a : s.attributes.items()) {
      if (const auto* v = std::get_if<std::string>(&a.value)) {
        EXPECT_EQ(v->find("secret"), std::string::npos) << a.key;
      }
    }
    // Timing: request's first byte to response's last.
    EXPECT_EQ(s.start_time_unix_nano, 1'000'000'000u);
    EXPECT_GT(s.end_time_unix_nano, s.start_time_unix_nano);
    EXPECT_EQ(s.origin.conn_id, 42u);
    EXPECT_EQ(s.origin.tid, 11u);
    EXPECT_EQ(c.stats.spans, 1u);
  }
}

TEST(HttpDecoder, ServerSpanJoinsTheCallersTrace) {
  ConnHarness c(Role::kServer);
  c.Request(
      "POST /orders HTTP/1.1\r\nHost: orders.svc\r\nContent-Length: 4\r\n"
      "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
      "tracestate: rojo=00f067aa0ba902b7\r\n\r\n{\"a\"");
  c.Response(
      "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nretry\r\n0\r\n\r\n");
  c.Emit();
  ASSERT_EQ(c.spans().size(), 1u);
  const model::Span& s = c.spans()[0];
  EXPECT_EQ(s.kind, SpanKind::kServer);
  EXPECT_EQ(s.name, "POST");
  EXPECT_EQ(model::ToHex(s.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(model::ToHex(s.parent_span_id), "00f067aa0ba902b7");
  EXPECT_NE(model::ToHex(s.span_id), "00f067aa0ba902b7");
  EXPECT_EQ(s.trace_state, "rojo=00f067aa0ba902b7");
  EXPECT_EQ(StrOr(s, "server.address"), "orders.svc");
  EXPECT_EQ(IntOr(s, "server.port"), 8080);  // no port in Host: the socket's
  EXPECT_EQ(StrOr(s, "client.address"), "127.0.0.2");
  EXPECT_EQ(IntOr(s, "client.port"), 50000);
  EXPECT_EQ(s.attributes.Find("url.full"), nullptr);
  EXPECT_EQ(StrOr(s, "url.path"), "/orders");
  EXPECT_EQ(IntOr(s, "http.request.body.size"), 4);
  EXPECT_EQ(IntOr(s, "http.response.body.size"), 5);
  EXPECT_EQ(s.status, StatusCode::kError);
  EXPECT_EQ(StrOr(s, "error.type"), "503");
}

TEST(HttpDecoder, ServerSpanStatus) {
  ConnHarness c(Role::kServer);
  c.Request("GET /a HTTP/1.1\r\n\r\n");
  c.Response("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  c.Request("GET /b HTTP/1.1\r\n\r\n");
  c.Response(kOk);
  c.Emit();
  ASSERT_EQ(c.spans().size(), 2u);
  EXPECT_EQ(c.spans()[0].status, StatusCode::kUnset);  // 4xx is not a server error
  EXPECT_EQ(c.spans()[0].attributes.Find("error.type"), nullptr);
  EXPECT_EQ(c.spans()[1].status, StatusCode::kUnset);
  EXPECT_TRUE(model::IsZero(c.spans()[1].parent_span_id));
}

TEST(HttpDecoder, OtherMethod) {
  ConnHarness c(Role::kClient);
  c.Request("PROPFIND /dav/ HTTP/1.1\r\nHost: dav\r\n\r\n");
  c.Response("HTTP/1.1 207 Multi-Status\r\nContent-Length: 0\r\n\r\n");
  c.Emit();
  ASSERT_EQ(c.spans().size(), 1u);
  EXPECT_EQ(c.spans()[0].name, "HTTP");
  EXPECT_EQ(StrOr(c.spans()[0], "http.request.method"), "_OTHER");
  EXPECT_EQ(StrOr(c.spans()[0], "http.request.method_original"), "PROPFIND");
}

TEST(HttpDecoder, AbsoluteFormDropsCredentials) {
  ConnHarness c(Role::kClient);
  c.Request(
      "GET http://alice:pa55@proxy.test:3128/p?k=v HTTP/1.1\r\nHost: proxy.test:3128\r\n\r\n");
  c.Response(kOk);
  c.Emit();
  ASSERT_EQ(c.spans().size(), 1u);
  EXPECT_EQ(StrOr(c.spans()[0], "url.full"), "http://proxy.test:3128/p?k=?");
  for (const auto& a : c.spans()[0].attributes.items()) {
    if (const auto* v = std::get_if<std::string>(&a.value)) {
      EXPECT_EQ(v->find("pa55"), std::string::npos) << a.key;
    }
  }
}

TEST(HttpDecoder, UrlFullFromTheSocketWithoutHost) {
  ConnHarness c(Role::kClient);
  c.Request("GET /x HTTP/1.0\r\n\r\n");
  c.Response("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
  c.Emit();
  ASSERT_EQ(c.spans().size(), 1u);
  EXPECT_EQ(StrOr(c.spans()[0], "url.full"), "http://127.0.0.1:8080/x");
  EXPECT_EQ(StrOr(c.spans()[0], "network.protocol.version"), "1.0");
}

TEST(HttpDecoder, PipelinedExchangesPairInOrder) {
  ConnHarness c(Role::kServer);
  c.Request(
      "GET /1 HTTP/1.1\r\n\r\nHEAD /2 HTTP/1.1\r\n\r\nPOST /3 HTTP/1.1\r\nContent-Length: "
      "1\r\n\r\nx");
  c.Response(
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA"
      "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n"  // HEAD: no body follows
      "HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nC");
  c.Emit();
  ASSERT_EQ(c.spans().size(), 3u);
  EXPECT_EQ(StrOr(c.spans()[0], "url.path"), "/1");
  EXPECT_EQ(StrOr(c.spans()[1], "url.path"), "/2");
  EXPECT_EQ(StrOr(c.spans()[2], "url.path"), "/3");
  EXPECT_EQ(IntOr(c.spans()[2], "http.response.status_code"), 201);
  EXPECT_EQ(c.stats.unmatched_requests + c.stats.unmatched_responses, 0u);
}

TEST(HttpDecoder, ExpectContinue) {
  ConnHarness c(Role::kClient);
  c.Request("PUT /big HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  c.Response("HTTP/1.1 100 Continue\r\n\r\n");
  c.Emit();
  EXPECT_TRUE(c.spans().empty());
  c.Request("abc");
  c.Response("HTTP/1.1 204 No Content\r\n\r\n");
  c.Emit();
  ASSERT_EQ(c.spans().size(), 1u);
  EXPECT_EQ(IntOr(c.spans()[0], "http.response.status_code"), 204);
  EXPECT_EQ(IntOr(c.spans()[0], "http.request.body.size"), 3);
}

TEST(HttpDecoder, EarlyResponseWaitsForItsRequestBody) {
  ConnHarness c(Role::kServer);
  c.Request("POST /up HTTP/1.1\r\nContent-Length: 10\r\n\r\n12345");
  c.Response("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n");
  c.Emit();
  EXPECT_TRUE(c.spans().empty());
  c.Request("67890");
  c.Emit();
  ASSERT_EQ(c.spans().size(), 1u);
  EXPECT_EQ(IntOr(c.spans()[0], "http.request.body.size"), 10);
}

TEST(HttpDecoder, CloseDelimitedResponseCompletesOnClose) {
  ConnHarness c(Role::kClient);
  c.Request("GET /stream HTTP/1.0\r\n\r\n");
  c.Response("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nline 1\n");
  c.Response("line 2\n");
  c.Emit();
  EXPECT_TRUE(c.spans().empty());
  c.Emit(/*closed=*/true);
  ASSERT_EQ(c.spans().size(), 1u);
  EXPECT_EQ(IntOr(c.spans()[0], "http.response.body.size"), 14);
  EXPECT_EQ(c.stats.unmatched_requests, 0u);
}

TEST(HttpDecoder, MidStreamResponsesAreUnmatched) {
  ConnHarness c(Role::kClient);
  c.Response("ody of something earlier\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  c.Request("GET /next HTTP/1.1\r\n\r\n");
  c.Response(kOk);
  c.Emit();
  ASSERT_EQ(c.spans().size(), 1u);
  EXPECT_EQ(StrOr(c.spans()[0], "url.path"), "/next");
  EXPECT_EQ(c.stats.unmatched_responses, 1u);
}

TEST(HttpDecoder, UnansweredRequestsTimeOut) {
  DecoderOptions options;
  options.request_timeout_ns = 5'000'000'000;
  ConnHarness c(Role::kClient, options);
  c.Request("GET /slow HTTP/1.1\r\n\r\n");
  c.Emit();
  EXPECT_EQ(c.stats.unmatched_requests, 0u);
  c.Advance(6'000'000'000);
  c.Emit();
  EXPECT_EQ(c.stats.unmatched_requests, 1u);
  EXPECT_TRUE(c.spans().empty());
}

TEST(HttpDecoder, UnansweredRequestsAtClose) {
  ConnHarness c(Role::kServer);
  c.Request("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
  c.Response(kOk);
  c.Emit(true);
  EXPECT_EQ(c.spans().size(), 1u);
  EXPECT_EQ(c.stats.unmatched_requests, 1u);
}

TEST(HttpDecoder, LostResponseDoesNotShiftPairing) {
  ConnHarness c(Role::kClient);
  const std::string lost = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";
  c.Request("GET /1 HTTP/1.1\r\n\r\n");
  c.Send(MessageKind::kResponse, "", false, /*gap=*/lost.size());  // never captured
  c.Request("GET /2 HTTP/1.1\r\n\r\n");
  c.Response(kOk);
  c.Emit();
  ASSERT_EQ(c.spans().size(), 1u);
  EXPECT_EQ(StrOr(c.spans()[0], "url.path"), "/2");
  EXPECT_EQ(IntOr(c.spans()[0], "http.response.status_code"), 200);
  EXPECT_EQ(c.stats.unmatched_requests, 1u);
}

TEST(HttpDecoder, UpgradeStopsDecoding) {
  ConnHarness c(Role::kServer);
  c.Request("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
  c.Response(
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
      "\x81\x05hello");
  c.Request("\x81\x85\x01\x02\x03\x04zzzzz");
  c.Request("GET /not-http-any-more HTTP/1.1\r\n\r\n");
  c.Emit(true);
  ASSERT_EQ(c.spans().size(), 1u);
  EXPECT_EQ(IntOr(c.spans()[0], "http.response.status_code"), 101);
  EXPECT_EQ(c.stats.parse_errors, 0u);
  EXPECT_GE(c.stats.ignored_frames, 2u);
}

TEST(HttpDecoder, ConnectTunnel) {
  ConnHarness c(Role::kClient);
  c.Request("CONNECT api.example:443 HTTP/1.1\r\nHost: api.example:443\r\n\r\n");
  c.Response("HTTP/1.1 200 Connection Established\r\n\r\n");
  c.Request("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03");
  c.Response("\x16\x03\x03\x00\x7a\x02");
  c.Emit(true);
  ASSERT_EQ(c.spans().size(), 1u);
  EXPECT_EQ(c.spans()[0].name, "CONNECT");
  EXPECT_EQ(StrOr(c.spans()[0], "server.address"), "api.example");
  EXPECT_EQ(IntOr(c.spans()[0], "server.port"), 443);
  EXPECT_EQ(c.spans()[0].attributes.Find("url.full"), nullptr);
  EXPECT_EQ(c.stats.parse_errors, 0u);
}

TEST(HttpDecoder, RefusedConnectKeepsDecoding) {
  ConnHarness c(Role::kClient);
  c.Request("CONNECT blocked:443 HTTP/1.1\r\n\r\n");
  c.Response("HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno");
  c.Request("GET /after HTTP/1.1\r\n\r\n");
  c.Response(kOk);
  c.Emit();
  ASSERT_EQ(c.spans().size(), 2u);
}

TEST(HttpSpans, SanitizeQuery) {
  EXPECT_EQ(SanitizeQuery("a=1&b=two&c"), "a=?&b=?&?");
  EXPECT_EQ(SanitizeQuery(""), "");
  EXPECT_EQ(SanitizeQuery("token"), "?");
  EXPECT_EQ(SanitizeQuery("a=&&b=x=y"), "a=?&&b=?");
  EXPECT_LE(SanitizeQuery(std::string(5000, 'k') + "=v").size(), kMaxSanitizedQueryBytes);
  std::string many;
  for (int i = 0; i < 1000; ++i) many += "key" + std::to_string(i) + "=secret&";
  const std::string s = SanitizeQuery(many);
  EXPECT_LE(s.size(), kMaxSanitizedQueryBytes);
  EXPECT_EQ(s.find("secret"), std::string::npos);
}

TEST(HttpSpans, ParseTarget) {
  Target t = ParseTarget("/a/b?x=1#frag", "GET");
  EXPECT_EQ(t.path, "/a/b");
  EXPECT_EQ(t.query, "x=1");
  t = ParseTarget("http://u:p@[::1]:8080", "GET");
  EXPECT_EQ(t.host, "::1");
  EXPECT_EQ(t.port, 8080);
  EXPECT_EQ(t.path, "/");
  t = ParseTarget("example.com:443", "CONNECT");
  EXPECT_EQ(t.host, "example.com");
  EXPECT_EQ(t.port, 443);
  std::string host;
  int port;
  EXPECT_TRUE(SplitHostPort("Example.COM", &host, &port));
  EXPECT_EQ(host, "example.com");
  EXPECT_EQ(port, -1);
  EXPECT_FALSE(SplitHostPort("h:99999", &host, &port));
  EXPECT_FALSE(SplitHostPort("a:b:c", &host, &port));
}

}  // namespace
}  // namespace wirespan::decoders::http
