// AMQP 0-9-1 decoder end to end over synthetic byte streams: spans and their attributes.
#include "decoders/amqp/decoder.h"

#include <gtest/gtest.h>

#include <random>
#include <variant>

#include "decoders/amqp/spans.h"
#include "decoders/amqp/wire.h"
#include "tests/decoders/amqp/amqp_builder.h"

namespace wirespan::decoders::amqp {
namespace {

using namespace testing;  // NOLINT
using model::SpanKind;

std::string Attr(const model::Span& s, std::string_view key) {
  const model::AttributeValue* v = s.attributes.Find(key);
  if (v == nullptr) return "<none>";
  if (auto* str = std::get_if<std::string>(v)) return *str;
  if (auto* i = std::get_if<int64_t>(v)) return std::to_string(*i);
  if (auto* b = std::get_if<bool>(v)) return *b ? "true" : "false";
  return std::to_string(std::get<double>(*v));
}

std::vector<model::Span> OfKind(const std::vector<model::Span>& spans, SpanKind kind) {
  std::vector<model::Span> out;
  for (const auto& s : spans) {
    if (s.kind == kind) out.push_back(s);
  }
  return out;
}

void Open(Harness& h, uint16_t channel = 1) {
  h.Client(ClientHandshake("guest", "hunter2-secret"));
  h.Server(ServerHandshake());
  h.Client(ChannelOpen(channel));
  h.Server(ChannelOpenOk(channel));
}

TEST(AmqpDetect, ProtocolHeaderStartAndMidStream) {
  Detection d = Detect(kProtocolHeaderBytes, true);
  EXPECT_EQ(d.protocol, Protocol::kAmqp);
  EXPECT_EQ(d.confidence, 100);
  EXPECT_EQ(d.kind, MessageKind::kRequest);
  EXPECT_EQ(Detect("AMQ", true).confidence, 10);  // a prefix: ask again with more bytes
  EXPECT_EQ(Detect(std::string("AMQX\0\0\x09\x01", 8), true).confidence, 0);
  EXPECT_EQ(Detect(std::string("AMQP\x01\x01", 6), true).confidence, 10);
  EXPECT_EQ(Detect(std::string("AMQP\x01\x01\x08\x00", 8), true).confidence, 60);
  d = Detect(ServerHandshake(), true);
  EXPECT_EQ(d.confidence, 100);
  EXPECT_EQ(d.kind, MessageKind::kResponse);
  // Mid-stream: any whole frame of a known method, frame end checked.
  d = Detect(Deliver(1, "ctag", 5, false, "", "q", "x"), false);
  EXPECT_EQ(d.confidence, 90);
  EXPECT_EQ(d.kind, MessageKind::kResponse);
  d = Detect(Ack(1, 5), false);
  EXPECT_EQ(d.confidence, 90);
  std::string bad = Ack(1, 5);
  bad.back() = 'x';
  EXPECT_EQ(Detect(bad, false).confidence, 0);
  EXPECT_EQ(Detect(MethodFrame(1, 60, 99, "abcd"), false).confidence, 0);
  EXPECT_EQ(Detect("GET / HTTP/1.1\r\n", false).confidence, 0);
  EXPECT_EQ(Detect("*1\r\n$4\r\nPING\r\n", false).confidence, 0);
  EXPECT_EQ(Detect(std::string("\0\0\0\x08\x04\xd2\x16\x2f", 8), true).confidence,
            0);  // pg SSLRequest
  EXPECT_GT(Detect(Heartbeat(), false).confidence, 0);
}

TEST(AmqpDecoder, PublishWithoutConfirms) {
  Harness h;
  Open(h);
  Props props;
  props.message_id = "msg-1";
  props.correlation_id = "corr-1";
  props.delivery_mode = 2;
  props.app_id = "api";
  props.type = "order.created";
  props.timestamp = 1700000000;
  props.reply_to = "replies";
  h.Client(Publish(1, "orders", "eu.created", "{\"id\":1}", props));
  h.Close();
  auto producers = OfKind(h.sink.spans, SpanKind::kProducer);
  ASSERT_EQ(producers.size(), 1u);
  const auto& s = producers[0];
  EXPECT_EQ(s.name, "publish orders");
  EXPECT_EQ(s.protocol, "amqp");
  EXPECT_EQ(Attr(s, "messaging.system"), "rabbitmq");
  EXPECT_EQ(Attr(s, "messaging.operation.type"), "send");
  EXPECT_EQ(Attr(s, "messaging.operation.name"), "publish");
  EXPECT_EQ(Attr(s, "messaging.destination.name"), "orders");
  EXPECT_EQ(Attr(s, "messaging.rabbitmq.destination.routing_key"), "eu.created");
  EXPECT_EQ(Attr(s, "messaging.message.id"), "msg-1");
  EXPECT_EQ(Attr(s, "messaging.message.conversation_id"), "corr-1");
  EXPECT_EQ(Attr(s, "messaging.message.body.size"), "8");
  EXPECT_EQ(Attr(s, "wirespan.amqp.delivery_mode"), "2");
  EXPECT_EQ(Attr(s, "wirespan.amqp.app_id"), "api");
  EXPECT_EQ(Attr(s, "wirespan.amqp.message_type"), "order.created");
  EXPECT_EQ(Attr(s, "wirespan.amqp.timestamp"), "1700000000");
  EXPECT_EQ(Attr(s, "wirespan.amqp.reply_to"), "replies");
  EXPECT_EQ(Attr(s, "wirespan.amqp.confirm"), "<none>");
  EXPECT_EQ(Attr(s, "server.address"), "127.0.0.1");
  EXPECT_EQ(Attr(s, "server.port"), "5672");
  EXPECT_EQ(Attr(s, "wirespan.amqp.channel"), "1");
  EXPECT_EQ(Attr(s, "wirespan.message.fingerprint").size(), 16u);
  EXPECT_LT(s.start_time_unix_nano, s.end_time_unix_nano);
  // connection.open is reported (vhost); handshake steps and channel.open are not.
  auto clients = OfKind(h.sink.spans, SpanKind::kClient);
  ASSERT_EQ(clients.size(), 1u);
  EXPECT_EQ(clients[0].name, "connection.open");
  EXPECT_EQ(Attr(clients[0], "wirespan.amqp.vhost"), "/");
  EXPECT_EQ(h.stats.parse_errors, 0u);
}

TEST(AmqpDecoder, DefaultExchangeUsesQueueName) {
  Harness h;
  Open(h);
  h.Client(Publish(1, "", "tasks", "x"));
  auto p = OfKind(h.sink.spans, SpanKind::kProducer);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].name, "publish tasks");
  EXPECT_EQ(Attr(p[0], "messaging.destination.name"), "tasks");
}

