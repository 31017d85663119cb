#include "decoders/postgres/sql.h"

#include <cctype>

namespace wirespan::decoders::postgres {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c) || c == '$'; }
char Upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

bool EqualsKeyword(std::string_view text, std::string_view upper_keyword) {
  if (text.size() != upper_keyword.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (Upper(text[i]) != upper_keyword[i]) return false;
  }
  return true;
}

std::string ToUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Upper(c);
  return out;
}

// End of a quoted run starting at `open` (the quote), where a doubled quote escapes it and, for
// E'' strings, a backslash escapes the next byte. Unterminated: the end of the input.
size_t EndOfQuoted(std::string_view s, size_t open, char quote, bool backslash_escapes) {
  size_t i = open + 1;
  while (i < s.size()) {
    const char c = s[i];
    if (backslash_escapes && c == '\\') {
      i += 2;
      continue;
    }
    if (c == quote) {
      if (i + 1 < s.size() && s[i + 1] == quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    ++i;
  }
  return s.size();
}

}  // namespace

std::vector<Token> Lex(std::string_view s) {
  std::vector<Token> tokens;
  size_t i = 0;
  auto push = [&](TokenKind kind, size_t end) {
    if (end > s.size()) end = s.size();
    if (end <= i) end = i + 1;  // always progress
    tokens.push_back(Token{kind, s.substr(i, end - i)});
    i = end;
  };
  while (i < s.size()) {
    const char c = s[i];
    const char n = i + 1 < s.size() ? s[i + 1] : '\0';
    if (IsSpace(c)) {
      size_t j = i + 1;
      while (j < s.size() && IsSpace(s[j])) ++j;
      push(TokenKind::kWhitespace, j);
    } else if (c == '-' && n == '-') {
      size_t j = i + 2;
      while (j < s.size() && s[j] != '\n' && s[j] != '\r') ++j;
      push(TokenKind::kComment, j);
    } else if (c == '/' && n == '*') {
      size_t j = i + 2;
      int depth = 1;
      while (j < s.size() && depth > 0) {
        if (s[j] == '/' && j + 1 < s.size() && s[j + 1] == '*') {
          ++depth;
          j += 2;
        } else if (s[j] == '*' && j + 1 < s.size() && s[j + 1] == '/') {
          --depth;
          j += 2;
        } else {
          ++j;
        }
      }
      push(TokenKind::kComment, j);
    } else if (c == '\'') {
      push(TokenKind::kString, EndOfQuoted(s, i, '\'', false));
    } else if ((c == 'E' || c == 'e') && n == '\'') {
      push(TokenKind::kString, EndOfQuoted(s, i + 1, '\'', true));
    } else if ((c == 'B' || c == 'b' || c == 'X' || c == 'x' || c == 'N' || c == 'n') &&
               n == '\'') {
      push(TokenKind::kString, EndOfQuoted(s, i + 1, '\'', false));
    } else if ((c == 'U' || c == 'u') && n == '&' && i + 2 < s.size() &&
               (s[i + 2] == '\'' || s[i + 2] == '"')) {
      const char q = s[i + 2];
      push(q == '\'' ? TokenKind::kString : TokenKind::kQuotedIdentifier,
           EndOfQuoted(s, i + 2, q, false));
    } else if (c == '"') {
      push(TokenKind::kQuotedIdentifier, EndOfQuoted(s, i, '"', false));
    } else if (c == '$' && IsDigit(n)) {
      size_t j = i + 1;
      while (j < s.size() && IsDigit(s[j])) ++j;
      push(TokenKind::kParameter, j);
    } else if (c == '$' && (n == '$' || (IsIdentStart(n)))) {
      // Dollar quote $tag$ ... $tag$ (a tag cannot contain '$' and does not start with a digit).
      size_t j = i + 1;
      while (j < s.size() && s[j] != '$' && (IsIdentChar(s[j]))) ++j;
      if (j < s.size() && s[j] == '$') {
        const std::string_view tag = s.substr(i, j + 1 - i);
        const size_t close = s.find(tag, j + 1);
        push(TokenKind::kString, close == std::string_view::npos ? s.size() : close + tag.size());
      } else {
        push(TokenKind::kOther, i + 1);
      }
    } else if (IsDigit(c) || (c == '.' && IsDigit(n))) {
      size_t j = i;
      if (c == '0' && (n == 'x' || n == 'X' || n == 'o' || n == 'O' || n == 'b' || n == 'B')) {
        j += 2;
        while (j < s.size() && (std::isxdigit(static_cast<unsigned char>(s[j])) || s[j] == '_'))
          ++j;
      } else {
        while (j < s.size() && (IsDigit(s[j]) || s[j] == '_')) ++j;
        if (j < s.size() && s[j] == '.' && !(j + 1 < s.size() && s[j + 1] == '.')) {
          ++j;
          while (j < s.size() && (IsDigit(s[j]) || s[j] == '_')) ++j;
        }
        if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
          size_t k = j + 1;
          if (k < s.size() && (s[k] == '+' || s[k] == '-')) ++k;
          if (k < s.size() && IsDigit(s[k])) {
            j = k;
            while (j < s.size() && IsDigit(s[j])) ++j;
          }
        }
      }
      push(TokenKind::kNumber, j);
    } else if (IsIdentStart(c)) {
      size_t j = i + 1;
      while (j < s.size() && IsIdentChar(s[j])) ++j;
      push(TokenKind::kIdentifier, j);
    } else if (c == ';') {
      push(TokenKind::kSemicolon, i + 1);
    } else if (c == '(') {
      push(TokenKind::kOpenParen, i + 1);
    } else if (c == ')') {
      push(TokenKind::kCloseParen, i + 1);
    } else {
      push(TokenKind::kOther, i + 1);
    }
  }
  return tokens;
}

