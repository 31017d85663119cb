#include "decoders/amqp/spec.h"

namespace wirespan::decoders::amqp {
namespace {

using T = ArgType;
constexpr bool kSecret = true;

// --- connection (10) -----------------------------------------------------------------------------
constexpr ArgSpec kConnStart[] = {{"version-major", T::kOctet},
                                  {"version-minor", T::kOctet},
                                  {"server-properties", T::kTable},
                                  {"mechanisms", T::kLongStr},
                                  {"locales", T::kLongStr}};
constexpr ArgSpec kConnStartOk[] = {{"client-properties", T::kTable},
                                    {"mechanism", T::kShortStr},
                                    {"response", T::kLongStr, kSecret},
                                    {"locale", T::kShortStr}};
constexpr ArgSpec kConnSecure[] = {{"challenge", T::kLongStr, kSecret}};
constexpr ArgSpec kConnSecureOk[] = {{"response", T::kLongStr, kSecret}};
constexpr ArgSpec kConnTune[] = {
    {"channel-max", T::kShort}, {"frame-max", T::kLong}, {"heartbeat", T::kShort}};
constexpr ArgSpec kConnOpen[] = {{"virtual-host", T::kShortStr},
                                 {"reserved-1", T::kShortStr},     // capabilities
                                 {"reserved-2", T::kBit}};         // insist
constexpr ArgSpec kConnOpenOk[] = {{"reserved-1", T::kShortStr}};  // known-hosts
constexpr ArgSpec kClose[] = {{"reply-code", T::kShort},
                              {"reply-text", T::kShortStr},
                              {"class-id", T::kShort},
                              {"method-id", T::kShort}};
constexpr ArgSpec kConnBlocked[] = {{"reason", T::kShortStr}};
constexpr ArgSpec kConnUpdateSecret[] = {{"new-secret", T::kLongStr, kSecret},
                                         {"reason", T::kShortStr}};

// --- channel (20) --------------------------------------------------------------------------------
constexpr ArgSpec kChanOpen[] = {{"reserved-1", T::kShortStr}};   // out-of-band
constexpr ArgSpec kChanOpenOk[] = {{"reserved-1", T::kLongStr}};  // channel-id
constexpr ArgSpec kChanFlow[] = {{"active", T::kBit}};

// --- exchange (40) -------------------------------------------------------------------------------
constexpr ArgSpec kExDeclare[] = {
    {"reserved-1", T::kShort}, {"exchange", T::kShortStr}, {"type", T::kShortStr},
    {"passive", T::kBit},      {"durable", T::kBit},       {"auto-delete", T::kBit},
    {"internal", T::kBit},     {"no-wait", T::kBit},       {"arguments", T::kTable}};
constexpr ArgSpec kExDelete[] = {{"reserved-1", T::kShort},
                                 {"exchange", T::kShortStr},
                                 {"if-unused", T::kBit},
                                 {"no-wait", T::kBit}};
constexpr ArgSpec kExBind[] = {{"reserved-1", T::kShort}, {"destination", T::kShortStr},
                               {"source", T::kShortStr},  {"routing-key", T::kShortStr},
                               {"no-wait", T::kBit},      {"arguments", T::kTable}};

// --- queue (50) ----------------------------------------------------------------------------------
constexpr ArgSpec kQDeclare[] = {{"reserved-1", T::kShort}, {"queue", T::kShortStr},
                                 {"passive", T::kBit},      {"durable", T::kBit},
                                 {"exclusive", T::kBit},    {"auto-delete", T::kBit},
                                 {"no-wait", T::kBit},      {"arguments", T::kTable}};
constexpr ArgSpec kQDeclareOk[] = {
    {"queue", T::kShortStr}, {"message-count", T::kLong}, {"consumer-count", T::kLong}};
constexpr ArgSpec kQBind[] = {{"reserved-1", T::kShort},  {"queue", T::kShortStr},
                              {"exchange", T::kShortStr}, {"routing-key", T::kShortStr},
                              {"no-wait", T::kBit},       {"arguments", T::kTable}};
constexpr ArgSpec kQPurge[] = {
    {"reserved-1", T::kShort}, {"queue", T::kShortStr}, {"no-wait", T::kBit}};
constexpr ArgSpec kMessageCount[] = {{"message-count", T::kLong}};
constexpr ArgSpec kQDelete[] = {{"reserved-1", T::kShort},
                                {"queue", T::kShortStr},
                                {"if-unused", T::kBit},
                                {"if-empty", T::kBit},
                                {"no-wait", T::kBit}};
constexpr ArgSpec kQUnbind[] = {{"reserved-1", T::kShort},
                                {"queue", T::kShortStr},
                                {"exchange", T::kShortStr},
                                {"routing-key", T::kShortStr},
                                {"arguments", T::kTable}};

// --- basic (60) ----------------------------------------------------------------------------------
constexpr ArgSpec kBQos[] = {
    {"prefetch-size", T::kLong}, {"prefetch-count", T::kShort}, {"global", T::kBit}};
constexpr ArgSpec kBConsume[] = {
    {"reserved-1", T::kShort}, {"queue", T::kShortStr}, {"consumer-tag", T::kShortStr},
    {"no-local", T::kBit},     {"no-ack", T::kBit},     {"exclusive", T::kBit},
    {"no-wait", T::kBit},      {"arguments", T::kTable}};
constexpr ArgSpec kConsumerTag[] = {{"consumer-tag", T::kShortStr}};
constexpr ArgSpec kBCancel[] = {{"consumer-tag", T::kShortStr}, {"no-wait", T::kBit}};
constexpr ArgSpec kBPublish[] = {{"reserved-1", T::kShort},
                                 {"exchange", T::kShortStr},
                                 {"routing-key", T::kShortStr},
                                 {"mandatory", T::kBit},
                                 {"immediate", T::kBit}};
constexpr ArgSpec kBReturn[] = {{"reply-code", T::kShort},
                                {"reply-text", T::kShortStr},
                                {"exchange", T::kShortStr},
                                {"routing-key", T::kShortStr}};
constexpr ArgSpec kBDeliver[] = {{"consumer-tag", T::kShortStr},
                                 {"delivery-tag", T::kLongLong},
                                 {"redelivered", T::kBit},
                                 {"exchange", T::kShortStr},
                                 {"routing-key", T::kShortStr}};
constexpr ArgSpec kBGet[] = {
    {"reserved-1", T::kShort}, {"queue", T::kShortStr}, {"no-ack", T::kBit}};
constexpr ArgSpec kBGetOk[] = {{"delivery-tag", T::kLongLong},
                               {"redelivered", T::kBit},
                               {"exchange", T::kShortStr},
                               {"routing-key", T::kShortStr},
                               {"message-count", T::kLong}};
constexpr ArgSpec kBGetEmpty[] = {{"reserved-1", T::kShortStr}};  // cluster-id
constexpr ArgSpec kBAck[] = {{"delivery-tag", T::kLongLong}, {"multiple", T::kBit}};
constexpr ArgSpec kBReject[] = {{"delivery-tag", T::kLongLong}, {"requeue", T::kBit}};
constexpr ArgSpec kBRecover[] = {{"requeue", T::kBit}};
constexpr ArgSpec kBNack[] = {
    {"delivery-tag", T::kLongLong}, {"multiple", T::kBit}, {"requeue", T::kBit}};

// --- confirm (85), tx (90) -----------------------------------------------------------------------
constexpr ArgSpec kConfirmSelect[] = {{"nowait", T::kBit}};

constexpr std::span<const ArgSpec> kNone{};

constexpr Sender C = Sender::kClient, S = Sender::kServer, B = Sender::kBoth;

// {class, method, name, synchronous, content, sender, {responses}, args}
constexpr MethodSpec kMethods[] = {
    {10, 10, "connection.start", true, false, S, {11, 0}, kConnStart},
    {10, 11, "connection.start-ok", false, false, C, {0, 0}, kConnStartOk},
    {10, 20, "connection.secure", true, false, S, {21, 0}, kConnSecure},
    {10, 21, "connection.secure-ok", false, false, C, {0, 0}, kConnSecureOk},
    {10, 30, "connection.tune", true, false, S, {31, 0}, kConnTune},
    {10, 31, "connection.tune-ok", false, false, C, {0, 0}, kConnTune},
    {10, 40, "connection.open", true, false, C, {41, 0}, kConnOpen},
    {10, 41, "connection.open-ok", false, false, S, {0, 0}, kConnOpenOk},
    {10, 50, "connection.close", true, false, B, {51, 0}, kClose},
    {10, 51, "connection.close-ok", false, false, B, {0, 0}, kNone},
    {10, 60, "connection.blocked", false, false, S, {0, 0}, kConnBlocked},
    {10, 61, "connection.unblocked", false, false, S, {0, 0}, kNone},
    {10, 70, "connection.update-secret", true, false, S, {71, 0}, kConnUpdateSecret},
    {10, 71, "connection.update-secret-ok", false, false, C, {0, 0}, kNone},

    {20, 10, "channel.open", true, false, C, {11, 0}, kChanOpen},
    {20, 11, "channel.open-ok", false, false, S, {0, 0}, kChanOpenOk},
    {20, 20, "channel.flow", true, false, B, {21, 0}, kChanFlow},
    {20, 21, "channel.flow-ok", false, false, B, {0, 0}, kChanFlow},
    {20, 40, "channel.close", true, false, B, {41, 0}, kClose},
    {20, 41, "channel.close-ok", false, false, B, {0, 0}, kNone},

    {40, 10, "exchange.declare", true, false, C, {11, 0}, kExDeclare},
    {40, 11, "exchange.declare-ok", false, false, S, {0, 0}, kNone},
    {40, 20, "exchange.delete", true, false, C, {21, 0}, kExDelete},
    {40, 21, "exchange.delete-ok", false, false, S, {0, 0}, kNone},
    {40, 30, "exchange.bind", true, false, C, {31, 0}, kExBind},
    {40, 31, "exchange.bind-ok", false, false, S, {0, 0}, kNone},
    {40, 40, "exchange.unbind", true, false, C, {51, 0}, kExBind},
    {40, 51, "exchange.unbind-ok", false, false, S, {0, 0}, kNone},

    {50, 10, "queue.declare", true, false, C, {11, 0}, kQDeclare},
    {50, 11, "queue.declare-ok", false, false, S, {0, 0}, kQDeclareOk},
    {50, 20, "queue.bind", true, false, C, {21, 0}, kQBind},
    {50, 21, "queue.bind-ok", false, false, S, {0, 0}, kNone},
    {50, 30, "queue.purge", true, false, C, {31, 0}, kQPurge},
    {50, 31, "queue.purge-ok", false, false, S, {0, 0}, kMessageCount},
    {50, 40, "queue.delete", true, false, C, {41, 0}, kQDelete},
    {50, 41, "queue.delete-ok", false, false, S, {0, 0}, kMessageCount},
    {50, 50, "queue.unbind", true, false, C, {51, 0}, kQUnbind},
    {50, 51, "queue.unbind-ok", false, false, S, {0, 0}, kNone},

    {60, 10, "basic.qos", true, false, C, {11, 0}, kBQos},
    {60, 11, "basic.qos-ok", false, false, S, {0, 0}, kNone},
    {60, 20, "basic.consume", true, false, C, {21, 0}, kBConsume},
    {60, 21, "basic.consume-ok", false, false, S, {0, 0}, kConsumerTag},
    // The server also sends basic.cancel (consumer cancel notification).
    {60, 30, "basic.cancel", true, false, B, {31, 0}, kBCancel},
    {60, 31, "basic.cancel-ok", false, false, B, {0, 0}, kConsumerTag},
    {60, 40, "basic.publish", false, true, C, {0, 0}, kBPublish},
    {60, 50, "basic.return", false, true, S, {0, 0}, kBReturn},
    {60, 60, "basic.deliver", false, true, S, {0, 0}, kBDeliver},
    {60, 70, "basic.get", true, false, C, {71, 72}, kBGet},
    {60, 71, "basic.get-ok", false, true, S, {0, 0}, kBGetOk},
    {60, 72, "basic.get-empty", false, false, S, {0, 0}, kBGetEmpty},
    // ack and nack also come from the server under publisher confirms.
    {60, 80, "basic.ack", false, false, B, {0, 0}, kBAck},
    {60, 90, "basic.reject", false, false, C, {0, 0}, kBReject},
    {60, 100, "basic.recover-async", false, false, C, {0, 0}, kBRecover},
    {60, 110, "basic.recover", true, false, C, {111, 0}, kBRecover},
    {60, 111, "basic.recover-ok", false, false, S, {0, 0}, kNone},
    {60, 120, "basic.nack", false, false, B, {0, 0}, kBNack},

    {85, 10, "confirm.select", true, false, C, {11, 0}, kConfirmSelect},
    {85, 11, "confirm.select-ok", false, false, S, {0, 0}, kNone},

    {90, 10, "tx.select", true, false, C, {11, 0}, kNone},
    {90, 11, "tx.select-ok", false, false, S, {0, 0}, kNone},
    {90, 20, "tx.commit", true, false, C, {21, 0}, kNone},
    {90, 21, "tx.commit-ok", false, false, S, {0, 0}, kNone},
    {90, 30, "tx.rollback", true, false, C, {31, 0}, kNone},
    {90, 31, "tx.rollback-ok", false, false, S, {0, 0}, kNone},
};

constexpr PropertySpec kBasicProperties[] = {
    {"content-type", T::kShortStr}, {"content-encoding", T::kShortStr},
    {"headers", T::kTable},         {"delivery-mode", T::kOctet},
    {"priority", T::kOctet},        {"correlation-id", T::kShortStr},
    {"reply-to", T::kShortStr},     {"expiration", T::kShortStr},
    {"message-id", T::kShortStr},   {"timestamp", T::kTimestamp},
    {"type", T::kShortStr},         {"user-id", T::kShortStr},
    {"app-id", T::kShortStr},       {"cluster-id", T::kShortStr},
};

// Index of each class's first method in kMethods, for a short scan.
struct ClassRange {
  uint16_t class_id;
  const char* name;
};
constexpr ClassRange kClasses[] = {{10, "connection"}, {20, "channel"}, {40, "exchange"},
                                   {50, "queue"},      {60, "basic"},   {85, "confirm"},
                                   {90, "tx"}};

}  // namespace

std::span<const MethodSpec> AllMethods() { return kMethods; }

const MethodSpec* FindMethod(uint16_t class_id, uint16_t method_id) {
  // A direct table: class ids and method ids are small, so index by (class, method) once.
  static const auto* index = [] {
    static const MethodSpec* table[91][121] = {};
    for (const auto& m : kMethods) table[m.class_id][m.method_id] = &m;
    return &table;
  }();
  if (class_id > 90 || method_id > 120) return nullptr;
  return (*index)[class_id][method_id];
}

const char* ClassName(uint16_t class_id) {
  for (const auto& c : kClasses) {
    if (c.class_id == class_id) return c.name;
  }
  return nullptr;
}

std::span<const PropertySpec> BasicProperties() { return kBasicProperties; }

}  // namespace wirespan::decoders::amqp
