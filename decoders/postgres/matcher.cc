#include "decoders/postgres/matcher.h"

#include <atomic>

#include "decoders/postgres/parse.h"
#include "decoders/postgres/sql.h"

namespace wirespan::decoders::postgres {
namespace {

struct AtomicCounters {
  std::atomic<uint64_t> startups{0}, encrypted_connections{0}, encryption_refused{0},
      cancel_requests{0}, unknown_statements{0}, truncated_queries{0}, skipped_statements{0},
      notifications{0};
};
AtomicCounters& Global() {
  static AtomicCounters c;
  return c;
}
#define WS_PG_COUNT(field)                                  \
  do {                                                      \
    ++counters_.field;                                      \
    Global().field.fetch_add(1, std::memory_order_relaxed); \
  } while (0)

// NUL-terminated string at `*pos` in `payload`; false if it runs past the end.
bool ReadCString(std::string_view payload, size_t* pos, std::string_view* out) {
  if (*pos > payload.size()) return false;
  const size_t end = payload.find('\0', *pos);
  if (end == std::string_view::npos) return false;
  *out = payload.substr(*pos, end - *pos);
  *pos = end + 1;
  return true;
}

bool After(const ChunkMeta& a, const ChunkMeta& b) {
  // Is a request starting at `a` later than a response ending at `b`? (0 = unknown time.)
  return a.first_ts_ns != 0 && b.last_ts_ns != 0 && a.first_ts_ns > b.last_ts_ns;
}

bool ReturnsRows(std::string_view op) {
  return op == "SELECT" || op == "FETCH" || op == "SHOW" || op == "VALUES" || op == "TABLE" ||
         op == "EXPLAIN";
}
bool AffectsRows(std::string_view op) {
  return op == "INSERT" || op == "UPDATE" || op == "DELETE" || op == "MERGE" || op == "COPY" ||
         op == "MOVE";
}

}  // namespace

ProtocolCounters GlobalCounters() {
  const AtomicCounters& g = Global();
  ProtocolCounters c;
  c.startups = g.startups.load();
  c.encrypted_connections = g.encrypted_connections.load();
  c.encryption_refused = g.encryption_refused.load();
  c.cancel_requests = g.cancel_requests.load();
  c.unknown_statements = g.unknown_statements.load();
  c.truncated_queries = g.truncated_queries.load();
  c.skipped_statements = g.skipped_statements.load();
  c.notifications = g.notifications.load();
  return c;
}

Matcher::Matcher(const DecoderOptions& options, DecoderStats* stats, MatcherLimits limits)
    : options_(options), stats_(stats), limits_(limits) {}

StatementPtr Matcher::MakeStatement(std::string name, std::string_view sql, bool cut,
                                    const DecoderOptions& options) {
  auto s = std::make_shared<Statement>();
  s->name = std::move(name);
  std::string text = options.sanitize_queries ? Sanitize(sql) : std::string(sql);
  s->text = TruncateUtf8(std::move(text), options.max_query_text_bytes, cut, &s->text_truncated);
  Summary sum = Summarize(sql);
  s->operation = std::move(sum.operation);
  s->collection = std::move(sum.collection);
  if (!sum.prepare_name.empty() && !sum.prepare_body.empty()) {
    s->prepares = sum.prepare_name;
    s->prepared = MakeStatement(sum.prepare_name, sum.prepare_body, cut, options);
  }
  s->deallocates = std::move(sum.deallocate_name);
  s->deallocates_all = sum.deallocate_all || sum.discard_all;
  return s;
}

void Matcher::CacheStatement(const std::string& name, StatementPtr s) {
  auto it = statements_.find(name);
  if (it != statements_.end()) {
    it->second = std::move(s);
    return;
  }
  if (statements_.size() >= limits_.max_statements) statements_.erase(statements_.begin());
  statements_.emplace(name, std::move(s));
}

StatementPtr Matcher::UnknownStatement(const std::string& name) {
  auto s = std::make_shared<Statement>();
  s->name = name;
  s->text_known = false;
  WS_PG_COUNT(unknown_statements);
  return s;
}

StatementPtr Matcher::LookupStatement(const std::string& name) {
  auto it = statements_.find(name);
  if (it != statements_.end()) return it->second;
  // Prepared before the agent saw the connection: remember it by name so every later execution
  // is reported the same way (and counted once).
  StatementPtr s = UnknownStatement(name);
  if (!name.empty()) CacheStatement(name, s);
  return s;
}

void Matcher::ApplyEffects(const StatementPtr& s) {
  if (!s) return;
  if (s->deallocates_all) {
    statements_.clear();
    portals_.clear();
  }
  if (!s->deallocates.empty()) statements_.erase(s->deallocates);
  if (!s->prepares.empty() && s->prepared) CacheStatement(s->prepares, s->prepared);
}

void Matcher::MarkEncrypted() {
  if (encrypted_) return;
  encrypted_ = true;
  WS_PG_COUNT(encrypted_connections);
  // SSL/GSSAPI encryption is PostgreSQL's STARTTLS: decoding stops here.
  if (stats_ != nullptr) ++stats_->protocol_switches;
  queue_.clear();
}

void Matcher::Enqueue(Item item) {
  if (queue_.size() >= options_.max_pending_frames) {
    Drop(queue_.front());
    queue_.pop_front();
    if (stats_ != nullptr) ++stats_->dropped_frames;
  }
  queue_.push_back(std::move(item));
}

void Matcher::Drop(const Item& item) {
  if (stats_ == nullptr) return;
  if (item.type == ItemType::kExecute || item.type == ItemType::kQuery) {
    ++stats_->unmatched_requests;
  }
}

void Matcher::OnFrontend(Message& m) {
  switch (m.kind) {
    case FrameKind::kStartup: {
      WS_PG_COUNT(startups);
      size_t pos = 0;
      std::string_view key, value;
      std::string database, user;
      while (ReadCString(m.payload, &pos, &key) && !key.empty() &&
             ReadCString(m.payload, &pos, &value)) {
        if (key == "database") database = std::string(value);
        if (key == "user") user = std::string(value);
      }
      user_ = user;
      database_ = database.empty() ? user : database;
      // A new session: nothing cached survives.
      statements_.clear();
      portals_.clear();
      Enqueue(Item{ItemType::kStartup, m.first});
      return;
    }
    case FrameKind::kCancelRequest:
      WS_PG_COUNT(cancel_requests);
      return;
    case FrameKind::kEncrypted:
      MarkEncrypted();
      return;
    case FrameKind::kSslRequest:
    case FrameKind::kGssEncRequest:
    case FrameKind::kEncryptionResponse:
      return;
    case FrameKind::kRegular:
      break;
  }

  const std::string_view payload = m.payload;
  const bool extended =
      m.tag == 'P' || m.tag == 'B' || m.tag == 'D' || m.tag == 'E' || m.tag == 'C';
  if (extended && !group_open_) {
    group_open_ = true;
    group_first_ = m.first;
  }
  Item item{ItemType::kSync, m.first};
  item.skipped = discard_until_sync_;
  switch (m.tag) {
    case 'Q': {
      std::string_view sql = payload;
      const size_t nul = sql.find('\0');
      bool cut = m.payload_cut;
      if (nul != std::string_view::npos)
        sql = sql.substr(0, nul);
      else
        cut = true;
      item.type = ItemType::kQuery;
      item.next_first = m.first;
      const std::vector<std::string_view> pieces = SplitStatements(sql);
      for (size_t i = 0; i < pieces.size(); ++i) {
        const bool last = i + 1 == pieces.size();
        StatementPtr s = MakeStatement("", pieces[i], cut && last, options_);
        if (s->text_truncated) WS_PG_COUNT(truncated_queries);
        ApplyEffects(s);
        item.statements.push_back(std::move(s));
      }
      // Simple Query ends any extended-protocol group and is never skipped.
      group_open_ = false;
      item.skipped = false;
      Enqueue(std::move(item));
      return;
    }
    case 'P': {
      size_t pos = 0;
      std::string_view name, sql;
      if (!ReadCString(payload, &pos, &name)) break;
      bool cut = false;
      if (!ReadCString(payload, &pos, &sql)) {
        sql = payload.substr(pos);
        cut = true;
      }
      StatementPtr s = MakeStatement(std::string(name), sql, cut || m.gap, options_);
      if (s->text_truncated) WS_PG_COUNT(truncated_queries);
      if (!item.skipped) CacheStatement(std::string(name), s);
      item.type = ItemType::kParse;
      item.statement = std::move(s);
      break;
    }
    case 'B': {
      size_t pos = 0;
      std::string_view portal, name;
      if (!ReadCString(payload, &pos, &portal) || !ReadCString(payload, &pos, &name)) break;
      StatementPtr s = LookupStatement(std::string(name));
      if (!item.skipped) {
        if (portals_.size() >= limits_.max_portals && !portals_.contains(std::string(portal))) {
          portals_.erase(portals_.begin());
        }
        portals_[std::string(portal)] = s;
      }
      item.type = ItemType::kBind;
      item.statement = std::move(s);
      item.portal = std::string(portal);
      break;
    }
    case 'D':
      item.type = ItemType::kDescribe;
      break;
    case 'E': {
      size_t pos = 0;
      std::string_view portal;
      if (!ReadCString(payload, &pos, &portal)) break;
      StatementPtr s;
      if (auto it = portals_.find(std::string(portal)); it != portals_.end()) {
        s = it->second;
      } else {
        s = UnknownStatement(std::string(portal));
      }
      if (!item.skipped) ApplyEffects(s);
      item.type = ItemType::kExecute;
      item.statement = std::move(s);
      item.portal = std::string(portal);
      item.first = group_open_ ? group_first_ : m.first;
      group_open_ = false;
      break;
    }
    case 'C': {
      if (payload.size() >= 2) {
        size_t pos = 1;
        std::string_view name;
        if (ReadCString(payload, &pos, &name)) {
          if (payload[0] == 'S')
            statements_.erase(std::string(name));
          else
            portals_.erase(std::string(name));
        }
      }
      item.type = ItemType::kClose;
      break;
    }
    case 'S':
      item.type = ItemType::kSync;
      item.skipped = false;
      discard_until_sync_ = false;
      group_open_ = false;
      Enqueue(std::move(item));
      return;
    case 'F':
      item.type = ItemType::kFunctionCall;
      Enqueue(std::move(item));
      return;
    case 'd':
    case 'c':
    case 'f':
      // COPY FROM STDIN data: counted on the statement running the COPY.
      for (Item& q : queue_) {
        if ((q.type == ItemType::kQuery || q.type == ItemType::kExecute) && q.copy) {
          q.copy_bytes += m.length;
          break;
        }
      }
      return;
    default:  // 'H' Flush, 'X' Terminate, 'p' authentication (never kept)
      return;
  }
  if (item.type == ItemType::kSync) return;  // a malformed message: nothing to expect
  if (item.skipped && item.type != ItemType::kExecute) return;  // the server ignores it
  Enqueue(std::move(item));
}

bool Matcher::NeedsRequest(const Message& m) const {
  if (m.kind != FrameKind::kRegular) return false;
  switch (m.tag) {
    case 'S':
    case 'N':
    case 'A':
    case 'K':
    case 'R':
    case 'v':
      return false;
    default:
      return true;
  }
}

Record Matcher::NewRecord(const StatementPtr& s, const ChunkMeta& first,
                          const ChunkMeta& last) const {
  Record r;
  r.statement = s;
  r.first = first;
  r.last = last;
  r.database = database_;
  if (s) r.operation = s->operation;
  return r;
}

bool Matcher::PopExpected(ItemType type) {
  for (size_t i = 0; i < queue_.size(); ++i) {
    if (queue_[i].type == type) {
      for (size_t k = 0; k < i; ++k) {
        Drop(queue_.front());
        queue_.pop_front();
      }
      queue_.pop_front();
      return true;
    }
    if (queue_[i].type == ItemType::kSync || queue_[i].type == ItemType::kQuery) break;
  }
  if (stats_ != nullptr) ++stats_->unmatched_responses;
  return false;
}

void Matcher::OnCommandComplete(const Message& m, std::vector<Record>* out, bool empty,
                                bool suspended) {
  if (queue_.empty() ||
      (queue_.front().type != ItemType::kQuery && queue_.front().type != ItemType::kExecute)) {
    // Find the Execute this completes (earlier answers may have been lost).
    bool found = false;
    for (size_t i = 0; i < queue_.size(); ++i) {
      if (queue_[i].type == ItemType::kExecute || queue_[i].type == ItemType::kQuery) {
        for (size_t k = 0; k < i; ++k) {
          Drop(queue_.front());
          queue_.pop_front();
        }
        found = true;
        break;
      }
      if (queue_[i].type == ItemType::kSync) break;
    }
    if (!found) {
      if (stats_ != nullptr) ++stats_->unmatched_responses;
      return;
    }
  }
  Item& item = queue_.front();
  std::string_view tag = m.payload;
  if (const size_t nul = tag.find('\0'); nul != std::string_view::npos) tag = tag.substr(0, nul);

  StatementPtr s;
  ChunkMeta first = item.first;
  if (item.type == ItemType::kQuery) {
    if (item.next < item.statements.size()) s = item.statements[item.next];
    first = item.next_first;
  } else {
    s = item.statement;
  }
  Record r = NewRecord(s, first, m.last);
  r.extended = item.type == ItemType::kExecute;
  r.portal = item.portal;
  r.empty_query = empty;
  r.portal_suspended = suspended;
  r.copy = item.copy;
  r.copy_bytes = item.copy_bytes;
  const std::string_view tag_op = TagOperation(tag);
  if (!tag_op.empty()) r.operation = std::string(tag_op);
  uint64_t tag_rows = 0;
  const bool has_tag_rows = TagRows(tag, &tag_rows);
  if (item.rows > 0 || ReturnsRows(r.operation) || suspended) {
    r.returned_rows = item.rows;
    r.has_returned_rows = true;
  }
  if (has_tag_rows && AffectsRows(r.operation)) {
    r.affected_rows = tag_rows;
    r.has_affected_rows = true;
  }
  out->push_back(std::move(r));

  if (item.type == ItemType::kQuery) {
    ++item.next;
    item.next_first = m.last;
    item.rows = 0;
    item.copy = false;
    item.copy_bytes = 0;
  } else {
    queue_.pop_front();
  }
}

void Matcher::OnError(const Message& m, std::vector<Record>* out) {
  // Fields: a type byte and a NUL-terminated value each, then a final NUL. Only the severity and
  // SQLSTATE are read: messages and details may quote data.
  std::string sqlstate, severity;
  size_t pos = 0;
  const std::string_view p = m.payload;
  while (pos < p.size() && p[pos] != '\0') {
    const char field = p[pos++];
    std::string_view value;
    if (!ReadCString(p, &pos, &value)) break;
    if (field == 'C') sqlstate = std::string(value.substr(0, 5));
    if (field == 'V' || (field == 'S' && severity.empty())) severity = std::string(value);
  }
  for (char& c : sqlstate) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
    if (!ok) c = '?';
  }
  if (severity.size() > 16) severity.resize(16);
  if (sqlstate.empty()) sqlstate = "XX000";

