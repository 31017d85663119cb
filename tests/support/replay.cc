#include "tests/support/replay.h"

#include <algorithm>

#include "agent/sources/pcap_source.h"
#include "agent/tracking/process_resources.h"

namespace wirespan::testing {

void CollectingSink::OnSpan(model::Span span) {
  std::lock_guard lock(mu_);
  spans_.push_back(std::move(span));
}

std::vector<model::Span> CollectingSink::Snapshot() const {
  std::lock_guard lock(mu_);
  return spans_;
}

size_t CollectingSink::size() const {
  std::lock_guard lock(mu_);
  return spans_.size();
}

ReplayResult ReplayCapture(const std::string& pcap_path, const agent::PipelineOptions& options) {
  ReplayResult result;
  agent::PcapSourceConfig config;
  config.path = pcap_path;
  agent::PcapEventSource source(config);
  CollectingSink sink;
  agent::StaticResourceProvider resources("replay");
  agent::Pipeline pipeline(source, sink, resources, options);
  result.status = pipeline.Start();
  if (result.status.ok()) {
    std::atomic<bool> stop{false};
    result.status = pipeline.Run(stop);
  }
  result.spans = sink.Snapshot();
  for (size_t i = 0; i < result.stats.size(); ++i) {
    result.stats[i] = pipeline.tracker().decoder_stats(static_cast<decoders::Protocol>(i));
  }
  result.tracker = pipeline.tracker().stats();
  return result;
}

std::vector<model::Span> Filter(const std::vector<model::Span>& spans, std::string_view protocol,
                                model::SpanKind kind) {
  std::vector<model::Span> out;
  for (const auto& s : spans) {
    if (s.protocol == protocol && s.kind == kind) out.push_back(s);
  }
  std::stable_sort(out.begin(), out.end(), [](const model::Span& a, const model::Span& b) {
    return a.start_time_unix_nano < b.start_time_unix_nano;
  });
  return out;
}

std::string AttrText(const model::Span& span, std::string_view key) {
  const model::AttributeValue* v = span.attributes.Find(key);
  if (v == nullptr) return {};
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return x;
        } else if constexpr (std::is_same_v<T, bool>) {
          return x ? "true" : "false";
        } else {
          return std::to_string(x);
        }
      },
      *v);
}

}  // namespace wirespan::testing
