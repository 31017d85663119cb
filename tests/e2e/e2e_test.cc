// End-to-end acceptance of export (issue 6): the real `wirespan run` binary traces an unmodified
// FastAPI service (uvicorn, asyncpg, redis-py asyncio, aio-pika) and a pika/psycopg2 worker, all
// on Debian's Python, against throwaway PostgreSQL, Redis and RabbitMQ servers on loopback, and
// exports over OTLP/HTTP to a receiver this test runs. The receiver decodes the requests with the
// protobuf classes generated from the OTLP .proto files (not with the exporter's code).
//
//   TracesMetricsAndIdentity: requests one at a time (with and without traceparent), then 16
//     concurrent ones; span trees, semantic-convention attributes, AMQP trace continuation,
//     metric counts, resource identity, no self-tracing, clean exit.        (acceptance 1, 2, 4)
//   WorkerSqlIsChildOfItsConsumeSpan: the sync worker's INSERT is the child of the delivery it
//     handles (also checked above; on its own here so a regression names itself).
//   ReceiverOutage: the receiver is gone for 60 s under load; the agent stays up with bounded
//     memory, counts its drops (Prometheus self-metrics), and exports again once it is back. (3)
//
// Run: ctest --test-dir <build> -L e2e --output-on-failure (about 2 minutes; prints its figures
// as "[e2e] ..." lines).
//
// How a span is tied to the request it was made for, whatever the agent concluded: the test sends
// X-Request-Id = the request's trace id (hex), and the app puts it where sanitizing keeps it —
// an SQL column alias (`price AS rid_<id>`), the Redis key (`item:<id>`), the AMQP message id;
// the worker's INSERT has `RETURNING id AS r_<id>`. Needs root (eBPF).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "tests/exporters/otlp/test_receiver.h"
#include "tests/support/postgres_server.h"
#include "tests/support/process.h"
#include "tests/support/rabbitmq_server.h"
#include "tests/support/redis_server.h"

namespace wirespan::testing {
namespace {

using namespace std::chrono_literals;
namespace otrace = opentelemetry::proto::trace::v1;
namespace ometrics = opentelemetry::proto::metrics::v1;
namespace ocommon = opentelemetry::proto::common::v1;

const std::string kWirespan = std::string(WIRESPAN_BINARY_DIR) + "/agent/cli/wirespan";
const std::string kApps = std::string(WIRESPAN_SOURCE_DIR) + "/tests/e2e/apps";
const std::string kQueue = "orders";
constexpr const char* kItemsRoute = "/items/{id}";

// ---------------------------------------------------------------------------------------------
// Small helpers: hex, HTTP over raw sockets (the test itself is never traced), /proc.

std::string Hex(const std::string& bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string RandomHex(size_t bytes) {
  static std::mt19937_64 rng{std::random_device{}()};
  std::string raw;
  for (size_t i = 0; i < bytes; ++i) raw.push_back(static_cast<char>(rng() & 0xff));
  std::string h = Hex(raw);
  if (h.find_first_not_of('0') == std::string::npos) h[0] = '1';
  return h;
}

struct HttpResponse {
  int status = 0;
  std::string body;
};

HttpResponse HttpGet(uint16_t port, const std::string& path,
                     const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  HttpResponse r;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return r;
  timeval tv{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return r;
  }
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                    "\r\nUser-Agent: wirespan-e2e\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  req += "\r\n";
  size_t sent = 0;
  while (sent < req.size()) {
    ssize_t n = send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string in;
  char buf[8192];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  if (in.rfind("HTTP/1.", 0) == 0 && in.size() > 12) r.status = std::atoi(in.c_str() + 9);
  if (size_t e = in.find("\r\n\r\n"); e != std::string::npos) r.body = in.substr(e + 4);
  return r;
}

// True when an AMQP 0-9-1 broker answers on the port: the protocol header gets a method frame
// (connection.start) back. RabbitmqServer::Start only waits for the port to accept connections,
// which another listener that took the port while the broker booted also does.
bool AmqpBrokerAnswers(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    static const char kHeader[] = {'A', 'M', 'Q', 'P', 0, 0, 9, 1};
    unsigned char reply[7] = {};
    if (send(fd, kHeader, sizeof(kHeader), MSG_NOSIGNAL) == sizeof(kHeader) &&
        recv(fd, reply, sizeof(reply), MSG_WAITALL) == sizeof(reply)) {
      ok = reply[0] == 1 && reply[1] == 0 && reply[2] == 0;  // method frame on channel 0
    }
  }
  close(fd);
  return ok;
}

StatusOr<std::unique_ptr<RabbitmqServer>> StartBroker() {
  std::string last_error;
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto server = RabbitmqServer::Start();
    if (!server.ok()) {
      last_error = server.status().message();
      continue;
    }
    if (AmqpBrokerAnswers(server.value()->port())) return server;
    last_error = "port " + std::to_string(server.value()->port()) + " answered, but not as AMQP";
    std::fprintf(stderr, "[e2e] rabbitmq: %s; starting another broker\n", last_error.c_str());
  }
  return Status::Error("rabbitmq did not start: " + last_error);
}

// VmRSS / RssAnon of a process, in KiB.
struct Rss {
  long vm_rss_kib = -1;
  long anon_kib = -1;
};
Rss ReadRss(pid_t pid) {
  Rss r;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) r.vm_rss_kib = std::atol(line.c_str() + 6);
    if (line.rfind("RssAnon:", 0) == 0) r.anon_kib = std::atol(line.c_str() + 8);
  }
  return r;
}

