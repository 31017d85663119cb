// Byte-level tests of the PostgreSQL decoder: parser + matcher + spans, fed through DataStreams.
#include "decoders/postgres/decoder.h"

#include <gtest/gtest.h>

#include <random>

#include "decoders/postgres/spans.h"
#include "tests/decoders/postgres/pg_wire.h"

namespace wirespan::decoders::postgres {
namespace {

using namespace wire;  // NOLINT

// Every string anywhere in a span: name, status, attribute keys and values.
std::string Everything(const std::vector<model::Span>& spans) {
  std::string all;
  for (const auto& s : spans) {
    all += s.name + "\n" + s.status_message + "\n";
    for (const auto& a : s.attributes.items()) all += a.key + "=" + Attr(s, a.key) + "\n";
  }
  return all;
}

TEST(PostgresDecoder, SimpleQuery) {
  for (bool byte_at_a_time : {false, true}) {
    Harness h;
    h.Client(Startup("alice", "shop"), byte_at_a_time);
    h.Server(StartupResponse(), byte_at_a_time);
    const uint64_t query_ts = h.now() + 1000;
    h.Client(Query("SELECT id, name FROM games WHERE price > 10 AND name = 'zelda'"),
             byte_at_a_time);
    h.Server(RowDescription({"id", "name"}) + DataRow({"1", "a"}) + DataRow({"2", "b"}) +
                 CommandComplete("SELECT 2") + Ready('I'),
             byte_at_a_time);
    const uint64_t end_ts = h.now() + 10;
    auto& spans = h.Finish();
    ASSERT_EQ(spans.size(), 1u);
    const auto& s = spans[0];
    EXPECT_EQ(s.name, "SELECT games");
    EXPECT_EQ(s.kind, model::SpanKind::kClient);
    EXPECT_EQ(Attr(s, "db.system.name"), "postgresql");
    EXPECT_EQ(Attr(s, "db.namespace"), "shop");
    EXPECT_EQ(Attr(s, "db.operation.name"), "SELECT");
    EXPECT_EQ(Attr(s, "db.collection.name"), "games");
    EXPECT_EQ(Attr(s, "db.query.text"), "SELECT id, name FROM games WHERE price > ? AND name = ?");
    EXPECT_EQ(Attr(s, "db.response.returned_rows"), "2");
    EXPECT_EQ(Attr(s, "server.address"), "127.0.0.1");
    EXPECT_EQ(Attr(s, "server.port"), "5432");
    EXPECT_EQ(s.status, model::StatusCode::kUnset);
    EXPECT_EQ(s.start_time_unix_nano, query_ts);
    if (!byte_at_a_time) {
      EXPECT_EQ(s.end_time_unix_nano, end_ts);
    } else {
      // Ends at the CommandComplete's last byte (the ReadyForQuery follows).
      EXPECT_LT(s.end_time_unix_nano, end_ts);
      EXPECT_GT(s.end_time_unix_nano, s.start_time_unix_nano);
    }
    EXPECT_EQ(h.stats().parse_errors, 0u);
    EXPECT_EQ(h.stats().unmatched_requests, 0u);
    EXPECT_EQ(h.stats().unmatched_responses, 0u);
    EXPECT_EQ(h.stats().spans, 1u);
  }
}

TEST(PostgresDecoder, MultiStatementQueryGivesOneSpanEach) {
  Harness h;
  h.Client(Startup("u", "db"));
  h.Server(StartupResponse());
  h.Client(Query("BEGIN; INSERT INTO games VALUES (1, 'x'); UPDATE games SET n = 2; COMMIT;"));
  h.Server(CommandComplete("BEGIN") + CommandComplete("INSERT 0 1") + CommandComplete("UPDATE 3") +
           CommandComplete("COMMIT") + Ready('I'));
  auto& spans = h.Finish();
  ASSERT_EQ(spans.size(), 4u);
  EXPECT_EQ(spans[0].name, "BEGIN");
  EXPECT_EQ(spans[1].name, "INSERT games");
  EXPECT_EQ(Attr(spans[1], "db.query.text"), "INSERT INTO games VALUES (?, ?)");
  EXPECT_EQ(Attr(spans[1], "db.postgresql.affected_rows"), "1");
  EXPECT_EQ(spans[2].name, "UPDATE games");
  EXPECT_EQ(Attr(spans[2], "db.postgresql.affected_rows"), "3");
  EXPECT_EQ(spans[3].name, "COMMIT");
  for (size_t i = 1; i < spans.size(); ++i) {
    EXPECT_GE(spans[i].start_time_unix_nano, spans[i - 1].start_time_unix_nano);
  }
}

TEST(PostgresDecoder, MultiStatementErrorSkipsTheRest) {
  Harness h;
  h.Client(Query("SELECT 1; SELECT 1/0; SELECT 3"));
  h.Server(RowDescription({"a"}) + DataRow({"1"}) + CommandComplete("SELECT 1") +
           RowDescription({"a"}) + Error("22012", "division by zero") + Ready('I'));
  auto& spans = h.Finish();
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0].status, model::StatusCode::kUnset);
  EXPECT_EQ(Attr(spans[1], "db.response.status_code"), "22012");
  EXPECT_EQ(Attr(spans[1], "error.type"), "22012");
  EXPECT_EQ(spans[1].status, model::StatusCode::kError);
  EXPECT_EQ(Attr(spans[1], "db.query.text"), "SELECT ?/?");
  EXPECT_EQ(Attr(spans[2], "db.postgresql.pipeline_aborted"), "true");
  EXPECT_EQ(h.decoder().matcher().pending(), 0u);
}