TEST(AmqpDecoder, PublisherConfirmsEndAtBrokerAck) {
  Harness h;
  Open(h);
  h.Client(ConfirmSelect(1));
  h.Server(ConfirmSelectOk(1));
  h.Client(Publish(1, "", "q", "one"));
  h.Client(Publish(1, "", "q", "two"));
  h.Client(Publish(1, "", "q", "three"));
  h.Client(Publish(1, "", "q", "four"));
  EXPECT_TRUE(OfKind(h.sink.spans, SpanKind::kProducer).empty());  // waiting for confirms
  h.Server(Ack(1, 2, /*multiple=*/true));
  auto p = OfKind(h.sink.spans, SpanKind::kProducer);
  ASSERT_EQ(p.size(), 2u);
  for (const auto& s : p) {
    EXPECT_EQ(Attr(s, "wirespan.amqp.confirm"), "ack");
    EXPECT_EQ(s.status, model::StatusCode::kUnset);
  }
  const uint64_t ack_end = p[0].end_time_unix_nano;
  EXPECT_EQ(p[1].end_time_unix_nano, ack_end);
  h.Server(Nack(1, 3, false, false));
  p = OfKind(h.sink.spans, SpanKind::kProducer);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(Attr(p[2], "wirespan.amqp.confirm"), "nack");
  EXPECT_EQ(p[2].status, model::StatusCode::kError);
  EXPECT_EQ(Attr(p[2], "error.type"), "nack");
  h.Close();  // the fourth was never confirmed
  p = OfKind(h.sink.spans, SpanKind::kProducer);
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(Attr(p[3], "wirespan.amqp.confirm"), "unsettled");
  // confirm.select is a reported call.
  bool saw_select = false;
  for (const auto& s : OfKind(h.sink.spans, SpanKind::kClient))
    saw_select |= s.name == "confirm.select";
  EXPECT_TRUE(saw_select);
}

