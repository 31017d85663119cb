// Pairs HTTP/1.x requests with responses.
//
// HTTP/1.1 answers requests in order (pipelining included), and the response parser already
// knows which request each response answers: it takes the request numbers from the FIFO the
// request parser fills (ConnectionState). Pairing is therefore by request number, which stays
// right when a message is lost to a gap or a parse error on either side.
#pragma once

#include <deque>
#include <vector>

#include "decoders/common/types.h"
#include "decoders/http/types.h"

namespace wirespan::decoders::http {

// Moves matched pairs from `requests` and `responses` into `out`, oldest first, and drops (and
// counts) what can never match: responses to no known request (a connection first seen
// mid-stream, a lost request), requests whose response was skipped or is older than
// options.request_timeout_ns at `now_ns`, and everything still unpaired when `closed`.
void MatchMessages(std::deque<Message>& requests, std::deque<Message>& responses, uint64_t now_ns,
                   bool closed, const DecoderOptions& options, DecoderStats& stats,
                   std::vector<Record>* out);

}  // namespace wirespan::decoders::http
