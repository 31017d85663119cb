#include "decoders/postgres/sql.h"

#include <gtest/gtest.h>

namespace wirespan::decoders::postgres {
namespace {

TEST(PostgresSql, SanitizesLiterals) {
  EXPECT_EQ(Sanitize("SELECT * FROM games WHERE id = 42 AND name = 'zelda'"),
            "SELECT * FROM games WHERE id = ? AND name = ?");
  EXPECT_EQ(Sanitize("INSERT INTO t (a, b, c) VALUES (1.5e3, -7, E'it\\'s')"),
            "INSERT INTO t (a, b, c) VALUES (?, -?, ?)");
  EXPECT_EQ(Sanitize("SELECT 'a''b', $$dollar 'x'$$, $fn$ body; $x$ $fn$, X'FF', B'01'"),
            "SELECT ?, ?, ?, ?, ?");
  EXPECT_EQ(
      Sanitize("SELECT \"Weird \"\"Name\"\"\", t1.c2 FROM \"T\" WHERE flag = TRUE OR f = false"),
      "SELECT \"Weird \"\"Name\"\"\", t1.c2 FROM \"T\" WHERE flag = ? OR f = ?");
  EXPECT_EQ(Sanitize("SELECT $1::int, $2 FROM t WHERE x IS NULL"),
            "SELECT $1::int, $2 FROM t WHERE x IS NULL");
  EXPECT_EQ(Sanitize("SELECT '2020-01-01'::date, INTERVAL '1 day', 0x1F, .5"),
            "SELECT ?::date, INTERVAL ?, ?, ?");
  EXPECT_EQ(Sanitize("ALTER USER bob PASSWORD 'hunter2'"), "ALTER USER bob PASSWORD ?");
  EXPECT_EQ(Sanitize("SELECT U&'d\\0061t\\+000061', N'nat'"), "SELECT ?, ?");
}

TEST(PostgresSql, StripsComments) {
  EXPECT_EQ(Sanitize("-- secret 'x'\nSELECT 1 /* a /* nested */ comment */ FROM t"),
            "SELECT ? FROM t");
  EXPECT_EQ(Sanitize("SELECT/*x*/a"), "SELECT a");
}

TEST(PostgresSql, UnterminatedLiteralsStayHidden) {
  EXPECT_EQ(Sanitize("SELECT 'secret never clo"), "SELECT ?");
  EXPECT_EQ(Sanitize("SELECT $q$ secret"), "SELECT ?");
  EXPECT_EQ(Sanitize("SELECT E'abc\\"), "SELECT ?");
}

TEST(PostgresSql, IdentifiersWithDigitsAndDollars) {
  EXPECT_EQ(Sanitize("SELECT t1.a$b, _x2 FROM s3.t4"), "SELECT t1.a$b, _x2 FROM s3.t4");
  EXPECT_EQ(Sanitize("SELECT e, b, x, n FROM t"), "SELECT e, b, x, n FROM t");
}

TEST(PostgresSql, SplitsStatements) {
  auto parts = SplitStatements("BEGIN; SELECT ';'; ; -- c;\n UPDATE t SET a = 'x;y' ;COMMIT;");
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[0], "BEGIN");
  EXPECT_EQ(parts[1], "SELECT ';'");
  EXPECT_EQ(parts[2], "-- c;\n UPDATE t SET a = 'x;y'");
  EXPECT_EQ(parts[3], "COMMIT");
  EXPECT_TRUE(SplitStatements("  ;; -- only a comment\n").empty());
  auto fn = SplitStatements(
      "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END; SELECT "
      "3");
  ASSERT_EQ(fn.size(), 2u);
  EXPECT_EQ(fn[1], "SELECT 3");
  auto dollar = SplitStatements("DO $$ BEGIN PERFORM 1; END $$; SELECT 1");
  ASSERT_EQ(dollar.size(), 2u);
}

TEST(PostgresSql, Summaries) {
  auto s = Summarize("SELECT id, name FROM public.games g JOIN x ON true WHERE id = 1");
  EXPECT_EQ(s.operation, "SELECT");
  EXPECT_EQ(s.collection, "public.games");
  s = Summarize("select count(*) from (select 1) q");
  EXPECT_EQ(s.operation, "SELECT");
  EXPECT_EQ(s.collection, "");
  s = Summarize("WITH a AS (SELECT * FROM x) INSERT INTO \"Games\" SELECT * FROM a");
  EXPECT_EQ(s.operation, "INSERT");
  EXPECT_EQ(s.collection, "Games");
  s = Summarize("update only games set a = 1");
  EXPECT_EQ(s.operation, "UPDATE");
  EXPECT_EQ(s.collection, "games");
  s = Summarize("DELETE FROM games WHERE id = $1");
  EXPECT_EQ(s.collection, "games");
  s = Summarize("CREATE TABLE IF NOT EXISTS games (id int)");
  EXPECT_EQ(s.operation, "CREATE TABLE");
  EXPECT_EQ(s.collection, "games");
  s = Summarize("CREATE UNIQUE INDEX CONCURRENTLY ix ON games (id)");
  EXPECT_EQ(s.operation, "CREATE INDEX");
  EXPECT_EQ(s.collection, "games");
  s = Summarize("DROP TABLE IF EXISTS games");
  EXPECT_EQ(s.operation, "DROP TABLE");
  EXPECT_EQ(s.collection, "games");
  s = Summarize("COPY games (id) FROM STDIN");
  EXPECT_EQ(s.operation, "COPY");
  EXPECT_EQ(s.collection, "games");
  s = Summarize("SELECT * FROM generate_series(1, 10)");
  EXPECT_EQ(s.collection, "");
  s = Summarize("PREPARE q (int) AS SELECT * FROM games WHERE id = $1");
  EXPECT_EQ(s.prepare_name, "q");
  EXPECT_EQ(s.prepare_body, "SELECT * FROM games WHERE id = $1");
  s = Summarize("DEALLOCATE PREPARE q");
  EXPECT_EQ(s.deallocate_name, "q");
  EXPECT_TRUE(Summarize("DEALLOCATE ALL").deallocate_all);
  EXPECT_TRUE(Summarize("discard all").discard_all);
  EXPECT_EQ(Summarize("begin").operation, "BEGIN");
  EXPECT_EQ(Summarize("").operation, "");
  EXPECT_EQ(Summarize("(SELECT 1) UNION (SELECT 2)").operation, "SELECT");
}

TEST(PostgresSql, Tags) {
  EXPECT_EQ(TagOperation("INSERT 0 5"), "INSERT");
  EXPECT_EQ(TagOperation("SELECT 12"), "SELECT");
  EXPECT_EQ(TagOperation("CREATE TABLE"), "CREATE TABLE");
  uint64_t rows = 0;
  EXPECT_TRUE(TagRows("INSERT 0 5", &rows));
  EXPECT_EQ(rows, 5u);
  EXPECT_TRUE(TagRows("COPY 50", &rows));
  EXPECT_EQ(rows, 50u);
  EXPECT_FALSE(TagRows("CREATE TABLE", &rows));
  EXPECT_FALSE(TagRows("BEGIN", &rows));
}

TEST(PostgresSql, TruncatesAtUtf8Boundary) {
  bool truncated = false;
  EXPECT_EQ(TruncateUtf8("short", 10, false, &truncated), "short");
  EXPECT_FALSE(truncated);
  // "é" is two bytes: never cut in the middle.
  std::string s = "SELECT 'éééé'";
  std::string cut = TruncateUtf8("aé" + std::string(10, 'b'), 5, false, &truncated);
  EXPECT_TRUE(truncated);
  EXPECT_LE(cut.size(), 5u);
  EXPECT_EQ(cut, "a...");
  cut = TruncateUtf8(std::string(100, 'x'), 20, false, &truncated);
  EXPECT_EQ(cut.size(), 20u);
  EXPECT_EQ(cut.substr(17), "...");
  // Source already cut (mid-character): the partial character goes, the marker is added.
  cut = TruncateUtf8(std::string("ab\xc3"), 100, true, &truncated);
  EXPECT_TRUE(truncated);
  EXPECT_EQ(cut, "ab...");
}

TEST(PostgresSql, LexerCoversInputExactly) {
  const std::string inputs[] = {"",   "'",  "$",  "$$", "$a",  "E'", "U&",        "U&\"x",   "/*",
                                "--", "1e", "0x", "\"", "$1$", "x'", "SELECT 1;", "\xff\xfe"};
  for (const auto& in : inputs) {
    std::string joined;
    for (const auto& t : Lex(in)) joined.append(t.text);
    EXPECT_EQ(joined, in);
  }
}

}  // namespace
}  // namespace wirespan::decoders::postgres
