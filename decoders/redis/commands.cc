#include "decoders/redis/commands.h"

#include <algorithm>
#include <array>
#include <unordered_map>
#include <vector>

namespace wirespan::decoders::redis {
namespace {

// Key specs from https://redis.io/commands (the "key_specs" / first,last,step of COMMAND INFO).
// {name, first_key, last_key, step, numkeys_pos, flags}
constexpr CommandSpec kCommands[] = {
    // Strings
    {"GET", 1, 1, 1},
    {"SET", 1, 1, 1},
    {"SETNX", 1, 1, 1},
    {"SETEX", 1, 1, 1},
    {"PSETEX", 1, 1, 1},
    {"GETSET", 1, 1, 1},
    {"GETDEL", 1, 1, 1},
    {"GETEX", 1, 1, 1},
    {"APPEND", 1, 1, 1},
    {"STRLEN", 1, 1, 1},
    {"INCR", 1, 1, 1},
    {"DECR", 1, 1, 1},
    {"INCRBY", 1, 1, 1},
    {"DECRBY", 1, 1, 1},
    {"INCRBYFLOAT", 1, 1, 1},
    {"MGET", 1, -1, 1},
    {"MSET", 1, -1, 2},
    {"MSETNX", 1, -1, 2},
    {"GETRANGE", 1, 1, 1},
    {"SETRANGE", 1, 1, 1},
    {"SUBSTR", 1, 1, 1},
    {"SETBIT", 1, 1, 1},
    {"GETBIT", 1, 1, 1},
    {"BITCOUNT", 1, 1, 1},
    {"BITPOS", 1, 1, 1},
    {"BITFIELD", 1, 1, 1},
    {"BITFIELD_RO", 1, 1, 1},
    {"BITOP", 2, -1, 1},
    {"LCS", 1, 2, 1},
    // Generic keyspace
    {"DEL", 1, -1, 1},
    {"UNLINK", 1, -1, 1},
    {"EXISTS", 1, -1, 1},
    {"TOUCH", 1, -1, 1},
    {"EXPIRE", 1, 1, 1},
    {"PEXPIRE", 1, 1, 1},
    {"EXPIREAT", 1, 1, 1},
    {"PEXPIREAT", 1, 1, 1},
    {"EXPIRETIME", 1, 1, 1},
    {"PEXPIRETIME", 1, 1, 1},
    {"TTL", 1, 1, 1},
    {"PTTL", 1, 1, 1},
    {"PERSIST", 1, 1, 1},
    {"TYPE", 1, 1, 1},
    {"RENAME", 1, 2, 1},
    {"RENAMENX", 1, 2, 1},
    {"COPY", 1, 2, 1},
    {"DUMP", 1, 1, 1},
    {"RESTORE", 1, 1, 1},
    {"MOVE", 1, 1, 1},
    {"SORT", 1, 1, 1},
    {"SORT_RO", 1, 1, 1},
    {"KEYS", 1, 1, 1},
    {"SCAN", 0, 0, 1},
    {"RANDOMKEY", 0, 0, 1},
    {"WATCH", 1, -1, 1},
    {"UNWATCH", 0, 0, 1},
    {"OBJECT", 0, 0, 1, 0, kContainer},
    // Lists
    {"LPUSH", 1, 1, 1},
    {"RPUSH", 1, 1, 1},
    {"LPUSHX", 1, 1, 1},
    {"RPUSHX", 1, 1, 1},
    {"LPOP", 1, 1, 1},
    {"RPOP", 1, 1, 1},
    {"LLEN", 1, 1, 1},
    {"LRANGE", 1, 1, 1},
    {"LINDEX", 1, 1, 1},
    {"LSET", 1, 1, 1},
    {"LREM", 1, 1, 1},
    {"LTRIM", 1, 1, 1},
    {"LINSERT", 1, 1, 1},
    {"LPOS", 1, 1, 1},
    {"RPOPLPUSH", 1, 2, 1},
    {"LMOVE", 1, 2, 1},
    {"BLPOP", 1, -2, 1, 0, kBlocking},
    {"BRPOP", 1, -2, 1, 0, kBlocking},
    {"BRPOPLPUSH", 1, 2, 1, 0, kBlocking},
    {"BLMOVE", 1, 2, 1, 0, kBlocking},
    {"LMPOP", 0, 0, 1, 1},
    {"BLMPOP", 0, 0, 1, 2, kBlocking},
    // Hashes
    {"HSET", 1, 1, 1},
    {"HSETNX", 1, 1, 1},
    {"HGET", 1, 1, 1},
    {"HMGET", 1, 1, 1},
    {"HMSET", 1, 1, 1},
    {"HDEL", 1, 1, 1},
    {"HGETALL", 1, 1, 1},
    {"HKEYS", 1, 1, 1},
    {"HVALS", 1, 1, 1},
    {"HLEN", 1, 1, 1},
    {"HEXISTS", 1, 1, 1},
    {"HINCRBY", 1, 1, 1},
    {"HINCRBYFLOAT", 1, 1, 1},
    {"HSTRLEN", 1, 1, 1},
    {"HSCAN", 1, 1, 1},
    {"HRANDFIELD", 1, 1, 1},
    // Sets
    {"SADD", 1, 1, 1},
    {"SREM", 1, 1, 1},
    {"SMEMBERS", 1, 1, 1},
    {"SISMEMBER", 1, 1, 1},
    {"SMISMEMBER", 1, 1, 1},
    {"SCARD", 1, 1, 1},
    {"SPOP", 1, 1, 1},
    {"SRANDMEMBER", 1, 1, 1},
    {"SSCAN", 1, 1, 1},
    {"SINTER", 1, -1, 1},
    {"SUNION", 1, -1, 1},
    {"SDIFF", 1, -1, 1},
    {"SINTERSTORE", 1, -1, 1},
    {"SUNIONSTORE", 1, -1, 1},
    {"SDIFFSTORE", 1, -1, 1},
    {"SMOVE", 1, 2, 1},
    {"SINTERCARD", 0, 0, 1, 1},
    // Sorted sets
    {"ZADD", 1, 1, 1},
    {"ZREM", 1, 1, 1},
    {"ZRANGE", 1, 1, 1},
    {"ZRANGEBYSCORE", 1, 1, 1},
    {"ZREVRANGE", 1, 1, 1},
    {"ZREVRANGEBYSCORE", 1, 1, 1},
    {"ZRANGEBYLEX", 1, 1, 1},
    {"ZREVRANGEBYLEX", 1, 1, 1},
    {"ZSCORE", 1, 1, 1},
    {"ZMSCORE", 1, 1, 1},
    {"ZINCRBY", 1, 1, 1},
    {"ZCARD", 1, 1, 1},
    {"ZCOUNT", 1, 1, 1},
    {"ZLEXCOUNT", 1, 1, 1},
    {"ZRANK", 1, 1, 1},
    {"ZREVRANK", 1, 1, 1},
    {"ZREMRANGEBYRANK", 1, 1, 1},
    {"ZREMRANGEBYSCORE", 1, 1, 1},
    {"ZREMRANGEBYLEX", 1, 1, 1},
    {"ZPOPMIN", 1, 1, 1},
    {"ZPOPMAX", 1, 1, 1},
    {"ZSCAN", 1, 1, 1},
    {"ZRANDMEMBER", 1, 1, 1},
    {"ZRANGESTORE", 1, 2, 1},
    {"BZPOPMIN", 1, -2, 1, 0, kBlocking},
    {"BZPOPMAX", 1, -2, 1, 0, kBlocking},
    {"ZUNIONSTORE", 1, 1, 1, 2},
    {"ZINTERSTORE", 1, 1, 1, 2},
    {"ZDIFFSTORE", 1, 1, 1, 2},
    {"ZUNION", 0, 0, 1, 1},
    {"ZINTER", 0, 0, 1, 1},
    {"ZDIFF", 0, 0, 1, 1},
    {"ZINTERCARD", 0, 0, 1, 1},
    {"ZMPOP", 0, 0, 1, 1},
    {"BZMPOP", 0, 0, 1, 2, kBlocking},
    // Streams
    {"XADD", 1, 1, 1},
    {"XRANGE", 1, 1, 1},
    {"XREVRANGE", 1, 1, 1},
    {"XLEN", 1, 1, 1},
    {"XDEL", 1, 1, 1},
    {"XTRIM", 1, 1, 1},
    {"XACK", 1, 1, 1},
    {"XCLAIM", 1, 1, 1},
    {"XAUTOCLAIM", 1, 1, 1},
    {"XPENDING", 1, 1, 1},
    {"XSETID", 1, 1, 1},
    {"XREAD", 0, 0, 1, 0, kStreamsKeys | kBlocking},
    {"XREADGROUP", 0, 0, 1, 0, kStreamsKeys | kBlocking},
    {"XGROUP", 0, 0, 1, 0, kContainer},
    {"XINFO", 0, 0, 1, 0, kContainer},
    // HyperLogLog, geo
    {"PFADD", 1, 1, 1},
    {"PFCOUNT", 1, -1, 1},
    {"PFMERGE", 1, -1, 1},
    {"GEOADD", 1, 1, 1},
    {"GEODIST", 1, 1, 1},
    {"GEOHASH", 1, 1, 1},
    {"GEOPOS", 1, 1, 1},
    {"GEOSEARCH", 1, 1, 1},
    {"GEORADIUS", 1, 1, 1},
    {"GEORADIUSBYMEMBER", 1, 1, 1},
    {"GEORADIUS_RO", 1, 1, 1},
    {"GEORADIUSBYMEMBER_RO", 1, 1, 1},
    {"GEOSEARCHSTORE", 1, 2, 1},
    // Pub/sub: channels are kept (they name the destination); messages are values.
    {"SUBSCRIBE", 1, -1, 1, 0, kSubscribe},
    {"PSUBSCRIBE", 1, -1, 1, 0, kSubscribe},
    {"SSUBSCRIBE", 1, -1, 1, 0, kSubscribe},
    {"UNSUBSCRIBE", 1, -1, 1, 0, kSubscribe},
    {"PUNSUBSCRIBE", 1, -1, 1, 0, kSubscribe},
    {"SUNSUBSCRIBE", 1, -1, 1, 0, kSubscribe},
    {"PUBLISH", 1, 1, 1, 0, kPublish},
    {"SPUBLISH", 1, 1, 1, 0, kPublish},
    {"PUBSUB", 0, 0, 1, 0, kContainer},
    // Scripting and functions
    {"EVAL", 0, 0, 1, 2},
    {"EVALSHA", 0, 0, 1, 2},
    {"EVAL_RO", 0, 0, 1, 2},
    {"EVALSHA_RO", 0, 0, 1, 2},
    {"FCALL", 0, 0, 1, 2},
    {"FCALL_RO", 0, 0, 1, 2},
    {"SCRIPT", 0, 0, 1, 0, kContainer},
    {"FUNCTION", 0, 0, 1, 0, kContainer},
    // Transactions and connection
    {"MULTI"},
    {"EXEC"},
    {"DISCARD"},
    {"PING"},
    {"ECHO"},
    {"QUIT"},
    {"RESET"},
    {"SELECT", 0, 0, 1, 0, kKeepArgs},
    {"SWAPDB", 0, 0, 1, 0, kKeepArgs},
    {"AUTH", 0, 0, 1, 0, kSecret},
    {"HELLO", 0, 0, 1, 0, kSecret},
    {"MIGRATE", 0, 0, 1, 0, kSecret},
    {"CLIENT", 0, 0, 1, 0, kContainer},
    {"CONFIG", 0, 0, 1, 0, kContainer},
    {"ACL", 0, 0, 1, 0, kContainer},
    {"CLUSTER", 0, 0, 1, 0, kContainer},
    {"COMMAND", 0, 0, 1, 0, kContainer},
    {"MEMORY", 0, 0, 1, 0, kContainer},
    {"LATENCY", 0, 0, 1, 0, kContainer},
    {"MODULE", 0, 0, 1, 0, kContainer},
    {"SLOWLOG", 0, 0, 1, 0, kContainer},
    // Server
    {"INFO", 0, 0, 1, 0, kKeepArgs},
    {"DBSIZE"},
    {"FLUSHDB", 0, 0, 1, 0, kKeepArgs},
    {"FLUSHALL", 0, 0, 1, 0, kKeepArgs},
    {"TIME"},
    {"LASTSAVE"},
    {"SAVE"},
    {"BGSAVE"},
    {"BGREWRITEAOF"},
    {"ROLE"},
    {"WAIT", 0, 0, 1, 0, kBlocking | kKeepArgs},
    {"MONITOR"},
    {"SHUTDOWN", 0, 0, 1, 0, kKeepArgs},
    {"REPLICAOF", 0, 0, 1, 0, kKeepArgs},
    {"SLAVEOF", 0, 0, 1, 0, kKeepArgs},
    {"READONLY"},
    {"READWRITE"},
    {"ASKING"},
    {"DEBUG", 0, 0, 1, 0, kContainer},
    {"LOLWUT"},
};

// Subcommands of two-word commands that name a key or need care.
constexpr CommandSpec kSubcommands[] = {
    {"OBJECT ENCODING", 2, 2, 1},
    {"OBJECT FREQ", 2, 2, 1},
    {"OBJECT IDLETIME", 2, 2, 1},
    {"OBJECT REFCOUNT", 2, 2, 1},
    {"MEMORY USAGE", 2, 2, 1},
    {"XINFO STREAM", 2, 2, 1},
    {"XINFO GROUPS", 2, 2, 1},
    {"XINFO CONSUMERS", 2, 2, 1},
    {"XGROUP CREATE", 2, 2, 1},
    {"XGROUP DESTROY", 2, 2, 1},
    {"XGROUP CREATECONSUMER", 2, 2, 1},
    {"XGROUP DELCONSUMER", 2, 2, 1},
    {"XGROUP SETID", 2, 2, 1},
    {"CONFIG GET", 0, 0, 1, 0, kKeepArgs},
    {"CONFIG SET", 0, 0, 1, 0, kSecret},
    {"CONFIG RESETSTAT"},
    {"CONFIG REWRITE"},
    {"ACL SETUSER", 0, 0, 1, 0, kSecret},
    {"ACL GETUSER", 0, 0, 1, 0, kKeepArgs},
    {"ACL WHOAMI"},
    {"ACL LIST"},
    {"ACL USERS"},
    {"CLIENT SETNAME"},
    {"CLIENT GETNAME"},
    {"CLIENT ID"},
    {"CLIENT INFO"},
    {"CLIENT LIST"},
    {"CLIENT KILL"},
    {"CLIENT SETINFO"},
    {"CLIENT TRACKING", 0, 0, 1, 0, kKeepArgs},
    {"CLIENT REPLY", 0, 0, 1, 0, kKeepArgs},
    {"COMMAND DOCS"},
    {"COMMAND INFO"},
    {"COMMAND COUNT"},
    {"SCRIPT LOAD"},
    {"SCRIPT EXISTS"},
    {"SCRIPT FLUSH"},
    {"FUNCTION LOAD"},
    {"PUBSUB CHANNELS"},
    {"PUBSUB NUMSUB", 2, -1, 1},
    {"PUBSUB SHARDNUMSUB", 2, -1, 1},
};

// Option keywords shown as they are: they are syntax, not data.
constexpr std::string_view kKeywords[] = {
    "EX",         "PX",       "EXAT",       "PXAT",       "NX",          "XX",
    "KEEPTTL",    "GET",      "GT",         "LT",         "CH",          "INCR",
    "COUNT",      "BLOCK",    "STREAMS",    "GROUP",      "NOACK",       "MAXLEN",
    "MINID",      "LIMIT",    "MATCH",      "TYPE",       "WITHSCORES",  "WITHSCORE",
    "BYSCORE",    "BYLEX",    "REV",        "LEFT",       "RIGHT",       "BEFORE",
    "AFTER",      "WEIGHTS",  "AGGREGATE",  "SUM",        "MIN",         "MAX",
    "IDLE",       "TIME",     "RETRYCOUNT", "FORCE",      "JUSTID",      "MKSTREAM",
    "NOMKSTREAM", "REPLACE",  "ABSTTL",     "FREQ",       "DB",          "ASC",
    "DESC",       "ALPHA",    "STORE",      "BY",         "PERSIST",     "WITHVALUES",
    "RANK",       "MAXLEN",   "LEN",        "IDX",        "MINMATCHLEN", "WITHMATCHLEN",
    "ASYNC",      "SYNC",     "FROMMEMBER", "FROMLONLAT", "BYRADIUS",    "BYBOX",
    "WITHCOORD",  "WITHDIST", "WITHHASH",   "ANY",        "STOREDIST",
};

const std::unordered_map<std::string_view, const CommandSpec*>& Table() {
  static const auto* table = [] {
    auto* t = new std::unordered_map<std::string_view, const CommandSpec*>();
    for (const auto& c : kCommands) t->emplace(c.name, &c);
    for (const auto& c : kSubcommands) t->emplace(c.name, &c);
    return t;
  }();
  return *table;
}

bool IsKeyword(std::string_view arg) {
  if (arg.size() > 16) return false;
  for (std::string_view k : kKeywords) {
    if (IEquals(arg, k)) return true;
  }
  return false;
}

bool IsDigits(std::string_view s) {
  if (s.empty() || s.size() > 18) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Appends an argument escaped for display: printable ASCII as is, the rest as \xNN.
void AppendEscaped(std::string& out, const Element& e) {
  static const char* kHex = "0123456789abcdef";
  for (char c : e.text) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '\\') {
      out.push_back(c);
    } else {
      out += "\\x";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  if (e.truncated) out += "...";
}

enum class ArgKind : uint8_t { kRedact, kKey, kKeep };

}  // namespace

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 32);
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 32);
    if (x != y) return false;
  }
  return true;
}

