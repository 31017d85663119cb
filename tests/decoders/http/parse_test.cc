// Byte-level tests of the HTTP/1.x parser, driven through the shared frame loop.
#include "decoders/http/parse.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "decoders/http/decoder.h"
#include "tests/decoders/http/test_util.h"

namespace wirespan::decoders::http {
namespace {

using testing::ParserHarness;

constexpr std::string_view kGet =
    "GET /api/v1/users?id=7&token=abc HTTP/1.1\r\n"
    "Host: api.example.com:8080\r\n"
    "User-Agent: python-requests/2.28\r\n"
    "Accept: */*\r\n"
    "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n"
    "tracestate: congo=t61rcWkgMzE\r\n"
    "\r\n";

class BothWays : public ::testing::TestWithParam<bool> {};
INSTANTIATE_TEST_SUITE_P(Feed, BothWays, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "ByteAtATime" : "Whole"; });

TEST_P(BothWays, RequestLineAndHeadersOfInterest) {
  ParserHarness h(MessageKind::kRequest);
  h.Feed(kGet, GetParam());
  ASSERT_EQ(h.frames.size(), 1u);
  const Message& m = h.frames[0];
  EXPECT_EQ(m.method, "GET");
  EXPECT_EQ(m.target, "/api/v1/users?id=7&token=abc");
  EXPECT_EQ(m.minor_version, 1);
  EXPECT_EQ(m.host, "api.example.com:8080");
  EXPECT_EQ(m.user_agent, "python-requests/2.28");
  EXPECT_EQ(m.traceparent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  EXPECT_EQ(m.tracestate, "congo=t61rcWkgMzE");
  EXPECT_EQ(m.framing, BodyFraming::kNone);
  EXPECT_EQ(m.header_bytes, kGet.size());
  EXPECT_EQ(m.seq, 1u);
  EXPECT_EQ(m.first_pos, 1000u);
  EXPECT_EQ(h.stats.parse_errors, 0u);
  EXPECT_TRUE(h.stream.empty());
  ASSERT_EQ(h.state.pending.size(), 1u);
}

TEST_P(BothWays, RequestTargetForms) {
  ParserHarness h(MessageKind::kRequest);
  h.Feed(
      "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"
      "GET http://user:pw@proxy.test/x?y=1 HTTP/1.1\r\nHost: proxy.test\r\n\r\n"
      "CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\n\r\n",
      GetParam());
  ASSERT_EQ(h.frames.size(), 3u);
  EXPECT_EQ(h.frames[0].target, "*");
  EXPECT_EQ(h.frames[1].target, "http://user:pw@proxy.test/x?y=1");
  EXPECT_EQ(h.frames[2].method, "CONNECT");
  EXPECT_EQ(h.frames[2].target, "db.internal:5432");
}

TEST_P(BothWays, ExtensionMethodsAndLowercaseHeaderNames) {
  ParserHarness h(MessageKind::kRequest);
  h.Feed(
      "PROPFIND /dav HTTP/1.1\r\nhOsT: dav\r\ncontent-LENGTH: 3\r\n\r\nabc"
      "X-MY_METHOD /q HTTP/1.0\r\n\r\n",
      GetParam());
  ASSERT_EQ(h.frames.size(), 2u);
  EXPECT_EQ(h.frames[0].method, "PROPFIND");
  EXPECT_EQ(h.frames[0].host, "dav");
  EXPECT_EQ(h.frames[0].body_size, 3u);
  EXPECT_EQ(h.frames[1].method, "X-MY_METHOD");
  EXPECT_EQ(h.frames[1].minor_version, 0);
}

TEST_P(BothWays, PipelinedRequestsInOneBuffer) {
  ParserHarness h(MessageKind::kRequest);
  std::string bytes;
  for (int i = 0; i < 5; ++i) {
    bytes += "POST /p" + std::to_string(i) +
             " HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::to_string(i * 10) + "\r\n\r\n" +
             std::string(i * 10, 'x');
  }
  h.Feed(bytes, GetParam());
  ASSERT_EQ(h.frames.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(h.frames[i].target, "/p" + std::to_string(i));
    EXPECT_EQ(h.frames[i].body_size, static_cast<uint64_t>(i * 10));
    EXPECT_EQ(h.frames[i].seq, static_cast<uint64_t>(i + 1));
  }
  EXPECT_EQ(h.state.pending.size(), 5u);
  EXPECT_EQ(h.stats.parse_errors, 0u);
}

TEST_P(BothWays, ResponseWithContentLength) {
  ParserHarness h(MessageKind::kResponse);
  h.state.pending.push_back({.seq = 1});
  h.Feed(
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n"
      "{\"ok\":true}",
      GetParam());
  ASSERT_EQ(h.frames.size(), 1u);
  EXPECT_EQ(h.frames[0].status_code, 200);
  EXPECT_EQ(h.frames[0].content_type, "application/json");
  EXPECT_EQ(h.frames[0].body_size, 11u);
  EXPECT_EQ(h.frames[0].body_wire_bytes, 11u);
  EXPECT_EQ(h.frames[0].request_seq, 1u);
  EXPECT_TRUE(h.state.pending.empty());
}

TEST_P(BothWays, StatusLineWithoutReason) {
  ParserHarness h(MessageKind::kResponse);
  h.Feed("HTTP/1.1 204\r\n\r\nHTTP/1.0 404 \r\nContent-Length: 0\r\n\r\n", GetParam());
  ASSERT_EQ(h.frames.size(), 2u);
  EXPECT_EQ(h.frames[0].status_code, 204);
  EXPECT_EQ(h.frames[1].status_code, 404);
  EXPECT_EQ(h.frames[1].minor_version, 0);
}

// Chunked bodies of many sizes, with chunk extensions and trailers, split in every way.
TEST_P(BothWays, ChunkedBodiesOfEverySize) {
  std::mt19937 rng(1234);
  for (size_t size : {0u, 1u, 2u, 15u, 16u, 17u, 255u, 256u, 1000u, 4096u, 20000u}) {
    for (int variant = 0; variant < 3; ++variant) {
      ParserHarness h(MessageKind::kResponse);
      std::string body;
      size_t left = size;
      while (left > 0) {
        const size_t n = std::min<size_t>(left, 1 + rng() % 700);
        char line[64];
        snprintf(line, sizeof(line),
                 variant == 0   ? "%zx"
                 : variant == 1 ? "%zX;name=val"
                                : "%zx ; a ; b=\"q\"",
                 n);
        body += std::string(line) + "\r\n" + std::string(n, 'z') + "\r\n";
        left -= n;
      }
      body += variant == 2 ? "0;last\r\nX-Checksum: 1\r\nX-Other: 2\r\n\r\n" : "0\r\n\r\n";
      const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
      h.Feed(head + body + "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n!",
             GetParam() && size <= 4096);
      ASSERT_EQ(h.frames.size(), 2u) << size << " " << variant;
      EXPECT_TRUE(h.frames[0].chunked);
      EXPECT_EQ(h.frames[0].framing, BodyFraming::kChunked);
      EXPECT_EQ(h.frames[0].body_size, size);
      EXPECT_EQ(h.frames[0].body_wire_bytes, body.size());
      EXPECT_FALSE(h.frames[0].body_incomplete);
      EXPECT_EQ(h.frames[1].body_size, 1u);
      EXPECT_EQ(h.stats.parse_errors, 0u);
    }
  }
}

TEST_P(BothWays, ChunkedRequestBody) {
  ParserHarness h(MessageKind::kRequest);
  h.Feed(
      "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
      "4\r\nwiki\r\n5;x=y\r\npedia\r\n0\r\nExpires: never\r\n\r\n"
      "GET / HTTP/1.1\r\n\r\n",
      GetParam());
  ASSERT_EQ(h.frames.size(), 2u);
  EXPECT_EQ(h.frames[0].body_size, 9u);
  EXPECT_EQ(h.frames[1].method, "GET");
}

TEST_P(BothWays, InterimResponsesDoNotCompleteTheExchange) {
  ParserHarness h(MessageKind::kResponse);
  h.state.pending.push_back({.seq = 1});
  h.state.pending.push_back({.seq = 2});
  h.Feed(
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"
      "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
      GetParam());
  ASSERT_EQ(h.frames.size(), 2u);
  EXPECT_EQ(h.frames[0].status_code, 201);
  EXPECT_EQ(h.frames[0].request_seq, 1u);
  EXPECT_EQ(h.frames[1].status_code, 200);
  EXPECT_EQ(h.frames[1].request_seq, 2u);
  EXPECT_EQ(h.stats.ignored_frames, 2u);
}

TEST_P(BothWays, NoBodyForHead204And304) {
  ParserHarness h(MessageKind::kResponse);
  h.state.pending.push_back({.seq = 1, .head = true});
  h.state.pending.push_back({.seq = 2});
  h.state.pending.push_back({.seq = 3});
  h.state.pending.push_back({.seq = 4});
  h.Feed(
      "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"  // HEAD: length without body
      "HTTP/1.1 204 No Content\r\n\r\n"
      "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
      GetParam());
  ASSERT_EQ(h.frames.size(), 4u);
  EXPECT_EQ(h.frames[0].body_size, 0u);
  EXPECT_EQ(h.frames[0].framing, BodyFraming::kNone);
  EXPECT_EQ(h.frames[1].status_code, 204);
  EXPECT_EQ(h.frames[2].status_code, 304);
  EXPECT_EQ(h.frames[3].body_size, 3u);
  EXPECT_EQ(h.frames[3].request_seq, 4u);
}

TEST_P(BothWays, CloseDelimitedResponse) {
  ParserHarness h(MessageKind::kResponse);
  h.state.pending.push_back({.seq = 1});
  h.Feed("HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + std::string(5000, 'h'), GetParam());
  EXPECT_TRUE(h.frames.empty());
  EXPECT_TRUE(h.stream.empty());  // counted and consumed, not buffered
  ASSERT_TRUE(h.Close());
  ASSERT_EQ(h.frames.size(), 1u);
  EXPECT_EQ(h.frames[0].framing, BodyFraming::kUntilClose);
  EXPECT_EQ(h.frames[0].body_size, 5000u);
  EXPECT_FALSE(h.Close());
}

TEST_P(BothWays, NonChunkedTransferEncodingResponseIsCloseDelimited) {
  ParserHarness h(MessageKind::kResponse);
  h.Feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\nabcdef",
         GetParam());
  ASSERT_TRUE(h.Close());
  EXPECT_EQ(h.frames[0].body_size, 6u);
}

TEST(HttpParse, GapsInsideContentLengthBodiesAreCounted) {
  ParserHarness h(MessageKind::kRequest);
  const std::string head = "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n";
  h.Feed(head + std::string(1000, 'a'), false, /*gap=*/60000);  // copy cap hit
  h.Feed(std::string(39000, 'b') + "GET /next HTTP/1.1\r\n\r\n");
  ASSERT_EQ(h.frames.size(), 2u);
  EXPECT_EQ(h.frames[0].body_size, 100000u);
  EXPECT_EQ(h.frames[0].body_gap_bytes, 60000u);
  EXPECT_EQ(h.frames[1].target, "/next");
  EXPECT_EQ(h.stats.gap_bytes_skipped, 60000u);
  EXPECT_EQ(h.stats.parse_errors, 0u);
}

TEST(HttpParse, GapsInsideChunkDataAreCounted) {
  ParserHarness h(MessageKind::kResponse);
  h.Feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8000\r\nabc", false,
         /*gap=*/0x8000 - 3 - 100);
  h.Feed(std::string(100, 'z') + "\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n");
  ASSERT_EQ(h.frames.size(), 1u);
  EXPECT_EQ(h.frames[0].body_size, 0x8000u + 16);
  EXPECT_FALSE(h.frames[0].body_incomplete);
  EXPECT_EQ(h.stats.parse_errors, 0u);
}

TEST(HttpParse, GapInsideCloseDelimitedBody) {
  ParserHarness h(MessageKind::kResponse);
  h.Feed("HTTP/1.1 200 OK\r\n\r\nabc", false, 500);
  h.Feed("def");
  ASSERT_TRUE(h.Close());
  EXPECT_EQ(h.frames[0].body_size, 506u);
  EXPECT_EQ(h.frames[0].body_gap_bytes, 500u);
}

TEST(HttpParse, GapOverChunkFramingFinishesTheMessageIncomplete) {
  ParserHarness h(MessageKind::kResponse);
  // The gap runs past the chunk's end: where the message ends is lost.
  h.Feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab", false, 50);
  h.Feed("GARBAGE\r\nHTTP/1.1 204 No Content\r\n\r\n");
  ASSERT_EQ(h.frames.size(), 2u);
  EXPECT_TRUE(h.frames[0].body_incomplete);
  EXPECT_EQ(h.frames[1].status_code, 204);
  EXPECT_GE(h.stats.parse_errors, 1u);
}

TEST(HttpParse, GapCoveringWholeRequestsResyncsToTheNextOne) {
  ParserHarness h(MessageKind::kRequest);
  const std::string r1 = "GET /one HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string r3 = "GET /three HTTP/1.1\r\nHost: h\r\nUser-Agent: x\r\n\r\n";
  h.Feed(r1, false, /*gap=*/40);  // request two and the start of three are lost
  h.Feed(r3.substr(10));          // the rest of three: not a start line
  h.Feed("PUT /four HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(h.frames.size(), 2u);
  EXPECT_EQ(h.frames[0].target, "/one");
  EXPECT_EQ(h.frames[1].target, "/four");
  EXPECT_GE(h.stats.parse_errors, 1u);
  EXPECT_EQ(h.stats.gaps, 1u);
}

// A gap that starts inside a header block: the block can never complete. DataStream does not
// expose a gap that follows the head bytes, so the parser cannot tell (see the report: needs
// DataStream::TrailingGap() or a frame_loop change). Enabled once the contract has it.
TEST(HttpParse, GapInsideHeadersResyncsToTheNextRequest) {
  ParserHarness h(MessageKind::kRequest);
  h.Feed("GET /lost HTTP/1.1\r\nHo", false, 30);
  h.Feed("GET /found HTTP/1.1\r\n\r\n");
  ASSERT_EQ(h.frames.size(), 1u);
  EXPECT_EQ(h.frames[0].target, "/found");
}

TEST_P(BothWays, GarbageThenValidRequest) {
  ParserHarness h(MessageKind::kRequest);
  h.Feed(std::string("\x16\x03\x01\x02\x00garbage bytes\r\n\r\n", 22) +
             "DELETE /items/9 HTTP/1.1\r\nHost: h\r\n\r\n",
         GetParam());
  ASSERT_EQ(h.frames.size(), 1u);
  EXPECT_EQ(h.frames[0].method, "DELETE");
  EXPECT_EQ(h.frames[0].target, "/items/9");
  EXPECT_GE(h.stats.parse_errors, 1u);
  EXPECT_GT(h.stats.resync_bytes, 0u);
}

TEST_P(BothWays, GarbageThenValidResponse) {
  ParserHarness h(MessageKind::kResponse);
  h.Feed("tail of an unknown body...HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", GetParam());
  ASSERT_EQ(h.frames.size(), 1u);
  EXPECT_EQ(h.frames[0].request_seq, 0u);  // no request known
  EXPECT_GE(h.stats.parse_errors, 1u);
}

TEST_P(BothWays, LeadingEmptyLinesAreIgnored) {
  ParserHarness h(MessageKind::kRequest);
  h.Feed("POST /a HTTP/1.1\r\nContent-Length: 2\r\n\r\nok\r\n\r\nGET /b HTTP/1.1\r\n\r\n",
         GetParam());
  ASSERT_EQ(h.frames.size(), 2u);
  EXPECT_EQ(h.stats.parse_errors, 0u);
}

TEST_P(BothWays, BareLineFeeds) {
  ParserHarness h(MessageKind::kRequest);
  h.Feed("GET /lf HTTP/1.1\nHost: lf\n\n", GetParam());
  ASSERT_EQ(h.frames.size(), 1u);
  EXPECT_EQ(h.frames[0].host, "lf");
}

TEST(HttpParse, HeaderBlockLimit) {
  ParserHarness h(MessageKind::kRequest);
  std::string big = "GET / HTTP/1.1\r\n";
  while (big.size() < kMaxHeaderBlockBytes + 100)
    big += "X-Filler: " + std::string(100, 'f') + "\r\n";
  h.Feed(big);
  EXPECT_TRUE(h.frames.empty());
  EXPECT_GE(h.stats.parse_errors, 1u);
  h.Feed("\r\nGET /ok HTTP/1.1\r\n\r\n");
  ASSERT_EQ(h.frames.size(), 1u);
  EXPECT_EQ(h.frames[0].target, "/ok");
}

TEST(HttpParse, MaxFrameBytesLowersTheHeaderLimit) {
  DecoderOptions options;
  options.max_frame_bytes = 256;
  ParserHarness h(MessageKind::kRequest, options);
  h.Feed("GET / HTTP/1.1\r\nCookie: " + std::string(300, 'c') + "\r\n\r\n");
  EXPECT_TRUE(h.frames.empty());
  EXPECT_GE(h.stats.parse_errors, 1u);
  h.Feed("GET /small HTTP/1.1\r\n\r\n");
  ASSERT_EQ(h.frames.size(), 1u);
}

TEST(HttpParse, HeaderCountLimit) {
  for (size_t count : {kMaxHeaderCount, kMaxHeaderCount + 1}) {
    ParserHarness h(MessageKind::kRequest);
    std::string req = "GET / HTTP/1.1\r\n";
    for (size_t i = 0; i < count; ++i) req += "X-H" + std::to_string(i) + ": v\r\n";
    h.Feed(req + "\r\n");
    EXPECT_EQ(h.frames.size(), count <= kMaxHeaderCount ? 1u : 0u) << count;
  }
}

TEST(HttpParse, InvalidFraming) {
  for (std::string_view bad : {
           "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",  // request not chunked
           "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",  // conflict
           "POST / HTTP/1.1\r\nContent-Length: 3, 4\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
           "GET / HTTP/1.1\r\nBad Header: x\r\n\r\n",  // space in name
           "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
           "GET  / HTTP/1.1\r\n\r\n",
           "GET / HTTP/2.0\r\n\r\n",
           "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
       }) {
    ParserHarness h(MessageKind::kRequest);
    h.Feed(bad);
    EXPECT_TRUE(h.frames.empty()) << bad;
    EXPECT_GE(h.stats.parse_errors, 1u) << bad;
  }
  ParserHarness ok(MessageKind::kRequest);
  ok.Feed("POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\nabc");
  ASSERT_EQ(ok.frames.size(), 1u);
  EXPECT_EQ(ok.frames[0].body_size, 3u);
}

TEST(HttpParse, InvalidChunkSizes) {
  for (std::string_view bad : {"zz\r\n", "-1\r\n", "1ffffffffffffffff\r\n", "5 x\r\n"}) {
    ParserHarness h(MessageKind::kResponse);
    h.Feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(bad));
    EXPECT_TRUE(h.frames.empty()) << bad;
    EXPECT_GE(h.stats.parse_errors, 1u) << bad;
  }
}

TEST(HttpParse, TraceparentValidation) {
  auto parse = [](std::string_view headers) {
    ParserHarness h(MessageKind::kRequest);
    h.Feed("GET / HTTP/1.1\r\n" + std::string(headers) + "\r\n");
    return h.frames.empty() ? Message{} : h.frames[0];
  };
  const std::string good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  EXPECT_EQ(parse("traceparent: " + good + "\r\n").traceparent, good);
  EXPECT_EQ(parse("traceparent: " + good + "\r\ntracestate: a=1\r\ntracestate: b=2\r\n").tracestate,
            "a=1,b=2");
  EXPECT_EQ(
      parse("traceparent: 00-00000000000000000000000000000000-00f067aa0ba902b7-01\r\n").traceparent,
      "");
  EXPECT_EQ(
      parse("traceparent: 00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01\r\n").traceparent,
      "");
  EXPECT_EQ(
      parse("traceparent: ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n").traceparent,
      "");
  // Two traceparents: invalid, and tracestate goes with it.
  EXPECT_EQ(parse("traceparent: " + good + "\r\ntraceparent: " + good + "\r\ntracestate: a=1\r\n")
                .tracestate,
            "");
  EXPECT_EQ(parse("traceparent: 01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz\r\n")
                .traceparent,
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz");
}

TEST(HttpParse, FindFrameBoundary) {
  ConnectionState state;
  DecoderStats stats;
  DecoderOptions options;
  Parser req(MessageKind::kRequest, options, &state, &stats);
  Parser resp(MessageKind::kResponse, options, &state, &stats);
  EXPECT_EQ(req.FindFrameBoundary("x\nGET /a"), 2u);
  EXPECT_EQ(req.FindFrameBoundary("\x16\x03GET /a"), 2u);
  EXPECT_EQ(req.FindFrameBoundary("xxGET /a"), std::string_view::npos);  // mid-word
  EXPECT_EQ(req.FindFrameBoundary("GET /a"), std::string_view::npos);    // offset >= 1 only
  EXPECT_EQ(req.FindFrameBoundary("xx\r\nPOST /"), 4u);
  EXPECT_EQ(req.FindFrameBoundary("TARGET x GET ?"), std::string_view::npos);
  EXPECT_EQ(req.FindFrameBoundary(".;OPTIONS *"), 2u);
  EXPECT_EQ(resp.FindFrameBoundary("abcHTTP/1.1 200"), 3u);
  EXPECT_EQ(resp.FindFrameBoundary("HTTP/1.1 200"), std::string_view::npos);
}

TEST(HttpDetect, RequestsAndResponses) {
  auto d = Detect("GET /index.html HTTP/1.1\r\nHost: x\r\n", true);
  EXPECT_EQ(d.protocol, Protocol::kHttp);
  EXPECT_EQ(d.confidence, 100);
  EXPECT_EQ(d.kind, MessageKind::kRequest);
  d = Detect("POST /api/v1/ite", false);
  EXPECT_GE(d.confidence, 90);
  d = Detect("PURGE /cache HTTP/1.1\r\n", false);  // extension method, whole line
  EXPECT_EQ(d.confidence, 100);
  d = Detect("HTTP/1.1 200 OK\r\n", false);
  EXPECT_EQ(d.confidence, 100);
  EXPECT_EQ(d.kind, MessageKind::kResponse);
  d = Detect("HTTP/1.0 404 ", false);
  EXPECT_GE(d.confidence, 90);
  EXPECT_EQ(Detect("OPTIONS * HTTP/1.1\r\n", true).confidence, 100);
  EXPECT_EQ(Detect("CONNECT example.com:443 HTTP/1.1\r\n", true).confidence, 100);
  EXPECT_EQ(Detect("GET http://example.com/ HTTP/1.1\r\n", true).confidence, 100);
}

TEST(HttpDetect, DoesNotClaimOtherProtocols) {
  for (std::string_view other : {
           std::string_view("*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n"),  // Redis RESP
           std::string_view("GET key\r\n"),                       // Redis inline
           std::string_view("SET key value\r\n"), std::string_view("+OK\r\n"),
           std::string_view("PING\r\n"),
           std::string_view("\x00\x00\x00\x08\x04\xd2\x16\x2f", 8),           // PG SSLRequest
           std::string_view("\x00\x00\x00\x54\x00\x03\x00\x00user\x00", 13),  // PG startup
           std::string_view("Q\x00\x00\x00\x0dSELECT 1\x00", 14),             // PG query
           std::string_view("AMQP\x00\x00\x09\x01", 8),                       // AMQP header
           std::string_view("\x01\x00\x00\x00\x00\x00\x0b", 7),               // AMQP frame
           std::string_view("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),              // HTTP/2 preface
           std::string_view("\x16\x03\x01\x02\x00\x01", 6),                   // TLS
       }) {
    EXPECT_EQ(Detect(other, true).confidence, 0) << other;
    EXPECT_EQ(Detect(other, false).confidence, 0) << other;
  }
}

}  // namespace
}  // namespace wirespan::decoders::http
