#include "decoders/redis/parse.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>

#include "decoders/common/frame_loop.h"
#include "redis_test_util.h"

namespace wirespan::decoders::redis {
namespace {

using testing::Bulk;
using testing::Cmd;

// Parses `bytes` (fed in chunks of `chunk` bytes; 0 = at once) in one direction.
struct ParseRun {
  std::deque<Message> frames;
  DecoderStats stats;
  size_t buffered_at_end = 0;
};

ParseRun Parse(MessageKind kind, std::string_view bytes, size_t chunk = 0) {
  ParseRun run;
  RespParser parser(kind, &run.stats);
  DataStream stream;
  DecoderOptions options;
  uint64_t pos = 0;
  if (chunk == 0) chunk = std::max<size_t>(bytes.size(), 1);
  uint64_t ts = 100;
  while (!bytes.empty()) {
    const size_t n = std::min(chunk, bytes.size());
    stream.Add(pos, bytes.substr(0, n), n, ChunkMeta{ts, ts + 1, 1, 0}, ts);
    pos += n;
    ts += 10;
    bytes.remove_prefix(n);
    ParseFrames(parser, stream, run.frames, options, run.stats);
  }
  run.buffered_at_end = stream.buffered_bytes();
  return run;
}

TEST(RespParser, EveryResp3Type) {
  const std::string bytes =
      "+OK\r\n"
      "-ERR unknown\r\n"
      ":-42\r\n"
      "$5\r\nhello\r\n"
      "$0\r\n\r\n"
      "$-1\r\n"
      "*-1\r\n"
      "_\r\n"
      "#t\r\n"
      ",3.14\r\n"
      ",inf\r\n"
      "(3492890328409238509324850943850943825024385\r\n"
      "!21\r\nSYNTAX invalid syntax\r\n"
      "=15\r\ntxt:Some string\r\n"
      "*2\r\n:1\r\n$1\r\na\r\n"
      "%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n"
      "~3\r\n+a\r\n+b\r\n+c\r\n"
      "|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.19\r\n$1\r\nb\r\n,0.05\r\n*2\r\n:2\r\n:9\r\n"
      ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\nabc\r\n"
      "*0\r\n";
  for (size_t chunk : {size_t{0}, size_t{1}, size_t{3}, size_t{7}}) {
    SCOPED_TRACE(chunk);
    ParseRun run = Parse(MessageKind::kResponse, bytes, chunk);
    EXPECT_EQ(run.stats.parse_errors, 0u);
    ASSERT_EQ(run.frames.size(), 20u);
    const auto& f = run.frames;
    EXPECT_EQ(f[0].type(), RespType::kSimpleString);
    EXPECT_EQ(f[0].value.text, "OK");
    EXPECT_EQ(f[1].type(), RespType::kSimpleError);
    EXPECT_EQ(f[1].value.text, "ERR unknown");
    EXPECT_EQ(f[2].type(), RespType::kInteger);
    EXPECT_EQ(f[2].value.text, "-42");
    EXPECT_EQ(f[3].value.text, "hello");
    EXPECT_EQ(f[3].value.size, 5u);
    EXPECT_EQ(f[4].value.size, 0u);
    EXPECT_TRUE(f[5].value.is_null);
    EXPECT_TRUE(f[6].value.is_null);
    EXPECT_EQ(f[6].type(), RespType::kArray);
    EXPECT_TRUE(f[7].value.is_null);
    EXPECT_EQ(f[8].type(), RespType::kBoolean);
    EXPECT_EQ(f[9].type(), RespType::kDouble);
    EXPECT_EQ(f[10].value.text, "inf");
    EXPECT_EQ(f[11].type(), RespType::kBigNumber);
    EXPECT_EQ(f[12].type(), RespType::kBlobError);
    EXPECT_EQ(f[12].value.text, "SYNTAX invalid syntax");
    EXPECT_TRUE(f[12].is_error());
    EXPECT_EQ(f[13].type(), RespType::kVerbatimString);
    EXPECT_EQ(f[14].element_count, 2u);
    EXPECT_EQ(f[14].ElementText(1), "a");
    EXPECT_EQ(f[15].type(), RespType::kMap);
    EXPECT_EQ(f[15].value.size, 2u);
    EXPECT_EQ(f[15].element_count, 4u);
    EXPECT_EQ(f[16].type(), RespType::kSet);
    // The attribute is not a reply: the array after it is, flagged.
    EXPECT_EQ(f[17].type(), RespType::kArray);
    EXPECT_TRUE(f[17].has_attribute);
    EXPECT_EQ(f[17].element_count, 2u);
    EXPECT_EQ(f[17].ElementText(1), "9");
    EXPECT_EQ(f[18].type(), RespType::kPush);
    EXPECT_EQ(f[18].ElementText(0), "message");
    EXPECT_EQ(f[18].ElementText(2), "abc");
    EXPECT_EQ(f[19].element_count, 0u);
    EXPECT_EQ(run.buffered_at_end, 0u);
  }
}

TEST(RespParser, TimingCoversFirstAndLastByte) {
  ParseRun run = Parse(MessageKind::kResponse, "*2\r\n$3\r\nabc\r\n:1\r\n", 4);
  ASSERT_EQ(run.frames.size(), 1u);
  EXPECT_EQ(run.frames[0].first.first_ts_ns, 100u);
  EXPECT_EQ(run.frames[0].last.first_ts_ns, 140u);  // the fifth chunk holds the last byte
  EXPECT_EQ(run.frames[0].wire_bytes, 17u);
}

TEST(RespParser, NestingIsBoundedWithoutRecursion) {
  std::string ok;
  for (size_t i = 0; i < kMaxNestingDepth; ++i) ok += "*1\r\n";
  ok += ":1\r\n";
  ParseRun run = Parse(MessageKind::kResponse, ok);
  EXPECT_EQ(run.frames.size(), 1u);
  EXPECT_EQ(run.stats.parse_errors, 0u);

  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "*1\r\n";
  run = Parse(MessageKind::kResponse, deep + "+OK\r\n");
  EXPECT_GT(run.stats.parse_errors, 0u);
  ASSERT_FALSE(run.frames.empty());
  // Resynced: the last kMaxNestingDepth-1 arrays around +OK are a valid value again.
  EXPECT_EQ(run.frames.back().type(), RespType::kArray);
  EXPECT_EQ(run.buffered_at_end, 0u);
}

TEST(RespParser, HugeBlobIsCountedNotBuffered) {
  const size_t size = 8 << 20;
  std::string reply = "$" + std::to_string(size) + "\r\n" + std::string(size, 'x') + "\r\n+OK\r\n";
  ParseRun run = Parse(MessageKind::kResponse, reply, 64 << 10);
  ASSERT_EQ(run.frames.size(), 2u);
  EXPECT_EQ(run.frames[0].value.size, size);
  EXPECT_EQ(run.frames[0].value.text.size(), kMaxKeptElementBytes);
  EXPECT_TRUE(run.frames[0].value.truncated);
  EXPECT_EQ(run.frames[1].value.text, "OK");
}

TEST(RespParser, StepsOverGapsInsideBlobs) {
  DecoderStats stats;
  RespParser parser(MessageKind::kResponse, &stats);
  DataStream stream;
  std::deque<Message> frames;
  DecoderOptions options;
  const std::string head = "$100000\r\nabc";
  stream.Add(0, head, head.size(), ChunkMeta{1, 2, 1, 0}, 1);
  ParseFrames(parser, stream, frames, options, stats);
  // 99990 payload bytes never captured, then the last 7 bytes and the CRLF arrive.
  stream.Add(head.size(), {}, 99990, ChunkMeta{3, 4, 1, 0}, 3);
  const std::string tail = "defghij\r\n:5\r\n";
  stream.Add(head.size() + 99990, tail, tail.size(), ChunkMeta{5, 6, 1, 0}, 5);
  ParseFrames(parser, stream, frames, options, stats);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].value.size, 100000u);
  EXPECT_TRUE(frames[0].value.truncated);
  EXPECT_EQ(frames[1].value.text, "5");
  EXPECT_EQ(stats.gap_bytes_skipped, 99990u);
  EXPECT_EQ(stats.parse_errors, 0u);
}

