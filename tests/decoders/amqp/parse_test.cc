// Byte-level tests of the AMQP 0-9-1 tables, payload decoding and the frame parser.
#include "decoders/amqp/parse.h"

#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <random>
#include <set>

#include "decoders/amqp/spec.h"
#include "decoders/amqp/wire.h"
#include "decoders/common/frame_loop.h"
#include "tests/decoders/amqp/amqp_builder.h"

namespace wirespan::decoders::amqp {
namespace {

using namespace testing;  // NOLINT

TEST(AmqpSpec, TableIsConsistent) {
  std::set<std::string> names;
  for (const MethodSpec& m : AllMethods()) {
    EXPECT_TRUE(names.insert(m.name).second) << m.name;
    EXPECT_EQ(FindMethod(m.class_id, m.method_id), &m);
    ASSERT_NE(ClassName(m.class_id), nullptr);
    EXPECT_TRUE(std::string(m.name).starts_with(std::string(ClassName(m.class_id)) + "."));
    for (uint16_t r : m.responses) {
      if (r == 0) continue;
      const MethodSpec* reply = FindMethod(m.class_id, r);
      ASSERT_NE(reply, nullptr) << m.name;
      EXPECT_TRUE(reply->IsResponseTo(m));
    }
    EXPECT_EQ(m.synchronous, m.responses[0] != 0) << m.name;
  }
  EXPECT_EQ(AllMethods().size(), 64u);
  EXPECT_EQ(FindMethod(60, 121), nullptr);
  EXPECT_EQ(FindMethod(1000, 1), nullptr);
  EXPECT_EQ(BasicProperties().size(), 14u);
  EXPECT_STREQ(FindMethod(40, 51)->name, "exchange.unbind-ok");
  EXPECT_TRUE(FindMethod(60, 40)->content);
  EXPECT_TRUE(FindMethod(60, 60)->content);
  EXPECT_TRUE(FindMethod(60, 71)->content);
  EXPECT_TRUE(FindMethod(60, 50)->content);
}

TEST(AmqpWire, DecodesMethodArgumentsAndPackedBits) {
  const std::string frame = QueueDeclare(1, "orders");
  Method m;
  ASSERT_TRUE(DecodeMethod(std::string_view(frame).substr(7, frame.size() - 8), &m));
  EXPECT_STREQ(m.Name(), "queue.declare");
  EXPECT_EQ(m.Str("queue"), "orders");
  EXPECT_FALSE(m.Bit("durable"));
  // Bits: passive, durable, exclusive, auto-delete, no-wait share one octet.
  const std::string args = U16(0) + ShortStr("q") + Bits({false, true, false, true, true}) +
                           Table({{"x-max-length", "I" + U32(10)}});
  Method m2;
  ASSERT_TRUE(DecodeMethod(U16(50) + U16(10) + args, &m2));
  EXPECT_FALSE(m2.Bit("passive"));
  EXPECT_TRUE(m2.Bit("durable"));
  EXPECT_FALSE(m2.Bit("exclusive"));
  EXPECT_TRUE(m2.Bit("auto-delete"));
  EXPECT_TRUE(m2.Bit("no-wait"));
  ASSERT_NE(m2.Arg("arguments"), nullptr);
  EXPECT_EQ(m2.Arg("arguments")->Find("x-max-length")->AsInt(), 10);
  // Truncated arguments fail cleanly.
  Method m3;
  EXPECT_FALSE(DecodeMethod(U16(50) + U16(10) + args.substr(0, args.size() - 3), &m3));
  // Unknown method: ids kept, no arguments.
  Method m4;
  ASSERT_TRUE(DecodeMethod(U16(60) + U16(99) + "xyz", &m4));
  EXPECT_EQ(m4.spec, nullptr);
  EXPECT_EQ(m4.method_id, 99);
}

TEST(AmqpWire, FieldTableEveryType) {
  double dv = 2.5;
  float fv = 1.5f;
  uint64_t dbits;
  uint32_t fbits;
  std::memcpy(&dbits, &dv, 8);
  std::memcpy(&fbits, &fv, 4);
  const std::string nested = Table({{"inner", "S" + LongStr("x")}});
  const std::string array = U32(static_cast<uint32_t>(("I" + U32(7) + "S" + LongStr("y")).size())) +
                            "I" + U32(7) + "S" + LongStr("y");
  const std::string headers = Table({
      {"traceparent", "S" + LongStr("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")},
      {"bool", "t" + U8(1)},
      {"i8", "b" + U8(0xff)},
      {"u8", "B" + U8(200)},
      {"i16", "s" + U16(0xfffe)},
      {"u16", "u" + U16(65000)},
      {"i32", "I" + U32(0xfffffffd)},
      {"u32", "i" + U32(4000000000u)},
      {"i64", "l" + U64(0xfffffffffffffffcULL)},
      {"u64", "L" + U64(1ULL << 63)},
      {"float", "f" + U32(fbits)},
      {"double", "d" + U64(dbits)},
      {"decimal", "D" + U8(2) + U32(12345)},
      {"bytes", "x" + LongStr(std::string("\x00\x01", 2))},
      {"ts", "T" + U64(1700000000)},
      {"table", "F" + nested},
      {"array", "A" + array},
      {"void", "V"},
  });
  Props props;
  props.headers = headers;
  props.message_id = "m-1";
  props.correlation_id = "c-1";
  props.reply_to = "amq.rabbitmq.reply-to";
  props.delivery_mode = 2;
  props.timestamp = 1700000001;
  props.type = "order.created";
  props.app_id = "shop";
  props.content_type = "application/json";
  auto [flags, p] = props.Encode();
  const std::string frame = Header(1, 10, flags, p);
  Content c;
  ASSERT_TRUE(DecodeContentHeader(std::string_view(frame).substr(7, frame.size() - 8), &c));
  EXPECT_EQ(c.body_size, 10u);
  const Properties& pr = c.properties;
  EXPECT_EQ(pr.message_id, "m-1");
  EXPECT_EQ(pr.correlation_id, "c-1");
  EXPECT_EQ(pr.reply_to, "amq.rabbitmq.reply-to");
  EXPECT_EQ(pr.delivery_mode, 2);
  EXPECT_EQ(pr.timestamp, 1700000001u);
  EXPECT_EQ(pr.type, "order.created");
  EXPECT_EQ(pr.app_id, "shop");
  EXPECT_EQ(pr.content_type, "application/json");
  ASSERT_TRUE(pr.headers.has_value());
  const FieldValue& h = *pr.headers;
  EXPECT_FALSE(h.truncated);
  EXPECT_EQ(h.items.size(), 18u);
  EXPECT_EQ(h.Find("traceparent")->str, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  EXPECT_EQ(h.Find("bool")->AsInt(), 1);
  EXPECT_EQ(h.Find("i8")->AsInt(), -1);
  EXPECT_EQ(h.Find("u8")->AsInt(), 200);
  EXPECT_EQ(h.Find("i16")->AsInt(), -2);
  EXPECT_EQ(h.Find("u16")->AsInt(), 65000);
  EXPECT_EQ(h.Find("i32")->AsInt(), -3);
  EXPECT_EQ(h.Find("u32")->AsInt(), 4000000000);
  EXPECT_EQ(h.Find("i64")->AsInt(), -4);
  EXPECT_EQ(h.Find("u64")->u, 1ULL << 63);
  EXPECT_DOUBLE_EQ(h.Find("float")->d, 1.5);
  EXPECT_DOUBLE_EQ(h.Find("double")->d, 2.5);
  EXPECT_EQ(h.Find("decimal")->scale, 2);
  EXPECT_DOUBLE_EQ(h.Find("decimal")->d, 123.45);
  EXPECT_EQ(h.Find("bytes")->str, std::string("\x00\x01", 2));
  EXPECT_EQ(h.Find("ts")->u, 1700000000u);
  EXPECT_EQ(h.Find("table")->Find("inner")->str, "x");
  ASSERT_EQ(h.Find("array")->items.size(), 2u);
  EXPECT_EQ(h.Find("array")->items[0].AsInt(), 7);
  EXPECT_EQ(h.Find("array")->items[1].str, "y");
  EXPECT_EQ(h.Find("void")->type, 'V');
}

TEST(AmqpWire, FieldTableLimits) {
  // Nesting far beyond the depth bound: decoded to the bound, no recursion blow-up.
  std::string t = Table({{"leaf", "V"}});
  for (int i = 0; i < 200; ++i) t = Table({{"n", "F" + t}});
  Reader r(t);
  FieldValue v;
  size_t budget = 1024;
  ASSERT_TRUE(ReadFieldTable(r, &v, WireLimits{}, 0, &budget));
  int depth = 0;
  const FieldValue* cur = &v;
  while (!cur->items.empty()) cur = &cur->items[0], ++depth;
  EXPECT_EQ(depth, 8);
  EXPECT_TRUE(cur->truncated);
  // An unknown type stops the table, which still has a known length.
  const std::string bad = Table({{"a", "I" + U32(1)}, {"b", "Z" + U32(2)}, {"c", "V"}});
  const std::string bad_tail = bad + "tail";
  Reader r2(bad_tail);
  FieldValue v2;
  budget = 1024;
  ASSERT_TRUE(ReadFieldTable(r2, &v2, WireLimits{}, 0, &budget));
  EXPECT_TRUE(v2.truncated);
  EXPECT_EQ(v2.items.size(), 1u);
  EXPECT_EQ(r2.remaining(), 4u);
  // A length running past the payload fails.
  const std::string short_table = U32(100) + "abc";
  Reader r3(short_table);
  FieldValue v3;
  EXPECT_FALSE(ReadFieldTable(r3, &v3, WireLimits{}, 0, &budget));
  // Many entries: capped by the budget.
  std::vector<std::pair<std::string, std::string>> many;
  for (int i = 0; i < 5000; ++i) many.push_back({"k", "V"});
  const std::string big = Table(many);
  Reader r4(big);
  FieldValue v4;
  budget = 1024;
  ASSERT_TRUE(ReadFieldTable(r4, &v4, WireLimits{}, 0, &budget));
  EXPECT_EQ(v4.items.size(), 1024u);
  EXPECT_TRUE(v4.truncated);
  // Long strings keep a prefix and their length.
  const std::string longs = Table({{"s", "S" + LongStr(std::string(5000, 'a'))}});
  Reader r5(longs);
  FieldValue v5;
  budget = 1024;
  ASSERT_TRUE(ReadFieldTable(r5, &v5, WireLimits{}, 0, &budget));
  EXPECT_EQ(v5.Find("s")->str.size(), 1024u);
  EXPECT_EQ(v5.Find("s")->length, 5000u);
  EXPECT_TRUE(v5.Find("s")->truncated);
}

TEST(AmqpWire, CredentialsAreNeverStored) {
  const std::string hs = ClientHandshake("guest", "s3cr3t-pa55");
  const std::string start_ok = hs.substr(8);  // after the protocol header
  const uint32_t size = (uint8_t(start_ok[3]) << 24) | (uint8_t(start_ok[4]) << 16) |
                        (uint8_t(start_ok[5]) << 8) | uint8_t(start_ok[6]);
  Method m;
  ASSERT_TRUE(DecodeMethod(std::string_view(start_ok).substr(7, size), &m));
  EXPECT_STREQ(m.Name(), "connection.start-ok");
  const FieldValue* resp = m.Arg("response");
  ASSERT_NE(resp, nullptr);
  EXPECT_TRUE(resp->redacted);
  EXPECT_TRUE(resp->str.empty());
  EXPECT_EQ(resp->length, std::string("\0guest\0s3cr3t-pa55", 18).size());
  EXPECT_EQ(m.Str("mechanism"), "PLAIN");
  // secure-ok and update-secret too.
  Method m2;
  ASSERT_TRUE(DecodeMethod(U16(10) + U16(21) + LongStr("token"), &m2));
  EXPECT_TRUE(m2.Arg("response")->redacted);
  EXPECT_TRUE(m2.Arg("response")->str.empty());
  Method m3;
  ASSERT_TRUE(DecodeMethod(U16(10) + U16(70) + LongStr("jwt") + ShortStr("refresh"), &m3));
  EXPECT_TRUE(m3.Arg("new-secret")->str.empty());
  EXPECT_EQ(m3.Str("reason"), "refresh");
}

// Runs the shared loop over `bytes` fed in chunks; returns the frames.
std::vector<Frame> ParseAll(const std::string& bytes, size_t chunk, DecoderStats* stats,
                            uint32_t frame_max = 0) {
  FrameParser parser(stats);
  parser.set_frame_max(frame_max);
  DataStream stream;
  std::deque<Frame> frames;
  DecoderOptions options;
  uint64_t pos = 0;
  for (size_t off = 0; off < bytes.size(); off += chunk) {
    const std::string_view piece = std::string_view(bytes).substr(off, chunk);
    stream.Add(pos, piece, piece.size(), ChunkMeta{pos * 10, pos * 10 + 5, 1, 0}, 0);
    pos += piece.size();
    ParseFrames(parser, stream, frames, options, *stats);
  }
  return {std::make_move_iterator(frames.begin()), std::make_move_iterator(frames.end())};
}

TEST(AmqpParser, ReassemblesInterleavedChannelsAcrossBodyFrames) {
  const std::string body1(300000, 'a');
  const std::string body2 = "hello";
  // Channel 1's content in three body frames; channel 2's message interleaved between them.
  std::string p1 = Publish(1, "ex", "rk", body1, {}, false, 131072 - 8);
  std::string bytes = kProtocolHeaderBytes + Heartbeat();
  // Split p1 at the second body frame to interleave channel 2.
  const size_t split = p1.find(std::string(1, '\x03'), 40);
  const size_t second_body = p1.find(std::string("\xCE\x03", 2), split + 1) + 1;
  bytes += p1.substr(0, second_body) + Publish(2, "", "q2", body2) + p1.substr(second_body);
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{4096}, bytes.size()}) {
    DecoderStats stats;
    std::vector<Frame> frames = ParseAll(bytes, chunk, &stats);
    ASSERT_EQ(frames.size(), 3u) << chunk;
    EXPECT_EQ(frames[0].kind, Frame::Kind::kProtocolHeader);
    EXPECT_EQ(frames[1].channel, 2);
    EXPECT_EQ(frames[1].method.Str("routing-key"), "q2");
    ASSERT_TRUE(frames[1].content.has_value());
    EXPECT_EQ(frames[1].content->body_size, 5u);
    EXPECT_EQ(frames[1].content->body_hash, Fnv1a(kFnvOffset, body2));
    EXPECT_EQ(frames[2].channel, 1);
    EXPECT_EQ(frames[2].content->body_size, body1.size());
    EXPECT_EQ(frames[2].content->body_received, body1.size());
    EXPECT_TRUE(frames[2].content->complete);
    EXPECT_TRUE(frames[2].content->hash_valid);
    EXPECT_EQ(frames[2].content->body_hash, Fnv1a(kFnvOffset, body1));
    EXPECT_EQ(stats.parse_errors, 0u);
  }
}

TEST(AmqpParser, BadFrameEndIsAnErrorAndResyncs) {
  std::string bad = Ack(1, 5);
  bad.back() = '\x00';
  const std::string bytes = bad + Ack(1, 6) + Ack(1, 7);
  DecoderStats stats;
  std::vector<Frame> frames = ParseAll(bytes, bytes.size(), &stats);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].method.Int("delivery-tag"), 6);
  EXPECT_EQ(frames[1].method.Int("delivery-tag"), 7);
  EXPECT_EQ(stats.parse_errors, 1u);
}