// asyncpg: Parse/Describe/Sync once, then Bind/Execute/Sync with a named statement.
TEST(PostgresDecoder, NamedPreparedStatementsCarryTheirSql) {
  for (bool byte_at_a_time : {false, true}) {
    Harness h;
    h.Client(Startup("u", "db"));
    h.Server(StartupResponse());
    const char* sql = "SELECT * FROM games WHERE id = $1";
    h.Client(Parse("__asyncpg_stmt_1__", sql) + Describe('S', "__asyncpg_stmt_1__") + Sync(),
             byte_at_a_time);
    h.Server(ParseComplete() + ParamDescription(1) + RowDescription({"id"}) + Ready('I'),
             byte_at_a_time);
    for (int i = 0; i < 3; ++i) {
      h.Client(Bind("", "__asyncpg_stmt_1__", {std::string("4")}) + Execute("") + Sync(),
               byte_at_a_time);
      h.Server(BindComplete() + DataRow({"4"}) + CommandComplete("SELECT 1") + Ready('I'),
               byte_at_a_time);
    }
    auto& spans = h.Finish();
    ASSERT_EQ(spans.size(), 3u);
    for (const auto& s : spans) {
      EXPECT_EQ(s.name, "SELECT games");
      EXPECT_EQ(Attr(s, "db.query.text"), sql);
      EXPECT_EQ(Attr(s, "db.postgresql.statement.name"), "__asyncpg_stmt_1__");
      EXPECT_EQ(Attr(s, "db.response.returned_rows"), "1");
    }
    EXPECT_EQ(h.stats().parse_errors, 0u);
    EXPECT_EQ(h.decoder().matcher().pending(), 0u);
  }
}

TEST(PostgresDecoder, ExecuteManyGivesOneSpanPerRowInOrder) {
  Harness h;
  h.Client(Startup("u", "db"));
  h.Server(StartupResponse());
  h.Client(Parse("s", "INSERT INTO games (id) VALUES ($1)") + Describe('S', "s") + Sync());
  h.Server(ParseComplete() + ParamDescription(1) + NoData() + Ready('I'));
  std::string req, resp;
  for (int i = 0; i < 50; ++i) {
    req += Bind("", "s", {std::to_string(i)}) + Execute("");
    resp += BindComplete() + CommandComplete("INSERT 0 1");
  }
  h.Client(req + Sync());
  h.Server(resp + Ready('I'));
  auto& spans = h.Finish();
  ASSERT_EQ(spans.size(), 50u);
  for (size_t i = 0; i < spans.size(); ++i) {
    EXPECT_EQ(spans[i].name, "INSERT games");
    EXPECT_EQ(Attr(spans[i], "db.postgresql.affected_rows"), "1");
    EXPECT_EQ(Attr(spans[i], "db.query.text"), "INSERT INTO games (id) VALUES ($1)");
    if (i > 0) {
      EXPECT_GE(spans[i].start_time_unix_nano, spans[i - 1].start_time_unix_nano);
    }
  }
}

