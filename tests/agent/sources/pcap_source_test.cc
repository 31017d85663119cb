#include "agent/sources/pcap_source.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "tests/agent/sources/capture_builder.h"

namespace wirespan::agent {
namespace {

using testing::CaptureWriter;
using testing::Conversation;
using testing::Ep;
using testing::Recorder;
using testing::Replay;
using testing::TempPath;

const Ep kClient{"10.0.0.1", 40000};
const Ep kServer{"10.0.0.2", 8080};
constexpr char kRequest[] = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n";
constexpr char kResponse[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";

PcapSourceConfig ConfigFor(const std::string& path) {
  PcapSourceConfig config;
  config.path = path;
  return config;
}

std::string WriteSimpleExchange(const std::string& name, int dlt = DLT_EN10MB, bool pcapng = false,
                                const Ep& client = kClient, const Ep& server = kServer) {
  CaptureWriter w(dlt);
  Conversation c(w, client, server);
  c.Handshake();
  c.ClientSends(kRequest);
  c.ServerSends(kResponse);
  c.Close();
  const std::string path = TempPath(name);
  if (pcapng) {
    w.WritePcapng(path);
  } else {
    w.WritePcap(path);
  }
  return path;
}

// Both replayed sides saw exactly the simple exchange, with mirrored directions.
void ExpectSimpleExchange(const Recorder& r) {
  const ConnEvent* client = r.OpenWithRole(WS_ROLE_CLIENT);
  const ConnEvent* server = r.OpenWithRole(WS_ROLE_SERVER);
  ASSERT_NE(client, nullptr);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(r.Stream(client->conn_id, WS_DIR_EGRESS), kRequest);
  EXPECT_EQ(r.Stream(client->conn_id, WS_DIR_INGRESS), kResponse);
  EXPECT_EQ(r.Stream(server->conn_id, WS_DIR_INGRESS), kRequest);
  EXPECT_EQ(r.Stream(server->conn_id, WS_DIR_EGRESS), kResponse);
}

TEST(PcapSource, HandshakeRolesAndBothSides) {
  CaptureWriter w;
  Conversation c(w, kClient, kServer, /*client_isn=*/1000, /*server_isn=*/5000);
  c.Handshake();
  c.ClientSends(kRequest);
  c.ServerSends(kResponse);
  c.Close();
  const std::string path = TempPath("handshake.pcap");
  w.WritePcap(path);

  PcapStats stats;
  uint64_t now = 0;
  Recorder r = Replay(ConfigFor(path), &stats, &now);

  ASSERT_EQ(r.Opens().size(), 2u);
  const ConnEvent* client = r.OpenWithRole(WS_ROLE_CLIENT);
  const ConnEvent* server = r.OpenWithRole(WS_ROLE_SERVER);
  ASSERT_NE(client, nullptr);
  ASSERT_NE(server, nullptr);
  EXPECT_NE(client->conn_id, server->conn_id);
  EXPECT_EQ(client->flags, 0);
  EXPECT_EQ(client->tgid, 1u);
  EXPECT_EQ(client->tid, 1u);
  EXPECT_EQ(server->tgid, 2u);
  EXPECT_EQ(client->tuple.family, AF_INET);
  EXPECT_EQ(client->tuple.local_port, 40000);
  EXPECT_EQ(client->tuple.remote_port, 8080);
  EXPECT_EQ(server->tuple.local_port, 8080);
  EXPECT_EQ(server->tuple.remote_port, 40000);
  const uint8_t ip1[4] = {10, 0, 0, 1};
  const uint8_t ip2[4] = {10, 0, 0, 2};
  EXPECT_EQ(std::memcmp(client->tuple.local_addr, ip1, 4), 0);
  EXPECT_EQ(std::memcmp(client->tuple.remote_addr, ip2, 4), 0);
  EXPECT_EQ(std::memcmp(server->tuple.local_addr, ip2, 4), 0);
  // The open is stamped with the SYN's time.
  EXPECT_EQ(client->ts_ns, w.records()[0].ts_ns);

  ExpectSimpleExchange(r);

  // Per-event details: the request is one segment, 4th packet of the capture.
  auto egress = r.DataOf(client->conn_id, WS_DIR_EGRESS);
  ASSERT_EQ(egress.size(), 1u);
  const DataEvent& e = egress[0].event;
  EXPECT_EQ(e.tcp_seq, 1001u);
  EXPECT_EQ(e.stream_pos, 0u);
  EXPECT_EQ(e.covered_len, sizeof(kRequest) - 1);
  EXPECT_EQ(e.ts_ns, w.records()[3].ts_ns);
  EXPECT_EQ(e.enter_ts_ns, e.ts_ns);
  EXPECT_EQ(e.role, WS_ROLE_CLIENT);
  EXPECT_EQ(e.tgid, 1u);
  EXPECT_EQ(e.fd, client->fd);
  EXPECT_EQ(e.tuple.local_port, 40000);
  auto server_ingress = r.DataOf(server->conn_id, WS_DIR_INGRESS);
  ASSERT_EQ(server_ingress.size(), 1u);
  EXPECT_EQ(server_ingress[0].event.role, WS_ROLE_SERVER);
  EXPECT_EQ(server_ingress[0].event.tuple.local_port, 8080);
  EXPECT_EQ(server_ingress[0].event.tcp_seq, 1001u);
  auto response = r.DataOf(client->conn_id, WS_DIR_INGRESS);
  ASSERT_EQ(response.size(), 1u);
  EXPECT_EQ(response[0].event.tcp_seq, 5001u);

  // Closes come last, for both sides, with the stream totals.
  ASSERT_EQ(r.conns.size(), 4u);
  ASSERT_TRUE(r.order[r.order.size() - 1].is_conn);
  ASSERT_TRUE(r.order[r.order.size() - 2].is_conn);
  for (const ConnEvent& close : {r.conns[2], r.conns[3]}) {
    EXPECT_FALSE(close.open);
    if (close.conn_id == client->conn_id) {
      EXPECT_EQ(close.bytes_sent, sizeof(kRequest) - 1);
      EXPECT_EQ(close.bytes_received, sizeof(kResponse) - 1);
    } else {
      EXPECT_EQ(close.conn_id, server->conn_id);
      EXPECT_EQ(close.bytes_sent, sizeof(kResponse) - 1);
      EXPECT_EQ(close.bytes_received, sizeof(kRequest) - 1);
    }
  }
  // Closed at the FIN exchange (second FIN's time), not at the end of the file.
  EXPECT_EQ(r.conns[2].ts_ns, w.records()[w.records().size() - 2].ts_ns);
  EXPECT_EQ(now, w.last_ts_ns());
  EXPECT_EQ(stats.packets, w.records().size());
  EXPECT_EQ(stats.tcp.connections, 1u);
  EXPECT_EQ(stats.tcp.gaps, 0u);
  EXPECT_EQ(stats.malformed, 0u);
}

TEST(PcapSource, SidesOptionSelectsOneEnd) {
  const std::string path = WriteSimpleExchange("sides.pcap");
  for (auto sides : {ReplaySides::kClient, ReplaySides::kServer}) {
    PcapSourceConfig config = ConfigFor(path);
    config.sides = sides;
    config.client_tgid = 77;
    config.server_tgid = 88;
    Recorder r = Replay(config);
    ASSERT_EQ(r.Opens().size(), 1u);
    const ConnEvent open = r.Opens()[0];
    const bool client = sides == ReplaySides::kClient;
    EXPECT_EQ(open.role, client ? WS_ROLE_CLIENT : WS_ROLE_SERVER);
    EXPECT_EQ(open.tgid, client ? 77u : 88u);
    EXPECT_EQ(r.Stream(open.conn_id, WS_DIR_EGRESS), client ? kRequest : kResponse);
    EXPECT_EQ(r.Stream(open.conn_id, WS_DIR_INGRESS), client ? kResponse : kRequest);
    for (const auto& d : r.data) EXPECT_EQ(d.event.conn_id, open.conn_id);
  }
}

TEST(PcapSource, OutOfOrderAndRetransmittedSegments) {
  CaptureWriter w;
  Conversation c(w, kClient, kServer);
  c.Handshake();
  // Stream "AAAABBBBCCCCDDDD" sent as: C, A, A (retransmit), B, overlap of B+C, D, then a
  // retransmission of everything.
  c.ClientSegmentAt(8, "CCCC");
  c.ClientSegmentAt(0, "AAAA");
  c.ClientSegmentAt(0, "AAAA");
  c.ClientSegmentAt(4, "BBBB");
  c.ClientSegmentAt(6, "BBCCCC");  // all already delivered (CCCC drained after BBBB)
  c.ClientSegmentAt(14, "DD");     // ahead of a 2-byte hole
  c.ClientSegmentAt(10, "CCDD");   // fills the hole, overlaps both sides
  c.ClientSegmentAt(0, "AAAABBBBCCCCDDDD");
  c.AdvanceClient(16);
  c.ServerSends("ok");
  c.Close();
  const std::string path = TempPath("ooo.pcap");
  w.WritePcap(path);

  PcapStats stats;
  Recorder r = Replay(ConfigFor(path), &stats);
  const ConnEvent* client = r.OpenWithRole(WS_ROLE_CLIENT);
  const ConnEvent* server = r.OpenWithRole(WS_ROLE_SERVER);
  ASSERT_NE(client, nullptr);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(r.Stream(client->conn_id, WS_DIR_EGRESS), "AAAABBBBCCCCDDDD");
  EXPECT_EQ(r.Stream(server->conn_id, WS_DIR_INGRESS), "AAAABBBBCCCCDDDD");
  EXPECT_EQ(r.Stream(server->conn_id, WS_DIR_EGRESS), "ok");
  EXPECT_EQ(stats.tcp.gaps, 0u);
  EXPECT_EQ(stats.tcp.out_of_order_segments, 2u);  // "CCCC" and "DD"
  // Dropped: AAAA + BBCCCC + the CC of "CCDD" + the full retransmission.
  EXPECT_EQ(stats.tcp.duplicate_bytes, 4u + 6u + 2u + 16u);
  // tcp_seq follows the bytes actually delivered.
  for (const auto& d : r.DataOf(client->conn_id, WS_DIR_EGRESS)) {
    EXPECT_EQ(d.event.tcp_seq, 1001u + d.event.stream_pos);
  }
}

TEST(PcapSource, HoleAtCloseBecomesGap) {
  CaptureWriter w;
  Conversation c(w, kClient, kServer);
  c.Handshake();
  c.ClientSegmentAt(0, "01234");
  c.ClientSegmentAt(10, "abcde");  // bytes 5..9 never captured
  c.AdvanceClient(15);
  c.Close();  // the server's FIN-ACK acks past the hole: that is not what closes it here
  const std::string path = TempPath("hole.pcap");
  w.WritePcap(path);

  PcapSourceConfig config = ConfigFor(path);
  config.gap_on_acked_hole = false;
  PcapStats stats;
  Recorder r = Replay(config, &stats);
  const ConnEvent* client = r.OpenWithRole(WS_ROLE_CLIENT);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(r.Stream(client->conn_id, WS_DIR_EGRESS), "01234#####abcde");
  auto events = r.DataOf(client->conn_id, WS_DIR_EGRESS);
  ASSERT_EQ(events.size(), 3u);
  const DataEvent& gap = events[1].event;
  EXPECT_EQ(gap.stream_pos, 5u);
  EXPECT_EQ(gap.covered_len, 5u);
  EXPECT_TRUE(events[1].bytes.empty());
  EXPECT_EQ(gap.tcp_seq, 1001u + 5u);
  EXPECT_EQ(gap.flags & WS_DATA_FLAG_TRUNCATED, WS_DATA_FLAG_TRUNCATED);
  EXPECT_EQ(events[2].event.stream_pos, 10u);
  // Both sides see the same gap.
  const ConnEvent* server = r.OpenWithRole(WS_ROLE_SERVER);
  EXPECT_EQ(r.Stream(server->conn_id, WS_DIR_INGRESS), "01234#####abcde");
  EXPECT_EQ(stats.tcp.gaps, 1u);
  EXPECT_EQ(stats.tcp.gap_bytes, 5u);
  // Each close reports the stream length, gap included.
  for (const ConnEvent& e : r.conns) {
    if (!e.open && e.conn_id == client->conn_id) {
      EXPECT_EQ(e.bytes_sent, 15u);
    }
  }
}

TEST(PcapSource, HoleAckedByReceiverIsGivenUpAtOnce) {
  CaptureWriter w;
  Conversation c(w, kClient, kServer);
  c.Handshake();
  c.ClientSegmentAt(0, "req1-");
  c.ClientSegmentAt(10, "tail.");  // "XXXXX" at 5 was lost by the capture, not by the network
  c.AdvanceClient(15);
  c.ServerAcks();  // acks all 15 bytes
  c.ServerSends("resp");
  c.Close();
  const std::string path = TempPath("acked_hole.pcap");
  w.WritePcap(path);

  PcapStats stats;
  Recorder r = Replay(ConfigFor(path), &stats);
  const ConnEvent* server = r.OpenWithRole(WS_ROLE_SERVER);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(r.Stream(server->conn_id, WS_DIR_INGRESS), "req1-#####tail.");
  EXPECT_EQ(r.Stream(server->conn_id, WS_DIR_EGRESS), "resp");
  EXPECT_EQ(stats.tcp.acked_holes, 1u);
  // The request is complete (gap included) before the response starts.
  size_t last_request = 0, first_response = SIZE_MAX;
  for (size_t i = 0; i < r.data.size(); ++i) {
    const DataEvent& e = r.data[i].event;
    if (e.conn_id != server->conn_id) continue;
    if (e.direction == WS_DIR_INGRESS) last_request = i;
    if (e.direction == WS_DIR_EGRESS) first_response = std::min(first_response, i);
  }
  EXPECT_LT(last_request, first_response);
}

TEST(PcapSource, FullOutOfOrderBufferGivesUpOnHole) {
  CaptureWriter w;
  Conversation c(w, kClient, kServer);
  c.Handshake();
  c.ClientSegmentAt(0, "aa");
  // Hole at 2..3, then 3 segments ahead of it; the buffer holds 2.
  c.ClientSegmentAt(4, "cc");
  c.ClientSegmentAt(6, "dd");
  c.ClientSegmentAt(8, "ee");
  c.AdvanceClient(10);
  const std::string path = TempPath("overflow.pcap");
  w.WritePcap(path);  // no FIN: closed at end of file

  PcapSourceConfig config = ConfigFor(path);
  config.max_ooo_segments_per_flow = 2;
  PcapStats stats;
  Recorder r = Replay(config, &stats);
  const ConnEvent* client = r.OpenWithRole(WS_ROLE_CLIENT);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(r.Stream(client->conn_id, WS_DIR_EGRESS), "aa##ccddee");
  EXPECT_EQ(stats.tcp.buffer_overflows, 1u);
  // Given up when the third segment arrived, i.e. stamped with its time, before the close.
  auto events = r.DataOf(client->conn_id, WS_DIR_EGRESS);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[1].event.ts_ns, w.records()[w.records().size() - 1].ts_ns);
  // Still-open connections are closed at the end of the file.
  int closes = 0;
  for (const ConnEvent& e : r.conns) closes += e.open ? 0 : 1;
  EXPECT_EQ(closes, 2);
}

TEST(PcapSource, SequenceWraparound) {
  CaptureWriter w;
  const uint32_t isn = 0xfffffff0u;  // stream byte 0 is 0xfffffff1: the stream wraps at byte 15
  Conversation c(w, kClient, kServer, isn, 0xffffffffu);
  c.Handshake();
  c.ClientSegmentAt(20, "UVWXYZ");  // after the wrap, before the bytes preceding it
  c.ClientSegmentAt(0, "0123456789");
  c.ClientSegmentAt(10, "abcdefghij");  // crosses the wrap
  c.AdvanceClient(26);
  c.ServerSends("server-bytes");  // server ISN + 1 == 0: its stream starts at seq 0
  c.Close();
  const std::string path = TempPath("wrap.pcap");
  w.WritePcap(path);

  PcapStats stats;
  Recorder r = Replay(ConfigFor(path), &stats);
  const ConnEvent* client = r.OpenWithRole(WS_ROLE_CLIENT);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(r.Stream(client->conn_id, WS_DIR_EGRESS), "0123456789abcdefghijUVWXYZ");
  EXPECT_EQ(r.Stream(client->conn_id, WS_DIR_INGRESS), "server-bytes");
  for (const auto& d : r.DataOf(client->conn_id, WS_DIR_EGRESS)) {
    EXPECT_EQ(d.event.tcp_seq, static_cast<uint32_t>(isn + 1 + d.event.stream_pos));
  }
  EXPECT_EQ(r.DataOf(client->conn_id, WS_DIR_INGRESS)[0].event.tcp_seq, 0u);
  EXPECT_EQ(stats.tcp.gaps, 0u);
  EXPECT_EQ(stats.tcp.duplicate_bytes, 0u);
}

TEST(PcapSource, Ipv6) {
  const Ep client{"fd00::1", 50000};
  const Ep server{"fd00::2", 443};
  const std::string path = WriteSimpleExchange("v6.pcap", DLT_EN10MB, false, client, server);
  Recorder r = Replay(ConfigFor(path));
  ExpectSimpleExchange(r);
  const ConnEvent* open = r.OpenWithRole(WS_ROLE_SERVER);
  ASSERT_NE(open, nullptr);
  EXPECT_EQ(open->tuple.family, AF_INET6);
  EXPECT_EQ(open->tuple.local_port, 443);
  uint8_t fd00_2[16] = {0xfd, 0x00};
  fd00_2[15] = 2;
  EXPECT_EQ(std::memcmp(open->tuple.local_addr, fd00_2, 16), 0);
}

TEST(PcapSource, MidstreamConnectionHasUnknownRole) {
  CaptureWriter w;
  // No handshake: the capture started after connect().
  const Ep client{"10.0.0.1", 51000};
  const Ep server{"10.0.0.2", 5432};
  w.Tcp(server, client, 9000, 7000, 0x18, "late-reply");  // the server speaks first in the file
  w.Tcp(client, server, 7000, 9010, 0x18, "query");
  w.Tcp(server, client, 9010, 7005, 0x18, "answer");
  const std::string path = TempPath("midstream.pcap");
  w.WritePcap(path);

  PcapStats stats;
  Recorder r = Replay(ConfigFor(path), &stats);
  auto opens = r.Opens();
  ASSERT_EQ(opens.size(), 2u);
  for (const ConnEvent& open : opens) {
    EXPECT_EQ(open.role, WS_ROLE_UNKNOWN);
    EXPECT_EQ(open.flags & WS_CONN_FLAG_MIDSTREAM, WS_CONN_FLAG_MIDSTREAM);
  }
  EXPECT_EQ(stats.tcp.midstream_connections, 1u);
  // The higher-port end stands in as "client" (tgid 1); streams start at 0 from the first byte.
  const ConnEvent& a = opens[0].tgid == 1 ? opens[0] : opens[1];
  const ConnEvent& b = opens[0].tgid == 1 ? opens[1] : opens[0];
  EXPECT_EQ(a.tuple.local_port, 51000);
  EXPECT_EQ(b.tuple.local_port, 5432);
  EXPECT_EQ(r.Stream(a.conn_id, WS_DIR_EGRESS), "query");
  EXPECT_EQ(r.Stream(a.conn_id, WS_DIR_INGRESS), "late-replyanswer");
  EXPECT_EQ(r.Stream(b.conn_id, WS_DIR_EGRESS), "late-replyanswer");
  auto first = r.DataOf(b.conn_id, WS_DIR_EGRESS);
  EXPECT_EQ(first[0].event.stream_pos, 0u);
  EXPECT_EQ(first[0].event.tcp_seq, 9000u);
  EXPECT_EQ(first[0].event.role, WS_ROLE_UNKNOWN);
}

TEST(PcapSource, Pcapng) {
  const std::string path = WriteSimpleExchange("exchange.pcapng", DLT_EN10MB, /*pcapng=*/true);
  uint64_t now = 0;
  Recorder r = Replay(ConfigFor(path), nullptr, &now);
  ExpectSimpleExchange(r);
  // Microsecond timestamps of the pcapng blocks arrive as nanoseconds.
  ASSERT_FALSE(r.data.empty());
  EXPECT_EQ(r.data[0].event.ts_ns % 1000, 0u);
  EXPECT_GT(now, 1'700'000'000'000'000'000ull);
}

class LinkTypes : public ::testing::TestWithParam<std::pair<int, bool>> {};

TEST_P(LinkTypes, SameStreams) {
  const auto [dlt, v6] = GetParam();
  const Ep client{v6 ? "::1" : "127.0.0.1", 40001};
  const Ep server{v6 ? "::1" : "127.0.0.1", 6379};
  const std::string path = WriteSimpleExchange(
      "link_" + std::to_string(dlt) + (v6 ? "_6" : "_4") + ".pcap", dlt, false, client, server);
  PcapStats stats;
  Recorder r = Replay(ConfigFor(path), &stats);
  ExpectSimpleExchange(r);
  EXPECT_EQ(stats.malformed, 0u);
}

INSTANTIATE_TEST_SUITE_P(All, LinkTypes,
                         ::testing::Values(std::pair{DLT_EN10MB, false},
                                           std::pair{DLT_EN10MB, true},
                                           std::pair{DLT_LINUX_SLL2, false},
                                           std::pair{DLT_LINUX_SLL2, true},
                                           std::pair{DLT_RAW, false}, std::pair{DLT_RAW, true},
                                           std::pair{DLT_NULL, false}, std::pair{DLT_NULL, true}));

TEST(PcapSource, VlanTaggedEthernet) {
  CaptureWriter w;
  std::string ip = testing::IpTcpPacket(kClient, kServer, 1, 0, 0x18, "vlan-bytes");
  std::string frame = testing::Frame(DLT_EN10MB, ip);
  // Insert an 802.1Q tag after the MAC addresses.
  frame.insert(12, std::string("\x81\x00\x00\x07", 4));
  w.Raw(frame);
  const std::string path = TempPath("vlan.pcap");
  w.WritePcap(path);
  Recorder r = Replay(ConfigFor(path));
  ASSERT_EQ(r.Opens().size(), 2u);
  EXPECT_EQ(r.Stream(r.Opens()[0].conn_id, WS_DIR_EGRESS), "vlan-bytes");
}

TEST(PcapSource, SnapLengthCutSegmentIsPartlyAGap) {
  CaptureWriter w;
  Conversation c(w, kClient, kServer);
  c.Handshake();
  const std::string payload(100, 'p');
  std::string frame = testing::Frame(
      DLT_EN10MB,
      testing::IpTcpPacket(kClient, kServer, c.client_seq(), c.server_seq(), 0x18, payload));
  w.Raw(frame, /*snap=*/14 + 20 + 20 + 30);  // only 30 payload bytes captured
  c.AdvanceClient(100);
  c.ClientSends("next");
  const std::string path = TempPath("snap.pcap");
  w.WritePcap(path);

  PcapStats stats;
  Recorder r = Replay(ConfigFor(path), &stats);
  const ConnEvent* client = r.OpenWithRole(WS_ROLE_CLIENT);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(r.Stream(client->conn_id, WS_DIR_EGRESS),
            std::string(30, 'p') + std::string(70, '#') + "next");
  auto events = r.DataOf(client->conn_id, WS_DIR_EGRESS);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event.covered_len, 100u);
  EXPECT_EQ(events[0].bytes.size(), 30u);
  EXPECT_EQ(stats.tcp.gap_bytes, 70u);
}

TEST(PcapSource, MalformedPacketsAreCountedAndSkipped) {
  CaptureWriter w;
  Conversation c(w, kClient, kServer);
  c.Handshake();
  c.ClientSends("before");
  // Truncated IPv4 header.
  w.Raw(std::string("\x02\0\0\0\0\0\x02\0\0\0\0\0\x08\x00\x45\x00", 16));
  // TCP data offset pointing past the segment.
  std::string bad = testing::Frame(
      DLT_EN10MB, testing::IpTcpPacket(kClient, kServer, c.client_seq(), 0, 0x18, "x"));
  bad[14 + 20 + 12] = static_cast<char>(15 << 4);
  w.Raw(bad);
  // IPv4 total length shorter than its header.
  std::string short_ip = testing::Frame(
      DLT_EN10MB, testing::IpTcpPacket(kClient, kServer, c.client_seq(), 0, 0x18, "y"));
  short_ip[14 + 2] = 0;
  short_ip[14 + 3] = 10;
  w.Raw(short_ip);
  // ARP: not TCP.
  std::string arp(60, '\0');
  arp[12] = 0x08;
  arp[13] = 0x06;
  w.Raw(arp);
  c.ClientSends("after");
  c.Close();
  const std::string path = TempPath("malformed.pcap");
  w.WritePcap(path);

  PcapStats stats;
  Recorder r = Replay(ConfigFor(path), &stats);
  const ConnEvent* client = r.OpenWithRole(WS_ROLE_CLIENT);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(r.Stream(client->conn_id, WS_DIR_EGRESS), "beforeafter");
  EXPECT_EQ(stats.malformed, 3u);
  EXPECT_EQ(stats.not_tcp, 1u);
}

TEST(PcapSource, CaptureFilterAndPorts) {
  CaptureWriter w;
  Conversation a(w, kClient, kServer);
  Conversation b(w, {"10.0.0.1", 40002}, {"10.0.0.3", 6379});
  a.Handshake();
  b.Handshake();
  a.ClientSends("for-8080");
  b.ClientSends("for-6379");
  a.Close();
  b.Close();
  const std::string path = TempPath("filter.pcap");
  w.WritePcap(path);

  PcapSourceConfig by_filter = ConfigFor(path);
  by_filter.filter = "tcp port 6379";
  PcapStats stats;
  Recorder r = Replay(by_filter, &stats);
  ASSERT_EQ(r.Opens().size(), 2u);
  EXPECT_EQ(r.Stream(r.OpenWithRole(WS_ROLE_CLIENT)->conn_id, WS_DIR_EGRESS), "for-6379");
  EXPECT_EQ(stats.packets, w.records().size() / 2);

  PcapSourceConfig by_port = ConfigFor(path);
  by_port.ports = {8080};
  r = Replay(by_port);
  ASSERT_EQ(r.Opens().size(), 2u);
  EXPECT_EQ(r.Stream(r.OpenWithRole(WS_ROLE_CLIENT)->conn_id, WS_DIR_EGRESS), "for-8080");

  PcapSourceConfig bad = ConfigFor(path);
  bad.filter = "tcp port banana(";
  PcapEventSource source(bad);
  Status status = source.Start();
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("filter"), std::string::npos) << status.message();
}

