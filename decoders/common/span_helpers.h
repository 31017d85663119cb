// Span pieces every protocol fills the same way.
#pragma once

#include "decoders/common/data_stream.h"
#include "decoders/common/types.h"
#include "model/span.h"

namespace wirespan::decoders {

// A span of the given kind with fresh ids, resource, origin and timing from captured chunks.
model::Span NewSpan(const ConnectionInfo& conn, model::SpanKind kind, const ChunkMeta& first,
                    const ChunkMeta& last, std::string_view protocol);

// server.address/port, network.peer.address/port, network.transport, network.type, and
// client.address/port on server spans, per OpenTelemetry semantic conventions.
void SetNetworkAttributes(const ConnectionInfo& conn, model::Span& span);

}  // namespace wirespan::decoders
