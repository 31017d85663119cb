#include "decoders/common/data_stream.h"

#include <gtest/gtest.h>

#include <string>

namespace wirespan::decoders {
namespace {

ChunkMeta Meta(uint64_t ts, uint32_t tid = 1) { return ChunkMeta{ts, ts + 1, tid, 0}; }

TEST(DataStream, InOrderChunksAreContiguous) {
  DataStream s;
  s.Add(0, "hello ", 6, Meta(10), 10);
  s.Add(6, "world", 5, Meta(20), 20);
  EXPECT_EQ(s.Head(), "hello world");
  EXPECT_EQ(s.head_pos(), 0u);
  s.Consume(6);
  EXPECT_EQ(s.Head(), "world");
  EXPECT_EQ(s.head_pos(), 6u);
  EXPECT_EQ(s.last_consumed_meta().first_ts_ns, 10u);
  s.Consume(5);
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.last_consumed_meta().first_ts_ns, 20u);
}

TEST(DataStream, OutOfOrderChunkWaitsForTheHole) {
  DataStream s;
  s.Add(0, "abc", 3, Meta(1), 1);
  s.Add(6, "ghi", 3, Meta(3), 3);
  EXPECT_EQ(s.Head(), "abc");
  s.Consume(3);
  EXPECT_TRUE(s.Head().empty());
  EXPECT_EQ(s.GapAtHead(), 0u) << "a hole is not a gap until it expires";
  s.Add(3, "def", 3, Meta(2), 4);
  EXPECT_EQ(s.Head(), "defghi");
}

TEST(DataStream, DuplicateAndOverlappingBytesAreDropped) {
  DataStream s;
  s.Add(0, "abcdef", 6, Meta(1), 1);
  s.Add(2, "cdefgh", 6, Meta(2), 2);  // overlaps by 4
  s.Add(0, "ab", 2, Meta(3), 3);      // pure duplicate
  EXPECT_EQ(s.Head(), "abcdefgh");
  EXPECT_EQ(s.stats().duplicate_bytes, 6u);
}

TEST(DataStream, UncopiedTailIsAKnownGap) {
  DataStream s;
  s.Add(0, "head", 10, Meta(1), 1);  // 6 bytes never copied
  s.Add(10, "next", 4, Meta(2), 2);
  EXPECT_EQ(s.Head(), "head");
  EXPECT_EQ(s.GapAtHead(), 0u) << "gap only shows once the bytes before it are consumed";
  s.Consume(4);
  EXPECT_EQ(s.GapAtHead(), 6u);
  s.ConsumeGap(2);
  EXPECT_EQ(s.GapAtHead(), 4u);
  s.ConsumeGap(4);
  EXPECT_EQ(s.Head(), "next");
  EXPECT_EQ(s.head_pos(), 10u);
  EXPECT_EQ(s.stats().gap_bytes, 6u);
}

TEST(DataStream, SizeOnlyChunkIsAllGap) {
  DataStream s;
  s.Add(0, "", 100, Meta(1), 1);
  EXPECT_EQ(s.GapAtHead(), 100u);
  s.ConsumeGap(100);
  EXPECT_TRUE(s.empty());
}

TEST(DataStream, HoleExpiresIntoGapAfterTimeout) {
  DataStreamLimits limits;
  limits.hole_timeout_ns = 100;
  DataStream s(limits);
  s.Add(0, "ab", 2, Meta(1), 0);
  s.Add(5, "fg", 2, Meta(2), 10);
  s.Consume(2);
  EXPECT_FALSE(s.ExpireHoles(50));
  EXPECT_EQ(s.GapAtHead(), 0u);
  EXPECT_TRUE(s.ExpireHoles(200));
  EXPECT_EQ(s.GapAtHead(), 3u);
  s.ConsumeGap(3);
  EXPECT_EQ(s.Head(), "fg");
  EXPECT_EQ(s.stats().holes_expired, 1u);
}

TEST(DataStream, PendingBytesAreBounded) {
  DataStreamLimits limits;
  limits.max_pending_bytes = 8;
  limits.hole_timeout_ns = 1'000'000;
  DataStream s(limits);
  s.Add(0, "a", 1, Meta(1), 0);
  s.Consume(1);
  s.Add(10, std::string(16, 'x'), 16, Meta(2), 1);  // over the pending limit: hole expires now
  EXPECT_EQ(s.GapAtHead(), 9u);
  EXPECT_LE(s.buffered_bytes(), 16u);
}

TEST(DataStream, FlushHolesAfterCloseMakesEverythingReachable) {
  DataStream s;
  s.Add(0, "a", 1, Meta(1), 0);
  s.Add(3, "d", 1, Meta(2), 0);
  s.Add(6, "g", 1, Meta(3), 0);
  s.Consume(1);
  s.FlushHoles();
  std::string seen;
  uint64_t gaps = 0;
  while (!s.empty()) {
    if (uint64_t g = s.GapAtHead()) {
      gaps += g;
      s.ConsumeGap(g);
    } else {
      seen += std::string(s.Head());
      s.Consume(s.Head().size());
    }
  }
  EXPECT_EQ(seen, "dg");
  EXPECT_EQ(gaps, 4u);
}

TEST(DataStream, MetadataFollowsBytes) {
  DataStream s;
  s.Add(0, "aaaa", 4, Meta(100, 7), 0);
  s.Add(4, "bbbb", 4, Meta(200, 8), 0);
  EXPECT_EQ(s.MetaAt(0).tid, 7u);
  EXPECT_EQ(s.MetaAt(3).tid, 7u);
  EXPECT_EQ(s.MetaAt(4).tid, 8u);
  EXPECT_EQ(s.NextChunkStart(), 4u);
  s.Consume(5);
  EXPECT_EQ(s.last_consumed_meta().tid, 8u);
  EXPECT_EQ(s.MetaAt(s.head_pos()).first_ts_ns, 200u);
}

TEST(DataStream, StartsAtFirstPositionSeen) {
  DataStream s;
  s.Add(1000, "mid", 3, Meta(1), 0);
  EXPECT_EQ(s.head_pos(), 1000u);
  EXPECT_EQ(s.Head(), "mid");
}

TEST(DataStream, DiscardReadableSkipsBytesAndGap) {
  DataStream s;
  s.Add(0, "xyz", 10, Meta(1), 0);
  s.Add(10, "ok", 2, Meta(2), 0);
  EXPECT_EQ(s.DiscardReadable(), 10u);
  EXPECT_EQ(s.Head(), "ok");
}

}  // namespace
}  // namespace wirespan::decoders
