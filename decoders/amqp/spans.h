// AMQP records -> OpenTelemetry spans (messaging semantic conventions, RabbitMQ flavour).
#pragma once

#include <optional>
#include <string>

#include "decoders/amqp/types.h"
#include "decoders/common/types.h"
#include "model/span.h"

namespace wirespan::decoders::amqp {

// The span for a record, or nullopt for records that are not reported (handshake steps, normal
// channel/connection closes).
std::optional<model::Span> ToSpan(const Record& record, const ConnectionInfo& conn);

// Whether a synchronous call becomes a span of its own.
bool ReportsCall(const Record& record);

// The message fingerprint for publish->consume linking: FNV-1a 64 over exchange, routing key,
// the body hash and the message id. nullopt when the body hash is unknown (a gap in the body, or
// the content never completed).
std::optional<uint64_t> Fingerprint(const Record& record);
std::string Hex64(uint64_t value);

// A W3C traceparent ("00-<trace-id>-<parent-id>-<flags>"); false when malformed or all-zero ids.
bool ParseTraceparent(std::string_view value, model::TraceId* trace_id, model::SpanId* parent_id);

// The string value of a message header (longstr or byte array), if present.
const std::string* HeaderString(const Record& record, std::string_view name);

}  // namespace wirespan::decoders::amqp
