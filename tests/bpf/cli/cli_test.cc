// The wirespan executable as a user runs it: doctor, run with console output, clean exit.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "tests/support/process.h"

namespace wirespan::testing {
namespace {

const std::string kWirespan = std::string(WIRESPAN_BINARY_DIR) + "/agent/cli/wirespan";
const std::string kWorkload = std::string(WIRESPAN_SOURCE_DIR) + "/tests/bpf/http/workload/";

std::string RunAndCapture(const std::string& command, int* rc) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  *rc = WEXITSTATUS(status);
  return out;
}

// Ids of the loaded programs named ws_* (every program wirespan loads is). Other agents may run
// on the same machine (another test, a developer's): assertions compare against a baseline.
std::set<std::string> OurPrograms() {
  int rc = 0;
  const std::string list = RunAndCapture("bpftool prog show 2>/dev/null", &rc);
  std::set<std::string> ids;
  std::istringstream ss(list);
  std::string line;
  while (std::getline(ss, line)) {
    if (line.find(" name ws_") != std::string::npos) ids.insert(line.substr(0, line.find(':')));
  }
  return ids;
}

// Programs that are loaded now but were not in `baseline`. The kernel frees a detached program
// after an RCU grace period, so give it a moment.
size_t NewProgramsLeft(const std::set<std::string>& baseline) {
  size_t left = 0;
  for (int i = 0; i < 50; ++i) {
    left = 0;
    for (const auto& id : OurPrograms()) left += baseline.count(id) == 0;
    if (left == 0) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return left;
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
  }
};

TEST_F(Cli, DoctorReportsBaselineAndNamesWhatIsMissing) {
  const auto baseline = OurPrograms();
  int rc = -1;
  const std::string out = RunAndCapture(kWirespan + " doctor", &rc);
  EXPECT_EQ(rc, 0) << out;
  for (const char* name : {"btf", "syscall_tracepoints", "ringbuf", "bpf_loop", "uprobes",
                           "kprobes", "fentry", "cgroup_sockops", "sk_msg", "tc", "lockdown"}) {
    EXPECT_NE(out.find(name), std::string::npos) << name << " missing from:\n" << out;
  }
  EXPECT_NE(out.find("baseline capture path (syscall tracepoints + ring buffer): available"),
            std::string::npos);
  // kprobes are not compiled into this kernel: doctor must say so, with a reason.
  std::istringstream ss(out);
  std::string line;
  bool kprobes_explained = false;
  while (std::getline(ss, line)) {
    if (line.rfind("kprobes", 0) == 0) {
      kprobes_explained = line.find("unavailable") != std::string::npos && line.size() > 40;
    }
  }
  EXPECT_TRUE(kprobes_explained) << out;
  EXPECT_EQ(NewProgramsLeft(baseline), 0u) << "doctor left programs loaded";
}

TEST_F(Cli, RunPrintsJsonSpansAndDetachesEverythingOnSigterm) {
  const uint16_t port = FreeTcpPort();
  auto server = ChildProcess::Spawn({kDebianPython, kWorkload + "server.py", std::to_string(port)});
  ASSERT_TRUE(server.ok());
  ASSERT_TRUE(WaitForTcpPort(port, std::chrono::seconds(10)));

  const auto baseline = OurPrograms();
  auto agent =
      ChildProcess::Spawn({kWirespan, "run", "--print", "json", "--port", std::to_string(port)});
  ASSERT_TRUE(agent.ok());
  // Loaded and attached once its programs show up (stderr is not captured).
  auto loaded = [&] {
    for (const auto& id : OurPrograms()) {
      if (baseline.count(id) == 0) return true;
    }
    return false;
  };
  for (int i = 0; i < 100 && !loaded(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(loaded());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  int rc = -1;
  RunAndCapture("curl -s -o /dev/null http://127.0.0.1:" + std::to_string(port) + "/get/7?size=123",
                &rc);
  ASSERT_EQ(rc, 0);
  // Spans appear on stdout as one JSON object per line.
  std::string out;
  for (int i = 0; i < 100; ++i) {
    out = agent->Stdout();
    if (std::count(out.begin(), out.end(), '\n') >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  agent->Kill(SIGTERM);
  int exit_code = -1;
  ASSERT_TRUE(agent->WaitFor(std::chrono::seconds(30), &exit_code));
  EXPECT_EQ(exit_code, 0);
  EXPECT_EQ(NewProgramsLeft(baseline), 0u) << "programs left attached after SIGTERM";

  int server_spans = 0, client_spans = 0;
  std::istringstream ss(agent->Stdout());
  std::string line;
  while (std::getline(ss, line)) {
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(j.is_discarded()) << "not JSON: " << line;
    for (const char* key :
         {"trace_id", "span_id", "parent_span_id", "name", "kind", "start_time_unix_nano",
          "end_time_unix_nano", "status", "attributes", "resource"}) {
      EXPECT_TRUE(j.contains(key)) << key << " missing in " << line;
    }
    if (j["attributes"].value("url.path", "") != "/get/7") continue;
    EXPECT_EQ(j["attributes"]["http.request.method"], "GET");
    EXPECT_EQ(j["attributes"]["http.response.status_code"], 200);
    EXPECT_EQ(j["attributes"]["http.response.body.size"], 123);
    EXPECT_EQ(j["trace_id"].get<std::string>().size(), 32u);
    if (j["kind"] == "server") {
      ++server_spans;
      EXPECT_EQ(j["resource"]["process.pid"], server->pid());
    }
    if (j["kind"] == "client") {
      ++client_spans;
      EXPECT_EQ(j["resource"]["process.executable.name"], "curl");
    }
  }
  EXPECT_EQ(server_spans, 1);
  EXPECT_EQ(client_spans, 1);
}

TEST_F(Cli, BadConfigurationGivesAClearError) {
  const std::string dir = MakeTempDir("ws-cli-config");
  FILE* f = fopen((dir + "/bad.yaml").c_str(), "w");
  fputs("capture:\n  ring_buffer_mib: 3\n", f);
  fclose(f);
  const auto baseline = OurPrograms();
  int rc = -1;
  const std::string out = RunAndCapture(kWirespan + " run --config " + dir + "/bad.yaml 2>&1", &rc);
  EXPECT_EQ(rc, 2);
  EXPECT_NE(out.find("ring_buffer_mib must be a power of two"), std::string::npos) << out;
  EXPECT_EQ(NewProgramsLeft(baseline), 0u);
}

}  // namespace
}  // namespace wirespan::testing
