// A small PostgreSQL SQL lexer: enough to sanitize literals out of statements, split a simple
// query string into its statements, and find the operation and main table. It never fails: any
// byte sequence lexes, and unterminated quotes run to the end (so a cut statement still hides its
// literals).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace wirespan::decoders::postgres {

enum class TokenKind : uint8_t {
  kWhitespace,
  kComment,           // -- line or /* nested block */
  kString,            // '...', E'...', B'...', X'...', N'...', U&'...', $tag$...$tag$
  kNumber,            // 42, 4.2, .5e-3, 0x1F, 1_000
  kIdentifier,        // keywords too; compare with EqualsKeyword
  kQuotedIdentifier,  // "..." or U&"..."
  kParameter,         // $1
  kSemicolon,
  kOpenParen,
  kCloseParen,
  kOther,  // operators and punctuation
};

struct Token {
  TokenKind kind;
  std::string_view text;
};

// Lexes all of `sql`. Tokens cover the input exactly, in order.
std::vector<Token> Lex(std::string_view sql);

// Statements of a simple query string, split at top-level semicolons; blank or comment-only
// pieces are dropped. Each view points into `sql`, trimmed of surrounding whitespace.
std::vector<std::string_view> SplitStatements(std::string_view sql);

// Literals (strings, numbers, TRUE/FALSE) become '?'; comments are dropped; identifiers,
// keywords, $n parameters and punctuation stay.
std::string Sanitize(std::string_view sql);

// Cuts `text` to at most `max_bytes` bytes at a UTF-8 character boundary, ending with
// kTruncationMarker, when it is longer (or when `force_marker`, e.g. the source was already cut).
inline constexpr std::string_view kTruncationMarker = "...";
std::string TruncateUtf8(std::string text, size_t max_bytes, bool force_marker, bool* truncated);

struct Summary {
  std::string operation;   // e.g. SELECT, INSERT, CREATE TABLE, BEGIN
  std::string collection;  // e.g. games, public.games ("" when not found)
  // For PREPARE name AS ...; DEALLOCATE [PREPARE] name|ALL; DISCARD ALL.
  std::string prepare_name;
  std::string_view prepare_body;  // into the summarized text
  std::string deallocate_name;
  bool deallocate_all = false;
  bool discard_all = false;
};
Summary Summarize(std::string_view sql);

// The operation from a CommandComplete tag ("INSERT 0 5" -> INSERT, "CREATE TABLE") and its row
// count, if it carries one.
std::string_view TagOperation(std::string_view tag);
bool TagRows(std::string_view tag, uint64_t* rows);

}  // namespace wirespan::decoders::postgres