std::vector<std::string_view> SplitStatements(std::string_view sql) {
  std::vector<std::string_view> out;
  const std::vector<Token> tokens = Lex(sql);
  int depth = 0;
  int atomic = 0;  // BEGIN ATOMIC ... END bodies of SQL functions contain semicolons
  std::string_view prev_word;
  size_t start = 0;
  size_t pos = 0;
  bool meaningful = false;
  auto flush = [&](size_t end) {
    if (meaningful) {
      std::string_view piece = sql.substr(start, end - start);
      while (!piece.empty() && IsSpace(piece.front())) piece.remove_prefix(1);
      while (!piece.empty() && IsSpace(piece.back())) piece.remove_suffix(1);
      if (!piece.empty()) out.push_back(piece);
    }
    meaningful = false;
  };
  for (const Token& t : tokens) {
    const size_t end = pos + t.text.size();
    switch (t.kind) {
      case TokenKind::kOpenParen:
        ++depth;
        meaningful = true;
        break;
      case TokenKind::kCloseParen:
        if (depth > 0) --depth;
        meaningful = true;
        break;
      case TokenKind::kSemicolon:
        if (depth == 0 && atomic == 0) {
          flush(pos);
          start = end;
        }
        break;
      case TokenKind::kWhitespace:
      case TokenKind::kComment:
        break;
      case TokenKind::kIdentifier:
        meaningful = true;
        if (EqualsKeyword(t.text, "ATOMIC") && EqualsKeyword(prev_word, "BEGIN")) {
          ++atomic;
        } else if (atomic > 0 && EqualsKeyword(t.text, "CASE")) {
          ++atomic;
        } else if (atomic > 0 && EqualsKeyword(t.text, "END")) {
          --atomic;
        }
        prev_word = t.text;
        break;
      default:
        meaningful = true;
        break;
    }
    if (t.kind != TokenKind::kIdentifier && t.kind != TokenKind::kWhitespace &&
        t.kind != TokenKind::kComment) {
      prev_word = {};
    }
    pos = end;
  }
  flush(sql.size());
  return out;
}

