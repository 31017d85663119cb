#include "decoders/amqp/matcher.h"

#include "decoders/amqp/spec.h"

namespace wirespan::decoders::amqp {
namespace {

bool Is(const MethodSpec* spec, uint16_t class_id, uint16_t method_id) {
  return spec != nullptr && spec->class_id == class_id && spec->method_id == method_id;
}

// True when `spec` answers some synchronous method (the "-ok" methods, get-ok, get-empty).
bool IsReply(const MethodSpec& spec) {
  for (const MethodSpec& m : AllMethods()) {
    if (m.class_id == spec.class_id && spec.IsResponseTo(m)) return true;
  }
  return false;
}

void FillMessage(Record& r, Frame& frame) {
  const Method& m = frame.method;
  r.channel = frame.channel;
  r.exchange = std::string(m.Str("exchange"));
  r.routing_key = std::string(m.Str("routing-key"));
  if (const FieldValue* tag = m.Arg("delivery-tag")) {
    r.delivery_tag = static_cast<uint64_t>(tag->AsInt());
    r.has_delivery_tag = true;
  }
  r.redelivered = m.Bit("redelivered");
  r.message_count = static_cast<uint64_t>(m.Int("message-count"));
  r.consumer_tag = std::string(m.Str("consumer-tag"));
  r.content = std::move(frame.content);
  r.end = r.content_end = frame.last;
  r.has_content_end = true;
}

}  // namespace

size_t Stitcher::pending_calls() const {
  size_t n = 0;
  for (const auto& [id, ch] : channels_) n += ch.calls.size();
  return n;
}

size_t Stitcher::pending_messages() const {
  size_t n = 0;
  for (const auto& [id, ch] : channels_) n += ch.unconfirmed.size() + ch.unsettled.size();
  return n;
}

void Stitcher::Emit(Record&& record, std::vector<Record>* out) {
  out->push_back(std::move(record));
}

template <typename Map>
void Stitcher::Cap(Map& map, std::vector<Record>* out) {
  while (map.size() > options_.max_pending_frames) {
    auto it = map.begin();
    if (stats_) ++stats_->dropped_frames;
    Emit(std::move(it->second), out);
    map.erase(it);
  }
}

Record Stitcher::CallRecord(const Frame& request, const Frame* reply) const {
  const Method& m = request.method;
  Record r;
  r.type = RecordType::kCall;
  r.channel = request.channel;
  r.method = m.Name();
  r.queue = std::string(m.Str("queue"));
  r.exchange = std::string(m.Str("exchange"));
  if (r.exchange.empty()) r.exchange = std::string(m.Str("destination"));  // exchange.bind
  r.routing_key = std::string(m.Str("routing-key"));
  r.vhost = std::string(m.Str("virtual-host"));
  r.consumer_tag = std::string(m.Str("consumer-tag"));
  r.start = request.first;
  r.end = request.last;
  if (Is(m.spec, kChannel, 40) || Is(m.spec, kConnection, 50)) {
    r.reply_code = static_cast<uint16_t>(m.Int("reply-code"));
    r.reply_text = std::string(m.Str("reply-text"));
    r.error = r.reply_code != 0 && r.reply_code != 200;
  }
  if (reply != nullptr) {
    const Method& rm = reply->method;
    r.reply = rm.Name();
    r.answered = true;
    r.end = reply->last;
    if (std::string_view q = rm.Str("queue"); !q.empty()) r.queue = std::string(q);
    if (std::string_view t = rm.Str("consumer-tag"); !t.empty()) r.consumer_tag = std::string(t);
    r.message_count = static_cast<uint64_t>(rm.Int("message-count"));
  }
  return r;
}

void Stitcher::Add(Frame&& frame, bool from_client, std::vector<Record>* out) {
  if (frame.kind != Frame::Kind::kMethod) return;
  const MethodSpec* spec = frame.method.spec;
  if (spec == nullptr) return;
  Channel& ch = channels_[frame.channel];

  // A reply to what the other peer asked?
  for (auto it = ch.calls.begin(); it != ch.calls.end(); ++it) {
    if (it->from_client != from_client && spec->IsResponseTo(*it->request.method.spec)) {
      Call call = std::move(*it);
      ch.calls.erase(it);
      OnResponse(ch, std::move(call), frame, out);
      return;
    }
  }

  // A close fails what the other peer was waiting for, and ends the channel's messages.
  const bool channel_close = Is(spec, kChannel, 40);
  const bool connection_close = Is(spec, kConnection, 50);
  if (channel_close || connection_close) {
    if (connection_close) {
      for (auto& [id, other] : channels_) {
        FailCalls(other, frame, from_client, out);
        FlushMessages(other, Settlement::kChannelClosed, out);
      }
    } else {
      FailCalls(ch, frame, from_client, out);
      FlushMessages(ch, Settlement::kChannelClosed, out);
    }
    StartCall(channels_[frame.channel], frame, from_client, out);
    return;
  }

  if (spec->synchronous) {
    StartCall(ch, frame, from_client, out);
    return;
  }
  OnMessage(ch, frame, from_client, out);
}

void Stitcher::StartCall(Channel& ch, Frame& frame, bool from_client, std::vector<Record>* out) {
  const Method& m = frame.method;
  if (Is(m.spec, kConfirm, 10) && !ch.confirm) {
    ch.confirm = true;
    ch.next_publish_tag = 1;
  }
  if (Is(m.spec, kBasic, 110)) FlushMessages(ch, Settlement::kRecovered, out);
  if (m.Bit("no-wait") || m.Bit("nowait")) {
    if (Is(m.spec, kBasic, 20)) {
      ch.consumers[std::string(m.Str("consumer-tag"))] =
          Consumer{std::string(m.Str("queue")), m.Bit("no-ack")};
    } else if (Is(m.spec, kBasic, 30)) {
      if (auto it = ch.consumers.find(m.Str("consumer-tag")); it != ch.consumers.end()) {
        ch.consumers.erase(it);
      }
    }
    Emit(CallRecord(frame, nullptr), out);
    return;
  }
  if (ch.calls.size() >= options_.max_pending_frames) {
    ch.calls.pop_front();
    if (stats_) ++stats_->unmatched_requests;
  }
  ch.calls.push_back(Call{std::move(frame), from_client});
}

void Stitcher::OnResponse(Channel& ch, Call call, Frame& reply, std::vector<Record>* out) {
  const Method& req = call.request.method;
  const uint16_t channel = call.request.channel;

  if (Is(req.spec, kBasic, 70)) {  // basic.get -> get-ok | get-empty
    Record r;
    r.type = RecordType::kGet;
    r.method = req.Name();
    r.reply = reply.method.Name();
    r.answered = true;
    r.queue = std::string(req.Str("queue"));
    if (Is(reply.method.spec, kBasic, 72)) {
      r.channel = channel;
      r.get_empty = true;
      r.start = call.request.first;
      r.end = reply.last;
      Emit(std::move(r), out);
      return;
    }
    FillMessage(r, reply);
    r.start = call.request.first;
    if (req.Bit("no-ack")) {
      r.settlement = Settlement::kAutoAck;
      Emit(std::move(r), out);
    } else {
      const uint64_t tag = r.delivery_tag;
      if (started_.size() < options_.max_pending_frames) started_.push_back(r.start);
      ch.unsettled[tag] = std::move(r);
      Cap(ch.unsettled, out);
    }
    return;
  }

  if (Is(req.spec, kBasic, 20)) {  // consume -> consume-ok: the consumer tag may be the broker's
    std::string tag(reply.method.Str("consumer-tag"));
    if (tag.empty()) tag = std::string(req.Str("consumer-tag"));
    ch.consumers[tag] = Consumer{std::string(req.Str("queue")), req.Bit("no-ack")};
  } else if (Is(req.spec, kBasic, 30)) {
    if (auto it = ch.consumers.find(req.Str("consumer-tag")); it != ch.consumers.end()) {
      ch.consumers.erase(it);
    }
  }

  Emit(CallRecord(call.request, &reply), out);
  if (Is(req.spec, kChannel, 40)) {
    channels_.erase(channel);  // `ch` is gone from here on
  } else if (Is(req.spec, kConnection, 50)) {
    channels_.clear();
  }
}

void Stitcher::FailCalls(Channel& ch, const Frame& close, bool from_client,
                         std::vector<Record>* out) {
  for (Call& call : ch.calls) {
    if (call.from_client == from_client) {
      if (stats_) ++stats_->unmatched_requests;
      continue;
    }
    Record r = CallRecord(call.request, nullptr);
    if (Is(call.request.method.spec, kBasic, 70)) {
      r.type = RecordType::kGet;
      r.queue = std::string(call.request.method.Str("queue"));
    }
    r.reply = close.method.Name();
    r.answered = true;
    r.reply_code = static_cast<uint16_t>(close.method.Int("reply-code"));
    r.reply_text = std::string(close.method.Str("reply-text"));
    r.error = true;
    r.end = close.last;
    Emit(std::move(r), out);
  }
  ch.calls.clear();
}

void Stitcher::FlushMessages(Channel& ch, Settlement settlement, std::vector<Record>* out) {
  for (auto& [tag, r] : ch.unsettled) {
    r.settlement = settlement;
    Emit(std::move(r), out);
  }
  ch.unsettled.clear();
  for (auto& [tag, r] : ch.unconfirmed) {
    r.confirm = ConfirmOutcome::kUnsettled;
    Emit(std::move(r), out);
  }
  ch.unconfirmed.clear();
}

void Stitcher::OnMessage(Channel& ch, Frame& frame, bool from_client, std::vector<Record>* out) {
  const MethodSpec* spec = frame.method.spec;
  if (spec->class_id != kBasic) {
    if (IsReply(*spec) && stats_) ++stats_->unmatched_responses;
    return;
  }
  switch (spec->method_id) {
    case 40: {  // publish
      Record r;
      r.type = RecordType::kPublish;
      r.method = spec->name;
      r.mandatory = frame.method.Bit("mandatory");
      r.start = frame.first;
      FillMessage(r, frame);
      if (ch.confirm) {
        r.confirm = ConfirmOutcome::kUnsettled;
        ch.unconfirmed[ch.next_publish_tag++] = std::move(r);
        Cap(ch.unconfirmed, out);
      } else {
        Emit(std::move(r), out);
      }
      return;
    }
    case 60:    // deliver
    case 71:    // get-ok without its basic.get (picked up mid-stream)
    case 72: {  // get-empty without its basic.get
      Record r;
      r.type = spec->method_id == 60 ? RecordType::kDeliver : RecordType::kGet;
      r.method = spec->name;
      r.start = frame.first;
      if (spec->method_id == 72) {
        r.channel = frame.channel;
        r.get_empty = true;
        r.reply = spec->name;
        r.end = frame.last;
        if (stats_) ++stats_->unmatched_responses;
        Emit(std::move(r), out);
        return;
      }
      FillMessage(r, frame);
      bool no_ack = false;
      if (spec->method_id == 60) {
        if (auto it = ch.consumers.find(r.consumer_tag); it != ch.consumers.end()) {
          r.queue = it->second.queue;
          no_ack = it->second.no_ack;
        }
      } else if (stats_) {
        ++stats_->unmatched_responses;
      }
      if (no_ack) {
        r.settlement = Settlement::kAutoAck;
        Emit(std::move(r), out);
      } else {
        const uint64_t tag = r.delivery_tag;
        if (auto old = ch.unsettled.find(tag); old != ch.unsettled.end()) {
          Emit(std::move(old->second), out);  // a reused tag: the old one was never settled
          ch.unsettled.erase(old);
        }
        if (started_.size() < options_.max_pending_frames) started_.push_back(r.start);
        ch.unsettled[tag] = std::move(r);
        Cap(ch.unsettled, out);
      }
      return;
    }
    case 50: {  // return: the oldest unconfirmed publish to the same place
      const std::string_view exchange = frame.method.Str("exchange");
      const std::string_view key = frame.method.Str("routing-key");
      for (auto& [tag, r] : ch.unconfirmed) {
        if (!r.returned && r.exchange == exchange && r.routing_key == key) {
          r.returned = true;
          r.reply_code = static_cast<uint16_t>(frame.method.Int("reply-code"));
          r.reply_text = std::string(frame.method.Str("reply-text"));
          break;
        }
      }
      return;
    }
    case 80:  // ack
      if (from_client)
        Settle(ch, frame, Settlement::kAck, out);
      else
        Confirm(ch, frame, true, out);
      return;
    case 120:  // nack
      if (from_client)
        Settle(ch, frame, Settlement::kNack, out);
      else
        Confirm(ch, frame, false, out);
      return;
    case 90:  // reject
      Settle(ch, frame, Settlement::kReject, out);
      return;
    case 100:  // recover-async
      FlushMessages(ch, Settlement::kRecovered, out);
      return;
    default:
      if (IsReply(*spec) && stats_) ++stats_->unmatched_responses;
      return;
  }
}

void Stitcher::Settle(Channel& ch, const Frame& frame, Settlement settlement,
                      std::vector<Record>* out) {
  const uint64_t tag = static_cast<uint64_t>(frame.method.Int("delivery-tag"));
  const bool multiple = frame.method.Bit("multiple");
  const bool requeue = frame.method.Bit("requeue");
  auto settle = [&](Record& r) {
    r.settlement = settlement;
    r.requeue = requeue;
    r.settled_multiple = multiple;
    r.end = frame.last;
    Emit(std::move(r), out);
  };
  if (multiple) {
    auto it = ch.unsettled.begin();
    while (it != ch.unsettled.end() && (tag == 0 || it->first <= tag)) {
      settle(it->second);
      it = ch.unsettled.erase(it);
    }
    return;
  }
  if (auto it = ch.unsettled.find(tag); it != ch.unsettled.end()) {
    settle(it->second);
    ch.unsettled.erase(it);
  }
}

void Stitcher::Confirm(Channel& ch, const Frame& frame, bool ack, std::vector<Record>* out) {
  const uint64_t tag = static_cast<uint64_t>(frame.method.Int("delivery-tag"));
  const bool multiple = frame.method.Bit("multiple");
  auto confirm = [&](Record& r) {
    r.confirm = ack ? ConfirmOutcome::kAck : ConfirmOutcome::kNack;
    if (!ack) r.error = true;
    r.settled_multiple = multiple;
    r.end = frame.last;
    Emit(std::move(r), out);
  };
  if (multiple) {
    auto it = ch.unconfirmed.begin();
    while (it != ch.unconfirmed.end() && (tag == 0 || it->first <= tag)) {
      confirm(it->second);
      it = ch.unconfirmed.erase(it);
    }
    return;
  }
  if (auto it = ch.unconfirmed.find(tag); it != ch.unconfirmed.end()) {
    confirm(it->second);
    ch.unconfirmed.erase(it);
  }
}

void Stitcher::Expire(uint64_t now_ns, std::vector<Record>* out) {
  const uint64_t timeout = options_.request_timeout_ns;
  auto old = [&](const ChunkMeta& m) { return m.first_ts_ns + timeout < now_ns; };
  for (auto& [id, ch] : channels_) {
    while (!ch.calls.empty() && old(ch.calls.front().request.first)) {
      ch.calls.pop_front();
      if (stats_) ++stats_->unmatched_requests;
    }
    for (auto it = ch.unsettled.begin(); it != ch.unsettled.end();) {
      if (!old(it->second.start)) {
        ++it;
        continue;
      }
      Emit(std::move(it->second), out);
      it = ch.unsettled.erase(it);
    }
    for (auto it = ch.unconfirmed.begin(); it != ch.unconfirmed.end();) {
      if (!old(it->second.start)) {
        ++it;
        continue;
      }
      Emit(std::move(it->second), out);
      it = ch.unconfirmed.erase(it);
    }
  }
}

void Stitcher::Flush(std::vector<Record>* out) {
  for (auto& [id, ch] : channels_) {
    for (const Call& call : ch.calls) {
      // A close whose close-ok never came is normal: the peer may just drop the TCP connection.
      const MethodSpec* spec = call.request.method.spec;
      if (stats_ && !Is(spec, kConnection, 50) && !Is(spec, kChannel, 40)) {
        ++stats_->unmatched_requests;
      }
    }
    ch.calls.clear();
    FlushMessages(ch, Settlement::kChannelClosed, out);
  }
  channels_.clear();
}

}  // namespace wirespan::decoders::amqp
