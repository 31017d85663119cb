#include "decoders/redis/parse.h"

#include <algorithm>
#include <cstring>

namespace wirespan::decoders::redis {
namespace {

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

// Position of the "\r\n" ending the line at the head, or npos.
size_t FindCrlf(std::string_view head, size_t limit, size_t from) {
  const size_t n = std::min(head.size(), limit + 2);
  for (size_t i = from; i + 1 < n; ++i) {
    if (head[i] == '\r' && head[i + 1] == '\n') return i;
  }
  return std::string_view::npos;
}

bool ValidDouble(std::string_view s) {
  if (s.empty()) return false;
  if (s == "inf" || s == "-inf" || s == "nan" || s == "-nan") return true;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E')) {
      return false;
    }
  }
  return true;
}

bool ValidBigNumber(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

bool ParseRespInt(std::string_view text, int64_t* value) {
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  if (text.empty() || text.size() > 18) return false;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *value = negative ? -v : v;
  return true;
}

void RespParser::Reset() {
  in_message_ = false;
  msg_ = Message{};
  stack_.clear();
  attributes_open_ = 0;
  kept_bytes_ = 0;
  secret_from_ = UINT64_MAX;
  secret_until_ = UINT64_MAX;
  in_blob_ = false;
  blob_remaining_ = 0;
  blob_crlf_remaining_ = 0;
  blob_slot_ = kNoSlot;
  scan_pos_ = UINT64_MAX;
  scanned_ = 0;
}

size_t RespParser::FindFrameBoundary(std::string_view bytes) const {
  // A message starts at a line start. Commands are always arrays ("*<digit>"); replies may start
  // with any type byte.
  for (size_t i = 1; i + 1 < bytes.size(); ++i) {
    if (bytes[i - 1] != '\n') continue;
    const char c = bytes[i];
    if (kind_ == MessageKind::kRequest) {
      if (c == '*' && bytes[i + 1] >= '1' && bytes[i + 1] <= '9') return i;
    } else if (IsRespTypeByte(c)) {
      return i;
    }
  }
  return std::string_view::npos;
}

size_t RespParser::ScanFrom(const DataStream& stream) const {
  // Bytes already searched for a line end (minus one: "\r\n" may straddle two reads).
  if (scan_pos_ != stream.head_pos() || scanned_ == 0) return 0;
  return std::min<size_t>(scanned_ - 1, stream.Head().size());
}

void RespParser::RememberScan(const DataStream& stream, size_t scanned) {
  scan_pos_ = stream.head_pos();
  scanned_ = scanned;
}

void RespParser::StartMessage(DataStream& stream) {
  msg_ = Message{};
  msg_.first = stream.MetaAt(stream.head_pos());
  msg_.first_pos = stream.head_pos();
  in_message_ = true;
  kept_bytes_ = 0;
  secret_from_ = UINT64_MAX;
  secret_until_ = UINT64_MAX;
}

ParseState RespParser::Complete(DataStream& stream, Message* out) {
  msg_.last = stream.last_consumed_meta();
  msg_.wire_bytes = stream.head_pos() - msg_.first_pos;
  *out = std::move(msg_);
  Reset();
  return ParseState::kSuccess;
}

int RespParser::OpenSlot(RespType type) {
  if (attributes_open_ > 0 || type == RespType::kAttribute) return kNoSlot;
  if (stack_.empty()) return kTopSlot;
  if (stack_.size() != 1) return kNoSlot;
  ++msg_.element_count;
  if (msg_.elements.size() >= kMaxKeptElements) return kNoSlot;
  msg_.elements.emplace_back();
  return static_cast<int>(msg_.elements.size() - 1);
}

Element* RespParser::SlotElement(int slot) {
  if (slot == kTopSlot) return &msg_.value;
  if (slot >= 0 && static_cast<size_t>(slot) < msg_.elements.size()) return &msg_.elements[slot];
  return nullptr;
}

void RespParser::KeepText(int slot, std::string_view bytes) {
  Element* e = SlotElement(slot);
  if (e == nullptr || bytes.empty()) return;
  const auto index = static_cast<uint64_t>(slot);
  if (kind_ == MessageKind::kRequest && slot >= 0 && index >= secret_from_ &&
      index < secret_until_) {
    e->truncated = true;  // a secret: never kept
    return;
  }
  const size_t room_elem = kMaxKeptElementBytes - std::min(kMaxKeptElementBytes, e->text.size());
  const size_t room_msg = kMaxKeptMessageBytes - std::min(kMaxKeptMessageBytes, kept_bytes_);
  const size_t n = std::min({bytes.size(), room_elem, room_msg});
  e->text.append(bytes.data(), n);
  kept_bytes_ += n;
  if (n < bytes.size()) e->truncated = true;
}

void RespParser::ElementDone(int slot) {
  if (kind_ != MessageKind::kRequest || slot < 0) return;
  const Element& e = msg_.elements[slot];
  if (slot == 0) {
    if (IEquals(e.text, "AUTH")) secret_from_ = 1;  // AUTH [username] password
    return;
  }
  // HELLO protover AUTH username password: the two values after AUTH are secrets.
  if (secret_from_ == UINT64_MAX && IEquals(msg_.elements[0].text, "HELLO") &&
      IEquals(e.text, "AUTH")) {
    secret_from_ = static_cast<uint64_t>(slot) + 1;
    secret_until_ = static_cast<uint64_t>(slot) + 3;
  }
}

bool RespParser::FinishValue(bool was_attribute) {
  for (;;) {
    if (stack_.empty()) {
      if (was_attribute) msg_.has_attribute = true;  // the real value follows
      return !was_attribute;
    }
    Level& top = stack_.back();
    if (!was_attribute) --top.remaining;
    if (top.remaining > 0) return false;
    was_attribute = top.attribute;
    if (top.attribute) --attributes_open_;
    stack_.pop_back();
  }
}

ParseState RespParser::ParseInline(DataStream& stream, Message* out) {
  std::string_view head = stream.Head();
  const size_t limit = std::min(head.size(), max_line_bytes_ + 1);
  const size_t eol = head.substr(0, limit).find('\n', ScanFrom(stream));
  if (eol == std::string_view::npos) {
    if (head.size() > max_line_bytes_) return ParseState::kInvalid;
    RememberScan(stream, head.size());
    in_message_ = false;  // nothing consumed: start over when the line is complete
    return ParseState::kNeedsMoreData;
  }
  std::string_view line = head.substr(0, eol);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  // Inline commands are printable text; anything else is not Redis.
  for (char c : line) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 && c != '\t') return ParseState::kInvalid;
  }
  msg_.value.type = RespType::kInline;
  msg_.value.size = line.size();
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size()) break;
    size_t start = i;
    std::string_view arg;
    if (line[i] == '"' || line[i] == '\'') {
      const char quote = line[i];
      const size_t close = line.find(quote, i + 1);
      if (close == std::string_view::npos) return ParseState::kInvalid;  // unbalanced quotes
      arg = line.substr(i + 1, close - i - 1);
      i = close + 1;
    } else {
      while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
      arg = line.substr(start, i - start);
    }
    const int slot = [&] {
      ++msg_.element_count;
      if (msg_.elements.size() >= kMaxKeptElements) return static_cast<int>(kNoSlot);
      msg_.elements.emplace_back();
      return static_cast<int>(msg_.elements.size() - 1);
    }();
    if (Element* e = SlotElement(slot)) {
      e->type = RespType::kBlobString;
      e->size = arg.size();
      KeepText(slot, arg);
      ElementDone(slot);
    }
  }
  stream.Consume(eol + 1);
  if (msg_.element_count == 0) {  // an empty line: Redis ignores it
    Reset();
    return ParseState::kIgnored;
  }
  return Complete(stream, out);
}

