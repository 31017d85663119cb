// Attribute values and lists as OpenTelemetry defines them, independent of any export format.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace wirespan::model {

using AttributeValue = std::variant<std::string, int64_t, double, bool>;

struct Attribute {
  std::string key;
  AttributeValue value;
};

// An ordered list: spans have few attributes, so a vector beats a map in size and speed.
class Attributes {
 public:
  void Set(std::string_view key, std::string value) { Put(key, AttributeValue(std::move(value))); }
  void Set(std::string_view key, const char* value) {
    Put(key, AttributeValue(std::string(value)));
  }
  void Set(std::string_view key, std::string_view value) {
    Put(key, AttributeValue(std::string(value)));
  }
  void Set(std::string_view key, int64_t value) { Put(key, AttributeValue(value)); }
  void Set(std::string_view key, int value) { Put(key, AttributeValue(int64_t{value})); }
  void Set(std::string_view key, uint32_t value) { Put(key, AttributeValue(int64_t{value})); }
  void Set(std::string_view key, uint64_t value) {
    Put(key, AttributeValue(static_cast<int64_t>(value)));
  }
  void Set(std::string_view key, double value) { Put(key, AttributeValue(value)); }
  void Set(std::string_view key, bool value) { Put(key, AttributeValue(value)); }

  const AttributeValue* Find(std::string_view key) const {
    for (const auto& a : items_) {
      if (a.key == key) return &a.value;
    }
    return nullptr;
  }
  // Convenience for tests and printers: the value as a string if it is one.
  const std::string* FindString(std::string_view key) const {
    const AttributeValue* v = Find(key);
    return v ? std::get_if<std::string>(v) : nullptr;
  }
  const int64_t* FindInt(std::string_view key) const {
    const AttributeValue* v = Find(key);
    return v ? std::get_if<int64_t>(v) : nullptr;
  }
  bool Erase(std::string_view key) {
    for (auto it = items_.begin(); it != items_.end(); ++it) {
      if (it->key == key) {
        items_.erase(it);
        return true;
      }
    }
    return false;
  }

  const std::vector<Attribute>& items() const { return items_; }
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }

 private:
  void Put(std::string_view key, AttributeValue value) {
    for (auto& a : items_) {
      if (a.key == key) {
        a.value = std::move(value);
        return;
      }
    }
    items_.push_back(Attribute{std::string(key), std::move(value)});
  }
  std::vector<Attribute> items_;
};

}  // namespace wirespan::model
