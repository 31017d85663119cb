// The HTTP side of OTLP/HTTP: a transport interface (libcurl behind it), gzip, Retry-After.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "exporters/otlp/config.h"

namespace wirespan::exporters::otlp {

struct HttpRequest {
  std::string url;
  std::string body;  // already compressed when content_encoding is set
  std::string content_type;
  std::string content_encoding;  // "" or "gzip"
  Headers headers;
  std::chrono::milliseconds timeout{10000};
  std::string ca_file;    // PEM bundle to verify the server (https)
  std::string cert_file;  // client certificate (mTLS)
  std::string key_file;
};

struct HttpResponse {
  int status = 0;     // 0: no HTTP answer (refused, reset, timeout, DNS, TLS)
  std::string error;  // transport error text when status == 0
  bool timed_out = false;
  std::string body;  // first 64 KiB at most
  std::string content_type;
  std::optional<std::string> retry_after;
};

// One request at a time per transport (each exporter thread owns one).
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual HttpResponse Post(const HttpRequest& request) = 0;
};

// libcurl easy handle, kept for connection reuse. Only http:// and https:// URLs.
std::unique_ptr<HttpTransport> MakeCurlTransport();

StatusOr<std::string> GzipCompress(std::string_view data);
StatusOr<std::string> GzipDecompress(std::string_view data, size_t max_output = 64 << 20);

// Retry-After: delay-seconds or an HTTP-date (IMF-fixdate, RFC 850, asctime); relative to `now`.
// Negative/past dates give zero; nullopt when unparseable.
std::optional<std::chrono::milliseconds> ParseRetryAfter(
    std::string_view value,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// 429, 502, 503, 504 and transport failures are worth retrying (OTLP/HTTP spec).
bool IsRetryable(const HttpResponse& response);

}  // namespace wirespan::exporters::otlp
