// Live acceptance tests of the AMQP 0-9-1 decoder: the fixture workloads (scripts/fixtures/amqp/)
// run under the real BPF probes against a throwaway rabbitmq-server, and every span and attribute
// is checked with the same expectations as the pcap replays (tests/decoders/amqp/fixture_checks.h).
// Needs root.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "tests/decoders/amqp/fixture_checks.h"
#include "tests/support/live_agent.h"
#include "tests/support/process.h"
#include "tests/support/rabbitmq_server.h"
#include "tests/support/replay.h"

namespace wirespan::testing {
namespace {

using namespace std::chrono_literals;
using namespace amqp_fixtures;  // NOLINT

const std::string kWorkloads = std::string(WIRESPAN_SOURCE_DIR) + "/scripts/fixtures/amqp";

class AmqpLive : public ::testing::Test {
 protected:
  // One broker for the suite: it takes seconds to boot.
  static void SetUpTestSuite() {
    if (geteuid() != 0) return;
    RabbitmqServerOptions options;
    options.user = kUser;
    options.password = kPassword;
    auto server = RabbitmqServer::Start(options);
    if (server.ok()) {
      server_ = std::move(server.value()).release();
    } else {
      start_error_ = new std::string(server.status().message());
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    ASSERT_NE(server_, nullptr) << (start_error_ ? *start_error_ : "");
  }

  static StatusOr<std::unique_ptr<LiveAgent>> StartAgent() {
    agent::PipelineOptions options;
    agent::BpfSourceConfig source;
    source.trace_all = false;
    return LiveAgent::Start(options, source);
  }

  std::vector<std::string> Args(const std::string& script) const {
    return {kDebianPython,   kWorkloads + "/" + script,
            server_->host(), std::to_string(server_->port()),
            server_->user(), server_->password()};
  }

  // Runs a workload: it prints "ready" and waits on stdin; it is traced from that point.
  void RunTraced(LiveAgent& agent, const std::string& script, bool wait_stdin = true) {
    std::vector<std::string> env = {"PYTHONPATH=" + kWorkloads, "PYTHONDONTWRITEBYTECODE=1"};
    if (wait_stdin) env.push_back("WIRESPAN_WAIT_STDIN=1");
    auto child = ChildProcess::Spawn(Args(script), env);
    ASSERT_TRUE(child.ok()) << child.status().message();
    for (int i = 0; i < 400 && child->Stdout().find("ready") == std::string::npos; ++i) {
      std::this_thread::sleep_for(25ms);
    }
    ASSERT_NE(child->Stdout().find("ready"), std::string::npos) << script;
    agent.Trace(static_cast<uint32_t>(child->pid()));
    std::this_thread::sleep_for(200ms);
    child->WriteStdin("go\n");
    int code = -1;
    ASSERT_TRUE(child->WaitFor(120s, &code)) << script << " did not finish";
    EXPECT_EQ(code, 0) << script;
    EXPECT_NE(child->Stdout().find("done"), std::string::npos) << script;
  }

  // Stops the agent (flushing every connection) and returns the AMQP spans, client's view.
  static Views Finish(LiveAgent& agent) {
    EXPECT_EQ(agent.KernelDrops(), 0u);  // read while the probes are still loaded
    agent.Stop();
    const auto spans = agent.Spans();
    ExpectNoCredentials(spans);
    const auto stats = agent.StatsFor(decoders::Protocol::kAmqp);
    EXPECT_EQ(stats.parse_errors, 0u);
    Views v = Split(spans);
    EXPECT_TRUE(v.server.empty());  // only the client process is traced
    return v;
  }

  static inline RabbitmqServer* server_ = nullptr;
  static inline std::string* start_error_ = nullptr;
};

size_t CountKind(const std::vector<model::Span>& spans, SpanKind kind) {
  size_t n = 0;
  for (const auto& s : spans) n += s.protocol == "amqp" && s.kind == kind;
  return n;
}

TEST_F(AmqpLive, PikaBlocking) {
  auto agent = StartAgent();
  ASSERT_TRUE(agent.ok()) << agent.status().message();
  RunTraced(**agent, "pika_blocking.py");
  (*agent)->WaitFor([](const auto& s) { return CountKind(s, SpanKind::kConsumer) >= 6; }, 10s);
  Views v = Finish(**agent);
  SCOPED_TRACE(Dump(v.client));
  CheckPikaBlocking(v);
}

TEST_F(AmqpLive, PikaSelectConnection) {
  auto agent = StartAgent();
  ASSERT_TRUE(agent.ok()) << agent.status().message();
  RunTraced(**agent, "pika_select.py");
  (*agent)->WaitFor([](const auto& s) { return CountKind(s, SpanKind::kConsumer) >= 3; }, 10s);
  Views v = Finish(**agent);
  SCOPED_TRACE(Dump(v.client));
  CheckPikaSelect(v);
}

TEST_F(AmqpLive, AioPika) {
  auto agent = StartAgent();
  ASSERT_TRUE(agent.ok()) << agent.status().message();
  RunTraced(**agent, "aio_pika_workload.py");
  (*agent)->WaitFor([](const auto& s) { return CountKind(s, SpanKind::kConsumer) >= 3; }, 10s);
  Views v = Finish(**agent);
  SCOPED_TRACE(Dump(v.client));
  CheckAioPika(v);
}

// A connection opened before tracing starts is picked up at its next frame boundary.
TEST_F(AmqpLive, ConnectionOpenBeforeTracing) {
  auto agent = StartAgent();
  ASSERT_TRUE(agent.ok()) << agent.status().message();
  RunTraced(**agent, "midstream.py", /*wait_stdin=*/false);
  (*agent)->WaitFor([](const auto& s) { return CountKind(s, SpanKind::kConsumer) >= 3; }, 10s);
  Views v = Finish(**agent);
  SCOPED_TRACE(Dump(v.client));
  auto producers = Kind(v.client, SpanKind::kProducer);
  ASSERT_EQ(producers.size(), 3u);
  auto consumers = Kind(v.client, SpanKind::kConsumer);
  ASSERT_EQ(consumers.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    ExpectCommon(producers[i]);
    ExpectCommon(consumers[i]);
    EXPECT_EQ(producers[i].name, "publish ws.mid");
    EXPECT_EQ(AttrText(producers[i], "messaging.message.id"), "mid-" + std::to_string(i));
    EXPECT_EQ(consumers[i].name, "get ws.mid");
    EXPECT_EQ(AttrText(consumers[i], "messaging.message.id"), "mid-" + std::to_string(i));
    EXPECT_EQ(AttrText(consumers[i], "wirespan.amqp.settlement"), "ack");
    EXPECT_EQ(AttrText(consumers[i], "messaging.rabbitmq.message.delivery_tag"),
              std::to_string(i + 1));
    EXPECT_EQ(AttrText(consumers[i], "wirespan.message.fingerprint"),
              AttrText(producers[i], "wirespan.message.fingerprint"));
  }
  auto calls = Kind(v.client, SpanKind::kClient);
  EXPECT_NE(Named(calls, "queue.delete ws.mid"), nullptr);
  EXPECT_EQ(Named(calls, "connection.open"), nullptr);  // before tracing
}

}  // namespace
}  // namespace wirespan::testing