// A Prometheus sample value: `name{labels...} value` where every given label matches.
double PromValue(const std::string& text, const std::string& name,
                 const std::vector<std::string>& labels = {}) {
  std::istringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.compare(0, name.size(), name) != 0) continue;
    if (line.size() > name.size() && line[name.size()] != '{' && line[name.size()] != ' ') continue;
    bool ok = true;
    for (const auto& l : labels) ok &= line.find(l) != std::string::npos;
    if (!ok) continue;
    return std::atof(line.c_str() + line.rfind(' ') + 1);
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// What the receiver got, flattened.

std::string AnyToString(const ocommon::AnyValue& v) {
  switch (v.value_case()) {
    case ocommon::AnyValue::kStringValue:
      return v.string_value();
    case ocommon::AnyValue::kIntValue:
      return std::to_string(v.int_value());
    case ocommon::AnyValue::kBoolValue:
      return v.bool_value() ? "true" : "false";
    case ocommon::AnyValue::kDoubleValue:
      return std::to_string(v.double_value());
    default:
      return "<other>";
  }
}

using AttrMap = std::map<std::string, std::string>;

AttrMap ToMap(const google::protobuf::RepeatedPtrField<ocommon::KeyValue>& kvs) {
  AttrMap m;
  for (const auto& kv : kvs) m[kv.key()] = AnyToString(kv.value());
  return m;
}

struct RxSpan {
  std::string trace_id, span_id, parent;  // hex; parent "" for roots
  std::string name;
  int kind = 0;  // otrace::Span::SpanKind
  AttrMap attrs;
  AttrMap resource;
  std::string attr(const std::string& k) const {
    auto it = attrs.find(k);
    return it == attrs.end() ? "" : it->second;
  }
  std::string res(const std::string& k) const {
    auto it = resource.find(k);
    return it == resource.end() ? "" : it->second;
  }
  std::string Describe() const {
    std::string s = name + " kind=" + std::to_string(kind) + " trace=" + trace_id +
                    " span=" + span_id + " parent=" + parent + " svc=" + res("service.name");
    for (const auto& [k, v] : attrs) s += " " + k + "=" + v;
    return s;
  }
};

class Collector {
 public:
  explicit Collector(TestReceiver& receiver) : receiver_(receiver) {}

  // Every span received so far (decoded once per request).
  std::vector<RxSpan> Spans() {
    Update();
    return spans_;
  }
  // The latest cumulative count of http.server.request.duration for `route` of `service`.
  int64_t RouteCount(const std::string& service, const std::string& route) {
    Update();
    return route_counts_[service + "|" + route];
  }
  size_t trace_requests() {
    Update();
    return trace_requests_;
  }
  size_t bad_requests() {
    Update();
    return bad_;
  }

