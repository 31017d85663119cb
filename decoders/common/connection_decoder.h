// The per-connection interface between connection tracking and a protocol decoder.
//
// Every protocol implements it the same way (see decoders/common/README.md):
//   * a stateful per-direction parser with ParseFrame(stream, frame) -> ParseState and
//     FindFrameBoundary(bytes) for resync, driven by the shared loop in frame_loop.h;
//   * a matcher (or stitcher) that pairs requests with responses into spans.
#pragma once

#include <string_view>

#include "decoders/common/data_stream.h"
#include "decoders/common/types.h"
#include "model/span.h"

namespace wirespan::decoders {

class ConnectionDecoder {
 public:
  virtual ~ConnectionDecoder() = default;
  virtual Protocol protocol() const = 0;
  // New bytes or gaps are readable in `stream`, the stream of direction `dir`. The decoder parses
  // what it can and leaves the rest in the stream.
  virtual void OnData(Direction dir, DataStream& stream) = 0;
  // Pairs parsed frames and emits finished spans. `now_ns` is the source clock (for timeouts);
  // `closed` means no more data will come, so everything still pending is flushed.
  virtual void Emit(const ConnectionInfo& conn, model::SpanSink& sink, uint64_t now_ns,
                    bool closed) = 0;
};

// What detection concluded from a connection's first bytes.
struct Detection {
  Protocol protocol = Protocol::kUnknown;
  // 0 = no match; 100 = certain (a protocol header); protocols claiming less than the agent's
  // threshold are retried with more bytes.
  int confidence = 0;
  // Whether the bytes examined were sent by the protocol's client (a request) or server.
  MessageKind kind = MessageKind::kRequest;
};

}  // namespace wirespan::decoders
