#include "exporters/console/console_exporter.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <nlohmann/json.hpp>

namespace wirespan::exporters {
namespace {

nlohmann::json ToJson(const model::Attributes& attributes) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& a : attributes.items()) {
    std::visit([&](const auto& v) { out[a.key] = v; }, a.value);
  }
  return out;
}

std::string ValueText(const model::AttributeValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return v;
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else {
          return fmt::format("{}", v);
        }
      },
      value);
}

std::string Attr(const model::Span& span, std::string_view key) {
  const model::AttributeValue* v = span.attributes.Find(key);
  return v ? ValueText(*v) : std::string();
}

}  // namespace

std::string FormatSpanJson(const model::Span& span) {
  nlohmann::json j;
  j["trace_id"] = model::ToHex(span.trace_id);
  j["span_id"] = model::ToHex(span.span_id);
  j["parent_span_id"] = model::IsZero(span.parent_span_id) ? "" : model::ToHex(span.parent_span_id);
  j["name"] = span.name;
  j["kind"] = model::SpanKindName(span.kind);
  j["start_time_unix_nano"] = span.start_time_unix_nano;
  j["end_time_unix_nano"] = span.end_time_unix_nano;
  j["status"] = {{"code", model::StatusCodeName(span.status)}, {"message", span.status_message}};
  j["attributes"] = ToJson(span.attributes);
  j["resource"] = span.resource ? ToJson(span.resource->attributes) : nlohmann::json::object();
  if (!span.trace_state.empty()) j["trace_state"] = span.trace_state;
  // Invalid UTF-8 from the wire must not abort printing: replace it.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string FormatSpanText(const model::Span& span) {
  using namespace std::chrono;
  const auto start = system_clock::time_point(
      duration_cast<system_clock::duration>(nanoseconds(span.start_time_unix_nano)));
  const double ms =
      span.end_time_unix_nano >= span.start_time_unix_nano
          ? static_cast<double>(span.end_time_unix_nano - span.start_time_unix_nano) / 1e6
          : 0.0;
  std::string service, pid;
  if (span.resource) {
    if (const auto* s = span.resource->attributes.FindString("service.name")) service = *s;
    if (const auto* p = span.resource->attributes.FindInt("process.pid")) pid = std::to_string(*p);
  }
  std::string detail;
  if (span.protocol == "http") {
    detail = fmt::format("{} {} -> {}", Attr(span, "http.request.method"), Attr(span, "url.path"),
                         Attr(span, "http.response.status_code"));
  } else if (const auto* q = span.attributes.FindString("db.query.text")) {
    detail = *q;
  } else if (const auto* d = span.attributes.FindString("messaging.destination.name")) {
    detail = "destination=" + *d;
  }
  const std::string peer =
      fmt::format("{}:{}", Attr(span, "server.address"), Attr(span, "server.port"));
  std::string line = fmt::format(
      "{:%Y-%m-%dT%H:%M:%S}Z {:<8} {:<10} {:>9.3f}ms {} [{}] {} pid={} server={} trace={} "
      "span={}",
      floor<milliseconds>(start), model::SpanKindName(span.kind), span.protocol, ms, span.name,
      span.status == model::StatusCode::kError ? "ERROR" : "ok", service, pid, peer,
      model::ToHex(span.trace_id), model::ToHex(span.span_id));
  if (!detail.empty()) line += " | " + detail;
  for (char& c : line) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';  // one span, one line
  }
  return line;
}

void ConsoleSpanExporter::OnSpan(model::Span span) {
  std::string line = format_ == ConsoleFormat::kJson ? FormatSpanJson(span) : FormatSpanText(span);
  line.push_back('\n');
  std::lock_guard lock(mu_);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
  ++printed_;
}

}  // namespace wirespan::exporters
