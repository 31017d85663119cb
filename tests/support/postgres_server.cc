#include "tests/support/postgres_server.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tests/support/process.h"

namespace wirespan::testing {
namespace {

constexpr const char* kPgBin = "/usr/lib/postgresql/15/bin";

// Runs argv to completion; returns its stdout, or an error with the exit code.
StatusOr<std::string> Run(std::vector<std::string> argv, std::vector<std::string> env = {}) {
  const std::string what = argv.size() > 4 && argv[0] == "runuser" ? argv[4] : argv[0];
  auto child = ChildProcess::Spawn(std::move(argv), std::move(env));
  if (!child.ok()) return child.status();
  child->CloseStdin();
  int code = -1;
  if (!child->WaitFor(std::chrono::seconds(60), &code)) {
    child->Kill(SIGKILL);
    return Status::Error(what + ": timed out");
  }
  if (code != 0) return Status::Error(what + " exited with " + std::to_string(code));
  return child->Stdout();
}

std::vector<std::string> AsPostgres(const std::string& binary, std::vector<std::string> args) {
  std::vector<std::string> argv = {"runuser", "-u", "postgres", "--",
                                   std::string(kPgBin) + "/" + binary};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::string SqlQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    out.push_back(c);
    if (c == '\'') out.push_back('\'');
  }
  return out + "'";
}

std::string IdentQuote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    out.push_back(c);
    if (c == '"') out.push_back('"');
  }
  return out + "\"";
}

}  // namespace

StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::Start(
    const PostgresServerOptions& options) {
  if (access((std::string(kPgBin) + "/initdb").c_str(), X_OK) != 0) {
    return Status::Error("PostgreSQL 15 is not installed (" + std::string(kPgBin) + ")");
  }
  const passwd* pw = getpwnam("postgres");
  if (pw == nullptr) return Status::Error("no `postgres` user");
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  server->options_ = options;
  server->dir_ = MakeTempDir("wirespan-pg");
  if (server->dir_.empty()) return Status::Error("cannot create a temp dir");
  if (chown(server->dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0 ||
      chmod(server->dir_.c_str(), 0700) != 0) {
    return Status::Error("cannot hand " + server->dir_ + " to postgres");
  }
  const std::string data = server->dir_ + "/data";
  const std::string pwfile = server->dir_ + "/pw";
  {
    std::ofstream(pwfile) << options.superuser_password << "\n";
    if (chown(pwfile.c_str(), pw->pw_uid, pw->pw_gid) != 0) return Status::Error("chown pwfile");
  }
  if (auto r =
          Run(AsPostgres("initdb", {"-D", data, "-U", "postgres", "--pwfile=" + pwfile,
                                    "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"}));
      !r.ok()) {
    return r.status();
  }
  std::filesystem::remove(pwfile);
  server->port_ = FreeTcpPort();
  {
    std::ofstream conf(data + "/postgresql.conf", std::ios::app);
    conf << "listen_addresses = '" << options.bind << "'\n"
         << "port = " << server->port_ << "\n"
         << "unix_socket_directories = '" << server->dir_ << "'\n"
         << "ssl = off\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
         << "logging_collector = off\nmax_connections = 50\nshared_buffers = 16MB\n";
    for (const auto& line : options.extra_config) conf << line << "\n";
  }
  if (auto r = Run(AsPostgres(
          "pg_ctl", {"-D", data, "-l", server->dir_ + "/server.log", "-w", "-t", "60", "start"}));
      !r.ok()) {
    return Status::Error(r.status().message() + " (see " + server->dir_ + "/server.log)");
  }
  server->running_ = true;
  {
    std::ifstream pidfile(data + "/postmaster.pid");
    pid_t pid = -1;
    pidfile >> pid;
    server->pid_ = pid;
  }
  if (!WaitForTcpPort(server->port_, std::chrono::seconds(30), options.bind.c_str())) {
    return Status::Error("PostgreSQL did not listen on port " + std::to_string(server->port_));
  }
  // psql -c runs its string as one transaction, which CREATE DATABASE refuses: two calls.
  if (auto r = server->Psql("CREATE ROLE " + IdentQuote(options.user) + " LOGIN PASSWORD " +
                            SqlQuote(options.password));
      !r.ok()) {
    return r.status();
  }
  if (auto r = server->Psql("CREATE DATABASE " + IdentQuote(options.database) + " OWNER " +
                            IdentQuote(options.user));
      !r.ok()) {
    return r.status();
  }
  return server;
}

PostgresServer::~PostgresServer() { Stop(); }

std::vector<std::string> PostgresServer::Env() const {
  return {"PGHOST=" + options_.bind,         "PGPORT=" + std::to_string(port_),
          "PGUSER=" + options_.user,         "PGPASSWORD=" + options_.password,
          "PGDATABASE=" + options_.database, "PGSSLMODE=disable"};
}

std::string PostgresServer::Dsn() const {
  return "host=" + options_.bind + " port=" + std::to_string(port_) + " user=" + options_.user +
         " password=" + options_.password + " dbname=" + options_.database + " sslmode=disable";
}

StatusOr<std::string> PostgresServer::Psql(const std::string& sql) const {
  // Superuser over the Unix socket in the temp dir (scram: the password comes from PGPASSWORD).
  return Run({"psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", dir_, "-p",
              std::to_string(port_), "-U", "postgres", "-d", "postgres", "-c", sql},
             {"PGPASSWORD=" + options_.superuser_password});
}

void PostgresServer::Stop() {
  if (running_) {
    const std::string data = dir_ + "/data";
    if (!Run(AsPostgres("pg_ctl", {"-D", data, "-m", "fast", "-w", "-t", "20", "stop"})).ok()) {
      (void)Run(AsPostgres("pg_ctl", {"-D", data, "-m", "immediate", "-w", "stop"}));
    }
    running_ = false;
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }
}

}  // namespace wirespan::testing