// psycopg 3 pipeline: P/B/D/E per statement, one Sync; the second fails.
TEST(PostgresDecoder, PipelineErrorFailsOneAndSkipsTheRest) {
  Harness h;
  h.Client(Startup("u", "db"));
  h.Server(StartupResponse());
  std::string req;
  for (const char* sql : {"INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (1)",
                          "INSERT INTO t VALUES (2)", "SELECT 4"}) {
    req += Parse("", sql) + Bind("", "") + Describe('P', "") + Execute("");
  }
  h.Client(req + Sync());
  h.Server(ParseComplete() + BindComplete() + NoData() + CommandComplete("INSERT 0 1") +
           ParseComplete() + BindComplete() + NoData() +
           Error("23505", "duplicate key value violates unique constraint",
                 "Key (id)=(1) already exists.") +
           Ready('I'));
  auto& spans = h.Finish();
  ASSERT_EQ(spans.size(), 4u);
  EXPECT_EQ(spans[0].status, model::StatusCode::kUnset);
  EXPECT_EQ(Attr(spans[0], "db.postgresql.affected_rows"), "1");
  EXPECT_EQ(Attr(spans[1], "db.response.status_code"), "23505");
  EXPECT_EQ(spans[1].status, model::StatusCode::kError);
  EXPECT_NE(spans[1].status_message.find("unique_violation"), std::string::npos);
  EXPECT_EQ(Attr(spans[2], "db.postgresql.pipeline_aborted"), "true");
  EXPECT_EQ(Attr(spans[3], "db.postgresql.pipeline_aborted"), "true");
  EXPECT_EQ(Attr(spans[3], "db.query.text"), "SELECT ?");
  EXPECT_EQ(h.decoder().matcher().pending(), 0u);
  EXPECT_EQ(h.stats().unmatched_requests, 0u);
  EXPECT_EQ(h.stats().unmatched_responses, 0u);
  // The skipped statements end when the client learns of the abort (the ReadyForQuery).
  EXPECT_EQ(spans[2].end_time_unix_nano, spans[3].end_time_unix_nano);
  // Nothing quoted from the error detail.
  EXPECT_EQ(Everything(spans).find("already exists"), std::string::npos);
}

TEST(PostgresDecoder, PipelineWithSeveralSyncs) {
  Harness h;
  std::string req;
  req += Parse("", "SELECT 1") + Bind("", "") + Execute("") + Sync();
  req += Parse("", "SELEC bad") + Bind("", "") + Execute("") + Sync();
  req += Parse("", "SELECT 3") + Bind("", "") + Execute("") + Sync();
  h.Client(req);
  h.Server(ParseComplete() + BindComplete() + DataRow({"1"}) + CommandComplete("SELECT 1") +
           Ready('I') + Error("42601", "syntax error") + Ready('I') + ParseComplete() +
           BindComplete() + DataRow({"3"}) + CommandComplete("SELECT 1") + Ready('I'));
  auto& spans = h.Finish();
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(Attr(spans[1], "db.response.status_code"), "42601");
  EXPECT_EQ(Attr(spans[1], "db.query.text"), "SELEC bad");
  EXPECT_EQ(spans[2].status, model::StatusCode::kUnset);
  EXPECT_EQ(h.decoder().matcher().pending(), 0u);
}

TEST(PostgresDecoder, FailedPrepareWithoutExecuteStillGivesASpan) {
  Harness h;
  h.Client(Parse("__asyncpg_stmt_2__", "SELECT nope FROM missing") +
           Describe('S', "__asyncpg_stmt_2__") + Sync());
  h.Server(Error("42P01", "relation \"missing\" does not exist") + Ready('I'));
  auto& spans = h.Finish();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].name, "SELECT missing");
  EXPECT_EQ(Attr(spans[0], "error.type"), "42P01");
}

TEST(PostgresDecoder, StatementPreparedBeforeTheAgentStarted) {
  Harness h;
  // No startup, no Parse: the connection was open before the agent.
  h.Client(Bind("", "__asyncpg_stmt_7__", {std::string("1")}) + Execute("") + Sync());
  h.Server(BindComplete() + DataRow({"x"}) + CommandComplete("SELECT 1") + Ready('I'));
  auto& spans = h.Finish();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].name, "__asyncpg_stmt_7__");
  EXPECT_EQ(Attr(spans[0], "db.postgresql.query_text.unknown"), "true");
  EXPECT_EQ(Attr(spans[0], "db.query.text"), "");
  EXPECT_EQ(Attr(spans[0], "db.operation.name"), "SELECT");
  EXPECT_EQ(Attr(spans[0], "db.response.returned_rows"), "1");
}

