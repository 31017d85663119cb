// AMQP 0-9-1 (RabbitMQ): detection and the per-connection decoder.
#pragma once

#include <memory>
#include <string_view>

#include "decoders/common/connection_decoder.h"
#include "decoders/registry.h"

namespace wirespan::decoders::amqp {

ProtocolSpec Spec();

// The protocol header (certain), the broker's connection.start (certain), or - for connections
// picked up mid-stream - a well-formed frame of a known method / basic content header /
// heartbeat, its frame-end octet checked.
Detection Detect(std::string_view head, bool stream_start);

// The client (who sent the protocol header and connection.start-ok) is the request side: egress
// for a client-role connection, ingress for a server-role one; with an unknown role it is
// inferred from the protocol header or connection.start when seen, else egress.
std::unique_ptr<ConnectionDecoder> Create(Role role, const DecoderOptions& options,
                                          DecoderStats* stats);

}  // namespace wirespan::decoders::amqp
