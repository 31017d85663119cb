// A throwaway PostgreSQL 15 (Debian's) on a free loopback port with scram-sha-256 password auth,
// for fixture, live and secrets tests. Runs as the `postgres` user (the tests run as root) in a
// fresh temp dir; never touches systemd or the packaged cluster.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace wirespan::testing {

struct PostgresServerOptions {
  std::string user = "wirespan";                         // a LOGIN role with this password
  std::string password = "wirespan-Secret-Pw-42";        // scram-sha-256
  std::string database = "shop";                         // owned by `user`
  std::string superuser_password = "wirespan-super-pw";  // for the `postgres` superuser
  std::string bind = "127.0.0.1";
  std::vector<std::string> extra_config;  // more postgresql.conf lines
};

class PostgresServer {
 public:
  // initdb + start (pg_ctl -w) + CREATE ROLE/DATABASE. Fails cleanly if PostgreSQL 15 or the
  // `postgres` user is missing.
  static StatusOr<std::unique_ptr<PostgresServer>> Start(const PostgresServerOptions& options = {});
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  uint16_t port() const { return port_; }
  const std::string& host() const { return options_.bind; }
  const std::string& user() const { return options_.user; }
  const std::string& password() const { return options_.password; }
  const std::string& database() const { return options_.database; }
  const std::string& dir() const { return dir_; }
  // The postmaster's pid (trace it to see SERVER spans: backends are its children).
  pid_t pid() const { return pid_; }
  // PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE/PGSSLMODE=disable for clients and workloads.
  std::vector<std::string> Env() const;
  // libpq keyword/value connection string.
  std::string Dsn() const;
  // Runs SQL with psql as the superuser; returns its output.
  StatusOr<std::string> Psql(const std::string& sql) const;
  // Stops the server (pg_ctl stop -m fast, then immediate) and removes its directory.
  void Stop();

 private:
  PostgresServer() = default;
  PostgresServerOptions options_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  std::string dir_;
  bool running_ = false;
};

}  // namespace wirespan::testing
