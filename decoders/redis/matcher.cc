#include "decoders/redis/matcher.h"

#include "decoders/redis/commands.h"

namespace wirespan::decoders::redis {
namespace {

bool IsPubSubMessageShape(const Message& m) {
  if (m.elements.empty()) return false;
  const std::string& kind = m.elements[0].text;
  size_t want = 0;
  if (IEquals(kind, "message") || IEquals(kind, "smessage")) {
    want = 3;
  } else if (IEquals(kind, "pmessage")) {
    want = 4;
  } else {
    return false;
  }
  if (m.element_count != want || m.elements.size() != want) return false;
  for (const Element& e : m.elements) {
    if (e.type != RespType::kBlobString && e.type != RespType::kSimpleString &&
        e.type != RespType::kVerbatimString) {
      return false;
    }
  }
  return true;
}

bool IsConfirmationKind(std::string_view kind) {
  return IEquals(kind, "subscribe") || IEquals(kind, "psubscribe") || IEquals(kind, "ssubscribe") ||
         IEquals(kind, "unsubscribe") || IEquals(kind, "punsubscribe") ||
         IEquals(kind, "sunsubscribe");
}

bool Expired(uint64_t ts_ns, uint64_t now_ns, const DecoderOptions& options) {
  return now_ns > ts_ns && now_ns - ts_ns > options.request_timeout_ns;
}

Record NewRecord(Message&& request, int64_t db) {
  Record r;
  r.kind = RecordKind::kCommand;
  r.start = request.first;
  r.end = request.last;
  r.db = db;
  r.request = std::move(request);
  return r;
}

void SetReply(Record& r, const Message& reply) {
  r.reply = reply.value;
  r.reply_elements = reply.element_count;
  r.has_reply = true;
  r.end = reply.last;
}

}  // namespace

Matcher::PushClass Matcher::Classify(const Message& m, bool no_requests) const {
  if (m.type() == RespType::kPush) {
    if (IsPubSubMessageShape(m)) return PushClass::kMessage;
    if (!m.elements.empty() && IsConfirmationKind(m.elements[0].text)) return PushClass::kReply;
    return PushClass::kOtherPush;  // invalidate, tracking-redir-broken, ...
  }
  if (m.type() == RespType::kArray && (subscribed_ || no_requests) && IsPubSubMessageShape(m)) {
    return PushClass::kMessage;
  }
  return PushClass::kReply;
}

void Matcher::Desync(std::deque<Message>& requests, std::deque<Message>& responses,
                     DecoderStats& stats) {
  stats.unmatched_requests += requests.size() + queued_.size() + (confirmations_ > 0 ? 1 : 0);
  // Pushed messages still identify themselves: keep them; drop replies whose command is unknown.
  std::deque<Message> kept;
  for (auto& m : responses) {
    if (Classify(m, true) == PushClass::kMessage) {
      kept.push_back(std::move(m));
    } else {
      ++stats.unmatched_responses;
    }
  }
  responses.swap(kept);
  requests.clear();
  queued_.clear();
  in_multi_ = false;
  confirmations_ = 0;
}

void Matcher::ApplyState(const std::string& op, const Message& request, const Message& reply) {
  const bool ok = reply.type() == RespType::kSimpleString &&
                  (reply.value.text == "OK" || reply.value.text == "RESET");
  if (!ok) return;
  if (op == "SELECT" && request.elements.size() >= 2) {
    int64_t db = 0;
    const std::string& text = request.elements[1].text;
    bool digits = !text.empty() && text.size() <= 9;
    for (char c : text) digits = digits && c >= '0' && c <= '9';
    if (digits) {
      db = std::stoll(text);
      db_ = db;
    }
  } else if (op == "MULTI") {
    in_multi_ = true;
    queued_.clear();
  } else if (op == "RESET") {
    db_ = 0;
    subscribed_ = false;
  }
}

void Matcher::FinishTransaction(const Message& reply, const std::string& op,
                                std::vector<Record>* out) {
  TxOutcome outcome = TxOutcome::kExec;
  if (op == "DISCARD" || op == "RESET") {
    outcome = TxOutcome::kDiscard;
  } else if (reply.value.is_null || reply.is_error() || !IsAggregate(reply.type())) {
    outcome = TxOutcome::kAborted;  // WATCH fired (null) or EXECABORT
  }
  for (size_t i = 0; i < queued_.size(); ++i) {
    Record& q = queued_[i];
    q.outcome = outcome;
    q.end = reply.last;
    q.has_reply = false;
    q.reply = Element{};
    if (outcome == TxOutcome::kExec) {
      q.has_reply = true;
      if (i < reply.elements.size()) {
        q.reply = reply.elements[i];
        q.reply_elements = reply.elements[i].size;
        // A SELECT run by EXEC changes the database for what follows.
        if (q.reply.type == RespType::kSimpleString && q.reply.text == "OK" &&
            OperationName(q.request) == "SELECT" && q.request.elements.size() >= 2) {
          const std::string& text = q.request.elements[1].text;
          bool digits = !text.empty() && text.size() <= 9;
          for (char c : text) digits = digits && c >= '0' && c <= '9';
          if (digits) db_ = std::stoll(text);
        }
      }
    }
    out->push_back(std::move(q));
  }
  queued_.clear();
  in_multi_ = false;
}

void Matcher::Match(std::deque<Message>& requests, std::deque<Message>& responses, uint64_t now_ns,
                    bool closed, const DecoderOptions& options, DecoderStats& stats,
                    std::vector<Record>* out) {
  while (!responses.empty()) {
    const PushClass pc = Classify(responses.front(), requests.empty());
    if (pc == PushClass::kMessage) {
      Message m = std::move(responses.front());
      responses.pop_front();
      Record r;
      r.kind = RecordKind::kPush;
      r.start = m.first;
      r.end = m.last;
      r.db = db_;
      r.push_kind = m.elements[0].text;
      const bool pattern = IEquals(r.push_kind, "pmessage");
      if (pattern) r.pattern = m.elements[1].text;
      r.channel = m.elements[pattern ? 2 : 1].text;
      r.payload_bytes = m.elements[pattern ? 3 : 2].size;
      out->push_back(std::move(r));
      continue;
    }
    if (pc == PushClass::kOtherPush) {
      responses.pop_front();
      continue;
    }
    if (requests.empty()) {
      if (closed || Expired(responses.front().last.last_ts_ns, now_ns, options)) {
        ++stats.unmatched_responses;
        responses.pop_front();
        continue;
      }
      break;
    }
    Message& resp = responses.front();
    Message& req = requests.front();
    // A reply cannot be over before its command started: it answers something we never saw.
    if (resp.last.last_ts_ns != 0 && req.first.first_ts_ns != 0 &&
        resp.last.last_ts_ns < req.first.first_ts_ns) {
      ++stats.unmatched_responses;
      responses.pop_front();
      continue;
    }
    const std::string op = OperationName(req);
    const CommandSpec* spec = FindCommand(op);
    if (spec != nullptr && (spec->flags & kSubscribe) && !resp.is_error()) {
      const bool confirmation = IsAggregate(resp.type()) && resp.elements.size() >= 3 &&
                                IEquals(resp.elements[0].text, op);
      if (confirmation) {
        if (confirmations_ == 0) partial_ = NewRecord(Message(req), db_);
        ++confirmations_;
        SetReply(partial_, resp);
        int64_t count = 0;
        const std::string& count_text = resp.elements[2].text;
        bool numeric = !count_text.empty() && count_text.size() <= 12;
        for (char c : count_text) numeric = numeric && c >= '0' && c <= '9';
        if (numeric) count = std::stoll(count_text);
        if (resp.type() == RespType::kArray) subscribed_ = count > 0;
        responses.pop_front();
        const uint64_t channels = req.element_count > 0 ? req.element_count - 1 : 0;
        const bool done = channels > 0 ? confirmations_ >= channels : count == 0;
        if (done) {
          partial_.confirmations = confirmations_;
          out->push_back(std::move(partial_));
          partial_ = Record{};
          confirmations_ = 0;
          requests.pop_front();
        }
        continue;
      }
      if (confirmations_ > 0) {  // fewer confirmations than expected: the command is over
        partial_.confirmations = confirmations_;
        out->push_back(std::move(partial_));
        partial_ = Record{};
        confirmations_ = 0;
        requests.pop_front();
        continue;
      }
    }

    Message reply = std::move(resp);
    responses.pop_front();
    Record rec = NewRecord(std::move(req), db_);
    requests.pop_front();
    SetReply(rec, reply);
    const bool was_in_multi = in_multi_;
    ApplyState(op, rec.request, reply);
    rec.db = db_;
    if (was_in_multi && (op == "EXEC" || op == "DISCARD" || op == "RESET")) {
      rec.batch_size = queued_.size();
      FinishTransaction(reply, op, out);
      rec.outcome = op == "EXEC" && !reply.value.is_null && !reply.is_error()
                        ? TxOutcome::kExec
                        : (op == "EXEC" ? TxOutcome::kAborted : TxOutcome::kDiscard);
      rec.transaction = true;
    } else if (was_in_multi && op != "MULTI") {
      rec.transaction = true;
      if (reply.type() == RespType::kSimpleString && reply.value.text == "QUEUED") {
        if (queued_.size() >= options.max_pending_frames) {
          ++stats.dropped_frames;
        } else {
          queued_.push_back(std::move(rec));
        }
        continue;
      }
    }
    out->push_back(std::move(rec));
  }

  // Commands never answered.
  while (!requests.empty()) {
    const Message& req = requests.front();
    if (!closed && !Expired(req.first.first_ts_ns, now_ns, options)) break;
    if (confirmations_ > 0) {
      partial_.confirmations = confirmations_;
      out->push_back(std::move(partial_));
      partial_ = Record{};
      confirmations_ = 0;
    } else {
      ++stats.unmatched_requests;
    }
    requests.pop_front();
  }
  if (closed && !queued_.empty()) {
    stats.unmatched_requests += queued_.size();
    queued_.clear();
    in_multi_ = false;
  }
}

}  // namespace wirespan::decoders::redis
