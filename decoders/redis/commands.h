// The Redis command table: which arguments are keys (kept in db.query.text) and which are values
// (replaced by '?'), following the key specs of Redis's command docs (first key, last key, step;
// or a numkeys argument). Unknown commands keep only their name.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "decoders/common/types.h"
#include "decoders/redis/types.h"

namespace wirespan::decoders::redis {

enum CommandFlags : uint16_t {
  kNoFlags = 0,
  kKeepArgs = 1 << 0,     // no argument is sensitive (SELECT 2, CONFIG GET maxmemory)
  kContainer = 1 << 1,    // a two-word command: CLIENT SETNAME, CONFIG GET, ACL ..., SCRIPT ...
  kSecret = 1 << 2,       // arguments are redacted even when sanitizing is off (AUTH, MIGRATE)
  kStreamsKeys = 1 << 3,  // XREAD / XREADGROUP: keys are the first half after STREAMS
  kSubscribe = 1 << 4,    // (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE
  kPublish = 1 << 5,      // PUBLISH / SPUBLISH
  kBlocking = 1 << 6,     // may block server-side (BLPOP, XREAD BLOCK, WAIT, ...)
};

struct CommandSpec {
  std::string_view name;
  // Key positions (argument index, the command name being 0): first, last (negative counts from
  // the end: -1 = last argument), step. first == 0: no fixed keys.
  int8_t first_key = 0;
  int8_t last_key = 0;
  int8_t step = 1;
  // Position of a numkeys argument; the keys follow it (EVAL script numkeys key...).
  int8_t numkeys_pos = 0;
  uint16_t flags = kNoFlags;
};

// The spec for an upper-case command name ("GET"), or for "CONTAINER SUB" ("CONFIG GET").
const CommandSpec* FindCommand(std::string_view upper_name);
bool IsKnownCommand(std::string_view name);  // any case

std::string ToUpperAscii(std::string_view s);
bool IEquals(std::string_view a, std::string_view b);

// What a command is called in spans: "GET", "CLIENT SETNAME", "CONFIG GET". Empty when the
// message carries no command name.
std::string OperationName(const Message& request);

// db.query.text: the command with its keys kept and every other argument replaced by '?'
// (`SET game:42 ?`), unless options.sanitize_queries is off; secrets are always redacted.
// Cut at options.max_query_text_bytes on an argument boundary.
std::string QueryText(const Message& request, const DecoderOptions& options);

}  // namespace wirespan::decoders::redis