TEST(AmqpDecoder, ReturnedMandatoryPublish) {
  Harness h;
  Open(h);
  h.Client(ConfirmSelect(1));
  h.Server(ConfirmSelectOk(1));
  h.Client(Publish(1, "ex", "nowhere", "x", {}, /*mandatory=*/true));
  h.Server(MethodFrame(1, 60, 50,
                       U16(312) + ShortStr("NO_ROUTE") + ShortStr("ex") + ShortStr("nowhere")) +
           ContentFrames(1, "x"));
  h.Server(Ack(1, 1));
  auto p = OfKind(h.sink.spans, SpanKind::kProducer);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(Attr(p[0], "wirespan.amqp.returned"), "true");
  EXPECT_EQ(Attr(p[0], "wirespan.amqp.reply_code"), "312");
  EXPECT_EQ(Attr(p[0], "wirespan.amqp.mandatory"), "true");
  EXPECT_EQ(Attr(p[0], "wirespan.amqp.confirm"), "ack");
}

TEST(AmqpDecoder, ManualAckConsumerEndsAtSettlement) {
  Harness h;
  Open(h);
  h.Client(Consume(1, "jobs", "", /*no_ack=*/false));
  h.Server(ConsumeOk(1, "ctag-1"));
  Props props;
  props.message_id = "m7";
  h.Server(Deliver(1, "ctag-1", 1, false, "", "jobs", "payload", props));
  h.Server(Deliver(1, "ctag-1", 2, true, "", "jobs", "payload2"));
  EXPECT_TRUE(OfKind(h.sink.spans, SpanKind::kConsumer).empty());
  h.Tick(5'000'000);
  h.Client(Ack(1, 1));
  auto c = OfKind(h.sink.spans, SpanKind::kConsumer);
  ASSERT_EQ(c.size(), 1u);
  const auto& s = c[0];
  EXPECT_EQ(s.name, "deliver jobs");
  EXPECT_EQ(Attr(s, "messaging.operation.type"), "receive");
  EXPECT_EQ(Attr(s, "messaging.operation.name"), "deliver");
  EXPECT_EQ(Attr(s, "messaging.destination.name"), "jobs");
  EXPECT_EQ(Attr(s, "messaging.rabbitmq.message.delivery_tag"), "1");
  EXPECT_EQ(Attr(s, "wirespan.amqp.consumer_tag"), "ctag-1");
  EXPECT_EQ(Attr(s, "wirespan.amqp.redelivered"), "false");
  EXPECT_EQ(Attr(s, "wirespan.amqp.settlement"), "ack");
  EXPECT_EQ(Attr(s, "messaging.message.id"), "m7");
  EXPECT_GE(std::stoll(Attr(s, "wirespan.amqp.held_ns")), 5'000'000);
  EXPECT_GE(s.end_time_unix_nano - s.start_time_unix_nano, 5'000'000u);
  h.Client(Nack(1, 2, false, /*requeue=*/true));
  c = OfKind(h.sink.spans, SpanKind::kConsumer);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(Attr(c[1], "wirespan.amqp.settlement"), "nack");
  EXPECT_EQ(Attr(c[1], "wirespan.amqp.settlement.requeue"), "true");
  EXPECT_EQ(Attr(c[1], "wirespan.amqp.redelivered"), "true");
  // basic.consume is a call span with the broker's consumer tag.
  bool saw = false;
  for (const auto& s2 : OfKind(h.sink.spans, SpanKind::kClient)) {
    if (s2.name == "basic.consume jobs") {
      saw = true;
      EXPECT_EQ(Attr(s2, "wirespan.amqp.consumer_tag"), "ctag-1");
    }
  }
  EXPECT_TRUE(saw);
}