TEST(PostgresDecoder, CloseAndDeallocateKeepTheCacheRight) {
  Harness h;
  h.Client(Parse("s1", "SELECT a FROM one") + Sync());
  h.Server(ParseComplete() + Ready('I'));
  h.Client(Close('S', "s1") + Sync());
  h.Server(CloseComplete() + Ready('I'));
  EXPECT_EQ(h.decoder().matcher().cached_statements(), 0u);
  h.Client(Parse("s1", "SELECT b FROM two") + Bind("", "s1") + Execute("") + Sync());
  h.Server(ParseComplete() + BindComplete() + CommandComplete("SELECT 0") + Ready('I'));
  h.Client(Query("DEALLOCATE s1"));
  h.Server(CommandComplete("DEALLOCATE") + Ready('I'));
  h.Client(Bind("", "s1") + Execute("") + Sync());
  h.Server(BindComplete() + CommandComplete("SELECT 0") + Ready('I'));
  h.Client(Query("PREPARE q (int) AS SELECT c FROM three WHERE id = $1; EXECUTE q(5)"));
  h.Server(CommandComplete("PREPARE") + CommandComplete("SELECT 0") + Ready('I'));
  h.Client(Bind("", "q") + Execute("") + Sync());
  h.Server(BindComplete() + CommandComplete("SELECT 0") + Ready('I'));
  h.Client(Query("DISCARD ALL"));
  h.Server(CommandComplete("DISCARD ALL") + Ready('I'));
  EXPECT_EQ(h.decoder().matcher().cached_statements(), 0u);
  auto& spans = h.Finish();
  ASSERT_EQ(spans.size(), 7u);
  EXPECT_EQ(spans[0].name, "SELECT two");
  EXPECT_EQ(spans[1].name, "DEALLOCATE");
  EXPECT_EQ(spans[2].name, "s1");  // deallocated: unknown now
  EXPECT_EQ(Attr(spans[2], "db.postgresql.query_text.unknown"), "true");
  EXPECT_EQ(spans[3].name, "PREPARE");
  EXPECT_EQ(Attr(spans[4], "db.query.text"), "EXECUTE q(?)");
  EXPECT_EQ(spans[5].name, "SELECT three");
  EXPECT_EQ(Attr(spans[5], "db.query.text"), "SELECT c FROM three WHERE id = $1");
  EXPECT_EQ(spans[6].name, "DISCARD ALL");
}

TEST(PostgresDecoder, LongStatementUpToTheLimitAndCleanlyCutBeyond) {
  std::string sql = "SELECT id FROM games WHERE name IN (";
  while (sql.size() < 20 * 1024) sql += "$" + std::to_string(sql.size() % 90 + 1) + ", ";
  sql += "$1) /* é */";
  {
    DecoderOptions options;
    options.max_query_text_bytes = 32 * 1024;
    Harness h(options);
    h.Client(Parse("", sql) + Bind("", "") + Execute("") + Sync());
    h.Server(ParseComplete() + BindComplete() + CommandComplete("SELECT 0") + Ready('I'));
    auto& spans = h.Finish();
    ASSERT_EQ(spans.size(), 1u);
    const std::string text = Attr(spans[0], "db.query.text");
    EXPECT_EQ(text, sql.substr(0, sql.find(" /*")));  // the comment goes, all the rest stays
    EXPECT_GT(text.size(), 20u * 1024 - 20);
    EXPECT_EQ(Attr(spans[0], "db.postgresql.query_text.truncated"), "");
  }
  {
    Harness h;  // default: 4 KiB
    h.Client(Query(sql));
    h.Server(CommandComplete("SELECT 0") + Ready('I'));
    auto& spans = h.Finish();
    ASSERT_EQ(spans.size(), 1u);
    const std::string text = Attr(spans[0], "db.query.text");
    EXPECT_LE(text.size(), 4096u);
    EXPECT_GT(text.size(), 4000u);
    EXPECT_EQ(text.substr(text.size() - 3), "...");
    EXPECT_EQ(sql.substr(0, text.size() - 3), text.substr(0, text.size() - 3));
    EXPECT_EQ(Attr(spans[0], "db.postgresql.query_text.truncated"), "true");
  }
  {
    // Multi-byte characters at the cut: never split.
    DecoderOptions options;
    options.max_query_text_bytes = 100;
    options.sanitize_queries = false;
    Harness h(options);
    std::string utf = "SELECT '" + std::string();
    for (int i = 0; i < 100; ++i) utf += "é";
    utf += "'";
    h.Client(Query(utf));
    h.Server(CommandComplete("SELECT 1") + Ready('I'));
    auto& spans = h.Finish();
    ASSERT_EQ(spans.size(), 1u);
    const std::string text = Attr(spans[0], "db.query.text");
    EXPECT_LE(text.size(), 100u);
    EXPECT_EQ(text.substr(text.size() - 3), "...");
    // Valid UTF-8: the byte before the marker ends a character.
    const auto before = static_cast<unsigned char>(text[text.size() - 4]);
    EXPECT_TRUE(before == 0xA9 && static_cast<unsigned char>(text[text.size() - 5]) == 0xC3);
  }
}