  if (queue_.empty()) return;  // unsolicited (FATAL shutdown, ...): nothing to fail
  Item& head = queue_.front();
  if (head.type == ItemType::kStartup) {
    queue_.pop_front();  // failed authentication or startup: the connection ends
    return;
  }
  if (head.type == ItemType::kQuery) {
    StatementPtr s = head.next < head.statements.size() ? head.statements[head.next] : nullptr;
    Record r = NewRecord(s, head.next_first, m.last);
    r.sqlstate = sqlstate;
    r.severity = severity;
    r.copy = head.copy;
    r.copy_bytes = head.copy_bytes;
    out->push_back(std::move(r));
    ++head.next;
    head.errored = true;
    head.next_first = m.last;
    return;
  }
  if (head.type == ItemType::kFunctionCall || head.type == ItemType::kSync) return;

  // Extended protocol: the error belongs to the first Execute at or after the failing message
  // (or to the failing Parse when nothing is executed); the server then skips to the next Sync.
  size_t sync = queue_.size();
  for (size_t i = 0; i < queue_.size(); ++i) {
    if (queue_[i].type == ItemType::kSync || queue_[i].type == ItemType::kQuery) {
      sync = i;
      break;
    }
  }
  size_t exec = sync;
  for (size_t i = 0; i < sync; ++i) {
    if (queue_[i].type == ItemType::kExecute) {
      exec = i;
      break;
    }
  }
  if (exec < sync) {
    Item& e = queue_[exec];
    Record r = NewRecord(e.statement, e.first, m.last);
    r.extended = true;
    r.portal = e.portal;
    r.sqlstate = sqlstate;
    r.severity = severity;
    r.copy = e.copy;
    r.copy_bytes = e.copy_bytes;
    out->push_back(std::move(r));
  } else if (head.type == ItemType::kParse) {
    Record r = NewRecord(head.statement, head.first, m.last);
    r.extended = true;
    r.sqlstate = sqlstate;
    r.severity = severity;
    out->push_back(std::move(r));
  }
  // Keep only the Executes the server will skip; they end at the ReadyForQuery.
  std::deque<Item> rest;
  for (size_t i = 0; i < queue_.size(); ++i) {
    if (i < sync) {
      if (i > exec && queue_[i].type == ItemType::kExecute) {
        queue_[i].skipped = true;
        rest.push_back(std::move(queue_[i]));
      }
      continue;
    }
    rest.push_back(std::move(queue_[i]));
  }
  queue_ = std::move(rest);
  // No Sync sent yet: whatever the client sends until it is skipped too.
  bool has_sync = false;
  for (const Item& it : queue_) has_sync = has_sync || it.type == ItemType::kSync;
  if (!has_sync) discard_until_sync_ = true;
}