std::string Sanitize(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  bool after_comment = false;
  for (const Token& t : Lex(sql)) {
    const bool skip_space =
        after_comment && t.kind == TokenKind::kWhitespace && (out.empty() || IsSpace(out.back()));
    after_comment = t.kind == TokenKind::kComment || (after_comment && skip_space);
    if (skip_space) continue;
    switch (t.kind) {
      case TokenKind::kString:
      case TokenKind::kNumber:
        out.push_back('?');
        break;
      case TokenKind::kIdentifier:
        if (EqualsKeyword(t.text, "TRUE") || EqualsKeyword(t.text, "FALSE")) {
          out.push_back('?');
        } else {
          out.append(t.text);
        }
        break;
      case TokenKind::kComment:
        // Comments may hold anything: drop them, keeping tokens apart.
        if (!out.empty() && !IsSpace(out.back())) out.push_back(' ');
        break;
      default:
        out.append(t.text);
        break;
    }
  }
  // Comments at the edges leave spaces behind.
  while (!out.empty() && IsSpace(out.back())) out.pop_back();
  size_t lead = 0;
  while (lead < out.size() && IsSpace(out[lead])) ++lead;
  out.erase(0, lead);
  return out;
}

std::string TruncateUtf8(std::string text, size_t max_bytes, bool force_marker, bool* truncated) {
  auto trim_partial = [](std::string& s) {
    // Drop a trailing incomplete UTF-8 sequence.
    size_t i = s.size();
    size_t back = 0;
    while (i > 0 && back < 4 && (static_cast<unsigned char>(s[i - 1]) & 0xC0) == 0x80) {
      --i;
      ++back;
    }
    if (i == 0) return;
    const auto lead = static_cast<unsigned char>(s[i - 1]);
    size_t need = 0;
    if (lead >= 0xF0)
      need = 3;
    else if (lead >= 0xE0)
      need = 2;
    else if (lead >= 0xC0)
      need = 1;
    else
      return;
    if (back < need) s.resize(i - 1);
  };
  const bool too_long = text.size() > max_bytes;
  if (truncated != nullptr) *truncated = too_long || force_marker;
  if (!too_long && !force_marker) return text;
  const size_t marker = kTruncationMarker.size();
  if (max_bytes <= marker) {
    text.clear();
    return std::string(kTruncationMarker.substr(0, max_bytes));
  }
  if (text.size() + marker > max_bytes) {
    size_t cut = max_bytes - marker;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text.resize(cut);
  }
  trim_partial(text);
  text.append(kTruncationMarker);
  return text;
}

namespace {

// A cursor over the meaningful tokens (no whitespace/comments) of one statement.
class Words {
 public:
  explicit Words(std::string_view sql) {
    for (const Token& t : Lex(sql)) {
      if (t.kind != TokenKind::kWhitespace && t.kind != TokenKind::kComment) tokens_.push_back(t);
    }
  }
  bool done() const { return i_ >= tokens_.size(); }
  const Token* peek(size_t ahead = 0) const {
    return i_ + ahead < tokens_.size() ? &tokens_[i_ + ahead] : nullptr;
  }
  bool Is(std::string_view kw, size_t ahead = 0) const {
    const Token* t = peek(ahead);
    return t != nullptr && t->kind == TokenKind::kIdentifier && EqualsKeyword(t->text, kw);
  }
  bool Accept(std::string_view kw) {
    if (!Is(kw)) return false;
    ++i_;
    return true;
  }
  void Next() { ++i_; }
  size_t index() const { return i_; }
  void Seek(size_t i) { i_ = i; }
  size_t size() const { return tokens_.size(); }
  const Token& at(size_t i) const { return tokens_[i]; }

