// Test helpers: craft Ethernet/SLL2/RAW/NULL + IPv4/IPv6 + TCP frames, write them as pcap (through
// libpcap) or pcapng (by hand: libpcap cannot write it), replay a file through PcapEventSource and
// record what comes out.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "agent/sources/pcap_source.h"

namespace wirespan::agent::testing {

struct Ep {
  std::string ip;
  uint16_t port;
};

inline void PutBe16(std::string& s, size_t at, uint16_t v) {
  s[at] = static_cast<char>(v >> 8);
  s[at + 1] = static_cast<char>(v);
}
inline void PutBe32(std::string& s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>(v >> (24 - 8 * i));
}

// An IP packet carrying one TCP segment (checksums are left 0: nothing here verifies them).
inline std::string IpTcpPacket(const Ep& src, const Ep& dst, uint32_t seq, uint32_t ack,
                               uint8_t flags, std::string_view payload) {
  const bool v6 = src.ip.find(':') != std::string::npos;
  std::string tcp(20, '\0');
  PutBe16(tcp, 0, src.port);
  PutBe16(tcp, 2, dst.port);
  PutBe32(tcp, 4, seq);
  PutBe32(tcp, 8, ack);
  tcp[12] = 5 << 4;
  tcp[13] = static_cast<char>(flags);
  PutBe16(tcp, 14, 65535);
  tcp.append(payload);
  std::string ip;
  if (v6) {
    ip.assign(40, '\0');
    ip[0] = 0x60;
    PutBe16(ip, 4, static_cast<uint16_t>(tcp.size()));
    ip[6] = 6;
    ip[7] = 64;
    inet_pton(AF_INET6, src.ip.c_str(), &ip[8]);
    inet_pton(AF_INET6, dst.ip.c_str(), &ip[24]);
  } else {
    ip.assign(20, '\0');
    ip[0] = 0x45;
    PutBe16(ip, 2, static_cast<uint16_t>(20 + tcp.size()));
    PutBe16(ip, 6, 0x4000);  // DF
    ip[8] = 64;
    ip[9] = 6;
    inet_pton(AF_INET, src.ip.c_str(), &ip[12]);
    inet_pton(AF_INET, dst.ip.c_str(), &ip[16]);
  }
  return ip + tcp;
}

// Wraps an IP packet in a link-layer header of the given pcap link type.
inline std::string Frame(int dlt, const std::string& ip) {
  const bool v6 = (static_cast<uint8_t>(ip[0]) >> 4) == 6;
  const uint16_t ethertype = v6 ? 0x86DD : 0x0800;
  std::string link;
  switch (dlt) {
    case DLT_EN10MB:
      link.assign(14, '\0');
      link[0] = 0x02;  // locally administered MACs
      link[6] = 0x02;
      PutBe16(link, 12, ethertype);
      break;
    case DLT_LINUX_SLL2:
      link.assign(20, '\0');
      PutBe16(link, 0, ethertype);
      PutBe16(link, 8, 772);  // ARPHRD_LOOPBACK
      break;
    case DLT_NULL: {
      const uint32_t family = v6 ? 30 : 2;  // as a little-endian macOS host writes them
      link.assign(reinterpret_cast<const char*>(&family), 4);
      break;
    }
    case DLT_RAW:
      break;
    default:
      ADD_FAILURE() << "no frame builder for link type " << dlt;
  }
  std::string frame = link + ip;
  // Ethernet pads short frames: the parser must trust the IP length, not the frame length.
  if (dlt == DLT_EN10MB && frame.size() < 60) frame.resize(60, '\0');
  return frame;
}

class CaptureWriter {
 public:
  explicit CaptureWriter(int dlt = DLT_EN10MB) : dlt_(dlt) {}

  struct Record {
    std::string frame;
    uint64_t ts_ns;
    uint32_t orig_len;
  };

  // Appends a TCP packet 1 ms after the previous one.
  void Tcp(const Ep& src, const Ep& dst, uint32_t seq, uint32_t ack, uint8_t flags,
           std::string_view payload = {}) {
    Raw(Frame(dlt_, IpTcpPacket(src, dst, seq, ack, flags, payload)));
  }
  // Appends a frame as is; snap > 0 keeps only its first `snap` bytes (orig_len stays full).
  void Raw(std::string frame, size_t snap = 0) {
    ts_ns_ += 1'000'000;
    const auto orig = static_cast<uint32_t>(frame.size());
    if (snap > 0 && snap < frame.size()) frame.resize(snap);
    records_.push_back({std::move(frame), ts_ns_, orig});
  }
  const std::vector<Record>& records() const { return records_; }
  uint64_t last_ts_ns() const { return ts_ns_; }

