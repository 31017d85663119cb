#include "decoders/http/matcher.h"

namespace wirespan::decoders::http {
namespace {

bool TimedOut(const Message& m, uint64_t now_ns, const DecoderOptions& options) {
  return now_ns > m.last_meta.last_ts_ns &&
         now_ns - m.last_meta.last_ts_ns > options.request_timeout_ns;
}

}  // namespace

void MatchMessages(std::deque<Message>& requests, std::deque<Message>& responses, uint64_t now_ns,
                   bool closed, const DecoderOptions& options, DecoderStats& stats,
                   std::vector<Record>* out) {
  while (!responses.empty()) {
    Message& resp = responses.front();
    if (resp.request_seq == 0) {  // no request was seen for it
      ++stats.unmatched_responses;
      responses.pop_front();
      continue;
    }
    // Requests before the one answered never got (a parsed) response: responses come in order.
    while (!requests.empty() && requests.front().seq < resp.request_seq) {
      ++stats.unmatched_requests;
      requests.pop_front();
    }
    if (requests.empty()) {
      // Its request is still being parsed (e.g. an early 413 while the upload goes on) unless
      // nothing more can come.
      if (closed || TimedOut(resp, now_ns, options)) {
        ++stats.unmatched_responses;
        responses.pop_front();
        continue;
      }
      break;
    }
    if (requests.front().seq != resp.request_seq) {  // its request was lost (parse error, cap)
      ++stats.unmatched_responses;
      responses.pop_front();
      continue;
    }
    out->push_back(Record{std::move(requests.front()), std::move(resp)});
    requests.pop_front();
    responses.pop_front();
  }
  // Unanswered requests: given up after the timeout, or at close.
  while (!requests.empty() && (closed || TimedOut(requests.front(), now_ns, options))) {
    ++stats.unmatched_requests;
    requests.pop_front();
  }
}

}  // namespace wirespan::decoders::http
