// Process-wide libbpf plumbing shared by the probe manager and capability probing: where libbpf's
// log lines go, and making sure tracefs is reachable (libbpf resolves tracepoint ids through it).
#pragma once

#include <string>

#include "base/status.h"

namespace wirespan::agent {

// Routes libbpf's messages to spdlog at debug level. Idempotent.
void RouteLibbpfLogsToSpdlog();

// Silences libbpf while alive (capability probing expects failures and must not print them),
// then restores whatever printer was installed before.
class ScopedLibbpfSilence {
 public:
  ScopedLibbpfSilence();
  ~ScopedLibbpfSilence();
  ScopedLibbpfSilence(const ScopedLibbpfSilence&) = delete;
  ScopedLibbpfSilence& operator=(const ScopedLibbpfSilence&) = delete;

 private:
  void* previous_;  // libbpf_print_fn_t, kept opaque to keep libbpf.h out of this header
};

// Returns the tracefs directory libbpf will use, mounting tracefs on /sys/kernel/tracing when
// no tracefs is mounted at all (minimal hosts and containers often lack it; libbpf 1.1 only
// looks at /sys/kernel/debug/tracing and /sys/kernel/tracing).
StatusOr<std::string> EnsureTracefsMounted();

// Formats -err / errno values as "EPERM (Operation not permitted)".
std::string ErrnoName(int err);

}  // namespace wirespan::agent
