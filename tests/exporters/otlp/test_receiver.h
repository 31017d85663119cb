// An OTLP/HTTP receiver for tests: plain sockets on 127.0.0.1, one thread per connection,
// keep-alive, scripted answers, stoppable and restartable on the same port.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "exporters/otlp/http_client.h"

namespace wirespan::testing {

class TestReceiver {
 public:
  struct Request {
    std::string method;
    std::string path;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string raw_body;                        // as received
    std::string body;                            // gunzipped if Content-Encoding: gzip
  };
  struct Reply {
    int status = 200;
    std::string body;
    std::string content_type = "application/x-protobuf";
    std::vector<std::pair<std::string, std::string>> headers;
  };
  using Handler = std::function<Reply(const Request&)>;

  TestReceiver() { Start(0); }
  ~TestReceiver() { Stop(); }

  // Binds (port 0: a free one) and starts accepting.
  void Start(uint16_t port) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    for (int i = 0; i < 100; ++i) {
      if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    listen(listen_fd_, 16);
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    stop_ = false;
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }

  void Stop() {
    if (!accept_thread_.joinable()) return;
    stop_ = true;
    accept_thread_.join();
    close(listen_fd_);
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int fd : conn_fds_) shutdown(fd, SHUT_RDWR);
      threads.swap(conn_threads_);
    }
    for (auto& t : threads) t.join();
  }

  void Restart() { Start(port_); }

  uint16_t port() const { return port_; }
  std::string Url(const std::string& path = "") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  void SetHandler(Handler h) {
    std::lock_guard<std::mutex> lock(mu_);
    handler_ = std::move(h);
  }

  std::vector<Request> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  size_t request_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_.size();
  }
  bool WaitForRequests(size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
  }
  // Waits until `pred(requests)` holds.
  bool WaitFor(const std::function<bool(const std::vector<Request>&)>& pred,
               std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return pred(requests_); });
  }

 private:
  void AcceptLoop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::lock_guard<std::mutex> lock(mu_);
      conn_fds_.push_back(fd);
      conn_threads_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  static bool ReadMore(int fd, std::string& buf) {
    char tmp[65536];
    ssize_t n = recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0) return false;
    buf.append(tmp, static_cast<size_t>(n));
    return true;
  }

  void Serve(int fd) {
    std::string buf;
    for (;;) {
      size_t end;
      while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
        if (!ReadMore(fd, buf)) return CloseFd(fd);
      }
      Request req;
      std::string head = buf.substr(0, end);
      buf.erase(0, end + 4);
      size_t line_end = head.find("\r\n");
      std::string line = head.substr(0, line_end);
      size_t sp1 = line.find(' ');
      size_t sp2 = line.find(' ', sp1 + 1);
      req.method = line.substr(0, sp1);
      req.path = line.substr(sp1 + 1, sp2 - sp1 - 1);
      size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
      while (pos < head.size()) {
        size_t e = head.find("\r\n", pos);
        if (e == std::string::npos) e = head.size();
        std::string h = head.substr(pos, e - pos);
        size_t colon = h.find(':');
        if (colon != std::string::npos) {
          std::string name = h.substr(0, colon);
          for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          size_t v = h.find_first_not_of(' ', colon + 1);
          req.headers[name] = v == std::string::npos ? "" : h.substr(v);
        }
        pos = e + 2;
      }
      size_t length = 0;
      if (auto it = req.headers.find("content-length"); it != req.headers.end()) {
        length = std::stoul(it->second);
      }
      while (buf.size() < length) {
        if (!ReadMore(fd, buf)) return CloseFd(fd);
      }
      req.raw_body = buf.substr(0, length);
      buf.erase(0, length);
      req.body = req.raw_body;
      if (auto it = req.headers.find("content-encoding");
          it != req.headers.end() && it->second == "gzip") {
        auto plain = exporters::otlp::GzipDecompress(req.raw_body);
        req.body = plain.ok() ? plain.value() : std::string("<bad gzip>");
      }
      Handler handler;
      {
        std::lock_guard<std::mutex> lock(mu_);
        handler = handler_;
      }
      Reply reply = handler ? handler(req) : Reply{};
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(req);
      }
      cv_.notify_all();
      std::string out = "HTTP/1.1 " + std::to_string(reply.status) +
                        " X\r\nContent-Type: " + reply.content_type +
                        "\r\nContent-Length: " + std::to_string(reply.body.size()) + "\r\n";
      for (const auto& [k, v] : reply.headers) out += k + ": " + v + "\r\n";
      out += "\r\n" + reply.body;
      size_t sent = 0;
      while (sent < out.size()) {
        ssize_t n = send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return CloseFd(fd);
        sent += static_cast<size_t>(n);
      }
    }
  }

  void CloseFd(int fd) {
    std::lock_guard<std::mutex> lock(mu_);
    conn_fds_.erase(std::remove(conn_fds_.begin(), conn_fds_.end(), fd), conn_fds_.end());
    close(fd);
  }

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread accept_thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Handler handler_;
  std::vector<Request> requests_;
  std::vector<int> conn_fds_;
  std::vector<std::thread> conn_threads_;
};

}  // namespace wirespan::testing
