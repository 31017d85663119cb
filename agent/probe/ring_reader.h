// RingReader: drains the BPF ring buffer and turns raw records (bpf/events.h) into the
// agent::ConnEvent / DataEvent / ProcEvent handed to an EventSink.
#pragma once

#include <cstddef>
#include <cstdint>

#include "agent/sources/event_source.h"
#include "base/status.h"

struct ring_buffer;

namespace wirespan::agent {

class RingReader {
 public:
  RingReader() = default;
  ~RingReader();
  RingReader(const RingReader&) = delete;
  RingReader& operator=(const RingReader&) = delete;

  Status Open(int ring_map_fd);
  void Close();

  // Delivers every ready record, waiting up to timeout_ms for the first. Returns how many.
  StatusOr<size_t> Poll(EventSink& sink, int timeout_ms);

  // Decodes one raw record into sink calls. Returns false (and counts it) when the record is
  // malformed. Public so the decoding can be tested without a kernel.
  bool Dispatch(const void* data, size_t size, EventSink& sink);

  uint64_t events() const { return events_; }
  uint64_t data_bytes() const { return data_bytes_; }
  uint64_t malformed() const { return malformed_; }

 private:
  static int OnRecord(void* ctx, void* data, size_t size);

  ring_buffer* ring_ = nullptr;
  EventSink* sink_ = nullptr;  // set only while Poll runs
  uint64_t events_ = 0;
  uint64_t data_bytes_ = 0;
  uint64_t malformed_ = 0;
};

}  // namespace wirespan::agent
