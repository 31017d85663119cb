// Expectations on the spans of the AMQP fixture workloads (scripts/fixtures/amqp/*.py), shared by
// the pcap replay tests and the live BPF tests (tests/bpf/amqp): the same workloads must give the
// same spans whether recorded or traced live. `v` holds the client's view of the spans, by start.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "model/span.h"
#include "tests/support/replay.h"

namespace wirespan::testing::amqp_fixtures {

using model::SpanKind;
using model::StatusCode;

constexpr const char* kPassword = "Fixture-P4ss-w0rd";  // scripts/fixtures/record-amqp.sh
constexpr const char* kUser = "ws_fixture";
constexpr const char* kTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr const char* kParentId = "00f067aa0ba902b7";

inline std::string Dump(const std::vector<model::Span>& spans) {
  std::string out;
  for (const auto& s : spans) {
    out += std::string(model::SpanKindName(s.kind)) + " '" + s.name + "'";
    for (const auto& a : s.attributes.items()) {
      if (a.key.starts_with("network.") || a.key.starts_with("server.") ||
          a.key.starts_with("client.")) {
        continue;
      }
      out += " " + a.key + "=" + AttrText(s, a.key);
    }
    out += "\n";
  }
  return out;
}

// The replay traces both ends of each connection: the client's view has no client.address.
struct Views {
  std::vector<model::Span> client, server;
};
inline Views Split(const std::vector<model::Span>& spans) {
  Views v;
  for (const auto& s : spans) {
    if (s.protocol != "amqp") continue;
    (s.attributes.Find("client.address") ? v.server : v.client).push_back(s);
  }
  auto by_start = [](const model::Span& a, const model::Span& b) {
    return a.start_time_unix_nano < b.start_time_unix_nano;
  };
  std::stable_sort(v.client.begin(), v.client.end(), by_start);
  std::stable_sort(v.server.begin(), v.server.end(), by_start);
  return v;
}

inline std::vector<model::Span> Kind(const std::vector<model::Span>& spans, SpanKind kind) {
  std::vector<model::Span> out;
  for (const auto& s : spans) {
    if (s.kind == kind) out.push_back(s);
  }
  return out;
}

inline const model::Span* Named(const std::vector<model::Span>& spans, std::string_view name) {
  for (const auto& s : spans) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

inline void ExpectNoCredentials(const std::vector<model::Span>& spans) {
  for (const auto& s : spans) {
    for (const std::string* text : {&s.name, &s.status_message, &s.trace_state}) {
      EXPECT_EQ(text->find(kPassword), std::string::npos);
      EXPECT_EQ(text->find(kUser), std::string::npos);
    }
    for (const auto& a : s.attributes.items()) {
      const std::string v = AttrText(s, a.key);
      EXPECT_EQ(v.find(kPassword), std::string::npos) << a.key;
      EXPECT_EQ(v.find(kUser), std::string::npos) << a.key;
    }
  }
}

inline void ExpectCommon(const model::Span& s) {
  EXPECT_EQ(AttrText(s, "messaging.system"), "rabbitmq") << s.name;
  EXPECT_EQ(AttrText(s, "server.address"), "127.0.0.1") << s.name;
  EXPECT_FALSE(AttrText(s, "server.port").empty()) << s.name;
  EXPECT_EQ(AttrText(s, "network.transport"), "tcp") << s.name;
  EXPECT_LE(s.start_time_unix_nano, s.end_time_unix_nano) << s.name;
  EXPECT_GT(s.start_time_unix_nano, 1'600'000'000'000'000'000u) << s.name;
}

// pika BlockingConnection (pika_blocking.py).
inline void CheckPikaBlocking(const Views& v) {
  auto producers = Kind(v.client, SpanKind::kProducer);
  ASSERT_EQ(producers.size(), 7u);
  for (const auto& s : producers) {
    ExpectCommon(s);
    EXPECT_EQ(AttrText(s, "messaging.operation.type"), "send");
    EXPECT_EQ(AttrText(s, "messaging.operation.name"), "publish");
    EXPECT_EQ(AttrText(s, "wirespan.message.fingerprint").size(), 16u);
  }
  // msg-1: every property.
  const auto& p1 = producers[0];
  EXPECT_EQ(p1.name, "publish ws.orders");
  EXPECT_EQ(AttrText(p1, "messaging.destination.name"), "ws.orders");
  EXPECT_EQ(AttrText(p1, "messaging.rabbitmq.destination.routing_key"), "created");
  EXPECT_EQ(AttrText(p1, "messaging.message.id"), "msg-1");
  EXPECT_EQ(AttrText(p1, "messaging.message.conversation_id"), "corr-1");
  EXPECT_EQ(AttrText(p1, "messaging.message.body.size"), "12");
  EXPECT_EQ(AttrText(p1, "wirespan.amqp.delivery_mode"), "2");
  EXPECT_EQ(AttrText(p1, "wirespan.amqp.content_type"), "application/json");
  EXPECT_EQ(AttrText(p1, "wirespan.amqp.reply_to"), "ws.replies");
  EXPECT_EQ(AttrText(p1, "wirespan.amqp.timestamp"), "1700000000");
  EXPECT_EQ(AttrText(p1, "wirespan.amqp.message_type"), "order.created");
  EXPECT_EQ(AttrText(p1, "wirespan.amqp.app_id"), "shop");
  EXPECT_EQ(AttrText(p1, "wirespan.amqp.confirm"), "");
  // msg-2: headers with a traceparent.
  const auto& p2 = producers[1];
  EXPECT_EQ(AttrText(p2, "messaging.message.id"), "msg-2");
  EXPECT_EQ(AttrText(p2, "wirespan.message.traceparent"),
            std::string("00-") + kTraceId + "-" + kParentId + "-01");
  // msg-big: the default exchange names the queue; body larger than frame_max (8192).
  const auto& pbig = producers[2];
  EXPECT_EQ(pbig.name, "publish ws.jobs");
  EXPECT_EQ(AttrText(pbig, "messaging.destination.name"), "ws.jobs");
  EXPECT_EQ(AttrText(pbig, "messaging.message.id"), "msg-big");
  EXPECT_EQ(AttrText(pbig, "messaging.message.body.size"), "20000");
  // Publisher confirms: ack, ack, nack, and a returned mandatory publish that is still acked.
  EXPECT_EQ(AttrText(producers[3], "messaging.message.id"), "msg-3");
  EXPECT_EQ(AttrText(producers[3], "wirespan.amqp.confirm"), "ack");
  EXPECT_EQ(AttrText(producers[4], "messaging.message.id"), "msg-4");
  EXPECT_EQ(AttrText(producers[4], "wirespan.amqp.confirm"), "ack");
  EXPECT_EQ(AttrText(producers[5], "messaging.message.id"), "msg-5");
  EXPECT_EQ(AttrText(producers[5], "wirespan.amqp.confirm"), "nack");
  EXPECT_EQ(producers[5].status, StatusCode::kError);
  EXPECT_EQ(AttrText(producers[5], "error.type"), "nack");
  EXPECT_EQ(AttrText(producers[6], "messaging.message.id"), "msg-6");
  EXPECT_EQ(AttrText(producers[6], "wirespan.amqp.returned"), "true");
  EXPECT_EQ(AttrText(producers[6], "wirespan.amqp.reply_code"), "312");
  EXPECT_EQ(AttrText(producers[6], "wirespan.amqp.mandatory"), "true");
  EXPECT_EQ(AttrText(producers[6], "wirespan.amqp.confirm"), "ack");
  for (int i = 3; i < 7; ++i)
    EXPECT_LT(producers[i].start_time_unix_nano, producers[i].end_time_unix_nano);

  auto consumers = Kind(v.client, SpanKind::kConsumer);
  ASSERT_EQ(consumers.size(), 6u);
  for (const auto& s : consumers) {
    ExpectCommon(s);
    EXPECT_EQ(AttrText(s, "messaging.operation.type"), "receive");
  }
  // basic.get of msg-1, acked.
  const auto& get = consumers[0];
  EXPECT_EQ(get.name, "get ws.jobs");
  EXPECT_EQ(AttrText(get, "messaging.operation.name"), "get");
  EXPECT_EQ(AttrText(get, "messaging.message.id"), "msg-1");
  EXPECT_EQ(AttrText(get, "messaging.rabbitmq.message.delivery_tag"), "1");
  EXPECT_EQ(AttrText(get, "wirespan.amqp.settlement"), "ack");
  EXPECT_EQ(AttrText(get, "wirespan.amqp.message_count"), "2");
  EXPECT_EQ(AttrText(get, "wirespan.amqp.exchange"), "ws.orders");
  EXPECT_EQ(AttrText(get, "messaging.rabbitmq.destination.routing_key"), "created");
  EXPECT_EQ(AttrText(get, "wirespan.message.fingerprint"),
            AttrText(p1, "wirespan.message.fingerprint"));
  // basic.get on the empty queue.
  EXPECT_EQ(consumers[1].name, "get ws.empty");
  EXPECT_EQ(AttrText(consumers[1], "wirespan.amqp.get_empty"), "true");
  // msg-2 nacked with requeue, then its redelivery acked; both carry the producer's trace.
  const auto& d1 = consumers[2];
  EXPECT_EQ(d1.name, "deliver ws.jobs");
  EXPECT_EQ(AttrText(d1, "messaging.operation.name"), "deliver");
  EXPECT_EQ(AttrText(d1, "messaging.message.id"), "msg-2");
  EXPECT_EQ(AttrText(d1, "messaging.rabbitmq.message.delivery_tag"), "2");
  EXPECT_EQ(AttrText(d1, "wirespan.amqp.redelivered"), "false");
  EXPECT_EQ(AttrText(d1, "wirespan.amqp.settlement"), "nack");
  EXPECT_EQ(AttrText(d1, "wirespan.amqp.settlement.requeue"), "true");
  EXPECT_FALSE(AttrText(d1, "wirespan.amqp.consumer_tag").empty());
  EXPECT_FALSE(AttrText(d1, "wirespan.amqp.held_ns").empty());
  EXPECT_EQ(model::ToHex(d1.trace_id), kTraceId);
  EXPECT_EQ(model::ToHex(d1.parent_span_id), kParentId);
  EXPECT_EQ(d1.trace_state, "wirespan=fixture");
  EXPECT_EQ(AttrText(d1, "wirespan.message.fingerprint"),
            AttrText(p2, "wirespan.message.fingerprint"));
  const auto& d2 = consumers[3];
  EXPECT_EQ(AttrText(d2, "messaging.message.id"), "msg-2");
  EXPECT_EQ(AttrText(d2, "messaging.rabbitmq.message.delivery_tag"), "3");
  EXPECT_EQ(AttrText(d2, "wirespan.amqp.redelivered"), "true");
  EXPECT_EQ(AttrText(d2, "wirespan.amqp.settlement"), "ack");
  EXPECT_EQ(model::ToHex(d2.trace_id), kTraceId);
  // msg-big rejected without requeue; its fingerprint matches the publish.
  const auto& d3 = consumers[4];
  EXPECT_EQ(AttrText(d3, "messaging.message.id"), "msg-big");
  EXPECT_EQ(AttrText(d3, "messaging.message.body.size"), "20000");
  EXPECT_EQ(AttrText(d3, "wirespan.amqp.settlement"), "reject");
  EXPECT_EQ(AttrText(d3, "wirespan.amqp.settlement.requeue"), "false");
  EXPECT_EQ(AttrText(d3, "wirespan.message.fingerprint"),
            AttrText(pbig, "wirespan.message.fingerprint"));
  EXPECT_NE(model::ToHex(d3.trace_id), kTraceId);
  // The auto-ack consumer gets msg-3; its span ends with the body.
  const auto& d4 = consumers[5];
  EXPECT_EQ(AttrText(d4, "messaging.message.id"), "msg-3");
  EXPECT_EQ(AttrText(d4, "wirespan.amqp.settlement"), "auto_ack");
  EXPECT_EQ(AttrText(d4, "wirespan.message.fingerprint"),
            AttrText(producers[3], "wirespan.message.fingerprint"));

  auto calls = Kind(v.client, SpanKind::kClient);
  for (const char* name :
       {"connection.open", "exchange.declare ws.orders", "queue.declare ws.jobs",
        "queue.bind ws.jobs", "queue.declare ws.empty", "queue.declare ws.tiny", "basic.qos",
        "basic.consume ws.jobs", "confirm.select", "queue.delete ws.jobs"}) {
    const model::Span* s = Named(calls, name);
    ASSERT_NE(s, nullptr) << name;
    ExpectCommon(*s);
    EXPECT_EQ(s->status, StatusCode::kUnset) << name;
  }
  EXPECT_EQ(AttrText(*Named(calls, "connection.open"), "wirespan.amqp.vhost"), "/");
  EXPECT_EQ(AttrText(*Named(calls, "queue.bind ws.jobs"), "wirespan.amqp.exchange"), "ws.orders");
}

// pika SelectConnection (pika_select.py).
inline void CheckPikaSelect(const Views& v) {
  auto producers = Kind(v.client, SpanKind::kProducer);
  ASSERT_EQ(producers.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    ExpectCommon(producers[i]);
    EXPECT_EQ(AttrText(producers[i], "messaging.message.id"), "sel-" + std::to_string(i));
    EXPECT_EQ(AttrText(producers[i], "messaging.message.conversation_id"), "sel");
    EXPECT_EQ(AttrText(producers[i], "wirespan.amqp.confirm"), "ack");
    EXPECT_EQ(producers[i].name, "publish ws.select");
  }
  auto consumers = Kind(v.client, SpanKind::kConsumer);
  ASSERT_EQ(consumers.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    ExpectCommon(consumers[i]);
    EXPECT_EQ(consumers[i].name, "deliver ws.select");
    EXPECT_EQ(AttrText(consumers[i], "messaging.message.id"), "sel-" + std::to_string(i));
    EXPECT_EQ(AttrText(consumers[i], "wirespan.amqp.settlement"), "ack");
    EXPECT_EQ(AttrText(consumers[i], "wirespan.amqp.settlement.multiple"), "true");
    EXPECT_EQ(AttrText(consumers[i], "messaging.rabbitmq.message.delivery_tag"),
              std::to_string(i + 1));
    EXPECT_EQ(AttrText(consumers[i], "wirespan.message.fingerprint"),
              AttrText(producers[i], "wirespan.message.fingerprint"));
  }
  // One settlement ends all three.
  EXPECT_EQ(consumers[0].end_time_unix_nano, consumers[2].end_time_unix_nano);
  auto calls = Kind(v.client, SpanKind::kClient);
  EXPECT_NE(Named(calls, "queue.declare ws.select"), nullptr);
  EXPECT_NE(Named(calls, "basic.cancel"), nullptr);
  EXPECT_NE(Named(calls, "queue.delete ws.select"), nullptr);
}

// aio-pika (aio_pika_workload.py).
inline void CheckAioPika(const Views& v) {
  auto producers = Kind(v.client, SpanKind::kProducer);
  ASSERT_EQ(producers.size(), 2u);
  EXPECT_EQ(producers[0].name, "publish ws.aio");
  EXPECT_EQ(AttrText(producers[0], "messaging.message.id"), "aio-1");
  EXPECT_EQ(AttrText(producers[0], "messaging.message.conversation_id"), "aio-corr");
  EXPECT_EQ(AttrText(producers[0], "wirespan.amqp.confirm"),
            "ack");  // aio-pika confirms by default
  EXPECT_EQ(AttrText(producers[1], "messaging.message.id"), "aio-2");
  auto consumers = Kind(v.client, SpanKind::kConsumer);
  ASSERT_EQ(consumers.size(), 3u);
  EXPECT_EQ(consumers[0].name, "get ws.aio");
  EXPECT_EQ(AttrText(consumers[0], "messaging.message.id"), "aio-1");
  EXPECT_EQ(AttrText(consumers[0], "wirespan.amqp.settlement"), "ack");
  EXPECT_EQ(model::ToHex(consumers[0].trace_id), kTraceId);
  EXPECT_EQ(model::ToHex(consumers[0].parent_span_id), kParentId);
  EXPECT_EQ(consumers[1].name, "deliver ws.aio");
  EXPECT_EQ(AttrText(consumers[1], "messaging.message.id"), "aio-2");
  EXPECT_EQ(AttrText(consumers[1], "wirespan.amqp.settlement"), "nack");
  EXPECT_EQ(AttrText(consumers[1], "wirespan.amqp.settlement.requeue"), "true");
  EXPECT_EQ(AttrText(consumers[2], "messaging.message.id"), "aio-2");
  EXPECT_EQ(AttrText(consumers[2], "wirespan.amqp.redelivered"), "true");
  EXPECT_EQ(AttrText(consumers[2], "wirespan.amqp.settlement"), "ack");
}

}  // namespace wirespan::testing::amqp_fixtures
