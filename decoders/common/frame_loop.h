// The one parse loop every protocol shares: parse frames while possible, and on kInvalid count the
// error and resync at the next frame boundary the protocol can find.
#pragma once

#include <deque>
#include <string_view>

#include "decoders/common/data_stream.h"
#include "decoders/common/types.h"

namespace wirespan::decoders {

// Parser requirements (one instance per direction, it may keep state between calls):
//   ParseState ParseFrame(DataStream& stream, Frame* frame);
//     consumes the bytes (and gaps, where it can step over them) of what it parsed;
//   size_t FindFrameBoundary(std::string_view bytes);
//     offset of the first plausible frame start at offset >= 1, or npos;
//   void Reset();  forgets partial state after an error.
//   static constexpr size_t kMaxBoundaryLength;  longest signature FindFrameBoundary needs, so the
//     tail of a buffer is kept when no boundary is found yet.
template <typename Parser, typename Frame>
void ParseFrames(Parser& parser, DataStream& stream, std::deque<Frame>& frames,
                 const DecoderOptions& options, DecoderStats& stats) {
  // Each iteration consumes at least one byte or gap, or returns; the bound is a safety net.
  for (int guard = 0; guard < 1'000'000; ++guard) {
    if (stream.empty()) return;
    const uint64_t head_before = stream.head_pos();
    Frame frame{};
    const ParseState state = parser.ParseFrame(stream, &frame);
    const bool progressed = stream.head_pos() != head_before;
    switch (state) {
      case ParseState::kSuccess:
        ++stats.frames;
        if (frames.size() >= options.max_pending_frames) {
          frames.pop_front();
          ++stats.dropped_frames;
        }
        frames.push_back(std::move(frame));
        if (!progressed) break;  // a parser bug must not spin: treat as invalid below
        continue;
      case ParseState::kIgnored:
        ++stats.ignored_frames;
        if (!progressed) break;
        continue;
      case ParseState::kNeedsMoreData:
        // The parser cannot use a gap, and bytes behind a gap never join the head: resync.
        if (stream.GapAtHead() > 0 || stream.TrailingGap() > 0) break;
        if (stream.Head().size() > options.max_frame_bytes) break;  // would never complete
        return;
      case ParseState::kInvalid:
        break;
    }
    parser.Reset();
    if (uint64_t gap = stream.GapAtHead(); gap > 0) {
      // A gap between frames is lost data, not a parse error.
      if (state != ParseState::kNeedsMoreData) ++stats.parse_errors;
      ++stats.gaps;
      stats.resync_bytes += gap;
      stream.ConsumeGap(gap);
      continue;
    }
    ++stats.parse_errors;
    std::string_view head = stream.Head();
    size_t boundary = parser.FindFrameBoundary(head);
    if (boundary != std::string_view::npos && boundary > 0) {
      stats.resync_bytes += boundary;
      stream.Consume(boundary);
      continue;
    }
    // No boundary yet. Keep a tail that could start one split across reads, unless a gap follows
    // (then nothing can complete it).
    const size_t keep =
        stream.TrailingGap() > 0 ? 0 : std::min(head.size() - 1, Parser::kMaxBoundaryLength);
    const size_t drop = std::max<size_t>(head.size() - keep, 1);
    stats.resync_bytes += drop;
    stream.Consume(drop);
    if (stream.GapAtHead() == 0) return;
  }
}

}  // namespace wirespan::decoders
