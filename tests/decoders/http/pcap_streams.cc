#include "tests/decoders/http/pcap_streams.h"

#include <pcap/pcap.h>

#include <map>
#include <tuple>

namespace wirespan::testing {
namespace {

uint16_t Be16(const u_char* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t Be32(const u_char* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}

}  // namespace

std::vector<TcpConnection> ReadTcpConnections(const std::string& path, std::string* error) {
  char errbuf[PCAP_ERRBUF_SIZE];
  pcap_t* pcap = pcap_open_offline(path.c_str(), errbuf);
  if (pcap == nullptr) {
    *error = errbuf;
    return {};
  }
  const int link = pcap_datalink(pcap);
  std::vector<TcpConnection> conns;
  struct State {
    size_t index;
    uint32_t next_seq[2];
    bool seq_known[2];
  };
  // Keyed by (client port, server port): fixtures are single-host loopback captures.
  std::map<std::tuple<uint16_t, uint16_t>, State> states;
  pcap_pkthdr* hdr;
  const u_char* data;
  while (pcap_next_ex(pcap, &hdr, &data) == 1) {
    const u_char* p = data;
    size_t len = hdr->caplen;
    if (link == DLT_EN10MB) {
      if (len < 14) continue;
      const uint16_t type = Be16(p + 12);
      p += 14;
      len -= 14;
      if (type != 0x0800 && type != 0x86dd) continue;
    } else if (link == DLT_LINUX_SLL) {
      if (len < 16) continue;
      p += 16;
      len -= 16;
    } else {
      continue;
    }
    if (len < 1) continue;
    size_t ip_len;
    if ((p[0] >> 4) == 4) {
      if (len < 20 || p[9] != 6) continue;
      ip_len = (p[0] & 0xf) * 4u;
      len = std::min<size_t>(len, Be16(p + 2));
    } else if ((p[0] >> 4) == 6) {
      if (len < 40 || p[6] != 6) continue;
      ip_len = 40;
      len = std::min<size_t>(len, 40u + Be16(p + 4));
    } else {
      continue;
    }
    if (len < ip_len + 20) continue;
    p += ip_len;
    len -= ip_len;
    const uint16_t sport = Be16(p), dport = Be16(p + 2);
    const uint32_t seq = Be32(p + 4);
    const uint8_t flags = p[13];
    const size_t tcp_len = (p[12] >> 4) * 4u;
    if (len < tcp_len) continue;
    std::string payload(reinterpret_cast<const char*>(p + tcp_len), len - tcp_len);
    const bool syn = flags & 0x02, ack = flags & 0x10;
    const uint64_t ts = static_cast<uint64_t>(hdr->ts.tv_sec) * 1'000'000'000ull +
                        static_cast<uint64_t>(hdr->ts.tv_usec) * 1000ull;
    if (syn && !ack) {
      State s{conns.size(), {seq + 1, 0}, {true, false}};
      states[{sport, dport}] = s;
      conns.push_back(TcpConnection{sport, dport, {}});
      continue;
    }
    bool from_client;
    State* st;
    if (auto it = states.find({sport, dport}); it != states.end()) {
      from_client = true;
      st = &it->second;
    } else if (auto it2 = states.find({dport, sport}); it2 != states.end()) {
      from_client = false;
      st = &it2->second;
    } else {
      continue;  // started before the capture
    }
    const int d = from_client ? 0 : 1;
    if (syn) {
      st->next_seq[d] = seq + 1;
      st->seq_known[d] = true;
      continue;
    }
    if (payload.empty() || !st->seq_known[d]) continue;
    const int32_t behind = static_cast<int32_t>(st->next_seq[d] - seq);
    if (behind > 0) {
      if (static_cast<size_t>(behind) >= payload.size()) continue;  // retransmission
      payload.erase(0, static_cast<size_t>(behind));
    }
    st->next_seq[d] = seq + static_cast<uint32_t>(len - tcp_len);
    conns[st->index].segments.push_back(TcpSegment{from_client, std::move(payload), ts});
  }
  pcap_close(pcap);
  return conns;
}

}  // namespace wirespan::testing
