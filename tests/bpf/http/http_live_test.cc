// HTTP end to end on the real kernel: unmodified Python servers and clients traced by the BPF
// programs, decoded into spans; the same traffic captured by tcpdump and replayed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "tests/support/live_agent.h"
#include "tests/support/process.h"
#include "tests/support/replay.h"

namespace wirespan::testing {
namespace {

using model::Span;
using model::SpanKind;

const std::string kWorkload = std::string(WIRESPAN_SOURCE_DIR) + "/tests/bpf/http/workload/";

struct Expected {
  std::string method;
  std::string path;
  int status;
  int64_t request_bytes;
  int64_t response_bytes;
};

std::vector<Expected> ReadManifest(const std::string& path) {
  std::vector<Expected> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    int id;
    Expected e;
    if (ss >> id >> e.method >> e.path >> e.status >> e.request_bytes >> e.response_bytes) {
      out.push_back(e);
    }
  }
  return out;
}

int64_t IntAttr(const Span& s, std::string_view key) {
  const int64_t* v = s.attributes.FindInt(key);
  return v ? *v : 0;
}

// What a user checks in a span: everything but ids and times.
using Observed = std::tuple<std::string, std::string, int64_t, int64_t, int64_t>;
Observed Observe(const Span& s) {
  return {AttrText(s, "http.request.method"), AttrText(s, "url.path"),
          IntAttr(s, "http.response.status_code"), IntAttr(s, "http.request.body.size"),
          IntAttr(s, "http.response.body.size")};
}

std::map<std::string, Span> ByPath(const std::vector<Span>& spans) {
  std::map<std::string, Span> out;
  for (const auto& s : spans) out[AttrText(s, "url.path")] = s;
  return out;
}

size_t CountHttp(const std::vector<Span>& spans, SpanKind kind) {
  return Filter(spans, "http", kind).size();
}

class HttpLive : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to load BPF programs";
    dir_ = MakeTempDir("ws-http-live");
    port_ = FreeTcpPort();
  }
  std::string dir_;
  uint16_t port_ = 0;
};

