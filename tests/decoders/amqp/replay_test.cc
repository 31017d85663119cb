// Replays the fixtures recorded from Debian's rabbitmq-server (scripts/fixtures/record-amqp.sh)
// through the real pipeline and checks every AMQP span (tests/decoders/amqp/fixture_checks.h).
#include <gtest/gtest.h>

#include "tests/decoders/amqp/fixture_checks.h"
#include "tests/support/replay.h"

namespace wirespan::testing {
namespace {

using namespace amqp_fixtures;  // NOLINT

std::string Fixture(const std::string& name) {
  return std::string(WIRESPAN_SOURCE_DIR) + "/tests/decoders/amqp/fixtures/" + name + ".pcap";
}

// Replays a fixture; the replay traces both ends, so the broker's view must mirror the client's.
Views Replay(const std::string& name, ReplayResult* out) {
  *out = ReplayCapture(Fixture(name));
  EXPECT_TRUE(out->status.ok()) << out->status.message();
  const auto& stats = out->stats_for(decoders::Protocol::kAmqp);
  EXPECT_EQ(stats.parse_errors, 0u);
  EXPECT_EQ(stats.unmatched_requests, 0u);
  EXPECT_EQ(stats.unmatched_responses, 0u);
  EXPECT_EQ(stats.dropped_frames, 0u);
  ExpectNoCredentials(out->spans);
  Views v = Split(out->spans);
  EXPECT_EQ(v.client.size(), v.server.size()) << Dump(v.client) << "---\n" << Dump(v.server);
  EXPECT_FALSE(v.client.empty());
  return v;
}

TEST(AmqpReplay, PikaBlocking) {
  ReplayResult r;
  Views v = Replay("pika_blocking", &r);
  SCOPED_TRACE(Dump(v.client));
  CheckPikaBlocking(v);
}

TEST(AmqpReplay, PikaSelectConnection) {
  ReplayResult r;
  Views v = Replay("pika_select", &r);
  SCOPED_TRACE(Dump(v.client));
  CheckPikaSelect(v);
}

TEST(AmqpReplay, AioPika) {
  ReplayResult r;
  Views v = Replay("aio_pika", &r);
  SCOPED_TRACE(Dump(v.client));
  CheckAioPika(v);
}

// Only the AMQP decoder enabled gives the same spans.
TEST(AmqpReplay, OnlyAmqpEnabled) {
  agent::PipelineOptions options;
  options.protocols = {decoders::Protocol::kAmqp};
  ReplayResult r = ReplayCapture(Fixture("pika_blocking"), options);
  ASSERT_TRUE(r.status.ok());
  CheckPikaBlocking(Split(r.spans));
}

}  // namespace
}  // namespace wirespan::testing
