#include "agent/probe/libbpf_env.h"

#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>

namespace wirespan::agent {
namespace {

constexpr long kTracefsMagic = 0x74726163;

// libbpf's own debug stream (every CO-RE relocation) goes to trace; its warnings and info to debug.
int SpdlogPrint(enum libbpf_print_level level, const char* format, va_list args) {
  const auto spd_level = level == LIBBPF_DEBUG ? spdlog::level::trace : spdlog::level::debug;
  if (!spdlog::should_log(spd_level)) return 0;
  char line[1024];
  int n = std::vsnprintf(line, sizeof(line), format, args);
  if (n <= 0) return n;
  std::string_view text(line, std::min<size_t>(static_cast<size_t>(n), sizeof(line) - 1));
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  spdlog::log(spd_level, "libbpf: {}", text);
  return n;
}

int SilentPrint(enum libbpf_print_level, const char*, va_list) { return 0; }

bool IsTracefs(const char* dir) {
  struct statfs fs {};
  return statfs(dir, &fs) == 0 && fs.f_type == kTracefsMagic;
}

}  // namespace

void RouteLibbpfLogsToSpdlog() { libbpf_set_print(SpdlogPrint); }

ScopedLibbpfSilence::ScopedLibbpfSilence()
    : previous_(reinterpret_cast<void*>(libbpf_set_print(SilentPrint))) {}

ScopedLibbpfSilence::~ScopedLibbpfSilence() {
  libbpf_set_print(reinterpret_cast<libbpf_print_fn_t>(previous_));
}

StatusOr<std::string> EnsureTracefsMounted() {
  // Same order libbpf uses: debugfs's tracing directory first, then the tracefs mount point.
  if (IsTracefs("/sys/kernel/debug/tracing")) return std::string("/sys/kernel/debug/tracing");
  if (IsTracefs("/sys/kernel/tracing")) return std::string("/sys/kernel/tracing");
  if (access("/sys/kernel/debug/tracing/events", F_OK) == 0) {
    return std::string("/sys/kernel/debug/tracing");
  }
  if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, nullptr) != 0 && errno != EBUSY) {
    return Status::Error("tracefs is not mounted and mounting it on /sys/kernel/tracing failed: " +
                         ErrnoName(errno));
  }
  spdlog::info("mounted tracefs on /sys/kernel/tracing (needed to attach tracepoints)");
  return std::string("/sys/kernel/tracing");
}

std::string ErrnoName(int err) {
  if (err < 0) err = -err;
  const char* name = strerrorname_np(err);
  std::string out = name ? name : "E" + std::to_string(err);
  out += " (";
  out += std::strerror(err);
  out += ")";
  return out;
}

}  // namespace wirespan::agent
