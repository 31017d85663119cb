// OtlpSpanExporter / OtlpMetricExporter against a real HTTP receiver on 127.0.0.1 (libcurl).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "exporters/otlp/metric_exporter.h"
#include "exporters/otlp/span_exporter.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "tests/exporters/otlp/test_receiver.h"

namespace wirespan::exporters::otlp {
namespace {

using namespace std::chrono_literals;
using testing::TestReceiver;
namespace pbt = opentelemetry::proto::collector::trace::v1;
namespace pbm = opentelemetry::proto::collector::metrics::v1;
using Clock = std::chrono::steady_clock;

std::shared_ptr<const model::Resource> Svc(const std::string& name) {
  auto r = std::make_shared<model::Resource>();
  r->attributes.Set("service.name", name);
  return r;
}

model::Span MakeSpan(const std::shared_ptr<const model::Resource>& r, int i) {
  model::Span s;
  s.trace_id = model::NewTraceId();
  s.span_id = model::NewSpanId();
  s.name = "span-" + std::to_string(i);
  s.kind = model::SpanKind::kServer;
  s.start_time_unix_nano = 1000 + i;
  s.end_time_unix_nano = 2000 + i;
  s.attributes.Set("i", int64_t{i});
  s.resource = r;
  return s;
}

size_t SpansIn(const TestReceiver::Request& req) {
  pbt::ExportTraceServiceRequest m;
  if (!m.ParseFromString(req.body)) return 0;
  size_t n = 0;
  for (const auto& rs : m.resource_spans()) {
    for (const auto& ss : rs.scope_spans()) n += ss.spans_size();
  }
  return n;
}

size_t SpansReceived(const std::vector<TestReceiver::Request>& reqs, bool only_2xx = false,
                     const std::vector<int>* codes = nullptr) {
  size_t n = 0;
  for (size_t i = 0; i < reqs.size(); ++i) {
    if (only_2xx && codes && (*codes)[i] != 200) continue;
    n += SpansIn(reqs[i]);
  }
  return n;
}

// Fast settings for tests.
SpanExporterOptions Options(const TestReceiver& rx) {
  SpanExporterOptions o;
  o.signal.url = rx.Url("/v1/traces");
  o.signal.timeout = 2000ms;
  o.max_queue_size = 2048;
  o.max_export_batch_size = 512;
  o.schedule_delay = 50ms;
  o.retry.initial_backoff = 20ms;
  o.retry.max_backoff = 100ms;
  o.retry.max_retry_time = 10s;
  return o;
}

TEST(OtlpSpanExporter, ExportsBatchesGroupedByResourceWithHeaders) {
  TestReceiver rx;
  auto o = Options(rx);
  o.signal.headers = {{"Authorization", "Basic dXNlcjpwYXNz"}, {"x-tenant", "acme"}};
  auto exp = OtlpSpanExporter::Create(o);
  ASSERT_TRUE(exp.ok()) << exp.status().message();
  auto a = Svc("a"), b = Svc("b");
  for (int i = 0; i < 10; ++i) (*exp)->OnSpan(MakeSpan(i % 2 ? a : b, i));
  ASSERT_TRUE((*exp)->ForceFlush(5s));
  auto reqs = rx.requests();
  ASSERT_GE(reqs.size(), 1u);
  const auto& r = reqs[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/v1/traces");
  EXPECT_EQ(r.headers.at("content-type"), "application/x-protobuf");
  EXPECT_EQ(r.headers.at("authorization"), "Basic dXNlcjpwYXNz");
  EXPECT_EQ(r.headers.at("x-tenant"), "acme");
  EXPECT_NE(r.headers.at("user-agent").find("wirespan/"), std::string::npos);
  pbt::ExportTraceServiceRequest m;
  ASSERT_TRUE(m.ParseFromString(r.body));
  ASSERT_EQ(m.resource_spans_size(), 2);
  EXPECT_EQ(m.resource_spans(0).resource().attributes(0).value().string_value(), "b");
  EXPECT_EQ(m.resource_spans(0).scope_spans(0).spans_size(), 5);
  EXPECT_EQ(m.resource_spans(0).scope_spans(0).scope().name(), "wirespan");
  EXPECT_EQ(SpansReceived(reqs), 10u);
  auto st = (*exp)->stats();
  EXPECT_EQ(st.exported, 10u);
  EXPECT_EQ(st.failed, 0u);
  EXPECT_GT(st.bytes_sent, 0u);
  EXPECT_EQ(st.queue_size, 0u);
}

TEST(OtlpSpanExporter, BatchSizeIsRespected) {
  TestReceiver rx;
  auto o = Options(rx);
  o.max_export_batch_size = 100;
  auto exp = OtlpSpanExporter::Create(o);
  ASSERT_TRUE(exp.ok());
  auto a = Svc("a");
  for (int i = 0; i < 1000; ++i) (*exp)->OnSpan(MakeSpan(a, i));
  ASSERT_TRUE((*exp)->ForceFlush(10s));
  auto reqs = rx.requests();
  EXPECT_EQ(SpansReceived(reqs), 1000u);
  for (const auto& r : reqs) EXPECT_LE(SpansIn(r), 100u);
  EXPECT_GE(reqs.size(), 10u);
}

TEST(OtlpSpanExporter, ScheduleDelayExportsWithoutFlush) {
  TestReceiver rx;
  auto exp = OtlpSpanExporter::Create(Options(rx));
  ASSERT_TRUE(exp.ok());
  (*exp)->OnSpan(MakeSpan(Svc("a"), 1));
  EXPECT_TRUE(rx.WaitForRequests(1, 3s));
}

TEST(OtlpSpanExporter, GzipBodyDecodes) {
  TestReceiver rx;
  auto o = Options(rx);
  o.signal.compression = Compression::kGzip;
  auto exp = OtlpSpanExporter::Create(o);
  ASSERT_TRUE(exp.ok());
  auto a = Svc("a");
  for (int i = 0; i < 50; ++i) (*exp)->OnSpan(MakeSpan(a, i));
  ASSERT_TRUE((*exp)->ForceFlush(5s));
  auto reqs = rx.requests();
  ASSERT_GE(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].headers.at("content-encoding"), "gzip");
  EXPECT_LT(reqs[0].raw_body.size(), reqs[0].body.size());
  EXPECT_EQ(SpansReceived(reqs), 50u);
}

TEST(OtlpSpanExporter, JsonProtocol) {
  TestReceiver rx;
  rx.SetHandler([](const TestReceiver::Request&) {
    TestReceiver::Reply r;
    r.content_type = "application/json";
    r.body = R"({"partialSuccess":{}})";
    return r;
  });
  auto o = Options(rx);
  o.signal.protocol = Protocol::kHttpJson;
  auto exp = OtlpSpanExporter::Create(o);
  ASSERT_TRUE(exp.ok());
  auto span = MakeSpan(Svc("a"), 7);
  std::string trace_hex = model::ToHex(span.trace_id);
  (*exp)->OnSpan(span);
  ASSERT_TRUE((*exp)->ForceFlush(5s));
  auto reqs = rx.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].headers.at("content-type"), "application/json");
  auto j = nlohmann::json::parse(reqs[0].body);
  const auto& js = j["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
  EXPECT_EQ(js["traceId"], trace_hex);
  EXPECT_EQ(js["name"], "span-7");
  EXPECT_EQ(js["attributes"][0]["value"]["intValue"], "7");
  EXPECT_EQ((*exp)->stats().exported, 1u);
}

TEST(OtlpSpanExporter, RetriesOn503HonoringRetryAfter) {
  TestReceiver rx;
  std::atomic<int> calls{0};
  rx.SetHandler([&](const TestReceiver::Request&) {
    TestReceiver::Reply r;
    if (calls++ == 0) {
      r.status = 503;
      r.headers.push_back({"Retry-After", "1"});
    }
    return r;
  });
  auto exp = OtlpSpanExporter::Create(Options(rx));
  ASSERT_TRUE(exp.ok());
  for (int i = 0; i < 3; ++i) (*exp)->OnSpan(MakeSpan(Svc("a"), i));
  auto start = Clock::now();
  ASSERT_TRUE((*exp)->ForceFlush(10s));
  auto elapsed = Clock::now() - start;
  EXPECT_GE(elapsed, 950ms);  // waited for Retry-After, not the 20 ms backoff
  EXPECT_EQ(calls.load(), 2);
  auto st = (*exp)->stats();
  EXPECT_EQ(st.retries, 1u);
  EXPECT_EQ(st.requests, 2u);
  EXPECT_EQ(st.exported, 3u);
  EXPECT_EQ(st.failed, 0u);
  auto reqs = rx.requests();
  EXPECT_EQ(reqs[0].body, reqs[1].body);  // the same batch again
}

TEST(OtlpSpanExporter, RetriesOn429And502WithBackoff) {
  TestReceiver rx;
  std::atomic<int> calls{0};
  rx.SetHandler([&](const TestReceiver::Request&) {
    TestReceiver::Reply r;
    int n = calls++;
    if (n == 0) r.status = 429;
    if (n == 1) r.status = 502;
    if (n == 2) r.status = 504;
    return r;
  });
  auto exp = OtlpSpanExporter::Create(Options(rx));
  ASSERT_TRUE(exp.ok());
  (*exp)->OnSpan(MakeSpan(Svc("a"), 1));
  ASSERT_TRUE((*exp)->ForceFlush(10s));
  auto st = (*exp)->stats();
  EXPECT_EQ(st.retries, 3u);
  EXPECT_EQ(st.exported, 1u);
}

TEST(OtlpSpanExporter, NonRetryable400IsDroppedAndCounted) {
  TestReceiver rx;
  rx.SetHandler([](const TestReceiver::Request&) {
    TestReceiver::Reply r;
    r.status = 400;
    r.body = "bad data";
    return r;
  });
  auto exp = OtlpSpanExporter::Create(Options(rx));
  ASSERT_TRUE(exp.ok());
  for (int i = 0; i < 4; ++i) (*exp)->OnSpan(MakeSpan(Svc("a"), i));
  ASSERT_TRUE((*exp)->ForceFlush(5s));
  auto st = (*exp)->stats();
  EXPECT_EQ(st.requests, 1u);
  EXPECT_EQ(st.retries, 0u);
  EXPECT_EQ(st.failed, 4u);
  EXPECT_EQ(st.export_failures, 1u);
  EXPECT_EQ(st.exported, 0u);
}

TEST(OtlpSpanExporter, PartialSuccessIsCounted) {
  TestReceiver rx;
  rx.SetHandler([](const TestReceiver::Request&) {
    pbt::ExportTraceServiceResponse resp;
    resp.mutable_partial_success()->set_rejected_spans(2);
    resp.mutable_partial_success()->set_error_message("2 spans too old");
    TestReceiver::Reply r;
    r.body = resp.SerializeAsString();
    return r;
  });
  auto exp = OtlpSpanExporter::Create(Options(rx));
  ASSERT_TRUE(exp.ok());
  for (int i = 0; i < 5; ++i) (*exp)->OnSpan(MakeSpan(Svc("a"), i));
  ASSERT_TRUE((*exp)->ForceFlush(5s));
  auto st = (*exp)->stats();
  EXPECT_EQ(st.rejected, 2u);
  EXPECT_EQ(st.exported, 3u);
  EXPECT_EQ(st.retries, 0u);
}

TEST(OtlpSpanExporter, ConnectionErrorsRetryUntilReceiverReturns) {
  TestReceiver rx;
  auto o = Options(rx);
  o.retry.initial_backoff = 50ms;
  o.retry.max_backoff = 200ms;
  auto exp = OtlpSpanExporter::Create(o);
  ASSERT_TRUE(exp.ok());
  rx.Stop();
  for (int i = 0; i < 5; ++i) (*exp)->OnSpan(MakeSpan(Svc("a"), i));
  // Let a few tries fail against the closed port.
  for (int i = 0; i < 100 && (*exp)->stats().retries < 2; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_GE((*exp)->stats().retries, 2u);
  EXPECT_EQ((*exp)->stats().exported, 0u);
  rx.Restart();
  ASSERT_TRUE(rx.WaitForRequests(1, 5s));
  ASSERT_TRUE((*exp)->ForceFlush(5s));
  EXPECT_EQ((*exp)->stats().exported, 5u);
  EXPECT_EQ((*exp)->stats().failed, 0u);
  // And new spans flow normally afterwards.
  (*exp)->OnSpan(MakeSpan(Svc("a"), 99));
  ASSERT_TRUE((*exp)->ForceFlush(5s));
  EXPECT_EQ((*exp)->stats().exported, 6u);
}

TEST(OtlpSpanExporter, GivesUpAfterMaxRetryTime) {
  TestReceiver rx;
  rx.SetHandler([](const TestReceiver::Request&) {
    TestReceiver::Reply r;
    r.status = 503;
    return r;
  });
  auto o = Options(rx);
  o.retry.max_retry_time = 300ms;
  auto exp = OtlpSpanExporter::Create(o);
  ASSERT_TRUE(exp.ok());
  (*exp)->OnSpan(MakeSpan(Svc("a"), 1));
  (*exp)->OnSpan(MakeSpan(Svc("a"), 2));
  ASSERT_TRUE((*exp)->ForceFlush(5s));
  auto st = (*exp)->stats();
  EXPECT_EQ(st.failed, 2u);
  EXPECT_EQ(st.export_failures, 1u);
  EXPECT_GE(st.retries, 2u);
}

TEST(OtlpSpanExporter, QueueOverflowDropsOldestAndStaysBounded) {
  TestReceiver rx;
  std::mutex gate_mu;
  std::condition_variable gate_cv;
  bool open = false;
  rx.SetHandler([&](const TestReceiver::Request&) {
    std::unique_lock<std::mutex> lock(gate_mu);
    gate_cv.wait(lock, [&] { return open; });
    return TestReceiver::Reply{};
  });
  auto o = Options(rx);
  o.max_queue_size = 100;
  o.max_export_batch_size = 50;
  auto exp = OtlpSpanExporter::Create(o);
  ASSERT_TRUE(exp.ok());
  auto a = Svc("a");
  // Let one batch get stuck in the receiver, then overflow the queue behind it.
  for (int i = 0; i < 50; ++i) (*exp)->OnSpan(MakeSpan(a, i));
  ASSERT_TRUE(rx.WaitFor([](const auto&) { return true; }, 10ms) || true);
  for (int i = 0; i < 200 && (*exp)->stats().queue_size != 0; ++i) {
    std::this_thread::sleep_for(5ms);
  }
  auto start = Clock::now();
  for (int i = 50; i < 1050; ++i) {
    (*exp)->OnSpan(MakeSpan(a, i));
    ASSERT_LE((*exp)->stats().queue_size, 100u);
  }
  EXPECT_LT(Clock::now() - start, 1s);  // OnSpan never waited for the stuck export
  auto st = (*exp)->stats();
  EXPECT_EQ(st.queue_size, 100u);
  EXPECT_EQ(st.queue_capacity, 100u);
  EXPECT_EQ(st.dropped_queue_full, 900u);
  {
    std::lock_guard<std::mutex> lock(gate_mu);
    open = true;
  }
  gate_cv.notify_all();
  ASSERT_TRUE((*exp)->ForceFlush(5s));
  st = (*exp)->stats();
  EXPECT_EQ(st.exported + st.dropped_queue_full, 1050u);
  // The newest spans survived (oldest dropped).
  auto reqs = rx.requests();
  pbt::ExportTraceServiceRequest last;
  ASSERT_TRUE(last.ParseFromString(reqs.back().body));
  EXPECT_EQ(last.resource_spans(0).scope_spans(0).spans().rbegin()->name(), "span-1049");
}

TEST(OtlpSpanExporter, ShutdownFlushesQueuedSpans) {
  TestReceiver rx;
  auto o = Options(rx);
  o.schedule_delay = 60s;
  auto exp = OtlpSpanExporter::Create(o);
  ASSERT_TRUE(exp.ok());
  for (int i = 0; i < 3; ++i) (*exp)->OnSpan(MakeSpan(Svc("a"), i));
  (*exp)->Shutdown(5s);
  EXPECT_EQ(SpansReceived(rx.requests()), 3u);
  EXPECT_EQ((*exp)->stats().exported, 3u);
  (*exp)->OnSpan(MakeSpan(Svc("a"), 4));
  EXPECT_EQ((*exp)->stats().dropped_shutdown, 1u);
}

TEST(OtlpSpanExporter, ShutdownDeadlineCutsRetriesShort) {
  TestReceiver rx;
  rx.SetHandler([](const TestReceiver::Request&) {
    TestReceiver::Reply r;
    r.status = 503;
    r.headers.push_back({"Retry-After", "30"});
    return r;
  });
  auto o = Options(rx);
  o.schedule_delay = 60s;
  o.max_export_batch_size = 2;
  auto exp = OtlpSpanExporter::Create(o);
  ASSERT_TRUE(exp.ok());
  for (int i = 0; i < 6; ++i) (*exp)->OnSpan(MakeSpan(Svc("a"), i));
  auto start = Clock::now();
  (*exp)->Shutdown(500ms);
  EXPECT_LT(Clock::now() - start, 3s);
  auto st = (*exp)->stats();
  EXPECT_EQ(st.exported, 0u);
  EXPECT_EQ(st.failed + st.dropped_shutdown, 6u);
}

TEST(OtlpSpanExporter, SamplerDropsBeforeQueue) {
  TestReceiver rx;
  auto o = Options(rx);
  o.sampler = std::make_shared<Sampler>(SamplerConfig{SamplerType::kAlwaysOff, 1});
  auto exp = OtlpSpanExporter::Create(o);
  ASSERT_TRUE(exp.ok());
  for (int i = 0; i < 5; ++i) (*exp)->OnSpan(MakeSpan(Svc("a"), i));
  ASSERT_TRUE((*exp)->ForceFlush(2s));
  EXPECT_EQ(rx.request_count(), 0u);
  EXPECT_EQ((*exp)->stats().sampled_out, 5u);
}

TEST(OtlpSpanExporter, RequestTimeoutIsRetryable) {
  TestReceiver rx;
  std::atomic<int> calls{0};
  rx.SetHandler([&](const TestReceiver::Request&) {
    if (calls++ == 0) std::this_thread::sleep_for(700ms);
    return TestReceiver::Reply{};
  });
  auto o = Options(rx);
  o.signal.timeout = 200ms;
  auto exp = OtlpSpanExporter::Create(o);
  ASSERT_TRUE(exp.ok());
  (*exp)->OnSpan(MakeSpan(Svc("a"), 1));
  ASSERT_TRUE((*exp)->ForceFlush(5s));
  EXPECT_GE((*exp)->stats().retries, 1u);
  EXPECT_EQ((*exp)->stats().exported, 1u);
}

TEST(OtlpSpanExporter, ConfigValidation) {
  OtlpConfig c;
  c.protocol = Protocol::kGrpc;
  auto e = OtlpSpanExporter::Create(c);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("WIRESPAN_OTLP_GRPC"), std::string::npos);
  OtlpConfig bad;
  bad.traces.endpoint = "ftp://x/";
  EXPECT_FALSE(OtlpSpanExporter::Create(bad).ok());
}

TEST(OtlpSpanExporter, ConcurrentProducers) {
  TestReceiver rx;
  auto o = Options(rx);
  o.max_queue_size = 100000;
  auto exp = OtlpSpanExporter::Create(o);
  ASSERT_TRUE(exp.ok());
  auto a = Svc("a");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2500; ++i) (*exp)->OnSpan(MakeSpan(a, t * 10000 + i));
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE((*exp)->ForceFlush(10s));
  EXPECT_EQ((*exp)->stats().exported, 10000u);
  EXPECT_EQ(SpansReceived(rx.requests()), 10000u);
}

