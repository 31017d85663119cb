// One direction of one connection as a byte stream with holes.
//
// Captured chunks arrive tagged with their stream position; they may come out of order, overlap,
// or never come at all (bytes beyond the copy cap, lost ring-buffer records). DataStream turns them
// into what a parser needs: a contiguous view of the bytes at the head, or a known gap at the
// head that a parser may step over (e.g. inside a body it only counts), plus the capture time and
// thread of every byte. Memory is bounded: bytes waiting behind a hole are capped, and a hole
// that does not fill in time becomes a gap.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>

namespace wirespan::decoders {

// When and by whom a run of bytes was sent or received.
struct ChunkMeta {
  uint64_t first_ts_ns = 0;  // when its first byte moved (syscall entry for writes, exit for reads)
  uint64_t last_ts_ns = 0;   // when its last byte moved (syscall exit)
  uint32_t tid = 0;
  uint32_t tcp_seq = 0;  // TCP sequence number of the chunk's first byte
};

struct DataStreamLimits {
  size_t max_contiguous_bytes = 1 << 20;   // parser lag beyond this is a stuck parser: reset
  size_t max_pending_bytes = 1 << 20;      // bytes waiting behind a hole
  uint64_t hole_timeout_ns = 200'000'000;  // a hole older than this becomes a gap
};

struct DataStreamStats {
  uint64_t bytes_added = 0;
  uint64_t duplicate_bytes = 0;  // already seen (overlap or retransmission)
  uint64_t gap_bytes = 0;        // known never to arrive
  uint64_t holes_expired = 0;    // holes turned into gaps by timeout or memory pressure
  uint64_t bytes_dropped = 0;    // discarded by Reset (stuck parser) or pressure
};

class DataStream {
 public:
  explicit DataStream(DataStreamLimits limits = {}) : limits_(limits) {}

  // Adds the chunk covering [pos, pos + covered_len): its first bytes.size() bytes are known and
  // the rest is a gap. `now_ns` is the caller's clock, used to age holes.
  void Add(uint64_t pos, std::string_view bytes, uint64_t covered_len, const ChunkMeta& meta,
           uint64_t now_ns);

  // Declares where the stream begins, before any chunk arrives, so a chunk that arrives early (out
  // of order) waits for the bytes before it. Without it the first chunk added sets the start.
  void StartAt(uint64_t pos) {
    if (!started_) {
      started_ = true;
      head_pos_ = pos;
    }
  }

  // Contiguous known bytes at the head.
  std::string_view Head() const { return std::string_view(buffer_).substr(consumed_); }
  // Position of Head()[0] in the stream.
  uint64_t head_pos() const { return head_pos_; }
  // Bytes of known gap at the head; only non-zero once Head() is empty.
  uint64_t GapAtHead() const;
  // Gap bytes after Head(): when non-zero, Head() cannot grow, so a parser waiting for more bytes
  // of the frame at the head would wait forever.
  uint64_t TrailingGap() const { return gap_len_; }
  bool empty() const { return Head().empty() && GapAtHead() == 0; }
  // True once any byte or gap has been added: head_pos() is then meaningful.
  bool started() const { return started_; }

  // Drops n <= Head().size() bytes from the head.
  void Consume(size_t n);
  // Steps over n <= GapAtHead() bytes of gap.
  void ConsumeGap(uint64_t n);
  // Drops everything currently readable (bytes and any gap right after), e.g. after a parse error.
  // Returns the number of stream positions skipped.
  uint64_t DiscardReadable();

  // Metadata of the chunk holding the byte at stream position pos (the head chunk when unknown).
  const ChunkMeta& MetaAt(uint64_t pos) const;
  // Stream position where the captured chunk after the head's chunk starts (or the readable end):
  // chunk starts are likely message starts, which helps detection on connections seen mid-stream.
  uint64_t NextChunkStart() const;
  // Metadata of the last byte or gap consumed so far.
  const ChunkMeta& last_consumed_meta() const { return last_consumed_meta_; }

  // Turns an old or oversized hole at the readable end into a gap so parsing can move on.
  // Returns true if something became readable.
  bool ExpireHoles(uint64_t now_ns);
  // Declares that nothing more will arrive (connection closed): every hole becomes a gap.
  void FlushHoles();

  const DataStreamStats& stats() const { return stats_; }
  size_t buffered_bytes() const { return buffer_.size() - consumed_ + pending_bytes_; }
  const DataStreamLimits& limits() const { return limits_; }

 private:
  struct Pending {
    std::string bytes;     // known bytes at the start of the segment
    uint64_t gap_len = 0;  // followed by this many bytes of gap
    ChunkMeta meta;
    uint64_t arrival_ns = 0;
  };
  struct Mark {
    uint64_t pos;
    ChunkMeta meta;
  };

  uint64_t readable_end() const { return head_pos_ + (buffer_.size() - consumed_) + gap_len_; }
  void AppendContiguous(uint64_t pos, std::string_view bytes, uint64_t gap_len,
                        const ChunkMeta& meta);
  void DrainPending();
  void Compact();
  void TrimMarks();

  DataStreamLimits limits_;
  bool started_ = false;
  bool closed_ = false;  // FlushHoles was called: holes become gaps as parsing reaches them
  // Readable region: buffer_[consumed_..] starts at head_pos_, followed by gap_len_ gap bytes.
  std::string buffer_;
  size_t consumed_ = 0;
  uint64_t head_pos_ = 0;
  uint64_t gap_len_ = 0;
  // Segments beyond the readable end, keyed by position.
  std::map<uint64_t, Pending> pending_;
  size_t pending_bytes_ = 0;
  std::deque<Mark> marks_;
  ChunkMeta last_consumed_meta_;
  DataStreamStats stats_;
};

}  // namespace wirespan::decoders
