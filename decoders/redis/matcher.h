// Pairs Redis commands with their replies, in order, and tells server pushes apart from replies.
//
//  * Pipelines: replies come in command order, so N commands in flight give N records.
//  * Pub/sub: RESP3 `>` pushes and, in RESP2 subscribed mode, "message"/"pmessage"/"smessage"
//    arrays are not replies: they become push records (consumer spans). (P|S)SUBSCRIBE with N
//    channels is answered by N confirmations; UNSUBSCRIBE without arguments by one per channel.
//  * Transactions: MULTI, then each command answered +QUEUED is held until EXEC (its result is
//    the matching element of the EXEC array) or DISCARD; a null EXEC reply means WATCH aborted.
//  * SELECT (and RESET) change the database index reported on later records.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "decoders/common/types.h"
#include "decoders/redis/types.h"

namespace wirespan::decoders::redis {

enum class RecordKind : uint8_t { kCommand, kPush };
enum class TxOutcome : uint8_t { kNone, kExec, kDiscard, kAborted };

struct Record {
  RecordKind kind = RecordKind::kCommand;
  Message request;  // the command (kCommand)
  Element reply;    // the reply's top-level value, or the EXEC element of a queued command
  uint64_t reply_elements = 0;
  bool has_reply = false;
  ChunkMeta start;           // first byte of the command (or of the push)
  ChunkMeta end;             // last byte of the reply (or of the push)
  int64_t db = 0;            // database index in effect
  bool transaction = false;  // queued inside MULTI
  TxOutcome outcome = TxOutcome::kNone;
  uint64_t batch_size = 0;     // EXEC: commands it ran
  uint64_t confirmations = 0;  // (un)subscribe confirmations received
  // Push records (pub/sub messages).
  std::string channel;
  std::string pattern;    // pmessage: the subscribed pattern
  std::string push_kind;  // "message", "pmessage", "smessage"
  uint64_t payload_bytes = 0;
};

class Matcher {
 public:
  // Consumes what can be paired from the two queues and appends records. `closed` flushes what
  // can never be answered; `now_ns` (source clock) ages requests for options.request_timeout_ns.
  void Match(std::deque<Message>& requests, std::deque<Message>& responses, uint64_t now_ns,
             bool closed, const DecoderOptions& options, DecoderStats& stats,
             std::vector<Record>* out);
  // Forgets the order after data was lost in either direction: pending frames are dropped.
  void Desync(std::deque<Message>& requests, std::deque<Message>& responses, DecoderStats& stats);

  int64_t db() const { return db_; }
  bool in_transaction() const { return in_multi_; }
  bool subscribed() const { return subscribed_; }

 private:
  enum class PushClass : uint8_t { kReply, kMessage, kOtherPush };
  PushClass Classify(const Message& response, bool no_requests) const;
  void FinishTransaction(const Message& reply, const std::string& op, std::vector<Record>* out);
  void ApplyState(const std::string& op, const Message& request, const Message& reply);

  int64_t db_ = 0;
  bool subscribed_ = false;  // RESP2 subscribed mode (pushed arrays are messages)
  bool in_multi_ = false;
  std::vector<Record> queued_;
  uint64_t confirmations_ = 0;  // for the (un)subscribe at the head of the queue
  Record partial_;              // that (un)subscribe's record in progress
};

}  // namespace wirespan::decoders::redis
