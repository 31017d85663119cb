// HTTP records -> OpenTelemetry spans (semantic conventions for HTTP, stable since v1.23).
#pragma once

#include <string>
#include <string_view>

#include "decoders/common/types.h"
#include "decoders/http/types.h"
#include "model/span.h"

namespace wirespan::decoders::http {

// A CLIENT span when the traced process is the client, a SERVER span when it is the server.
model::Span ToSpan(const Record& record, const ConnectionInfo& conn, Role role);

// The pieces of a request-target (RFC 9112 3.2), userinfo dropped.
struct Target {
  std::string scheme;  // absolute-form only
  std::string host;    // absolute-form and authority-form
  int port = -1;       // -1: not given
  std::string path;    // origin-form and absolute-form ("/" when empty); "*" for asterisk-form
  std::string query;   // raw, without '?'; only ever exported through SanitizeQuery
  bool has_query = false;
};
Target ParseTarget(std::string_view target, std::string_view method);

// "host", "host:port", "[v6]:port" -> host and port (-1 when absent). False if malformed.
bool SplitHostPort(std::string_view hostport, std::string* host, int* port);

// Query with every value replaced by '?' and keys kept ("a=1&b&c=x" -> "a=?&?&c=?"): a bare
// element could be a token, so it becomes '?' too. Bounded to kMaxSanitizedQueryBytes.
inline constexpr size_t kMaxSanitizedQueryBytes = 1024;
std::string SanitizeQuery(std::string_view query);

// Traceparent "00-<trace-id>-<parent-id>-<flags>" (already validated) -> ids.
bool ParseTraceparent(std::string_view traceparent, model::TraceId* trace_id,
                      model::SpanId* parent_id);

}  // namespace wirespan::decoders::http
