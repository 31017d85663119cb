#include "tests/support/rabbitmq_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

namespace wirespan::testing {
namespace {

constexpr const char* kBin = "/usr/lib/rabbitmq/bin";

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

int RunAndWait(std::vector<std::string> argv, std::vector<std::string> env, std::string* out,
               std::chrono::seconds timeout) {
  auto child = ChildProcess::Spawn(std::move(argv), std::move(env));
  if (!child.ok()) return -1;
  int code = -1;
  if (!child->WaitFor(timeout, &code)) {
    child->Kill(SIGKILL);
    code = child->Wait();
  }
  if (out) *out = child->Stdout();
  return code;
}

}  // namespace

// True when the port answers the AMQP 0-9-1 protocol header with a method frame
// (connection.start). An open port alone is not proof: another process may hold it.
static bool SpeaksAmqp(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    static const char kHeader[] = {'A', 'M', 'Q', 'P', 0, 0, 9, 1};
    char reply = 0;
    ok = write(fd, kHeader, sizeof(kHeader)) == sizeof(kHeader) && read(fd, &reply, 1) == 1 &&
         reply == 1;
  }
  close(fd);
  return ok;
}

StatusOr<std::unique_ptr<RabbitmqServer>> RabbitmqServer::Start(
    const RabbitmqServerOptions& options) {
  static std::atomic<int> counter{0};
  std::unique_ptr<RabbitmqServer> s(new RabbitmqServer());
  s->options_ = options;
  s->dir_ = MakeTempDir("wirespan-rabbitmq");
  if (s->dir_.empty()) return Status::Error("cannot create a temp dir");
  std::filesystem::create_directories(s->dir_ + "/home");
  s->node_ = "ws" + std::to_string(getpid()) + "x" + std::to_string(counter++) + "@localhost";
  s->port_ = FreeTcpPort();
  s->dist_port_ = FreeTcpPort();
  s->epmd_port_ = FreeTcpPort();
  std::string conf =
      "listeners.tcp.1 = 127.0.0.1:" + std::to_string(s->port_) + "\nloopback_users = none\n";
  for (const auto& line : options.extra_config) conf += line + "\n";
  if (!WriteFile(s->dir_ + "/rabbitmq.conf", conf) ||
      !WriteFile(s->dir_ + "/enabled_plugins", "[].\n")) {
    return Status::Error("cannot write the broker config in " + s->dir_);
  }
  // A private epmd the broker registers with (it would otherwise daemonize one of its own).
  auto epmd = ChildProcess::Spawn(
      {"epmd", "-port", std::to_string(s->epmd_port_), "-address", "127.0.0.1"}, s->Env());
  if (!epmd.ok()) return epmd.status();
  s->epmd_.emplace(std::move(epmd.value()));
  if (!WaitForTcpPort(s->epmd_port_, std::chrono::seconds(10), "127.0.0.1")) {
    s->Stop();
    return Status::Error("epmd did not start");
  }
  std::vector<std::string> env = s->Env();
  env.push_back("RABBITMQ_NODE_PORT=" + std::to_string(s->port_));
  env.push_back("RABBITMQ_NODE_IP_ADDRESS=127.0.0.1");
  env.push_back("RABBITMQ_DIST_PORT=" + std::to_string(s->dist_port_));
  env.push_back("RABBITMQ_MNESIA_BASE=" + s->dir_ + "/mnesia");
  env.push_back("RABBITMQ_LOG_BASE=" + s->dir_ + "/log");
  env.push_back("RABBITMQ_LOGS=" + s->dir_ + "/log/rabbit.log");
  env.push_back("RABBITMQ_CONFIG_FILE=" + s->dir_ + "/rabbitmq.conf");
  env.push_back("RABBITMQ_ADVANCED_CONFIG_FILE=" + s->dir_ + "/advanced.config");
  env.push_back("RABBITMQ_ENABLED_PLUGINS_FILE=" + s->dir_ + "/enabled_plugins");
  env.push_back("RABBITMQ_PID_FILE=" + s->dir_ + "/rabbit.pid");
  env.push_back("RABBITMQ_GENERATED_CONFIG_DIR=" + s->dir_ + "/config");
  env.push_back("RABBITMQ_PLUGINS_EXPAND_DIR=" + s->dir_ + "/plugins-expand");
  env.push_back("RABBITMQ_SCHEMA_DIR=" + s->dir_ + "/schema");
  env.push_back("RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}");
  auto child = ChildProcess::Spawn({std::string(kBin) + "/rabbitmq-server"}, env);
  if (!child.ok()) return child.status();
  s->process_.emplace(std::move(child.value()));
  // The AMQP listener opens once the broker has booted.
  const auto deadline = std::chrono::steady_clock::now() + options.startup_timeout;
  while (!WaitForTcpPort(s->port_, std::chrono::milliseconds(500), "127.0.0.1") ||
         !SpeaksAmqp(s->port_)) {
    if (!s->process_->running() || std::chrono::steady_clock::now() > deadline) {
      std::string log = ReadFileOrEmpty(s->dir_ + "/log/rabbit.log");
      std::string out = s->process_->Stdout();
      s->Stop();
      return Status::Error("rabbitmq-server did not start: " + out + "\n" + log);
    }
  }
  if (!options.user.empty()) {
    if (s->Ctl({"add_user", options.user, options.password}) != 0 ||
        s->Ctl({"set_permissions", "-p", "/", options.user, ".*", ".*", ".*"}) != 0) {
      s->Stop();
      return Status::Error("rabbitmqctl could not create the test user");
    }
  }
  return s;
}

RabbitmqServer::~RabbitmqServer() { Stop(); }

std::string RabbitmqServer::Url() const {
  return "amqp://" + user() + ":" + password() + "@" + host_ + ":" + std::to_string(port_) + "/%2F";
}

std::vector<std::string> RabbitmqServer::Env() const {
  // -start_epmd false: the broker and every rabbitmqctl use our epmd instead of each trying to
  // daemonize one (those exit at once, and nobody reaps them in a container without an init).
  return {"HOME=" + dir_ + "/home", "RABBITMQ_NODENAME=" + node_,
          "ERL_EPMD_PORT=" + std::to_string(epmd_port_), "ERL_EPMD_ADDRESS=127.0.0.1",
          "ERL_FLAGS=-start_epmd false"};
}

int RabbitmqServer::Ctl(const std::vector<std::string>& args, std::string* out) const {
  std::vector<std::string> argv = {std::string(kBin) + "/rabbitmqctl", "-n", node_};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunAndWait(argv, Env(), out, std::chrono::seconds(60));
}

void RabbitmqServer::Stop() {
  if (process_) {
    Ctl({"stop"});
    int code = 0;
    if (!process_->WaitFor(std::chrono::seconds(20), &code)) {
      // The beam process is the broker proper; the script may not have exec'd into it.
      const std::string pid_text = ReadFileOrEmpty(dir_ + "/rabbit.pid");
      const pid_t beam = static_cast<pid_t>(std::atoi(pid_text.c_str()));
      if (beam > 1) kill(beam, SIGKILL);
      process_->Kill(SIGKILL);
      process_->Wait();
    }
    process_.reset();
  }
  if (epmd_) {  // our private epmd: nothing else registers with it
    epmd_->Kill(SIGTERM);
    if (!epmd_->WaitFor(std::chrono::seconds(5))) {
      epmd_->Kill(SIGKILL);
      epmd_->Wait();
    }
    epmd_.reset();
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }
}

}  // namespace wirespan::testing
