#include "decoders/redis/decoder.h"

#include <gtest/gtest.h>

#include <random>

#include "decoders/redis/commands.h"
#include "decoders/redis/spans.h"
#include "redis_test_util.h"

namespace wirespan::decoders::redis {
namespace {

using testing::AllText;
using testing::Attr;
using testing::Bulk;
using testing::Cmd;
using testing::FakeConnection;

TEST(RedisDecoder, PipelineOfHundredCommandsGivesHundredSpans) {
  for (size_t chunk : {size_t{0}, size_t{1}, size_t{13}}) {
    SCOPED_TRACE(chunk);
    FakeConnection c;
    std::string requests, replies;
    for (int i = 0; i < 100; ++i) {
      const std::string key = "key:" + std::to_string(i);
      if (i % 2 == 0) {
        requests += Cmd({"SET", key, "value-" + std::to_string(i)});
        replies += "+OK\r\n";
      } else {
        requests += Cmd({"GET", key});
        replies += Bulk("value-" + std::to_string(i - 1));
      }
    }
    c.Send(requests, chunk);
    c.Emit();
    EXPECT_TRUE(c.spans().empty());  // nothing answered yet
    c.Recv(replies, chunk);
    c.Emit();
    ASSERT_EQ(c.spans().size(), 100u);
    for (int i = 0; i < 100; ++i) {
      const auto& s = c.spans()[i];
      const std::string key = "key:" + std::to_string(i);
      EXPECT_EQ(s.name, i % 2 == 0 ? "SET" : "GET");
      EXPECT_EQ(Attr(s, "db.query.text"),
                (i % 2 == 0 ? "SET " : "GET ") + key + (i % 2 == 0 ? " ?" : ""));
      EXPECT_EQ(Attr(s, "db.redis.response.type"), i % 2 == 0 ? "simple-string" : "blob-string");
      EXPECT_EQ(Attr(s, "db.system.name"), "redis");
      EXPECT_EQ(Attr(s, "server.port"), "6379");
      EXPECT_EQ(Attr(s, "db.namespace"), "0");
      EXPECT_EQ(s.kind, model::SpanKind::kClient);
      EXPECT_LE(s.start_time_unix_nano, s.end_time_unix_nano);
      if (i > 0) {
        EXPECT_GE(s.start_time_unix_nano, c.spans()[i - 1].start_time_unix_nano);
      }
      if (i > 0) {
        EXPECT_GE(s.end_time_unix_nano, c.spans()[i - 1].end_time_unix_nano);
      }
      EXPECT_EQ(AllText(s).find("value-"), std::string::npos);
    }
    EXPECT_EQ(c.stats.parse_errors, 0u);
    EXPECT_EQ(c.stats.spans, 100u);
    EXPECT_EQ(c.decoder().pending_requests(), 0u);
  }
}

TEST(RedisDecoder, SpanTimingFromRequestFirstByteToReplyLastByte) {
  FakeConnection c;
  c.Send(Cmd({"BLPOP", "jobs", "0"}));
  const uint64_t sent = c.now() - 1000;
  c.AdvanceClock(2'000'000'000);  // the server blocks for 2 s
  c.Recv("*2\r\n$4\r\njobs\r\n", 5);
  c.Recv("$3\r\njob\r\n");
  const uint64_t last = c.now() - 1000;
  c.Emit();
  ASSERT_EQ(c.spans().size(), 1u);
  EXPECT_EQ(c.spans()[0].start_time_unix_nano, sent);
  EXPECT_EQ(c.spans()[0].end_time_unix_nano, last + 10);
  EXPECT_EQ(Attr(c.spans()[0], "db.query.text"), "BLPOP jobs ?");
  EXPECT_GE(c.spans()[0].end_time_unix_nano - c.spans()[0].start_time_unix_nano, 2'000'000'000u);
}

TEST(RedisDecoder, TransactionSpans) {
  FakeConnection c;
  c.Send(Cmd({"MULTI"}) + Cmd({"SET", "a", "1"}) + Cmd({"LPUSH", "a", "x"}) + Cmd({"INCR", "n"}) +
         Cmd({"EXEC"}));
  c.Recv("+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n");
  c.Emit();
  ASSERT_EQ(c.spans().size(), 1u);  // MULTI; the queued commands wait for EXEC
  EXPECT_TRUE(c.decoder().matcher().in_transaction());
  c.Recv(
      "*3\r\n+OK\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
      ":1\r\n");
  const uint64_t exec_end = c.now() - 1000 + 10;
  c.Emit();
  ASSERT_EQ(c.spans().size(), 5u);
  const auto& s = c.spans();
  EXPECT_EQ(s[0].name, "MULTI");
  EXPECT_EQ(s[1].name, "SET");
  EXPECT_EQ(s[2].name, "LPUSH");
  EXPECT_EQ(s[3].name, "INCR");
  EXPECT_EQ(s[4].name, "EXEC");
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(Attr(s[i], "db.redis.transaction"), "true");
    EXPECT_EQ(Attr(s[i], "db.redis.transaction.outcome"), "exec");
    EXPECT_EQ(s[i].end_time_unix_nano, exec_end);
  }
  EXPECT_EQ(s[2].status, model::StatusCode::kError);
  EXPECT_EQ(Attr(s[2], "error.type"), "WRONGTYPE");
  EXPECT_EQ(Attr(s[2], "db.response.status_code"), "WRONGTYPE");
  EXPECT_EQ(s[3].status, model::StatusCode::kUnset);
  EXPECT_EQ(Attr(s[3], "db.redis.response.type"), "integer");
  EXPECT_EQ(Attr(s[4], "db.operation.batch.size"), "3");
  EXPECT_EQ(s[4].status, model::StatusCode::kUnset);
  EXPECT_FALSE(c.decoder().matcher().in_transaction());
}

TEST(RedisDecoder, DiscardAndWatchAbort) {
  FakeConnection c;
  c.Send(Cmd({"MULTI"}) + Cmd({"SET", "a", "1"}) + Cmd({"DISCARD"}));
  c.Recv("+OK\r\n+QUEUED\r\n+OK\r\n");
  c.Send(Cmd({"WATCH", "a"}) + Cmd({"MULTI"}) + Cmd({"INCR", "a"}) + Cmd({"EXEC"}));
  c.Recv("+OK\r\n+OK\r\n+QUEUED\r\n_\r\n");  // RESP3 null: WATCH fired
  c.Emit();
  ASSERT_EQ(c.spans().size(), 7u);
  EXPECT_EQ(c.spans()[1].name, "SET");
  EXPECT_EQ(Attr(c.spans()[1], "db.redis.transaction.outcome"), "discard");
  EXPECT_EQ(c.spans()[2].name, "DISCARD");
  EXPECT_EQ(Attr(c.spans()[3], "db.query.text"), "WATCH a");
  EXPECT_EQ(c.spans()[5].name, "INCR");
  EXPECT_EQ(Attr(c.spans()[5], "db.redis.transaction.outcome"), "aborted");
  EXPECT_EQ(Attr(c.spans()[6], "db.redis.transaction.outcome"), "aborted");
}

TEST(RedisDecoder, ExecAbortAfterQueueingError) {
  FakeConnection c;
  c.Send(Cmd({"MULTI"}) + Cmd({"NOSUCHCMD", "x"}) + Cmd({"SET", "k", "v"}) + Cmd({"EXEC"}));
  c.Recv(
      "+OK\r\n-ERR unknown command 'NOSUCHCMD', with args beginning with: 'x' \r\n"
      "+QUEUED\r\n-EXECABORT Transaction discarded because of previous errors.\r\n");
  c.Emit();
  ASSERT_EQ(c.spans().size(), 4u);
  EXPECT_EQ(c.spans()[1].status, model::StatusCode::kError);
  EXPECT_EQ(c.spans()[1].status_message, "ERR unknown command");
  EXPECT_EQ(Attr(c.spans()[1], "db.query.text"), "NOSUCHCMD ?");
  EXPECT_EQ(Attr(c.spans()[2], "db.redis.transaction.outcome"), "aborted");
  EXPECT_EQ(Attr(c.spans()[3], "error.type"), "EXECABORT");
}

std::string Resp2Message(std::string_view channel, std::string_view payload) {
  return "*3\r\n" + Bulk("message") + Bulk(channel) + Bulk(payload);
}

TEST(RedisDecoder, Resp2PubSubGivesConsumerSpans) {
  for (size_t chunk : {size_t{0}, size_t{1}}) {
    FakeConnection c;
    c.Send(Cmd({"SUBSCRIBE", "news", "sports"}), chunk);
    c.Recv("*3\r\n" + Bulk("subscribe") + Bulk("news") + ":1\r\n", chunk);
    c.Recv("*3\r\n" + Bulk("subscribe") + Bulk("sports") + ":2\r\n", chunk);
    c.Emit();
    ASSERT_EQ(c.spans().size(), 1u);
    EXPECT_EQ(c.spans()[0].name, "SUBSCRIBE");
    EXPECT_EQ(Attr(c.spans()[0], "db.query.text"), "SUBSCRIBE news sports");
    EXPECT_EQ(Attr(c.spans()[0], "db.redis.subscriptions"), "2");
    std::string pushes;
    for (int i = 0; i < 50; ++i) pushes += Resp2Message(i % 2 ? "news" : "sports", "payload");
    pushes += "*4\r\n" + Bulk("pmessage") + Bulk("sp*") + Bulk("sports") + Bulk("goal");
    c.Recv(pushes, chunk ? 7 : 0);
    c.Send(Cmd({"PING"}));
    c.Recv("*2\r\n" + Bulk("pong") + Bulk(""));
    c.Send(Cmd({"UNSUBSCRIBE"}));
    c.Recv("*3\r\n" + Bulk("unsubscribe") + Bulk("news") + ":1\r\n" + "*3\r\n" +
           Bulk("unsubscribe") + Bulk("sports") + ":0\r\n");
    c.Emit();
    ASSERT_EQ(c.spans().size(), 1u + 51u + 2u);
    int news = 0;
    for (int i = 1; i <= 50; ++i) {
      const auto& s = c.spans()[i];
      EXPECT_EQ(s.kind, model::SpanKind::kConsumer);
      EXPECT_EQ(Attr(s, "messaging.operation.type"), "receive");
      EXPECT_EQ(Attr(s, "messaging.system"), "redis");
      EXPECT_EQ(Attr(s, "messaging.message.body.size"), "7");
      if (Attr(s, "messaging.destination.name") == "news") {
        ++news;
        EXPECT_EQ(s.name, "receive news");
      }
      EXPECT_EQ(AllText(s).find("payload"), std::string::npos);
    }
    EXPECT_EQ(news, 25);
    EXPECT_EQ(Attr(c.spans()[51], "messaging.destination.name"), "sports");
    EXPECT_EQ(Attr(c.spans()[51], "messaging.destination.subscription.name"), "sp*");
    EXPECT_EQ(c.spans()[52].name, "PING");
    EXPECT_EQ(c.spans()[53].name, "UNSUBSCRIBE");
    EXPECT_EQ(Attr(c.spans()[53], "db.redis.subscriptions"), "2");
    EXPECT_FALSE(c.decoder().matcher().subscribed());
    EXPECT_EQ(c.decoder().pending_requests(), 0u);
    EXPECT_EQ(c.decoder().pending_responses(), 0u);
  }
}

TEST(RedisDecoder, Resp3PushesInterleaveWithReplies) {
  FakeConnection c;
  c.Send(Cmd({"HELLO", "3"}));
  c.Recv("%1\r\n" + Bulk("server") + Bulk("redis"));
  c.Send(Cmd({"SUBSCRIBE", "ch"}));
  c.Recv(">3\r\n" + Bulk("subscribe") + Bulk("ch") + ":1\r\n");
  c.Send(Cmd({"GET", "k"}));
  // A message pushed before the GET reply.
  c.Recv(">3\r\n" + Bulk("message") + Bulk("ch") + Bulk("hi") + Bulk("v"));
  c.Recv(">2\r\n" + Bulk("invalidate") + "*1\r\n" + Bulk("k"));  // client tracking: ignored
  c.Emit();
  ASSERT_EQ(c.spans().size(), 4u);
  EXPECT_EQ(c.spans()[0].name, "HELLO");
  EXPECT_EQ(Attr(c.spans()[0], "db.query.text"), "HELLO 3");
  EXPECT_EQ(c.spans()[1].name, "SUBSCRIBE");
  EXPECT_EQ(c.spans()[2].name, "receive ch");
  EXPECT_EQ(c.spans()[2].kind, model::SpanKind::kConsumer);
  EXPECT_EQ(c.spans()[3].name, "GET");
  EXPECT_EQ(Attr(c.spans()[3], "db.redis.response.type"), "blob-string");
}

TEST(RedisDecoder, PublishIsAProducerSpan) {
  FakeConnection c;
  c.Send(Cmd({"PUBLISH", "news", "top secret payload"}));
  c.Recv(":3\r\n");
  c.Emit();
  ASSERT_EQ(c.spans().size(), 1u);
  const auto& s = c.spans()[0];
  EXPECT_EQ(s.kind, model::SpanKind::kProducer);
  EXPECT_EQ(s.name, "publish news");
  EXPECT_EQ(Attr(s, "db.operation.name"), "PUBLISH");
  EXPECT_EQ(Attr(s, "db.query.text"), "PUBLISH news ?");
  EXPECT_EQ(Attr(s, "messaging.destination.name"), "news");
  EXPECT_EQ(Attr(s, "messaging.operation.type"), "send");
  EXPECT_EQ(Attr(s, "messaging.message.body.size"), "18");
  EXPECT_EQ(AllText(s).find("secret"), std::string::npos);
}

TEST(RedisDecoder, ErrorsAndBlobErrors) {
  FakeConnection c;
  c.Send(Cmd({"INCR", "name"}) + Cmd({"FOO"}) + Cmd({"EVAL", "return 1", "0"}));
  c.Recv(
      "-ERR value is not an integer or out of range\r\n"
      "!37\r\nERR unknown command 'FOO', with args \r\n"
      ":1\r\n");
  c.Emit();
  ASSERT_EQ(c.spans().size(), 3u);
  EXPECT_EQ(c.spans()[0].status, model::StatusCode::kError);
  EXPECT_EQ(c.spans()[0].status_message, "ERR value is not an integer or out of range");
  EXPECT_EQ(Attr(c.spans()[0], "error.type"), "ERR");
  EXPECT_EQ(Attr(c.spans()[1], "error.type"), "ERR");
  EXPECT_EQ(c.spans()[1].status_message, "ERR unknown command");
  EXPECT_EQ(c.spans()[2].status, model::StatusCode::kUnset);
  EXPECT_EQ(Attr(c.spans()[2], "db.query.text"), "EVAL ? 0");
}

TEST(RedisDecoder, SelectTracksNamespace) {
  FakeConnection c;
  c.Send(Cmd({"GET", "a"}) + Cmd({"SELECT", "3"}) + Cmd({"GET", "a"}) + Cmd({"SELECT", "99"}) +
         Cmd({"GET", "a"}));
  c.Recv("$-1\r\n+OK\r\n$-1\r\n-ERR DB index is out of range\r\n$-1\r\n");
  c.Emit();
  ASSERT_EQ(c.spans().size(), 5u);
  EXPECT_EQ(Attr(c.spans()[0], "db.namespace"), "0");
  EXPECT_EQ(Attr(c.spans()[1], "db.namespace"), "3");
  EXPECT_EQ(Attr(c.spans()[1], "db.query.text"), "SELECT 3");
  EXPECT_EQ(Attr(c.spans()[2], "db.namespace"), "3");
  EXPECT_EQ(Attr(c.spans()[4], "db.namespace"), "3");
}

TEST(RedisDecoder, TwoWordCommandsAndRedaction) {
  FakeConnection c;
  c.Send(Cmd({"client", "setname", "worker-1"}) + Cmd({"CONFIG", "GET", "maxmemory"}) +
         Cmd({"CONFIG", "SET", "requirepass", "hunter2"}) +
         Cmd({"ACL", "SETUSER", "bob", "on", ">hunter3"}) + Cmd({"SCRIPT", "LOAD", "return 1"}) +
         Cmd({"OBJECT", "ENCODING", "mykey"}) + Cmd({"AUTH", "hunter4"}) +
         Cmd({"HELLO", "3", "AUTH", "default", "hunter5", "SETNAME", "app"}) +
         Cmd({"MIGRATE", "h", "1", "", "0", "5000", "AUTH", "hunter6", "KEYS", "k"}));
  std::string replies;
  for (int i = 0; i < 9; ++i) replies += "+OK\r\n";
  c.Recv(replies);
  c.Emit();
  ASSERT_EQ(c.spans().size(), 9u);
  const auto& s = c.spans();
  EXPECT_EQ(s[0].name, "CLIENT SETNAME");
  EXPECT_EQ(Attr(s[0], "db.query.text"), "CLIENT SETNAME ?");
  EXPECT_EQ(s[1].name, "CONFIG GET");
  EXPECT_EQ(Attr(s[1], "db.query.text"), "CONFIG GET maxmemory");
  EXPECT_EQ(Attr(s[2], "db.query.text"), "CONFIG SET ? ?");
  EXPECT_EQ(Attr(s[3], "db.query.text"), "ACL SETUSER ? ? ?");
  EXPECT_EQ(Attr(s[4], "db.query.text"), "SCRIPT LOAD ?");
  EXPECT_EQ(Attr(s[5], "db.query.text"), "OBJECT ENCODING mykey");
  EXPECT_EQ(Attr(s[6], "db.query.text"), "AUTH ?");
  EXPECT_EQ(Attr(s[7], "db.query.text"), "HELLO 3 AUTH ? ? SETNAME ?");
  EXPECT_EQ(s[8].name, "MIGRATE");
  for (const auto& span : s) EXPECT_EQ(AllText(span).find("hunter"), std::string::npos);
}

TEST(RedisDecoder, SecretsStayRedactedWithoutSanitizing) {
  DecoderOptions options;
  options.sanitize_queries = false;
  FakeConnection c(options);
  c.Send(Cmd({"SET", "k", "plain"}) + Cmd({"AUTH", "user", "hunter7"}) +
         Cmd({"HELLO", "2", "AUTH", "user", "hunter8"}) +
         Cmd({"CONFIG", "SET", "masterauth", "hunter9"}));
  c.Recv("+OK\r\n+OK\r\n*0\r\n+OK\r\n");
  c.Emit();
  ASSERT_EQ(c.spans().size(), 4u);
  EXPECT_EQ(Attr(c.spans()[0], "db.query.text"), "SET k plain");
  EXPECT_EQ(Attr(c.spans()[1], "db.query.text"), "AUTH ? ?");
  EXPECT_EQ(Attr(c.spans()[2], "db.query.text"), "HELLO 2 AUTH ? ?");
  for (const auto& span : c.spans()) EXPECT_EQ(AllText(span).find("hunter"), std::string::npos);
}

TEST(RedisDecoder, InlineCommands) {
  FakeConnection c;
  c.Send("PING\r\nSET greeting hello\r\nGET greeting\r\n", 1);
  c.Recv("+PONG\r\n+OK\r\n$5\r\nhello\r\n", 1);
  c.Emit();
  ASSERT_EQ(c.spans().size(), 3u);
  EXPECT_EQ(c.spans()[0].name, "PING");
  EXPECT_EQ(Attr(c.spans()[1], "db.query.text"), "SET greeting ?");
  EXPECT_EQ(Attr(c.spans()[2], "db.query.text"), "GET greeting");
}

TEST(RedisDecoder, ServerRoleSwapsDirections) {
  FakeConnection c(DecoderOptions{}, Role::kServer);
  c.Recv(Cmd({"GET", "k"}));
  c.Send("$-1\r\n");
  c.Emit();
  ASSERT_EQ(c.spans().size(), 1u);
  EXPECT_EQ(c.spans()[0].kind, model::SpanKind::kServer);
  EXPECT_EQ(c.spans()[0].name, "GET");
}

TEST(RedisDecoder, UnansweredCommandsAreCountedOnClose) {
  FakeConnection c;
  c.Send(Cmd({"GET", "a"}) + Cmd({"GET", "b"}));
  c.Recv("$-1\r\n");
  c.Emit(/*closed=*/true);
  EXPECT_EQ(c.spans().size(), 1u);
  EXPECT_EQ(c.stats.unmatched_requests, 1u);
  EXPECT_EQ(c.decoder().pending_requests(), 0u);
}

TEST(RedisDecoder, ResyncsAfterLossAndDropsOrder) {
  FakeConnection c;
  c.Send(Cmd({"GET", "a"}));
  c.Recv("$-1\r\n");
  c.Emit();
  ASSERT_EQ(c.spans().size(), 1u);
  c.Send(Cmd({"GET", "b"}) + Cmd({"GET", "c"}));
  c.Recv("$5\r\nab");
  c.Gap(Direction::kIngress, 5);  // the end of b's reply and part of c's reply are lost
  c.Recv("\r\n+OK\r\n");
  c.Send(Cmd({"SET", "d", "1"}));
  c.Recv("+OK\r\n");
  c.Emit();
  EXPECT_GT(c.stats.parse_errors, 0u);
  ASSERT_GE(c.spans().size(), 2u);
  EXPECT_EQ(c.spans().back().name, "SET");
  EXPECT_EQ(Attr(c.spans().back(), "db.query.text"), "SET d ?");
}

TEST(RedisDecoder, RandomBytesNeverCrashOrStall) {
  std::mt19937 rng(99);
  const std::string alphabet = "+-:$*_#,(!=%~|>\r\n0123456789SETGmessage";
  for (int round = 0; round < 100; ++round) {
    FakeConnection c;
    for (int step = 0; step < 20; ++step) {
      std::string bytes;
      const size_t len = rng() % 300;
      for (size_t i = 0; i < len; ++i) bytes.push_back(alphabet[rng() % alphabet.size()]);
      if (rng() % 3 == 0) bytes = Cmd({"SET", "k", bytes});
      if (rng() % 2) {
        c.Send(bytes, 1 + rng() % 20);
      } else {
        c.Recv(bytes, 1 + rng() % 20);
      }
      if (rng() % 10 == 0)
        c.Gap(rng() % 2 ? Direction::kEgress : Direction::kIngress, rng() % 100 + 1);
      c.Emit();
    }
    c.Emit(true);
    EXPECT_EQ(c.decoder().pending_requests(), 0u);
    EXPECT_EQ(c.decoder().pending_responses(), 0u);
    EXPECT_LE(c.Stream(Direction::kEgress).buffered_bytes(), 70'000u);
  }
}

TEST(RedisDetect, RecognisesCommandsAndReplies) {
  EXPECT_EQ(Detect(Cmd({"SET", "k", "v"}), true).confidence, 95);
  EXPECT_EQ(Detect(Cmd({"SET", "k", "v"}), true).kind, MessageKind::kRequest);
  EXPECT_EQ(Detect("*3\r\n$3\r\nSE", true).protocol, Protocol::kRedis);
  EXPECT_LT(Detect("*3\r\n$3\r\nSE", true).confidence, 50);
  EXPECT_GE(Detect("PING\r\n", true).confidence, 50);
  EXPECT_EQ(Detect("GET / HTTP/1.1\r\nHost: x\r\n\r\n", true).confidence, 0);
  EXPECT_EQ(Detect("+OK\r\n", false).kind, MessageKind::kResponse);
  EXPECT_GE(Detect("-WRONGTYPE Operation\r\n", false).confidence, 50);
  EXPECT_EQ(Detect("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n", false).confidence, 95);
  EXPECT_EQ(Detect("\x16\x03\x01\x02", true).confidence, 0);
  EXPECT_EQ(Detect("SSH-2.0-OpenSSH\r\n", true).confidence, 0);
}

TEST(RedisCommands, KeysKeptValuesReplaced) {
  DecoderOptions o;
  auto q = [&](std::initializer_list<std::string_view> args) {
    DataStream s;
    std::string bytes = Cmd(args);
    s.Add(0, bytes, bytes.size(), ChunkMeta{}, 0);
    RespParser p(MessageKind::kRequest);
    Message m;
    EXPECT_EQ(p.ParseFrame(s, &m), ParseState::kSuccess);
    return QueryText(m, o);
  };
  EXPECT_EQ(q({"SET", "game:42", "v", "EX", "10"}), "SET game:42 ? EX ?");
  EXPECT_EQ(q({"MSET", "a", "1", "b", "2"}), "MSET a ? b ?");
  EXPECT_EQ(q({"MGET", "a", "b", "c"}), "MGET a b c");
  EXPECT_EQ(q({"HSET", "user:1", "name", "bob"}), "HSET user:1 ? ?");
  EXPECT_EQ(q({"BLPOP", "q1", "q2", "5"}), "BLPOP q1 q2 ?");
  EXPECT_EQ(q({"EVALSHA", "abc", "2", "k1", "k2", "arg"}), "EVALSHA ? 2 k1 k2 ?");
  EXPECT_EQ(q({"ZUNIONSTORE", "dst", "2", "z1", "z2", "WEIGHTS", "1", "2"}),
            "ZUNIONSTORE dst 2 z1 z2 WEIGHTS ? ?");
  EXPECT_EQ(q({"XREAD", "COUNT", "2", "BLOCK", "500", "STREAMS", "s1", "s2", "0", "$"}),
            "XREAD COUNT ? BLOCK ? STREAMS s1 s2 ? ?");
  EXPECT_EQ(q({"RENAME", "a", "b"}), "RENAME a b");
  EXPECT_EQ(q({"FROBNICATE", "x", "y"}), "FROBNICATE ? ?");
  EXPECT_EQ(q({"GET", std::string_view("a\nb\x01", 4)}), "GET a\\x0ab\\x01");
  o.max_query_text_bytes = 20;
  EXPECT_EQ(q({"DEL", "key1", "key2", "key3", "key4", "key5"}), "DEL key1 key2 key3 ...");
}

}  // namespace
}  // namespace wirespan::decoders::redis
