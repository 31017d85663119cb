#include "agent/metrics/red_metrics.h"

#include <string_view>

#include "agent/metrics/route.h"

namespace wirespan::agent::metrics {
namespace {

struct InstrumentInfo {
  const char* name;
  const char* description;
  const char* unit;
  bool bytes;
};

constexpr InstrumentInfo kInstruments[RedMetrics::kInstrumentCount] = {
    {"http.server.request.duration", "Duration of HTTP server requests.", "s", false},
    {"http.client.request.duration", "Duration of HTTP client requests.", "s", false},
    {"http.server.request.body.size", "Size of HTTP server request bodies.", "By", true},
    {"http.server.response.body.size", "Size of HTTP server response bodies.", "By", true},
    {"http.client.request.body.size", "Size of HTTP client request bodies.", "By", true},
    {"http.client.response.body.size", "Size of HTTP client response bodies.", "By", true},
    {"db.client.operation.duration", "Duration of database client operations.", "s", false},
    {"messaging.client.operation.duration",
     "Duration of messaging operation initiated by a producer or consumer client.", "s", false},
    {"messaging.process.duration", "Duration of processing operation.", "s", false},
};

void CopyAttr(const model::Attributes& from, std::string_view key, model::Attributes& to) {
  if (const model::AttributeValue* v = from.Find(key)) {
    std::visit([&](const auto& x) { to.Set(key, x); }, *v);
  }
}

const std::string* Str(const model::Attributes& a, std::string_view key) {
  return a.FindString(key);
}

std::optional<int64_t> Int(const model::Attributes& a, std::string_view key) {
  const model::AttributeValue* v = a.Find(key);
  if (!v) return std::nullopt;
  if (const int64_t* i = std::get_if<int64_t>(v)) return *i;
  if (const double* d = std::get_if<double>(v)) return static_cast<int64_t>(*d);
  if (const std::string* s = std::get_if<std::string>(v)) {
    try {
      return std::stoll(*s);
    } catch (...) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

bool IsTrue(const model::Attributes& a, std::string_view key) {
  const model::AttributeValue* v = a.Find(key);
  if (!v) return false;
  if (const bool* b = std::get_if<bool>(v)) return *b;
  return false;
}

void SetErrorType(const model::Span& span, std::optional<int64_t> http_status, bool server,
                  model::Attributes& out) {
  if (const std::string* e = Str(span.attributes, "error.type"); e && !e->empty()) {
    out.Set("error.type", *e);
  } else if (http_status && *http_status >= (server ? 500 : 400)) {
    out.Set("error.type", std::to_string(*http_status));
  } else if (span.status == model::StatusCode::kError) {
    out.Set("error.type", "_OTHER");
  }
}

void SetServer(const model::Span& span, model::Attributes& out) {
  CopyAttr(span.attributes, "server.address", out);
  CopyAttr(span.attributes, "server.port", out);
}

// The path the route is made from, server spans: url.path, http.target, url.full.
std::optional<std::string> RouteFor(const model::Span& span) {
  if (const std::string* r = Str(span.attributes, "http.route"); r && !r->empty()) return *r;
  for (std::string_view key : {"url.path", "http.target", "url.full"}) {
    if (const std::string* p = Str(span.attributes, key); p && !p->empty()) {
      return HttpRouteFromTarget(*p);
    }
  }
  return std::nullopt;
}

bool IsHttp(const model::Span& span) {
  return span.protocol == "http" || span.attributes.Find("http.request.method") != nullptr;
}
bool IsDb(const model::Span& span) {
  return span.protocol == "postgresql" || span.protocol == "redis" ||
         span.attributes.Find("db.system.name") != nullptr ||
         span.attributes.Find("db.system") != nullptr;
}
bool IsMessaging(const model::Span& span) {
  return span.protocol == "amqp" || span.attributes.Find("messaging.system") != nullptr;
}

double Seconds(const model::Span& span) {
  if (span.end_time_unix_nano <= span.start_time_unix_nano) return 0.0;
  return static_cast<double>(span.end_time_unix_nano - span.start_time_unix_nano) / 1e9;
}

void AppendKey(std::string& key, const model::Attributes& attrs) {
  for (const auto& a : attrs.items()) {
    key += a.key;
    key.push_back('\0');
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::string>) {
            key.push_back('s');
            key += x;
          } else if constexpr (std::is_same_v<T, bool>) {
            key.push_back(x ? 'T' : 'F');
          } else {
            key.push_back(std::is_same_v<T, int64_t> ? 'i' : 'd');
            key.append(reinterpret_cast<const char*>(&x), sizeof(x));
          }
        },
        a.value);
    key.push_back('\0');
  }
}

}  // namespace

