// Live acceptance tests of the Redis decoder: Debian's redis-py (sync, asyncio), redis-cli -3 and
// a raw RESP3 client against a throwaway redis-server, traced by the real BPF probes in-process.
// Needs root. The workloads are the fixture workloads (scripts/fixtures/redis/).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <thread>

#include "tests/support/live_agent.h"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"
#include "tests/support/replay.h"

namespace wirespan::testing {
namespace {

using namespace std::chrono_literals;
using model::SpanKind;

const std::string kWorkloads = std::string(WIRESPAN_SOURCE_DIR) + "/scripts/fixtures/redis";
constexpr const char* kPassword = "live-pass-s3cret";
constexpr const char* kSecrets[] = {"secret", "s3cret", "alice@example.com", "value-"};

class RedisLive : public ::testing::Test {
 protected:
  void StartServer(RedisServerOptions options = {}) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    options.extra_args.push_back("--enable-debug-command");
    options.extra_args.push_back("local");
    auto server = RedisServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status().message();
    server_ = std::move(server.value());
  }

  static StatusOr<std::unique_ptr<LiveAgent>> StartAgent() {
    agent::PipelineOptions options;
    options.protocols = {decoders::Protocol::kRedis};
    agent::BpfSourceConfig source;
    source.trace_all = false;
    return LiveAgent::Start(options, source);
  }

  // Runs argv traced from its first byte: it prints "ready" and waits on stdin until traced.
  void RunTraced(LiveAgent& agent, std::vector<std::string> argv, std::string stdin_after = {},
                 std::vector<std::string> env = {}) {
    env.push_back("WIRESPAN_WAIT_STDIN=1");
    env.push_back("PYTHONDONTWRITEBYTECODE=1");
    auto child = ChildProcess::Spawn(argv, env);
    ASSERT_TRUE(child.ok()) << child.status().message();
    for (int i = 0; i < 400 && child->Stdout().find("ready") == std::string::npos; ++i) {
      std::this_thread::sleep_for(25ms);
    }
    agent.Trace(static_cast<uint32_t>(child->pid()));
    std::this_thread::sleep_for(100ms);
    child->WriteStdin("go\n" + stdin_after);
    child->CloseStdin();
    int code = -1;
    ASSERT_TRUE(child->WaitFor(120s, &code)) << argv[1] << " did not finish";
    EXPECT_EQ(code, 0) << argv[1];
  }

  void RunPython(LiveAgent& agent, const std::string& script, std::vector<std::string> args) {
    std::vector<std::string> argv = {kDebianPython, kWorkloads + "/" + script};
    argv.insert(argv.end(), args.begin(), args.end());
    RunTraced(agent, argv);
  }

  std::string Port() const { return std::to_string(server_->port()); }

  static std::vector<model::Span> Named(const std::vector<model::Span>& spans,
                                        const std::string& name) {
    std::vector<model::Span> out;
    for (const auto& s : spans) {
      if (s.name == name) out.push_back(s);
    }
    return out;
  }

  static void ExpectNoSecrets(const std::vector<model::Span>& spans) {
    for (const auto& s : spans) {
      std::string all = s.name + " " + s.status_message;
      for (const auto& a : s.attributes.items()) all += " " + AttrText(s, a.key);
      for (const char* secret : kSecrets) {
        EXPECT_EQ(all.find(secret), std::string::npos) << secret << " in: " << all;
      }
    }
  }

  // Kernel counters are only readable while the probes are loaded: read them, then stop.
  void Stop(LiveAgent& agent) {
    kernel_drops_ = agent.KernelDrops();
    agent.Stop();
  }

  void ExpectCleanStats(LiveAgent& agent) const {
    const auto st = agent.StatsFor(decoders::Protocol::kRedis);
    EXPECT_EQ(st.parse_errors, 0u);
    EXPECT_EQ(st.unmatched_requests, 0u);
    EXPECT_EQ(st.unmatched_responses, 0u);
    EXPECT_EQ(kernel_drops_, 0u);
  }

