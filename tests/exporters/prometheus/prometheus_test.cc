#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "exporters/prometheus/server.h"
#include "exporters/prometheus/text_format.h"

namespace wirespan::exporters::prometheus {
namespace {

using namespace std::chrono_literals;

std::vector<model::Metric> FixedMetrics() {
  auto svc = std::make_shared<model::Resource>();
  svc->attributes.Set("service.name", "checkout");
  svc->attributes.Set("service.namespace", "shop");
  svc->attributes.Set("service.instance.id", "pod-1");
  svc->attributes.Set("host.name", "node-a");

  std::vector<model::Metric> out;
  model::Metric h;
  h.name = "http.server.request.duration";
  h.description = "Duration of HTTP server requests.";
  h.unit = "s";
  h.type = model::MetricType::kHistogram;
  h.resource = svc;
  model::HistogramPoint p;
  p.attributes.Set("http.request.method", "GET");
  p.attributes.Set("http.response.status_code", int64_t{200});
  p.attributes.Set("http.route", "/users/{id}");
  p.bounds = {0.005, 0.01, 0.5, 2.5};
  p.bucket_counts = {1, 0, 2, 1, 1};
  p.count = 5;
  p.sum = 4.25;
  h.histogram_points.push_back(p);
  out.push_back(h);

  model::Metric c;
  c.name = "wirespan.spans.exported";
  c.description = "Spans exported\nover OTLP";
  c.unit = "{span}";
  c.type = model::MetricType::kSum;
  c.number_points.push_back({{}, 1, 2, int64_t{1234}});
  c.number_points[0].attributes.Set("exporter", "otlp \"main\"");
  out.push_back(c);

  model::Metric g;
  g.name = "wirespan.queue.fill";
  g.unit = "1";
  g.type = model::MetricType::kGauge;
  g.number_points.push_back({{}, 0, 2, 0.25});
  out.push_back(g);

  model::Metric b;
  b.name = "process.memory.usage";
  b.description = "RSS";
  b.unit = "By";
  b.type = model::MetricType::kSum;
  b.monotonic = false;
  b.number_points.push_back({{}, 0, 2, int64_t{1048576}});
  out.push_back(b);
  return out;
}

TEST(PrometheusText, ExactOutput) {
  const char* expected =
      "# HELP http_server_request_duration_seconds Duration of HTTP server requests.\n"
      "# TYPE http_server_request_duration_seconds histogram\n"
      "http_server_request_duration_seconds_bucket{job=\"shop/checkout\",instance=\"pod-1\","
      "http_request_method=\"GET\",http_response_status_code=\"200\",http_route=\"/users/{id}\","
      "le=\"0.005\"} 1\n"
      "http_server_request_duration_seconds_bucket{job=\"shop/checkout\",instance=\"pod-1\","
      "http_request_method=\"GET\",http_response_status_code=\"200\",http_route=\"/users/{id}\","
      "le=\"0.01\"} 1\n"
      "http_server_request_duration_seconds_bucket{job=\"shop/checkout\",instance=\"pod-1\","
      "http_request_method=\"GET\",http_response_status_code=\"200\",http_route=\"/users/{id}\","
      "le=\"0.5\"} 3\n"
      "http_server_request_duration_seconds_bucket{job=\"shop/checkout\",instance=\"pod-1\","
      "http_request_method=\"GET\",http_response_status_code=\"200\",http_route=\"/users/{id}\","
      "le=\"2.5\"} 4\n"
      "http_server_request_duration_seconds_bucket{job=\"shop/checkout\",instance=\"pod-1\","
      "http_request_method=\"GET\",http_response_status_code=\"200\",http_route=\"/users/{id}\","
      "le=\"+Inf\"} 5\n"
      "http_server_request_duration_seconds_sum{job=\"shop/checkout\",instance=\"pod-1\","
      "http_request_method=\"GET\",http_response_status_code=\"200\",http_route=\"/users/{id}\"}"
      " 4.25\n"
      "http_server_request_duration_seconds_count{job=\"shop/checkout\",instance=\"pod-1\","
      "http_request_method=\"GET\",http_response_status_code=\"200\",http_route=\"/users/{id}\"}"
      " 5\n"
      "# HELP process_memory_usage_bytes RSS\n"
      "# TYPE process_memory_usage_bytes gauge\n"
      "process_memory_usage_bytes 1048576\n"
      "# HELP target_info Target metadata\n"
      "# TYPE target_info gauge\n"
      "target_info{job=\"shop/checkout\",instance=\"pod-1\",host_name=\"node-a\"} 1\n"
      "# TYPE wirespan_queue_fill_ratio gauge\n"
      "wirespan_queue_fill_ratio 0.25\n"
      "# HELP wirespan_spans_exported_total Spans exported\\nover OTLP\n"
      "# TYPE wirespan_spans_exported_total counter\n"
      "wirespan_spans_exported_total{exporter=\"otlp \\\"main\\\"\"} 1234\n";
  EXPECT_EQ(RenderText(FixedMetrics()), expected);
}

TEST(PrometheusText, Names) {
  model::Metric m;
  m.name = "9lives.bad-name..x";
  m.type = model::MetricType::kGauge;
  EXPECT_EQ(FamilyName(m), "_9lives_bad_name_x");
  m.name = "http.server.request.duration_seconds";
  m.unit = "s";
  EXPECT_EQ(FamilyName(m), "http_server_request_duration_seconds");  // no double suffix
  m.name = "net.io";
  m.unit = "By/s";
  EXPECT_EQ(FamilyName(m), "net_io_bytes_per_second");
  m.type = model::MetricType::kSum;
  m.name = "requests_total";
  m.unit = "{request}";
  EXPECT_EQ(FamilyName(m), "requests_total");
  m.name = "requests";
  EXPECT_EQ(FamilyName(m), "requests_total");
  EXPECT_EQ(SanitizeLabelName("__reserved"), "_reserved");
  EXPECT_EQ(SanitizeLabelName("http.route"), "http_route");
  EXPECT_EQ(FormatValue(1e21), "1e+21");
  EXPECT_EQ(FormatValue(0.1), "0.1");
  EXPECT_EQ(FormatValue(1.0 / 0.0), "+Inf");
}

TEST(PrometheusText, MergesResourcesIntoOneFamily) {
  auto a = std::make_shared<model::Resource>();
  a->attributes.Set("service.name", "a");
  auto b = std::make_shared<model::Resource>();
  b->attributes.Set("service.name", "b");
  std::vector<model::Metric> ms(2);
  for (int i = 0; i < 2; ++i) {
    ms[i].name = "x";
    ms[i].type = model::MetricType::kSum;
    ms[i].resource = i ? b : a;
    ms[i].number_points.push_back({{}, 0, 0, int64_t{i}});
  }
  TextFormatOptions o;
  o.target_info = false;
  EXPECT_EQ(RenderText(ms, o),
            "# TYPE x_total counter\nx_total{job=\"a\"} 0\nx_total{job=\"b\"} 1\n");
}

// --- the endpoint --------------------------------------------------------------------------

class StaticProducer : public model::MetricProducer {
 public:
  void Collect(uint64_t, std::vector<model::Metric>& out) override {
    auto m = FixedMetrics();
    out.insert(out.end(), m.begin(), m.end());
  }
};

int Connect(uint16_t port, int family = AF_INET) {
  int fd = socket(family, SOCK_STREAM, 0);
  if (family == AF_INET) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return -1;
  } else {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    a.sin6_addr = in6addr_loopback;
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return -1;
  }
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

// Sends `request`, reads until the server closes.
std::string Exchange(uint16_t port, const std::string& request, int family = AF_INET) {
  int fd = Connect(port, family);
  if (fd < 0) return "<connect failed>";
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

std::string StatusLine(const std::string& response) {
  return response.substr(0, response.find("\r\n"));
}

class PrometheusServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.port = 0;
    o.io_timeout = 500ms;
    o.max_connections = 4;
    server_ = std::make_unique<PrometheusServer>(o, std::make_shared<StaticProducer>());
    ASSERT_TRUE(server_->Start().ok());
  }
  std::unique_ptr<PrometheusServer> server_;
};

TEST_F(PrometheusServerTest, ServesMetrics) {
  std::string r = Exchange(server_->port(),
                           "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n");
  EXPECT_EQ(StatusLine(r), "HTTP/1.1 200 OK");
  EXPECT_NE(r.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            std::string::npos);
  std::string body = r.substr(r.find("\r\n\r\n") + 4);
  EXPECT_EQ(body, RenderText(FixedMetrics()));
  EXPECT_NE(r.find("Content-Length: " + std::to_string(body.size())), std::string::npos);
  // Query strings are fine; HEAD has no body.
  EXPECT_EQ(StatusLine(Exchange(server_->port(), "GET /metrics?x=1 HTTP/1.0\r\n\r\n")),
            "HTTP/1.1 200 OK");
  std::string head = Exchange(server_->port(), "HEAD /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(StatusLine(head), "HTTP/1.1 200 OK");
  EXPECT_EQ(head.substr(head.find("\r\n\r\n") + 4), "");
  EXPECT_EQ(server_->stats().scrapes, 3u);
}

TEST_F(PrometheusServerTest, RejectsWhatIsNotAScrape) {
  uint16_t port = server_->port();
  EXPECT_EQ(StatusLine(Exchange(port, "GET /nope HTTP/1.1\r\n\r\n")), "HTTP/1.1 404 Not Found");
  std::string post = Exchange(port, "POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_EQ(StatusLine(post), "HTTP/1.1 405 Method Not Allowed");
  EXPECT_NE(post.find("Allow: GET, HEAD"), std::string::npos);
  EXPECT_EQ(StatusLine(Exchange(port, "GARBAGE\r\n\r\n")), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(StatusLine(Exchange(port, "GET metrics HTTP/1.1\r\n\r\n")), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(StatusLine(Exchange(port, "GET /metrics HTTP/2.0\r\n\r\n")),
            "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(StatusLine(Exchange(port, "G(T /metrics HTTP/1.1\r\n\r\n")),
            "HTTP/1.1 400 Bad Request");
  std::string binary("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 15);
  EXPECT_EQ(StatusLine(Exchange(port, binary)), "HTTP/1.1 400 Bad Request");
  std::string huge = "GET /metrics HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n";
  EXPECT_EQ(StatusLine(Exchange(port, huge)), "HTTP/1.1 431 Request Header Fields Too Large");
  EXPECT_GE(server_->stats().bad_requests, 8u);
  // Still healthy.
  EXPECT_EQ(StatusLine(Exchange(port, "GET /metrics HTTP/1.1\r\n\r\n")), "HTTP/1.1 200 OK");
}

TEST_F(PrometheusServerTest, IdleAndSilentConnectionsAreClosed) {
  int fd = Connect(server_->port());
  ASSERT_GE(fd, 0);
  send(fd, "GET /metr", 9, MSG_NOSIGNAL);  // and then nothing
  auto start = std::chrono::steady_clock::now();
  char buf[16];
  ssize_t n = recv(fd, buf, sizeof(buf), 0);
  EXPECT_EQ(n, 0);  // closed by the server
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  close(fd);
  EXPECT_GE(server_->stats().timeouts, 1u);
}

TEST_F(PrometheusServerTest, ConnectionCapHolds) {
  std::vector<int> idle;
  for (int i = 0; i < 4; ++i) idle.push_back(Connect(server_->port()));
  std::this_thread::sleep_for(50ms);
  // Over the cap: accepted and closed at once.
  int extra = Connect(server_->port());
  char buf[16];
  EXPECT_EQ(recv(extra, buf, sizeof(buf), 0), 0);
  close(extra);
  EXPECT_GE(server_->stats().rejected_connections, 1u);
  for (int fd : idle) close(fd);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(StatusLine(Exchange(server_->port(), "GET /metrics HTTP/1.1\r\n\r\n")),
            "HTTP/1.1 200 OK");
}

TEST_F(PrometheusServerTest, StopsCleanlyWithOpenConnections) {
  int fd = Connect(server_->port());
  ASSERT_GE(fd, 0);
  auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  char buf[16];
  EXPECT_LE(recv(fd, buf, sizeof(buf), 0), 0);
  close(fd);
  server_->Stop();  // idempotent
}

TEST(PrometheusServer, Ipv6AndAddressParsing) {
  ServerOptions o;
  ASSERT_TRUE(ParseListenAddress("[::1]:0", o).ok());
  EXPECT_EQ(o.address, "::1");
  EXPECT_EQ(o.port, 0);
  PrometheusServer s(o, std::make_shared<StaticProducer>());
  ASSERT_TRUE(s.Start().ok());
  EXPECT_EQ(StatusLine(Exchange(s.port(), "GET /metrics HTTP/1.1\r\n\r\n", AF_INET6)),
            "HTTP/1.1 200 OK");
  ServerOptions bad;
  EXPECT_FALSE(ParseListenAddress("localhost", bad).ok());
  EXPECT_FALSE(ParseListenAddress("1.2.3.4:99999", bad).ok());
  bad.address = "not-an-ip";
  PrometheusServer s2(bad, nullptr);
  EXPECT_FALSE(s2.Start().ok());
  // Port already taken.
  ServerOptions taken;
  taken.address = "::1";
  taken.port = s.port();
  PrometheusServer s3(taken, nullptr);
  EXPECT_FALSE(s3.Start().ok());
}

}  // namespace
}  // namespace wirespan::exporters::prometheus