ParseState RespParser::ParseFrame(DataStream& stream, Message* out) {
  for (;;) {
    if (in_blob_) {
      if (blob_remaining_ > 0) {
        std::string_view head = stream.Head();
        if (head.empty()) {
          const uint64_t gap = stream.GapAtHead();
          if (gap == 0) return ParseState::kNeedsMoreData;
          // Inside a blob we only count: step over the missing bytes.
          const uint64_t n = std::min(gap, blob_remaining_);
          stream.ConsumeGap(n);
          blob_remaining_ -= n;
          if (stats_) stats_->gap_bytes_skipped += n;
          if (Element* e = SlotElement(blob_slot_)) e->truncated = true;
          continue;
        }
        const size_t n = static_cast<size_t>(std::min<uint64_t>(head.size(), blob_remaining_));
        KeepText(blob_slot_, head.substr(0, n));
        stream.Consume(n);
        blob_remaining_ -= n;
        continue;
      }
      while (blob_crlf_remaining_ > 0) {
        std::string_view head = stream.Head();
        if (head.empty()) {
          const uint64_t gap = stream.GapAtHead();
          if (gap == 0) return ParseState::kNeedsMoreData;
          const uint64_t n = std::min<uint64_t>(gap, static_cast<uint64_t>(blob_crlf_remaining_));
          stream.ConsumeGap(n);
          blob_crlf_remaining_ -= static_cast<int>(n);
          if (stats_) stats_->gap_bytes_skipped += n;
          continue;
        }
        const char expected = blob_crlf_remaining_ == 2 ? '\r' : '\n';
        if (head[0] != expected) return ParseState::kInvalid;
        stream.Consume(1);
        --blob_crlf_remaining_;
      }
      in_blob_ = false;
      ElementDone(blob_slot_);
      if (FinishValue(false)) return Complete(stream, out);
      continue;
    }

    std::string_view head = stream.Head();
    if (head.empty()) return ParseState::kNeedsMoreData;
    if (!in_message_) {
      StartMessage(stream);
      if (kind_ == MessageKind::kRequest && head[0] != '*') return ParseInline(stream, out);
    }
    const char type_byte = head[0];
    if (!IsRespTypeByte(type_byte)) return ParseState::kInvalid;
    const size_t from = ScanFrom(stream);
    const size_t eol = FindCrlf(head, max_line_bytes_, from);
    if (eol == std::string_view::npos) {
      if (head.size() > max_line_bytes_ + 2) return ParseState::kInvalid;
      // A lone '\n' inside a header line can never become valid.
      if (head.find('\n', from) != std::string_view::npos) return ParseState::kInvalid;
      RememberScan(stream, head.size());
      return ParseState::kNeedsMoreData;
    }
    const std::string_view line = head.substr(1, eol - 1);
    if (line.find_first_of("\r\n") != std::string_view::npos) return ParseState::kInvalid;
    const size_t header_len = eol + 2;
    const auto type = static_cast<RespType>(type_byte);
    // Requests are arrays of blob strings (RESP2 and RESP3 alike).
    if (kind_ == MessageKind::kRequest && !stack_.empty() && type != RespType::kBlobString) {
      return ParseState::kInvalid;
    }

    switch (type) {
      case RespType::kSimpleString:
      case RespType::kSimpleError:
      case RespType::kInteger:
      case RespType::kDouble:
      case RespType::kBigNumber:
      case RespType::kBoolean:
      case RespType::kNull: {
        int64_t ignored = 0;
        if (type == RespType::kInteger && !ParseRespInt(line, &ignored)) {
          return ParseState::kInvalid;
        }
        if (type == RespType::kDouble && !ValidDouble(line)) return ParseState::kInvalid;
        if (type == RespType::kBigNumber && !ValidBigNumber(line)) return ParseState::kInvalid;
        if (type == RespType::kBoolean && line != "t" && line != "f") return ParseState::kInvalid;
        if (type == RespType::kNull && !line.empty()) return ParseState::kInvalid;
        const int slot = OpenSlot(type);
        if (Element* e = SlotElement(slot)) {
          e->type = type;
          e->is_null = type == RespType::kNull;
          e->size = line.size();
          KeepText(slot, line);
        }
        stream.Consume(header_len);
        ElementDone(slot);
        if (FinishValue(false)) return Complete(stream, out);
        continue;
      }
      case RespType::kBlobString:
      case RespType::kBlobError:
      case RespType::kVerbatimString: {
        int64_t len = 0;
        if (!ParseRespInt(line, &len) || line[0] == '+') return ParseState::kInvalid;
        if (len == -1 && type == RespType::kBlobString && kind_ == MessageKind::kResponse) {
          const int slot = OpenSlot(type);
          if (Element* e = SlotElement(slot)) {
            e->type = type;
            e->is_null = true;
          }
          stream.Consume(header_len);
          if (FinishValue(false)) return Complete(stream, out);
          continue;
        }
        if (len < 0 || len > kMaxBlobBytes) return ParseState::kInvalid;
        if (type == RespType::kVerbatimString && len < 4) return ParseState::kInvalid;
        const int slot = OpenSlot(type);
        if (Element* e = SlotElement(slot)) {
          e->type = type;
          e->size = static_cast<uint64_t>(len);
        }
        stream.Consume(header_len);
        in_blob_ = true;
        blob_remaining_ = static_cast<uint64_t>(len);
        blob_crlf_remaining_ = 2;
        blob_slot_ = slot;
        continue;
      }
      case RespType::kArray:
      case RespType::kMap:
      case RespType::kSet:
      case RespType::kAttribute:
      case RespType::kPush: {
        int64_t count = 0;
        if (!ParseRespInt(line, &count) || line[0] == '+') return ParseState::kInvalid;
        if (kind_ == MessageKind::kRequest && (type != RespType::kArray || count <= 0)) {
          return ParseState::kInvalid;
        }
        if (count == -1 && type == RespType::kArray) {  // RESP2 null array
          const int slot = OpenSlot(type);
          if (Element* e = SlotElement(slot)) {
            e->type = type;
            e->is_null = true;
          }
          stream.Consume(header_len);
          if (FinishValue(false)) return Complete(stream, out);
          continue;
        }
        if (count < 0 || count > kMaxAggregateCount) return ParseState::kInvalid;
        if (stack_.size() >= kMaxNestingDepth) return ParseState::kInvalid;
        const int slot = OpenSlot(type);
        if (Element* e = SlotElement(slot)) {
          e->type = type;
          e->size = static_cast<uint64_t>(count);
        }
        stream.Consume(header_len);
        const bool attribute = type == RespType::kAttribute;
        const int64_t values =
            (type == RespType::kMap || type == RespType::kAttribute) ? count * 2 : count;
        if (values == 0) {
          if (FinishValue(attribute)) return Complete(stream, out);
          continue;
        }
        stack_.push_back(Level{values, attribute});
        if (attribute) ++attributes_open_;
        continue;
      }
      default:
        return ParseState::kInvalid;
    }
  }
}

