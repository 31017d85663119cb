// Fixture captures (scripts/fixtures/record-redis.sh) replayed through the real pipeline.
#include "tests/support/replay.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <set>
#include <string>

namespace wirespan::testing {
namespace {

using decoders::Protocol;
using model::SpanKind;

std::string Fixture(const std::string& name) {
  return std::string(WIRESPAN_SOURCE_DIR) + "/tests/decoders/redis/fixtures/" + name + ".pcap";
}

ReplayResult Replay(const std::string& name) {
  agent::PipelineOptions options;
  options.protocols = {Protocol::kRedis};
  ReplayResult r = ReplayCapture(Fixture(name), options);
  EXPECT_TRUE(r.status.ok()) << r.status.message();
  if (std::getenv("WIRESPAN_DUMP_SPANS")) {
    for (const auto& s : r.spans) {
      std::printf(
          "%s %s | %s | %s | err=%s | %llu us\n", model::SpanKindName(s.kind), s.name.c_str(),
          AttrText(s, "db.query.text").c_str(), AttrText(s, "db.namespace").c_str(),
          AttrText(s, "error.type").c_str(),
          static_cast<unsigned long long>((s.end_time_unix_nano - s.start_time_unix_nano) / 1000));
    }
  }
  return r;
}

// No exported text may contain what the workloads marked as secret.
void ExpectNoSecrets(const std::vector<model::Span>& spans) {
  for (const auto& s : spans) {
    std::string all = s.name + " " + s.status_message;
    for (const auto& a : s.attributes.items()) all += " " + AttrText(s, a.key);
    for (const char* secret : {"secret", "fixture-pass", "alice@example.com", "value-"}) {
      EXPECT_EQ(all.find(secret), std::string::npos) << secret << " in: " << all;
    }
  }
}

std::vector<model::Span> Named(const std::vector<model::Span>& spans, const std::string& name) {
  std::vector<model::Span> out;
  for (const auto& s : spans) {
    if (s.name == name) out.push_back(s);
  }
  return out;
}

TEST(RedisReplay, RedisPySync) {
  ReplayResult r = Replay("redispy_sync");
  const auto& stats = r.stats_for(Protocol::kRedis);
  EXPECT_EQ(stats.parse_errors, 0u);
  EXPECT_EQ(stats.unmatched_requests, 0u);
  EXPECT_EQ(stats.unmatched_responses, 0u);
  const auto client = Filter(r.spans, "redis", SpanKind::kClient);
  const auto server = Filter(r.spans, "redis", SpanKind::kServer);
  EXPECT_GE(client.size(), 100u + 30u);
  EXPECT_EQ(client.size() + Filter(r.spans, "redis", SpanKind::kProducer).size(), server.size());
  ExpectNoSecrets(r.spans);

  // AUTH and SELECT 2 on connect; everything after runs in db 2.
  auto auth = Named(client, "AUTH");
  ASSERT_FALSE(auth.empty());
  EXPECT_EQ(AttrText(auth[0], "db.query.text"), "AUTH ?");
  EXPECT_EQ(AttrText(Named(client, "SELECT")[0], "db.namespace"), "2");
  auto sets = Named(client, "SET");
  ASSERT_FALSE(sets.empty());
  EXPECT_EQ(AttrText(sets[0], "db.query.text"), "SET game:42 ?");
  EXPECT_EQ(AttrText(sets[0], "db.namespace"), "2");
  EXPECT_EQ(AttrText(sets[0], "server.address"), "127.0.0.1");
  EXPECT_EQ(AttrText(sets[1], "db.query.text"), "SET session:1 ? EX ?");

  // The 100-command pipeline: 50 SET pipe:i and 50 GET pipe:i, in order.
  std::vector<model::Span> pipe;
  for (const auto& s : client) {
    if (AttrText(s, "db.query.text").find(" pipe:") != std::string::npos) pipe.push_back(s);
  }
  ASSERT_EQ(pipe.size(), 100u);
  for (size_t i = 0; i < 100; ++i) {
    const std::string key = "pipe:" + std::to_string(i / 2);
    EXPECT_EQ(AttrText(pipe[i], "db.query.text"), i % 2 ? "GET " + key : "SET " + key + " ?");
    EXPECT_EQ(AttrText(pipe[i], "db.redis.response.type"), i % 2 ? "blob-string" : "simple-string");
    EXPECT_LE(pipe[i].start_time_unix_nano, pipe[i].end_time_unix_nano);
    if (i > 0) {
      EXPECT_LE(pipe[i - 1].end_time_unix_nano, pipe[i].end_time_unix_nano);
    }
  }
  // All sent in one write: the commands start together, replies end in order.
  EXPECT_EQ(pipe.front().start_time_unix_nano, pipe.back().start_time_unix_nano);

  // Errors.
  bool wrongtype = false, err = false;
  for (const auto& s : client) {
    if (AttrText(s, "error.type") == "WRONGTYPE") wrongtype = true;
    if (s.name == "INCRBY" && AttrText(s, "error.type") == "ERR") err = true;  // redis-py incr()
  }
  EXPECT_TRUE(wrongtype);
  EXPECT_TRUE(err);

  // The transaction pipeline: MULTI, 5 queued commands ended by EXEC, EXEC.
  auto execs = Named(client, "EXEC");
  ASSERT_EQ(execs.size(), 2u);
  EXPECT_EQ(AttrText(execs[0], "db.operation.batch.size"), "5");
  EXPECT_EQ(AttrText(execs[0], "db.redis.transaction.outcome"), "exec");
  EXPECT_EQ(AttrText(execs[1], "db.redis.transaction.outcome"), "aborted");  // WATCH fired
  int queued = 0;
  for (const auto& s : client) {
    if (AttrText(s, "db.redis.transaction.outcome") == "exec" && s.name != "EXEC") {
      ++queued;
      EXPECT_EQ(s.end_time_unix_nano, execs[0].end_time_unix_nano);
      if (s.name == "LPUSH") {
        EXPECT_EQ(AttrText(s, "error.type"), "WRONGTYPE");
      }
    }
  }
  EXPECT_EQ(queued, 5);
  EXPECT_EQ(Named(client, "DISCARD").size(), 1u);
  EXPECT_EQ(Named(client, "WATCH").size(), 1u);

  // Blocking commands last as long as the server blocked.
  auto blpop = Named(client, "BLPOP");
  ASSERT_EQ(blpop.size(), 1u);
  EXPECT_GE(blpop[0].end_time_unix_nano - blpop[0].start_time_unix_nano, 250'000'000u);
  auto xread = Named(client, "XREAD");
  ASSERT_EQ(xread.size(), 1u);
  EXPECT_GE(xread[0].end_time_unix_nano - xread[0].start_time_unix_nano, 200'000'000u);
  EXPECT_EQ(AttrText(xread[0], "db.query.text"), "XREAD BLOCK ? COUNT ? STREAMS stream:1 ?");

  EXPECT_EQ(Named(client, "CLIENT SETNAME").size(), 1u);
  EXPECT_EQ(AttrText(Named(client, "CONFIG GET")[0], "db.query.text"), "CONFIG GET maxmemory");
  EXPECT_EQ(AttrText(Named(client, "OBJECT ENCODING")[0], "db.query.text"),
            "OBJECT ENCODING game:42");
  auto publish = Filter(r.spans, "redis", SpanKind::kProducer);
  ASSERT_EQ(publish.size(), 1u);
  EXPECT_EQ(publish[0].name, "publish news");
}

TEST(RedisReplay, RedisPyPubSubFiftyMessages) {
  ReplayResult r = Replay("redispy_pubsub");
  const auto& stats = r.stats_for(Protocol::kRedis);
  EXPECT_EQ(stats.parse_errors, 0u);
  EXPECT_EQ(stats.unmatched_requests, 0u);
  EXPECT_EQ(stats.unmatched_responses, 0u);
  ExpectNoSecrets(r.spans);
  const auto consumers = Filter(r.spans, "redis", SpanKind::kConsumer);
  std::map<std::string, int> per_channel;
  for (const auto& s : consumers) {
    ++per_channel[AttrText(s, "messaging.destination.name")];
    EXPECT_EQ(s.name, "receive " + AttrText(s, "messaging.destination.name"));
    EXPECT_EQ(AttrText(s, "messaging.operation.type"), "receive");
  }
  EXPECT_EQ(per_channel["news"], 50);
  EXPECT_EQ(per_channel["sports"], 5);
  EXPECT_EQ(consumers.size(), 55u);
  const auto producers = Filter(r.spans, "redis", SpanKind::kProducer);
  EXPECT_EQ(producers.size(), 55u);
  const auto client = Filter(r.spans, "redis", SpanKind::kClient);
  EXPECT_EQ(Named(client, "SUBSCRIBE").size(), 1u);
  EXPECT_EQ(Named(client, "PSUBSCRIBE").size(), 1u);
  EXPECT_EQ(Named(client, "UNSUBSCRIBE").size(), 1u);
  EXPECT_EQ(Named(client, "PING").size(), 1u);
}

TEST(RedisReplay, RedisPyAsyncio) {
  ReplayResult r = Replay("redispy_asyncio");
  const auto& stats = r.stats_for(Protocol::kRedis);
  EXPECT_EQ(stats.parse_errors, 0u);
  EXPECT_EQ(stats.unmatched_requests, 0u);
  EXPECT_EQ(stats.unmatched_responses, 0u);
  ExpectNoSecrets(r.spans);
  const auto client = Filter(r.spans, "redis", SpanKind::kClient);
  EXPECT_EQ(Named(client, "INCRBY").size(), 21u);  // 20 pipelined + 1 in the transaction
  auto exec = Named(client, "EXEC");
  ASSERT_EQ(exec.size(), 1u);
  EXPECT_EQ(AttrText(exec[0], "db.operation.batch.size"), "3");
  EXPECT_EQ(Filter(r.spans, "redis", SpanKind::kConsumer).size(), 10u);
  EXPECT_EQ(Filter(r.spans, "redis", SpanKind::kProducer).size(), 10u);
}

TEST(RedisReplay, RedisCliResp3) {
  ReplayResult r = Replay("redis_cli_resp3");
  const auto& stats = r.stats_for(Protocol::kRedis);
  EXPECT_EQ(stats.parse_errors, 0u);
  EXPECT_EQ(stats.unmatched_requests, 0u);
  EXPECT_EQ(stats.unmatched_responses, 0u);
  ExpectNoSecrets(r.spans);
  const auto client = Filter(r.spans, "redis", SpanKind::kClient);
  auto hello = Named(client, "HELLO");
  ASSERT_FALSE(hello.empty());
  EXPECT_EQ(AttrText(hello[0], "db.query.text").rfind("HELLO 3", 0), 0u);
  auto hgetall = Named(client, "HGETALL");
  ASSERT_EQ(hgetall.size(), 1u);
  EXPECT_EQ(AttrText(hgetall[0], "db.redis.response.type"), "map");
  EXPECT_EQ(AttrText(Named(client, "SMEMBERS")[0], "db.redis.response.type"), "set");
  EXPECT_EQ(AttrText(Named(client, "ZSCORE")[0], "db.redis.response.type"), "double");
  auto sets = Named(client, "SET");
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_EQ(AttrText(sets[0], "db.namespace"), "0");
  EXPECT_EQ(AttrText(sets[1], "db.namespace"), "5");
  EXPECT_EQ(AttrText(Named(client, "INCR")[0], "error.type"), "ERR");
  EXPECT_EQ(Named(client, "CLIENT INFO").size(), 1u);
}

TEST(RedisReplay, RawResp3EveryTypeInlineAndPushes) {
  ReplayResult r = Replay("raw_resp3");
  const auto& stats = r.stats_for(Protocol::kRedis);
  EXPECT_EQ(stats.parse_errors, 0u);
  EXPECT_EQ(stats.unmatched_requests, 0u);
  EXPECT_EQ(stats.unmatched_responses, 0u);
  ExpectNoSecrets(r.spans);
  const auto client = Filter(r.spans, "redis", SpanKind::kClient);
  // Inline commands.
  ASSERT_GE(client.size(), 3u);
  EXPECT_EQ(client[0].name, "PING");
  EXPECT_EQ(AttrText(client[1], "db.query.text"), "SET inline:key ?");
  EXPECT_EQ(AttrText(client[2], "db.query.text"), "GET inline:key");
  // DEBUG PROTOCOL <type>: every RESP3 type.
  std::map<std::string, std::string> types;
  for (const auto& s : client) {
    if (s.name == "DEBUG PROTOCOL") {
      types[std::to_string(types.size())] = AttrText(s, "db.redis.response.type");
    }
  }
  std::set<std::string> seen;
  for (auto& [k, v] : types) seen.insert(v);
  for (const char* t : {"blob-string", "integer", "double", "big-number", "null", "array", "set",
                        "map", "verbatim-string", "boolean"}) {
    EXPECT_TRUE(seen.count(t)) << t;
  }
  // RESP3 pub/sub: 10 messages as consumer spans, the GETs in between still matched.
  EXPECT_EQ(Filter(r.spans, "redis", SpanKind::kConsumer).size(), 10u);
  EXPECT_EQ(Filter(r.spans, "redis", SpanKind::kProducer).size(), 10u);
  EXPECT_EQ(AttrText(Named(client, "LPUSH")[0], "error.type"), "WRONGTYPE");
  EXPECT_EQ(Named(client, "HELLO").size(), 2u);
  EXPECT_EQ(Named(client, "HGETALL").size(), 2u);
  EXPECT_EQ(AttrText(Named(client, "HGETALL")[0], "db.redis.response.type"), "map");
  EXPECT_EQ(AttrText(Named(client, "HGETALL")[1], "db.redis.response.type"), "array");
}

}  // namespace
}  // namespace wirespan::testing
