// A throwaway rabbitmq-server (Debian's 3.10) on free loopback ports, for fixture and live tests.
//
// Runs /usr/lib/rabbitmq/bin/rabbitmq-server directly (the /usr/sbin wrapper would switch to the
// rabbitmq user and drop the environment) with everything in a temp dir: mnesia, logs, generated
// config, enabled-plugins file and the Erlang cookie (HOME). The AMQP listener binds 127.0.0.1
// only; Erlang distribution and a private epmd (started here in the foreground on its own free
// port, so it is stopped and reaped by pid at Stop) do too.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "tests/support/process.h"

namespace wirespan::testing {

struct RabbitmqServerOptions {
  // A user created after startup (with full permissions on "/"), when not empty; guest/guest
  // always works (loopback_users = none).
  std::string user;
  std::string password;
  std::vector<std::string> extra_config;  // more rabbitmq.conf lines
  std::chrono::seconds startup_timeout{90};
};

class RabbitmqServer {
 public:
  // Starts the broker and waits until it accepts AMQP connections (several seconds).
  static StatusOr<std::unique_ptr<RabbitmqServer>> Start(const RabbitmqServerOptions& options = {});
  ~RabbitmqServer();
  RabbitmqServer(const RabbitmqServer&) = delete;
  RabbitmqServer& operator=(const RabbitmqServer&) = delete;

  const std::string& host() const { return host_; }
  uint16_t port() const { return port_; }
  const std::string& node() const { return node_; }
  const std::string& dir() const { return dir_; }
  const std::string& user() const { return options_.user.empty() ? kGuest : options_.user; }
  const std::string& password() const { return options_.user.empty() ? kGuest : options_.password; }
  // amqp://user:password@127.0.0.1:port/%2F
  std::string Url() const;
  // The environment rabbitmqctl needs to reach this node (cookie, epmd port, node name).
  std::vector<std::string> Env() const;
  // Runs `rabbitmqctl -n NODE args...`; returns its exit code and, in *out, its stdout.
  int Ctl(const std::vector<std::string>& args, std::string* out = nullptr) const;
  // Stops the broker (rabbitmqctl stop, then signals), its epmd, and removes the directory.
  void Stop();

 private:
  RabbitmqServer() = default;
  static inline const std::string kGuest = "guest";
  RabbitmqServerOptions options_;
  std::string host_ = "127.0.0.1";
  uint16_t port_ = 0;
  uint16_t dist_port_ = 0;
  uint16_t epmd_port_ = 0;
  std::string node_;
  std::string dir_;
  std::optional<ChildProcess> epmd_;  // our own epmd, in the foreground, so we can reap it
  std::optional<ChildProcess> process_;
};

}  // namespace wirespan::testing
