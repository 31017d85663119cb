// The agent's self-metrics: published from the pipeline thread, collected from exporter threads,
// rendered with the names the Prometheus endpoint shows.
#include "agent/metrics/self_metrics.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace wirespan::agent::metrics {
namespace {

const model::Metric* FindMetric(const std::vector<model::Metric>& ms, const std::string& name) {
  for (const auto& m : ms) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

int64_t PointValue(const model::Metric& m, const std::string& key = "",
                   const std::string& value = "") {
  for (const auto& p : m.number_points) {
    if (!key.empty()) {
      const std::string* v = p.attributes.FindString(key);
      if (v == nullptr || *v != value) continue;
    }
    if (const int64_t* i = std::get_if<int64_t>(&p.value)) return *i;
  }
  return -1;
}

TEST(SelfMetrics, ReportsThePublishedSnapshot) {
  auto resource = std::make_shared<model::Resource>();
  resource->attributes.Set("service.name", "wirespan");
  SelfMetrics self(resource);
  SelfMetricsSnapshot s;
  s.has_kernel_stats = true;
  s.events_read = 10;
  s.bytes_copied = 2048;
  s.kernel_drops[static_cast<size_t>(KernelDrop::kRingBufferFull)] = 3;
  s.kernel_drops[static_cast<size_t>(KernelDrop::kIovecLimit)] = 1;
  s.protocol_prefiltered = 7;
  s.connections_tracked = 4;
  s.connections_opened = 9;
  s.connections_evicted_idle = 2;
  s.protocols.push_back({"http", 5, 100, 3});
  s.protocols.push_back({"redis", 0, 40, 1});
  s.spans.present = true;
  s.spans.exported = 90;
  s.spans.dropped_queue_full = 6;
  s.spans.queue_size = 50;
  s.spans.queue_capacity = 200;
  s.spans.export_failures = 2;
  self.Publish(s);

  std::vector<model::Metric> out;
  self.Collect(model::UnixNanosNow(), out);
  for (const auto& m : out) EXPECT_EQ(m.resource, resource) << m.name;
  auto value = [&](const char* name, const std::string& k = "", const std::string& v = "") {
    const model::Metric* m = FindMetric(out, name);
    EXPECT_NE(m, nullptr) << name;
    return m ? PointValue(*m, k, v) : -2;
  };
  EXPECT_EQ(value("wirespan.capture.events.read"), 10);
  EXPECT_EQ(value("wirespan.capture.copied"), 2048);
  EXPECT_EQ(value("wirespan.capture.drops", "reason", "ring_buffer_full"), 3);
  EXPECT_EQ(value("wirespan.capture.drops", "reason", "iovec_limit"), 1);
  EXPECT_EQ(value("wirespan.capture.drops", "reason", "map_full"), 0);
  EXPECT_EQ(value("wirespan.capture.prefiltered"), 7);
  EXPECT_EQ(value("wirespan.connections.tracked"), 4);
  EXPECT_EQ(value("wirespan.connections.opened"), 9);
  EXPECT_EQ(value("wirespan.connections.evicted", "reason", "idle"), 2);
  EXPECT_EQ(value("wirespan.decoder.parse_errors", "protocol", "http"), 5);
  EXPECT_EQ(value("wirespan.decoder.parse_errors", "protocol", "redis"), 0);
  EXPECT_EQ(value("wirespan.spans.exported"), 90);
  EXPECT_EQ(value("wirespan.spans.dropped", "reason", "queue_full"), 6);
  EXPECT_EQ(value("wirespan.export.queue.size"), 50);
  EXPECT_EQ(value("wirespan.export.failures", "signal", "traces"), 2);
  const model::Metric* fill = FindMetric(out, "wirespan.export.queue.fill");
  ASSERT_NE(fill, nullptr);
  EXPECT_DOUBLE_EQ(std::get<double>(fill->number_points[0].value), 0.25);
  const model::Metric* drops = FindMetric(out, "wirespan.capture.drops");
  EXPECT_EQ(drops->type, model::MetricType::kSum);
  EXPECT_TRUE(drops->monotonic);
  EXPECT_GT(drops->number_points[0].start_time_unix_nano, 0u);
  // No metric exporter: its series are left out.
  EXPECT_EQ(FindMetric(out, "wirespan.metrics.exported"), nullptr);
}

TEST(SelfMetrics, WithoutKernelStatsOnlyUserSpaceSeries) {
  SelfMetrics self(nullptr);
  std::vector<model::Metric> out;
  self.Collect(1, out);
  EXPECT_EQ(FindMetric(out, "wirespan.capture.drops"), nullptr);
  EXPECT_NE(FindMetric(out, "wirespan.capture.events.read"), nullptr);
  EXPECT_EQ(FindMetric(out, "wirespan.spans.exported"), nullptr);
}

TEST(SelfMetrics, PublishAndCollectFromDifferentThreads) {
  SelfMetrics self(nullptr);
  std::atomic<bool> stop{false};
  std::thread publisher([&] {
    SelfMetricsSnapshot s;
    s.spans.present = true;
    for (uint64_t i = 0; !stop.load(); ++i) {
      s.events_read = i;
      s.spans.exported = i;
      self.Publish(s);
    }
  });
  int64_t last = -1;
  for (int i = 0; i < 2000; ++i) {
    std::vector<model::Metric> out;
    self.Collect(1, out);
    const model::Metric* m = FindMetric(out, "wirespan.capture.events.read");
    ASSERT_NE(m, nullptr);
    const int64_t v = PointValue(*m);
    EXPECT_GE(v, last);  // one consistent, monotonic snapshot at a time
    last = v;
  }
  stop = true;
  publisher.join();
}

}  // namespace
}  // namespace wirespan::agent::metrics