  // A possibly qualified name (a.b.c); "" when there is none here.
  std::string Name() {
    std::string name;
    while (const Token* t = peek()) {
      if (t->kind == TokenKind::kIdentifier) {
        name.append(t->text);
      } else if (t->kind == TokenKind::kQuotedIdentifier) {
        std::string_view q = t->text;
        if (!q.empty() && (q[0] == 'U' || q[0] == 'u')) q.remove_prefix(2);
        if (q.size() >= 2 && q.back() == '"') q.remove_suffix(1);
        if (!q.empty()) q.remove_prefix(1);
        for (size_t k = 0; k < q.size(); ++k) {
          name.push_back(q[k]);
          if (q[k] == '"' && k + 1 < q.size() && q[k + 1] == '"') ++k;
        }
      } else {
        break;
      }
      ++i_;
      const Token* dot = peek();
      if (dot != nullptr && dot->kind == TokenKind::kOther && dot->text == "." &&
          peek(1) != nullptr &&
          (peek(1)->kind == TokenKind::kIdentifier ||
           peek(1)->kind == TokenKind::kQuotedIdentifier)) {
        name.push_back('.');
        ++i_;
        continue;
      }
      break;
    }
    return name;
  }

 private:
  std::vector<Token> tokens_;
  size_t i_ = 0;
};

bool IsKeywordName(std::string_view w) {
  // Words that follow FROM but are not a table.
  for (std::string_view kw : {"SELECT", "LATERAL", "ONLY", "UNNEST", "GENERATE_SERIES"}) {
    if (EqualsKeyword(w, kw)) return true;
  }
  return false;
}

// The first table after FROM at the statement's top level.
std::string FromTable(Words& w) {
  int depth = 0;
  while (!w.done()) {
    const Token* t = w.peek();
    if (t->kind == TokenKind::kOpenParen)
      ++depth;
    else if (t->kind == TokenKind::kCloseParen) {
      if (depth > 0) --depth;
    } else if (depth == 0 && t->kind == TokenKind::kIdentifier && EqualsKeyword(t->text, "FROM")) {
      w.Next();
      w.Accept("ONLY");
      const Token* n = w.peek();
      if (n == nullptr || n->kind == TokenKind::kOpenParen) return {};
      if (n->kind == TokenKind::kIdentifier && IsKeywordName(n->text)) return {};
      std::string name = w.Name();
      // A function call in FROM (generate_series(...)) is not a table.
      if (const Token* p = w.peek(); p != nullptr && p->kind == TokenKind::kOpenParen) return {};
      return name;
    }
    w.Next();
  }
  return {};
}

void SkipIfExists(Words& w) {
  if (w.Is("IF") && w.Is("EXISTS", 1)) {
    w.Next();
    w.Next();
  }
  if (w.Is("IF") && w.Is("NOT", 1) && w.Is("EXISTS", 2)) {
    w.Next();
    w.Next();
    w.Next();
  }
}

}  // namespace

