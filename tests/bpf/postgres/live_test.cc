// Live acceptance tests of the PostgreSQL decoder: Debian's Python clients (asyncpg, psycopg2,
// psycopg 3, SQLAlchemy) and a throwaway PostgreSQL 15, traced by the real BPF probes in-process.
// Needs root. The workloads are the fixture workloads (scripts/fixtures/postgres/).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/live_agent.h"
#include "tests/support/postgres_server.h"
#include "tests/support/process.h"
#include "tests/support/replay.h"

namespace wirespan::testing {
namespace {

using namespace std::chrono_literals;

const std::string kWorkloads = std::string(WIRESPAN_SOURCE_DIR) + "/scripts/fixtures/postgres";
constexpr const char* kSecrets[] = {"wirespan-Secret-Pw-42",
                                    "SECRET-LITERAL-7f3a9c",
                                    "987654321123",
                                    "game-1",
                                    "pipe-3",
                                    "copied-"};

class PostgresLive : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    auto pg = PostgresServer::Start();
    ASSERT_TRUE(pg.ok()) << pg.status().message();
    pg_ = std::move(pg.value());
  }

  std::vector<std::string> Env(std::vector<std::string> more = {}) const {
    std::vector<std::string> env = pg_->Env();
    env.push_back("PYTHONPATH=" + kWorkloads);
    env.push_back("PYTHONDONTWRITEBYTECODE=1");
    env.insert(env.end(), more.begin(), more.end());
    return env;
  }

  static StatusOr<std::unique_ptr<LiveAgent>> StartAgent(size_t max_query_text_bytes = 4096) {
    agent::PipelineOptions options;
    options.decoder_options.max_query_text_bytes = max_query_text_bytes;
    agent::BpfSourceConfig source;
    source.trace_all = false;
    return LiveAgent::Start(options, source);
  }

  // Runs a workload traced from its first byte: it waits on stdin until Trace() is done.
  void RunTraced(LiveAgent& agent, const std::string& script, std::vector<std::string> args = {}) {
    std::vector<std::string> argv = {kDebianPython, kWorkloads + "/" + script};
    argv.insert(argv.end(), args.begin(), args.end());
    auto child = ChildProcess::Spawn(argv, Env({"WIRESPAN_WAIT_STDIN=1"}));
    ASSERT_TRUE(child.ok()) << child.status().message();
    for (int i = 0; i < 200 && child->Stdout().find("ready") == std::string::npos; ++i) {
      std::this_thread::sleep_for(25ms);
    }
    agent.Trace(static_cast<uint32_t>(child->pid()));
    std::this_thread::sleep_for(100ms);
    child->WriteStdin("go\n");
    int code = -1;
    ASSERT_TRUE(child->WaitFor(120s, &code)) << script << " did not finish";
    EXPECT_EQ(code, 0) << script;
  }

  static std::vector<model::Span> Clients(const std::vector<model::Span>& spans) {
    return Filter(spans, "postgresql", model::SpanKind::kClient);
  }
  static size_t CountText(const std::vector<model::Span>& spans, const std::string& text) {
    size_t n = 0;
    for (const auto& s : Clients(spans)) n += AttrText(s, "db.query.text") == text;
    return n;
  }

  std::unique_ptr<PostgresServer> pg_;
};

