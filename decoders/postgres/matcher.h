// Pairs frontend requests with backend responses, per connection.
//
// State: startup parameters (database), the prepared-statement cache (name -> sanitized SQL), the
// portal cache (portal -> statement), and the queue of requests the server has yet to answer, in
// order. Backend messages answer the head of the queue: ParseComplete a Parse, BindComplete a
// Bind, CommandComplete an Execute (or the next statement of a simple Query), ReadyForQuery a Sync
// or Query. An ErrorResponse fails the first Execute at or after the failing message and makes
// the server skip everything up to the next Sync: those Executes end, marked skipped, at the
// ReadyForQuery that answers the Sync.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "decoders/common/types.h"
#include "decoders/postgres/types.h"

namespace wirespan::decoders::postgres {

struct MatcherLimits {
  size_t max_statements = 4096;  // cached prepared statements per connection
  size_t max_portals = 256;      // cached named portals per connection
  // A response seen before any request it could answer waits this long for the request to show
  // up (the capture may deliver directions slightly out of order) before it is counted unmatched.
  uint64_t reorder_window_ns = 100'000'000;
};

// Process-wide counters of protocol events that are not spans (for metrics and tests).
struct ProtocolCounters {
  uint64_t startups = 0;
  uint64_t encrypted_connections = 0;  // SSL/GSSENC accepted: left alone
  uint64_t encryption_refused = 0;
  uint64_t cancel_requests = 0;
  uint64_t unknown_statements = 0;  // Bind to a statement prepared before we saw it
  uint64_t truncated_queries = 0;
  uint64_t skipped_statements = 0;  // pipeline statements not run after an error
  uint64_t notifications = 0;
};

class Matcher {
 public:
  Matcher(const DecoderOptions& options, DecoderStats* stats, MatcherLimits limits = {});

  // Takes frames from both deques in causal order (a request before the responses that follow
  // it in time) and appends finished records to `out`.
  void Process(std::deque<Message>& frontend, std::deque<Message>& backend, uint64_t now_ns,
               bool closed, std::vector<Record>* out);

  bool encrypted() const { return encrypted_; }
  const std::string& database() const { return database_; }
  const std::string& user() const { return user_; }
  char transaction_status() const { return tx_status_; }
  size_t cached_statements() const { return statements_.size(); }
  size_t cached_portals() const { return portals_.size(); }
  size_t pending() const { return queue_.size(); }
  const ProtocolCounters& counters() const { return counters_; }

  // Builds the cached form of a statement: sanitized (unless configured off), cut to the
  // configured size, summarized. Exposed for tests and benchmarks.
  static StatementPtr MakeStatement(std::string name, std::string_view sql, bool cut,
                                    const DecoderOptions& options);

 private:
  enum class ItemType : uint8_t {
    kStartup,
    kQuery,
    kParse,
    kBind,
    kDescribe,
    kExecute,
    kClose,
    kSync,
    kFunctionCall
  };
  struct Item {
    ItemType type;
    ChunkMeta first;
    StatementPtr statement;                // Parse, Bind, Execute
    std::vector<StatementPtr> statements;  // Query: one per statement of the string
    size_t next = 0;                       // Query: statements answered so far
    ChunkMeta next_first;                  // Query: start of the next statement
    bool errored = false;                  // Query: an error stopped the string
    bool skipped = false;                  // Execute: the server skips it (pipeline aborted)
    uint64_t rows = 0;
    bool copy = false;
    uint64_t copy_bytes = 0;
    std::string portal;
  };

  void OnFrontend(Message& m);
  void OnBackend(Message& m, std::vector<Record>* out);
  bool NeedsRequest(const Message& m) const;

  void Enqueue(Item item);
  void MarkEncrypted();
  void ApplyEffects(const StatementPtr& s);
  void CacheStatement(const std::string& name, StatementPtr s);
  StatementPtr LookupStatement(const std::string& name);
  StatementPtr UnknownStatement(const std::string& name);
  bool PopExpected(ItemType type);
  void OnCommandComplete(const Message& m, std::vector<Record>* out, bool empty, bool suspended);
  void OnError(const Message& m, std::vector<Record>* out);
  void OnReadyForQuery(const Message& m, std::vector<Record>* out);
  Record NewRecord(const StatementPtr& s, const ChunkMeta& first, const ChunkMeta& last) const;
  void Drop(const Item& item);  // an item that will never be answered

  DecoderOptions options_;
  DecoderStats* stats_;
  MatcherLimits limits_;
  ProtocolCounters counters_;

  std::string database_;
  std::string user_;
  char tx_status_ = 0;
  bool encrypted_ = false;
  std::unordered_map<std::string, StatementPtr> statements_;
  std::unordered_map<std::string, StatementPtr> portals_;
  std::deque<Item> queue_;
  bool group_open_ = false;  // extended messages seen since the last Execute/Sync
  ChunkMeta group_first_;
  bool discard_until_sync_ = false;
};

// Totals over every connection of the process (updated as connections progress).
ProtocolCounters GlobalCounters();

}  // namespace wirespan::decoders::postgres