TEST(PcapSource, PollDeliversBoundedBatches) {
  CaptureWriter w;
  Conversation c(w, kClient, kServer);
  c.Handshake();
  for (int i = 0; i < 10; ++i) c.ClientSends("chunk" + std::to_string(i) + ";");
  const std::string path = TempPath("batches.pcap");
  w.WritePcap(path);  // 13 packets, no FIN

  PcapSourceConfig config = ConfigFor(path);
  config.packets_per_poll = 4;
  PcapEventSource source(config);
  ASSERT_TRUE(source.Start().ok());
  Recorder r;
  int polls = 0;
  while (!source.Exhausted() && polls < 100) {
    StatusOr<size_t> n = source.Poll(r, 0);
    ASSERT_TRUE(n.ok()) << n.status().message();
    // 4 packets carry at most 4 segments, each emitted to two sides, plus the opens.
    EXPECT_LE(*n, 4u * 2u + 2u);
    ++polls;
  }
  EXPECT_GE(polls, 4);  // 13 packets at 4 a call, then the end-of-file close
  std::string expected;
  for (int i = 0; i < 10; ++i) expected += "chunk" + std::to_string(i) + ";";
  EXPECT_EQ(r.Stream(r.OpenWithRole(WS_ROLE_CLIENT)->conn_id, WS_DIR_EGRESS), expected);
  EXPECT_EQ(source.stats().events, r.conns.size() + r.data.size());
  EXPECT_EQ(source.NowNanos(), w.last_ts_ns());
  EXPECT_EQ(source.ToUnixNanos(123), 123u);
}

