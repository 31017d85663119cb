// ProbeManager: the single owner of the wirespan BPF skeleton (bpf/wirespan.bpf.c).
//
// Lifecycle: Load() opens the object, writes the configuration into rodata, sizes the maps and
// loads (verifies) every program; the filter maps can then be filled before Attach() starts the
// flow of events; Destroy() (also run by the destructor) detaches every link and unloads
// everything, leaving no program, link or map behind.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "bpf/events.h"

struct bpf_link;
// The generated skeleton (wirespan.skel.h) declares `struct wirespan`, which would clash with this
// project's namespace of the same name, so it is included inside namespace wirespan_skel.
namespace wirespan_skel {
struct wirespan;
}  // namespace wirespan_skel

namespace wirespan::agent {

struct ProbeOptions {
  uint32_t self_tgid = 0;     // never traced (the agent itself)
  bool filter_tgids = false;  // true: only tgids added with AddTgid
  bool filter_ports = false;  // true: only connections with a port added with AddPort
  bool proto_filter = true;   // in-kernel protocol pre-filter
  uint32_t max_copy_per_event = WS_MAX_COPY_PER_EVENT;  // clamped to WS_MAX_COPY_PER_EVENT
  uint32_t max_copy_per_syscall = WS_DEFAULT_MAX_COPY_PER_SYSCALL;
  uint64_t ringbuf_bytes = 32ull << 20;  // rounded up to a power of two
};

class ProbeManager {
 public:
  using Stats = std::array<uint64_t, WS_STAT_COUNT>;  // indexed by enum ws_stat

  ProbeManager() = default;
  ~ProbeManager();
  ProbeManager(const ProbeManager&) = delete;
  ProbeManager& operator=(const ProbeManager&) = delete;

  Status Load(const ProbeOptions& options);
  Status Attach();
  // Detaches and unloads everything; safe to call more than once.
  void Destroy();

  bool loaded() const { return skel_ != nullptr; }
  bool attached() const { return !links_.empty(); }
  const ProbeOptions& options() const { return options_; }

  // Filter maps; effective only with filter_tgids / filter_ports set at Load().
  Status AddTgid(uint32_t tgid);
  Status RemoveTgid(uint32_t tgid);
  Status AddPort(uint16_t port);
  Status RemovePort(uint16_t port);

  // The ring buffer map's fd, for RingReader; -1 when not loaded.
  int ring_fd() const;
  // Per-CPU counters summed over CPUs.
  StatusOr<Stats> ReadStats() const;
  // Kernel ids of the loaded programs (to verify they are gone after Destroy).
  std::vector<uint32_t> ProgramIds() const;

 private:
  Status UpdateFilter(const char* what, int map_fd, const void* key, bool add);

  ProbeOptions options_;
  wirespan_skel::wirespan* skel_ = nullptr;
  std::vector<bpf_link*> links_;
};

}  // namespace wirespan::agent