void Matcher::OnReadyForQuery(const Message& m, std::vector<Record>* out) {
  if (!m.payload.empty()) tx_status_ = m.payload[0];
  auto end_skipped = [&](Item& item) {
    if (item.type == ItemType::kExecute && item.skipped) {
      Record r = NewRecord(item.statement, item.first, m.last);
      r.extended = true;
      r.portal = item.portal;
      r.skipped = true;
      WS_PG_COUNT(skipped_statements);
      out->push_back(std::move(r));
    } else {
      Drop(item);
    }
  };
  while (!queue_.empty()) {
    Item& head = queue_.front();
    if (head.type == ItemType::kStartup || head.type == ItemType::kSync ||
        head.type == ItemType::kFunctionCall) {
      queue_.pop_front();
      break;
    }
    if (head.type == ItemType::kQuery) {
      // Statements of the string never answered: skipped after an error.
      for (size_t i = head.next; i < head.statements.size(); ++i) {
        if (!head.errored) {
          if (stats_ != nullptr) ++stats_->unmatched_requests;
          continue;
        }
        Record r = NewRecord(head.statements[i], head.next_first, m.last);
        r.skipped = true;
        WS_PG_COUNT(skipped_statements);
        out->push_back(std::move(r));
      }
      queue_.pop_front();
      break;
    }
    end_skipped(head);
    queue_.pop_front();
  }
  discard_until_sync_ = false;
  if (tx_status_ == 'I') {
    // Outside a transaction block only holdable cursors survive; forget portals.
    portals_.clear();
  }
}

