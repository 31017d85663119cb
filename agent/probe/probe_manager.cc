#include "agent/probe/probe_manager.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <string>
#include <vector>

#include "agent/probe/libbpf_env.h"

// See probe_manager.h: the skeleton's `struct wirespan` must not meet namespace wirespan. Its
// system includes are pulled in first so that only the skeleton itself lands in the namespace.
#include <errno.h>
#include <stdlib.h>
namespace wirespan_skel {
#include "wirespan.skel.h"
}  // namespace wirespan_skel

using wirespan_skel::wirespan__destroy;
using wirespan_skel::wirespan__load;
using wirespan_skel::wirespan__open;

namespace wirespan::agent {
namespace {

uint64_t RoundUpPow2(uint64_t v) {
  uint64_t p = 4096;
  while (p < v && p < (1ull << 31)) p <<= 1;
  return p;
}

}  // namespace

ProbeManager::~ProbeManager() { Destroy(); }

Status ProbeManager::Load(const ProbeOptions& options) {
  if (skel_) return Status::Error("probe already loaded");
  options_ = options;
  RouteLibbpfLogsToSpdlog();

  skel_ = wirespan__open();
  if (!skel_) return Status::Error("opening the BPF object failed: " + ErrnoName(errno));

  bpf_program__set_autoattach(skel_->progs.ws_data, false);

  auto* ro = skel_->rodata;
  ro->self_tgid = options_.self_tgid;
  ro->filter_tgids = options_.filter_tgids ? 1 : 0;
  ro->filter_ports = options_.filter_ports ? 1 : 0;
  ro->proto_filter = options_.proto_filter ? 1 : 0;
  uint32_t per_event = options_.max_copy_per_event;
  if (per_event == 0 || per_event > WS_MAX_COPY_PER_EVENT) per_event = WS_MAX_COPY_PER_EVENT;
  options_.max_copy_per_event = per_event;
  ro->max_copy_per_event = per_event;
  ro->max_copy_per_syscall = options_.max_copy_per_syscall;

  options_.ringbuf_bytes = RoundUpPow2(options_.ringbuf_bytes);
  int err = bpf_map__set_max_entries(skel_->maps.ws_events,
                                     static_cast<uint32_t>(options_.ringbuf_bytes));
  // The scratch array is indexed by CPU id: one slot per possible CPU.
  int cpus = libbpf_num_possible_cpus();
  if (!err && cpus > 0) err = bpf_map__set_max_entries(skel_->maps.ws_scratch, cpus);
  if (err) {
    Destroy();
    return Status::Error("sizing BPF maps failed: " + ErrnoName(err));
  }

  err = wirespan__load(skel_);
  if (err) {
    Destroy();
    return Status::Error("loading BPF programs failed: " + ErrnoName(err) +
                         " (run with debug logs for the verifier output)");
  }
  return Status::Ok();
}

Status ProbeManager::Attach() {
  if (!skel_) return Status::Error("probe not loaded");
  if (!links_.empty()) return Status::Ok();
  auto tracefs = EnsureTracefsMounted();
  if (!tracefs.ok()) return tracefs.status();

  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, skel_->obj) {
    // Tail-call targets (ws_data) have no attach point of their own.
    if (!bpf_program__autoattach(prog)) continue;
    bpf_link* link = bpf_program__attach(prog);
    if (!link) {
      int err = errno;
      std::string name = bpf_program__name(prog);
      for (bpf_link* l : links_) bpf_link__destroy(l);
      links_.clear();
      return Status::Error("attaching " + name + " (" + bpf_program__section_name(prog) +
                           ") failed: " + ErrnoName(err));
    }
    links_.push_back(link);
  }
  spdlog::debug("attached {} BPF programs", links_.size());
  return Status::Ok();
}

void ProbeManager::Destroy() {
  for (bpf_link* link : links_) bpf_link__destroy(link);
  links_.clear();
  if (skel_) {
    // The tail-call slot holds a reference on ws_data that the kernel drops only from deferred
    // work once the map goes away; emptying it now makes the program disappear with its fd.
    const uint32_t slot = 0;
    bpf_map_delete_elem(bpf_map__fd(skel_->maps.ws_jump), &slot);
    wirespan__destroy(skel_);
    skel_ = nullptr;
  }
}

Status ProbeManager::UpdateFilter(const char* what, int map_fd, const void* key, bool add) {
  if (!skel_) return Status::Error("probe not loaded");
  const uint8_t one = 1;
  int err =
      add ? bpf_map_update_elem(map_fd, key, &one, BPF_ANY) : bpf_map_delete_elem(map_fd, key);
  if (err && !(err == -ENOENT && !add)) {
    return Status::Error(std::string(add ? "adding " : "removing ") + what +
                         " failed: " + ErrnoName(err));
  }
  return Status::Ok();
}

Status ProbeManager::AddTgid(uint32_t tgid) {
  return UpdateFilter("tgid", skel_ ? bpf_map__fd(skel_->maps.ws_tgids) : -1, &tgid, true);
}

Status ProbeManager::RemoveTgid(uint32_t tgid) {
  return UpdateFilter("tgid", skel_ ? bpf_map__fd(skel_->maps.ws_tgids) : -1, &tgid, false);
}

Status ProbeManager::AddPort(uint16_t port) {
  return UpdateFilter("port", skel_ ? bpf_map__fd(skel_->maps.ws_ports) : -1, &port, true);
}

Status ProbeManager::RemovePort(uint16_t port) {
  return UpdateFilter("port", skel_ ? bpf_map__fd(skel_->maps.ws_ports) : -1, &port, false);
}

int ProbeManager::ring_fd() const { return skel_ ? bpf_map__fd(skel_->maps.ws_events) : -1; }

StatusOr<ProbeManager::Stats> ProbeManager::ReadStats() const {
  if (!skel_) return Status::Error("probe not loaded");
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return Status::Error("cannot count possible CPUs: " + ErrnoName(cpus));
  // Per-CPU lookups return one 8-byte-aligned value per possible CPU.
  std::vector<uint64_t> per_cpu(static_cast<size_t>(cpus));
  Stats totals{};
  int fd = bpf_map__fd(skel_->maps.ws_stats);
  for (uint32_t i = 0; i < WS_STAT_COUNT; ++i) {
    if (bpf_map_lookup_elem(fd, &i, per_cpu.data()) != 0) {
      return Status::Error("reading ws_stats failed: " + ErrnoName(errno));
    }
    for (uint64_t v : per_cpu) totals[i] += v;
  }
  return totals;
}

std::vector<uint32_t> ProbeManager::ProgramIds() const {
  std::vector<uint32_t> ids;
  if (!skel_) return ids;
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, skel_->obj) {
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    int fd = bpf_program__fd(prog);
    if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0) ids.push_back(info.id);
  }
  return ids;
}

}  // namespace wirespan::agent