TEST(PcapSource, ConnectionLimitEvictsLeastRecentlyActive) {
  CaptureWriter w;
  Conversation a(w, kClient, kServer);
  Conversation b(w, {"10.0.0.1", 40002}, kServer);
  a.Handshake();
  a.ClientSends("a1");
  b.Handshake();  // evicts a
  b.ClientSends("b1");
  const std::string path = TempPath("evict.pcap");
  w.WritePcap(path);

  PcapSourceConfig config = ConfigFor(path);
  config.max_connections = 1;
  PcapStats stats;
  Recorder r = Replay(config, &stats);
  EXPECT_EQ(stats.tcp.evicted_connections, 1u);
  ASSERT_EQ(r.Opens().size(), 4u);
  // a's sides were closed before b's opened.
  ASSERT_EQ(r.conns.size(), 8u);
  EXPECT_FALSE(r.conns[2].open);
  EXPECT_EQ(r.conns[2].tuple.local_port == 40000 || r.conns[2].tuple.remote_port == 40000, true);
  EXPECT_TRUE(r.conns[4].open);
}

TEST(PcapSource, RstClosesAfterData) {
  CaptureWriter w;
  Conversation c(w, kClient, kServer);
  c.Handshake();
  c.ClientSends("abc");
  c.Reset();
  c.ClientSends("stray");  // after the reset: must not resurrect the connection
  const std::string path = TempPath("rst.pcap");
  w.WritePcap(path);
  PcapStats stats;
  Recorder r = Replay(ConfigFor(path), &stats);
  ASSERT_EQ(r.Opens().size(), 2u);
  ASSERT_EQ(r.conns.size(), 4u);
  EXPECT_EQ(r.conns[2].ts_ns, w.records()[4].ts_ns);  // at the RST
  EXPECT_EQ(stats.tcp.ignored_segments, 1u);
}

