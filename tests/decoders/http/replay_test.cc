// The fixtures through the real pipeline (pcap replay with TCP reassembly -> connection tracking
// -> detection -> HTTP decoder), both sides of every connection.
#include "tests/support/replay.h"

#include <gtest/gtest.h>

#include <string>

namespace wirespan::decoders::http {
namespace {

using wirespan::testing::AttrText;
using wirespan::testing::Filter;
using wirespan::testing::ReplayCapture;

std::string Fixture(const std::string& name) {
  return std::string(WIRESPAN_SOURCE_DIR) + "/tests/decoders/http/fixtures/" + name;
}

TEST(HttpReplay, PythonClientAndServer) {
  const auto result = ReplayCapture(Fixture("python_client.pcap"));
  ASSERT_TRUE(result.status.ok()) << result.status.message();
  const auto clients = Filter(result.spans, "http", model::SpanKind::kClient);
  const auto servers = Filter(result.spans, "http", model::SpanKind::kServer);
  ASSERT_EQ(clients.size(), 9u);
  ASSERT_EQ(servers.size(), 9u);
  EXPECT_EQ(AttrText(clients[0], "url.path"), "/hello");
  EXPECT_EQ(AttrText(clients[0], "url.query"), "user=?&token=?");
  EXPECT_EQ(AttrText(servers[0], "http.response.status_code"), "200");
  EXPECT_EQ(model::ToHex(servers[0].trace_id), "0af7651916cd43dd8448eb211c80319c");
  const auto& stats = result.stats_for(Protocol::kHttp);
  EXPECT_EQ(stats.parse_errors, 0u);
  EXPECT_EQ(stats.unmatched_requests + stats.unmatched_responses, 0u);
}

TEST(HttpReplay, PipelinedAndCurl) {
  for (const char* pcap : {"pipelined.pcap", "curl.pcap"}) {
    const auto result = ReplayCapture(Fixture(pcap));
    ASSERT_TRUE(result.status.ok()) << result.status.message();
    EXPECT_EQ(Filter(result.spans, "http", model::SpanKind::kClient).size(), 3u) << pcap;
    EXPECT_EQ(Filter(result.spans, "http", model::SpanKind::kServer).size(), 3u) << pcap;
    EXPECT_EQ(result.stats_for(Protocol::kHttp).parse_errors, 0u) << pcap;
  }
}

}  // namespace
}  // namespace wirespan::decoders::http