 private:
  void Update() {
    auto requests = receiver_.requests();
    for (; seen_ < requests.size(); ++seen_) {
      const auto& r = requests[seen_];
      if (r.path == "/v1/traces") {
        ++trace_requests_;
        opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest req;
        if (!req.ParseFromString(r.body)) {
          ++bad_;
          continue;
        }
        for (const auto& rs : req.resource_spans()) {
          AttrMap res = ToMap(rs.resource().attributes());
          for (const auto& ss : rs.scope_spans()) {
            for (const auto& sp : ss.spans()) {
              RxSpan x;
              x.trace_id = Hex(sp.trace_id());
              x.span_id = Hex(sp.span_id());
              x.parent = Hex(sp.parent_span_id());
              if (x.parent.find_first_not_of('0') == std::string::npos) x.parent.clear();
              x.name = sp.name();
              x.kind = sp.kind();
              x.attrs = ToMap(sp.attributes());
              x.resource = res;
              spans_.push_back(std::move(x));
            }
          }
        }
      } else if (r.path == "/v1/metrics") {
        opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest req;
        if (!req.ParseFromString(r.body)) {
          ++bad_;
          continue;
        }
        for (const auto& rm : req.resource_metrics()) {
          AttrMap res = ToMap(rm.resource().attributes());
          for (const auto& sm : rm.scope_metrics()) {
            for (const auto& m : sm.metrics()) {
              if (m.name() != "http.server.request.duration" || !m.has_histogram()) continue;
              EXPECT_EQ(m.histogram().aggregation_temporality(),
                        ometrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
              std::map<std::string, int64_t> counts;
              for (const auto& dp : m.histogram().data_points()) {
                AttrMap a = ToMap(dp.attributes());
                counts[res["service.name"] + "|" + a["http.route"]] +=
                    static_cast<int64_t>(dp.count());
              }
              for (const auto& [k, v] : counts) route_counts_[k] = v;  // cumulative: latest wins
            }
          }
        }
      }
    }
  }

  TestReceiver& receiver_;
  size_t seen_ = 0;
  size_t trace_requests_ = 0;
  size_t bad_ = 0;
  std::vector<RxSpan> spans_;
  std::map<std::string, int64_t> route_counts_;
};

// ---------------------------------------------------------------------------------------------
// The stack: servers, the two Python services, the agent.

struct Request {
  std::string rid;        // X-Request-Id; = trace id when a traceparent is sent
  std::string trace_id;   // sent in traceparent ("" when none)
  std::string parent_id;  // sent in traceparent
  int item = 0;
  int status = 0;
  std::string path() const { return "/items/" + std::to_string(item); }
};

class E2e : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (eBPF)";
    // The children inherit our environment: nothing OTEL_* may leak into them or the agent.
    for (const char* v :
         {"OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_EXPORTER_OTLP_ENDPOINT",
          "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
          "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_TRACES_EXPORTER",
          "OTEL_METRICS_EXPORTER", "OTEL_TRACES_SAMPLER", "OTEL_BSP_MAX_QUEUE_SIZE",
          "OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
          "OTEL_METRIC_EXPORT_INTERVAL"}) {
      unsetenv(v);
    }
    // RabbitMQ boots in the background while PostgreSQL and Redis start.
    auto rabbit = std::async(std::launch::async, [] { return StartBroker(); });
    auto pg = PostgresServer::Start();
    ASSERT_TRUE(pg.ok()) << pg.status().message();
    pg_ = std::move(pg.value());
    auto redis = RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status().message();
    redis_ = std::move(redis.value());
    auto r = rabbit.get();
    ASSERT_TRUE(r.ok()) << r.status().message();
    rabbit_ = std::move(r.value());

    auto setup = ChildProcess::Spawn({kDebianPython, kApps + "/setup_db.py"}, pg_->Env());
    ASSERT_TRUE(setup.ok());
    ASSERT_EQ(setup->Wait(), 0) << "schema setup failed";