TEST(PostgresDecoder, SanitizingCanBeSwitchedOff) {
  DecoderOptions options;
  options.sanitize_queries = false;
  Harness h(options);
  h.Client(Query("SELECT * FROM t WHERE a = 'visible'"));
  h.Server(CommandComplete("SELECT 0") + Ready('I'));
  auto& spans = h.Finish();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(Attr(spans[0], "db.query.text"), "SELECT * FROM t WHERE a = 'visible'");
}

TEST(PostgresDecoder, NoSecretsInSpans) {
  Harness h;
  h.Client(Startup("alice", "shop"));
  h.Server(AuthSasl());
  h.Client(Password("SCRAM-client-first n,,n=alice,r=S3cretNonce"));
  h.Server(StartupResponse());
  h.Client(
      Query("ALTER USER alice PASSWORD 'TopSecretPw1'; SELECT * FROM t WHERE ssn = '123-45-6789'"));
  h.Server(CommandComplete("ALTER ROLE") + CommandComplete("SELECT 0") + Ready('I'));
  h.Client(Parse("", "INSERT INTO cards VALUES ($1)") +
           Bind("", "", {std::string("4111111111111111")}) + Execute("") + Sync());
  h.Server(ParseComplete() + BindComplete() +
           Error("23505", "duplicate", "Key (n)=(4111111111111111) already exists.") + Ready('I'));
  auto& spans = h.Finish();
  ASSERT_EQ(spans.size(), 3u);
  const std::string all = Everything(spans);
  for (const char* secret :
       {"TopSecretPw1", "123-45-6789", "4111111111111111", "S3cretNonce", "already exists"}) {
    EXPECT_EQ(all.find(secret), std::string::npos) << secret;
  }
}

TEST(PostgresDecoder, PortalSuspendedAndResumed) {
  Harness h;
  h.Client(Parse("", "SELECT * FROM big") + Bind("cur", "") + Execute("cur", 2) + Flush());
  h.Server(ParseComplete() + BindComplete() + DataRow({"1"}) + DataRow({"2"}) + PortalSuspended());
  h.Client(Execute("cur", 2) + Sync());
  h.Server(DataRow({"3"}) + CommandComplete("SELECT 1") + Ready('I'));
  auto& spans = h.Finish();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(Attr(spans[0], "db.postgresql.portal.suspended"), "true");
  EXPECT_EQ(Attr(spans[0], "db.response.returned_rows"), "2");
  EXPECT_EQ(Attr(spans[1], "db.response.returned_rows"), "1");
  EXPECT_EQ(spans[1].name, "SELECT big");
}

