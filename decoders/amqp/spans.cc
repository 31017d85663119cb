#include "decoders/amqp/spans.h"

#include "decoders/amqp/wire.h"
#include "decoders/common/span_helpers.h"

namespace wirespan::decoders::amqp {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // W3C trace context requires lowercase
}

template <size_t N>
bool ParseHexId(std::string_view hex, std::array<uint8_t, N>* out) {
  if (hex.size() != 2 * N) return false;
  bool nonzero = false;
  for (size_t i = 0; i < N; ++i) {
    const int hi = HexValue(hex[2 * i]);
    const int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<uint8_t>(hi << 4 | lo);
    nonzero |= (*out)[i] != 0;
  }
  return nonzero;
}

// messaging.destination.name: the exchange, or the queue name (= routing key) for the default
// exchange.
std::string PublishDestination(const Record& r) {
  return r.exchange.empty() ? r.routing_key : r.exchange;
}

void SetMessageAttributes(const Record& r, model::Attributes& a) {
  if (!r.routing_key.empty()) a.Set("messaging.rabbitmq.destination.routing_key", r.routing_key);
  if (!r.content) return;
  const Content& c = *r.content;
  const Properties& p = c.properties;
  a.Set("messaging.message.body.size", c.body_size);
  if (p.message_id && !p.message_id->empty()) a.Set("messaging.message.id", *p.message_id);
  if (p.correlation_id && !p.correlation_id->empty()) {
    a.Set("messaging.message.conversation_id", *p.correlation_id);
  }
  if (p.delivery_mode) a.Set("wirespan.amqp.delivery_mode", int64_t{*p.delivery_mode});
  if (p.priority) a.Set("wirespan.amqp.priority", int64_t{*p.priority});
  if (p.content_type) a.Set("wirespan.amqp.content_type", *p.content_type);
  if (p.reply_to) a.Set("wirespan.amqp.reply_to", *p.reply_to);
  if (p.expiration) a.Set("wirespan.amqp.expiration", *p.expiration);
  if (p.timestamp) a.Set("wirespan.amqp.timestamp", *p.timestamp);
  if (p.type) a.Set("wirespan.amqp.message_type", *p.type);
  if (p.app_id) a.Set("wirespan.amqp.app_id", *p.app_id);
  if (!c.complete) a.Set("wirespan.amqp.content_incomplete", true);
  if (const std::string* tp = HeaderString(r, "traceparent")) {
    a.Set("wirespan.message.traceparent", *tp);
  }
  if (auto fp = Fingerprint(r)) {
    a.Set("wirespan.message.fingerprint", Hex64(*fp));
    a.Set("wirespan.message.body_hash", Hex64(c.body_hash));
  }
}

std::string CallDestination(const Record& r) {
  if (!r.queue.empty()) return r.queue;
  return r.exchange;
}

}  // namespace

std::string Hex64(uint64_t value) {
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, value >>= 4) out[static_cast<size_t>(i)] = kHexDigits[value & 15];
  return out;
}

std::optional<uint64_t> Fingerprint(const Record& r) {
  if (!r.content || !r.content->complete || !r.content->hash_valid) return std::nullopt;
  uint64_t h = kFnvOffset;
  const char zero = '\0';
  h = Fnv1a(h, r.exchange);
  h = Fnv1a(h, std::string_view(&zero, 1));
  h = Fnv1a(h, r.routing_key);
  h = Fnv1a(h, std::string_view(&zero, 1));
  char body[8];
  for (int i = 0; i < 8; ++i) body[i] = static_cast<char>(r.content->body_hash >> (56 - 8 * i));
  h = Fnv1a(h, std::string_view(body, 8));
  h = Fnv1a(h, std::string_view(&zero, 1));
  if (r.content->properties.message_id) h = Fnv1a(h, *r.content->properties.message_id);
  return h;
}

