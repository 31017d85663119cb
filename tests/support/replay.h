// Runs a capture file through the real pipeline (pcap replay -> tracking -> decoders) for tests.
#pragma once

#include <array>
#include <mutex>
#include <string>
#include <vector>

#include "agent/pipeline.h"
#include "decoders/common/types.h"
#include "model/span.h"

namespace wirespan::testing {

struct ReplayResult {
  Status status;
  std::vector<model::Span> spans;
  std::array<decoders::DecoderStats, 5> stats{};
  agent::TrackerStats tracker;
  const decoders::DecoderStats& stats_for(decoders::Protocol p) const {
    return stats[static_cast<size_t>(p)];
  }
};

ReplayResult ReplayCapture(const std::string& pcap_path,
                           const agent::PipelineOptions& options = {});

// Spans collected in memory, safe to read from another thread.
class CollectingSink : public model::SpanSink {
 public:
  void OnSpan(model::Span span) override;
  std::vector<model::Span> Snapshot() const;
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::vector<model::Span> spans_;
};

// Spans with the given protocol and kind, in start-time order.
std::vector<model::Span> Filter(const std::vector<model::Span>& spans, std::string_view protocol,
                                model::SpanKind kind);
// An attribute as text ("" when absent), for compact assertions.
std::string AttrText(const model::Span& span, std::string_view key);

}  // namespace wirespan::testing