std::string ToUpperAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  }
  return out;
}

const CommandSpec* FindCommand(std::string_view upper_name) {
  const auto& t = Table();
  auto it = t.find(upper_name);
  return it == t.end() ? nullptr : it->second;
}

bool IsKnownCommand(std::string_view name) {
  if (name.empty() || name.size() > 24) return false;
  return FindCommand(ToUpperAscii(name)) != nullptr;
}

std::string OperationName(const Message& request) {
  if (request.elements.empty()) return {};
  const Element& first = request.elements[0];
  if (first.text.empty() || first.truncated || first.text.size() > 32) {
    return first.text.empty() ? std::string() : "UNKNOWN";
  }
  std::string name = ToUpperAscii(first.text);
  for (char& c : name) {  // command names are printable words
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) c = '?';
  }
  const CommandSpec* spec = FindCommand(name);
  if (spec != nullptr && (spec->flags & kContainer) && request.elements.size() >= 2) {
    const Element& sub = request.elements[1];
    if (!sub.text.empty() && !sub.truncated && sub.text.size() <= 32) {
      std::string word = ToUpperAscii(sub.text);
      const bool printable = std::all_of(word.begin(), word.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '|';
      });
      if (printable) name += " " + word;
    }
  }
  return name;
}

std::string QueryText(const Message& request, const DecoderOptions& options) {
  const std::string op = OperationName(request);
  if (op.empty()) return {};
  const size_t limit = std::max<size_t>(options.max_query_text_bytes, 16);
  std::string out = op;
  const size_t words = std::count(op.begin(), op.end(), ' ') + 1;  // 1 or 2
  const auto argc = static_cast<int64_t>(request.element_count);

  const CommandSpec* spec = FindCommand(op);
  if (spec == nullptr && words == 2) spec = FindCommand(op.substr(0, op.find(' ')));
  const uint16_t flags = spec ? spec->flags : uint16_t{kNoFlags};
  const bool container_only = spec && (flags & kContainer) && words == 2 &&
                              FindCommand(op) == nullptr;  // unknown subcommand

  // Which argument positions are keys.
  std::vector<ArgKind> kinds(static_cast<size_t>(std::min<int64_t>(argc, kMaxKeptElements)),
                             ArgKind::kRedact);
  const auto n = static_cast<int64_t>(kinds.size());
  auto mark_keys = [&](int64_t first, int64_t last, int64_t step) {
    if (first <= 0 || step <= 0) return;
    if (last < 0) last = argc + last;
    for (int64_t i = first; i <= last && i < n; i += step) kinds[i] = ArgKind::kKey;
  };
  if (spec != nullptr && !container_only) {
    if (flags & kKeepArgs) std::fill(kinds.begin(), kinds.end(), ArgKind::kKeep);
    mark_keys(spec->first_key, spec->last_key, spec->step);
    if (spec->numkeys_pos > 0 && spec->numkeys_pos < n) {
      int64_t numkeys = 0;
      const std::string& text = request.elements[spec->numkeys_pos].text;
      if (IsDigits(text)) {
        numkeys = std::stoll(text);
        kinds[spec->numkeys_pos] = ArgKind::kKeep;
        mark_keys(spec->numkeys_pos + 1, spec->numkeys_pos + numkeys, 1);
      }
    }
    if (flags & kStreamsKeys) {
      for (int64_t i = 1; i < n; ++i) {
        if (IEquals(request.elements[i].text, "STREAMS")) {
          const int64_t count = (argc - i - 1) / 2;
          mark_keys(i + 1, i + count, 1);
          break;
        }
      }
    }
  }
  const bool secret = (flags & kSecret) != 0;
  const bool sanitize = options.sanitize_queries || secret;

  // HELLO protover [AUTH user pass] [SETNAME name]: only the protocol version is shown.
  const bool hello = op == "HELLO";
  int64_t hello_redact_left = 0;
  for (int64_t i = static_cast<int64_t>(words); i < argc; ++i) {
    if (i >= n) {
      out += " ...";
      break;
    }
    const Element& e = request.elements[i];
    std::string piece;
    ArgKind kind = kinds[i];
    if (hello) {
      kind = ArgKind::kRedact;
      if (hello_redact_left > 0) {
        --hello_redact_left;
      } else if (i == 1 && IsDigits(e.text)) {
        kind = ArgKind::kKeep;
      } else if (IEquals(e.text, "AUTH")) {
        kind = ArgKind::kKeep;
        hello_redact_left = 2;
      } else if (IEquals(e.text, "SETNAME")) {
        kind = ArgKind::kKeep;
        hello_redact_left = 1;
      }
    } else if (secret) {
      kind = ArgKind::kRedact;
    } else if (kind == ArgKind::kRedact && (!sanitize || IsKeyword(e.text))) {
      kind = ArgKind::kKeep;
    }
    if (kind == ArgKind::kRedact) {
      piece = "?";
    } else {
      AppendEscaped(piece, e);
    }
    if (out.size() + 1 + piece.size() > limit) {
      out += " ...";
      break;
    }
    out += ' ';
    out += piece;
  }
  if (out.size() > limit + 4) out.resize(limit);  // the name alone was too long
  return out;
}

}  // namespace wirespan::decoders::redis
