// Pairs AMQP 0-9-1 frames into records, per channel:
//   * synchronous methods with their replies (either peer may ask; a channel.close or
//     connection.close from the broker fails what was pending);
//   * publishes, ended at the body's last byte or, after confirm.select, at the broker's
//     basic.ack / basic.nack (delivery tags count publishes from 1, `multiple` settles all up to
//     the tag);
//   * deliveries and basic.get results, ended at their settlement by the client (basic.ack /
//     nack / reject by delivery tag, `multiple` honoured) or at the body's last byte for no-ack
//     consumers and gets.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "decoders/amqp/types.h"
#include "decoders/common/types.h"

namespace wirespan::decoders::amqp {

class Stitcher {
 public:
  Stitcher(const DecoderOptions& options, DecoderStats* stats) : options_(options), stats_(stats) {}

  // Feeds one parsed frame; `from_client` says which peer sent it. Finished records are appended.
  void Add(Frame&& frame, bool from_client, std::vector<Record>* out);
  // Gives up on what waited longer than the request timeout (source clock).
  void Expire(uint64_t now_ns, std::vector<Record>* out);
  // The connection closed: everything pending is finished now.
  void Flush(std::vector<Record>* out);

  // First bytes of messages now waiting for the client's settlement: the consumer is processing
  // them, so trace building announces them as started consumer spans. Cleared by the caller.
  std::vector<ChunkMeta>& started() { return started_; }

  // For tests and the decoder.
  size_t pending_calls() const;
  size_t pending_messages() const;

 private:
  struct Call {
    Frame request;
    bool from_client = true;
  };
  struct Consumer {
    std::string queue;
    bool no_ack = false;
  };
  struct Channel {
    std::deque<Call> calls;
    bool confirm = false;
    uint64_t next_publish_tag = 1;
    std::map<uint64_t, Record> unconfirmed;                  // publish sequence number -> publish
    std::map<uint64_t, Record> unsettled;                    // delivery tag -> delivery or get-ok
    std::map<std::string, Consumer, std::less<>> consumers;  // consumer tag -> consumer
  };

  void OnResponse(Channel& ch, Call call, Frame& reply, std::vector<Record>* out);
  void OnMessage(Channel& ch, Frame& frame, bool from_client, std::vector<Record>* out);
  void StartCall(Channel& ch, Frame& frame, bool from_client, std::vector<Record>* out);
  void FailCalls(Channel& ch, const Frame& close, bool from_client, std::vector<Record>* out);
  void FlushMessages(Channel& ch, Settlement settlement, std::vector<Record>* out);
  void Settle(Channel& ch, const Frame& frame, Settlement settlement, std::vector<Record>* out);
  void Confirm(Channel& ch, const Frame& frame, bool ack, std::vector<Record>* out);
  Record CallRecord(const Frame& request, const Frame* reply) const;
  void Emit(Record&& record, std::vector<Record>* out);
  template <typename Map>
  void Cap(Map& map, std::vector<Record>* out);

  const DecoderOptions& options_;
  DecoderStats* stats_;
  std::map<uint16_t, Channel> channels_;
  std::vector<ChunkMeta> started_;
};

}  // namespace wirespan::decoders::amqp
