#include "decoders/common/types.h"

namespace wirespan::decoders {

const char* ProtocolName(Protocol protocol) {
  switch (protocol) {
    case Protocol::kHttp:
      return "http";
    case Protocol::kPostgres:
      return "postgresql";
    case Protocol::kRedis:
      return "redis";
    case Protocol::kAmqp:
      return "amqp";
    case Protocol::kUnknown:
      break;
  }
  return "unknown";
}

}  // namespace wirespan::decoders
