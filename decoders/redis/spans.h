// Matched Redis records -> OpenTelemetry spans (database client spans; pub/sub messages as
// messaging consumer spans, PUBLISH as a producer span). See README.md for the attribute set.
#pragma once

#include "decoders/common/types.h"
#include "decoders/redis/matcher.h"
#include "model/span.h"

namespace wirespan::decoders::redis {

inline constexpr const char* kProtocolName = "redis";

model::Span ToSpan(const Record& record, const ConnectionInfo& conn, const DecoderOptions& options);

// "ERR", "WRONGTYPE", "NOAUTH": the first word of an error reply.
std::string ErrorPrefix(std::string_view error_text);
// The error text without anything Redis echoes from the command ('...' quoted arguments).
std::string SafeErrorMessage(std::string_view error_text);

}  // namespace wirespan::decoders::redis
