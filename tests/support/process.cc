#include "tests/support/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace wirespan::testing {

StatusOr<ChildProcess> ChildProcess::Spawn(std::vector<std::string> argv,
                                           std::vector<std::string> extra_env) {
  if (argv.empty()) return Status::Error("Spawn: empty argv");
  char tmpl[] = "/tmp/ws-child-stdout-XXXXXX";
  const int out_fd = mkstemp(tmpl);
  if (out_fd < 0) return Status::Error(std::string("mkstemp: ") + std::strerror(errno));
  int in_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0) {
    close(out_fd);
    return Status::Error(std::string("pipe: ") + std::strerror(errno));
  }
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  for (auto& kv : extra_env) {
    const std::string key = kv.substr(0, kv.find('=') + 1);
    std::erase_if(env, [&](const std::string& e) { return e.rfind(key, 0) == 0; });
    env.push_back(kv);
  }
  std::vector<char*> cargv, cenv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  for (auto& e : env) cenv.push_back(e.data());
  cenv.push_back(nullptr);

  const pid_t pid = fork();
  if (pid < 0) return Status::Error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    dup2(in_pipe[0], STDIN_FILENO);
    dup2(out_fd, STDOUT_FILENO);
    // Children die with the test binary, so a failed test leaves no server behind.
    setpgid(0, 0);
    execvpe(cargv[0], cargv.data(), cenv.data());
    _exit(127);
  }
  close(out_fd);
  close(in_pipe[0]);
  ChildProcess child;
  child.pid_ = pid;
  child.stdin_fd_ = in_pipe[1];
  child.stdout_path_ = tmpl;
  return child;
}

ChildProcess::ChildProcess(ChildProcess&& o) noexcept { *this = std::move(o); }

ChildProcess& ChildProcess::operator=(ChildProcess&& o) noexcept {
  std::swap(pid_, o.pid_);
  std::swap(stdin_fd_, o.stdin_fd_);
  std::swap(exit_code_, o.exit_code_);
  std::swap(stdout_path_, o.stdout_path_);
  return *this;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && exit_code_ < 0) {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    Wait();
  }
  if (stdin_fd_ >= 0) close(stdin_fd_);
  if (!stdout_path_.empty()) unlink(stdout_path_.c_str());
}

int ChildProcess::Wait() {
  if (exit_code_ >= 0 || pid_ <= 0) return exit_code_;
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return exit_code_;
}

bool ChildProcess::WaitFor(std::chrono::milliseconds timeout, int* exit_code) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (exit_code != nullptr) *exit_code = exit_code_;
  return true;
}

bool ChildProcess::running() {
  if (exit_code_ >= 0 || pid_ <= 0) return false;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return true;
}

void ChildProcess::Kill(int sig) {
  if (pid_ > 0 && exit_code_ < 0) kill(pid_, sig);
}

std::string ChildProcess::Stdout() const { return ReadFileOrEmpty(stdout_path_); }

bool ChildProcess::WriteStdin(std::string_view bytes) {
  if (stdin_fd_ < 0) return false;
  return write(stdin_fd_, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
}

void ChildProcess::CloseStdin() {
  if (stdin_fd_ >= 0) close(stdin_fd_);
  stdin_fd_ = -1;
}

uint16_t FreeTcpPort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

bool WaitForTcpPort(uint16_t port, std::chrono::milliseconds timeout, const char* host) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    inet_pton(AF_INET, host, &addr.sin_addr);
    const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    close(fd);
    if (ok) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return {};
  return tmpl;
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace wirespan::testing