struct RedMetrics::Series {
  std::shared_ptr<const model::Resource> resource;
  model::Attributes attributes;
  model::HistogramAggregator histogram;
};

struct RedMetrics::InstrumentState {
  std::unordered_map<std::string, std::unique_ptr<Series>> by_key;
  std::vector<Series*> order;  // creation order, for stable output
  size_t regular = 0;          // non-overflow series
};

const std::vector<double>& DurationBoundsSeconds() {
  static const std::vector<double> kBounds = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
                                              0.5,   0.75, 1,     2.5,  5,     7.5, 10};
  return kBounds;
}

const std::vector<double>& BodySizeBoundsBytes() {
  static const std::vector<double> kBounds = {0,     64,     256,     1024,    4096,    16384,
                                              65536, 262144, 1048576, 4194304, 16777216};
  return kBounds;
}

RedMetrics::RedMetrics(std::shared_ptr<model::SpanSink> next, RedMetricsOptions options)
    : next_(std::move(next)),
      options_(options),
      start_unix_nano_(model::UnixNanosNow()),
      duration_bounds_(std::make_shared<const std::vector<double>>(DurationBoundsSeconds())),
      size_bounds_(std::make_shared<const std::vector<double>>(BodySizeBoundsBytes())) {
  for (int i = 0; i < kInstrumentCount; ++i) {
    instruments_.push_back(std::make_unique<InstrumentState>());
  }
}

RedMetrics::~RedMetrics() = default;

void RedMetrics::RecordLocked(Instrument instrument,
                              const std::shared_ptr<const model::Resource>& resource,
                              model::Attributes&& attrs, double value) {
  InstrumentState& st = *instruments_[instrument];
  std::string key;
  key.reserve(128);
  const model::Resource* rp = resource.get();
  key.append(reinterpret_cast<const char*>(&rp), sizeof(rp));
  AppendKey(key, attrs);
  auto it = st.by_key.find(key);
  if (it == st.by_key.end()) {
    if (st.regular >= options_.max_series_per_metric) {
      ++overflowed_;
      key.resize(sizeof(rp));
      key += "\x01overflow";
      it = st.by_key.find(key);
      if (it == st.by_key.end()) {
        attrs = model::Attributes();
        attrs.Set("otel.metric.overflow", true);
      }
    } else {
      ++st.regular;
    }
    if (it == st.by_key.end()) {
      auto series = std::make_unique<Series>(
          Series{resource, std::move(attrs),
                 model::HistogramAggregator(kInstruments[instrument].bytes ? size_bounds_
                                                                           : duration_bounds_)});
      st.order.push_back(series.get());
      it = st.by_key.emplace(std::move(key), std::move(series)).first;
    }
  }
  it->second->histogram.Record(value);
}