    std::vector<std::string> env = pg_->Env();
    env.push_back("REDIS_URL=" + redis_->Url());
    env.push_back("AMQP_URL=" + rabbit_->Url());
    env.push_back("QUEUE=" + kQueue);
    env.push_back("PYTHONDONTWRITEBYTECODE=1");
    app_port_ = FreeTcpPort();
    std::vector<std::string> app_env = env;
    app_env.push_back("OTEL_SERVICE_NAME=shop-api");
    // As an operator would start it: in its directory, `python3 -m uvicorn app:app --port P`
    // (exec keeps the pid).
    auto app = ChildProcess::Spawn(
        {"/bin/sh", "-c",
         "cd " + kApps + "/shop && exec " + kDebianPython +
             " -m uvicorn app:app --host 127.0.0.1 --port " + std::to_string(app_port_) +
             " --log-level warning --no-access-log"},
        app_env);
    ASSERT_TRUE(app.ok());
    app_.emplace(std::move(app.value()));
    // The worker runs without OTEL_SERVICE_NAME: its name must come from its script.
    auto worker = ChildProcess::Spawn({kDebianPython, kApps + "/worker.py"}, env);
    ASSERT_TRUE(worker.ok());
    worker_.emplace(std::move(worker.value()));
    ASSERT_TRUE(WaitForTcpPort(app_port_, 30s)) << "uvicorn did not start";
  }

  void TearDown() override {
    if (agent_ && agent_->running()) {
      agent_->Kill(SIGTERM);
      agent_->WaitFor(30s);
    }
    agent_.reset();
    if (worker_) worker_->Kill(SIGTERM);
    if (app_) app_->Kill(SIGTERM);
    if (worker_) worker_->WaitFor(10s);
    if (app_) app_->WaitFor(10s);
    worker_.reset();
    app_.reset();
    if (rabbit_) rabbit_->Stop();
    if (redis_) redis_->Stop();
    if (pg_) pg_->Stop();
  }

  // Starts `wirespan run` on the app and the worker, exporting to `receiver`; returns once the
  // probes are attached (its self-metrics show kernel counters), then lets the worker connect and
  // warms the app up (its connections open while traced).
  void StartAgent(TestReceiver& receiver, std::vector<std::string> extra_env = {}) {
    prom_port_ = FreeTcpPort();
    std::vector<std::string> env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:" + std::to_string(receiver.port()),
        "OTEL_BSP_SCHEDULE_DELAY=200"};
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    auto agent = ChildProcess::Spawn(
        {kWirespan, "run", "--pid", std::to_string(app_->pid()), "--pid",
         std::to_string(worker_->pid()), "--prometheus", "127.0.0.1:" + std::to_string(prom_port_),
         "--metrics-interval", "1s", "--shutdown-timeout", "10s"},
        env);
    ASSERT_TRUE(agent.ok());
    agent_.emplace(std::move(agent.value()));
    bool attached = false;
    for (int i = 0; i < 300 && !attached && agent_->running(); ++i) {
      std::this_thread::sleep_for(100ms);
      attached = PromValue(Scrape(), "wirespan_capture_events_submitted_total") >= 0;
    }
    ASSERT_TRUE(attached) << "the agent did not start (see its log above)";
    worker_->WriteStdin("go\n");
    for (int i = 0;
         i < 600 && worker_->Stdout().find("consuming") == std::string::npos && worker_->running();
         ++i) {
      std::this_thread::sleep_for(50ms);
    }
    ASSERT_NE(worker_->Stdout().find("consuming"), std::string::npos) << "worker did not start";
    ASSERT_EQ(HttpGet(app_port_, "/warmup").status, 200);
  }

  std::string Scrape() { return HttpGet(prom_port_, "/metrics").body; }

  Request Send(int item, bool with_traceparent) {
    Request r;
    r.item = item;
    std::vector<std::pair<std::string, std::string>> headers;
    if (with_traceparent) {
      r.trace_id = RandomHex(16);
      r.parent_id = RandomHex(8);
      r.rid = r.trace_id;
      headers.emplace_back("traceparent", "00-" + r.trace_id + "-" + r.parent_id + "-01");
      headers.emplace_back("tracestate", "e2e=t" + std::to_string(item));
    } else {
      r.rid = "n" + RandomHex(12);
    }
    headers.emplace_back("X-Request-Id", r.rid);
    r.status = HttpGet(app_port_, r.path(), headers).status;
    return r;
  }

  std::unique_ptr<PostgresServer> pg_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<RabbitmqServer> rabbit_;
  std::optional<ChildProcess> app_, worker_, agent_;
  uint16_t app_port_ = 0;
  uint16_t prom_port_ = 0;
};

// The spans of one request, found by its marks (not by what the agent concluded).
struct RequestSpans {
  const RxSpan* server = nullptr;
  std::vector<const RxSpan*> sql, redis, publish;  // in the app, marked with the request id
  const RxSpan* consume = nullptr;                 // in the worker, message id = request id
  const RxSpan* worker_sql = nullptr;              // in the worker, RETURNING ... AS r_<id>
  bool Complete() const {
    return server && sql.size() >= 1 && redis.size() >= 2 && publish.size() >= 1 && consume &&
           worker_sql;
  }
};

RequestSpans Find(const std::vector<RxSpan>& spans, const Request& r) {
  RequestSpans out;
  for (const auto& s : spans) {
    const std::string svc = s.res("service.name");
    if (svc == "shop-api") {
      if (s.kind == otrace::Span::SPAN_KIND_SERVER && s.attr("url.path") == r.path()) {
        out.server = &s;
      } else if (s.attr("db.system.name") == "postgresql" &&
                 s.attr("db.query.text").find("rid_" + r.rid) != std::string::npos) {
        out.sql.push_back(&s);
      } else if (s.attr("db.system.name") == "redis" &&
                 s.attr("db.query.text").find("item:" + r.rid) != std::string::npos) {
        out.redis.push_back(&s);
      } else if (s.attr("messaging.system") == "rabbitmq" &&
                 s.kind == otrace::Span::SPAN_KIND_PRODUCER &&
                 s.attr("messaging.message.id") == r.rid) {
        out.publish.push_back(&s);
      }
    } else if (svc == "worker") {
      if (s.kind == otrace::Span::SPAN_KIND_CONSUMER && s.attr("messaging.message.id") == r.rid) {
        out.consume = &s;
      } else if (s.attr("db.system.name") == "postgresql" &&
                 s.attr("db.query.text").find("r_" + r.rid) != std::string::npos) {
        out.worker_sql = &s;
      }
    }
  }
  return out;
}

bool AllComplete(const std::vector<RxSpan>& spans, const std::vector<Request>& requests) {
  for (const auto& r : requests) {
    if (!Find(spans, r).Complete()) return false;
  }
  return true;
}

