#include "decoders/amqp/wire.h"

#include <cmath>
#include <cstring>

#include "decoders/amqp/spec.h"

namespace wirespan::decoders::amqp {

// --- FieldValue / Method helpers
// ------------------------------------------------------------------

bool FieldValue::IsInt() const {
  switch (type) {
    case 't':
    case 'b':
    case 'B':
    case 's':
    case 'u':
    case 'I':
    case 'i':
    case 'l':
    case 'L':
    case 'T':
      return true;
    default:
      return false;
  }
}

int64_t FieldValue::AsInt() const {
  switch (type) {
    case 'B':
    case 'u':
    case 'i':
    case 'L':
    case 'T':
      return static_cast<int64_t>(u);
    case 't':
    case 'b':
    case 's':
    case 'I':
    case 'l':
      return i;
    default:
      return 0;
  }
}

const FieldValue* FieldValue::Find(std::string_view name) const {
  if (type != 'F') return nullptr;
  for (const auto& item : items) {
    if (item.key == name) return &item;
  }
  return nullptr;
}

const FieldValue* Method::Arg(std::string_view name) const {
  for (const auto& a : args) {
    if (a.key == name) return &a;
  }
  return nullptr;
}

std::string_view Method::Str(std::string_view name) const {
  const FieldValue* v = Arg(name);
  return v && v->IsString() ? std::string_view(v->str) : std::string_view();
}

int64_t Method::Int(std::string_view name) const {
  const FieldValue* v = Arg(name);
  return v ? v->AsInt() : 0;
}

const char* Method::Name() const { return spec ? spec->name : "unknown"; }

const char* SettlementName(Settlement s) {
  switch (s) {
    case Settlement::kNone:
      return "none";
    case Settlement::kAutoAck:
      return "auto_ack";
    case Settlement::kAck:
      return "ack";
    case Settlement::kNack:
      return "nack";
    case Settlement::kReject:
      return "reject";
    case Settlement::kChannelClosed:
      return "channel_closed";
    case Settlement::kRecovered:
      return "recovered";
  }
  return "none";
}

// --- Reader --------------------------------------------------------------------------------------

uint8_t Reader::U8() {
  if (!ok_ || data_.size() - pos_ < 1) return ok_ = false, 0;
  return static_cast<uint8_t>(data_[pos_++]);
}

uint16_t Reader::U16() {
  if (!ok_ || data_.size() - pos_ < 2) return ok_ = false, 0;
  const auto* p = reinterpret_cast<const uint8_t*>(data_.data() + pos_);
  pos_ += 2;
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}

uint32_t Reader::U32() {
  if (!ok_ || data_.size() - pos_ < 4) return ok_ = false, 0;
  const auto* p = reinterpret_cast<const uint8_t*>(data_.data() + pos_);
  pos_ += 4;
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

uint64_t Reader::U64() {
  const uint64_t hi = U32();
  const uint64_t lo = U32();
  return (hi << 32) | lo;
}

std::string_view Reader::Bytes(size_t n) {
  if (!ok_ || data_.size() - pos_ < n) {
    ok_ = false;
    return {};
  }
  std::string_view out = data_.substr(pos_, n);
  pos_ += n;
  return out;
}

// --- Field tables --------------------------------------------------------------------------------
namespace {

void KeepString(std::string_view bytes, FieldValue* v, const WireLimits& limits) {
  v->length = bytes.size();
  if (bytes.size() > limits.max_string_bytes) {
    v->str.assign(bytes.substr(0, limits.max_string_bytes));
    v->truncated = true;
  } else {
    v->str.assign(bytes);
  }
}

bool ReadFieldValue(Reader& r, char type, FieldValue* v, const WireLimits& limits, int depth,
                    size_t* budget);

bool ReadFieldArray(Reader& r, FieldValue* array, const WireLimits& limits, int depth,
                    size_t* budget) {
  array->type = 'A';
  const uint32_t len = r.U32();
  std::string_view body = r.Bytes(len);
  if (!r.ok()) return false;
  if (depth >= limits.max_depth) {
    array->truncated = true;
    return true;
  }
  Reader inner(body);
  while (inner.remaining() > 0) {
    if (*budget == 0) {
      array->truncated = true;
      break;
    }
    --*budget;
    const char t = static_cast<char>(inner.U8());
    FieldValue item;
    if (!ReadFieldValue(inner, t, &item, limits, depth + 1, budget)) {
      array->truncated = true;
      break;
    }
    array->items.push_back(std::move(item));
  }
  return true;
}

bool ReadFieldValue(Reader& r, char type, FieldValue* v, const WireLimits& limits, int depth,
                    size_t* budget) {
  v->type = type;
  switch (type) {
    case 't':
      v->i = r.U8() != 0;
      break;
    case 'b':
      v->i = static_cast<int8_t>(r.U8());
      break;
    case 'B':
      v->u = r.U8();
      break;
    case 's':
      v->i = static_cast<int16_t>(r.U16());
      break;
    case 'u':
      v->u = r.U16();
      break;
    case 'I':
      v->i = static_cast<int32_t>(r.U32());
      break;
    case 'i':
      v->u = r.U32();
      break;
    case 'l':
      v->i = static_cast<int64_t>(r.U64());
      break;
    case 'L':
      v->u = r.U64();
      break;
    case 'T':
      v->u = r.U64();
      break;
    case 'f': {
      const uint32_t bits = r.U32();
      float f;
      std::memcpy(&f, &bits, sizeof f);
      v->d = f;
      break;
    }
    case 'd': {
      const uint64_t bits = r.U64();
      double d;
      std::memcpy(&d, &bits, sizeof d);
      v->d = d;
      break;
    }
    case 'D': {
      v->scale = r.U8();
      v->u = r.U32();
      v->d = static_cast<double>(v->u) / std::pow(10.0, std::min<int>(v->scale, 30));
      break;
    }
    case 'S':
    case 'x': {
      const uint32_t len = r.U32();
      std::string_view bytes = r.Bytes(len);
      if (r.ok()) KeepString(bytes, v, limits);
      break;
    }
    case 'F':
      return ReadFieldTable(r, v, limits, depth, budget);
    case 'A':
      return ReadFieldArray(r, v, limits, depth, budget);
    case 'V':
      break;
    default:
      return false;  // unknown type: its size is unknown
  }
  return r.ok();
}

}  // namespace

bool ReadFieldTable(Reader& r, FieldValue* table, const WireLimits& limits, int depth,
                    size_t* budget) {
  table->type = 'F';
  const uint32_t len = r.U32();
  std::string_view body = r.Bytes(len);
  if (!r.ok()) return false;
  if (depth >= limits.max_depth) {
    table->truncated = true;
    return true;
  }
  Reader inner(body);
  while (inner.remaining() > 0) {
    if (*budget == 0) {
      table->truncated = true;
      break;
    }
    --*budget;
    const uint8_t key_len = inner.U8();
    std::string_view key = inner.Bytes(key_len);
    const char t = static_cast<char>(inner.U8());
    FieldValue item;
    if (!inner.ok() || !ReadFieldValue(inner, t, &item, limits, depth + 1, budget)) {
      table->truncated = true;  // the rest of this table cannot be walked; its length is known
      break;
    }
    item.key.assign(key);
    table->items.push_back(std::move(item));
  }
  return true;
}

// --- Methods -------------------------------------------------------------------------------------

bool DecodeMethod(std::string_view payload, Method* method, const WireLimits& limits) {
  Reader r(payload);
  method->class_id = r.U16();
  method->method_id = r.U16();
  if (!r.ok()) return false;
  method->spec = FindMethod(method->class_id, method->method_id);
  method->args.clear();
  if (method->spec == nullptr) return true;
  method->args.reserve(method->spec->args.size());
  size_t budget = limits.max_entries;
  uint8_t bits = 0;
  int bit_index = 8;  // 8: no octet of bits in use
  for (const ArgSpec& spec : method->spec->args) {
    FieldValue v;
    v.key = spec.name;
    if (spec.type != ArgType::kBit) bit_index = 8;
    switch (spec.type) {
      case ArgType::kOctet:
        v.type = 'B';
        v.u = r.U8();
        break;
      case ArgType::kShort:
        v.type = 'u';
        v.u = r.U16();
        break;
      case ArgType::kLong:
        v.type = 'i';
        v.u = r.U32();
        break;
      case ArgType::kLongLong:
        v.type = 'L';
        v.u = r.U64();
        break;
      case ArgType::kTimestamp:
        v.type = 'T';
        v.u = r.U64();
        break;
      case ArgType::kBit:
        if (bit_index == 8) {
          bits = r.U8();
          bit_index = 0;
        }
        v.type = 't';
        v.i = (bits >> bit_index++) & 1;
        break;
      case ArgType::kShortStr: {
        v.type = 'S';
        const uint8_t len = r.U8();
        std::string_view s = r.Bytes(len);
        v.length = s.size();
        if (spec.sensitive) {
          v.redacted = true;
        } else {
          v.str.assign(s);
        }
        break;
      }
      case ArgType::kLongStr: {
        v.type = 'S';
        const uint32_t len = r.U32();
        std::string_view s = r.Bytes(len);
        if (spec.sensitive) {
          v.redacted = true;  // credentials: only the length is known, never the bytes
          v.length = s.size();
        } else {
          KeepString(s, &v, limits);
        }
        break;
      }
      case ArgType::kTable:
        if (!ReadFieldTable(r, &v, limits, 0, &budget)) return false;
        break;
    }
    if (!r.ok()) return false;
    method->args.push_back(std::move(v));
  }
  return true;
}

// --- Content header ------------------------------------------------------------------------------

bool DecodeContentHeader(std::string_view payload, Content* content, const WireLimits& limits) {
  Reader r(payload);
  content->class_id = r.U16();
  r.U16();  // weight, unused
  content->body_size = r.U64();
  uint16_t flags = r.U16();
  if (!r.ok()) return false;
  Properties& p = content->properties;
  p.flags = flags;
  if (content->class_id != kBasic) return true;  // only basic carries content in 0-9-1
  // Further flag words follow while bit 0 is set; 0-9-1 defines 14 properties, so their bits are
  // all in the first word and later words carry nothing to decode.
  for (uint16_t more = flags; more & 1;) more = r.U16();
  if (!r.ok()) return false;
  size_t budget = limits.max_entries;
  int bit = 15;
  for (const PropertySpec& spec : BasicProperties()) {
    const bool present = (flags >> bit--) & 1;
    if (!present) continue;
    std::string_view name = spec.name;
    switch (spec.type) {
      case ArgType::kShortStr: {
        const uint8_t len = r.U8();
        std::string value(r.Bytes(len));
        if (!r.ok()) return false;
        if (name == "content-type")
          p.content_type = std::move(value);
        else if (name == "content-encoding")
          p.content_encoding = std::move(value);
        else if (name == "correlation-id")
          p.correlation_id = std::move(value);
        else if (name == "reply-to")
          p.reply_to = std::move(value);
        else if (name == "expiration")
          p.expiration = std::move(value);
        else if (name == "message-id")
          p.message_id = std::move(value);
        else if (name == "type")
          p.type = std::move(value);
        else if (name == "user-id")
          p.user_id = std::move(value);
        else if (name == "app-id")
          p.app_id = std::move(value);
        else if (name == "cluster-id")
          p.cluster_id = std::move(value);
        break;
      }
      case ArgType::kOctet: {
        const uint8_t v = r.U8();
        if (name == "delivery-mode")
          p.delivery_mode = v;
        else
          p.priority = v;
        break;
      }
      case ArgType::kTimestamp:
        p.timestamp = r.U64();
        break;
      case ArgType::kTable: {
        FieldValue table;
        if (!ReadFieldTable(r, &table, limits, 0, &budget)) return false;
        p.headers = std::move(table);
        break;
      }
      default:
        break;
    }
    if (!r.ok()) return false;
  }
  return true;
}

uint64_t Fnv1a(uint64_t hash, std::string_view bytes) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

}  // namespace wirespan::decoders::amqp