TEST(RespParser, CommandsAndInlineCommands) {
  const std::string bytes = Cmd({"SET", "k", "v"}) + "PING\r\n" + "\r\n" +
                            "set  key \"hello world\"\n" + Cmd({"GET", "k"});
  for (size_t chunk : {size_t{0}, size_t{1}}) {
    ParseRun run = Parse(MessageKind::kRequest, bytes, chunk);
    EXPECT_EQ(run.stats.parse_errors, 0u);
    ASSERT_EQ(run.frames.size(), 4u);
    EXPECT_EQ(run.frames[0].element_count, 3u);
    EXPECT_EQ(run.frames[0].ElementText(2), "v");
    EXPECT_EQ(run.frames[1].type(), RespType::kInline);
    EXPECT_EQ(run.frames[1].ElementText(0), "PING");
    EXPECT_EQ(run.frames[2].element_count, 3u);
    EXPECT_EQ(run.frames[2].ElementText(2), "hello world");
    EXPECT_EQ(run.frames[3].ElementText(1), "k");
    EXPECT_EQ(run.stats.ignored_frames, 1u);  // the empty line
  }
}

TEST(RespParser, AuthSecretsAreNeverKept) {
  ParseRun run = Parse(MessageKind::kRequest, Cmd({"AUTH", "alice", "s3cret-pw"}) +
                                                  Cmd({"hello", "3", "auth", "bob", "pw2"}) +
                                                  "AUTH inlinepw\r\n");
  ASSERT_EQ(run.frames.size(), 3u);
  EXPECT_EQ(run.frames[0].elements[1].text, "");
  EXPECT_EQ(run.frames[0].elements[2].text, "");
  EXPECT_EQ(run.frames[0].elements[2].size, 9u);
  EXPECT_EQ(run.frames[1].elements[1].text, "3");
  EXPECT_EQ(run.frames[1].elements[3].text, "");
  EXPECT_EQ(run.frames[1].elements[4].text, "");
  EXPECT_EQ(run.frames[2].elements[1].text, "");
}

