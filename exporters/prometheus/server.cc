#include "exporters/prometheus/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <list>

namespace wirespan::exporters::prometheus {
namespace {

using Clock = std::chrono::steady_clock;

struct Conn {
  int fd = -1;
  std::string in;
  std::string out;
  size_t sent = 0;
  bool writing = false;
  bool draining = false;  // response sent: read and discard until EOF (lingering close)
  size_t drained = 0;
  Clock::time_point deadline;
};

std::string Response(int code, const char* reason, std::string_view content_type,
                     const std::string& body, bool head_only, const char* extra = "") {
  std::string r = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n{}\r\n",
      code, reason, content_type, body.size(), extra);
  if (!head_only) r += body;
  return r;
}

bool IsTokenChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

}  // namespace

Status ParseListenAddress(std::string_view text, ServerOptions& options) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return Status::Error(fmt::format("'{}' has no :port", text));
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  unsigned value = 0;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || p != port.data() + port.size() || value > 65535) {
    return Status::Error(fmt::format("'{}' is not a port", port));
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (!host.empty()) options.address = std::string(host);
  options.port = static_cast<uint16_t>(value);
  return Status::Ok();
}

PrometheusServer::PrometheusServer(ServerOptions options,
                                   std::shared_ptr<model::MetricProducer> producer)
    : options_(std::move(options)), producer_(std::move(producer)) {}

PrometheusServer::~PrometheusServer() { Stop(); }

Status PrometheusServer::Start() {
  if (thread_.joinable()) return Status::Error("Prometheus endpoint already started");
  std::string host = options_.address;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
  addrinfo* res = nullptr;
  std::string port = std::to_string(options_.port);
  int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    return Status::Error(fmt::format("Prometheus endpoint: bad address '{}': {}", options_.address,
                                     gai_strerror(rc)));
  }
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    freeaddrinfo(res);
    return Status::Error(fmt::format("Prometheus endpoint: socket: {}", std::strerror(errno)));
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 64) != 0) {
    int err = errno;
    freeaddrinfo(res);
    close(fd);
    return Status::Error(fmt::format("Prometheus endpoint: cannot listen on {}:{}: {}",
                                     options_.address, options_.port, std::strerror(err)));
  }
  freeaddrinfo(res);
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  bound_port_ = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                               : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    close(fd);
    return Status::Error(fmt::format("Prometheus endpoint: eventfd: {}", std::strerror(errno)));
  }
  listen_fd_ = fd;
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
  spdlog::info("Prometheus endpoint on http://{}:{}/metrics",
               host.find(':') != std::string::npos ? "[" + host + "]" : host, bound_port_);
  return Status::Ok();
}

void PrometheusServer::Stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
  thread_.join();
  close(listen_fd_);
  close(wake_fd_);
  listen_fd_ = wake_fd_ = -1;
}

PrometheusServer::Stats PrometheusServer::stats() const {
  Stats s;
  s.connections = connections_.load();
  s.scrapes = scrapes_.load();
  s.bad_requests = bad_requests_.load();
  s.rejected_connections = rejected_.load();
  s.timeouts = timeouts_.load();
  return s;
}