bool IsRespTypeByte(char c) {
  switch (c) {
    case '+':
    case '-':
    case ':':
    case '$':
    case '*':
    case '_':
    case '#':
    case ',':
    case '(':
    case '!':
    case '=':
    case '%':
    case '~':
    case '|':
    case '>':
      return true;
    default:
      return false;
  }
}

bool IsAggregate(RespType type) {
  return type == RespType::kArray || type == RespType::kMap || type == RespType::kSet ||
         type == RespType::kAttribute || type == RespType::kPush;
}

bool IsErrorType(RespType type) {
  return type == RespType::kSimpleError || type == RespType::kBlobError;
}

const char* RespTypeName(RespType type) {
  switch (type) {
    case RespType::kNone:
      return "none";
    case RespType::kSimpleString:
      return "simple-string";
    case RespType::kSimpleError:
      return "simple-error";
    case RespType::kInteger:
      return "integer";
    case RespType::kBlobString:
      return "blob-string";
    case RespType::kArray:
      return "array";
    case RespType::kNull:
      return "null";
    case RespType::kBoolean:
      return "boolean";
    case RespType::kDouble:
      return "double";
    case RespType::kBigNumber:
      return "big-number";
    case RespType::kBlobError:
      return "blob-error";
    case RespType::kVerbatimString:
      return "verbatim-string";
    case RespType::kMap:
      return "map";
    case RespType::kSet:
      return "set";
    case RespType::kAttribute:
      return "attribute";
    case RespType::kPush:
      return "push";
    case RespType::kInline:
      return "inline";
  }
  return "unknown";
}

const std::string& Message::ElementText(size_t i) const {
  static const std::string kEmpty;
  return i < elements.size() ? elements[i].text : kEmpty;
}

}  // namespace wirespan::decoders::redis