TEST(PostgresDecoder, CopyInAndOut) {
  Harness h;
  h.Client(Query("COPY games (id, name) FROM STDIN"));
  h.Server(CopyInResponse(2));
  h.Client(CopyData("1\tsecret-row\n") + CopyData("2\tb\n") + CopyDone());
  h.Server(CommandComplete("COPY 2") + Ready('I'));
  h.Client(Query("COPY games TO STDOUT"));
  h.Server(CopyOutResponse(2) + CopyData("1\ta\n") + CopyDone() + CommandComplete("COPY 1") +
           Ready('I'));
  auto& spans = h.Finish();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].name, "COPY games");
  EXPECT_EQ(Attr(spans[0], "db.postgresql.affected_rows"), "2");
  EXPECT_EQ(Attr(spans[0], "db.postgresql.copy.bytes"), "17");
  EXPECT_EQ(Attr(spans[1], "db.postgresql.copy.bytes"), "4");
  EXPECT_EQ(Everything(spans).find("secret-row"), std::string::npos);
}

TEST(PostgresDecoder, EmptyQueryNoticesAndNotifications) {
  Harness h;
  h.Client(Query(""));
  h.Server(EmptyQuery() + Ready('I'));
  h.Client(Query("LISTEN ch; SELECT 1"));
  h.Server(Notice("hello") + CommandComplete("LISTEN") + ParameterStatus("TimeZone", "UTC") +
           Notification("ch", "p") + DataRow({"1"}) + CommandComplete("SELECT 1") + Ready('I'));
  auto& spans = h.Finish();
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(Attr(spans[0], "db.postgresql.empty_query"), "true");
  EXPECT_EQ(spans[1].name, "LISTEN");
  EXPECT_EQ(spans[2].name, "SELECT");
  EXPECT_EQ(h.stats().unmatched_responses, 0u);
}

TEST(PostgresDecoder, ServerRoleGivesServerSpans) {
  Harness h(DecoderOptions{}, Role::kServer);
  h.Client(Startup("u", "db"));
  h.Server(StartupResponse());
  h.Client(Query("SELECT 1"));
  h.Server(DataRow({"1"}) + CommandComplete("SELECT 1") + Ready('I'));
  auto& spans = h.Finish();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].kind, model::SpanKind::kServer);
  EXPECT_EQ(Attr(spans[0], "server.port"), "5432");
  EXPECT_EQ(Attr(spans[0], "client.port"), "40000");
}

TEST(PostgresDecoder, EncryptedConnectionsAreLeftAlone) {
  Harness h;
  h.Client(SslRequest());
  h.Server("S");
  std::string tls = std::string("\x16\x03\x01\x00\x50", 5) + std::string(0x50, 'z');
  h.Client(tls);
  h.Server(tls);
  h.Client(std::string("\x17\x03\x03\x00\x20", 5) + std::string(32, 'q'));
  auto& spans = h.Finish();
  EXPECT_TRUE(spans.empty());
  EXPECT_TRUE(h.decoder().matcher().encrypted());
  EXPECT_EQ(h.stats().parse_errors, 0u);
  EXPECT_EQ(h.decoder().matcher().counters().encrypted_connections, 1u);
  EXPECT_EQ(h.stats().protocol_switches, 1u);
}

TEST(PostgresDecoder, RefusedSslFallsBackToPlaintext) {
  Harness h;
  h.Client(SslRequest());
  h.Server("N");
  h.Client(Startup("u", "db"));
  h.Server(StartupResponse());
  h.Client(Query("SELECT 1"));
  h.Server(CommandComplete("SELECT 1") + Ready('I'));
  auto& spans = h.Finish();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(Attr(spans[0], "db.namespace"), "db");
  EXPECT_FALSE(h.decoder().matcher().encrypted());
  EXPECT_EQ(h.stats().parse_errors, 0u);
}

TEST(PostgresDecoder, MidStreamConnectionFromAnyMessage) {
  // The agent starts while a response is in flight: the first bytes are the tail of a DataRow.
  Harness h;
  const std::string old_row = DataRow({std::string(300, 'o')});
  h.Server(old_row.substr(100) + CommandComplete("SELECT 1") + Ready('I'));
  h.Client(Parse("", "UPDATE games SET n = n + 1") + Bind("", "") + Execute("") + Sync());
  h.Server(ParseComplete() + BindComplete() + CommandComplete("UPDATE 4") + Ready('T'));
  auto& spans = h.Finish();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].name, "UPDATE games");
  EXPECT_EQ(Attr(spans[0], "db.postgresql.affected_rows"), "4");
}

