// Span encoding throughput (OTLP protobuf / JSON / gzip) and RED recording cost per span.
#include <benchmark/benchmark.h>

#include "agent/metrics/red_metrics.h"
#include "agent/metrics/route.h"
#include "exporters/otlp/encoder.h"
#include "exporters/otlp/http_client.h"
#include "exporters/prometheus/text_format.h"

namespace {

using namespace wirespan;

// A realistic HTTP server span: ~14 attributes as the HTTP decoder makes them.
std::vector<model::Span> MakeSpans(size_t n, size_t services) {
  std::vector<std::shared_ptr<const model::Resource>> resources;
  for (size_t i = 0; i < services; ++i) {
    auto r = std::make_shared<model::Resource>();
    r->attributes.Set("service.name", "service-" + std::to_string(i));
    r->attributes.Set("process.pid", int64_t(1000 + i));
    r->attributes.Set("host.name", "node-a");
    r->attributes.Set("process.runtime.name", "CPython");
    resources.push_back(r);
  }
  std::vector<model::Span> spans;
  spans.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    model::Span s;
    s.trace_id = model::NewTraceId();
    s.span_id = model::NewSpanId();
    if (i % 2) s.parent_span_id = model::NewSpanId();
    s.name = "GET /users/{id}";
    s.kind = model::SpanKind::kServer;
    s.protocol = "http";
    s.start_time_unix_nano = 1700000000000000000ull + i * 1000;
    s.end_time_unix_nano = s.start_time_unix_nano + 1234567;
    auto& a = s.attributes;
    a.Set("http.request.method", "GET");
    a.Set("url.path", "/users/" + std::to_string(i % 1000));
    a.Set("url.scheme", "http");
    a.Set("http.route", "/users/{id}");
    a.Set("http.response.status_code", int64_t{i % 10 == 0 ? 500 : 200});
    a.Set("network.protocol.version", "1.1");
    a.Set("server.address", "127.0.0.1");
    a.Set("server.port", int64_t{8000});
    a.Set("client.address", "127.0.0.1");
    a.Set("client.port", int64_t(40000 + i % 1000));
    a.Set("network.peer.address", "127.0.0.1");
    a.Set("network.transport", "tcp");
    a.Set("user_agent.original", "python-requests/2.28.1");
    a.Set("http.response.body.size", int64_t{512});
    s.resource = resources[i % services];
    spans.push_back(std::move(s));
  }
  return spans;
}

void BM_EncodeTracesProto(benchmark::State& state) {
  auto spans = MakeSpans(static_cast<size_t>(state.range(0)), 4);
  exporters::otlp::EncodeOptions o;
  size_t bytes = 0;
  for (auto _ : state) {
    std::string body = exporters::otlp::EncodeTracesProto(spans, o);
    bytes = body.size();
    benchmark::DoNotOptimize(body);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["bytes_per_span"] = static_cast<double>(bytes) / state.range(0);
}
BENCHMARK(BM_EncodeTracesProto)->Arg(512)->Arg(64);

void BM_EncodeTracesProtoGzip(benchmark::State& state) {
  auto spans = MakeSpans(static_cast<size_t>(state.range(0)), 4);
  exporters::otlp::EncodeOptions o;
  size_t bytes = 0;
  for (auto _ : state) {
    auto gz = exporters::otlp::GzipCompress(exporters::otlp::EncodeTracesProto(spans, o));
    bytes = gz->size();
    benchmark::DoNotOptimize(gz);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["bytes_per_span"] = static_cast<double>(bytes) / state.range(0);
}
BENCHMARK(BM_EncodeTracesProtoGzip)->Arg(512);

void BM_EncodeTracesJson(benchmark::State& state) {
  auto spans = MakeSpans(static_cast<size_t>(state.range(0)), 4);
  exporters::otlp::EncodeOptions o;
  size_t bytes = 0;
  for (auto _ : state) {
    std::string body = exporters::otlp::EncodeTracesJson(spans, o);
    bytes = body.size();
    benchmark::DoNotOptimize(body);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["bytes_per_span"] = static_cast<double>(bytes) / state.range(0);
}
BENCHMARK(BM_EncodeTracesJson)->Arg(512);

// RED recording alone (attribute extraction, series lookup, bucket update).
void BM_RedRecord(benchmark::State& state) {
  auto spans = MakeSpans(4096, 4);
  agent::metrics::RedMetrics red(nullptr);
  size_t i = 0;
  for (auto _ : state) {
    red.Record(spans[i++ & 4095]);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RedRecord);

// The decorator path: route heuristic + recording + moving the span on (span copy included).
void BM_RedOnSpan(benchmark::State& state) {
  auto spans = MakeSpans(4096, 4);
  for (auto& s : spans) s.attributes.Erase("http.route");
  agent::metrics::RedMetrics red(nullptr);
  size_t i = 0;
  for (auto _ : state) {
    red.OnSpan(spans[i++ & 4095]);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RedOnSpan);

void BM_RedOnSpanContended(benchmark::State& state) {
  static agent::metrics::RedMetrics* red = nullptr;
  if (state.thread_index() == 0) red = new agent::metrics::RedMetrics(nullptr);
  auto spans = MakeSpans(1024, 4);
  size_t i = 0;
  for (auto _ : state) red->Record(spans[i++ & 1023]);
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    delete red;
    red = nullptr;
  }
}
BENCHMARK(BM_RedOnSpanContended)->Threads(2)->UseRealTime();

void BM_RouteHeuristic(benchmark::State& state) {
  const char* paths[] = {"/users/123/orders/9f8e7d6c5b4a?x=1", "/api/v2/items",
                         "/items/550e8400-e29b-41d4-a716-446655440000", "/healthz"};
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(agent::metrics::HttpRouteFromTarget(paths[i++ & 3]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RouteHeuristic);

// Collect + Prometheus text for the RED output of 4 services x ~60 series.
void BM_CollectAndRenderPrometheus(benchmark::State& state) {
  auto spans = MakeSpans(4096, 4);
  agent::metrics::RedMetrics red(nullptr);
  for (size_t i = 0; i < spans.size(); ++i) {
    spans[i].attributes.Set("http.route", "/r" + std::to_string(i % 60));
    red.Record(spans[i]);
  }
  size_t bytes = 0;
  for (auto _ : state) {
    std::vector<model::Metric> out;
    red.Collect(1, out);
    std::string text = exporters::prometheus::RenderText(out);
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["text_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_CollectAndRenderPrometheus);

}  // namespace

BENCHMARK_MAIN();