// --- Bad files -------------------------------------------------------------------------------

TEST(PcapSource, MissingEmptyAndGarbageFilesFailToStart) {
  const std::string empty = TempPath("empty.pcap");
  std::ofstream(empty, std::ios::binary).flush();
  const std::string garbage = TempPath("garbage.pcap");
  std::ofstream(garbage, std::ios::binary) << std::string(200, 'z');
  for (const std::string& path : {TempPath("does-not-exist.pcap"), empty, garbage}) {
    PcapEventSource source(ConfigFor(path));
    Status status = source.Start();
    EXPECT_FALSE(status.ok()) << path;
    EXPECT_NE(status.message().find(path), std::string::npos) << status.message();
    Recorder r;
    EXPECT_FALSE(source.Poll(r, 0).ok());
  }
}

TEST(PcapSource, UnsupportedLinkTypeFailsToStart) {
  CaptureWriter w(DLT_IEEE802_11);
  const std::string path = TempPath("wifi.pcap");
  w.WritePcap(path);
  PcapEventSource source(ConfigFor(path));
  Status status = source.Start();
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("link type"), std::string::npos) << status.message();
}

TEST(PcapSource, TruncatedFileReturnsErrorAfterClosingConnections) {
  CaptureWriter w;
  Conversation c(w, kClient, kServer);
  c.Handshake();
  c.ClientSends("complete");
  c.ClientSends("this record gets cut");
  const std::string path = TempPath("truncated.pcap");
  w.WritePcap(path);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 10);

  PcapEventSource source(ConfigFor(path));
  ASSERT_TRUE(source.Start().ok());
  Recorder r;
  Status error;
  for (int i = 0; i < 10 && error.ok(); ++i) {
    StatusOr<size_t> n = source.Poll(r, 0);
    if (!n.ok()) error = n.status();
  }
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.message().find("truncated"), std::string::npos) << error.message();
  EXPECT_TRUE(source.Exhausted());
  EXPECT_FALSE(source.Poll(r, 0).ok());  // sticky
  // What was read is delivered and both sides were closed so decoders flush.
  EXPECT_EQ(r.Stream(r.OpenWithRole(WS_ROLE_CLIENT)->conn_id, WS_DIR_EGRESS), "complete");
  int closes = 0;
  for (const ConnEvent& e : r.conns) closes += e.open ? 0 : 1;
  EXPECT_EQ(closes, 2);
}