  std::unique_ptr<RedisServer> server_;
  uint64_t kernel_drops_ = 0;
};

// Acceptance 2 and 5 with sync redis-py: AUTH + SELECT 2 on connect, a 100-command pipeline, a
// MULTI/EXEC pipeline of 5, a WATCH abort, DISCARD, blocking BLPOP/XREAD with their real
// duration, errors, two-word commands; no secret in any span.
TEST_F(RedisLive, RedisPySyncPipelineTransactionBlocking) {
  RedisServerOptions options;
  options.password = kPassword;
  StartServer(options);
  auto agent = StartAgent();
  ASSERT_TRUE(agent.ok()) << agent.status().message();
  RunPython(**agent, "redispy_sync.py", {"127.0.0.1", Port(), kPassword});
  (*agent)->WaitFor([](const auto& s) { return !Filter(s, "redis", SpanKind::kProducer).empty(); },
                    20s);
  Stop(**agent);
  const auto spans = (*agent)->Spans();
  const auto client = Filter(spans, "redis", SpanKind::kClient);
  ExpectNoSecrets(spans);
  ExpectCleanStats(**agent);

  ASSERT_FALSE(Named(client, "AUTH").empty());
  EXPECT_EQ(AttrText(Named(client, "AUTH")[0], "db.query.text"), "AUTH ?");
  std::vector<model::Span> pipe;
  for (const auto& s : client) {
    if (AttrText(s, "db.query.text").find(" pipe:") != std::string::npos) pipe.push_back(s);
  }
  ASSERT_EQ(pipe.size(), 100u);
  for (size_t i = 0; i < pipe.size(); ++i) {
    const std::string key = "pipe:" + std::to_string(i / 2);
    EXPECT_EQ(AttrText(pipe[i], "db.query.text"), i % 2 ? "GET " + key : "SET " + key + " ?");
    EXPECT_EQ(AttrText(pipe[i], "db.redis.response.type"), i % 2 ? "blob-string" : "simple-string");
    EXPECT_EQ(AttrText(pipe[i], "db.namespace"), "2");
    EXPECT_EQ(AttrText(pipe[i], "server.port"), Port());
    EXPECT_LE(pipe[i].start_time_unix_nano, pipe[i].end_time_unix_nano);
    if (i > 0) {
      EXPECT_LE(pipe[i - 1].end_time_unix_nano, pipe[i].end_time_unix_nano);
    }
  }
  auto execs = Named(client, "EXEC");
  ASSERT_EQ(execs.size(), 2u);
  EXPECT_EQ(AttrText(execs[0], "db.operation.batch.size"), "5");
  EXPECT_EQ(AttrText(execs[1], "db.redis.transaction.outcome"), "aborted");
  size_t queued = 0;
  for (const auto& s : client) {
    if (AttrText(s, "db.redis.transaction.outcome") == "exec" && s.name != "EXEC") ++queued;
  }
  EXPECT_EQ(queued, 5u);
  auto blpop = Named(client, "BLPOP");
  ASSERT_EQ(blpop.size(), 1u);
  EXPECT_GE(blpop[0].end_time_unix_nano - blpop[0].start_time_unix_nano, 250'000'000u);
  auto xread = Named(client, "XREAD");
  ASSERT_EQ(xread.size(), 1u);
  EXPECT_GE(xread[0].end_time_unix_nano - xread[0].start_time_unix_nano, 200'000'000u);
  bool wrongtype = false;
  for (const auto& s : client) wrongtype = wrongtype || AttrText(s, "error.type") == "WRONGTYPE";
  EXPECT_TRUE(wrongtype);
  EXPECT_EQ(Named(client, "CLIENT SETNAME").size(), 1u);
  EXPECT_EQ(Named(client, "CONFIG GET").size(), 1u);
}

// Acceptance 3: a subscriber receiving 50 published messages gives 50 consumer spans on "news".
TEST_F(RedisLive, RedisPyPubSubFiftyConsumerSpans) {
  StartServer();
  auto agent = StartAgent();
  ASSERT_TRUE(agent.ok()) << agent.status().message();
  RunPython(**agent, "redispy_pubsub.py", {"127.0.0.1", Port()});
  (*agent)->WaitFor(
      [](const auto& s) { return Filter(s, "redis", SpanKind::kConsumer).size() >= 55; }, 20s);
  Stop(**agent);
  const auto spans = (*agent)->Spans();
  ExpectNoSecrets(spans);
  ExpectCleanStats(**agent);
  std::map<std::string, int> per_channel;
  for (const auto& s : Filter(spans, "redis", SpanKind::kConsumer)) {
    ++per_channel[AttrText(s, "messaging.destination.name")];
    EXPECT_EQ(AttrText(s, "messaging.operation.type"), "receive");
  }
  EXPECT_EQ(per_channel["news"], 50);
  EXPECT_EQ(per_channel["sports"], 5);
  EXPECT_EQ(Filter(spans, "redis", SpanKind::kProducer).size(), 55u);
}

TEST_F(RedisLive, RedisPyAsyncio) {
  StartServer();
  auto agent = StartAgent();
  ASSERT_TRUE(agent.ok()) << agent.status().message();
  RunPython(**agent, "redispy_asyncio.py", {"127.0.0.1", Port()});
  (*agent)->WaitFor(
      [](const auto& s) { return Filter(s, "redis", SpanKind::kConsumer).size() >= 10; }, 20s);
  Stop(**agent);
  const auto spans = (*agent)->Spans();
  const auto client = Filter(spans, "redis", SpanKind::kClient);
  ExpectNoSecrets(spans);
  ExpectCleanStats(**agent);
  EXPECT_EQ(Named(client, "INCRBY").size(), 21u);
  ASSERT_EQ(Named(client, "EXEC").size(), 1u);
  EXPECT_EQ(AttrText(Named(client, "EXEC")[0], "db.operation.batch.size"), "3");
  EXPECT_EQ(Filter(spans, "redis", SpanKind::kConsumer).size(), 10u);
}

// redis-cli -3: HELLO 3 on connect, RESP3 maps/sets/doubles, SELECT 5.
TEST_F(RedisLive, RedisCliResp3) {
  RedisServerOptions options;
  options.password = kPassword;
  StartServer(options);
  auto agent = StartAgent();
  ASSERT_TRUE(agent.ok()) << agent.status().message();
  // The shell waits to be traced, then becomes redis-cli (same pid) reading commands on stdin.
  RunTraced(**agent,
            {"/bin/sh", "-c",
             "echo ready; read _go; exec redis-cli -3 -h 127.0.0.1 -p " + Port() + " >/dev/null"},
            "SET cli:key cli-secret-value\nHSET cli:hash f cli-hash-secret\nHGETALL cli:hash\n"
            "SADD cli:set m\nSMEMBERS cli:set\nZADD cli:z 3.25 m\nZSCORE cli:z m\nSELECT 5\n"
            "SET db5:key db5-secret\n",
            {std::string("REDISCLI_AUTH=") + kPassword});
  (*agent)->WaitFor(
      [](const auto& s) {
        for (const auto& x : s) {
          if (AttrText(x, "db.query.text") == "SET db5:key ?") return true;
        }
        return false;
      },
      20s);
  Stop(**agent);
  const auto spans = (*agent)->Spans();
  const auto client = Filter(spans, "redis", SpanKind::kClient);
  ExpectNoSecrets(spans);
  ExpectCleanStats(**agent);
  ASSERT_FALSE(Named(client, "HELLO").empty());
  EXPECT_EQ(AttrText(Named(client, "HELLO")[0], "db.query.text"), "HELLO 3");
  ASSERT_EQ(Named(client, "HGETALL").size(), 1u);
  EXPECT_EQ(AttrText(Named(client, "HGETALL")[0], "db.redis.response.type"), "map");
  EXPECT_EQ(AttrText(Named(client, "SMEMBERS")[0], "db.redis.response.type"), "set");
  EXPECT_EQ(AttrText(Named(client, "ZSCORE")[0], "db.redis.response.type"), "double");
  auto sets = Named(client, "SET");
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_EQ(AttrText(sets[1], "db.namespace"), "5");
}

// A raw client: inline commands, HELLO 3 / HELLO 2 switching, every RESP3 type, RESP3 pushes
// interleaved with replies.
TEST_F(RedisLive, RawResp3Client) {
  StartServer();
  auto agent = StartAgent();
  ASSERT_TRUE(agent.ok()) << agent.status().message();
  RunPython(**agent, "raw_resp3.py", {"127.0.0.1", Port()});
  (*agent)->WaitFor(
      [](const auto& s) { return !Named(Filter(s, "redis", SpanKind::kClient), "QUIT").empty(); },
      20s);
  Stop(**agent);
  const auto spans = (*agent)->Spans();
  const auto client = Filter(spans, "redis", SpanKind::kClient);
  ExpectNoSecrets(spans);
  ExpectCleanStats(**agent);
  ASSERT_GE(client.size(), 3u);
  EXPECT_EQ(client[0].name, "PING");
  EXPECT_EQ(AttrText(client[1], "db.query.text"), "SET inline:key ?");
  EXPECT_EQ(Named(client, "HELLO").size(), 2u);
  EXPECT_EQ(Named(client, "DEBUG PROTOCOL").size(), 13u);
  EXPECT_EQ(Filter(spans, "redis", SpanKind::kConsumer).size(), 10u);
  EXPECT_EQ(AttrText(Named(client, "LPUSH")[0], "error.type"), "WRONGTYPE");
}

}  // namespace
}  // namespace wirespan::testing
