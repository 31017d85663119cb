// Child processes and ports for tests that drive real servers and clients.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "base/status.h"

namespace wirespan::testing {

class ChildProcess {
 public:
  // Starts argv[0] (a path, or a name looked up in PATH) with stdout captured to a temp file and
  // stderr passed through. extra_env entries are "KEY=value".
  static StatusOr<ChildProcess> Spawn(std::vector<std::string> argv,
                                      std::vector<std::string> extra_env = {});
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ~ChildProcess();  // kills (SIGKILL) and reaps a child still running

  pid_t pid() const { return pid_; }
  // Waits for exit; returns the exit code (128+signal when killed).
  int Wait();
  // Waits up to `timeout`; returns false if still running.
  bool WaitFor(std::chrono::milliseconds timeout, int* exit_code = nullptr);
  void Kill(int sig = SIGTERM);
  bool running();
  // Everything the child wrote to stdout so far.
  std::string Stdout() const;
  // Writes to the child's stdin (a pipe); used to release a child once it is traced.
  bool WriteStdin(std::string_view bytes);
  void CloseStdin();

 private:
  ChildProcess() = default;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int exit_code_ = -1;
  std::string stdout_path_;
};

// Debian's interpreter, which has the python3-* packages the workloads need.
inline constexpr const char* kDebianPython = "/usr/bin/python3";

uint16_t FreeTcpPort();
bool WaitForTcpPort(uint16_t port, std::chrono::milliseconds timeout,
                    const char* host = "127.0.0.1");
// A fresh directory under /tmp, removed by the caller (or left for post-mortem on failure).
std::string MakeTempDir(const std::string& prefix);
std::string ReadFileOrEmpty(const std::string& path);

}  // namespace wirespan::testing
