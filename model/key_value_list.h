// Comma-separated key=value lists with percent-encoded parts, the format OpenTelemetry uses for
// OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace wirespan::model {

using KeyValueList = std::vector<std::pair<std::string, std::string>>;

// Spaces and tabs removed from both ends.
std::string_view TrimBlanks(std::string_view s);
// %XX sequences decoded; a malformed one is kept as it is.
std::string PercentDecode(std::string_view text);
// "k1=v1, k2=v2": keys and values trimmed and percent-decoded; empty items skipped. An item
// without '=' or with an empty key is an error whose message starts with `what` (e.g. "resource
// attribute ").
StatusOr<KeyValueList> ParseKeyValueList(std::string_view text, std::string_view what = {});

}  // namespace wirespan::model
