// Real-kernel tests of the capture layer: the BPF programs and BpfEventSource, driven by Python
// traffic on loopback. Run as root (label bpf).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <set>
#include <string>

#include "tests/bpf/capture/capture_harness.h"

namespace wirespan::agent::testing {
namespace {

std::string Pattern(size_t n) {
  std::string out = "POST /upload HTTP/1.1\r\nContent-Type: x\r\n\r\n";
  for (size_t i = 0; out.size() < n; ++i) {
    out.push_back(static_cast<char>(((i * 131 + 7) & 0xFF)));
  }
  return out;
}

const ConnEvent* FindConn(const std::vector<ConnEvent>& conns, bool open, uint8_t role,
                          uint16_t local_port) {
  for (const auto& c : conns) {
    if (c.open == open && c.role == role && c.tuple.local_port == local_port) return &c;
  }
  return nullptr;
}

// Concatenates one direction's events, checking that they tile the stream from `start` with no
// hole or overlap. Uncopied bytes (gaps) are replaced by '\0'.
std::string Reassemble(const std::vector<StoredData>& events, uint64_t start = 0) {
  std::string out;
  uint64_t next = start;
  for (const auto& d : events) {
    EXPECT_EQ(d.event.stream_pos, next) << "stream positions must be contiguous";
    EXPECT_EQ(d.bytes.size(), d.event.data.size() + d.bytes.size());
    EXPECT_LE(d.bytes.size(), d.event.covered_len);
    out += d.bytes;
    out.append(d.event.covered_len - d.bytes.size(), '\0');
    next = d.event.stream_pos + d.event.covered_len;
  }
  return out;
}

std::set<int> Syscalls(const std::vector<StoredData>& events) {
  std::set<int> out;
  for (const auto& d : events) out.insert(d.event.syscall);
  return out;
}

std::string BytesOfSyscall(const std::vector<StoredData>& events, int syscall, uint64_t* len) {
  std::string out;
  for (const auto& d : events) {
    if (d.event.syscall != syscall) continue;
    out += d.bytes;
    *len = d.event.syscall_len;
  }
  return out;
}

// seq - stream_pos must be one constant per direction: the kernel's sequence numbers and our
// stream positions describe the same bytes. Returns that constant.
uint32_t SeqBase(const std::vector<StoredData>& events) {
  EXPECT_FALSE(events.empty());
  if (events.empty()) return 0;
  uint32_t base = events[0].event.tcp_seq - static_cast<uint32_t>(events[0].event.stream_pos);
  for (const auto& d : events) {
    EXPECT_EQ(d.event.tcp_seq - static_cast<uint32_t>(d.event.stream_pos), base)
        << "syscall " << int(d.event.syscall) << " at " << d.event.stream_pos;
  }
  return base;
}

void CheckConnectAcceptClose(const std::string& scenario, uint16_t family) {
  ScenarioRun run;
  ASSERT_NO_FATAL_FAILURE(RunScenario(scenario, TracedOnly(), &run));
  const auto& d = run.done;
  const uint16_t cport = d["client_port"], sport = d["server_port"];
  auto conns = run.events.ConnsOf(run.tgid);
  ASSERT_EQ(conns.size(), 4u);

  const ConnEvent* client = FindConn(conns, true, WS_ROLE_CLIENT, cport);
  const ConnEvent* server = FindConn(conns, true, WS_ROLE_SERVER, sport);
  ASSERT_NE(client, nullptr);
  ASSERT_NE(server, nullptr);
  EXPECT_NE(client->conn_id, server->conn_id);
  EXPECT_EQ(client->fd, d["client_fd"].get<int>());
  EXPECT_EQ(server->fd, d["server_fd"].get<int>());
  EXPECT_EQ(client->flags, 0);  // a blocking connect completes: not CONNECTING, not MIDSTREAM
  for (const ConnEvent* c : {client, server}) {
    EXPECT_EQ(c->tuple.family, family);
    EXPECT_EQ(c->tgid, run.tgid);
    uint8_t loopback[16] = {};
    if (family == AF_INET) {
      loopback[0] = 127;
      loopback[3] = 1;
      EXPECT_EQ(0, memcmp(c->tuple.local_addr, loopback, 4));
      EXPECT_EQ(0, memcmp(c->tuple.remote_addr, loopback, 4));
    } else {
      loopback[15] = 1;
      EXPECT_EQ(0, memcmp(c->tuple.local_addr, loopback, 16));
      EXPECT_EQ(0, memcmp(c->tuple.remote_addr, loopback, 16));
    }
    EXPECT_EQ(c->ns.pid, run.ns.pid);
    EXPECT_EQ(c->ns.mnt, run.ns.mnt);
    EXPECT_EQ(c->ns.net, run.ns.net);
    EXPECT_NE(c->ns.net, 0u);
  }
  EXPECT_EQ(client->tuple.remote_port, sport);
  EXPECT_EQ(server->tuple.remote_port, cport);

  const ConnEvent* client_close = FindConn(conns, false, WS_ROLE_CLIENT, cport);
  const ConnEvent* server_close = FindConn(conns, false, WS_ROLE_SERVER, sport);
  ASSERT_NE(client_close, nullptr);
  ASSERT_NE(server_close, nullptr);
  EXPECT_EQ(client_close->conn_id, client->conn_id);
  EXPECT_EQ(client_close->bytes_sent, 32u);
  EXPECT_EQ(client_close->bytes_received, 27u);
  EXPECT_EQ(server_close->conn_id, server->conn_id);
  EXPECT_EQ(server_close->bytes_sent, 27u);
  EXPECT_EQ(server_close->bytes_received, 32u);

  auto request = run.events.DataOf(client->conn_id, WS_DIR_EGRESS);
  EXPECT_EQ(Reassemble(request), "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_FALSE(request.empty());
  EXPECT_EQ(request[0].event.ns.pid, run.ns.pid);
  EXPECT_EQ(request[0].event.ns.mnt, run.ns.mnt);
  EXPECT_EQ(request[0].event.ns.net, run.ns.net);
  EXPECT_EQ(request[0].event.role, WS_ROLE_CLIENT);
  EXPECT_LE(request[0].event.enter_ts_ns, request[0].event.ts_ns);
  EXPECT_EQ(Reassemble(run.events.DataOf(server->conn_id, WS_DIR_EGRESS)),
            "HTTP/1.1 204 No Content\r\n\r\n");
}

TEST(BpfCapture, ConnectAcceptCloseIpv4) { CheckConnectAcceptClose("conn4", AF_INET); }

TEST(BpfCapture, ConnectAcceptCloseIpv6) { CheckConnectAcceptClose("conn6", AF_INET6); }

TEST(BpfCapture, EverySyscallCapturedExactlyAndInOrder) {
  ScenarioRun run;
  ASSERT_NO_FATAL_FAILURE(RunScenario("syscalls", TracedOnly(), &run));
  auto conns = run.events.ConnsOf(run.tgid);
  const ConnEvent* client = FindConn(conns, true, WS_ROLE_CLIENT, run.done["client_port"]);
  const ConnEvent* server = FindConn(conns, true, WS_ROLE_SERVER, run.done["server_port"]);
  ASSERT_NE(client, nullptr);
  ASSERT_NE(server, nullptr);
  const std::string c2s = run.done["c2s"], s2c = run.done["s2c"];

  auto c_out = run.events.DataOf(client->conn_id, WS_DIR_EGRESS);
  auto c_in = run.events.DataOf(client->conn_id, WS_DIR_INGRESS);
  auto s_out = run.events.DataOf(server->conn_id, WS_DIR_EGRESS);
  auto s_in = run.events.DataOf(server->conn_id, WS_DIR_INGRESS);
  EXPECT_EQ(Reassemble(c_out), c2s);
  EXPECT_EQ(Reassemble(s_in), c2s);
  EXPECT_EQ(Reassemble(s_out), s2c);
  EXPECT_EQ(Reassemble(c_in), s2c);

  const std::set<int> egress = {WS_SYS_WRITE, WS_SYS_SENDTO, WS_SYS_SENDMSG, WS_SYS_WRITEV};
  const std::set<int> ingress = {WS_SYS_READ, WS_SYS_RECVFROM, WS_SYS_RECVMSG, WS_SYS_READV};
  EXPECT_EQ(Syscalls(c_out), egress);
  EXPECT_EQ(Syscalls(s_out), egress);
  EXPECT_EQ(Syscalls(c_in), ingress);
  EXPECT_EQ(Syscalls(s_in), ingress);

  // Multi-buffer calls are captured whole, not just their first iovec.
  uint64_t len = 0;
  EXPECT_EQ(BytesOfSyscall(c_out, WS_SYS_SENDMSG, &len), "X-Three: sendmsg\r\n");
  EXPECT_EQ(len, 18u);
  EXPECT_EQ(BytesOfSyscall(c_out, WS_SYS_WRITEV, &len), "X-Four: writev\r\n\r\n");
  EXPECT_EQ(len, 18u);
  EXPECT_EQ(BytesOfSyscall(s_out, WS_SYS_SENDMSG, &len), "X-Seven: sendmsg\r\n");
  EXPECT_EQ(BytesOfSyscall(s_out, WS_SYS_WRITEV, &len), "X-Eight: writev\r\n\r\n");
  // readv into two buffers: the bytes of both arrive.
  EXPECT_EQ(BytesOfSyscall(s_in, WS_SYS_READV, &len), "X-Four: writev\r\n\r\n");

  // Sequence numbers: consecutive writes advance tcp_seq by their length, and the receiver sees
  // the sender's sequence numbers for the same stream bytes.
  EXPECT_EQ(SeqBase(c_out), SeqBase(s_in));
  EXPECT_EQ(SeqBase(s_out), SeqBase(c_in));
  for (size_t i = 1; i < c_out.size(); ++i) {
    EXPECT_EQ(c_out[i].event.tcp_seq, c_out[i - 1].event.tcp_seq + c_out[i - 1].event.covered_len);
  }
  for (const auto& d : c_out) {
    EXPECT_EQ(d.event.direction, WS_DIR_EGRESS);
    EXPECT_EQ(d.event.role, WS_ROLE_CLIENT);
    EXPECT_EQ(d.event.flags, 0);
    EXPECT_EQ(d.event.tuple.local_port, client->tuple.local_port);
  }
  EXPECT_GE(run.stats[WS_STAT_EVENTS], run.events.data.size());
  EXPECT_EQ(run.stats[WS_STAT_BYTES_COPIED], 4 * c2s.size() / 2 + 4 * s2c.size() / 2);
}

TEST(BpfCapture, LargeWriteArrivesAsChunksThatReassembleExactly) {
  ScenarioRun run;
  ASSERT_NO_FATAL_FAILURE(RunScenario("large", TracedOnly(), &run));
  ASSERT_TRUE(run.done["received_ok"].get<bool>());
  auto conns = run.events.ConnsOf(run.tgid);
  const ConnEvent* client = FindConn(conns, true, WS_ROLE_CLIENT, run.done["client_port"]);
  const ConnEvent* server = FindConn(conns, true, WS_ROLE_SERVER, run.done["server_port"]);
  ASSERT_NE(client, nullptr);
  ASSERT_NE(server, nullptr);
  auto out = run.events.DataOf(client->conn_id, WS_DIR_EGRESS);
  const std::string expected = Pattern(200 * 1024);
  EXPECT_EQ(Reassemble(out), expected);
  EXPECT_GE(out.size(), 13u);  // 200 KiB in chunks of at most 16 KiB
  for (const auto& d : out) {
    EXPECT_LE(d.bytes.size(), WS_MAX_COPY_PER_EVENT);
    EXPECT_EQ(d.bytes.size(), d.event.covered_len);
    EXPECT_EQ(d.event.flags & WS_DATA_FLAG_TRUNCATED, 0);
  }
  EXPECT_EQ(Reassemble(run.events.DataOf(server->conn_id, WS_DIR_INGRESS)), expected);
  EXPECT_EQ(run.stats[WS_STAT_COPY_TRUNCATED], 0u);
}

TEST(BpfCapture, WriteBeyondPerSyscallCapBecomesCountedGap) {
  ScenarioRun run;
  ASSERT_NO_FATAL_FAILURE(RunScenario("truncate", TracedOnly(), &run));
  ASSERT_TRUE(run.done["received_ok"].get<bool>());
  auto conns = run.events.ConnsOf(run.tgid);
  const ConnEvent* client = FindConn(conns, true, WS_ROLE_CLIENT, run.done["client_port"]);
  ASSERT_NE(client, nullptr);
  auto out = run.events.DataOf(client->conn_id, WS_DIR_EGRESS);
  const std::string expected = Pattern(600 * 1024);
  std::string got = Reassemble(out);
  ASSERT_EQ(got.size(), expected.size());

  bool saw_big_syscall = false, saw_gap = false;
  std::map<uint64_t, uint64_t> copied_per_syscall;  // keyed by the syscall's first stream_pos
  uint64_t syscall_start = 0;
  for (const auto& d : out) {
    if (d.event.syscall_len > WS_DEFAULT_MAX_COPY_PER_SYSCALL) saw_big_syscall = true;
    if (d.event.flags & WS_DATA_FLAG_TRUNCATED) {
      saw_gap = true;
      EXPECT_GT(d.event.covered_len, d.bytes.size());
      EXPECT_TRUE(d.bytes.empty());
    } else {
      // Every copied byte is the right byte.
      EXPECT_EQ(d.bytes, expected.substr(d.event.stream_pos, d.bytes.size()));
    }
    if (d.event.stream_pos == 0 || copied_per_syscall.count(syscall_start) == 0) {
      syscall_start = d.event.stream_pos;
    }
    copied_per_syscall[syscall_start] += d.bytes.size();
  }
  EXPECT_TRUE(saw_big_syscall) << "the 600 KiB write was split by the kernel; no cap to test";
  EXPECT_TRUE(saw_gap);

  // The counter matches the uncopied bytes of every truncated event of this process.
  uint64_t uncopied = 0;
  for (const auto& d : run.events.data) {
    if (d.event.tgid == run.tgid && (d.event.flags & WS_DATA_FLAG_TRUNCATED)) {
      uncopied += d.event.covered_len - d.bytes.size();
    }
  }
  EXPECT_GE(uncopied, 600u * 1024 - WS_DEFAULT_MAX_COPY_PER_SYSCALL);
  EXPECT_EQ(run.stats[WS_STAT_COPY_TRUNCATED], uncopied);
}

TEST(BpfCapture, SendfileIsReportedBySizeOnly) {
  ScenarioRun run;
  ASSERT_NO_FATAL_FAILURE(RunScenario("sendfile", TracedOnly(), &run));
  auto conns = run.events.ConnsOf(run.tgid);
  const ConnEvent* client = FindConn(conns, true, WS_ROLE_CLIENT, run.done["client_port"]);
  const ConnEvent* server = FindConn(conns, true, WS_ROLE_SERVER, run.done["server_port"]);
  ASSERT_NE(client, nullptr);
  ASSERT_NE(server, nullptr);
  const uint64_t file_len = run.done["file_len"];
  auto out = run.events.DataOf(server->conn_id, WS_DIR_EGRESS);
  ASSERT_FALSE(out.empty());
  uint64_t covered = 0;
  for (const auto& d : out) {
    EXPECT_EQ(d.event.syscall, WS_SYS_SENDFILE);
    EXPECT_EQ(d.event.flags & WS_DATA_FLAG_SIZE_ONLY, WS_DATA_FLAG_SIZE_ONLY);
    EXPECT_TRUE(d.bytes.empty());
    covered += d.event.covered_len;
  }
  EXPECT_EQ(covered, file_len);
  EXPECT_EQ(Reassemble(out).size(), file_len);
  std::string body = "HTTP/1.1 200 OK\r\nContent-Length: 4000\r\n\r\n" + std::string(4000, 'z');
  EXPECT_EQ(Reassemble(run.events.DataOf(client->conn_id, WS_DIR_INGRESS)), body);
}

TEST(BpfCapture, ConnIdChangesWhenFdIsReused) {
  ScenarioRun run;
  ASSERT_NO_FATAL_FAILURE(RunScenario("fdreuse", TracedOnly(), &run));
  const auto& fds = run.done["conns"];
  ASSERT_EQ(fds.size(), 2u);
  ASSERT_EQ(fds[0]["client_fd"], fds[1]["client_fd"]) << "Python did not reuse the fd";
  auto conns = run.events.ConnsOf(run.tgid);
  const ConnEvent* first = FindConn(conns, true, WS_ROLE_CLIENT, fds[0]["client_port"]);
  const ConnEvent* second = FindConn(conns, true, WS_ROLE_CLIENT, fds[1]["client_port"]);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(first->fd, second->fd);
  EXPECT_NE(first->conn_id, second->conn_id);
  EXPECT_EQ(Reassemble(run.events.DataOf(first->conn_id, WS_DIR_EGRESS)),
            "GET /0 HTTP/1.1\r\n\r\n");
  EXPECT_EQ(Reassemble(run.events.DataOf(second->conn_id, WS_DIR_EGRESS)),
            "GET /1 HTTP/1.1\r\n\r\n");
  std::set<uint64_t> ids;
  for (const auto& c : conns) {
    if (c.open) ids.insert(c.conn_id);
  }
  EXPECT_EQ(ids.size(), 4u);  // two clients and two accepted sockets, all distinct
}

TEST(BpfCapture, OnlyTcpIsCaptured) {
  ScenarioRun run;
  ASSERT_NO_FATAL_FAILURE(RunScenario("only_tcp", TracedOnly(), &run));
  const uint16_t cport = run.done["client_port"], sport = run.done["server_port"];
  auto is_marker = [&](const Tuple& t) {
    return t.family == AF_INET && ((t.local_port == cport && t.remote_port == sport) ||
                                   (t.local_port == sport && t.remote_port == cport));
  };
  size_t data = 0;
  for (const auto& c : run.events.ConnsOf(run.tgid)) EXPECT_TRUE(is_marker(c.tuple));
  for (const auto& d : run.events.data) {
    if (d.event.tgid != run.tgid) continue;
    ++data;
    EXPECT_TRUE(is_marker(d.event.tuple)) << d.bytes;
  }
  EXPECT_EQ(data, 2u);  // the TCP marker's request, once per side
}

TEST(BpfCapture, AgentOwnProcessIsNeverTraced) {
  BpfSourceConfig config;  // trace every process except our own
  BpfEventSource source(config);
  Status started = source.Start();
  ASSERT_TRUE(started.ok()) << started.message();
  PythonChild child("conn4");
  ASSERT_GT(child.pid(), 0);
  ASSERT_FALSE(child.Expect("ready").is_null());

  // Our own loopback exchange, which must not show up.
  int srv = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(srv, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(srv, 1), 0);
  ASSERT_EQ(getsockname(srv, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  int cli = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(connect(cli, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  int acc = accept(srv, nullptr, nullptr);
  ASSERT_GE(acc, 0);
  ASSERT_EQ(write(cli, "GET /self HTTP/1.1\r\n\r\n", 22), 22);
  char buf[64];
  ASSERT_EQ(read(acc, buf, sizeof(buf)), 22);
  close(acc);
  close(cli);
  close(srv);

  child.Go();
  ASSERT_FALSE(child.Expect("done").is_null());
  Collector events;
  Drain(source, events);
  const auto tgid = static_cast<uint32_t>(child.pid());
  EXPECT_EQ(child.Finish(), 0);
  Drain(source, events);
  source.Stop();

  const auto self = static_cast<uint32_t>(getpid());
  size_t child_events = 0;
  for (const auto& c : events.conns) {
    EXPECT_NE(c.tgid, self);
    child_events += c.tgid == tgid;
  }
  for (const auto& d : events.data) {
    EXPECT_NE(d.event.tgid, self);
    child_events += d.event.tgid == tgid;
  }
  EXPECT_GE(child_events, 4u);  // the child, traced in the same run, is seen
  bool exited = false;
  for (const auto& p : events.procs) exited |= !p.exec && p.tgid == tgid;
  EXPECT_TRUE(exited) << "PROC_EXIT of the child";
}

TEST(BpfCapture, ProcessExecIsReported) {
  BpfSourceConfig config = TracedOnly();  // exec/exit events are reported for every process
  BpfEventSource source(config);
  ASSERT_TRUE(source.Start().ok());
  PythonChild child("conn4");
  ASSERT_GT(child.pid(), 0);
  ASSERT_FALSE(child.Expect("ready").is_null());
  Collector events;
  Drain(source, events);
  source.Stop();
  bool exec = false;
  for (const auto& p : events.procs) {
    if (p.exec && p.tgid == static_cast<uint32_t>(child.pid())) {
      exec = true;
      EXPECT_EQ(p.ppid, static_cast<uint32_t>(getpid()));
      EXPECT_EQ(p.comm.rfind("python3", 0), 0u) << p.comm;
    }
  }
  EXPECT_TRUE(exec);
}

// Data events per kind of connection from the prefilter scenario (client side, egress).
std::map<std::string, std::vector<StoredData>> PrefilterEgress(const ScenarioRun& run) {
  std::map<std::string, std::vector<StoredData>> out;
  auto conns = run.events.ConnsOf(run.tgid);
  for (const auto& [kind, port] : run.done["ports"].items()) {
    const ConnEvent* c = FindConn(conns, true, WS_ROLE_CLIENT, port.get<uint16_t>());
    EXPECT_NE(c, nullptr) << kind;
    if (!c) continue;
    out[kind] = run.events.DataOf(c->conn_id, WS_DIR_EGRESS);
    EXPECT_NE(FindConn(conns, false, WS_ROLE_CLIENT, port.get<uint16_t>()), nullptr)
        << "close is reported even for filtered connections: " << kind;
  }
  return out;
}

TEST(BpfCapture, PrefilterDropsBinaryButKeepsKnownProtocols) {
  ScenarioRun run;
  ASSERT_NO_FATAL_FAILURE(RunScenario("prefilter", TracedOnly(), &run));
  auto egress = PrefilterEgress(run);
  ASSERT_EQ(egress.size(), 5u);
  ASSERT_EQ(egress["binary"].size(), 1u) << "only the first bytes of the binary stream";
  EXPECT_TRUE(egress["binary"][0].event.flags & WS_DATA_FLAG_FILTERED);
  for (const char* kind : {"http", "redis", "postgres", "amqp"}) {
    ASSERT_EQ(egress[kind].size(), 4u) << kind;
    for (const auto& d : egress[kind]) EXPECT_EQ(d.event.flags, 0) << kind;
  }
  EXPECT_GE(run.stats[WS_STAT_PROTO_FILTERED], 3u + 4u);  // client writes + server reads/acks
}

TEST(BpfCapture, PrefilterOffLetsEverythingFlow) {
  BpfSourceConfig config = TracedOnly();
  config.proto_filter = false;
  ScenarioRun run;
  ASSERT_NO_FATAL_FAILURE(RunScenario("prefilter", config, &run));
  auto egress = PrefilterEgress(run);
  ASSERT_EQ(egress["binary"].size(), 4u);
  for (const auto& d : egress["binary"]) EXPECT_EQ(d.event.flags, 0);
  EXPECT_EQ(run.stats[WS_STAT_PROTO_FILTERED], 0u);
}

TEST(BpfCapture, ConnectionOpenedBeforeStartIsPickedUpMidstream) {
  ScenarioRun run;
  ASSERT_NO_FATAL_FAILURE(RunScenario("midstream", TracedOnly(), &run));
  auto conns = run.events.ConnsOf(run.tgid);
  const ConnEvent* client = FindConn(conns, true, WS_ROLE_UNKNOWN, run.done["client_port"]);
  ASSERT_NE(client, nullptr);
  EXPECT_TRUE(client->flags & WS_CONN_FLAG_MIDSTREAM);
  EXPECT_EQ(client->tuple.remote_port, run.done["server_port"].get<uint16_t>());
  EXPECT_EQ(client->fd, run.done["client_fd"].get<int>());
  auto out = run.events.DataOf(client->conn_id, WS_DIR_EGRESS);
  EXPECT_EQ(Reassemble(out), "GET /late HTTP/1.1\r\n\r\n");
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out[0].event.role, WS_ROLE_UNKNOWN);
  // CONN_OPEN comes before the connection's first data in the ring.
  bool open_first = false;
  for (const auto& c : run.events.conns) {
    if (c.conn_id == client->conn_id) {
      open_first = c.ts_ns <= out[0].event.ts_ns;
      break;
    }
  }
  EXPECT_TRUE(open_first);
}

TEST(BpfCapture, PortFilterSelectsConnections) {
  ScenarioRun run;
  ASSERT_NO_FATAL_FAILURE(
      RunScenario("ports", TracedOnly(), &run, [](const nlohmann::json& ready, BpfSourceConfig& c) {
        c.ports.push_back(ready["port_a"].get<uint16_t>());
      }));
  const uint16_t a = run.done["port_a"], b = run.done["port_b"];
  auto conns = run.events.ConnsOf(run.tgid);
  EXPECT_EQ(conns.size(), 4u);  // client + server, open + close, on port a only
  for (const auto& c : conns) {
    EXPECT_TRUE(c.tuple.local_port == a || c.tuple.remote_port == a);
    EXPECT_FALSE(c.tuple.local_port == b || c.tuple.remote_port == b);
  }
}

// `bpftool -j prog show` as id -> name.
std::map<uint32_t, std::string> LoadedPrograms() {
  std::map<uint32_t, std::string> out;
  FILE* p = popen("bpftool -j prog show 2>/dev/null", "r");
  if (!p) return out;
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) text.append(buf, n);
  pclose(p);
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_array()) return out;
  for (const auto& prog : json) {
    out[prog.value("id", 0u)] = prog.value("name", std::string());
  }
  return out;
}

TEST(BpfCapture, StopLeavesNoProgramBehind) {
  std::vector<uint32_t> ids;
  {
    BpfEventSource source(TracedOnly());
    ASSERT_TRUE(source.Start().ok());
    ids = source.probe().ProgramIds();
    ASSERT_GE(ids.size(), 25u);
    auto loaded = LoadedPrograms();
    for (uint32_t id : ids) {
      ASSERT_TRUE(loaded.count(id)) << "program " << id << " not listed by bpftool";
      EXPECT_EQ(loaded[id].rfind("ws_", 0), 0u) << loaded[id];
    }
    source.Stop();
    EXPECT_FALSE(source.probe().loaded());
  }
  // The kernel frees programs from RCU callbacks: allow it a moment before judging.
  std::vector<uint32_t> left;
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto after = LoadedPrograms();
    left.clear();
    for (uint32_t id : ids) {
      if (after.count(id)) left.push_back(id);
    }
    if (left.empty()) break;
    usleep(100 * 1000);
  }
  EXPECT_TRUE(left.empty()) << left.size() << " programs still loaded, first id " << left[0];
}

}  // namespace
}  // namespace wirespan::agent::testing
