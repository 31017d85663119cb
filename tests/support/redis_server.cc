#include "tests/support/redis_server.h"

#include <filesystem>

namespace wirespan::testing {

StatusOr<std::unique_ptr<RedisServer>> RedisServer::Start(const RedisServerOptions& options) {
  std::unique_ptr<RedisServer> server(new RedisServer());
  server->options_ = options;
  server->dir_ = MakeTempDir("wirespan-redis");
  for (int attempt = 0; attempt < 3; ++attempt) {
    server->port_ = FreeTcpPort();
    std::vector<std::string> argv = {"redis-server",
                                     "--port",
                                     std::to_string(server->port_),
                                     "--bind",
                                     options.bind,
                                     "--save",
                                     "",
                                     "--appendonly",
                                     "no",
                                     "--dir",
                                     server->dir_,
                                     "--daemonize",
                                     "no",
                                     "--logfile",
                                     server->dir_ + "/redis.log",
                                     "--databases",
                                     "16"};
    if (!options.password.empty()) {
      argv.push_back("--requirepass");
      argv.push_back(options.password);
    }
    for (const auto& a : options.extra_args) argv.push_back(a);
    auto child = ChildProcess::Spawn(argv);
    if (!child.ok()) return child.status();
    server->process_.emplace(std::move(child.value()));
    if (WaitForTcpPort(server->port_, std::chrono::seconds(10), options.bind.c_str())) {
      return server;
    }
    server->process_->Kill(SIGKILL);
    server->process_->Wait();
    server->process_.reset();  // the port was taken meanwhile: try another
  }
  return Status::Error("redis-server did not start; log: " +
                       ReadFileOrEmpty(server->dir_ + "/redis.log"));
}

RedisServer::~RedisServer() { Stop(); }

std::string RedisServer::Url(int db) const {
  std::string host =
      options_.bind.find(':') != std::string::npos ? "[" + options_.bind + "]" : options_.bind;
  std::string auth = options_.password.empty() ? "" : ":" + options_.password + "@";
  return "redis://" + auth + host + ":" + std::to_string(port_) + "/" + std::to_string(db);
}

void RedisServer::Stop() {
  if (process_) {
    process_->Kill(SIGTERM);
    int code = 0;
    if (!process_->WaitFor(std::chrono::seconds(5), &code)) {
      process_->Kill(SIGKILL);
      process_->Wait();
    }
    process_.reset();
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }
}

}  // namespace wirespan::testing