TEST(AmqpDecoder, MultipleAckAndReject) {
  Harness h;
  Open(h);
  h.Client(Consume(1, "jobs", "c", false));
  h.Server(ConsumeOk(1, "c"));
  for (uint64_t tag = 1; tag <= 4; ++tag) h.Server(Deliver(1, "c", tag, false, "", "jobs", "b"));
  h.Client(Reject(1, 4, /*requeue=*/false));
  h.Client(Ack(1, 3, /*multiple=*/true));
  auto c = OfKind(h.sink.spans, SpanKind::kConsumer);
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(Attr(c[0], "wirespan.amqp.settlement"), "reject");
  EXPECT_EQ(Attr(c[0], "wirespan.amqp.settlement.requeue"), "false");
  EXPECT_EQ(Attr(c[0], "messaging.rabbitmq.message.delivery_tag"), "4");
  for (int i = 1; i < 4; ++i) {
    EXPECT_EQ(Attr(c[i], "wirespan.amqp.settlement"), "ack");
    EXPECT_EQ(Attr(c[i], "wirespan.amqp.settlement.multiple"), "true");
    EXPECT_EQ(Attr(c[i], "messaging.rabbitmq.message.delivery_tag"), std::to_string(i));
  }
}

TEST(AmqpDecoder, AutoAckConsumerEndsAtBody) {
  Harness h;
  Open(h);
  h.Client(Consume(1, "events", "c2", /*no_ack=*/true));
  h.Server(ConsumeOk(1, "c2"));
  h.Server(Deliver(1, "c2", 1, false, "amq.topic", "a.b", "xyz"));
  auto c = OfKind(h.sink.spans, SpanKind::kConsumer);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(Attr(c[0], "wirespan.amqp.settlement"), "auto_ack");
  EXPECT_EQ(Attr(c[0], "messaging.destination.name"), "events");
  EXPECT_EQ(Attr(c[0], "wirespan.amqp.exchange"), "amq.topic");
  EXPECT_EQ(Attr(c[0], "wirespan.amqp.held_ns"), "<none>");
}

TEST(AmqpDecoder, BasicGetOkAndEmpty) {
  Harness h;
  Open(h);
  h.Client(Get(1, "jobs", /*no_ack=*/false));
  h.Server(GetOk(1, 1, "", "jobs", 3, "got-it"));
  EXPECT_TRUE(OfKind(h.sink.spans, SpanKind::kConsumer).empty());
  h.Client(Ack(1, 1));
  h.Client(Get(1, "jobs", /*no_ack=*/true));
  h.Server(GetOk(1, 2, "", "jobs", 2, "auto"));
  h.Client(Get(1, "empty", true));
  h.Server(GetEmpty(1));
  auto c = OfKind(h.sink.spans, SpanKind::kConsumer);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].name, "get jobs");
  EXPECT_EQ(Attr(c[0], "messaging.operation.name"), "get");
  EXPECT_EQ(Attr(c[0], "wirespan.amqp.settlement"), "ack");
  EXPECT_EQ(Attr(c[0], "wirespan.amqp.message_count"), "3");
  EXPECT_EQ(Attr(c[0], "messaging.message.body.size"), "6");
  EXPECT_EQ(Attr(c[1], "wirespan.amqp.settlement"), "auto_ack");
  EXPECT_EQ(c[2].name, "get empty");
  EXPECT_EQ(Attr(c[2], "wirespan.amqp.get_empty"), "true");
  EXPECT_EQ(Attr(c[2], "messaging.batch.message_count"), "0");
  // The get span starts at the basic.get request.
  EXPECT_LT(c[2].start_time_unix_nano, c[2].end_time_unix_nano);
}

