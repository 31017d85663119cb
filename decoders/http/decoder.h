// HTTP/1.x: detection and the per-connection decoder (see decoders/common/README.md).
#pragma once

#include <memory>
#include <string_view>

#include "decoders/registry.h"

namespace wirespan::decoders::http {

ProtocolSpec Spec();

// A request line ("GET /x HTTP/1.1", extension methods too, any request-target form) or a status
// line ("HTTP/1.1 200"). Redis inline commands ("GET key"), the HTTP/2 preface and binary
// protocols are not claimed.
Detection Detect(std::string_view head, bool stream_start);

std::unique_ptr<ConnectionDecoder> CreateDecoder(Role role, const DecoderOptions& options,
                                                 DecoderStats* stats);

}  // namespace wirespan::decoders::http
