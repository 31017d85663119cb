#include "exporters/otlp/http_client.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <zlib.h>

#include <cctype>
#include <charconv>
#include <ctime>
#include <mutex>

#include "wirespan/version.h"

namespace wirespan::exporters::otlp {
namespace {

constexpr size_t kMaxResponseBody = 64 * 1024;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string_view TrimView(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* resp = static_cast<HttpResponse*>(user);
  size_t bytes = size * n;
  size_t room = kMaxResponseBody - std::min(kMaxResponseBody, resp->body.size());
  resp->body.append(data, std::min(bytes, room));
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* resp = static_cast<HttpResponse*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    // A new response (e.g. after 100 Continue or a redirect): forget the previous headers.
    resp->retry_after.reset();
    resp->content_type.clear();
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string_view name = TrimView(line.substr(0, colon));
    std::string_view value = TrimView(line.substr(colon + 1));
    if (IEquals(name, "retry-after")) resp->retry_after = std::string(value);
    if (IEquals(name, "content-type")) resp->content_type = std::string(value);
  }
  return size * n;
}

class CurlTransport : public HttpTransport {
 public:
  CurlTransport() {
    GlobalInit();
    curl_ = curl_easy_init();
  }
  ~CurlTransport() override {
    if (curl_) curl_easy_cleanup(curl_);
  }

  HttpResponse Post(const HttpRequest& req) override {
    HttpResponse resp;
    if (!curl_) {
      resp.error = "curl_easy_init failed";
      return resp;
    }
    curl_easy_reset(curl_);
    curl_slist* headers = nullptr;
    auto add = [&](const std::string& h) { headers = curl_slist_append(headers, h.c_str()); };
    add("Content-Type: " + req.content_type);
    if (!req.content_encoding.empty()) add("Content-Encoding: " + req.content_encoding);
    add("Expect:");  // no 100-continue round trip
    for (const auto& [k, v] : req.headers) add(k + ": " + v);

    curl_easy_setopt(curl_, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_POST, 1L);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl_, CURLOPT_USERAGENT, "wirespan/" WIRESPAN_VERSION);
    long timeout_ms = static_cast<long>(std::max<int64_t>(1, req.timeout.count()));
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &resp);
    if (!req.ca_file.empty()) curl_easy_setopt(curl_, CURLOPT_CAINFO, req.ca_file.c_str());
    if (!req.cert_file.empty()) curl_easy_setopt(curl_, CURLOPT_SSLCERT, req.cert_file.c_str());
    if (!req.key_file.empty()) curl_easy_setopt(curl_, CURLOPT_SSLKEY, req.key_file.c_str());

    CURLcode rc = curl_easy_perform(curl_);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
      resp.status = 0;
      resp.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
      resp.error = curl_easy_strerror(rc);
      return resp;
    }
    long code = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &code);
    resp.status = static_cast<int>(code);
    return resp;
  }

 private:
  CURL* curl_ = nullptr;
};

int MonthIndex(std::string_view m) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i) {
    if (IEquals(m, kMonths[i])) return i;
  }
  return -1;
}

// Parses the three HTTP-date forms into UTC seconds since the epoch.
std::optional<int64_t> ParseHttpDate(std::string_view s) {
  std::tm tm{};
  char month[4] = {};
  char wday[16] = {};
  int day = 0, year = 0, hh = 0, mm = 0, ss = 0;
  std::string str(s);
  // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
  if (std::sscanf(str.c_str(), "%15[A-Za-z], %d %3s %d %d:%d:%d GMT", wday, &day, month, &year, &hh,
                  &mm, &ss) == 7) {
  } else if (std::sscanf(str.c_str(), "%15[A-Za-z], %d-%3s-%d %d:%d:%d GMT", wday, &day, month,
                         &year, &hh, &mm, &ss) == 7) {
    // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
    year += year < 70 ? 2000 : (year < 100 ? 1900 : 0);
  } else if (std::sscanf(str.c_str(), "%15s %3s %d %d:%d:%d %d", wday, month, &day, &hh, &mm, &ss,
                         &year) == 7) {
    // asctime: Sun Nov  6 08:49:37 1994
  } else {
    return std::nullopt;
  }
  int mon = MonthIndex(month);
  if (mon < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || year < 1970) {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = mon;
  tm.tm_mday = day;
  tm.tm_hour = hh;
  tm.tm_min = mm;
  tm.tm_sec = ss;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace

std::unique_ptr<HttpTransport> MakeCurlTransport() { return std::make_unique<CurlTransport>(); }

StatusOr<std::string> GzipCompress(std::string_view data) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return Status::Error("deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  size_t produced = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return Status::Error("gzip compression failed");
  out.resize(produced);
  return out;
}

StatusOr<std::string> GzipDecompress(std::string_view data, size_t max_output) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return Status::Error("inflateInit2 failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[16384];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return Status::Error(fmt::format("gzip data is corrupt ({})", rc));
    }
    out.append(buf, sizeof(buf) - zs.avail_out);
    if (out.size() > max_output) {
      inflateEnd(&zs);
      return Status::Error("gzip data expands beyond the limit");
    }
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
      inflateEnd(&zs);
      return Status::Error("gzip data is truncated");
    }
  }
  inflateEnd(&zs);
  return out;
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(
    std::string_view value, std::chrono::system_clock::time_point now) {
  value = TrimView(value);
  if (value.empty()) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(value.front()))) {
    int64_t seconds = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || p != value.data() + value.size()) return std::nullopt;
    return std::chrono::milliseconds(std::min<int64_t>(seconds, 86400) * 1000);
  }
  auto when = ParseHttpDate(value);
  if (!when) return std::nullopt;
  auto delta = std::chrono::system_clock::from_time_t(static_cast<time_t>(*when)) - now;
  if (delta.count() < 0) return std::chrono::milliseconds(0);
  return std::min(std::chrono::duration_cast<std::chrono::milliseconds>(delta),
                  std::chrono::milliseconds(86400 * 1000));
}

bool IsRetryable(const HttpResponse& response) {
  switch (response.status) {
    case 0:
    case 429:
    case 502:
    case 503:
    case 504:
      return true;
    default:
      return false;
  }
}

}  // namespace wirespan::exporters::otlp