bool ParseTraceparent(std::string_view v, model::TraceId* trace_id, model::SpanId* parent_id) {
  // version "-" trace-id "-" parent-id "-" flags; future versions may append "-..." fields.
  if (v.size() < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') return false;
  if (HexValue(v[0]) < 0 || HexValue(v[1]) < 0 || v.substr(0, 2) == "ff") return false;
  if (v.substr(0, 2) == "00" ? v.size() != 55 : (v.size() > 55 && v[55] != '-')) return false;
  if (HexValue(v[53]) < 0 || HexValue(v[54]) < 0) return false;
  model::TraceId t;
  model::SpanId s;
  if (!ParseHexId(v.substr(3, 32), &t) || !ParseHexId(v.substr(36, 16), &s)) return false;
  *trace_id = t;
  *parent_id = s;
  return true;
}

const std::string* HeaderString(const Record& r, std::string_view name) {
  if (!r.content || !r.content->properties.headers) return nullptr;
  const FieldValue* v = r.content->properties.headers->Find(name);
  if (v == nullptr || !v->IsString() || v->truncated) return nullptr;
  return &v->str;
}

bool ReportsCall(const Record& r) {
  if (r.error) return true;  // any failed call, and abnormal closes
  const std::string_view m = r.method;
  if (m == "connection.open") return true;
  if (m.starts_with("connection.") || m.starts_with("channel.")) return false;
  return true;  // exchange.*, queue.*, basic.qos/consume/cancel/recover, confirm.*, tx.*
}

std::optional<model::Span> ToSpan(const Record& r, const ConnectionInfo& conn) {
  model::Span span;
  switch (r.type) {
    case RecordType::kPublish: {
      span = NewSpan(conn, model::SpanKind::kProducer, r.start, r.end, "amqp");
      const std::string dest = PublishDestination(r);
      span.name = dest.empty() ? "publish" : "publish " + dest;
      auto& a = span.attributes;
      a.Set("messaging.system", "rabbitmq");
      a.Set("messaging.operation.type", "send");
      a.Set("messaging.operation.name", "publish");
      a.Set("messaging.destination.name", dest);
      SetMessageAttributes(r, a);
      if (r.mandatory) a.Set("wirespan.amqp.mandatory", true);
      switch (r.confirm) {
        case ConfirmOutcome::kNotConfirmed:
          break;
        case ConfirmOutcome::kAck:
          a.Set("wirespan.amqp.confirm", "ack");
          break;
        case ConfirmOutcome::kNack:
          a.Set("wirespan.amqp.confirm", "nack");
          a.Set("error.type", "nack");
          span.status = model::StatusCode::kError;
          span.status_message = "publish nacked by the broker";
          break;
        case ConfirmOutcome::kUnsettled:
          a.Set("wirespan.amqp.confirm", "unsettled");
          break;
      }
      if (r.returned) {
        a.Set("wirespan.amqp.returned", true);
        a.Set("wirespan.amqp.reply_code", int64_t{r.reply_code});
        a.Set("wirespan.amqp.reply_text", r.reply_text);
      }
      break;
    }

    case RecordType::kDeliver:
    case RecordType::kGet: {
      const bool get = r.type == RecordType::kGet;
      span = NewSpan(conn, model::SpanKind::kConsumer, r.start, r.end, "amqp");
      const std::string dest = !r.queue.empty() ? r.queue : PublishDestination(r);
      const char* op = get ? "get" : "deliver";
      span.name = dest.empty() ? op : std::string(op) + " " + dest;
      auto& a = span.attributes;
      a.Set("messaging.system", "rabbitmq");
      a.Set("messaging.operation.type", "receive");
      a.Set("messaging.operation.name", op);
      if (!dest.empty()) a.Set("messaging.destination.name", dest);
      if (r.get_empty) {
        a.Set("wirespan.amqp.get_empty", true);
        a.Set("messaging.batch.message_count", int64_t{0});
      } else {
        a.Set("wirespan.amqp.exchange", r.exchange);
        if (r.has_delivery_tag) {
          a.Set("messaging.rabbitmq.message.delivery_tag", r.delivery_tag);
        }
        a.Set("wirespan.amqp.redelivered", r.redelivered);
        if (!r.consumer_tag.empty()) a.Set("wirespan.amqp.consumer_tag", r.consumer_tag);
        if (get) a.Set("wirespan.amqp.message_count", r.message_count);
        SetMessageAttributes(r, a);
        a.Set("wirespan.amqp.settlement", SettlementName(r.settlement));
        if (r.settlement == Settlement::kNack || r.settlement == Settlement::kReject) {
          a.Set("wirespan.amqp.settlement.requeue", r.requeue);
        }
        if (r.settled_multiple) a.Set("wirespan.amqp.settlement.multiple", true);
        if ((r.settlement == Settlement::kAck || r.settlement == Settlement::kNack ||
             r.settlement == Settlement::kReject) &&
            r.has_content_end && r.end.last_ts_ns >= r.content_end.last_ts_ns) {
          a.Set("wirespan.amqp.held_ns", r.end.last_ts_ns - r.content_end.last_ts_ns);
        }
        // Continue the producer's trace when it put a W3C traceparent in the headers.
        model::TraceId trace_id;
        model::SpanId parent_id;
        if (const std::string* tp = HeaderString(r, "traceparent");
            tp && ParseTraceparent(*tp, &trace_id, &parent_id)) {
          span.trace_id = trace_id;
          span.parent_span_id = parent_id;
          if (const std::string* ts = HeaderString(r, "tracestate")) span.trace_state = *ts;
        }
      }
      if (r.error) {
        span.status = model::StatusCode::kError;
        a.Set("error.type", std::to_string(r.reply_code));
        span.status_message = r.reply_text;
      }
      break;
    }

    case RecordType::kCall: {
      if (!ReportsCall(r)) return std::nullopt;
      span = NewSpan(conn, model::SpanKind::kClient, r.start, r.end, "amqp");
      const std::string dest = CallDestination(r);
      span.name = dest.empty() ? r.method : r.method + " " + dest;
      auto& a = span.attributes;
      a.Set("messaging.system", "rabbitmq");
      a.Set("messaging.operation.name", r.method);
      if (!dest.empty()) a.Set("messaging.destination.name", dest);
      if (!r.routing_key.empty()) {
        a.Set("messaging.rabbitmq.destination.routing_key", r.routing_key);
      }
      if (!r.queue.empty() && !r.exchange.empty()) a.Set("wirespan.amqp.exchange", r.exchange);
      if (!r.vhost.empty()) a.Set("wirespan.amqp.vhost", r.vhost);
      if (!r.consumer_tag.empty()) a.Set("wirespan.amqp.consumer_tag", r.consumer_tag);
      if (!r.answered) a.Set("wirespan.amqp.no_wait", true);
      if (!r.reply.empty()) a.Set("wirespan.amqp.reply", r.reply);
      if (r.method == "queue.declare" || r.method == "queue.purge" || r.method == "queue.delete") {
        if (r.answered && !r.error) a.Set("wirespan.amqp.message_count", r.message_count);
      }
      if (r.error) {
        span.status = model::StatusCode::kError;
        a.Set("error.type", std::to_string(r.reply_code));
        a.Set("wirespan.amqp.reply_code", int64_t{r.reply_code});
        span.status_message = r.reply_text;
      }
      break;
    }
  }
  span.attributes.Set("wirespan.amqp.channel", int64_t{r.channel});
  SetNetworkAttributes(conn, span);
  return span;
}

}  // namespace wirespan::decoders::amqp