std::vector<RxSpan> WaitForRequests(Collector& c, const std::vector<Request>& requests,
                                    std::chrono::seconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  std::vector<RxSpan> spans;
  while (std::chrono::steady_clock::now() < end) {
    spans = c.Spans();
    if (AllComplete(spans, requests)) break;
    std::this_thread::sleep_for(200ms);
  }
  return spans;
}

std::string DumpRequest(const std::vector<RxSpan>& spans, const Request& r) {
  std::string out = "request " + r.path() + " rid=" + r.rid + "\n";
  for (const auto& s : spans) {
    bool related = s.trace_id == r.trace_id || s.attr("url.path") == r.path() ||
                   s.attr("db.query.text").find(r.rid) != std::string::npos ||
                   s.attr("messaging.message.id") == r.rid;
    if (related) out += "  " + s.Describe() + "\n";
  }
  return out;
}

// Acceptance 1: one request's tree, attributes and the worker's continuation.
// The worker's INSERT runs on the thread serving the delivery, before its ack.
bool WorkerSqlIsChildOfConsume(const RequestSpans& f) {
  return f.consume && f.worker_sql && f.worker_sql->parent == f.consume->span_id &&
         f.worker_sql->trace_id == f.consume->trace_id;
}

struct Ports {
  uint16_t app = 0, postgres = 0, redis = 0, rabbitmq = 0;
};

void CheckSequentialRequest(const std::vector<RxSpan>& spans, const Request& r,
                            const Ports& ports) {
  SCOPED_TRACE(DumpRequest(spans, r));
  ASSERT_EQ(r.status, 200);
  RequestSpans f = Find(spans, r);
  ASSERT_TRUE(f.Complete());
  const RxSpan& server = *f.server;
  EXPECT_EQ(server.kind, otrace::Span::SPAN_KIND_SERVER);
  EXPECT_EQ(server.attr("http.request.method"), "GET");
  EXPECT_EQ(server.attr("http.response.status_code"), "200");
  EXPECT_EQ(server.attr("http.route"), kItemsRoute);
  EXPECT_EQ(server.name, std::string("GET ") + kItemsRoute);
  EXPECT_EQ(server.attr("url.scheme"), "http");
  EXPECT_EQ(server.attr("server.port"), std::to_string(ports.app));
  if (!r.trace_id.empty()) {
    EXPECT_EQ(server.trace_id, r.trace_id) << "traceparent not continued";
    EXPECT_EQ(server.parent, r.parent_id);
  } else {
    EXPECT_EQ(server.parent, "") << "a request without traceparent starts a trace";
  }

  auto child_of_server = [&](const RxSpan& s) {
    EXPECT_EQ(s.trace_id, server.trace_id) << s.Describe();
    EXPECT_EQ(s.parent, server.span_id) << s.Describe();
  };
  ASSERT_EQ(f.sql.size(), 1u);
  const RxSpan& sql = *f.sql[0];
  child_of_server(sql);
  EXPECT_EQ(sql.kind, otrace::Span::SPAN_KIND_CLIENT);
  EXPECT_EQ(sql.attr("db.system.name"), "postgresql");
  EXPECT_EQ(sql.attr("db.namespace"), "shop");
  EXPECT_EQ(sql.attr("db.operation.name"), "SELECT");
  EXPECT_EQ(sql.attr("db.collection.name"), "items");
  EXPECT_EQ(sql.attr("db.query.text"),
            "SELECT id, name, price AS rid_" + r.rid + " FROM items WHERE id = $1");
  EXPECT_EQ(sql.attr("server.address"), "127.0.0.1");
  EXPECT_EQ(sql.attr("server.port"), std::to_string(ports.postgres));

  ASSERT_EQ(f.redis.size(), 2u);
  std::set<std::string> texts;
  for (const RxSpan* s : f.redis) {
    child_of_server(*s);
    EXPECT_EQ(s->kind, otrace::Span::SPAN_KIND_CLIENT);
    EXPECT_EQ(s->attr("db.namespace"), "0");
    EXPECT_EQ(s->attr("server.port"), std::to_string(ports.redis));
    texts.insert(s->attr("db.query.text"));
  }
  EXPECT_EQ(texts, (std::set<std::string>{"GET item:" + r.rid, "SET item:" + r.rid + " ? EX ?"}));

  ASSERT_EQ(f.publish.size(), 1u);
  const RxSpan& pub = *f.publish[0];
  child_of_server(pub);
  EXPECT_EQ(pub.attr("messaging.system"), "rabbitmq");
  EXPECT_EQ(pub.attr("messaging.operation.type"), "send");
  EXPECT_EQ(pub.attr("messaging.destination.name"), kQueue);
  EXPECT_EQ(pub.name, "publish " + kQueue);
  EXPECT_EQ(pub.attr("server.port"), std::to_string(ports.rabbitmq));

  // The worker: the consume span continues the trace when the message carried a traceparent.
  const RxSpan& consume = *f.consume;
  EXPECT_EQ(consume.attr("messaging.system"), "rabbitmq");
  EXPECT_EQ(consume.attr("messaging.destination.name"), kQueue);
  EXPECT_EQ(consume.attr("messaging.operation.type"), "receive");
  if (!r.trace_id.empty()) {
    EXPECT_EQ(consume.trace_id, r.trace_id) << "the consume span does not continue the trace";
    EXPECT_FALSE(consume.parent.empty());
  } else {
    // No trace context in the message: a new trace, unless the agent links it to its publish.
    EXPECT_EQ(consume.attr("wirespan.message.traceparent"), "");
    if (!consume.parent.empty()) {
      EXPECT_EQ(consume.parent, f.publish[0]->span_id);
    }
  }
  const RxSpan& wsql = *f.worker_sql;
  EXPECT_EQ(wsql.attr("db.operation.name"), "INSERT");
  EXPECT_EQ(wsql.attr("db.collection.name"), "orders");
  EXPECT_EQ(wsql.attr("db.query.text"),
            "INSERT INTO orders (request_id, item_id) VALUES (?, ?) RETURNING id AS r_" + r.rid);
  EXPECT_TRUE(WorkerSqlIsChildOfConsume(f))
      << "the worker's INSERT is not a child of its consume span";
}

