// Kernel feature probing, for `wirespan doctor` and for choosing optional capture paths at start.
//
// Every probe really tries the feature (loads a two-instruction program and attaches it where that
// is the question), tolerates every failure, reports the exact reason, and detaches and closes
// whatever it created. libbpf's own messages are silenced while probing.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace wirespan::agent {

struct Capability {
  std::string name;
  bool available = false;
  bool required = false;  // part of the baseline the capture cannot run without
  std::string reason;     // one line, set when unavailable (and for informative states)
};

struct CapabilityReport {
  std::vector<Capability> items;

  const Capability* Find(std::string_view name) const;
  bool Available(std::string_view name) const;
  // True when every required capability (BTF, syscall tracepoints, ring buffer, bpf_loop) is there.
  bool BaselineOk() const;
  std::vector<std::string> MissingRequired() const;
};

// Names, in report order: btf, syscall_tracepoints, ringbuf, bpf_loop, uprobes, kprobes, fentry,
// cgroup_sockops, sk_msg, tc, lockdown.
CapabilityReport ProbeCapabilities();

}  // namespace wirespan::agent
