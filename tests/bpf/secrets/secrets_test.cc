// No password, credential, SQL literal, Redis value or message body in anything the agent
// outputs: spans (JSON on stdout) and logs (stderr, at debug level), across all four decoders.
#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

#include "tests/support/postgres_server.h"
#include "tests/support/process.h"
#include "tests/support/rabbitmq_server.h"
#include "tests/support/redis_server.h"

namespace wirespan::testing {
namespace {

const std::string kWirespan = std::string(WIRESPAN_BINARY_DIR) + "/agent/cli/wirespan";

TEST(Secrets, NeverAppearInAnythingTheAgentPrints) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  auto pg = PostgresServer::Start();
  ASSERT_TRUE(pg.ok()) << pg.status().message();
  RedisServerOptions redis_options;
  redis_options.password = "RedisAuthPwZeta";
  auto redis = RedisServer::Start(redis_options);
  ASSERT_TRUE(redis.ok()) << redis.status().message();
  RabbitmqServerOptions rabbit_options;
  rabbit_options.user = "app";
  rabbit_options.password = "AmqpPwEta";
  auto rabbit = RabbitmqServer::Start(rabbit_options);
  ASSERT_TRUE(rabbit.ok()) << rabbit.status().message();

  const std::string dir = MakeTempDir("ws-secrets");
  const std::string log = dir + "/agent.log";
  auto agent = ChildProcess::Spawn({"/bin/sh", "-c",
                                    kWirespan + " run --print json --log-level debug --port " +
                                        std::to_string((*pg)->port()) + " --port " +
                                        std::to_string((*redis)->port()) + " --port " +
                                        std::to_string((*rabbit)->port()) + " 2>" + log});
  ASSERT_TRUE(agent.ok());
  // Attached once the agent logged that it runs.
  for (int i = 0; i < 200 && ReadFileOrEmpty(log).find("wirespan running") == std::string::npos;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_NE(ReadFileOrEmpty(log).find("wirespan running"), std::string::npos)
      << ReadFileOrEmpty(log);

  auto client = ChildProcess::Spawn(
      {kDebianPython, std::string(WIRESPAN_SOURCE_DIR) + "/tests/bpf/secrets/workload.py",
       (*pg)->Dsn(), (*redis)->Url(), (*rabbit)->Url()});
  ASSERT_TRUE(client.ok());
  client->WriteStdin("go\n");
  int rc = -1;
  ASSERT_TRUE(client->WaitFor(std::chrono::seconds(60), &rc));
  ASSERT_EQ(rc, 0);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  agent->Kill(SIGTERM);
  ASSERT_TRUE(agent->WaitFor(std::chrono::seconds(30)));

  const std::string out = agent->Stdout();
  const std::string err = ReadFileOrEmpty(log);
  // The decoders did see the traffic: otherwise the search below proves nothing.
  EXPECT_NE(out.find("\"db.system.name\":\"postgresql\""), std::string::npos);
  EXPECT_NE(out.find("\"db.system.name\":\"redis\""), std::string::npos);
  EXPECT_NE(out.find("\"messaging.system\":\"rabbitmq\""), std::string::npos);
  EXPECT_NE(out.find("vault"), std::string::npos) << "SQL text (sanitized) is exported";
  EXPECT_NE(out.find("session:1"), std::string::npos) << "Redis keys are kept";
  for (const std::string& secret :
       {(*pg)->password(), std::string("LiteralSecretAlpha"), std::string("4111222233334444"),
        std::string("ParamSecretBeta"), std::string("RedisValueGamma"),
        std::string("RedisHashDelta"), std::string("RedisAuthPwZeta"),
        std::string("AmqpBodyEpsilon"), std::string("AmqpPwEta")}) {
    EXPECT_EQ(out.find(secret), std::string::npos) << secret << " in spans";
    EXPECT_EQ(err.find(secret), std::string::npos) << secret << " in logs";
  }
}

}  // namespace
}  // namespace wirespan::testing