TEST_F(E2e, TracesMetricsAndIdentity) {
  TestReceiver receiver;
  Collector collector(receiver);
  ASSERT_NO_FATAL_FAILURE(StartAgent(receiver));

  // ---- Acceptance 1: requests one at a time.
  std::vector<Request> sequential;
  for (int i = 0; i < 5; ++i) sequential.push_back(Send(100 + i, /*with_traceparent=*/true));
  sequential.push_back(Send(110, /*with_traceparent=*/false));
  auto spans = WaitForRequests(collector, sequential, 60s);
  const Ports ports{app_port_, pg_->port(), redis_->port(), rabbit_->port()};
  for (const auto& r : sequential) CheckSequentialRequest(spans, r, ports);
  for (const auto& r : sequential) {
    int in_trace = 0;
    const RequestSpans f = Find(spans, r);
    for (const auto& s : spans) in_trace += f.server && s.trace_id == f.server->trace_id;
    std::printf("[e2e] sequential %s (%s traceparent): %d spans in its trace\n", r.path().c_str(),
                r.trace_id.empty() ? "without" : "with", in_trace);
  }

  auto wait_count = [&](int64_t expected) {
    for (int i = 0; i < 150 && collector.RouteCount("shop-api", kItemsRoute) < expected; ++i) {
      std::this_thread::sleep_for(200ms);
    }
    std::this_thread::sleep_for(1500ms);  // one more export: the count must not go beyond
    return collector.RouteCount("shop-api", kItemsRoute);
  };
  EXPECT_EQ(wait_count(6), 6) << "http.server.request.duration count for " << kItemsRoute;

  // ---- Acceptance 2: 16 concurrent requests, each its own trace.
  std::vector<Request> concurrent(16);
  {
    std::vector<std::thread> threads;
    std::atomic<int> ready{0};
    for (int i = 0; i < 16; ++i) {
      threads.emplace_back([&, i] {
        ready.fetch_add(1);
        while (ready.load() < 16) std::this_thread::yield();
        concurrent[i] = Send(200 + i, true);
      });
    }
    for (auto& t : threads) t.join();
  }
  for (const auto& r : concurrent) ASSERT_EQ(r.status, 200);
  spans = WaitForRequests(collector, concurrent, 60s);
  int children = 0, with_parent = 0, unknown = 0, root_other = 0, wrong = 0;
  int worker_ok = 0;
  std::string wrong_list;
  for (const auto& r : concurrent) {
    RequestSpans f = Find(spans, r);
    ASSERT_TRUE(f.Complete()) << DumpRequest(spans, r);
    EXPECT_EQ(f.server->trace_id, r.trace_id);
    std::vector<const RxSpan*> kids = f.sql;
    kids.insert(kids.end(), f.redis.begin(), f.redis.end());
    kids.insert(kids.end(), f.publish.begin(), f.publish.end());
    // asyncpg sometimes adds a statement of its own under load (a fresh pool connection's prepare
    // of the same text): show it, and check its parent like any other.
    if (f.sql.size() != 1) {
      for (const RxSpan* k : f.sql)
        std::printf("[e2e] extra SQL span: %s\n", k->Describe().c_str());
    }
    for (const RxSpan* k : kids) {
      ++children;
      if (k->parent.empty()) {
        if (k->attr("wirespan.parent") == "unknown") {
          ++unknown;
        } else {
          ++root_other;
        }
      } else if (k->parent == f.server->span_id && k->trace_id == r.trace_id) {
        ++with_parent;
      } else {
        ++wrong;
        wrong_list += "  " + k->Describe() + "\n";
      }
    }
    // The worker handles one message at a time: its consume spans continue each request's trace
    // and its INSERTs are their children.
    if (f.consume->trace_id == r.trace_id && WorkerSqlIsChildOfConsume(f)) ++worker_ok;
  }
  std::printf(
      "[e2e] concurrent: %d client/producer spans: %d parented correctly, %d root with "
      "wirespan.parent=unknown, %d other roots, %d WRONG parent; worker consume spans "
      "continuing their request's trace with the INSERT as child: %d/16\n",
      children, with_parent, unknown, root_other, wrong, worker_ok);
  EXPECT_EQ(wrong, 0) << "spans with a wrong parent:\n" << wrong_list;
  EXPECT_EQ(root_other, 0) << "roots must say wirespan.parent=unknown";
  EXPECT_GE(children, 16 * 4) << "each request: its SQL, two Redis commands, one publish";
  EXPECT_EQ(worker_ok, 16);
  EXPECT_EQ(wait_count(22), 22) << "http.server.request.duration count after 22 requests";

  // ---- Acceptance 4: identity, and the agent never traces itself.
  const pid_t agent_pid = agent_->pid();
  int app_spans = 0, worker_spans = 0;
  for (const auto& s : spans) {
    const std::string svc = s.res("service.name");
    EXPECT_NE(s.res("process.pid"), std::to_string(agent_pid)) << s.Describe();
    EXPECT_NE(s.attr("server.port"), std::to_string(receiver.port())) << s.Describe();
    EXPECT_NE(s.attr("server.port"), std::to_string(prom_port_)) << s.Describe();
    EXPECT_NE(svc, "python3");
    EXPECT_NE(svc, "python3.11");
    if (svc == "shop-api") {
      ++app_spans;
      EXPECT_EQ(s.res("process.pid"), std::to_string(app_->pid()));
    } else if (svc == "worker") {
      ++worker_spans;
      EXPECT_EQ(s.res("process.pid"), std::to_string(worker_->pid()));
    } else {
      ADD_FAILURE() << "unexpected service " << svc << ": " << s.Describe();
    }
    EXPECT_EQ(s.res("process.runtime.name"), "cpython");
    EXPECT_EQ(s.res("process.runtime.version").rfind("3.", 0), 0u) << s.Describe();
    EXPECT_EQ(s.res("process.executable.name").rfind("python3", 0), 0u);
    EXPECT_EQ(s.res("telemetry.distro.name"), "wirespan");
    EXPECT_FALSE(s.res("telemetry.distro.version").empty());
    EXPECT_FALSE(s.res("host.name").empty());
    EXPECT_FALSE(s.res("service.instance.id").empty());
  }
  EXPECT_GT(app_spans, 0);
  EXPECT_GT(worker_spans, 0);
  EXPECT_EQ(collector.bad_requests(), 0u);

  // Self-metrics on the Prometheus endpoint, same RED metrics there.
  const std::string prom = Scrape();
  EXPECT_GT(PromValue(prom, "wirespan_spans_exported_total"), 0) << prom;
  EXPECT_EQ(PromValue(prom, "wirespan_spans_dropped_total", {"reason=\"queue_full\""}), 0);
  EXPECT_GE(PromValue(prom, "wirespan_capture_drops_total", {"reason=\"ring_buffer_full\""}), 0);
  EXPECT_GE(PromValue(prom, "wirespan_decoder_parse_errors_total", {"protocol=\"amqp\""}), 0);
  EXPECT_GT(PromValue(prom, "wirespan_connections_opened_total"), 0);
  EXPECT_EQ(PromValue(prom, "http_server_request_duration_seconds_count",
                      {"http_route=\"/items/{id}\"", "job=\"shop-api\""}),
            22)
      << prom;

  // Graceful stop: exporters flushed, exit 0.
  agent_->Kill(SIGTERM);
  int code = -1;
  ASSERT_TRUE(agent_->WaitFor(30s, &code));
  EXPECT_EQ(code, 0);
}