class FixedProducer : public model::MetricProducer {
 public:
  void Collect(uint64_t now, std::vector<model::Metric>& out) override {
    ++collections;
    model::Metric m;
    m.name = "wirespan.spans";
    m.type = model::MetricType::kSum;
    m.number_points.push_back({{}, 1, now, int64_t{collections.load()}});
    out.push_back(m);
    model::Metric h;
    h.name = "http.server.request.duration";
    h.unit = "s";
    h.type = model::MetricType::kHistogram;
    model::HistogramAggregator agg(
        std::make_shared<const std::vector<double>>(std::vector<double>{0.1, 1}));
    agg.Record(0.05);
    agg.Record(0.5);
    model::HistogramPoint p;
    p.time_unix_nano = now;
    agg.Snapshot(p);
    h.histogram_points.push_back(p);
    out.push_back(h);
  }
  std::atomic<int> collections{0};
};

TEST(OtlpMetricExporter, PeriodicExport) {
  TestReceiver rx;
  MetricExporterOptions o;
  o.signal.url = rx.Url("/v1/metrics");
  o.interval = 100ms;
  o.retry.initial_backoff = 20ms;
  auto producer = std::make_shared<FixedProducer>();
  auto exp = OtlpMetricExporter::Create(o, producer);
  ASSERT_TRUE(exp.ok()) << exp.status().message();
  ASSERT_TRUE(rx.WaitForRequests(3, 5s));
  auto reqs = rx.requests();
  EXPECT_EQ(reqs[0].path, "/v1/metrics");
  pbm::ExportMetricsServiceRequest m;
  ASSERT_TRUE(m.ParseFromString(reqs[0].body));
  const auto& ms = m.resource_metrics(0).scope_metrics(0);
  ASSERT_EQ(ms.metrics_size(), 2);
  EXPECT_EQ(ms.metrics(0).name(), "wirespan.spans");
  EXPECT_EQ(ms.metrics(1).histogram().data_points(0).count(), 2u);
  EXPECT_EQ(ms.metrics(1).histogram().data_points(0).bucket_counts(0), 1u);
  (*exp)->Shutdown(2s);
  EXPECT_GE((*exp)->stats().exported, 6u);  // 2 data points per export
}