TEST(PcapSource, CorruptPcapngBlockIsAnError) {
  const std::string path = WriteSimpleExchange("corrupt.pcapng", DLT_EN10MB, /*pcapng=*/true);
  // Corrupt the length of the last block so it claims more than the file holds.
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const uint32_t last_len = *reinterpret_cast<const uint32_t*>(&bytes[bytes.size() - 4]);
  const size_t start = bytes.size() - last_len;
  const uint32_t huge = 0x00ffff00;
  std::memcpy(&bytes[start + 4], &huge, 4);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;

  PcapEventSource source(ConfigFor(path));
  ASSERT_TRUE(source.Start().ok());
  Recorder r;
  bool failed = false;
  for (int i = 0; i < 10 && !source.Exhausted(); ++i) failed |= !source.Poll(r, 0).ok();
  EXPECT_TRUE(failed);
}

// Property: however a stream is cut, duplicated and locally reordered (within the buffer bounds),
// the reassembled stream is exactly the original, across a sequence wrap.
TEST(TcpReassembler, RandomSegmentationReorderingAndRetransmission) {
  uint32_t rng = 777;
  auto next = [&rng] {
    rng = rng * 1103515245u + 12345u;
    return rng >> 8;
  };
  for (int round = 0; round < 50; ++round) {
    std::string stream(3000 + next() % 5000, '\0');
    for (char& ch : stream) ch = static_cast<char>('a' + next() % 26);
    const uint32_t isn = 0xffffffffu - next() % 4000;  // byte 0 at isn + 1; wraps mid-stream
    struct Piece {
      uint32_t pos, len;
    };
    std::vector<Piece> pieces;
    for (uint32_t pos = 0; pos < stream.size();) {
      const uint32_t len = std::min<uint32_t>(1 + next() % 300, stream.size() - pos);
      pieces.push_back({pos, len});
      if (next() % 5 == 0) {  // a retransmission, possibly re-cut to overlap neighbours
        const uint32_t back = std::min<uint32_t>(pos, next() % 50);
        pieces.push_back({pos - back, std::min<uint32_t>(len + back + next() % 50,
                                                         stream.size() - (pos - back))});
      }
      pos += len;
    }
    for (size_t i = 0; i + 1 < pieces.size(); ++i) {  // local reordering, up to 8 apart
      if (next() % 3 == 0)
        std::swap(pieces[i], pieces[std::min(pieces.size() - 1, i + next() % 8)]);
    }

    TcpReassembler tcp{ReassemblerConfig{}};
    Recorder r;
    TcpSegment seg;
    seg.family = AF_INET;
    seg.src_addr[0] = 1;
    seg.dst_addr[0] = 2;
    seg.src_port = 1234;
    seg.dst_port = 80;
    seg.flags = kTcpSyn;
    seg.seq = isn;
    tcp.OnSegment(seg, 1, r);
    for (const Piece& p : pieces) {
      seg.flags = 0;  // no ACKs: nothing may be given up on early
      seg.seq = isn + 1 + p.pos;
      seg.payload_len = p.len;
      seg.payload = std::string_view(stream).substr(p.pos, p.len);
      tcp.OnSegment(seg, 2, r);
    }
    while (tcp.CloseOldest(3, r)) {
    }
    const ConnEvent* client = r.OpenWithRole(WS_ROLE_CLIENT);
    ASSERT_NE(client, nullptr);
    ASSERT_EQ(r.Stream(client->conn_id, WS_DIR_EGRESS), stream) << "round " << round;
    EXPECT_EQ(tcp.stats().gaps, 0u);
  }
}

