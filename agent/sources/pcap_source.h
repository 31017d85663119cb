// Replays a pcap or pcapng capture file as if both ends of every TCP connection in it had been
// traced: each connection yields a client-side and a server-side socket whose byte streams are the
// reassembled TCP payloads. This lets the decoders and exporters run on recorded traffic (bug
// reports, CI fixtures) with no kernel involved.
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <memory>
#include <string>

#include "agent/sources/event_source.h"
#include "agent/sources/tcp_reassembler.h"

namespace wirespan::agent {

// Reassembly options (sides, tgids, ports, memory bounds) are inherited; see ReassemblerConfig.
struct PcapSourceConfig : ReassemblerConfig {
  std::string path;  // pcap or pcapng
  // Optional BPF capture filter ("tcp port 5432"), applied while reading the file.
  std::string filter;
  // Packets read per Poll call, so a large capture interleaves with the rest of the pipeline.
  size_t packets_per_poll = 1024;
};

struct PcapStats {
  uint64_t packets = 0;    // read from the file (after the capture filter)
  uint64_t malformed = 0;  // truncated or inconsistent headers: skipped
  uint64_t not_tcp = 0;    // not IP/TCP, or IP fragments: skipped
  ReassemblerStats tcp;
};

class PcapEventSource : public EventSource {
 public:
  explicit PcapEventSource(PcapSourceConfig config);
  ~PcapEventSource() override;
  PcapEventSource(const PcapEventSource&) = delete;
  PcapEventSource& operator=(const PcapEventSource&) = delete;

  std::string_view name() const override { return "pcap"; }
  // Opens the file, checks its link type and compiles the filter.
  Status Start() override;
  // Reads up to packets_per_poll packets (never blocks: timeout_ms is irrelevant for a file). At
  // the end of the file, closes the connections still open in batches of the same size. A read
  // error (truncated or corrupt file) closes every connection at once, then is returned by this
  // and every later call.
  StatusOr<size_t> Poll(EventSink& sink, int timeout_ms) override;
  bool Exhausted() const override;
  void Stop() override;
  // Packet timestamps are Unix time already.
  uint64_t ToUnixNanos(uint64_t source_ts_ns) const override { return source_ts_ns; }
  uint64_t NowNanos() const override { return now_ns_; }
  SourceStats stats() const override;
  PcapStats pcap_stats() const;

 private:
  struct PcapCloser {
    void operator()(pcap_t* handle) const { pcap_close(handle); }
  };

  PcapSourceConfig config_;
  std::unique_ptr<pcap_t, PcapCloser> handle_;
  int link_type_ = 0;
  TcpReassembler tcp_;
  bool eof_ = false;
  Status error_;  // sticky read error
  uint64_t now_ns_ = 0;
  PcapStats stats_;
};

}  // namespace wirespan::agent