// A sync daemon (pika BlockingConnection): the SQL it runs while handling a delivery is a child
// of that delivery's consume span, which continues the trace of the message's traceparent.
TEST_F(E2e, WorkerSqlIsChildOfItsConsumeSpan) {
  TestReceiver receiver;
  Collector collector(receiver);
  ASSERT_NO_FATAL_FAILURE(StartAgent(receiver));
  std::vector<Request> requests;
  for (int i = 0; i < 3; ++i) requests.push_back(Send(500 + i, true));
  requests.push_back(Send(510, false));
  auto spans = WaitForRequests(collector, requests, 60s);
  for (const auto& r : requests) {
    SCOPED_TRACE(DumpRequest(spans, r));
    const RequestSpans f = Find(spans, r);
    ASSERT_TRUE(f.Complete());
    if (!r.trace_id.empty()) {
      EXPECT_EQ(f.consume->trace_id, r.trace_id);
    }
    EXPECT_TRUE(WorkerSqlIsChildOfConsume(f))
        << "worker INSERT: " << f.worker_sql->Describe() << "\nconsume: " << f.consume->Describe();
  }
}

// Acceptance 3: the receiver disappears for 60 s while requests keep coming.
TEST_F(E2e, ReceiverOutage) {
  TestReceiver receiver;
  Collector collector(receiver);
  constexpr int kQueueSize = 256;
  ASSERT_NO_FATAL_FAILURE(
      StartAgent(receiver, {"OTEL_BSP_MAX_QUEUE_SIZE=" + std::to_string(kQueueSize),
                            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=64"}));
  std::vector<Request> before;
  for (int i = 0; i < 3; ++i) before.push_back(Send(300 + i, true));
  auto spans = WaitForRequests(collector, before, 60s);
  ASSERT_TRUE(AllComplete(spans, before));

  // Settle, then the baseline.
  for (int i = 0; i < 20; ++i) Send(310 + i, true);
  std::this_thread::sleep_for(2s);
  const Rss baseline = ReadRss(agent_->pid());

  receiver.Stop();
  const size_t received_before = collector.Spans().size();
  std::atomic<bool> stop_load{false};
  std::atomic<int> sent{0}, failed{0};
  std::thread load([&] {
    int item = 10000;  // paths of their own: /items/10000...
    while (!stop_load.load()) {
      Request r = Send(item++, true);
      (r.status == 200 ? sent : failed).fetch_add(1);
      std::this_thread::sleep_for(20ms);
    }
  });
  Rss max_rss = baseline;
  std::vector<long> samples;
  const auto outage_end = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < outage_end) {
    std::this_thread::sleep_for(1s);
    ASSERT_TRUE(agent_->running()) << "the agent died during the outage";
    const Rss now = ReadRss(agent_->pid());
    samples.push_back(now.vm_rss_kib);
    max_rss.vm_rss_kib = std::max(max_rss.vm_rss_kib, now.vm_rss_kib);
    max_rss.anon_kib = std::max(max_rss.anon_kib, now.anon_kib);
  }
  const std::string prom = Scrape();
  const double dropped = PromValue(prom, "wirespan_spans_dropped_total", {"reason=\"queue_full\""});
  const double queue = PromValue(prom, "wirespan_export_queue_size");
  const double capacity = PromValue(prom, "wirespan_export_queue_capacity");
  const double failures = PromValue(prom, "wirespan_export_failures_total", {"signal=\"traces\""});
  std::printf(
      "[e2e] outage: %d requests sent (%d failed) in 60 s; agent VmRSS %ld KiB before, "
      "max %ld KiB (RssAnon %ld -> max %ld KiB); spans dropped (queue full) %.0f; "
      "queue %.0f/%.0f; trace export failures %.0f\n",
      sent.load(), failed.load(), baseline.vm_rss_kib, max_rss.vm_rss_kib, baseline.anon_kib,
      max_rss.anon_kib, dropped, queue, capacity, failures);
  EXPECT_GT(sent.load(), 100);
  EXPECT_GT(dropped, 0) << prom;
  EXPECT_LE(queue, kQueueSize);
  EXPECT_EQ(capacity, kQueueSize);
  // Memory is bounded by the queue: a few MiB of growth at most (unbounded buffering of
  // ~8 spans per request would grow steadily).
  EXPECT_LT(max_rss.anon_kib - baseline.anon_kib, 24 * 1024);
  if (samples.size() >= 40) {
    // Stable over the second half of the outage.
    const long mid = samples[samples.size() / 2];
    EXPECT_LT(samples.back() - mid, 8 * 1024) << "RSS still growing";
  }
  EXPECT_EQ(collector.Spans().size(), received_before);

  // The receiver is back: new spans arrive.
  receiver.Restart();
  std::vector<Request> after;
  for (int i = 0; i < 3; ++i) after.push_back(Send(700 + i, true));
  stop_load = true;
  load.join();
  spans = WaitForRequests(collector, after, 90s);
  EXPECT_TRUE(AllComplete(spans, after)) << "export did not resume";
  for (const auto& r : after) {
    RequestSpans f = Find(spans, r);
    if (f.server) {
      EXPECT_EQ(f.server->trace_id, r.trace_id);
    }
  }
  agent_->Kill(SIGTERM);
  int code = -1;
  ASSERT_TRUE(agent_->WaitFor(30s, &code));
  EXPECT_EQ(code, 0);
}

}  // namespace
}  // namespace wirespan::testing
