// Test harness for the BPF capture tests: runs one scenario of capture_scenarios.py under Debian's
// /usr/bin/python3, starts a BpfEventSource traced to that child only, and collects its events.
#pragma once

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/probe/bpf_event_source.h"
#include "agent/sources/event_source.h"

namespace wirespan::agent::testing {

struct StoredData {
  DataEvent event;
  std::string bytes;  // event.data copied out of the ring
};

class Collector : public EventSink {
 public:
  void OnConn(const ConnEvent& e) override { conns.push_back(e); }
  void OnData(const DataEvent& e) override {
    StoredData d{e, std::string(e.data)};
    d.event.data = {};
    data.push_back(std::move(d));
  }
  void OnProc(const ProcEvent& e) override { procs.push_back(e); }

  std::vector<ConnEvent> ConnsOf(uint32_t tgid) const {
    std::vector<ConnEvent> out;
    for (const auto& c : conns) {
      if (c.tgid == tgid) out.push_back(c);
    }
    return out;
  }
  std::vector<StoredData> DataOf(uint64_t conn_id, int direction) const {
    std::vector<StoredData> out;
    for (const auto& d : data) {
      if (d.event.conn_id == conn_id && d.event.direction == direction) out.push_back(d);
    }
    return out;
  }

  std::vector<ConnEvent> conns;
  std::vector<StoredData> data;
  std::vector<ProcEvent> procs;
};

// Debian's interpreter on purpose: the python3 first on PATH may be another build.
inline constexpr char kPython[] = "/usr/bin/python3";

class PythonChild {
 public:
  explicit PythonChild(const std::string& scenario) {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, in[1]);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    std::string script =
        std::string(WIRESPAN_SOURCE_DIR) + "/tests/bpf/capture/capture_scenarios.py";
    char* argv[] = {const_cast<char*>(kPython), const_cast<char*>("-u"),
                    const_cast<char*>(script.c_str()), const_cast<char*>(scenario.c_str()),
                    nullptr};
    if (posix_spawn(&pid_, kPython, &actions, nullptr, argv, environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    close(in[0]);
    close(out[1]);
    to_child_ = in[1];
    from_child_ = out[0];
  }

  ~PythonChild() {
    if (to_child_ >= 0) close(to_child_);
    if (from_child_ >= 0) close(from_child_);
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  pid_t pid() const { return pid_; }

  // Reads one line starting with `tag` and returns the JSON after it (null on timeout/EOF).
  nlohmann::json Expect(const std::string& tag, int timeout_ms = 20000) {
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (true) {
      auto nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        break;
      }
      int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      deadline - std::chrono::steady_clock::now())
                                      .count());
      if (left <= 0) return nullptr;
      pollfd p{from_child_, POLLIN, 0};
      if (poll(&p, 1, left) <= 0) return nullptr;
      char buf[4096];
      ssize_t n = read(from_child_, buf, sizeof(buf));
      if (n <= 0) return nullptr;
      buffer_.append(buf, static_cast<size_t>(n));
    }
    if (line.rfind(tag + " ", 0) != 0) return nullptr;
    return nlohmann::json::parse(line.substr(tag.size() + 1), nullptr, false);
  }

  void Go() { (void)!write(to_child_, "go\n", 3); }

  // Closes stdin so the child exits, and waits for it.
  int Finish() {
    close(to_child_);
    to_child_ = -1;
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int to_child_ = -1;
  int from_child_ = -1;
  std::string buffer_;
};

// Polls until the ring has been quiet for a little while.
inline void Drain(BpfEventSource& source, Collector& sink) {
  int quiet = 0;
  while (quiet < 3) {
    auto n = source.Poll(sink, 50);
    ASSERT_TRUE(n.ok()) << n.status().message();
    quiet = n.value() == 0 ? quiet + 1 : 0;
  }
}

// Inode of /proc/PID/ns/<ns> (0 if the process is gone).
inline uint32_t NsInode(uint32_t pid, const char* ns) {
  struct stat st {};
  std::string path = "/proc/" + std::to_string(pid) + "/ns/" + ns;
  return stat(path.c_str(), &st) == 0 ? static_cast<uint32_t>(st.st_ino) : 0;
}

struct ScenarioRun {
  NamespaceIds ns;  // the child's, read while it runs
  nlohmann::json ready;
  nlohmann::json done;
  uint32_t tgid = 0;
  Collector events;
  ProbeManager::Stats stats{};
};

// Runs `scenario` with a source configured by `config` (trace_all=false and the child's tgid are
// filled in), and collects every event of the run.
// `adjust` may change the configuration once the child's "ready" payload is known.
inline void RunScenario(
    const std::string& scenario, BpfSourceConfig config, ScenarioRun* run,
    const std::function<void(const nlohmann::json&, BpfSourceConfig&)>& adjust = nullptr) {
  PythonChild child(scenario);
  ASSERT_GT(child.pid(), 0) << "cannot spawn " << kPython;
  run->tgid = static_cast<uint32_t>(child.pid());
  run->ready = child.Expect("ready");
  ASSERT_FALSE(run->ready.is_null()) << "scenario " << scenario << " did not get ready";
  run->ns =
      NamespaceIds{NsInode(run->tgid, "pid"), NsInode(run->tgid, "mnt"), NsInode(run->tgid, "net")};
  if (!config.trace_all) config.tgids.push_back(run->tgid);
  if (adjust) adjust(run->ready, config);
  BpfEventSource source(config);
  Status started = source.Start();
  ASSERT_TRUE(started.ok()) << started.message();
  child.Go();
  run->done = child.Expect("done", 60000);
  ASSERT_FALSE(run->done.is_null()) << "scenario " << scenario << " did not finish";
  Drain(source, run->events);
  auto stats = source.KernelStats();
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  run->stats = stats.value();
  EXPECT_EQ(run->stats[WS_STAT_RINGBUF_FULL], 0u);
  source.Stop();
  EXPECT_EQ(child.Finish(), 0);
}

inline BpfSourceConfig TracedOnly() {
  BpfSourceConfig c;
  c.trace_all = false;
  return c;
}

}  // namespace wirespan::agent::testing