// Acceptance 1, 2 and 3 with asyncpg: every Execute carries its SQL, executemany gives 50 spans in
// order with row counts, the 20 KiB statement is cut cleanly at the limit.
TEST_F(PostgresLive, AsyncpgPreparedStatementsExecuteManyAndLongStatement) {
  auto agent = StartAgent();
  ASSERT_TRUE(agent.ok()) << agent.status().message();
  RunTraced(**agent, "asyncpg_workload.py");
  const std::string insert = "INSERT INTO games (id, name, price) VALUES ($1, $2, $3)";
  auto spans = (*agent)->WaitFor(
      [&](const auto& s) {
        for (const auto& x : Clients(s)) {
          if (AttrText(x, "db.query.text").rfind("SELECT id FROM games WHERE id IN", 0) == 0) {
            return true;
          }
        }
        return false;
      },
      20s);
  (*agent)->Stop();
  spans = (*agent)->Spans();
  const auto clients = Clients(spans);
  ASSERT_FALSE(clients.empty());
  size_t with_text = 0;
  for (const auto& s : clients) {
    EXPECT_EQ(AttrText(s, "db.postgresql.query_text.unknown"), "") << s.name;
    with_text += !AttrText(s, "db.query.text").empty();
    EXPECT_EQ(AttrText(s, "db.namespace"), "shop");
    EXPECT_EQ(AttrText(s, "server.port"), std::to_string(pg_->port()));
  }
  EXPECT_EQ(with_text, clients.size());  // 100%
  // executemany: 50 consecutive INSERT spans, each one row.
  size_t first = 0;
  while (first < clients.size() && AttrText(clients[first], "db.query.text") != insert) ++first;
  ASSERT_LE(first + 50, clients.size());
  for (size_t i = first; i < first + 50; ++i) {
    EXPECT_EQ(AttrText(clients[i], "db.query.text"), insert) << i;
    EXPECT_EQ(AttrText(clients[i], "db.postgresql.affected_rows"), "1") << i;
  }
  // The unique violation carries its SQLSTATE.
  bool dup = false;
  for (const auto& s : clients) dup = dup || AttrText(s, "db.response.status_code") == "23505";
  EXPECT_TRUE(dup);
  // The long statement: cut at 4 KiB with the marker.
  bool long_seen = false;
  for (const auto& s : clients) {
    const std::string text = AttrText(s, "db.query.text");
    if (text.rfind("SELECT id FROM games WHERE id IN", 0) != 0) continue;
    long_seen = true;
    EXPECT_LE(text.size(), 4096u);
    EXPECT_EQ(text.substr(text.size() - 3), "...");
  }
  EXPECT_TRUE(long_seen);
  const auto st = (*agent)->StatsFor(decoders::Protocol::kPostgres);
  EXPECT_EQ(st.parse_errors, 0u);
  EXPECT_EQ(st.unmatched_requests, 0u);
}

// Acceptance 3 at a larger limit: the 20 KiB statement arrives whole.
TEST_F(PostgresLive, LongStatementWholeUnderALargerLimit) {
  auto agent = StartAgent(32 * 1024);
  ASSERT_TRUE(agent.ok()) << agent.status().message();
  RunTraced(**agent, "psycopg3_workload.py");
  (*agent)->Stop();
  bool seen = false;
  for (const auto& s : Clients((*agent)->Spans())) {
    const std::string text = AttrText(s, "db.query.text");
    if (text.rfind("SELECT id FROM games WHERE id IN", 0) != 0) continue;
    seen = true;
    EXPECT_GT(text.size(), 12000u);
    EXPECT_EQ(text.back(), ')');
    EXPECT_EQ(AttrText(s, "db.postgresql.query_text.truncated"), "");
  }
  EXPECT_TRUE(seen);
}

// Acceptance 2 with psycopg 3's pipeline mode: one span per statement in order; the failing one
// has its SQLSTATE and the statements after it end as skipped, none left pending.
TEST_F(PostgresLive, Psycopg3Pipeline) {
  auto agent = StartAgent();
  ASSERT_TRUE(agent.ok()) << agent.status().message();
  RunTraced(**agent, "psycopg3_workload.py");
  (*agent)->Stop();
  const auto clients = Clients((*agent)->Spans());
  std::vector<const model::Span*> pipeline;
  for (const auto& s : clients) {
    if (AttrText(s, "db.query.text") == "INSERT INTO games (id, name) VALUES ($1, $2)") {
      pipeline.push_back(&s);
    }
  }
  ASSERT_GE(pipeline.size(), 6u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(pipeline[i]->status, model::StatusCode::kUnset) << i;
    EXPECT_EQ(AttrText(*pipeline[i], "db.postgresql.affected_rows"), "1") << i;
  }
  EXPECT_EQ(AttrText(*pipeline[5], "db.response.status_code"), "23505");
  // psycopg stops sending once it reads the error, so how many of the last four statements reach
  // the wire depends on timing; each one that did must end as skipped, none left pending. The
  // next pipeline's statements succeed again.
  size_t i = 6;
  for (; i < pipeline.size() && pipeline[i]->status != model::StatusCode::kUnset; ++i) {
    EXPECT_EQ(AttrText(*pipeline[i], "db.postgresql.pipeline_aborted"), "true") << i;
  }
  EXPECT_LE(i, 10u);
  const auto st = (*agent)->StatsFor(decoders::Protocol::kPostgres);
  EXPECT_EQ(st.unmatched_requests, 0u);
  EXPECT_EQ(st.parse_errors, 0u);
}