TEST(OtlpMetricExporter, ForceFlushAndShutdownExport) {
  TestReceiver rx;
  MetricExporterOptions o;
  o.signal.url = rx.Url("/v1/metrics");
  o.signal.protocol = Protocol::kHttpJson;
  o.interval = 3600s;
  auto producer = std::make_shared<model::MetricProducerSet>();
  producer->Add(std::make_shared<model::CallbackCounterProducer>(
      "wirespan.events", "Events", "{event}", [] { return int64_t{7}; }));
  producer->Add(std::make_shared<model::CallbackGaugeProducer>("wirespan.queue.fill", "Queue", "1",
                                                               [] { return 0.5; }));
  auto exp = OtlpMetricExporter::Create(o, producer);
  ASSERT_TRUE(exp.ok());
  ASSERT_TRUE((*exp)->ForceFlush(5s));
  ASSERT_EQ(rx.request_count(), 1u);
  auto j = nlohmann::json::parse(rx.requests()[0].body);
  const auto& metrics = j["resourceMetrics"][0]["scopeMetrics"][0]["metrics"];
  EXPECT_EQ(metrics[0]["name"], "wirespan.events");
  EXPECT_EQ(metrics[0]["sum"]["dataPoints"][0]["asInt"], "7");
  EXPECT_EQ(metrics[1]["gauge"]["dataPoints"][0]["asDouble"], 0.5);
  (*exp)->Shutdown(2s);
  EXPECT_EQ(rx.request_count(), 2u);  // the final collection
}

TEST(OtlpMetricExporter, RetriesWithinInterval) {
  TestReceiver rx;
  std::atomic<int> calls{0};
  rx.SetHandler([&](const TestReceiver::Request&) {
    TestReceiver::Reply r;
    if (calls++ == 0) r.status = 503;
    return r;
  });
  MetricExporterOptions o;
  o.signal.url = rx.Url("/v1/metrics");
  o.interval = 3600s;
  o.retry.initial_backoff = 20ms;
  auto exp = OtlpMetricExporter::Create(o, std::make_shared<FixedProducer>());
  ASSERT_TRUE(exp.ok());
  ASSERT_TRUE((*exp)->ForceFlush(5s));
  EXPECT_EQ((*exp)->stats().retries, 1u);
  EXPECT_EQ((*exp)->stats().exported, 2u);
}

}  // namespace
}  // namespace wirespan::exporters::otlp
