// Captures a real loopback exchange between two Python sockets with tcpdump and checks that the
// replay reproduces, on both sides, exactly the bytes each process sent. Real kernel segmentation
// (GSO-sized loopback segments, window updates, delayed ACKs) is what the crafted captures of
// pcap_source_test.cc cannot imitate.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/sources/pcap_source.h"
#include "tests/agent/sources/capture_builder.h"

extern char** environ;

namespace wirespan::agent {
namespace {

constexpr size_t kRequestLen = 300000;
constexpr size_t kResponseLen = 200000;

std::string Pattern(size_t len, int mul, int add) {
  std::string out(len, '\0');
  for (size_t i = 0; i < len; ++i) out[i] = static_cast<char>((i * mul + add) % 256);
  return out;
}

// The client writes the request in uneven chunks, the server answers after reading all of it and
// both shut down cleanly.
constexpr char kScript[] = R"PY(
import socket, sys, threading
port = int(sys.argv[1])
req = bytes((i * 7 + 3) % 256 for i in range(300000))
resp = bytes((i * 13 + 5) % 256 for i in range(200000))
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(1)
ok = []
def serve():
    conn, _ = srv.accept()
    got = b""
    while len(got) < len(req):
        chunk = conn.recv(65536)
        if not chunk:
            break
        got += chunk
    conn.sendall(resp)
    conn.shutdown(socket.SHUT_WR)
    conn.recv(1)
    conn.close()
    ok.append(got == req)
t = threading.Thread(target=serve)
t.start()
c = socket.create_connection(("127.0.0.1", port))
for start, end in ((0, 1000), (1000, 1001), (1001, 150000), (150000, 300000)):
    c.sendall(req[start:end])
got = b""
while True:
    chunk = c.recv(65536)
    if not chunk:
        break
    got += chunk
c.close()
t.join()
srv.close()
sys.exit(0 if ok == [True] and got == resp else 3)
)PY";

class TcpdumpLive : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to capture";
    for (const char* tool : {"/usr/bin/tcpdump", "/usr/sbin/tcpdump"}) {
      if (std::filesystem::exists(tool)) tcpdump_ = tool;
    }
    if (tcpdump_.empty()) GTEST_SKIP() << "tcpdump not installed";
    if (!std::filesystem::exists("/usr/bin/python3")) GTEST_SKIP() << "python3 not installed";
  }

  std::string tcpdump_;
};

TEST_F(TcpdumpLive, ReplayMatchesBytesSentOnLoopback) {
  const int port = 47000 + static_cast<int>(getpid() % 2000);
  const std::string pcap = testing::TempPath("live.pcap");
  const std::string log = testing::TempPath("tcpdump.log");
  const std::string script = testing::TempPath("exchange.py");
  std::ofstream(script) << kScript;
  std::filesystem::remove(pcap);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const std::string filter = "tcp port " + std::to_string(port);
  // --immediate-mode: without it TPACKET_V3 hands packets over in blocks, and those still in the
  // ring when tcpdump is stopped are lost. -U: write each packet at once. -Z root: keep the right
  // to write the file wherever it is. -B: a 16 MiB kernel buffer so no packet is dropped.
  std::vector<std::string> args = {tcpdump_, "-i", "lo",    "-n", "--immediate-mode",
                                   "-U",     "-B", "16384", "-Z", "root",
                                   "-s",     "0",  "-w",    pcap, filter};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, tcpdump_.c_str(), &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);

  // Wait for tcpdump to be listening before generating traffic.
  bool listening = false;
  for (int i = 0; i < 100 && !listening; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    listening = text.str().find("listening on") != std::string::npos;
  }
  if (!listening) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    FAIL() << "tcpdump did not start; see " << log;
  }
  const std::string command = "timeout 60 /usr/bin/python3 " + script + " " + std::to_string(port);
  const int rc = std::system(command.c_str());
  // Let the last packets reach the file, then stop tcpdump cleanly (it flushes on SIGINT).
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_EQ(rc, 0) << "the python exchange failed";

  PcapSourceConfig config;
  config.path = pcap;
  PcapStats stats;
  testing::Recorder r = testing::Replay(config, &stats);

  const std::string request = Pattern(kRequestLen, 7, 3);
  const std::string response = Pattern(kResponseLen, 13, 5);
  ASSERT_EQ(r.Opens().size(), 2u);
  const ConnEvent* client = r.OpenWithRole(WS_ROLE_CLIENT);
  const ConnEvent* server = r.OpenWithRole(WS_ROLE_SERVER);
  ASSERT_NE(client, nullptr);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->tuple.local_port, port);
  EXPECT_EQ(client->tuple.remote_port, port);
  // Compare sizes first: a mismatch of 500 KB strings is unreadable.
  const std::string c_out = r.Stream(client->conn_id, WS_DIR_EGRESS);
  const std::string c_in = r.Stream(client->conn_id, WS_DIR_INGRESS);
  const std::string s_in = r.Stream(server->conn_id, WS_DIR_INGRESS);
  const std::string s_out = r.Stream(server->conn_id, WS_DIR_EGRESS);
  ASSERT_EQ(c_out.size(), request.size());
  ASSERT_EQ(c_in.size(), response.size());
  EXPECT_TRUE(c_out == request);
  EXPECT_TRUE(s_in == request);
  EXPECT_TRUE(c_in == response);
  EXPECT_TRUE(s_out == response);
  EXPECT_EQ(stats.tcp.gaps, 0u);
  EXPECT_EQ(stats.malformed, 0u);
  // Closed by the FIN exchange, each side reporting its totals.
  int closes = 0;
  for (const ConnEvent& e : r.conns) {
    if (e.open) continue;
    ++closes;
    const bool is_client = e.conn_id == client->conn_id;
    EXPECT_EQ(e.bytes_sent, is_client ? kRequestLen : kResponseLen);
    EXPECT_EQ(e.bytes_received, is_client ? kResponseLen : kRequestLen);
  }
  EXPECT_EQ(closes, 2);
  std::filesystem::remove(pcap);
  std::filesystem::remove(script);
  std::filesystem::remove(log);
}

}  // namespace
}  // namespace wirespan::agent