// Random and mutated frames through every link type: must never crash, read out of bounds (run
// under ASan to be sure) or emit inconsistent events.
TEST(ParseFrame, SurvivesMutatedInput) {
  const std::string base = testing::IpTcpPacket(kClient, kServer, 1, 2, 0x18, "payload");
  uint32_t rng = 12345;
  auto next = [&rng] {
    rng = rng * 1103515245u + 12345u;
    return rng >> 8;
  };
  Recorder r;
  TcpReassembler tcp{ReassemblerConfig{}};
  for (int dlt : {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL, DLT_LOOP, DLT_RAW}) {
    for (int i = 0; i < 5000; ++i) {
      std::string frame =
          testing::Frame(dlt == DLT_LINUX_SLL || dlt == DLT_LOOP ? DLT_RAW : dlt, base);
      const int mutations = 1 + static_cast<int>(next() % 4);
      for (int m = 0; m < mutations; ++m) frame[next() % frame.size()] = static_cast<char>(next());
      frame.resize(next() % (frame.size() + 1));
      std::vector<uint8_t> copy(frame.begin(), frame.end());  // exact-size buffer for ASan
      TcpSegment seg;
      if (ParseFrame(dlt, copy, &seg) == ParseResult::kTcp) {
        EXPECT_LE(seg.payload.size(), seg.payload_len);
        tcp.OnSegment(seg, i, r);
      }
    }
  }
  for (const auto& d : r.data) EXPECT_LE(d.bytes.size(), d.event.covered_len);
}

}  // namespace
}  // namespace wirespan::agent
