// The span model every decoder produces and every exporter consumes.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "model/attributes.h"

namespace wirespan::model {

using TraceId = std::array<uint8_t, 16>;
using SpanId = std::array<uint8_t, 8>;

enum class SpanKind : uint8_t {
  kInternal = 1,
  kServer = 2,
  kClient = 3,
  kProducer = 4,
  kConsumer = 5
};
enum class StatusCode : uint8_t { kUnset = 0, kOk = 1, kError = 2 };

// What a resource is made of: one per traced process (service identity, process, host).
struct Resource {
  Attributes attributes;
};

// Where a span came from, for trace building; never exported as such.
struct SpanOrigin {
  uint32_t tgid = 0;
  uint32_t tid = 0;      // thread that sent/received the first byte of the request
  uint32_t end_tid = 0;  // thread that handled the last byte of the response
  uint64_t conn_id = 0;
  uint64_t request_tcp_seq = 0;  // TCP sequence of the request's first byte (cross-process links)
};

struct Span {
  TraceId trace_id{};
  SpanId span_id{};
  SpanId parent_span_id{};  // all zero: a root span
  std::string trace_state;
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  uint64_t start_time_unix_nano = 0;
  uint64_t end_time_unix_nano = 0;
  StatusCode status = StatusCode::kUnset;
  std::string status_message;
  Attributes attributes;
  std::shared_ptr<const Resource> resource;
  SpanOrigin origin;
  // Which decoder made it ("http", "postgresql", ...): lets metrics pick their instrument.
  std::string protocol;
};

bool IsZero(const TraceId& id);
bool IsZero(const SpanId& id);
std::string ToHex(const TraceId& id);
std::string ToHex(const SpanId& id);
const char* SpanKindName(SpanKind kind);
const char* StatusCodeName(StatusCode code);

// Fresh random ids as W3C Trace Context requires (not all zero), from a fast thread-local PRNG.
TraceId NewTraceId();
SpanId NewSpanId();

// A server or consumer span that has begun (its request arrived) but not ended. Trace building
// uses it to know which requests a thread is serving while its client calls complete. The span
// reported later at OnSpan has the same conn_id and start time.
struct SpanStart {
  uint32_t tgid = 0;
  uint32_t tid = 0;
  uint64_t conn_id = 0;
  uint64_t start_time_unix_nano = 0;
  SpanKind kind = SpanKind::kServer;
};

// Where finished spans go. Implementations must not block the capture path.
class SpanSink {
 public:
  virtual ~SpanSink() = default;
  virtual void OnSpan(Span span) = 0;
  virtual void OnSpanStart(const SpanStart& /*start*/) {}
};

}  // namespace wirespan::model
