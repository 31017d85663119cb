// Replays the recorded PostgreSQL fixtures (scripts/fixtures/record-postgres.sh) through the real
// pipeline and checks the spans: against a golden summary per capture, and the acceptance points
// one by one.
//
// WIRESPAN_UPDATE_GOLDEN=1 rewrites fixtures/<capture>.golden.txt after a re-recording.
#include "tests/support/replay.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "decoders/postgres/matcher.h"

namespace wirespan::decoders::postgres {
namespace {

using testing::AttrText;
using testing::Filter;
using testing::ReplayCapture;
using testing::ReplayResult;

const char* const kCaptures[] = {"asyncpg",  "asyncpg_midstream",   "psycopg2",
                                 "psycopg3", "sqlalchemy_psycopg2", "sqlalchemy_asyncpg",
                                 "psql"};

std::string CapturePath(const std::string& name) {
  return std::string(WIRESPAN_SOURCE_DIR) + "/tests/decoders/postgres/fixtures/" + name + ".pcap";
}

ReplayResult Replay(const std::string& name, agent::PipelineOptions options = {}) {
  ReplayResult r = ReplayCapture(CapturePath(name), options);
  EXPECT_TRUE(r.status.ok()) << r.status.message();
  return r;
}

std::vector<model::Span> Clients(const ReplayResult& r) {
  return Filter(r.spans, "postgresql", model::SpanKind::kClient);
}

// One line per span: what a reviewer checks in a golden file.
std::string Summary(const std::vector<model::Span>& spans) {
  std::ostringstream out;
  for (const auto& s : spans) {
    std::string text = AttrText(s, "db.query.text");
    for (size_t p = text.find('\n'); p != std::string::npos; p = text.find('\n', p + 2)) {
      text.replace(p, 1, "\\n");
    }
    out << s.name << " | " << text;
    for (const char* key :
         {"db.namespace", "db.response.returned_rows", "db.postgresql.affected_rows",
          "db.response.status_code", "db.postgresql.pipeline_aborted",
          "db.postgresql.query_text.unknown", "db.postgresql.query_text.truncated"}) {
      const std::string v = AttrText(s, key);
      if (!v.empty()) out << " | " << key << "=" << v;
    }
    out << "\n";
  }
  return out.str();
}

TEST(PostgresReplay, MatchesGoldenSummaries) {
  for (const char* name : kCaptures) {
    SCOPED_TRACE(name);
    ReplayResult r = Replay(name);
    const std::string got = Summary(Clients(r));
    const std::string golden_path = std::string(WIRESPAN_SOURCE_DIR) +
                                    "/tests/decoders/postgres/fixtures/" + name + ".golden.txt";
    if (const char* update = std::getenv("WIRESPAN_UPDATE_GOLDEN"); update && *update == '1') {
      std::ofstream(golden_path) << got;
      continue;
    }
    std::ifstream in(golden_path);
    ASSERT_TRUE(in.good()) << "missing " << golden_path << " (run with WIRESPAN_UPDATE_GOLDEN=1)";
    std::stringstream want;
    want << in.rdbuf();
    EXPECT_EQ(got, want.str());
  }
}

TEST(PostgresReplay, CleanCapturesHaveNoErrorsAndBothSidesAgree) {
  for (const char* name : kCaptures) {
    SCOPED_TRACE(name);
    ReplayResult r = Replay(name);
    const auto& st = r.stats_for(Protocol::kPostgres);
    const auto clients = Clients(r);
    const auto servers = Filter(r.spans, "postgresql", model::SpanKind::kServer);
    EXPECT_FALSE(clients.empty());
    EXPECT_EQ(clients.size(), servers.size());
    if (std::string(name) != "asyncpg_midstream") {
      EXPECT_EQ(st.parse_errors, 0u);
      EXPECT_EQ(st.unmatched_requests, 0u);
      EXPECT_EQ(st.unmatched_responses, 0u);
    }
    for (const auto& s : clients) {
      EXPECT_EQ(AttrText(s, "db.system.name"), "postgresql");
      EXPECT_EQ(AttrText(s, "server.address"), "127.0.0.1");
      EXPECT_FALSE(AttrText(s, "server.port").empty());
      EXPECT_LE(s.start_time_unix_nano, s.end_time_unix_nano);
    }
  }
}

// Acceptance 1: asyncpg prepared statements, agent first: every Execute carries its SQL.
TEST(PostgresReplay, AsyncpgExecutesCarryTheirSql) {
  const auto spans = Clients(Replay("asyncpg"));
  size_t named = 0;
  for (const auto& s : spans) {
    EXPECT_EQ(AttrText(s, "db.postgresql.query_text.unknown"), "") << s.name;
    EXPECT_FALSE(AttrText(s, "db.query.text").empty()) << s.name;
    EXPECT_EQ(AttrText(s, "db.namespace"), "shop");
    if (AttrText(s, "db.postgresql.statement.name").rfind("__asyncpg_", 0) == 0) ++named;
  }
  EXPECT_GT(named, 50u);
}

// Acceptance 2: executemany (50 rows) and a psycopg 3 pipeline: one span per statement, in
// order, with row counts; the failing one has its SQLSTATE and the rest are ended, not orphaned.
TEST(PostgresReplay, ExecuteManyAndPipelines) {
  {
    const auto spans = Clients(Replay("asyncpg"));
    size_t first = 0;
    while (first < spans.size() && spans[first].name != "INSERT games") ++first;
    ASSERT_LE(first + 50, spans.size());
    for (size_t i = first; i < first + 50; ++i) {
      EXPECT_EQ(spans[i].name, "INSERT games");
      EXPECT_EQ(AttrText(spans[i], "db.query.text"),
                "INSERT INTO games (id, name, price) VALUES ($1, $2, $3)");
      EXPECT_EQ(AttrText(spans[i], "db.postgresql.affected_rows"), "1");
    }
  }
  {
    ReplayResult r = Replay("psycopg3");
    const auto spans = Clients(r);
    std::vector<const model::Span*> pipeline;
    for (const auto& s : spans) {
      if (AttrText(s, "db.query.text") == "INSERT INTO games (id, name) VALUES ($1, $2)") {
        pipeline.push_back(&s);
      }
    }
    ASSERT_GE(pipeline.size(), 10u);
    for (size_t i = 0; i < 5; ++i) {
      EXPECT_EQ(pipeline[i]->status, model::StatusCode::kUnset) << i;
      EXPECT_EQ(AttrText(*pipeline[i], "db.postgresql.affected_rows"), "1");
    }
    EXPECT_EQ(AttrText(*pipeline[5], "db.response.status_code"), "23505");
    EXPECT_EQ(AttrText(*pipeline[5], "error.type"), "23505");
    for (size_t i = 6; i < 10; ++i) {
      EXPECT_EQ(AttrText(*pipeline[i], "db.postgresql.pipeline_aborted"), "true") << i;
    }
    const auto& st = r.stats_for(Protocol::kPostgres);
    EXPECT_EQ(st.unmatched_requests, 0u);
  }
}

// Acceptance 3: the 20 KiB statement, cut cleanly at the default 4 KiB and whole at 32 KiB.
TEST(PostgresReplay, LongStatement) {
  auto find_long = [](const std::vector<model::Span>& spans) -> const model::Span* {
    for (const auto& s : spans) {
      if (AttrText(s, "db.query.text").rfind("SELECT id FROM games WHERE id IN (", 0) == 0) {
        return &s;
      }
    }
    return nullptr;
  };
  for (const char* name : {"asyncpg", "psycopg3"}) {
    SCOPED_TRACE(name);
    {
      const auto spans = Clients(Replay(name));
      const model::Span* s = find_long(spans);
      ASSERT_NE(s, nullptr);
      const std::string text = AttrText(*s, "db.query.text");
      EXPECT_LE(text.size(), 4096u);
      EXPECT_GE(text.size(), 4000u);
      EXPECT_EQ(text.substr(text.size() - 3), "...");
      EXPECT_EQ(AttrText(*s, "db.postgresql.query_text.truncated"), "true");
    }
    {
      agent::PipelineOptions options;
      options.decoder_options.max_query_text_bytes = 32 * 1024;
      const auto spans = Clients(Replay(name, options));
      const model::Span* s = find_long(spans);
      ASSERT_NE(s, nullptr);
      const std::string text = AttrText(*s, "db.query.text");
      EXPECT_GT(text.size(), 4000u * 3);  // 4000 literals, each now '?'
      EXPECT_EQ(text.back(), ')');
      EXPECT_EQ(AttrText(*s, "db.postgresql.query_text.truncated"), "");
    }
  }
}

// Acceptance 4 (capture side): the capture started after the connection was open.
TEST(PostgresReplay, ConnectionOpenBeforeTheCapture) {
  const auto spans = Clients(Replay("asyncpg_midstream"));
  size_t unknown = 0, known = 0;
  for (const auto& s : spans) {
    if (AttrText(s, "db.postgresql.query_text.unknown") == "true") {
      ++unknown;
      EXPECT_EQ(s.name.rfind("__asyncpg_stmt_", 0), 0u) << s.name;
      // fetchval runs with a row limit: PortalSuspended, no CommandComplete tag to name it.
      EXPECT_EQ(AttrText(s, "db.postgresql.portal.suspended"), "true");
      EXPECT_EQ(AttrText(s, "db.response.returned_rows"), "1");
    } else if (!AttrText(s, "db.query.text").empty()) {
      ++known;
    }
  }
  EXPECT_EQ(unknown, 5u);
  EXPECT_GE(known, 2u);
}

// Acceptance 5 (capture side): no password, no literal anywhere in the spans.
TEST(PostgresReplay, NoSecretsInAnySpan) {
  for (const char* name : kCaptures) {
    SCOPED_TRACE(name);
    ReplayResult r = Replay(name);
    for (const auto& s : r.spans) {
      std::string all = s.name + "\n" + s.status_message + "\n";
      for (const auto& a : s.attributes.items()) all += a.key + "=" + AttrText(s, a.key) + "\n";
      for (const char* secret : {"wirespan-Secret-Pw-42", "SECRET-LITERAL-7f3a9c", "987654321123",
                                 "game-1", "copied", "pipe-"}) {
        EXPECT_EQ(all.find(secret), std::string::npos) << secret << " in " << s.name;
      }
    }
  }
}

}  // namespace
}  // namespace wirespan::decoders::postgres
