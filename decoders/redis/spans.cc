#include "decoders/redis/spans.h"

#include "decoders/common/span_helpers.h"
#include "decoders/redis/commands.h"

namespace wirespan::decoders::redis {
namespace {

std::string Printable(std::string_view s, size_t max) {
  std::string out;
  for (char c : s.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
  }
  return out;
}

const char* OutcomeName(TxOutcome o) {
  switch (o) {
    case TxOutcome::kExec:
      return "exec";
    case TxOutcome::kDiscard:
      return "discard";
    case TxOutcome::kAborted:
      return "aborted";
    case TxOutcome::kNone:
      break;
  }
  return "";
}

model::SpanKind CommandKind(const ConnectionInfo& conn) {
  return conn.role == Role::kServer ? model::SpanKind::kServer : model::SpanKind::kClient;
}

}  // namespace

std::string ErrorPrefix(std::string_view text) {
  const size_t space = text.find(' ');
  std::string_view word = text.substr(0, space);
  if (word.empty()) return "ERR";
  return Printable(word, 32);
}

std::string SafeErrorMessage(std::string_view text) {
  // Redis quotes what it echoes from the command (unknown command 'x', with args beginning
  // with: 'secret'): keep what comes before the first quote.
  const size_t quote = text.find_first_of("'\"");
  std::string_view safe = text.substr(0, quote);
  while (!safe.empty() && (safe.back() == ' ' || safe.back() == ',' || safe.back() == ':')) {
    safe.remove_suffix(1);
  }
  return Printable(safe, 256);
}

model::Span ToSpan(const Record& r, const ConnectionInfo& conn, const DecoderOptions& options) {
  if (r.kind == RecordKind::kPush) {
    model::Span span = NewSpan(conn, model::SpanKind::kConsumer, r.start, r.end, kProtocolName);
    const std::string channel = Printable(r.channel, 256);
    span.name = "receive " + channel;
    auto& a = span.attributes;
    a.Set("db.system.name", "redis");
    a.Set("messaging.system", "redis");
    a.Set("messaging.operation.type", "receive");
    a.Set("messaging.operation.name", "receive");
    a.Set("messaging.destination.name", channel);
    if (!r.pattern.empty()) {
      a.Set("messaging.destination.subscription.name", Printable(r.pattern, 256));
    }
    a.Set("messaging.message.body.size", r.payload_bytes);
    a.Set("db.redis.push.kind", Printable(r.push_kind, 16));
    a.Set("db.namespace", std::to_string(r.db));
    SetNetworkAttributes(conn, span);
    return span;
  }

  const std::string op = OperationName(r.request);
  const CommandSpec* spec = FindCommand(op);
  const bool publish = spec != nullptr && (spec->flags & kPublish) && conn.role != Role::kServer;
  model::Span span = NewSpan(conn, publish ? model::SpanKind::kProducer : CommandKind(conn),
                             r.start, r.end, kProtocolName);
  span.name = op.empty() ? "redis" : op;
  auto& a = span.attributes;
  a.Set("db.system.name", "redis");
  if (!op.empty()) a.Set("db.operation.name", op);
  const std::string text = QueryText(r.request, options);
  if (!text.empty()) a.Set("db.query.text", text);
  a.Set("db.namespace", std::to_string(r.db));
  if (publish && r.request.elements.size() >= 2) {
    const std::string channel = Printable(r.request.elements[1].text, 256);
    span.name = "publish " + channel;
    a.Set("messaging.system", "redis");
    a.Set("messaging.operation.type", "send");
    a.Set("messaging.operation.name", "publish");
    a.Set("messaging.destination.name", channel);
    if (r.request.elements.size() >= 3) {
      a.Set("messaging.message.body.size", r.request.elements[2].size);
    }
  }
  if (r.transaction) a.Set("db.redis.transaction", true);
  if (r.outcome != TxOutcome::kNone) a.Set("db.redis.transaction.outcome", OutcomeName(r.outcome));
  if (op == "EXEC" || (op == "DISCARD" && r.transaction)) {
    a.Set("db.operation.batch.size", r.batch_size);
  }
  if (r.confirmations > 0) a.Set("db.redis.subscriptions", r.confirmations);
  if (r.has_reply && IsErrorType(r.reply.type)) {
    const std::string prefix = ErrorPrefix(r.reply.text);
    span.status = model::StatusCode::kError;
    span.status_message = SafeErrorMessage(r.reply.text);
    a.Set("error.type", prefix);
    a.Set("db.response.status_code", prefix);
  }
  if (r.has_reply && r.reply.type != RespType::kNone) {
    a.Set("db.redis.response.type", RespTypeName(r.reply.type));
    if (IsAggregate(r.reply.type) && !r.reply.is_null) {
      a.Set("db.response.returned_rows", r.reply.size);
    }
  }
  SetNetworkAttributes(conn, span);
  return span;
}

}  // namespace wirespan::decoders::redis
