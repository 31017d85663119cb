#include "exporters/prometheus/text_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

namespace wirespan::exporters::prometheus {
namespace {

bool ValidNameChar(char c, bool allow_colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         (allow_colon && c == ':');
}

std::string Sanitize(std::string_view name, bool allow_colon) {
  std::string out;
  out.reserve(name.size() + 1);
  for (char c : name) {
    char m = ValidNameChar(c, allow_colon) ? c : '_';
    if (m == '_' && !out.empty() && out.back() == '_') continue;
    out.push_back(m);
  }
  if (out.empty()) return "_";
  if (out[0] >= '0' && out[0] <= '9') out.insert(out.begin(), '_');
  return out;
}

std::string UnitWord(std::string_view unit) {
  static const std::unordered_map<std::string_view, std::string_view> kUnits = {
      {"d", "days"},          {"h", "hours"},         {"min", "minutes"},    {"s", "seconds"},
      {"ms", "milliseconds"}, {"us", "microseconds"}, {"ns", "nanoseconds"}, {"By", "bytes"},
      {"KiBy", "kibibytes"},  {"MiBy", "mebibytes"},  {"GiBy", "gibibytes"}, {"KBy", "kilobytes"},
      {"MBy", "megabytes"},   {"GBy", "gigabytes"},   {"m", "meters"},       {"V", "volts"},
      {"A", "amperes"},       {"J", "joules"},        {"W", "watts"},        {"g", "grams"},
      {"Cel", "celsius"},     {"Hz", "hertz"},        {"%", "percent"},
  };
  auto it = kUnits.find(unit);
  if (it != kUnits.end()) return std::string(it->second);
  return Sanitize(unit, false);
}

std::string UnitSuffix(const model::Metric& m) {
  std::string_view unit = m.unit;
  // {annotations} carry no unit.
  std::string stripped;
  for (size_t i = 0; i < unit.size(); ++i) {
    if (unit[i] == '{') {
      size_t close = unit.find('}', i);
      if (close == std::string_view::npos) break;
      i = close;
      continue;
    }
    stripped.push_back(unit[i]);
  }
  if (stripped.empty()) return "";
  if (stripped == "1") return m.type == model::MetricType::kGauge ? "ratio" : "";
  size_t slash = stripped.find('/');
  if (slash != std::string::npos) {
    std::string num = stripped.substr(0, slash);
    std::string den = stripped.substr(slash + 1);
    std::string out = num.empty() ? "" : UnitWord(num) + "_";
    return out + "per_" +
           (den == "s"   ? "second"
            : den == "m" ? "minute"
            : den == "h" ? "hour"
            : den == "d" ? "day"
                         : UnitWord(den));
  }
  return UnitWord(stripped);
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

void EscapeLabelValue(std::string_view v, std::string& out) {
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out.push_back(c);
    }
  }
}

void EscapeHelp(std::string_view v, std::string& out) {
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out.push_back(c);
    }
  }
}

std::string ValueString(const model::AttributeValue& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return x;
        } else if constexpr (std::is_same_v<T, bool>) {
          return x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, double>) {
          return FormatValue(x);
        } else {
          return std::to_string(x);
        }
      },
      v);
}

using Labels = std::vector<std::pair<std::string, std::string>>;

void AddLabel(Labels& labels, std::string name, std::string value) {
  for (auto& [n, v] : labels) {
    if (n == name) {
      v += ";" + value;
      return;
    }
  }
  labels.emplace_back(std::move(name), std::move(value));
}

Labels ResourceLabels(const model::Resource* r) {
  Labels labels;
  if (!r) return labels;
  const std::string* name = r->attributes.FindString("service.name");
  const std::string* ns = r->attributes.FindString("service.namespace");
  const std::string* instance = r->attributes.FindString("service.instance.id");
  if (name) labels.emplace_back("job", ns ? *ns + "/" + *name : *name);
  if (instance) labels.emplace_back("instance", *instance);
  return labels;
}

Labels PointLabels(const Labels& base, const model::Attributes& attrs) {
  Labels labels = base;
  for (const auto& a : attrs.items())
    AddLabel(labels, SanitizeLabelName(a.key), ValueString(a.value));
  return labels;
}

void WriteLabels(const Labels& labels, std::string& out, const char* extra_name = nullptr,
                 std::string_view extra_value = {}) {
  if (labels.empty() && !extra_name) return;
  out.push_back('{');
  bool first = true;
  for (const auto& [n, v] : labels) {
    if (!first) out.push_back(',');
    first = false;
    out += n;
    out += "=\"";
    EscapeLabelValue(v, out);
    out.push_back('"');
  }
  if (extra_name) {
    if (!first) out.push_back(',');
    out += extra_name;
    out += "=\"";
    EscapeLabelValue(extra_value, out);
    out.push_back('"');
  }
  out.push_back('}');
}

