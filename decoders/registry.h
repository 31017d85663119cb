// The protocols wirespan decodes: detection from first bytes, and a factory per connection.
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "decoders/common/connection_decoder.h"

namespace wirespan::decoders {

struct ProtocolSpec {
  Protocol protocol;
  // Judges the first bytes seen in one direction. `stream_start` is true when they are the very
  // first bytes of the connection (so a handshake may be expected); false for connections first
  // seen mid-stream, where detection must work from any message boundary.
  Detection (*detect)(std::string_view head, bool stream_start);
  // One decoder per connection; `role` says whether the traced process is the client or server.
  std::unique_ptr<ConnectionDecoder> (*create)(Role role, const DecoderOptions& options,
                                               DecoderStats* stats);
};

std::span<const ProtocolSpec> Protocols();
const ProtocolSpec* FindProtocol(Protocol protocol);
Protocol ProtocolFromName(std::string_view name);  // kUnknown when not a known name

// The best detection among the given protocols (all when `enabled` is empty).
Detection Detect(std::string_view head, bool stream_start, std::span<const Protocol> enabled = {});

}  // namespace wirespan::decoders