// Acceptance 4: the agent starts after the client connected and prepared its statement.
TEST_F(PostgresLive, AgentStartedAfterTheClientConnected) {
  const std::string dir = MakeTempDir("wirespan-pg-mid");
  const std::string connected = dir + "/connected", go = dir + "/go";
  auto child =
      ChildProcess::Spawn({kDebianPython, kWorkloads + "/asyncpg_midstream.py"},
                          Env({"WIRESPAN_CONNECTED_FILE=" + connected, "WIRESPAN_GO_FILE=" + go}));
  ASSERT_TRUE(child.ok()) << child.status().message();
  for (int i = 0; i < 400 && !std::filesystem::exists(connected); ++i) {
    std::this_thread::sleep_for(25ms);
  }
  ASSERT_TRUE(std::filesystem::exists(connected));
  auto agent = StartAgent();  // only now
  ASSERT_TRUE(agent.ok()) << agent.status().message();
  (*agent)->Trace(static_cast<uint32_t>(child->pid()));
  std::this_thread::sleep_for(200ms);
  std::ofstream(go) << "go\n";
  int code = -1;
  ASSERT_TRUE(child->WaitFor(60s, &code));
  EXPECT_EQ(code, 0);
  (*agent)->Stop();
  const auto clients = Clients((*agent)->Spans());
  size_t unknown = 0, known = 0;
  for (const auto& s : clients) {
    if (AttrText(s, "db.postgresql.query_text.unknown") == "true") {
      ++unknown;
      EXPECT_EQ(s.name.rfind("__asyncpg_stmt_", 0), 0u) << s.name;
    } else if (!AttrText(s, "db.query.text").empty()) {
      ++known;
    }
  }
  EXPECT_EQ(unknown, 5u);  // the statement prepared before the agent: named, text unknown
  EXPECT_GE(known, 2u);    // statements prepared after: with their SQL
  std::filesystem::remove_all(dir);
}

// Acceptance 5: recognizable secrets (the password, literals in queries and parameters, row data)
// never reach anything the agent outputs: span names, statuses, attributes, resources.
TEST_F(PostgresLive, NoSecretsInAnyOutput) {
  auto agent = StartAgent();
  ASSERT_TRUE(agent.ok()) << agent.status().message();
  RunTraced(**agent, "asyncpg_workload.py");
  RunTraced(**agent, "psycopg2_workload.py");
  RunTraced(**agent, "psycopg3_workload.py");
  RunTraced(**agent, "sqlalchemy_workload.py");
  (*agent)->Stop();
  const auto spans = (*agent)->Spans();
  EXPECT_GT(Clients(spans).size(), 100u);
  for (const auto& s : spans) {
    std::string all = s.name + "\n" + s.status_message + "\n" + s.trace_state + "\n";
    for (const auto& a : s.attributes.items()) all += a.key + "=" + AttrText(s, a.key) + "\n";
    if (s.resource) {
      for (const auto& a : s.resource->attributes.items()) {
        model::Span tmp;
        tmp.attributes = s.resource->attributes;
        all += a.key + "=" + AttrText(tmp, a.key) + "\n";
      }
    }
    for (const char* secret : kSecrets) {
      EXPECT_EQ(all.find(secret), std::string::npos) << secret << " in span " << s.name;
    }
  }
}

}  // namespace
}  // namespace wirespan::testing
