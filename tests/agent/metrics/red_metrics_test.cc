#include "agent/metrics/red_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "agent/metrics/route.h"

namespace wirespan::agent::metrics {
namespace {

TEST(Route, CollapsesIds) {
  struct Case {
    const char* in;
    const char* out;
  } cases[] = {
      {"/users/123/orders/9f8e7d6c5b4a", "/users/{id}/orders/{id}"},
      {"/users/123/orders/9f8e7d6c5b4a?expand=1#frag", "/users/{id}/orders/{id}"},
      {"/items/550e8400-e29b-41d4-a716-446655440000", "/items/{id}"},
      {"/blobs/DEADBEEF00", "/blobs/{id}"},
      {"/t/eyJhbGciOiJIUzI1NiJ9", "/t/{id}"},
      {"/t/aGVsbG8gd29ybGQgMTIzNDU2", "/t/{id}"},
      {"/reports/2024-01-05", "/reports/{id}"},
      {"/orders/order-12345", "/orders/{id}"},
      {"/people/jane@example.com", "/people/{id}"},
      {"/search/caf%C3%A9", "/search/{id}"},
      {"/api/v2/users", "/api/v2/users"},
      {"/api/v1/oauth2/token", "/api/v1/oauth2/token"},
      {"/authentication-settings/profile", "/authentication-settings/profile"},
      {"/healthz", "/healthz"},
      {"/", "/"},
      {"", "/"},
      {"?q=1", "/"},
      {"*", "*"},
      {"http://example.com:8080/users/42?x", "/users/{id}"},
      {"http://example.com", "/"},
      {"/a//b/", "/a//b/"},
  };
  for (const auto& c : cases) EXPECT_EQ(HttpRouteFromTarget(c.in), c.out) << c.in;
}

TEST(Route, BoundedLength) {
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "/seg";
  std::string r = HttpRouteFromTarget(deep);
  EXPECT_LE(r.size(), 300u);
  EXPECT_NE(r.find("{...}"), std::string::npos);
  EXPECT_EQ(HttpRouteFromTarget("/" + std::string(1000, 'a')), "/{id}");
}

TEST(Route, MethodsAndDestinations) {
  EXPECT_EQ(NormalizeHttpMethod("GET"), "GET");
  EXPECT_EQ(NormalizeHttpMethod("PATCH"), "PATCH");
  EXPECT_EQ(NormalizeHttpMethod("get"), "_OTHER");
  EXPECT_EQ(NormalizeHttpMethod("BREW"), "_OTHER");
  EXPECT_EQ(CollapseIds("orders.eu.12345"), "orders.eu.{id}");
  EXPECT_EQ(CollapseIds("billing:invoices"), "billing:invoices");
}

TEST(Histogram, BucketCounting) {
  auto bounds = std::make_shared<const std::vector<double>>(std::vector<double>{0.1, 1, 10});
  model::HistogramAggregator h(bounds);
  for (double v : {0.0, 0.1, 0.10001, 1.0, 5.0, 10.0, 10.5, -1.0}) h.Record(v);
  model::HistogramPoint p;
  h.Snapshot(p);
  // (-inf,0.1] (0.1,1] (1,10] (10,+inf): upper bounds are inclusive.
  EXPECT_EQ(p.bucket_counts, (std::vector<uint64_t>{3, 2, 2, 1}));
  EXPECT_EQ(p.count, 8u);
  EXPECT_DOUBLE_EQ(p.sum, 0.0 + 0.1 + 0.10001 + 1 + 5 + 10 + 10.5 - 1);
  EXPECT_DOUBLE_EQ(*p.min, -1.0);
  EXPECT_DOUBLE_EQ(*p.max, 10.5);
  model::HistogramAggregator empty(bounds);
  empty.Snapshot(p);
  EXPECT_FALSE(p.min.has_value());
  EXPECT_EQ(model::HistogramAggregator::BucketIndex(*bounds, std::nan("")), 3u);
}

class Capture : public model::SpanSink {
 public:
  void OnSpan(model::Span span) override { spans.push_back(std::move(span)); }
  std::vector<model::Span> spans;
};

std::shared_ptr<const model::Resource> Svc(const std::string& name) {
  auto r = std::make_shared<model::Resource>();
  r->attributes.Set("service.name", name);
  return r;
}

model::Span HttpServer(const std::shared_ptr<const model::Resource>& r, const std::string& path,
                       int status, uint64_t dur_ns, const std::string& method = "GET") {
  model::Span s;
  s.protocol = "http";
  s.kind = model::SpanKind::kServer;
  s.name = method;
  s.resource = r;
  s.start_time_unix_nano = 1'000'000'000;
  s.end_time_unix_nano = 1'000'000'000 + dur_ns;
  s.attributes.Set("http.request.method", method);
  s.attributes.Set("url.path", path);
  s.attributes.Set("url.query", "secret=1");
  s.attributes.Set("url.scheme", "http");
  s.attributes.Set("http.response.status_code", int64_t{status});
  s.attributes.Set("server.address", "127.0.0.1");
  s.attributes.Set("server.port", int64_t{8000});
  s.attributes.Set("client.address", "10.1.2.3");
  s.attributes.Set("client.port", int64_t{55555});
  s.attributes.Set("http.request.body.size", int64_t{100});
  s.attributes.Set("http.response.body.size", int64_t{5000});
  return s;
}

const model::Metric* Find(const std::vector<model::Metric>& ms, const std::string& name,
                          const model::Resource* r = nullptr) {
  for (const auto& m : ms) {
    if (m.name == name && (!r || m.resource.get() == r)) return &m;
  }
  return nullptr;
}

TEST(RedMetrics, HttpServerSpans) {
  auto next = std::make_shared<Capture>();
  RedMetrics red(next);
  auto svc = Svc("api");
  red.OnSpan(HttpServer(svc, "/users/1", 200, 3'000'000));      // 3 ms
  red.OnSpan(HttpServer(svc, "/users/2", 200, 80'000'000));     // 80 ms
  red.OnSpan(HttpServer(svc, "/users/3", 503, 2'000'000'000));  // 2 s
  red.OnSpan(HttpServer(svc, "/users/3", 200, 1'000'000, "BREW"));

  // Spans pass through, with http.route set and the name completed.
  ASSERT_EQ(next->spans.size(), 4u);
  EXPECT_EQ(*next->spans[0].attributes.FindString("http.route"), "/users/{id}");
  EXPECT_EQ(next->spans[0].name, "GET /users/{id}");
  EXPECT_EQ(*next->spans[0].attributes.FindString("url.path"), "/users/1");  // untouched

  std::vector<model::Metric> out;
  red.Collect(5, out);
  const model::Metric* d = Find(out, "http.server.request.duration");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->unit, "s");
  EXPECT_EQ(d->type, model::MetricType::kHistogram);
  EXPECT_EQ(d->resource, svc);
  ASSERT_EQ(d->histogram_points.size(), 3u);  // 200, 503 and _OTHER series
  const auto& ok = d->histogram_points[0];
  EXPECT_EQ(ok.count, 2u);
  EXPECT_EQ(ok.bounds, DurationBoundsSeconds());
  EXPECT_EQ(ok.bucket_counts[0], 1u);  // 3 ms <= 5 ms
  EXPECT_EQ(ok.bucket_counts[5], 1u);  // 80 ms in (75 ms, 100 ms]
  EXPECT_EQ(ok.time_unix_nano, 5u);
  EXPECT_GT(ok.start_time_unix_nano, 0u);
  // Only low-cardinality attributes.
  const auto& a = ok.attributes;
  EXPECT_EQ(*a.FindString("http.request.method"), "GET");
  EXPECT_EQ(*a.FindInt("http.response.status_code"), 200);
  EXPECT_EQ(*a.FindString("http.route"), "/users/{id}");
  EXPECT_EQ(*a.FindString("url.scheme"), "http");
  EXPECT_EQ(*a.FindString("server.address"), "127.0.0.1");
  EXPECT_EQ(*a.FindInt("server.port"), 8000);
  EXPECT_EQ(a.Find("url.path"), nullptr);
  EXPECT_EQ(a.Find("url.query"), nullptr);
  EXPECT_EQ(a.Find("client.address"), nullptr);
  EXPECT_EQ(a.Find("error.type"), nullptr);
  const auto& err = d->histogram_points[1];
  EXPECT_EQ(*err.attributes.FindString("error.type"), "503");
  EXPECT_EQ(err.bucket_counts[10], 1u);  // 2 s in (1, 2.5]
  EXPECT_EQ(*d->histogram_points[2].attributes.FindString("http.request.method"), "_OTHER");

  const model::Metric* req = Find(out, "http.server.request.body.size");
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(req->unit, "By");
  EXPECT_EQ(req->histogram_points[0].bounds, BodySizeBoundsBytes());
  EXPECT_EQ(req->histogram_points[0].bucket_counts[2], 2u);  // 100 B in (64, 256]
  const model::Metric* resp = Find(out, "http.server.response.body.size");
  ASSERT_NE(resp, nullptr);
  EXPECT_EQ(resp->histogram_points[0].bucket_counts[5], 2u);  // 5000 B in (4096, 16384]
  EXPECT_EQ(red.stats().spans, 4u);
}

TEST(RedMetrics, KeyedPerResource) {
  RedMetrics red(nullptr);
  auto a = Svc("a"), b = Svc("b");
  red.OnSpan(HttpServer(a, "/x", 200, 1000));
  red.OnSpan(HttpServer(b, "/x", 200, 1000));
  red.OnSpan(HttpServer(b, "/x", 200, 1000));
  std::vector<model::Metric> out;
  red.Collect(1, out);
  const model::Metric* ma = Find(out, "http.server.request.duration", a.get());
  const model::Metric* mb = Find(out, "http.server.request.duration", b.get());
  ASSERT_TRUE(ma && mb);
  EXPECT_EQ(ma->histogram_points[0].count, 1u);
  EXPECT_EQ(mb->histogram_points[0].count, 2u);
}

TEST(RedMetrics, HttpClientDbAndMessaging) {
  RedMetrics red(nullptr);
  auto svc = Svc("worker");
  model::Span client;
  client.protocol = "http";
  client.kind = model::SpanKind::kClient;
  client.resource = svc;
  client.end_time_unix_nano = 20'000'000;
  client.attributes.Set("http.request.method", "POST");
  client.attributes.Set("url.full", "http://pay:80/charge/123?card=4111");
  client.attributes.Set("http.response.status_code", int64_t{404});
  client.attributes.Set("server.address", "pay");
  red.OnSpan(client);

  model::Span db;
  db.protocol = "postgresql";
  db.kind = model::SpanKind::kClient;
  db.resource = svc;
  db.end_time_unix_nano = 1'000'000;
  db.status = model::StatusCode::kError;
  db.attributes.Set("db.system.name", "postgresql");
  db.attributes.Set("db.operation.name", "SELECT");
  db.attributes.Set("db.collection.name", "users");
  db.attributes.Set("db.namespace", "shop");
  db.attributes.Set("db.query.text", "SELECT * FROM users WHERE id = $1");
  db.attributes.Set("db.response.status_code", "42P01");
  red.OnSpan(db);

  model::Span redis;
  redis.protocol = "redis";
  redis.kind = model::SpanKind::kClient;
  redis.resource = svc;
  redis.attributes.Set("db.operation.name", "GET");
  redis.attributes.Set("db.query.text", "GET session:abc");
  red.OnSpan(redis);

  model::Span publish;
  publish.protocol = "amqp";
  publish.kind = model::SpanKind::kProducer;
  publish.resource = svc;
  publish.attributes.Set("messaging.system", "rabbitmq");
  publish.attributes.Set("messaging.operation.name", "publish");
  publish.attributes.Set("messaging.operation.type", "send");
  publish.attributes.Set("messaging.destination.name", "orders.12345");
  red.OnSpan(publish);

  model::Span consume = publish;
  consume.kind = model::SpanKind::kConsumer;
  consume.attributes.Set("messaging.operation.name", "deliver");
  consume.attributes.Set("messaging.destination.name", "amq.gen-JzTY20BRgKO-HjmUJj0wLg");
  red.OnSpan(consume);

  std::vector<model::Metric> out;
  red.Collect(1, out);
  const model::Metric* c = Find(out, "http.client.request.duration");
  ASSERT_NE(c, nullptr);
  const auto& ca = c->histogram_points[0].attributes;
  EXPECT_EQ(*ca.FindString("error.type"), "404");
  EXPECT_EQ(ca.Find("http.route"), nullptr);
  EXPECT_EQ(ca.Find("url.full"), nullptr);
  EXPECT_EQ(*ca.FindString("server.address"), "pay");

  const model::Metric* d = Find(out, "db.client.operation.duration");
  ASSERT_NE(d, nullptr);
  ASSERT_EQ(d->histogram_points.size(), 2u);
  const auto& da = d->histogram_points[0].attributes;
  EXPECT_EQ(*da.FindString("db.system.name"), "postgresql");
  EXPECT_EQ(*da.FindString("db.operation.name"), "SELECT");
  EXPECT_EQ(*da.FindString("db.collection.name"), "users");
  EXPECT_EQ(*da.FindString("db.namespace"), "shop");
  EXPECT_EQ(*da.FindString("error.type"), "_OTHER");
  EXPECT_EQ(da.Find("db.query.text"), nullptr);
  EXPECT_EQ(*d->histogram_points[1].attributes.FindString("db.system.name"), "redis");

  const model::Metric* p = Find(out, "messaging.client.operation.duration");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p->histogram_points[0].attributes.FindString("messaging.destination.name"),
            "orders.{id}");
  const model::Metric* pr = Find(out, "messaging.process.duration");
  ASSERT_NE(pr, nullptr);
  EXPECT_EQ(pr->histogram_points[0].attributes.Find("messaging.destination.name"), nullptr);
  EXPECT_EQ(*pr->histogram_points[0].attributes.FindString("messaging.operation.name"), "deliver");
}

TEST(RedMetrics, SeriesCapOverflowsIntoOneSeries) {
  RedMetricsOptions o;
  o.max_series_per_metric = 10;
  RedMetrics red(nullptr, o);
  auto svc = Svc("api");
  for (int i = 0; i < 100; ++i) {
    auto s = HttpServer(svc, "/x", 200, 1000);
    s.attributes.Set("http.route", "/route" + std::string(1, static_cast<char>('a' + i % 26)) +
                                       std::to_string(i / 26));
    red.OnSpan(s);
  }
  std::vector<model::Metric> out;
  red.Collect(1, out);
  const model::Metric* d = Find(out, "http.server.request.duration");
  ASSERT_NE(d, nullptr);
  ASSERT_EQ(d->histogram_points.size(), 11u);
  const auto& overflow = d->histogram_points.back();
  EXPECT_EQ(overflow.attributes.size(), 1u);
  EXPECT_EQ(std::get<bool>(*overflow.attributes.Find("otel.metric.overflow")), true);
  EXPECT_EQ(overflow.count, 90u);
  EXPECT_EQ(red.stats().overflowed, 270u);  // recordings: duration + 2 body sizes
  uint64_t total = 0;
  for (const auto& p : d->histogram_points) total += p.count;
  EXPECT_EQ(total, 100u);
}

TEST(RedMetrics, ExistingRouteAndNonHttpSpansUntouched) {
  auto next = std::make_shared<Capture>();
  RedMetrics red(next);
  auto s = HttpServer(Svc("a"), "/users/1", 200, 1000);
  s.attributes.Set("http.route", "/users/:id");
  s.name = "custom";
  red.OnSpan(s);
  model::Span internal;
  internal.name = "x";
  red.OnSpan(internal);
  ASSERT_EQ(next->spans.size(), 2u);
  EXPECT_EQ(*next->spans[0].attributes.FindString("http.route"), "/users/:id");
  EXPECT_EQ(next->spans[0].name, "custom");
  EXPECT_EQ(red.stats().recorded, 1u);
  EXPECT_EQ(red.stats().spans, 2u);
}

TEST(RedMetrics, ConcurrentRecordAndCollect) {
  RedMetrics red(nullptr);
  auto svc = Svc("api");
  std::atomic<bool> stop{false};
  std::thread collector([&] {
    while (!stop) {
      std::vector<model::Metric> out;
      red.Collect(1, out);
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) {
        red.OnSpan(HttpServer(svc, "/u/" + std::to_string(i), 200 + (i % 3), 1000 * t));
      }
    });
  }
  for (auto& w : writers) w.join();
  stop = true;
  collector.join();
  std::vector<model::Metric> out;
  red.Collect(1, out);
  uint64_t total = 0;
  for (const auto& p : Find(out, "http.server.request.duration")->histogram_points) {
    total += p.count;
  }
  EXPECT_EQ(total, 20000u);
}

}  // namespace
}  // namespace wirespan::agent::metrics
