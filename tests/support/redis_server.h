// A throwaway redis-server (Debian's) on a free loopback port, for fixture and live tests.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "tests/support/process.h"

namespace wirespan::testing {

struct RedisServerOptions {
  std::string password;                 // --requirepass when not empty
  std::string bind = "127.0.0.1";       // "::1" for IPv6
  std::vector<std::string> extra_args;  // more "--option value" pairs
};

class RedisServer {
 public:
  // Starts redis-server in a fresh temp dir with `--save ''` (no persistence) and waits until it
  // accepts connections.
  static StatusOr<std::unique_ptr<RedisServer>> Start(const RedisServerOptions& options = {});
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  uint16_t port() const { return port_; }
  const std::string& host() const { return options_.bind; }
  const std::string& password() const { return options_.password; }
  const std::string& dir() const { return dir_; }
  pid_t pid() const { return process_ ? process_->pid() : -1; }
  // redis://[:password@]host:port/db for redis-py.
  std::string Url(int db = 0) const;
  // Stops the server (SIGTERM, then SIGKILL) and removes its directory.
  void Stop();

 private:
  RedisServer() = default;
  RedisServerOptions options_;
  uint16_t port_ = 0;
  std::string dir_;
  std::optional<ChildProcess> process_;
};

}  // namespace wirespan::testing
