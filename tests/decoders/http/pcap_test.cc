// Real traffic recorded with tcpdump on loopback (fixtures/record.sh): Debian's python3
// http.server answering http.client, raw pipelined requests, and curl (HEAD, Expect:
// 100-continue). Each capture is decoded from the client's and from the server's side, with the
// captured segments as they came and one byte at a time: same spans every way.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "tests/decoders/http/pcap_streams.h"
#include "tests/decoders/http/test_util.h"

namespace wirespan::decoders::http {
namespace {

using testing::ConnHarness;
using testing::Int;
using testing::IntOr;
using testing::Str;
using testing::StrOr;

std::string Fixture(const std::string& name) {
  return std::string(WIRESPAN_SOURCE_DIR) + "/tests/decoders/http/fixtures/" + name;
}

struct Decoded {
  std::vector<model::Span> spans;
  DecoderStats stats;
};

Decoded Decode(const std::string& pcap, Role role, bool byte_at_a_time) {
  std::string error;
  const auto conns = wirespan::testing::ReadTcpConnections(Fixture(pcap), &error);
  EXPECT_TRUE(error.empty()) << error;
  Decoded out;
  for (const auto& conn : conns) {
    ConnHarness h(role);
    for (const auto& seg : conn.segments) {
      h.Send(seg.from_client ? MessageKind::kRequest : MessageKind::kResponse, seg.bytes,
             byte_at_a_time);
      h.Emit();
    }
    h.Emit(/*closed=*/true);
    for (auto& s : h.spans()) out.spans.push_back(std::move(s));
    out.stats.frames += h.stats.frames;
    out.stats.parse_errors += h.stats.parse_errors;
    out.stats.unmatched_requests += h.stats.unmatched_requests;
    out.stats.unmatched_responses += h.stats.unmatched_responses;
    out.stats.ignored_frames += h.stats.ignored_frames;
  }
  return out;
}

// What identifies a span's content (ids and times aside).
std::vector<std::string> Summary(const std::vector<model::Span>& spans) {
  std::vector<std::string> out;
  for (const auto& s : spans) {
    std::string line = s.name;
    for (const auto& a : s.attributes.items()) {
      line += " " + a.key + "=";
      if (const auto* v = std::get_if<std::string>(&a.value)) line += *v;
      if (const auto* v = std::get_if<int64_t>(&a.value)) line += std::to_string(*v);
    }
    out.push_back(line);
  }
  return out;
}

class PcapTest : public ::testing::TestWithParam<Role> {};
INSTANTIATE_TEST_SUITE_P(Sides, PcapTest, ::testing::Values(Role::kClient, Role::kServer),
                         [](const auto& info) {
                           return info.param == Role::kClient ? "Client" : "Server";
                         });

TEST_P(PcapTest, PythonHttpClientAndServer) {
  const Decoded d = Decode("python_client.pcap", GetParam(), false);
  EXPECT_EQ(d.stats.parse_errors, 0u);
  EXPECT_EQ(d.stats.unmatched_requests + d.stats.unmatched_responses, 0u);
  ASSERT_EQ(d.spans.size(), 9u);
  std::map<std::string, const model::Span*> by_path;
  for (const auto& s : d.spans) by_path[StrOr(s, "url.path")] = &s;
  for (const char* p : {"/hello", "/file", "/items", "/chunked", "/missing", "/nocontent",
                        "/notmodified", "/error", "/close"}) {
    ASSERT_TRUE(by_path.count(p)) << p;
  }
  const model::Span& hello = *by_path.at("/hello");
  EXPECT_EQ(StrOr(hello, "url.query"), "user=?&token=?");
  EXPECT_EQ(IntOr(hello, "http.response.status_code"), 200);
  EXPECT_EQ(model::ToHex(hello.trace_id), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(model::ToHex(hello.parent_span_id), "b7ad6b7169203331");
  EXPECT_EQ(hello.trace_state, "congo=t61rcWkgMzE");
  EXPECT_EQ(StrOr(*by_path.at("/file"), "http.request.method"), "HEAD");
  EXPECT_EQ(IntOr(*by_path.at("/file"), "http.response.body.size"), -1);  // no body
  EXPECT_EQ(IntOr(*by_path.at("/items"), "http.response.status_code"), 201);
  EXPECT_EQ(IntOr(*by_path.at("/items"), "http.request.body.size"), 28);
  EXPECT_EQ(IntOr(*by_path.at("/chunked"), "http.response.body.size"), 19);
  EXPECT_EQ(IntOr(*by_path.at("/missing"), "http.response.status_code"), 404);
  EXPECT_EQ(IntOr(*by_path.at("/nocontent"), "http.response.status_code"), 204);
  EXPECT_EQ(IntOr(*by_path.at("/notmodified"), "http.response.status_code"), 304);
  EXPECT_EQ(by_path.at("/error")->status, model::StatusCode::kError);
  EXPECT_EQ(IntOr(*by_path.at("/close"), "http.response.body.size"), 3000);
  const bool client = GetParam() == Role::kClient;
  EXPECT_EQ(by_path.at("/missing")->status,
            client ? model::StatusCode::kError : model::StatusCode::kUnset);
  ASSERT_EQ(Str(hello, "url.full") != nullptr, client);
  if (client) {
    EXPECT_EQ(Str(hello, "url.full")->substr(0, 17), "http://127.0.0.1:");
  }
}

TEST_P(PcapTest, PipelinedRequests) {
  const Decoded d = Decode("pipelined.pcap", GetParam(), false);
  EXPECT_EQ(d.stats.parse_errors, 0u);
  ASSERT_EQ(d.spans.size(), 3u);
  EXPECT_EQ(StrOr(d.spans[0], "url.path"), "/a");
  EXPECT_EQ(StrOr(d.spans[1], "url.path"), "/b");
  EXPECT_EQ(IntOr(d.spans[1], "http.request.body.size"), 5);
  EXPECT_EQ(StrOr(d.spans[2], "url.query"), "x=?");
  EXPECT_EQ(StrOr(d.spans[0], "server.address"), "pipe.test");
}

TEST_P(PcapTest, Curl) {
  const Decoded d = Decode("curl.pcap", GetParam(), false);
  EXPECT_EQ(d.stats.parse_errors, 0u);
  EXPECT_EQ(d.stats.ignored_frames, 1u);  // 100 Continue
  ASSERT_EQ(d.spans.size(), 3u);
  EXPECT_EQ(StrOr(d.spans[0], "url.query"), "q=?&api_key=?");
  EXPECT_EQ(StrOr(d.spans[0], "user_agent.original"), "curl/test");
  EXPECT_EQ(StrOr(d.spans[1], "http.request.method"), "HEAD");
  EXPECT_EQ(IntOr(d.spans[2], "http.request.body.size"), 2000);
  EXPECT_EQ(IntOr(d.spans[2], "http.response.status_code"), 201);
}

TEST_P(PcapTest, ByteAtATimeGivesTheSameSpans) {
  for (const char* pcap : {"python_client.pcap", "pipelined.pcap", "curl.pcap"}) {
    const Decoded whole = Decode(pcap, GetParam(), false);
    const Decoded bytes = Decode(pcap, GetParam(), true);
    EXPECT_EQ(Summary(whole.spans), Summary(bytes.spans)) << pcap;
    EXPECT_EQ(whole.stats.frames, bytes.stats.frames) << pcap;
    EXPECT_EQ(bytes.stats.parse_errors, 0u) << pcap;
  }
}

}  // namespace
}  // namespace wirespan::decoders::http