void RedMetrics::Record(const model::Span& span) {
  const model::Attributes& in = span.attributes;
  // Build attribute sets outside the lock; record under it.
  struct Rec {
    Instrument instrument;
    model::Attributes attrs;
    double value;
  };
  Rec recs[3];
  size_t n = 0;

  if (IsHttp(span) &&
      (span.kind == model::SpanKind::kServer || span.kind == model::SpanKind::kClient)) {
    bool server = span.kind == model::SpanKind::kServer;
    model::Attributes a;
    if (const std::string* m = Str(in, "http.request.method")) {
      a.Set("http.request.method", NormalizeHttpMethod(*m));
    } else {
      a.Set("http.request.method", "_OTHER");
    }
    std::optional<int64_t> status = Int(in, "http.response.status_code");
    if (status) a.Set("http.response.status_code", *status);
    if (server) {
      if (auto route = RouteFor(span)) a.Set("http.route", *route);
    }
    CopyAttr(in, "url.scheme", a);
    SetServer(span, a);
    SetErrorType(span, status, server, a);
    std::optional<int64_t> req_size = Int(in, "http.request.body.size");
    std::optional<int64_t> resp_size = Int(in, "http.response.body.size");
    if (req_size && *req_size >= 0) {
      recs[n++] = {server ? kHttpServerRequestBodySize : kHttpClientRequestBodySize, a,
                   static_cast<double>(*req_size)};
    }
    if (resp_size && *resp_size >= 0) {
      recs[n++] = {server ? kHttpServerResponseBodySize : kHttpClientResponseBodySize, a,
                   static_cast<double>(*resp_size)};
    }
    recs[n++] = {server ? kHttpServerDuration : kHttpClientDuration, std::move(a), Seconds(span)};
  } else if (IsDb(span) && span.kind == model::SpanKind::kClient) {
    model::Attributes a;
    if (const std::string* s = Str(in, "db.system.name")) {
      a.Set("db.system.name", *s);
    } else if (const std::string* s2 = Str(in, "db.system")) {
      a.Set("db.system.name", *s2);
    } else if (!span.protocol.empty()) {
      a.Set("db.system.name", span.protocol);
    }
    CopyAttr(in, "db.operation.name", a);
    CopyAttr(in, "db.namespace", a);
    CopyAttr(in, "db.collection.name", a);
    SetServer(span, a);
    SetErrorType(span, std::nullopt, false, a);
    recs[n++] = {kDbClientDuration, std::move(a), Seconds(span)};
  } else if (IsMessaging(span) && span.kind != model::SpanKind::kServer &&
             span.kind != model::SpanKind::kInternal) {
    model::Attributes a;
    if (const std::string* s = Str(in, "messaging.system")) {
      a.Set("messaging.system", *s);
    } else {
      a.Set("messaging.system", span.protocol == "amqp" ? "rabbitmq" : span.protocol);
    }
    CopyAttr(in, "messaging.operation.name", a);
    CopyAttr(in, "messaging.operation.type", a);
    bool temporary = IsTrue(in, "messaging.destination.temporary") ||
                     IsTrue(in, "messaging.destination.anonymous");
    if (const std::string* t = Str(in, "messaging.destination.template")) {
      a.Set("messaging.destination.name", *t);
    } else if (const std::string* d = Str(in, "messaging.destination.name");
               d && !temporary && !d->starts_with("amq.gen-")) {
      a.Set("messaging.destination.name", CollapseIds(*d));
    }
    SetServer(span, a);
    SetErrorType(span, std::nullopt, false, a);
    recs[n++] = {span.kind == model::SpanKind::kConsumer ? kMessagingProcessDuration
                                                         : kMessagingClientDuration,
                 std::move(a), Seconds(span)};
  }

  std::lock_guard<std::mutex> lock(mu_);
  ++spans_;
  if (n > 0) ++recorded_;
  for (size_t i = 0; i < n; ++i) {
    RecordLocked(recs[i].instrument, span.resource, std::move(recs[i].attrs), recs[i].value);
  }
}

void RedMetrics::OnSpan(model::Span span) {
  if (options_.set_http_route && span.kind == model::SpanKind::kServer && IsHttp(span) &&
      span.attributes.Find("http.route") == nullptr) {
    if (auto route = RouteFor(span)) {
      if (options_.rename_server_spans) {
        if (const std::string* m = Str(span.attributes, "http.request.method");
            m && span.name == *m) {
          span.name = *m + " " + *route;
        }
      }
      span.attributes.Set("http.route", std::move(*route));
    }
  }
  Record(span);
  if (next_) next_->OnSpan(std::move(span));
}

void RedMetrics::Collect(uint64_t now_unix_nano, std::vector<model::Metric>& out) {
  std::lock_guard<std::mutex> lock(mu_);
  for (int i = 0; i < kInstrumentCount; ++i) {
    const InstrumentState& st = *instruments_[i];
    if (st.order.empty()) continue;
    const InstrumentInfo& info = kInstruments[i];
    size_t first = out.size();
    for (const Series* s : st.order) {
      // One Metric per (instrument, resource), in first-seen order.
      model::Metric* m = nullptr;
      for (size_t j = first; j < out.size(); ++j) {
        if (out[j].resource == s->resource) {
          m = &out[j];
          break;
        }
      }
      if (!m) {
        out.emplace_back();
        m = &out.back();
        m->name = info.name;
        m->description = info.description;
        m->unit = info.unit;
        m->type = model::MetricType::kHistogram;
        m->temporality = model::AggregationTemporality::kCumulative;
        m->resource = s->resource;
      }
      model::HistogramPoint& p = m->histogram_points.emplace_back();
      p.attributes = s->attributes;
      p.start_time_unix_nano = start_unix_nano_;
      p.time_unix_nano = now_unix_nano;
      s->histogram.Snapshot(p);
    }
  }
}

RedMetrics::Stats RedMetrics::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s;
  s.spans = spans_;
  s.recorded = recorded_;
  s.overflowed = overflowed_;
  for (const auto& st : instruments_) s.series += st->order.size();
  return s;
}

}  // namespace wirespan::agent::metrics