TEST_F(HttpLive, ThousandRequestsGiveExactSpansLiveAndInReplay) {
  auto agent = LiveAgent::Start();
  ASSERT_TRUE(agent.ok()) << agent.status().message();

  auto server =
      ChildProcess::Spawn({kDebianPython, kWorkload + "server.py", std::to_string(port_)});
  ASSERT_TRUE(server.ok());
  (*agent)->Trace(server->pid());
  ASSERT_TRUE(WaitForTcpPort(port_, std::chrono::seconds(10)));

  const std::string pcap = dir_ + "/http.pcap";
  auto tcpdump =
      ChildProcess::Spawn({"tcpdump", "-i", "lo", "-U", "--immediate-mode", "-B", "262144", "-s",
                           "0", "-w", pcap, "tcp port " + std::to_string(port_)});
  ASSERT_TRUE(tcpdump.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // tcpdump attaches

  const std::string manifest_path = dir_ + "/manifest.txt";
  auto client = ChildProcess::Spawn(
      {kDebianPython, kWorkload + "client.py", std::to_string(port_), manifest_path});
  ASSERT_TRUE(client.ok());
  (*agent)->Trace(client->pid());
  client->WriteStdin("go\n");
  int rc = -1;
  ASSERT_TRUE(client->WaitFor(std::chrono::seconds(300), &rc));
  ASSERT_EQ(rc, 0) << "the workload itself failed";

  std::vector<Span> spans = (*agent)->WaitFor(
      [](const std::vector<Span>& s) {
        return CountHttp(s, SpanKind::kServer) >= 1000 && CountHttp(s, SpanKind::kClient) >= 1000;
      },
      std::chrono::seconds(60));
  server->Kill();
  server->Wait();
  (*agent)->Stop();
  spans = (*agent)->Spans();
  EXPECT_EQ((*agent)->KernelDrops(), 0u) << "ring buffer, map or copy-cap drops";

  const std::vector<Expected> expected = ReadManifest(manifest_path);
  ASSERT_EQ(expected.size(), 1000u);
  const auto server_spans = Filter(spans, "http", SpanKind::kServer);
  const auto client_spans = Filter(spans, "http", SpanKind::kClient);
  EXPECT_EQ(server_spans.size(), 1000u);
  EXPECT_EQ(client_spans.size(), 1000u);

  auto server_by_path = ByPath(server_spans);
  auto client_by_path = ByPath(client_spans);
  int mismatches = 0;
  for (const Expected& e : expected) {
    const Observed want{e.method, e.path, e.status, e.request_bytes, e.response_bytes};
    for (auto* side : {&server_by_path, &client_by_path}) {
      auto it = side->find(e.path);
      if (it == side->end()) {
        if (++mismatches < 10) ADD_FAILURE() << "no span for " << e.method << " " << e.path;
        continue;
      }
      if (Observe(it->second) != want && ++mismatches < 10) {
        const auto& [m, p, st, rq, rs] = Observe(it->second);
        ADD_FAILURE() << e.path << ": span says " << m << " " << st << " req=" << rq
                      << " resp=" << rs << ", client saw " << e.method << " " << e.status
                      << " req=" << e.request_bytes << " resp=" << e.response_bytes;
      }
      EXPECT_LE(it->second.start_time_unix_nano, it->second.end_time_unix_nano);
    }
  }
  EXPECT_EQ(mismatches, 0);
  // Server spans belong to the server process, client spans to the client process.
  for (const auto& s : server_spans) ASSERT_EQ(s.origin.tgid, static_cast<uint32_t>(server->pid()));
  for (const auto& s : client_spans) ASSERT_EQ(s.origin.tgid, static_cast<uint32_t>(client->pid()));

  // The same traffic, captured by tcpdump, replayed through the same pipeline.
  tcpdump->Kill(SIGINT);
  tcpdump->Wait();
  ReplayResult replay = ReplayCapture(pcap);
  ASSERT_TRUE(replay.status.ok()) << replay.status.message();
  for (SpanKind kind : {SpanKind::kServer, SpanKind::kClient}) {
    std::multiset<Observed> live, replayed;
    for (const auto& s : Filter(spans, "http", kind)) live.insert(Observe(s));
    for (const auto& s : Filter(replay.spans, "http", kind)) replayed.insert(Observe(s));
    EXPECT_EQ(replayed.size(), 1000u);
    std::vector<Observed> only_live, only_replayed;
    std::set_difference(live.begin(), live.end(), replayed.begin(), replayed.end(),
                        std::back_inserter(only_live));
    std::set_difference(replayed.begin(), replayed.end(), live.begin(), live.end(),
                        std::back_inserter(only_replayed));
    EXPECT_TRUE(only_live.empty() && only_replayed.empty())
        << model::SpanKindName(kind) << " spans: " << only_live.size() << " only live, "
        << only_replayed.size() << " only in replay; first: "
        << (only_live.empty() ? ""
                              : std::get<1>(only_live[0]) + " status " +
                                    std::to_string(std::get<2>(only_live[0])))
        << " / "
        << (only_replayed.empty() ? ""
                                  : std::get<1>(only_replayed[0]) + " resp " +
                                        std::to_string(std::get<4>(only_replayed[0])));
  }
}

TEST_F(HttpLive, ConnectionOpenedBeforeTheAgentIsPickedUpAtItsNextRequest) {
  auto server =
      ChildProcess::Spawn({kDebianPython, kWorkload + "server.py", std::to_string(port_)});
  ASSERT_TRUE(server.ok());
  ASSERT_TRUE(WaitForTcpPort(port_, std::chrono::seconds(10)));
  auto client = ChildProcess::Spawn(
      {kDebianPython, kWorkload + "preexisting_client.py", std::to_string(port_)});
  ASSERT_TRUE(client.ok());
  for (int i = 0; i < 100 && client->Stdout().find("connected") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_NE(client->Stdout().find("connected"), std::string::npos);

  // Only now does the agent start: the connection is already established on both ends.
  auto agent = LiveAgent::Start();
  ASSERT_TRUE(agent.ok()) << agent.status().message();
  (*agent)->Trace(server->pid());
  (*agent)->Trace(client->pid());
  client->WriteStdin("go\n");
  ASSERT_TRUE(client->WaitFor(std::chrono::seconds(30)));
  auto spans = (*agent)->WaitFor(
      [](const std::vector<Span>& s) {
        return CountHttp(s, SpanKind::kServer) >= 5 && CountHttp(s, SpanKind::kClient) >= 5;
      },
      std::chrono::seconds(20));
  (*agent)->Stop();
  for (SpanKind kind : {SpanKind::kServer, SpanKind::kClient}) {
    auto got = Filter(spans, "http", kind);
    ASSERT_EQ(got.size(), 5u) << model::SpanKindName(kind);
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(AttrText(got[i], "url.path"), "/get/" + std::to_string(i + 1));
      EXPECT_EQ(IntAttr(got[i], "http.response.body.size"), (i + 1) * 1000);
      EXPECT_EQ(IntAttr(got[i], "http.response.status_code"), 200);
    }
  }
  EXPECT_GE((*agent)->TrackerStats().connections_midstream, 2u);
}

TEST_F(HttpLive, VectoredWritesAreCapturedWhole) {
  auto agent = LiveAgent::Start();
  ASSERT_TRUE(agent.ok()) << agent.status().message();
  auto proc =
      ChildProcess::Spawn({kDebianPython, kWorkload + "vectored.py", std::to_string(port_)});
  ASSERT_TRUE(proc.ok());
  (*agent)->Trace(proc->pid());
  // Not WaitForTcpPort: its probe connection would be the one this one-shot server accepts.
  for (int i = 0; i < 200 && proc->Stdout().find("ready") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  proc->WriteStdin("go\n");
  int rc = -1;
  ASSERT_TRUE(proc->WaitFor(std::chrono::seconds(30), &rc));
  ASSERT_EQ(rc, 0);
  auto spans = (*agent)->WaitFor(
      [](const std::vector<Span>& s) {
        return CountHttp(s, SpanKind::kServer) >= 3 && CountHttp(s, SpanKind::kClient) >= 3;
      },
      std::chrono::seconds(20));
  (*agent)->Stop();
  for (SpanKind kind : {SpanKind::kServer, SpanKind::kClient}) {
    auto got = Filter(spans, "http", kind);
    ASSERT_EQ(got.size(), 3u) << model::SpanKindName(kind);
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(AttrText(got[i], "url.path"), "/vectored/" + std::to_string(i));
      EXPECT_EQ(IntAttr(got[i], "http.response.body.size"), 50000);
      EXPECT_EQ(IntAttr(got[i], "http.response.status_code"), 200);
    }
  }
  EXPECT_EQ((*agent)->StatsFor(decoders::Protocol::kHttp).parse_errors, 0u);
}

}  // namespace
}  // namespace wirespan::testing