TEST(RespParser, RejectsGarbage) {
  for (std::string_view bad : {"?what\r\n", ":12x\r\n", "$abc\r\n", "#x\r\n", "_1\r\n", "*-5\r\n",
                               "$-2\r\n", "$3\r\nabcd\r\n", "+a\nb\r\n"}) {
    ParseRun run = Parse(MessageKind::kResponse, bad);
    EXPECT_GT(run.stats.parse_errors, 0u) << bad;
    EXPECT_TRUE(run.frames.empty()) << bad;
  }
  // Commands are arrays of blob strings only.
  ParseRun run = Parse(MessageKind::kRequest, "*2\r\n:1\r\n:2\r\n");
  EXPECT_GT(run.stats.parse_errors, 0u);
}

TEST(RespParser, RandomGarbageNeverStallsOrCrashes) {
  std::mt19937 rng(1234);
  const std::string alphabet = "+-:$*_#,(!=%~|>\r\n0123456789abc";
  for (int round = 0; round < 200; ++round) {
    std::string bytes;
    const size_t len = rng() % 2000;
    for (size_t i = 0; i < len; ++i) bytes.push_back(alphabet[rng() % alphabet.size()]);
    for (MessageKind kind : {MessageKind::kRequest, MessageKind::kResponse}) {
      ParseRun run = Parse(kind, bytes, 1 + rng() % 50);
      EXPECT_LE(run.buffered_at_end, kMaxLineBytes + 4);
    }
  }
}

}  // namespace
}  // namespace wirespan::decoders::redis
