// Byte-level tests of the PostgreSQL message parser through the shared frame loop.
#include "decoders/postgres/parse.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>

#include "decoders/common/frame_loop.h"
#include "tests/decoders/postgres/pg_wire.h"

namespace wirespan::decoders::postgres {
namespace {

using namespace wire;  // NOLINT

struct Fed {
  std::deque<Message> frames;
  DecoderStats stats;
};

Fed FeedAll(Side side, const std::string& bytes, size_t chunk, ParserLimits limits = {}) {
  Fed fed;
  Parser parser(side, limits, &fed.stats);
  DataStream stream;
  DecoderOptions options;
  uint64_t pos = 0;
  for (size_t i = 0; i < bytes.size(); i += chunk) {
    std::string_view piece = std::string_view(bytes).substr(i, chunk);
    stream.Add(pos, piece, piece.size(), ChunkMeta{i + 1, i + 2, 1, 0}, i);
    pos += piece.size();
    ParseFrames(parser, stream, fed.frames, options, fed.stats);
  }
  return fed;
}

TEST(PostgresParse, FrontendMessagesWholeAndByteByByte) {
  const std::string bytes = Startup("alice", "shop") + Password("hunter2") + Query("SELECT 1") +
                            Parse("s1", "SELECT $1", 1) +
                            Bind("", "s1", {std::string("secret-param")}) + Describe('P', "") +
                            Execute("", 0) + Sync() + Flush() + Close('S', "s1") + Terminate();
  for (size_t chunk : {bytes.size(), size_t{1}, size_t{3}, size_t{7}}) {
    Fed fed = FeedAll(Side::kFrontend, bytes, chunk);
    ASSERT_EQ(fed.frames.size(), 11u) << "chunk " << chunk;
    EXPECT_EQ(fed.stats.parse_errors, 0u);
    EXPECT_EQ(fed.frames[0].kind, FrameKind::kStartup);
    EXPECT_NE(fed.frames[0].payload.find("shop"), std::string::npos);
    EXPECT_EQ(fed.frames[1].tag, 'p');
    EXPECT_TRUE(fed.frames[1].payload.empty()) << "passwords are never kept";
    EXPECT_EQ(fed.frames[2].tag, 'Q');
    EXPECT_EQ(fed.frames[2].payload, std::string("SELECT 1") + '\0');
    EXPECT_EQ(fed.frames[3].tag, 'P');
    EXPECT_EQ(fed.frames[4].tag, 'B');
    EXPECT_EQ(fed.frames[5].tag, 'D');
    EXPECT_EQ(fed.frames[6].tag, 'E');
    EXPECT_EQ(fed.frames[7].tag, 'S');
    EXPECT_EQ(fed.frames[8].tag, 'H');
    EXPECT_EQ(fed.frames[9].tag, 'C');
    EXPECT_EQ(fed.frames[10].tag, 'X');
  }
}

TEST(PostgresParse, BackendMessages) {
  const std::string bytes =
      AuthSasl() + AuthOk() + ParameterStatus("server_version", "15") + BackendKeyData() +
      Ready('I') + ParseComplete() + BindComplete() + ParamDescription(2) +
      RowDescription({"a", "b"}) + NoData() + DataRow({"1", "secret-value"}) +
      CommandComplete("SELECT 1") + EmptyQuery() + Error("23505", "dup", "Key (id)=(5)") +
      Notice("hi") + PortalSuspended() + CopyInResponse(2) + CopyOutResponse(1) + CopyData("row") +
      CopyDone() + Notification("ch", "payload") + CloseComplete() + Ready('T');
  for (size_t chunk : {bytes.size(), size_t{1}, size_t{5}}) {
    Fed fed = FeedAll(Side::kBackend, bytes, chunk);
    ASSERT_EQ(fed.frames.size(), 23u) << "chunk " << chunk;
    EXPECT_EQ(fed.stats.parse_errors, 0u);
    EXPECT_EQ(fed.frames[10].tag, 'D');
    EXPECT_TRUE(fed.frames[10].payload.empty()) << "row data is never kept";
    EXPECT_EQ(fed.frames[11].payload, std::string("SELECT 1") + '\0');
    EXPECT_EQ(fed.frames[22].payload, "T");
  }
}

TEST(PostgresParse, EncryptionRequestAccepted) {
  // Client: SSLRequest then a TLS ClientHello; server: 'S' then TLS.
  std::string tls = "\x16\x03\x01\x02\x00";
  tls += std::string(512, 'x');
  Fed client = FeedAll(Side::kFrontend, SslRequest() + tls, 64);
  ASSERT_GE(client.frames.size(), 2u);
  EXPECT_EQ(client.frames[0].kind, FrameKind::kSslRequest);
  EXPECT_EQ(client.frames[1].kind, FrameKind::kEncrypted);
  EXPECT_EQ(client.stats.parse_errors, 0u);
  Fed server = FeedAll(Side::kBackend, "S" + tls, 64);
  ASSERT_GE(server.frames.size(), 1u);
  EXPECT_EQ(server.frames[0].kind, FrameKind::kEncryptionResponse);
  EXPECT_EQ(server.stats.parse_errors, 0u);
}

TEST(PostgresParse, EncryptionRequestRefused) {
  Fed client = FeedAll(Side::kFrontend, SslRequest() + Startup("u", "d") + Query("SELECT 1"), 1);
  ASSERT_EQ(client.frames.size(), 3u);
  EXPECT_EQ(client.frames[1].kind, FrameKind::kStartup);
  Fed server = FeedAll(Side::kBackend, "N" + StartupResponse(), 1);
  ASSERT_EQ(server.frames.size(), 6u);
  EXPECT_EQ(server.frames[0].kind, FrameKind::kEncryptionResponse);
  EXPECT_EQ(server.frames[0].tag, 'N');
  EXPECT_EQ(server.stats.parse_errors, 0u);
}

TEST(PostgresParse, CancelAndGssRequests) {
  Fed fed = FeedAll(Side::kFrontend, CancelRequest(1, 2), 1);
  ASSERT_EQ(fed.frames.size(), 1u);
  EXPECT_EQ(fed.frames[0].kind, FrameKind::kCancelRequest);
  fed = FeedAll(Side::kFrontend, GssEncRequest() + Startup("u", "d"), 2);
  ASSERT_EQ(fed.frames.size(), 2u);
  EXPECT_EQ(fed.frames[1].kind, FrameKind::kStartup);
}

TEST(PostgresParse, LargeRowsStreamWithoutBuffering) {
  const std::string big(3 << 20, 'r');  // larger than max_frame_bytes: streamed, not buffered
  const std::string bytes = DataRow({big}) + CommandComplete("SELECT 1");
  Fed fed = FeedAll(Side::kBackend, bytes, 64 << 10);
  ASSERT_EQ(fed.frames.size(), 2u);
  EXPECT_EQ(fed.frames[0].length, big.size() + 6);
  EXPECT_TRUE(fed.frames[0].payload.empty());
  EXPECT_EQ(fed.stats.parse_errors, 0u);
}

TEST(PostgresParse, GapInsideRowIsSteppedOver) {
  Fed fed;
  Parser parser(Side::kBackend, {}, &fed.stats);
  DataStream stream;
  DecoderOptions options;
  const std::string row = DataRow({std::string(1000, 'x')});
  stream.Add(0, std::string_view(row).substr(0, 100), 100, ChunkMeta{1, 2, 1, 0}, 0);
  stream.Add(100, "", row.size() - 100, ChunkMeta{3, 4, 1, 0}, 0);  // the rest never copied
  const std::string cc = CommandComplete("SELECT 1");
  stream.Add(row.size(), cc, cc.size(), ChunkMeta{5, 6, 1, 0}, 0);
  ParseFrames(parser, stream, fed.frames, options, fed.stats);
  ASSERT_EQ(fed.frames.size(), 2u);
  EXPECT_TRUE(fed.frames[0].gap);
  EXPECT_EQ(fed.frames[1].tag, 'C');
  EXPECT_EQ(fed.stats.parse_errors, 0u);
  EXPECT_EQ(fed.stats.gap_bytes_skipped, row.size() - 100);
}

TEST(PostgresParse, KeepsOnlyTheSqlPrefixItNeeds) {
  ParserLimits limits;
  limits.sql_capture_bytes = 100;
  Fed fed = FeedAll(Side::kFrontend, Query(std::string(5000, 'a')), 333, limits);
  ASSERT_EQ(fed.frames.size(), 1u);
  EXPECT_EQ(fed.frames[0].payload.size(), 100u);
  EXPECT_TRUE(fed.frames[0].payload_cut);
}

TEST(PostgresParse, GarbageResyncsAndCounts) {
  std::string garbage = "\xde\xad\xbe\xef garbage that is not postgres at all \x01\x02";
  const std::string bytes = garbage + Query("SELECT 1") + Sync();
  Fed fed = FeedAll(Side::kFrontend, bytes, bytes.size());
  EXPECT_GT(fed.stats.parse_errors, 0u);
  ASSERT_GE(fed.frames.size(), 2u);
  EXPECT_EQ(fed.frames[fed.frames.size() - 2].tag, 'Q');
  EXPECT_EQ(fed.frames.back().tag, 'S');
}

TEST(PostgresParse, InvalidLengthsAreRejected) {
  EXPECT_FALSE(ValidHeader(Side::kFrontend, 'S', 5, 1 << 20));  // Sync is exactly 4
  EXPECT_FALSE(ValidHeader(Side::kBackend, 'Z', 4, 1 << 20));   // ReadyForQuery is exactly 5
  EXPECT_FALSE(ValidHeader(Side::kBackend, 'C', 1 << 20, 1 << 20));
  EXPECT_FALSE(ValidHeader(Side::kFrontend, 'x', 10, 1 << 20));
  EXPECT_TRUE(ValidHeader(Side::kBackend, 'D', 1u << 29, 1 << 20));  // streamed types
  EXPECT_FALSE(ValidHeader(Side::kBackend, 'D', 0x80000000u, 1 << 20));
}

TEST(PostgresParse, RandomBytesNeverStall) {
  std::mt19937 rng(1234);
  for (int round = 0; round < 200; ++round) {
    std::string bytes(1 + rng() % 2000, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    if (round % 3 == 0) bytes = Query("SELECT 1") + bytes + Sync();
    for (Side side : {Side::kFrontend, Side::kBackend}) {
      Fed fed = FeedAll(side, bytes, 1 + rng() % 64);
      SUCCEED();
    }
  }
}

}  // namespace
}  // namespace wirespan::decoders::postgres
