#include "decoders/http/decoder.h"

#include <deque>
#include <vector>

#include "decoders/common/frame_loop.h"
#include "decoders/http/matcher.h"
#include "decoders/http/parse.h"
#include "decoders/http/spans.h"

namespace wirespan::decoders::http {
namespace {

class HttpDecoder : public ConnectionDecoder {
 public:
  HttpDecoder(Role role, const DecoderOptions& options, DecoderStats* stats)
      // A role still unknown is taken as client (the agent normally settles it from detection).
      : role_(role == Role::kServer ? Role::kServer : Role::kClient),
        options_(options),
        stats_(stats != nullptr ? stats : &own_stats_),
        requests_parser_(MessageKind::kRequest, options_, &state_, stats_),
        responses_parser_(MessageKind::kResponse, options_, &state_, stats_) {}

  Protocol protocol() const override { return Protocol::kHttp; }

  void OnData(Direction dir, DataStream& stream) override {
    if (state_.switched) {
      // After 101 Switching Protocols or a CONNECT tunnel the bytes are not HTTP any more.
      if (!stream.empty()) {
        stream.DiscardReadable();
        ++stats_->ignored_frames;
      }
      return;
    }
    // Requests flow from the client: egress when the traced process is the client.
    const Direction request_dir = role_ == Role::kServer ? Direction::kIngress : Direction::kEgress;
    if (dir == request_dir) {
      ParseFrames(requests_parser_, stream, requests_, options_, *stats_);
    } else {
      ParseFrames(responses_parser_, stream, responses_, options_, *stats_);
    }
  }

  void Emit(const ConnectionInfo& conn, model::SpanSink& sink, uint64_t now_ns,
            bool closed) override {
    if (closed) {
      // A response delimited by the connection's close is complete now.
      Message last;
      if (responses_parser_.FinishOnClose(&last)) {
        ++stats_->frames;
        responses_.push_back(std::move(last));
      }
    }
    // A server is now serving these requests: trace building needs to know before they end.
    for (const ChunkMeta& first : state_.started) {
      if (role_ != Role::kServer) break;
      sink.OnSpanStart(model::SpanStart{conn.tgid, first.tid, conn.conn_id,
                                        conn.ToUnixNanos(first.first_ts_ns),
                                        model::SpanKind::kServer});
    }
    state_.started.clear();
    records_.clear();
    MatchMessages(requests_, responses_, now_ns, closed, options_, *stats_, &records_);
    for (const Record& record : records_) {
      sink.OnSpan(ToSpan(record, conn, role_));
      ++stats_->spans;
    }
  }

 private:
  Role role_;
  DecoderOptions options_;
  DecoderStats own_stats_;
  DecoderStats* stats_;
  ConnectionState state_;
  Parser requests_parser_;
  Parser responses_parser_;
  std::deque<Message> requests_;
  std::deque<Message> responses_;
  std::vector<Record> records_;
};

}  // namespace

Detection Detect(std::string_view head, bool /*stream_start*/) {
  Detection d;
  d.protocol = Protocol::kHttp;
  if (head.empty()) return Detection{};
  if (head.front() == 'H' && std::string_view("HTTP/1.").starts_with(head.substr(0, 7))) {
    d.kind = MessageKind::kResponse;
    switch (CheckStartLine(head, MessageKind::kResponse)) {
      case StartLineCheck::kValid:
        d.confidence = 100;
        break;
      // "HTTP/1.1 2": too specific to be anything else.
      case StartLineCheck::kPlausible:
        d.confidence = head.size() >= 10 ? 90 : 20;
        break;
      case StartLineCheck::kInvalid:
        return Detection{};
    }
    return d;
  }
  d.kind = MessageKind::kRequest;
  switch (CheckStartLine(head, MessageKind::kRequest)) {
    case StartLineCheck::kValid:
      d.confidence = 100;  // a whole request line, extension methods included
      return d;
    case StartLineCheck::kInvalid:
      return Detection{};
    case StartLineCheck::kPlausible:
      break;
  }
  // The line is not complete: trust a registered method followed by a target's first byte.
  if (const size_t len = KnownMethodPrefix(head); len > 0 && head.size() > len + 1) {
    const char t = head[len + 1];
    const std::string_view method = head.substr(0, len);
    if (t == '/' || (t == '*' && method == "OPTIONS") || (method == "CONNECT" && t != ' ') ||
        head.substr(len + 1).starts_with("http")) {
      d.confidence = 90;
      return d;
    }
    return Detection{};
  }
  // Too short to tell: a little confidence so the agent retries with more bytes.
  for (std::string_view m : {"GET ", "POST ", "PUT ", "DELETE ", "HEAD ", "OPTIONS ", "PATCH "}) {
    if (head.size() < m.size() && m.starts_with(head)) {
      d.confidence = 10;
      return d;
    }
  }
  return Detection{};
}

std::unique_ptr<ConnectionDecoder> CreateDecoder(Role role, const DecoderOptions& options,
                                                 DecoderStats* stats) {
  return std::make_unique<HttpDecoder>(role, options, stats);
}

ProtocolSpec Spec() { return ProtocolSpec{Protocol::kHttp, &Detect, &CreateDecoder}; }

}  // namespace wirespan::decoders::http