std::string NumberString(const std::variant<int64_t, double>& v) {
  if (const int64_t* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  return FormatValue(std::get<double>(v));
}

struct Family {
  std::string type;
  std::string help;
  std::string body;
};

}  // namespace

std::string SanitizeName(std::string_view name) { return Sanitize(name, true); }
std::string SanitizeLabelName(std::string_view name) {
  std::string s = Sanitize(name, false);
  // Names starting with "__" are reserved for Prometheus.
  while (s.size() > 1 && s[0] == '_' && s[1] == '_') s.erase(0, 1);
  return s;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);
}

std::string FamilyName(const model::Metric& m) {
  std::string name = SanitizeName(m.name);
  std::string suffix = UnitSuffix(m);
  if (!suffix.empty() && !EndsWith(name, "_" + suffix)) name += "_" + suffix;
  bool counter = m.type == model::MetricType::kSum && m.monotonic;
  if (counter && !EndsWith(name, "_total")) name += "_total";
  return name;
}

std::string RenderText(const std::vector<model::Metric>& metrics,
                       const TextFormatOptions& options) {
  std::map<std::string, Family> families;
  std::vector<const model::Resource*> resources;
  for (const model::Metric& m : metrics) {
    const model::Resource* r = m.resource.get();
    if (r && std::find(resources.begin(), resources.end(), r) == resources.end()) {
      resources.push_back(r);
    }
    Labels base = options.resource_labels ? ResourceLabels(r) : Labels{};
    std::string name = FamilyName(m);
    const char* type = m.type == model::MetricType::kHistogram              ? "histogram"
                       : (m.type == model::MetricType::kSum && m.monotonic) ? "counter"
                                                                            : "gauge";
    Family& f = families[name];
    if (f.type.empty()) {
      f.type = type;
      f.help = m.description;
    } else if (f.type != type) {
      continue;  // same name, different type: Prometheus cannot hold both; first one wins
    }
    std::string& out = f.body;
    if (m.type == model::MetricType::kHistogram) {
      for (const auto& p : m.histogram_points) {
        Labels labels = PointLabels(base, p.attributes);
        labels.erase(std::remove_if(labels.begin(), labels.end(),
                                    [](const auto& l) { return l.first == "le"; }),
                     labels.end());
        uint64_t cumulative = 0;
        for (size_t i = 0; i < p.bounds.size(); ++i) {
          cumulative += i < p.bucket_counts.size() ? p.bucket_counts[i] : 0;
          out += name;
          out += "_bucket";
          WriteLabels(labels, out, "le", FormatValue(p.bounds[i]));
          out += ' ';
          out += std::to_string(cumulative);
          out += '\n';
        }
        out += name;
        out += "_bucket";
        WriteLabels(labels, out, "le", "+Inf");
        out += ' ';
        out += std::to_string(p.count);
        out += '\n';
        out += name;
        out += "_sum";
        WriteLabels(labels, out);
        out += ' ';
        out += FormatValue(p.sum);
        out += '\n';
        out += name;
        out += "_count";
        WriteLabels(labels, out);
        out += ' ';
        out += std::to_string(p.count);
        out += '\n';
      }
    } else {
      for (const auto& p : m.number_points) {
        out += name;
        WriteLabels(PointLabels(base, p.attributes), out);
        out += ' ';
        out += NumberString(p.value);
        out += '\n';
      }
    }
  }
  if (options.target_info && !resources.empty()) {
    Family& f = families["target_info"];
    if (f.type.empty() || f.type == "gauge") {
      f.type = "gauge";
      f.help = "Target metadata";
      for (const model::Resource* r : resources) {
        Labels labels = ResourceLabels(r);
        for (const auto& a : r->attributes.items()) {
          if (a.key == "service.name" || a.key == "service.namespace" ||
              a.key == "service.instance.id") {
            continue;
          }
          AddLabel(labels, SanitizeLabelName(a.key), ValueString(a.value));
        }
        f.body += "target_info";
        WriteLabels(labels, f.body);
        f.body += " 1\n";
      }
    }
  }
  std::string text;
  for (const auto& [name, f] : families) {
    if (f.body.empty()) continue;
    if (!f.help.empty()) {
      text += "# HELP ";
      text += name;
      text += ' ';
      EscapeHelp(f.help, text);
      text += '\n';
    }
    text += "# TYPE ";
    text += name;
    text += ' ';
    text += f.type;
    text += '\n';
    text += f.body;
  }
  return text;
}

}  // namespace wirespan::exporters::prometheus
