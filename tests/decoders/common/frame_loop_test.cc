// The shared parse loop against a toy length-prefixed protocol: "<digit><payload of that size>".
#include "decoders/common/frame_loop.h"

#include <gtest/gtest.h>

namespace wirespan::decoders {
namespace {

struct ToyFrame {
  std::string payload;
};

class ToyParser {
 public:
  static constexpr size_t kMaxBoundaryLength = 1;
  ParseState ParseFrame(DataStream& s, ToyFrame* frame) {
    std::string_view h = s.Head();
    if (h.empty()) return ParseState::kNeedsMoreData;
    if (h[0] == '0') {
      s.Consume(1);
      return ParseState::kIgnored;  // a heartbeat
    }
    if (h[0] < '1' || h[0] > '9') return ParseState::kInvalid;
    const size_t n = static_cast<size_t>(h[0] - '0');
    if (h.size() < 1 + n) return ParseState::kNeedsMoreData;
    frame->payload = std::string(h.substr(1, n));
    s.Consume(1 + n);
    return ParseState::kSuccess;
  }
  size_t FindFrameBoundary(std::string_view bytes) {
    for (size_t i = 1; i < bytes.size(); ++i) {
      if (bytes[i] >= '1' && bytes[i] <= '9') return i;
    }
    return std::string_view::npos;
  }
  void Reset() {}
};

TEST(FrameLoop, ParsesFramesAndSkipsIgnored) {
  DataStream s;
  s.Add(0, "3abc02xy", 8, {}, 0);
  ToyParser p;
  std::deque<ToyFrame> frames;
  DecoderStats stats;
  ParseFrames(p, s, frames, DecoderOptions{}, stats);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].payload, "abc");
  EXPECT_EQ(frames[1].payload, "xy");
  EXPECT_EQ(stats.ignored_frames, 1u);
  EXPECT_EQ(stats.parse_errors, 0u);
}

TEST(FrameLoop, ResyncsAfterGarbage) {
  DataStream s;
  s.Add(0, "##garbage##2ok", 14, {}, 0);
  ToyParser p;
  std::deque<ToyFrame> frames;
  DecoderStats stats;
  ParseFrames(p, s, frames, DecoderOptions{}, stats);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload, "ok");
  EXPECT_EQ(stats.parse_errors, 1u);
  EXPECT_GT(stats.resync_bytes, 0u);
}

TEST(FrameLoop, WaitsForMoreDataThenCompletes) {
  DataStream s;
  ToyParser p;
  std::deque<ToyFrame> frames;
  DecoderStats stats;
  s.Add(0, "5ab", 3, {}, 0);
  ParseFrames(p, s, frames, DecoderOptions{}, stats);
  EXPECT_TRUE(frames.empty());
  s.Add(3, "cde", 3, {}, 0);
  ParseFrames(p, s, frames, DecoderOptions{}, stats);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload, "abcde");
}

TEST(FrameLoop, GapItCannotUseIsSkipped) {
  DataStream s;
  s.Add(0, "", 5, {}, 0);  // 5 uncopied bytes
  s.Add(5, "2hi", 3, {}, 0);
  ToyParser p;
  std::deque<ToyFrame> frames;
  DecoderStats stats;
  ParseFrames(p, s, frames, DecoderOptions{}, stats);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload, "hi");
  EXPECT_EQ(stats.gaps, 1u);
}

TEST(FrameLoop, PendingFramesAreBounded) {
  DataStream s;
  std::string many;
  for (int i = 0; i < 20; ++i) many += "1x";
  s.Add(0, many, many.size(), {}, 0);
  ToyParser p;
  std::deque<ToyFrame> frames;
  DecoderStats stats;
  DecoderOptions options;
  options.max_pending_frames = 5;
  ParseFrames(p, s, frames, options, stats);
  EXPECT_EQ(frames.size(), 5u);
  EXPECT_EQ(stats.dropped_frames, 15u);
}

}  // namespace
}  // namespace wirespan::decoders
