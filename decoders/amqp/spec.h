// The AMQP 0-9-1 method table (classes, methods, argument domains), written once as data from the
// 0-9-1 specification (amqp0-9-1.xml, with RabbitMQ's extensions: exchange.bind/unbind,
// basic.nack, confirm, connection.blocked/unblocked/update-secret) and the basic content
// properties. Decoding code walks these tables; no method is decoded by hand.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace wirespan::decoders::amqp {

// Argument domains reduced to their wire types (section 4.2.5 / the XML "domain" elements).
enum class ArgType : uint8_t {
  kOctet,      // 1 byte
  kShort,      // 2 bytes, network order
  kLong,       // 4 bytes
  kLongLong,   // 8 bytes
  kShortStr,   // 1-byte length + bytes
  kLongStr,    // 4-byte length + bytes
  kBit,        // packed into octets, consecutive bits share an octet (LSB first)
  kTable,      // field table: 4-byte length + entries
  kTimestamp,  // 8 bytes, seconds since the epoch
};

// Which peer sends the method (the XML "chassis" elements).
enum class Sender : uint8_t { kClient, kServer, kBoth };

struct ArgSpec {
  const char* name;
  ArgType type;
  bool sensitive = false;  // a credential (start-ok response, secure-ok response, new-secret)
};

struct MethodSpec {
  uint16_t class_id;
  uint16_t method_id;
  const char* name;  // "class.method"
  bool synchronous;  // expects one of `responses`
  bool content;      // followed by a content header and body
  Sender sender;
  uint16_t responses[2];  // method ids (same class) answering a synchronous method; 0 = none
  std::span<const ArgSpec> args;

  bool IsResponseTo(const MethodSpec& request) const {
    return class_id == request.class_id &&
           (method_id == request.responses[0] || method_id == request.responses[1]);
  }
};

// Class ids.
inline constexpr uint16_t kConnection = 10, kChannel = 20, kExchange = 40, kQueue = 50, kBasic = 60,
                          kConfirm = 85, kTx = 90;

std::span<const MethodSpec> AllMethods();
// nullptr for an unknown class/method pair.
const MethodSpec* FindMethod(uint16_t class_id, uint16_t method_id);
const char* ClassName(uint16_t class_id);  // nullptr when unknown

// Content header properties of the basic class, in flag order: bit 15 is the first.
struct PropertySpec {
  const char* name;
  ArgType type;  // kShortStr, kOctet, kTable or kTimestamp
};
std::span<const PropertySpec> BasicProperties();

}  // namespace wirespan::decoders::amqp