void Matcher::OnBackend(Message& m, std::vector<Record>* out) {
  switch (m.kind) {
    case FrameKind::kEncryptionResponse:
      if (m.tag == 'S' || m.tag == 'G') {
        MarkEncrypted();
      } else {
        WS_PG_COUNT(encryption_refused);
      }
      return;
    case FrameKind::kEncrypted:
      MarkEncrypted();
      return;
    case FrameKind::kRegular:
      break;
    default:
      return;
  }
  switch (m.tag) {
    case 'Z':
      OnReadyForQuery(m, out);
      return;
    case '1':
      PopExpected(ItemType::kParse);
      return;
    case '2':
      PopExpected(ItemType::kBind);
      return;
    case '3':
      PopExpected(ItemType::kClose);
      return;
    case 'n':
      PopExpected(ItemType::kDescribe);
      return;
    case 'T':
      if (!queue_.empty() && queue_.front().type == ItemType::kDescribe) queue_.pop_front();
      return;
    case 't':
      return;  // ParameterDescription: the RowDescription/NoData that follows pops
    case 'D':
      if (!queue_.empty() &&
          (queue_.front().type == ItemType::kExecute || queue_.front().type == ItemType::kQuery)) {
        ++queue_.front().rows;
      } else if (stats_ != nullptr) {
        ++stats_->unmatched_responses;
      }
      return;
    case 'C':
      OnCommandComplete(m, out, false, false);
      return;
    case 'I':
      OnCommandComplete(m, out, true, false);
      return;
    case 's':
      OnCommandComplete(m, out, false, true);
      return;
    case 'E':
      OnError(m, out);
      return;
    case 'G':
    case 'H':
    case 'W':
      if (!queue_.empty()) queue_.front().copy = true;
      return;
    case 'd':
      if (!queue_.empty()) queue_.front().copy_bytes += m.length;
      return;
    case 'A':
      WS_PG_COUNT(notifications);
      return;
    default:  // 'S' ParameterStatus, 'K' BackendKeyData, 'R' authentication, 'N' notices, 'c', 'V',
              // 'v'
      return;
  }
}

void Matcher::Process(std::deque<Message>& frontend, std::deque<Message>& backend, uint64_t now_ns,
                      bool closed, std::vector<Record>* out) {
  while (!frontend.empty() || !backend.empty()) {
    if (!frontend.empty() &&
        (backend.empty() || !After(frontend.front().first, backend.front().last))) {
      OnFrontend(frontend.front());
      frontend.pop_front();
      continue;
    }
    Message& b = backend.front();
    if (frontend.empty() && queue_.empty() && NeedsRequest(b) && !closed &&
        b.last.last_ts_ns != 0 && now_ns < b.last.last_ts_ns + limits_.reorder_window_ns) {
      break;  // its request may still be on its way
    }
    OnBackend(b, out);
    backend.pop_front();
  }
  // Requests the server never answered.
  if (!queue_.empty()) {
    const ChunkMeta& oldest = queue_.front().first;
    const bool expired =
        oldest.first_ts_ns != 0 && now_ns > oldest.first_ts_ns + options_.request_timeout_ns;
    if (closed || expired) {
      for (const Item& item : queue_) Drop(item);
      queue_.clear();
      discard_until_sync_ = false;
      group_open_ = false;
    }
  }
}

}  // namespace wirespan::decoders::postgres