  void WritePcap(const std::string& path) const {
    pcap_t* dead = pcap_open_dead_with_tstamp_precision(dlt_, 262144, PCAP_TSTAMP_PRECISION_NANO);
    ASSERT_NE(dead, nullptr);
    pcap_dumper_t* dumper = pcap_dump_open(dead, path.c_str());
    ASSERT_NE(dumper, nullptr) << pcap_geterr(dead);
    for (const Record& r : records_) {
      pcap_pkthdr header{};
      header.ts.tv_sec = static_cast<time_t>(r.ts_ns / 1'000'000'000);
      header.ts.tv_usec = static_cast<suseconds_t>(r.ts_ns % 1'000'000'000);  // ns precision
      header.caplen = static_cast<uint32_t>(r.frame.size());
      header.len = r.orig_len;
      pcap_dump(reinterpret_cast<u_char*>(dumper), &header,
                reinterpret_cast<const u_char*>(r.frame.data()));
    }
    pcap_dump_close(dumper);
    pcap_close(dead);
  }

  // pcapng: Section Header, Interface Description (default microsecond resolution), then one
  // Enhanced Packet Block per record. Little-endian, as the byte-order magic declares.
  void WritePcapng(const std::string& path) const {
    std::string out;
    auto u16 = [](std::string& s, uint16_t v) { s.append(reinterpret_cast<const char*>(&v), 2); };
    auto u32 = [](std::string& s, uint32_t v) { s.append(reinterpret_cast<const char*>(&v), 4); };
    auto block = [&](uint32_t type, const std::string& body) {
      const auto len = static_cast<uint32_t>(12 + body.size());
      u32(out, type);
      u32(out, len);
      out += body;
      u32(out, len);
    };
    std::string shb;
    u32(shb, 0x1A2B3C4D);
    u16(shb, 1);
    u16(shb, 0);
    u32(shb, 0xffffffff);  // section length unknown (-1, 64 bits)
    u32(shb, 0xffffffff);
    block(0x0A0D0D0A, shb);
    std::string idb;
    u16(idb, static_cast<uint16_t>(dlt_ == DLT_RAW ? 101 : dlt_));  // LINKTYPE_ values
    u16(idb, 0);
    u32(idb, 262144);
    block(1, idb);
    for (const Record& r : records_) {
      std::string epb;
      const uint64_t us = r.ts_ns / 1000;
      u32(epb, 0);
      u32(epb, static_cast<uint32_t>(us >> 32));
      u32(epb, static_cast<uint32_t>(us));
      u32(epb, static_cast<uint32_t>(r.frame.size()));
      u32(epb, r.orig_len);
      epb += r.frame;
      epb.resize((epb.size() + 3) / 4 * 4, '\0');
      block(6, epb);
    }
    std::ofstream(path, std::ios::binary) << out;
  }

 private:
  int dlt_;
  uint64_t ts_ns_ = 1'700'000'000'000'000'000ull;
  std::vector<Record> records_;
};

// Drives one connection through a CaptureWriter, tracking both sequence numbers.
class Conversation {
 public:
  Conversation(CaptureWriter& w, Ep client, Ep server, uint32_t client_isn = 1000,
               uint32_t server_isn = 5000)
      : w_(w),
        client_(std::move(client)),
        server_(std::move(server)),
        cseq_(client_isn),
        sseq_(server_isn) {}

  void Handshake() {
    w_.Tcp(client_, server_, cseq_, 0, 0x02);
    w_.Tcp(server_, client_, sseq_, cseq_ + 1, 0x12);
    ++cseq_;
    ++sseq_;
    w_.Tcp(client_, server_, cseq_, sseq_, 0x10);
  }
  // Sends the next bytes in order (PSH|ACK).
  void ClientSends(std::string_view bytes) {
    w_.Tcp(client_, server_, cseq_, sseq_, 0x18, bytes);
    cseq_ += static_cast<uint32_t>(bytes.size());
  }
  void ServerSends(std::string_view bytes) {
    w_.Tcp(server_, client_, sseq_, cseq_, 0x18, bytes);
    sseq_ += static_cast<uint32_t>(bytes.size());
  }
  // A segment at an offset from the client's next sequence number, not advancing it.
  void ClientSegmentAt(int64_t offset, std::string_view bytes, uint32_t ack_offset = 0) {
    w_.Tcp(client_, server_, cseq_ + static_cast<uint32_t>(offset), sseq_ + ack_offset, 0x18,
           bytes);
  }
  void AdvanceClient(uint32_t n) { cseq_ += n; }
  void ServerAcks() { w_.Tcp(server_, client_, sseq_, cseq_, 0x10); }
  void Close() {
    w_.Tcp(client_, server_, cseq_, sseq_, 0x11);
    w_.Tcp(server_, client_, sseq_, cseq_ + 1, 0x11);
    ++cseq_;
    ++sseq_;
    w_.Tcp(client_, server_, cseq_, sseq_, 0x10);
  }
  void Reset() { w_.Tcp(client_, server_, cseq_, sseq_, 0x14); }
  uint32_t client_seq() const { return cseq_; }
  uint32_t server_seq() const { return sseq_; }

 private:
  CaptureWriter& w_;
  Ep client_, server_;
  uint32_t cseq_, sseq_;
};

// Keeps a copy of every event, in order.
class Recorder : public EventSink {
 public:
  struct Data {
    DataEvent event;
    std::string bytes;
  };
  struct Any {
    bool is_conn;
    size_t index;
  };
  void OnConn(const ConnEvent& e) override {
    order.push_back({true, conns.size()});
    conns.push_back(e);
  }
  void OnData(const DataEvent& e) override {
    order.push_back({false, data.size()});
    Data d{e, std::string(e.data)};
    d.event.data = {};
    data.push_back(std::move(d));
  }

  // The conn_ids opened with this role (in open order).
  std::vector<ConnEvent> Opens() const {
    std::vector<ConnEvent> out;
    for (const ConnEvent& c : conns) {
      if (c.open) out.push_back(c);
    }
    return out;
  }
  const ConnEvent* OpenWithRole(uint8_t role) const {
    for (const ConnEvent& c : conns) {
      if (c.open && c.role == role) return &c;
    }
    return nullptr;
  }
  // One direction's stream of one side; gap bytes are rendered as '#'. Also checks positions are
  // contiguous from 0.
  std::string Stream(uint64_t conn_id, uint8_t direction) const {
    std::string out;
    for (const Data& d : data) {
      if (d.event.conn_id != conn_id || d.event.direction != direction) continue;
      EXPECT_EQ(d.event.stream_pos, out.size()) << "non-contiguous stream";
      EXPECT_LE(d.bytes.size(), d.event.covered_len);
      out += d.bytes;
      out.append(d.event.covered_len - d.bytes.size(), '#');
    }
    return out;
  }
  std::vector<Data> DataOf(uint64_t conn_id, uint8_t direction) const {
    std::vector<Data> out;
    for (const Data& d : data) {
      if (d.event.conn_id == conn_id && d.event.direction == direction) out.push_back(d);
    }
    return out;
  }

  std::vector<ConnEvent> conns;
  std::vector<Data> data;
  std::vector<Any> order;
};

inline std::string TempPath(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / "wirespan_pcap_test";
  std::filesystem::create_directories(dir);
  return (dir / (std::to_string(::getpid()) + "_" + name)).string();
}

// Replays a file to the end; fails the test on any error.
inline Recorder Replay(PcapSourceConfig config, PcapStats* stats = nullptr,
                       uint64_t* now_ns = nullptr) {
  Recorder recorder;
  PcapEventSource source(std::move(config));
  Status started = source.Start();
  EXPECT_TRUE(started.ok()) << started.message();
  if (!started.ok()) return recorder;
  for (int i = 0; i < 100000 && !source.Exhausted(); ++i) {
    StatusOr<size_t> n = source.Poll(recorder, 0);
    EXPECT_TRUE(n.ok()) << n.status().message();
    if (!n.ok()) break;
  }
  EXPECT_TRUE(source.Exhausted());
  if (stats != nullptr) *stats = source.pcap_stats();
  if (now_ns != nullptr) *now_ns = source.NowNanos();
  return recorder;
}

}  // namespace wirespan::agent::testing