void PrometheusServer::Run() {
  std::list<Conn> conns;
  std::vector<pollfd> fds;
  std::vector<Conn*> order;

  // Builds the answer to a complete request head; returns false if the head is not complete yet.
  auto answer = [&](Conn& c) -> bool {
    size_t end = c.in.find("\r\n\r\n");
    size_t alt = c.in.find("\n\n");
    if (end == std::string::npos && alt == std::string::npos) {
      if (c.in.size() >= options_.max_request_bytes) {
        bad_requests_++;
        c.out = Response(431, "Request Header Fields Too Large", "text/plain; charset=utf-8",
                         "request header too large\n", false);
        return true;
      }
      return false;
    }
    size_t line_end = c.in.find('\n');
    std::string_view line(c.in.data(), line_end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // METHOD SP request-target SP HTTP/1.x
    size_t sp1 = line.find(' ');
    size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    std::string_view method, target, version;
    bool ok = sp1 != std::string_view::npos && sp2 != std::string_view::npos && sp1 > 0;
    if (ok) {
      method = line.substr(0, sp1);
      target = line.substr(sp1 + 1, sp2 - sp1 - 1);
      version = line.substr(sp2 + 1);
      for (char ch : method) ok = ok && IsTokenChar(ch);
      ok = ok && !target.empty() && target.front() == '/' &&
           (version == "HTTP/1.1" || version == "HTTP/1.0");
      for (char ch : target) ok = ok && ch > 32 && ch < 127;
    }
    if (!ok) {
      bad_requests_++;
      c.out = Response(400, "Bad Request", "text/plain; charset=utf-8", "bad request\n", false);
      return true;
    }
    bool head = method == "HEAD";
    std::string_view path = target.substr(0, target.find('?'));
    if (method != "GET" && !head) {
      bad_requests_++;
      c.out = Response(405, "Method Not Allowed", "text/plain; charset=utf-8",
                       "method not allowed\n", false, "Allow: GET, HEAD\r\n");
    } else if (path == "/metrics") {
      std::vector<model::Metric> metrics;
      if (producer_) producer_->Collect(model::UnixNanosNow(), metrics);
      c.out = Response(200, "OK", "text/plain; version=0.0.4; charset=utf-8",
                       RenderText(metrics, options_.format), head);
      scrapes_++;
    } else if (path == "/") {
      c.out = Response(200, "OK", "text/plain; charset=utf-8",
                       "wirespan: metrics are at /metrics\n", head);
    } else {
      bad_requests_++;
      c.out = Response(404, "Not Found", "text/plain; charset=utf-8", "not found\n", head);
    }
    return true;
  };

  auto close_conn = [&](std::list<Conn>::iterator it) {
    close(it->fd);
    return conns.erase(it);
  };

  while (!stop_) {
    fds.clear();
    order.clear();
    fds.push_back({wake_fd_, POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    auto now = Clock::now();
    auto next_deadline = now + std::chrono::seconds(60);
    for (auto& c : conns) {
      fds.push_back({c.fd, static_cast<short>(c.writing ? POLLOUT : POLLIN), 0});
      order.push_back(&c);
      next_deadline = std::min(next_deadline, c.deadline);
    }
    int timeout_ms = static_cast<int>(std::max<int64_t>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(next_deadline - now).count() + 1));
    int n = poll(fds.data(), fds.size(), timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      spdlog::error("Prometheus endpoint: poll: {}", std::strerror(errno));
      break;
    }
    if (stop_) break;
    if (fds[1].revents & POLLIN) {
      for (;;) {
        int cfd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) break;  // EAGAIN, or a transient error (EMFILE...): try again next round
        connections_++;
        if (conns.size() >= options_.max_connections) {
          rejected_++;
          close(cfd);
          continue;
        }
        Conn c;
        c.fd = cfd;
        c.deadline = Clock::now() + options_.io_timeout;
        conns.push_back(std::move(c));
      }
    }
    // Service the connections polled this round (new ones wait for the next round).
    std::vector<bool> done(order.size(), false);
    for (size_t i = 0; i < order.size(); ++i) {
      Conn& c = *order[i];
      short re = fds[i + 2].revents;
      if (re == 0) continue;
      if (c.draining) {
        char buf[4096];
        ssize_t r = recv(c.fd, buf, sizeof(buf), 0);
        if (r > 0) c.drained += static_cast<size_t>(r);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR) || c.drained > (1 << 20)) {
          done[i] = true;
        }
        continue;
      }
      if (!c.writing) {
        char buf[4096];
        ssize_t r = recv(c.fd, buf, sizeof(buf), 0);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
          done[i] = true;
          continue;
        }
        if (r > 0) {
          size_t room =
              options_.max_request_bytes - std::min(options_.max_request_bytes, c.in.size());
          c.in.append(buf, std::min(static_cast<size_t>(r), room));
          if (answer(c)) {
            c.writing = true;
            c.in.clear();
            c.in.shrink_to_fit();
            c.deadline = Clock::now() + options_.io_timeout;
          }
        }
      } else if (re & (POLLOUT | POLLERR | POLLHUP)) {
        ssize_t w = send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
          done[i] = true;
          continue;
        }
        if (w > 0) c.sent += static_cast<size_t>(w);
        if (c.sent >= c.out.size()) {
          // Closing with unread request bytes would reset the connection and could destroy
          // the response in flight: half-close and drain for a moment instead.
          shutdown(c.fd, SHUT_WR);
          c.writing = false;
          c.draining = true;
          c.out.clear();
          c.out.shrink_to_fit();
          c.deadline = std::min(c.deadline, Clock::now() + std::chrono::seconds(2));
        }
      }
    }
    now = Clock::now();
    size_t i = 0;
    for (auto it = conns.begin(); it != conns.end();) {
      bool polled = i < order.size() && &*it == order[i];
      bool finished = polled && done[i];
      if (polled) ++i;
      if (finished) {
        it = close_conn(it);
      } else if (now >= it->deadline) {
        if (!it->draining) timeouts_++;
        it = close_conn(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& c : conns) close(c.fd);
  conns.clear();
}

}  // namespace wirespan::exporters::prometheus
