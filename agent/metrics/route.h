// Low-cardinality names from request targets: the http.route heuristic.
#pragma once

#include <string>
#include <string_view>

namespace wirespan::agent::metrics {

// "/users/123/orders/9f8e7d6c5b4a?x=1" -> "/users/{id}/orders/{id}". The query and fragment are
// dropped, an absolute-form target keeps only its path, "*" stays "*", "" becomes "/". A path
// segment becomes "{id}" when it is (see IsIdSegment): all digits; a UUID; all hex and at least 8
// long; at least 16 long from the base64/base64url/token alphabet with 2+ digits in it; longer than
// 48; holding 4 or more digits (dates, "order-12345", "report-2024.pdf"); or holding '@', ',',
// ';', '=', '%', '~' or a byte >= 0x80 (emails, matrix params, encoded text). At most 16 segments
// and 256 bytes are kept ("/{...}" marks the cut).
std::string HttpRouteFromTarget(std::string_view target);

// The segment rule above, for one segment.
bool IsIdSegment(std::string_view segment);

// The same rule on names split at '.', ':', '/', '-' ... kept short, e.g. a routing key
// "orders.eu.12345" -> "orders.eu.{id}". Used for messaging destinations.
std::string CollapseIds(std::string_view name, std::string_view separators = "./:");

// Known HTTP methods as they are, anything else "_OTHER" (semantic conventions).
std::string_view NormalizeHttpMethod(std::string_view method);

}  // namespace wirespan::agent::metrics
