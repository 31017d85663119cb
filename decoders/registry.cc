#include "decoders/registry.h"

#include <algorithm>
#include <vector>

#include "decoders/http/decoder.h"
#ifdef WIRESPAN_HAVE_postgres
#include "decoders/postgres/decoder.h"
#endif
#ifdef WIRESPAN_HAVE_redis
#include "decoders/redis/decoder.h"
#endif
#ifdef WIRESPAN_HAVE_amqp
#include "decoders/amqp/decoder.h"
#endif

namespace wirespan::decoders {
namespace {

const std::vector<ProtocolSpec>& Specs() {
  static const std::vector<ProtocolSpec> specs = {
      http::Spec(),
#ifdef WIRESPAN_HAVE_postgres
      postgres::Spec(),
#endif
#ifdef WIRESPAN_HAVE_redis
      redis::Spec(),
#endif
#ifdef WIRESPAN_HAVE_amqp
      amqp::Spec(),
#endif
  };
  return specs;
}

}  // namespace

std::span<const ProtocolSpec> Protocols() { return Specs(); }

const ProtocolSpec* FindProtocol(Protocol protocol) {
  for (const auto& spec : Specs()) {
    if (spec.protocol == protocol) return &spec;
  }
  return nullptr;
}

Protocol ProtocolFromName(std::string_view name) {
  for (Protocol p : {Protocol::kHttp, Protocol::kPostgres, Protocol::kRedis, Protocol::kAmqp}) {
    if (name == ProtocolName(p)) return p;
  }
  if (name == "postgres" || name == "pgsql") return Protocol::kPostgres;
  return Protocol::kUnknown;
}

Detection Detect(std::string_view head, bool stream_start, std::span<const Protocol> enabled) {
  Detection best;
  for (const auto& spec : Specs()) {
    if (!enabled.empty() &&
        std::find(enabled.begin(), enabled.end(), spec.protocol) == enabled.end()) {
      continue;
    }
    Detection d = spec.detect(head, stream_start);
    if (d.confidence > best.confidence) best = d;
  }
  return best;
}

}  // namespace wirespan::decoders
