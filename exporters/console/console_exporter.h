// Prints finished spans to a stream: one readable line, or one JSON object, per span.
// The default exporter when no collector is configured.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>

#include "model/span.h"

namespace wirespan::exporters {

enum class ConsoleFormat { kText, kJson };

class ConsoleSpanExporter : public model::SpanSink {
 public:
  explicit ConsoleSpanExporter(ConsoleFormat format, std::FILE* out = stdout)
      : format_(format), out_(out) {}
  void OnSpan(model::Span span) override;
  uint64_t spans_printed() const { return printed_; }

 private:
  ConsoleFormat format_;
  std::FILE* out_;
  std::mutex mu_;
  uint64_t printed_ = 0;
};

// The renderings, exposed for tests and other printers.
std::string FormatSpanText(const model::Span& span);
std::string FormatSpanJson(const model::Span& span);

}  // namespace wirespan::exporters