TEST(AmqpParser, BodyFrameEndValidated) {
  std::string p = Publish(1, "", "q", "abcdef");
  p.back() = 'X';
  const std::string bytes = p + Ack(1, 1);
  DecoderStats stats;
  std::vector<Frame> frames = ParseAll(bytes, 3, &stats);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_STREQ(frames[0].method.Name(), "basic.ack");
  EXPECT_GE(stats.parse_errors, 1u);
}

TEST(AmqpParser, OversizedFrameIsInvalid) {
  FrameParser parser;
  parser.set_frame_max(4096);
  const std::string bytes = Body(1, std::string(5000, 'x')) + Ack(1, 1);
  DataStream stream;
  stream.Add(0, bytes, bytes.size(), {}, 0);
  std::deque<Frame> frames;
  DecoderStats stats;
  ParseFrames(parser, stream, frames, DecoderOptions{}, stats);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_STREQ(frames[0].method.Name(), "basic.ack");
  EXPECT_GE(stats.parse_errors, 1u);
}

TEST(AmqpParser, GapInsideBodyIsSteppedOver) {
  const std::string body(10000, 'z');
  const std::string p = Publish(1, "", "q", body);
  const size_t body_start = p.size() - body.size() - 1;
  DecoderStats stats;
  FrameParser parser(&stats);
  DataStream stream;
  std::deque<Frame> frames;
  DecoderOptions options;
  // Known up to 100 bytes into the body, then 5000 bytes never copied, then the rest.
  const size_t known = body_start + 100;
  stream.Add(0, std::string_view(p).substr(0, known), known + 5000, {}, 0);
  ParseFrames(parser, stream, frames, options, stats);
  stream.Add(known + 5000, std::string_view(p).substr(known + 5000), p.size() - known - 5000, {},
             0);
  const std::string after = Ack(1, 1);
  stream.Add(p.size(), after, after.size(), {}, 0);
  ParseFrames(parser, stream, frames, options, stats);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_TRUE(frames[0].content->complete);
  EXPECT_FALSE(frames[0].content->hash_valid);
  EXPECT_EQ(frames[0].content->body_received, body.size());
  EXPECT_EQ(stats.gap_bytes_skipped, 5000u);
  EXPECT_EQ(stats.parse_errors, 0u);
}

