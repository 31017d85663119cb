// Matched PostgreSQL records -> OpenTelemetry database client (or server) spans.
#pragma once

#include "decoders/common/types.h"
#include "decoders/postgres/types.h"
#include "model/span.h"

namespace wirespan::decoders::postgres {

// Name per the database span conventions: "{operation} {collection}", else the operation, else
// the prepared statement's name (text unknown), else "postgresql".
std::string SpanName(const Record& record);

// CLIENT span when the traced process is the client, SERVER when it is PostgreSQL itself.
model::Span ToSpan(const Record& record, const ConnectionInfo& conn);

// Short description of well-known SQLSTATE classes and codes (never the server's message text,
// which may quote data).
std::string_view SqlStateName(std::string_view sqlstate);

}  // namespace wirespan::decoders::postgres