Summary Summarize(std::string_view sql) {
  Summary s;
  Words w(sql);
  const Token* first = w.peek();
  if (first == nullptr || first->kind != TokenKind::kIdentifier) {
    if (first != nullptr && first->kind == TokenKind::kOpenParen) {
      // (SELECT ...) UNION ...
      s.operation = "SELECT";
    }
    return s;
  }
  std::string op = ToUpper(first->text);
  w.Next();
  if (op == "WITH") {
    // Skip the CTEs to the main statement.
    int depth = 0;
    while (!w.done()) {
      const Token* t = w.peek();
      if (t->kind == TokenKind::kOpenParen)
        ++depth;
      else if (t->kind == TokenKind::kCloseParen) {
        if (depth > 0) --depth;
      } else if (depth == 0 && t->kind == TokenKind::kIdentifier) {
        for (std::string_view kw :
             {"SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "VALUES", "TABLE"}) {
          if (EqualsKeyword(t->text, kw)) {
            op = std::string(kw);
            break;
          }
        }
        if (op != "WITH") {
          w.Next();
          break;
        }
      }
      w.Next();
    }
    if (op == "WITH") return s;
  }
  s.operation = op;
  if (op == "SELECT" || op == "VALUES") {
    s.collection = FromTable(w);
  } else if (op == "TABLE") {
    s.operation = "SELECT";
    w.Accept("ONLY");
    s.collection = w.Name();
  } else if (op == "INSERT" || op == "MERGE") {
    w.Accept("INTO");
    s.collection = w.Name();
  } else if (op == "UPDATE") {
    w.Accept("ONLY");
    s.collection = w.Name();
  } else if (op == "DELETE") {
    w.Accept("FROM");
    w.Accept("ONLY");
    s.collection = w.Name();
  } else if (op == "COPY") {
    if (!(w.peek() != nullptr && w.peek()->kind == TokenKind::kOpenParen)) s.collection = w.Name();
  } else if (op == "TRUNCATE" || op == "LOCK") {
    w.Accept("TABLE");
    w.Accept("ONLY");
    s.collection = w.Name();
  } else if (op == "CREATE" || op == "DROP" || op == "ALTER") {
    w.Accept("OR");
    w.Accept("REPLACE");
    for (std::string_view mod : {"GLOBAL", "LOCAL", "TEMP", "TEMPORARY", "UNLOGGED", "UNIQUE",
                                 "MATERIALIZED", "RECURSIVE"}) {
      w.Accept(mod);
      w.Accept("TEMP");
      w.Accept("TEMPORARY");
      w.Accept("UNLOGGED");
      w.Accept("UNIQUE");
    }
    const Token* object = w.peek();
    if (object != nullptr && object->kind == TokenKind::kIdentifier) {
      const std::string obj = ToUpper(object->text);
      s.operation = op + " " + obj;
      w.Next();
      if (obj == "TABLE" || obj == "VIEW" || obj == "SEQUENCE") {
        w.Accept("CONCURRENTLY");
        SkipIfExists(w);
        w.Accept("ONLY");
        s.collection = w.Name();
      } else if (obj == "INDEX") {
        w.Accept("CONCURRENTLY");
        SkipIfExists(w);
        // CREATE INDEX [name] ON table
        while (!w.done() && !w.Is("ON")) w.Next();
        if (w.Accept("ON")) {
          w.Accept("ONLY");
          s.collection = w.Name();
        }
      }
    }
  } else if (op == "PREPARE") {
    s.prepare_name = w.Name();
    if (w.peek() != nullptr && w.peek()->kind == TokenKind::kOpenParen) {
      int depth = 0;
      while (!w.done()) {
        const Token* t = w.peek();
        w.Next();
        if (t->kind == TokenKind::kOpenParen) ++depth;
        if (t->kind == TokenKind::kCloseParen && --depth == 0) break;
      }
    }
    if (w.Accept("AS") && !w.done()) {
      const char* body = w.peek()->text.data();
      s.prepare_body = sql.substr(static_cast<size_t>(body - sql.data()));
    }
  } else if (op == "DEALLOCATE") {
    w.Accept("PREPARE");
    if (w.Is("ALL")) {
      s.deallocate_all = true;
    } else {
      s.deallocate_name = w.Name();
    }
  } else if (op == "DISCARD") {
    s.discard_all = w.Is("ALL");
  } else if (op == "START" && w.Is("TRANSACTION")) {
    s.operation = "START TRANSACTION";
  }
  return s;
}

std::string_view TagOperation(std::string_view tag) {
  while (!tag.empty() && tag.back() == '\0') tag.remove_suffix(1);
  for (;;) {
    size_t sp = tag.rfind(' ');
    if (sp == std::string_view::npos) break;
    std::string_view last = tag.substr(sp + 1);
    bool digits = !last.empty();
    for (char c : last) digits = digits && IsDigit(c);
    if (!digits) break;
    tag = tag.substr(0, sp);
  }
  return tag;
}

bool TagRows(std::string_view tag, uint64_t* rows) {
  while (!tag.empty() && tag.back() == '\0') tag.remove_suffix(1);
  const size_t sp = tag.rfind(' ');
  if (sp == std::string_view::npos) return false;
  std::string_view last = tag.substr(sp + 1);
  if (last.empty() || last.size() > 19) return false;
  uint64_t v = 0;
  for (char c : last) {
    if (!IsDigit(c)) return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *rows = v;
  return true;
}

}  // namespace wirespan::decoders::postgres