// A gap (copy cap, lost ring-buffer data) that swallows body frame boundaries: with frame-max
// known the rest of the content is stepped over by its wire size and parsing stays in sync.
TEST(AmqpParser, GapAcrossBodyFramesIsSteppedOver) {
  const uint32_t frame_max = 4096;
  std::string body(50000, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i % 251);
  const std::string p = Publish(1, "", "q", body, {}, false, frame_max - 8);
  const std::string after = Ack(1, 1) + Publish(2, "", "q2", "small");
  const std::string all = p + after;
  const size_t body_start = p.find(std::string("\x03\x00\x01", 3));
  ASSERT_NE(body_start, std::string::npos);
  struct Case {
    size_t gap_from, gap_len;
  };
  const Case cases[] = {
      {body_start + 5000, 20000},  // from inside frame 2 to inside frame 6
      {body_start + 4096, 8192},   // exactly frame 2 and 3
      {body_start + 4090, 3},      // across a frame end and the next header start
      {body_start + 100, p.size() - body_start - 100},  // to the exact end of the content
      {body_start - 3, 30000},                          // from inside the content header
  };
  for (const Case& c : cases) {
    DecoderStats stats;
    FrameParser parser(&stats);
    parser.set_frame_max(frame_max);
    DataStream stream;
    std::deque<Frame> frames;
    DecoderOptions options;
    stream.Add(0, std::string_view(all).substr(0, c.gap_from), c.gap_from + c.gap_len, {}, 0);
    ParseFrames(parser, stream, frames, options, stats);
    const size_t resume = c.gap_from + c.gap_len;
    stream.Add(resume, std::string_view(all).substr(resume), all.size() - resume, {}, 0);
    ParseFrames(parser, stream, frames, options, stats);
    SCOPED_TRACE(c.gap_from);
    if (c.gap_from < body_start) {
      // The header itself was lost: the content cannot be sized; only what follows is parsed.
      ASSERT_FALSE(frames.empty());
      EXPECT_STREQ(frames.back().method.Name(), "basic.publish");
      EXPECT_EQ(frames.back().channel, 2);
      continue;
    }
    ASSERT_EQ(frames.size(), 3u);
    EXPECT_EQ(stats.parse_errors, 0u);
    EXPECT_TRUE(frames[0].content->complete);
    EXPECT_FALSE(frames[0].content->hash_valid);
    EXPECT_EQ(frames[0].content->body_received, body.size());
    EXPECT_STREQ(frames[1].method.Name(), "basic.ack");
    EXPECT_EQ(frames[2].channel, 2);
    EXPECT_TRUE(frames[2].content->hash_valid);
    EXPECT_EQ(stats.gap_bytes_skipped, c.gap_len);
  }
}

