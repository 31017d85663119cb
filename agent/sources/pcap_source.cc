#include "agent/sources/pcap_source.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <span>

namespace wirespan::agent {

PcapEventSource::PcapEventSource(PcapSourceConfig config)
    : config_(std::move(config)), tcp_(config_) {
  config_.packets_per_poll = std::max<size_t>(config_.packets_per_poll, 1);
}

PcapEventSource::~PcapEventSource() = default;

Status PcapEventSource::Start() {
  if (handle_ != nullptr) return Status::Ok();
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  // Nanosecond precision: libpcap scales microsecond files up, so timestamps are always ns.
  pcap_t* raw = pcap_open_offline_with_tstamp_precision(config_.path.c_str(),
                                                        PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (raw == nullptr) {
    return Status::Error(fmt::format("cannot read capture {}: {}", config_.path, errbuf));
  }
  std::unique_ptr<pcap_t, PcapCloser> handle(raw);
  link_type_ = pcap_datalink(raw);
  if (!IsSupportedLinkType(link_type_)) {
    const char* name = pcap_datalink_val_to_name(link_type_);
    return Status::Error(fmt::format("capture {}: unsupported link type {} ({})", config_.path,
                                     link_type_, name != nullptr ? name : "unknown"));
  }
  if (!config_.filter.empty()) {
    bpf_program program{};
    if (pcap_compile(raw, &program, config_.filter.c_str(), /*optimize=*/1, PCAP_NETMASK_UNKNOWN) !=
        0) {
      return Status::Error(
          fmt::format("bad capture filter '{}': {}", config_.filter, pcap_geterr(raw)));
    }
    const int rc = pcap_setfilter(raw, &program);
    pcap_freecode(&program);
    if (rc != 0) {
      return Status::Error(
          fmt::format("cannot apply capture filter '{}': {}", config_.filter, pcap_geterr(raw)));
    }
  }
  spdlog::info("replaying capture {} (link type {})", config_.path,
               pcap_datalink_val_to_name(link_type_) ? pcap_datalink_val_to_name(link_type_) : "?");
  handle_ = std::move(handle);
  eof_ = false;
  return Status::Ok();
}

StatusOr<size_t> PcapEventSource::Poll(EventSink& sink, int /*timeout_ms*/) {
  if (!error_.ok()) return error_;
  if (handle_ == nullptr && !eof_) return Status::Error("pcap source not started");
  const uint64_t events_before = tcp_.stats().events;
  size_t budget = config_.packets_per_poll;
  while (!eof_ && budget > 0) {
    pcap_pkthdr* header = nullptr;
    const u_char* data = nullptr;
    const int rc = pcap_next_ex(handle_.get(), &header, &data);
    if (rc == 0) break;  // live-capture timeout; cannot happen for files
    if (rc == PCAP_ERROR_BREAK) {
      eof_ = true;
      break;
    }
    if (rc != 1) {
      error_ = Status::Error(
          fmt::format("reading capture {}: {}", config_.path, pcap_geterr(handle_.get())));
      eof_ = true;
      break;
    }
    --budget;
    ++stats_.packets;
    const int64_t sec = header->ts.tv_sec;
    const int64_t nsec = header->ts.tv_usec;  // nanoseconds: see Start()
    const uint64_t ts_ns = sec < 0 ? 0
                                   : static_cast<uint64_t>(sec) * 1'000'000'000u +
                                         static_cast<uint64_t>(std::max<int64_t>(nsec, 0));
    // Merged captures can step back slightly; the source clock must not.
    now_ns_ = std::max(now_ns_, ts_ns);
    TcpSegment segment;
    switch (ParseFrame(link_type_, std::span<const uint8_t>(data, header->caplen), &segment)) {
      case ParseResult::kTcp:
        tcp_.OnSegment(segment, ts_ns, sink);
        break;
      case ParseResult::kNotTcp:
        ++stats_.not_tcp;
        break;
      case ParseResult::kMalformed:
        ++stats_.malformed;
        break;
    }
  }
  if (eof_) {
    handle_.reset();
    if (!error_.ok()) {
      spdlog::warn("{}; closing {} open connections", error_.message(), tcp_.open_connections());
      // The caller stops at the error, so the decoders must get their closes now.
      while (tcp_.CloseOldest(now_ns_, sink)) {
      }
      return error_;
    }
    // Connections still open at the end of the recording are closed so decoders flush.
    while (budget > 0 && tcp_.CloseOldest(now_ns_, sink)) --budget;
  }
  return static_cast<size_t>(tcp_.stats().events - events_before);
}

bool PcapEventSource::Exhausted() const { return eof_ && tcp_.open_connections() == 0; }

void PcapEventSource::Stop() { handle_.reset(); }

SourceStats PcapEventSource::stats() const {
  const ReassemblerStats& tcp = tcp_.stats();
  SourceStats out;
  out.events = tcp.events;
  out.bytes = tcp.data_bytes;
  out.dropped = stats_.malformed + tcp.gaps + tcp.out_of_window;
  return out;
}

PcapStats PcapEventSource::pcap_stats() const {
  PcapStats out = stats_;
  out.tcp = tcp_.stats();
  return out;
}

}  // namespace wirespan::agent
