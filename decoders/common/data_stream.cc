#include "decoders/common/data_stream.h"

#include <algorithm>

namespace wirespan::decoders {

void DataStream::Add(uint64_t pos, std::string_view bytes, uint64_t covered_len,
                     const ChunkMeta& meta, uint64_t now_ns) {
  if (covered_len < bytes.size()) covered_len = bytes.size();
  if (covered_len == 0) return;
  stats_.bytes_added += bytes.size();
  if (!started_) {
    started_ = true;
    head_pos_ = pos;
    last_consumed_meta_ = meta;
  }
  uint64_t end = pos + covered_len;
  const uint64_t known = readable_end();
  if (end <= known) {
    stats_.duplicate_bytes += covered_len;
    return;
  }
  // Trim what is already readable (overlap, retransmission).
  if (pos < known) {
    const uint64_t skip = known - pos;
    stats_.duplicate_bytes += skip;
    const size_t skip_bytes = static_cast<size_t>(std::min<uint64_t>(skip, bytes.size()));
    bytes.remove_prefix(skip_bytes);
    covered_len -= skip;
    pos = known;
  }
  const uint64_t gap_len = covered_len - bytes.size();
  if (pos == known && gap_len_ == 0) {
    AppendContiguous(pos, bytes, gap_len, meta);
    DrainPending();
  } else if (pos == known) {
    // Readable region already ends in a gap: this chunk waits behind it like any later segment.
    Pending& p = pending_[pos];
    if (p.bytes.size() + p.gap_len < covered_len) {
      pending_bytes_ -= p.bytes.size();
      p = Pending{std::string(bytes), gap_len, meta, now_ns};
      pending_bytes_ += p.bytes.size();
    }
  } else {
    Pending& p = pending_[pos];
    if (p.bytes.size() + p.gap_len < covered_len) {
      pending_bytes_ -= p.bytes.size();
      p = Pending{std::string(bytes), gap_len, meta, now_ns};
      pending_bytes_ += p.bytes.size();
    } else {
      stats_.duplicate_bytes += covered_len;
    }
    if (pending_bytes_ > limits_.max_pending_bytes) ExpireHoles(now_ns + limits_.hole_timeout_ns);
  }
}

void DataStream::AppendContiguous(uint64_t pos, std::string_view bytes, uint64_t gap_len,
                                  const ChunkMeta& meta) {
  if (marks_.empty() || marks_.back().pos != pos) marks_.push_back(Mark{pos, meta});
  buffer_.append(bytes);
  gap_len_ += gap_len;
  stats_.gap_bytes += gap_len;
}

void DataStream::DrainPending() {
  // Only extend the readable region while it does not end in a gap: bytes after a gap are handed
  // out once the parser has stepped over the gap (see ConsumeGap).
  while (!pending_.empty() && gap_len_ == 0) {
    auto it = pending_.begin();
    const uint64_t end = readable_end();
    const uint64_t seg_end = it->first + it->second.bytes.size() + it->second.gap_len;
    if (seg_end <= end) {
      stats_.duplicate_bytes += it->second.bytes.size();
      pending_bytes_ -= it->second.bytes.size();
      pending_.erase(it);
      continue;
    }
    if (it->first > end) {
      // After close nothing can fill the hole: it is a gap, and parsing moves past it.
      if (closed_) {
        gap_len_ += it->first - end;
        stats_.gap_bytes += it->first - end;
      }
      break;
    }
    Pending seg = std::move(it->second);
    const uint64_t seg_pos = it->first;
    pending_bytes_ -= seg.bytes.size();
    pending_.erase(it);
    uint64_t overlap = end - seg_pos;
    std::string_view b(seg.bytes);
    const size_t drop = static_cast<size_t>(std::min<uint64_t>(overlap, b.size()));
    b.remove_prefix(drop);
    overlap -= drop;
    seg.gap_len -= std::min(overlap, seg.gap_len);
    AppendContiguous(end, b, seg.gap_len, seg.meta);
  }
}

uint64_t DataStream::GapAtHead() const { return Head().empty() ? gap_len_ : 0; }

void DataStream::Consume(size_t n) {
  n = std::min(n, buffer_.size() - consumed_);
  if (n == 0) return;
  last_consumed_meta_ = MetaAt(head_pos_ + n - 1);
  consumed_ += n;
  head_pos_ += n;
  if (consumed_ == buffer_.size() || consumed_ > (64u << 10)) Compact();
  TrimMarks();
}

void DataStream::ConsumeGap(uint64_t n) {
  if (!Head().empty()) return;
  n = std::min(n, gap_len_);
  if (n == 0) return;
  last_consumed_meta_ = MetaAt(head_pos_ + n - 1);
  gap_len_ -= n;
  head_pos_ += n;
  TrimMarks();
  if (gap_len_ == 0) DrainPending();
}

uint64_t DataStream::DiscardReadable() {
  const uint64_t before = head_pos_;
  const size_t bytes = Head().size();
  stats_.bytes_dropped += bytes;
  Consume(bytes);
  ConsumeGap(gap_len_);
  return head_pos_ - before;
}

void DataStream::Compact() {
  buffer_.erase(0, consumed_);
  consumed_ = 0;
  if (buffer_.capacity() > 4 * buffer_.size() + (64u << 10)) buffer_.shrink_to_fit();
}

void DataStream::TrimMarks() {
  // Keep the mark covering the head; earlier ones describe consumed bytes only.
  while (marks_.size() > 1 && marks_[1].pos <= head_pos_) marks_.pop_front();
}

const ChunkMeta& DataStream::MetaAt(uint64_t pos) const {
  if (marks_.empty()) return last_consumed_meta_;
  // Marks are few (one per chunk still buffered); a backwards scan finds recent bytes first.
  for (auto it = marks_.rbegin(); it != marks_.rend(); ++it) {
    if (it->pos <= pos) return it->meta;
  }
  return marks_.front().meta;
}

uint64_t DataStream::NextChunkStart() const {
  for (const Mark& m : marks_) {
    if (m.pos > head_pos_) return m.pos;
  }
  return readable_end();
}

bool DataStream::ExpireHoles(uint64_t now_ns) {
  if (pending_.empty() || gap_len_ != 0) return false;
  auto it = pending_.begin();
  const uint64_t end = readable_end();
  if (it->first <= end) {
    DrainPending();
    return true;
  }
  const bool too_old = now_ns >= it->second.arrival_ns + limits_.hole_timeout_ns;
  const bool too_big = pending_bytes_ > limits_.max_pending_bytes;
  if (!too_old && !too_big) return false;
  ++stats_.holes_expired;
  const uint64_t hole = it->first - end;
  // The hole's bytes are lost: it becomes a gap, stamped like the segment after it.
  if (marks_.empty() || marks_.back().pos != end) marks_.push_back(Mark{end, it->second.meta});
  gap_len_ += hole;
  stats_.gap_bytes += hole;
  return true;
}

void DataStream::FlushHoles() {
  closed_ = true;
  DrainPending();
}

}  // namespace wirespan::decoders