TEST(AmqpParser, FindFrameBoundary) {
  FrameParser parser;
  const std::string ack = Ack(3, 9);
  const std::string junk = "\x01\x02garbage\xCE";
  const std::string bytes = junk + ack;
  EXPECT_EQ(parser.FindFrameBoundary(bytes), junk.size());
  EXPECT_EQ(parser.FindFrameBoundary("xxAMQP\x00\x00\x09\x01"), 2u);
  EXPECT_EQ(parser.FindFrameBoundary("x" + Heartbeat()), 1u);
  EXPECT_EQ(parser.FindFrameBoundary("x" + Header(1, 5)), 1u);
  EXPECT_EQ(parser.FindFrameBoundary("x" + Body(1, "abcdefghijkl")), std::string::npos);
  // A method frame whose end octet is wrong is no boundary.
  std::string bad = ack;
  bad.back() = 0;
  EXPECT_EQ(parser.FindFrameBoundary("x" + bad), std::string::npos);
  // Unknown class/method: no boundary.
  EXPECT_EQ(parser.FindFrameBoundary("x" + MethodFrame(1, 60, 99, "abcd")), std::string::npos);
}

TEST(AmqpParser, GarbageNeverCrashesOrStalls) {
  std::mt19937 rng(1234);
  for (int round = 0; round < 200; ++round) {
    std::string bytes;
    const int n = 1 + static_cast<int>(rng() % 3000);
    for (int i = 0; i < n; ++i) {
      // Bias toward bytes that look like frame starts.
      const uint32_t r = rng() % 10;
      bytes += r == 0 ? '\x01' : r == 1 ? '\xCE' : r == 2 ? '\x00' : static_cast<char>(rng());
    }
    // Then valid traffic that must be found again: garbage may open a frame (a body frame eats
    // up to frame-max bytes, a method frame is waited for up to frame-max), so send more than
    // frame-max of heartbeats first.
    for (int i = 0; i < 600; ++i) bytes += Heartbeat();
    bytes += Ack(1, 77);
    DecoderStats stats;
    std::vector<Frame> frames = ParseAll(bytes, 1 + rng() % 64, &stats, 4096);
    ASSERT_FALSE(frames.empty()) << round;
    EXPECT_STREQ(frames.back().method.Name(), "basic.ack") << round;
    EXPECT_EQ(frames.back().method.Int("delivery-tag"), 77) << round;
  }
}

TEST(AmqpParser, TruncatedPayloadsCountErrorsAndKeepFraming) {
  // A well-framed method with arguments cut short: counted, skipped, framing kept.
  const std::string bytes = MethodFrame(1, 50, 10, U16(0) + ShortStr("abc")) + Ack(1, 2);
  DecoderStats stats;
  std::vector<Frame> frames = ParseAll(bytes, 1, &stats);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_STREQ(frames[0].method.Name(), "basic.ack");
  EXPECT_EQ(stats.parse_errors, 1u);
  // Every prefix of a session parses without crashing.
  const std::string session = ClientHandshake("u", "p") + Publish(1, "", "q", "body");
  for (size_t n = 0; n < session.size(); ++n) {
    DecoderStats s;
    ParseAll(session.substr(0, n) + std::string(n % 5, '\xCE'), 1 + n % 9, &s);
  }
}

}  // namespace
}  // namespace wirespan::decoders::amqp