TEST(PostgresDecoder, ResponseSeenBeforeItsRequestWaitsForIt) {
  Harness h;
  // Capture delivered the server's answer first; the request shows up a little later.
  h.Server(CommandComplete("SELECT 0") + Ready('I'));
  EXPECT_TRUE(h.spans().empty());
  DecoderOptions o;
  (void)o;
  auto& spans = h.Finish();  // closed: whatever waited is given up
  EXPECT_TRUE(spans.empty());
  EXPECT_EQ(h.stats().unmatched_responses, 1u);
}

TEST(PostgresDecoder, DetectsStartupAndMidStreamTraffic) {
  Detection d = Detect(Startup("u", "d"), true);
  EXPECT_EQ(d.protocol, Protocol::kPostgres);
  EXPECT_EQ(d.confidence, 100);
  EXPECT_EQ(d.kind, decoders::MessageKind::kRequest);
  EXPECT_EQ(Detect(SslRequest(), true).confidence, 100);
  EXPECT_EQ(Detect(CancelRequest(1, 2), true).confidence, 100);
  // Mid-stream: asyncpg's Bind/Execute/Sync.
  d = Detect(Bind("", "__asyncpg_stmt_1__", {std::string("1")}) + Execute("") + Sync(), false);
  EXPECT_GE(d.confidence, 80);
  EXPECT_EQ(d.kind, decoders::MessageKind::kRequest);
  d = Detect(Query("SELECT 1"), false);
  EXPECT_GE(d.confidence, 60);
  d = Detect(DataRow({"1"}) + CommandComplete("SELECT 1") + Ready('I'), false);
  EXPECT_GE(d.confidence, 80);
  EXPECT_EQ(d.kind, decoders::MessageKind::kResponse);
  // Not PostgreSQL.
  EXPECT_EQ(Detect("GET / HTTP/1.1\r\nHost: x\r\n\r\n", true).confidence, 0);
  EXPECT_EQ(Detect("*1\r\n$4\r\nPING\r\n", false).confidence, 0);
  EXPECT_EQ(Detect(std::string("AMQP\0\0\x09\x01", 8), true).confidence, 0);
  EXPECT_EQ(Detect("+OK\r\n", false).confidence, 0);
}

TEST(PostgresDecoder, GarbageAndInterleavedBytesNeverCrashOrStall) {
  std::mt19937 rng(99);
  const std::string good_client = Startup("u", "db") + Query("SELECT 1") + Parse("s", "SELECT $1") +
                                  Bind("", "s", {std::string("1")}) + Execute("") + Sync();
  const std::string good_server = StartupResponse() + DataRow({"1"}) + CommandComplete("SELECT 1") +
                                  Ready('I') + ParseComplete() + BindComplete() +
                                  CommandComplete("SELECT 1") + Ready('I');
  for (int round = 0; round < 300; ++round) {
    Harness h;
    std::string c = good_client, s = good_server;
    // Corrupt, truncate, or swap directions.
    const int mode = round % 4;
    if (mode == 0) {
      for (int k = 0; k < 5; ++k) c[rng() % c.size()] = static_cast<char>(rng());
    } else if (mode == 1) {
      s.resize(rng() % s.size());
    } else if (mode == 2) {
      std::swap(c, s);
    } else {
      std::string noise(rng() % 300, '\0');
      for (char& ch : noise) ch = static_cast<char>(rng());
      c = noise + c;
      s = s + noise;
    }
    h.Client(c, round % 7 == 0);
    h.Server(s, round % 5 == 0);
    h.Finish();
  }
  SUCCEED();
}

TEST(PostgresDecoder, GarbageIsCountedAndParsingRecovers) {
  Harness h;
  h.Client(std::string("\x01\x02\x03garbage garbage garbage", 26) + Query("SELECT 1"));
  h.Server(CommandComplete("SELECT 1") + Ready('I'));
  auto& spans = h.Finish();
  EXPECT_GT(h.stats().parse_errors, 0u);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].name, "SELECT");
}

TEST(PostgresDecoder, UnansweredRequestsAreCountedOnClose) {
  Harness h;
  h.Client(Query("SELECT pg_sleep(100)"));
  auto& spans = h.Finish();
  EXPECT_TRUE(spans.empty());
  EXPECT_EQ(h.stats().unmatched_requests, 1u);
}

}  // namespace
}  // namespace wirespan::decoders::postgres