TEST(AmqpDecoder, TraceparentHeaderParentsConsumerSpan) {
  Harness h;
  Open(h);
  h.Client(Consume(1, "jobs", "c", false));
  h.Server(ConsumeOk(1, "c"));
  Props props;
  props.headers = Table(
      {{"traceparent", "S" + LongStr("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")},
       {"tracestate", "S" + LongStr("vendor=abc")},
       {"attempt", "I" + U32(3)},
       {"flag", "t" + U8(1)}});
  h.Server(Deliver(1, "c", 1, false, "", "jobs", "x", props));
  h.Client(Ack(1, 1));
  auto c = OfKind(h.sink.spans, SpanKind::kConsumer);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(model::ToHex(c[0].trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(model::ToHex(c[0].parent_span_id), "00f067aa0ba902b7");
  EXPECT_EQ(c[0].trace_state, "vendor=abc");
  EXPECT_NE(model::ToHex(c[0].span_id), "00f067aa0ba902b7");
  EXPECT_EQ(Attr(c[0], "wirespan.message.traceparent"),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
}

TEST(AmqpDecoder, InvalidTraceparentIgnored) {
  model::TraceId t;
  model::SpanId s;
  EXPECT_TRUE(ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", &t, &s));
  EXPECT_FALSE(ParseTraceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01", &t, &s));
  EXPECT_FALSE(ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", &t, &s));
  EXPECT_FALSE(ParseTraceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", &t, &s));
  EXPECT_FALSE(ParseTraceparent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", &t, &s));
  EXPECT_FALSE(
      ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", &t, &s));
  EXPECT_TRUE(
      ParseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", &t, &s));
  EXPECT_FALSE(ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736", &t, &s));
}

TEST(AmqpDecoder, LargeBodyAcrossFramesFingerprintsMatch) {
  Harness h(Role::kClient);
  h.Client(ClientHandshake("guest", "guest", 4096));
  h.Server(ServerHandshake(4096));
  h.Client(ChannelOpen(1));
  h.Server(ChannelOpenOk(1));
  std::string body(50000, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 31);
  Props props;
  props.message_id = "big";
  h.Client(Publish(1, "", "big", body, props, false, 4096 - 8), 1500);
  h.Client(Consume(1, "big", "c", true));
  h.Server(ConsumeOk(1, "c"));
  h.Server(MethodFrame(1, 60, 60,
                       ShortStr("c") + U64(1) + Bits({false}) + ShortStr("") + ShortStr("big")) +
               ContentFrames(1, body, props, 4096 - 8),
           999);
  auto p = OfKind(h.sink.spans, SpanKind::kProducer);
  auto c = OfKind(h.sink.spans, SpanKind::kConsumer);
  ASSERT_EQ(p.size(), 1u);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(Attr(p[0], "messaging.message.body.size"), "50000");
  EXPECT_EQ(Attr(c[0], "messaging.message.body.size"), "50000");
  EXPECT_NE(Attr(p[0], "wirespan.message.fingerprint"), "<none>");
  EXPECT_EQ(Attr(p[0], "wirespan.message.fingerprint"), Attr(c[0], "wirespan.message.fingerprint"));
  EXPECT_EQ(Attr(p[0], "wirespan.message.body_hash"), Hex64(Fnv1a(kFnvOffset, body)));
  EXPECT_EQ(h.stats.parse_errors, 0u);
}

TEST(AmqpDecoder, FrameMaxFromTuneOkRejectsLargerFrames) {
  Harness h;
  h.Client(ClientHandshake("guest", "guest", 4096));
  h.Server(ServerHandshake(4096));
  h.Client(Body(1, std::string(5000, 'x')) + Publish(1, "", "q", "ok"));
  EXPECT_GE(h.stats.parse_errors, 1u);
  EXPECT_EQ(OfKind(h.sink.spans, SpanKind::kProducer).size(), 1u);
}

TEST(AmqpDecoder, ChannelCloseFailsPendingCall) {
  Harness h;
  Open(h);
  h.Client(MethodFrame(
      1, 50, 10,
      U16(0) + ShortStr("missing") + Bits({true, false, false, false, false}) + Table({})));
  h.Server(ChannelClose(1, 404, "NOT_FOUND - no queue 'missing' in vhost '/'", 50, 10));
  h.Client(ChannelCloseOk(1));
  auto calls = OfKind(h.sink.spans, SpanKind::kClient);
  const model::Span* declare = nullptr;
  const model::Span* close = nullptr;
  for (const auto& s : calls) {
    if (s.name == "queue.declare missing") declare = &s;
    if (s.name == "channel.close") close = &s;
  }
  ASSERT_NE(declare, nullptr);
  EXPECT_EQ(declare->status, model::StatusCode::kError);
  EXPECT_EQ(Attr(*declare, "error.type"), "404");
  EXPECT_EQ(declare->status_message, "NOT_FOUND - no queue 'missing' in vhost '/'");
  EXPECT_EQ(Attr(*declare, "wirespan.amqp.reply"), "channel.close");
  ASSERT_NE(close, nullptr);
  EXPECT_EQ(close->status, model::StatusCode::kError);
  // After the close, the channel's state is gone; reopening works.
  h.Client(ChannelOpen(1));
  h.Server(ChannelOpenOk(1));
  h.Client(QueueDeclare(1, "again"));
  h.Server(QueueDeclareOk(1, "again", 5));
  bool ok = false;
  for (const auto& s : OfKind(h.sink.spans, SpanKind::kClient)) {
    if (s.name == "queue.declare again") {
      ok = true;
      EXPECT_EQ(s.status, model::StatusCode::kUnset);
      EXPECT_EQ(Attr(s, "wirespan.amqp.message_count"), "5");
    }
  }
  EXPECT_TRUE(ok);
}

TEST(AmqpDecoder, ServerNamedQueue) {
  Harness h;
  Open(h);
  h.Client(QueueDeclare(1, ""));
  h.Server(QueueDeclareOk(1, "amq.gen-abc", 0));
  auto c = OfKind(h.sink.spans, SpanKind::kClient);
  ASSERT_FALSE(c.empty());
  EXPECT_EQ(c.back().name, "queue.declare amq.gen-abc");
}

TEST(AmqpDecoder, UnsettledDeliveriesFlushedOnChannelClose) {
  Harness h;
  Open(h);
  h.Client(Consume(1, "q", "c", false));
  h.Server(ConsumeOk(1, "c"));
  h.Server(Deliver(1, "c", 1, false, "", "q", "x"));
  h.Client(ChannelClose(1, 200, "Normal shutdown"));
  auto c = OfKind(h.sink.spans, SpanKind::kConsumer);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(Attr(c[0], "wirespan.amqp.settlement"), "channel_closed");
  h.Server(ChannelCloseOk(1));
  // A normal close is not a span.
  for (const auto& s : OfKind(h.sink.spans, SpanKind::kClient)) EXPECT_NE(s.name, "channel.close");
}

TEST(AmqpDecoder, CloseWithoutCloseOkIsNotUnmatched) {
  Harness h;
  Open(h);
  h.Client(QueueDeclare(1, "q"));
  h.Client(MethodFrame(0, 10, 50, U16(200) + ShortStr("bye") + U16(0) + U16(0)));
  h.Close();  // the peer dropped the TCP connection instead of answering
  EXPECT_EQ(h.stats.unmatched_requests, 1u);  // only the queue.declare
}

TEST(AmqpDecoder, InterleavedChannels) {
  Harness h;
  Open(h, 1);
  h.Client(ChannelOpen(2));
  h.Server(ChannelOpenOk(2));
  h.Client(Consume(1, "a", "ca", false) + Consume(2, "b", "cb", false));
  h.Server(ConsumeOk(1, "ca") + ConsumeOk(2, "cb"));
  // Both channels use delivery tag 1: tags are per channel.
  h.Server(Deliver(2, "cb", 1, false, "", "b", "bb") + Deliver(1, "ca", 1, false, "", "a", "aa"));
  h.Client(Ack(2, 1));
  auto c = OfKind(h.sink.spans, SpanKind::kConsumer);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(Attr(c[0], "messaging.destination.name"), "b");
  h.Client(Ack(1, 1));
  c = OfKind(h.sink.spans, SpanKind::kConsumer);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(Attr(c[1], "messaging.destination.name"), "a");
}

// The whole session byte at a time gives the same spans as whole writes.
std::vector<std::string> SessionSpans(size_t chunk) {
  Harness h;
  auto client = [&](const std::string& b) { h.Client(b, chunk); };
  auto server = [&](const std::string& b) { h.Server(b, chunk); };
  client(ClientHandshake("guest", "guest"));
  server(ServerHandshake());
  client(ChannelOpen(1));
  server(ChannelOpenOk(1));
  client(QueueDeclare(1, "q"));
  server(QueueDeclareOk(1, "q", 0));
  client(ConfirmSelect(1));
  server(ConfirmSelectOk(1));
  Props props;
  props.headers = Table(
      {{"traceparent", "S" + LongStr("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")}});
  client(Publish(1, "", "q", std::string(1000, 'b'), props));
  server(Ack(1, 1));
  client(Consume(1, "q", "", false));
  server(ConsumeOk(1, "ctag"));
  server(Deliver(1, "ctag", 1, false, "", "q", std::string(1000, 'b'), props) + Heartbeat());
  client(Heartbeat() + Ack(1, 1));
  client(Get(1, "q", true));
  server(GetEmpty(1));
  h.Close();
  std::vector<std::string> out;
  for (const auto& s : h.sink.spans) {
    std::string line = std::string(model::SpanKindName(s.kind)) + " " + s.name;
    for (const auto& a : s.attributes.items()) {
      if (a.key == "wirespan.amqp.held_ns") continue;  // timing depends on the chunking
      line += " " + a.key + "=" + Attr(s, a.key);
    }
    out.push_back(line);
  }
  EXPECT_EQ(h.stats.parse_errors, 0u);
  return out;
}

TEST(AmqpDecoder, ByteAtATimeMatchesWholeWrites) {
  const auto whole = SessionSpans(SIZE_MAX);
  EXPECT_EQ(whole.size(), 7u);  // connection.open, queue.declare, confirm.select, publish,
                                // basic.consume, deliver, get
  for (size_t chunk : {1, 2, 3, 5, 13}) EXPECT_EQ(SessionSpans(chunk), whole) << chunk;
}

TEST(AmqpDecoder, CredentialsNeverInSpans) {
  for (Role role : {Role::kClient, Role::kServer, Role::kUnknown}) {
    Harness h(role);
    const std::string password = "Tr0ub4dor&3-very-secret";
    h.Client(ClientHandshake("alice", password));
    h.Server(ServerHandshake());
    h.Server(MethodFrame(0, 10, 20, LongStr("challenge-" + password)));
    h.Client(MethodFrame(0, 10, 21, LongStr("response-" + password)));
    h.Client(ChannelOpen(1));
    h.Server(ChannelOpenOk(1));
    h.Client(Publish(1, "", "q", "x"));
    h.Client(MethodFrame(0, 10, 50, U16(320) + ShortStr("bye") + U16(0) + U16(0)));
    h.Close();
    ASSERT_FALSE(h.sink.spans.empty());
    for (const auto& s : h.sink.spans) {
      EXPECT_EQ(s.name.find(password), std::string::npos);
      EXPECT_EQ(s.name.find("alice"), std::string::npos);
      for (const auto& a : s.attributes.items()) {
        const std::string v = Attr(s, a.key);
        EXPECT_EQ(v.find(password), std::string::npos) << a.key;
        EXPECT_EQ(v.find("alice"), std::string::npos) << a.key;
      }
      EXPECT_EQ(s.status_message.find(password), std::string::npos);
    }
  }
}

TEST(AmqpDecoder, ServerRoleStillReportsClientView) {
  Harness h(Role::kServer);
  Open(h);
  h.Client(Publish(1, "", "q", "x"));
  auto p = OfKind(h.sink.spans, SpanKind::kProducer);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(Attr(p[0], "client.port"), "40000");
  EXPECT_EQ(Attr(p[0], "server.port"), "5672");
}

TEST(AmqpDecoder, UnknownRoleInfersClientFromProtocolHeader) {
  // The traced process is the broker but its role is unknown: the header arrives on ingress.
  Harness h(Role::kUnknown);
  h.Send(Direction::kIngress, ClientHandshake("guest", "guest"));
  h.Send(Direction::kEgress, ServerHandshake());
  h.Send(Direction::kIngress, ChannelOpen(1));
  h.Send(Direction::kEgress, ChannelOpenOk(1));
  h.Send(Direction::kIngress, Consume(1, "q", "c", false));
  h.Send(Direction::kEgress, ConsumeOk(1, "c") + Deliver(1, "c", 1, false, "", "q", "x"));
  h.Send(Direction::kIngress, Ack(1, 1));
  auto c = OfKind(h.sink.spans, SpanKind::kConsumer);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(Attr(c[0], "wirespan.amqp.settlement"), "ack");
}

TEST(AmqpDecoder, MidStreamPickupAtNextFrameBoundary) {
  Harness h;
  // The tail of a body frame, then a deliver: the decoder starts at the next frame boundary.
  const std::string tail = std::string(37, 'q') + "\xCE";
  h.Server(tail + Deliver(5, "ctag-old", 41, false, "ex", "rk", "late"));
  h.Client(Ack(5, 41));
  auto c = OfKind(h.sink.spans, SpanKind::kConsumer);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(Attr(c[0], "messaging.rabbitmq.message.delivery_tag"), "41");
  EXPECT_EQ(Attr(c[0], "wirespan.amqp.settlement"), "ack");
  EXPECT_EQ(Attr(c[0], "messaging.destination.name"), "ex");  // queue unknown: the exchange
  // A publish picked up after its method frame: orphan header/body ignored, next one decoded.
  h.Client(ContentFrames(5, "orphan") + Publish(5, "", "q", "whole"));
  auto p = OfKind(h.sink.spans, SpanKind::kProducer);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(Attr(p[0], "messaging.destination.name"), "q");
}

TEST(AmqpDecoder, GarbageAndTruncationNeverCrashOrStall) {
  std::mt19937 rng(99);
  const std::string session = ClientHandshake("u", "p") + ChannelOpen(1) +
                              Publish(1, "", "q", std::string(3000, 'x')) +
                              Consume(1, "q", "c", false) + Ack(1, 1);
  for (int round = 0; round < 300; ++round) {
    std::string bytes = session;
    // Flip, cut or insert bytes.
    const int edits = 1 + static_cast<int>(rng() % 6);
    for (int e = 0; e < edits && !bytes.empty(); ++e) {
      const size_t at = rng() % bytes.size();
      switch (rng() % 3) {
        case 0:
          bytes[at] = static_cast<char>(rng());
          break;
        case 1:
          bytes.erase(at, rng() % 40);
          break;
        case 2:
          bytes.insert(at, std::string(rng() % 20, static_cast<char>(rng())));
          break;
      }
    }
    Harness h;
    h.Client(bytes, 1 + rng() % 200);
    h.Server(ServerHandshake().substr(0, rng() % 100), 1 + rng() % 7);
    h.Gap(h.client_dir(), rng() % 5000);
    h.Client(Publish(1, "", "q", "after"));
    h.Close();
  }
  SUCCEED();
}

TEST(AmqpDecoder, PendingStateIsBounded) {
  DecoderOptions options;
  options.max_pending_frames = 16;
  Harness h(Role::kClient, options);
  Open(h);
  h.Client(Consume(1, "q", "c", false));
  h.Server(ConsumeOk(1, "c"));
  for (uint64_t tag = 1; tag <= 100; ++tag) h.Server(Deliver(1, "c", tag, false, "", "q", "x"));
  // Beyond the cap the oldest unsettled deliveries are reported unsettled.
  EXPECT_EQ(OfKind(h.sink.spans, SpanKind::kConsumer).size(), 84u);
  EXPECT_EQ(h.stats.dropped_frames, 84u);
}

TEST(AmqpDecoder, TimeoutReportsUnsettledDelivery) {
  DecoderOptions options;
  options.request_timeout_ns = 1'000'000;
  Harness h(Role::kClient, options);
  Open(h);
  h.Client(Consume(1, "q", "c", false));
  h.Server(ConsumeOk(1, "c"));
  h.Server(Deliver(1, "c", 1, false, "", "q", "x"));
  EXPECT_TRUE(OfKind(h.sink.spans, SpanKind::kConsumer).empty());
  h.Tick(10'000'000);
  auto c = OfKind(h.sink.spans, SpanKind::kConsumer);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(Attr(c[0], "wirespan.amqp.settlement"), "none");
}

}  // namespace
}  // namespace wirespan::decoders::amqp
