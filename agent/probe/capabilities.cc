#include "agent/probe/capabilities.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/perf_event.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "agent/probe/libbpf_env.h"

namespace wirespan::agent {
namespace {

// Closes an fd on scope exit.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

Capability Make(std::string name, bool required) {
  Capability c;
  c.name = std::move(name);
  c.required = required;
  return c;
}

Capability& Fail(Capability& c, std::string reason) {
  c.available = false;
  c.reason = std::move(reason);
  return c;
}

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// The smallest valid program: r0 = ret; exit.
int LoadTrivial(bpf_prog_type type, int ret, const bpf_prog_load_opts* opts = nullptr) {
  const bpf_insn insns[] = {
      {.code = BPF_ALU64 | BPF_MOV | BPF_K,
       .dst_reg = BPF_REG_0,
       .src_reg = 0,
       .off = 0,
       .imm = ret},
      {.code = BPF_JMP | BPF_EXIT, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0},
  };
  int fd = bpf_prog_load(type, "ws_probe", "GPL", insns, 2, opts);
  return fd < 0 ? -errno : fd;
}

int PerfEventOpen(perf_event_attr* attr, int pid, int cpu) {
  return static_cast<int>(syscall(__NR_perf_event_open, attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC));
}

// Attaches prog_fd to an opened perf event (tracepoint, kprobe, uprobe) and reports failure.
std::string AttachToPerfEvent(int perf_fd, int prog_fd) {
  if (ioctl(perf_fd, PERF_EVENT_IOC_SET_BPF, prog_fd) != 0) {
    return "attach failed: " + ErrnoName(errno);
  }
  return "";
}

int ReadPmuType(const char* pmu) {
  std::string t = ReadFirstLine(std::string("/sys/bus/event_source/devices/") + pmu + "/type");
  return t.empty() ? -1 : std::atoi(t.c_str());
}

// A tracefs mount for the duration of probing: the existing one, or a private temporary mount
// that is removed again, so probing changes nothing on the host.
class TracefsView {
 public:
  TracefsView() {
    for (const char* dir : {"/sys/kernel/debug/tracing", "/sys/kernel/tracing"}) {
      if (Exists(std::string(dir) + "/events")) {
        dir_ = dir;
        return;
      }
    }
    char tmpl[] = "/tmp/wirespan-tracefs-XXXXXX";
    if (!mkdtemp(tmpl)) {
      error_ = "mkdtemp failed: " + ErrnoName(errno);
      return;
    }
    temp_ = tmpl;
    if (mount("tracefs", tmpl, "tracefs", 0, nullptr) != 0) {
      error_ = "tracefs not mounted and mounting it failed: " + ErrnoName(errno);
      rmdir(tmpl);
      temp_.clear();
      return;
    }
    dir_ = temp_;
  }
  ~TracefsView() {
    if (!temp_.empty()) {
      umount2(temp_.c_str(), MNT_DETACH);
      rmdir(temp_.c_str());
    }
  }
  const std::string& dir() const { return dir_; }
  const std::string& error() const { return error_; }

 private:
  std::string dir_, temp_, error_;
};

// A function of this binary to put a uprobe on.
extern "C" __attribute__((noinline, used)) int wirespan_uprobe_probe_target(int x) {
  asm volatile("" : "+r"(x));
  return x + 1;
}

// File offset of `addr` in the mapped file that holds it, from /proc/self/maps.
bool FileOffsetOf(uintptr_t addr, std::string* path, uint64_t* offset) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    uintptr_t start = 0, end = 0;
    uint64_t file_off = 0;
    char perms[8] = {};
    int path_pos = 0;
    if (std::sscanf(line.c_str(), "%" SCNxPTR "-%" SCNxPTR " %7s %" SCNx64 " %*s %*s %n", &start,
                    &end, perms, &file_off, &path_pos) < 4) {
      continue;
    }
    if (addr < start || addr >= end || path_pos <= 0) continue;
    *path = line.substr(static_cast<size_t>(path_pos));
    *offset = addr - start + file_off;
    return !path->empty() && (*path)[0] == '/';
  }
  return false;
}

Capability ProbeBtf() {
  Capability c = Make("btf", true);
  if (!Exists("/sys/kernel/btf/vmlinux")) {
    return Fail(c, "/sys/kernel/btf/vmlinux missing (CONFIG_DEBUG_INFO_BTF not set)");
  }
  btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) return Fail(c, "loading kernel BTF failed: " + ErrnoName(errno));
  btf__free(vmlinux);
  c.available = true;
  return c;
}

Capability ProbeSyscallTracepoints(const TracefsView& tracefs) {
  Capability c = Make("syscall_tracepoints", true);
  if (tracefs.dir().empty()) return Fail(c, tracefs.error());
  const std::string id_path = tracefs.dir() + "/events/syscalls/sys_enter_write/id";
  std::string id = ReadFirstLine(id_path);
  if (id.empty()) return Fail(c, "CONFIG_FTRACE_SYSCALLS not set: " + id_path + " missing");
  Fd prog(LoadTrivial(BPF_PROG_TYPE_TRACEPOINT, 0));
  if (!prog.ok()) return Fail(c, "load failed: " + ErrnoName(prog.get()));
  perf_event_attr attr{};
  attr.type = PERF_TYPE_TRACEPOINT;
  attr.size = sizeof(attr);
  attr.config = std::strtoull(id.c_str(), nullptr, 10);
  attr.sample_period = 1;
  attr.wakeup_events = 1;
  Fd event(PerfEventOpen(&attr, -1, 0));
  if (!event.ok()) return Fail(c, "perf_event_open(tracepoint) failed: " + ErrnoName(errno));
  std::string err = AttachToPerfEvent(event.get(), prog.get());
  if (!err.empty()) return Fail(c, err);
  c.available = true;
  return c;
}

Capability ProbeRingbuf() {
  Capability c = Make("ringbuf", true);
  Fd map(bpf_map_create(BPF_MAP_TYPE_RINGBUF, "ws_probe_rb", 0, 0, 64 * 1024, nullptr));
  if (!map.ok()) return Fail(c, "creating a ring buffer map failed: " + ErrnoName(errno));
  c.available = true;
  return c;
}

Capability ProbeBpfLoop() {
  Capability c = Make("bpf_loop", true);
  int r = libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_loop, nullptr);
  if (r == 1) {
    c.available = true;
  } else if (r == 0) {
    Fail(c, "helper bpf_loop not supported (needs Linux 5.17+)");
  } else {
    Fail(c, "probing bpf_loop failed: " + ErrnoName(r));
  }
  return c;
}

Capability ProbeUprobes() {
  Capability c = Make("uprobes", false);
  int type = ReadPmuType("uprobe");
  if (type < 0) return Fail(c, "CONFIG_UPROBE_EVENTS not set: uprobe PMU missing");
  std::string path;
  uint64_t offset = 0;
  if (!FileOffsetOf(reinterpret_cast<uintptr_t>(&wirespan_uprobe_probe_target), &path, &offset)) {
    return Fail(c, "cannot locate a probe target in /proc/self/maps");
  }
  Fd prog(LoadTrivial(BPF_PROG_TYPE_KPROBE, 0));
  if (!prog.ok()) return Fail(c, "load failed: " + ErrnoName(prog.get()));
  perf_event_attr attr{};
  attr.type = static_cast<uint32_t>(type);
  attr.size = sizeof(attr);
  attr.config1 = reinterpret_cast<uintptr_t>(path.c_str());
  attr.config2 = offset;
  Fd event(PerfEventOpen(&attr, static_cast<int>(getpid()), -1));
  if (!event.ok()) return Fail(c, "perf_event_open(uprobe) failed: " + ErrnoName(errno));
  std::string err = AttachToPerfEvent(event.get(), prog.get());
  if (!err.empty()) return Fail(c, err);
  c.available = true;
  return c;
}

Capability ProbeKprobes(const TracefsView& tracefs) {
  Capability c = Make("kprobes", false);
  int type = ReadPmuType("kprobe");
  if (type < 0) {
    std::string events = (tracefs.dir().empty() ? "<tracefs>" : tracefs.dir()) + "/kprobe_events";
    if (!Exists(events)) return Fail(c, "CONFIG_KPROBES not set: " + events + " missing");
    return Fail(c, "kprobe PMU missing: /sys/bus/event_source/devices/kprobe");
  }
  Fd prog(LoadTrivial(BPF_PROG_TYPE_KPROBE, 0));
  if (!prog.ok()) return Fail(c, "load failed: " + ErrnoName(prog.get()));
  static const char kFunc[] = "tcp_sendmsg";
  perf_event_attr attr{};
  attr.type = static_cast<uint32_t>(type);
  attr.size = sizeof(attr);
  attr.config1 = reinterpret_cast<uintptr_t>(kFunc);
  Fd event(PerfEventOpen(&attr, -1, 0));
  if (!event.ok()) return Fail(c, "perf_event_open(kprobe) failed: " + ErrnoName(errno));
  std::string err = AttachToPerfEvent(event.get(), prog.get());
  if (!err.empty()) return Fail(c, err);
  c.available = true;
  return c;
}

Capability ProbeFentry() {
  Capability c = Make("fentry", false);
  btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) return Fail(c, "no kernel BTF: " + ErrnoName(errno));
  int id = btf__find_by_name_kind(vmlinux, "tcp_sendmsg", BTF_KIND_FUNC);
  btf__free(vmlinux);
  if (id <= 0) return Fail(c, "tcp_sendmsg not found in kernel BTF");
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FENTRY,
              .attach_btf_id = static_cast<uint32_t>(id));
  Fd prog(LoadTrivial(BPF_PROG_TYPE_TRACING, 0, &opts));
  if (!prog.ok()) return Fail(c, "load failed: " + ErrnoName(prog.get()));
  Fd link(bpf_link_create(prog.get(), 0, BPF_TRACE_FENTRY, nullptr));
  if (!link.ok()) return Fail(c, "attach failed: " + ErrnoName(errno));
  c.available = true;
  return c;
}

// The cgroup v2 mount point from /proc/self/mountinfo, or "".
std::string Cgroup2Mount() {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream rest(line.substr(dash + 3));
    std::string fstype;
    rest >> fstype;
    if (fstype != "cgroup2") continue;
    std::istringstream fields(line);
    std::string skip, mount_point;
    fields >> skip >> skip >> skip >> skip >> mount_point;
    return mount_point;
  }
  return "";
}

Capability ProbeCgroupSockops() {
  Capability c = Make("cgroup_sockops", false);
  std::string root = Cgroup2Mount();
  if (root.empty()) return Fail(c, "no cgroup v2 mount");
  // The root cgroup is what capture would need (every socket on the host). BPF_F_ALLOW_MULTI
  // adds to, never replaces, programs already there, and the trivial program (return 1 = go on)
  // is detached again at once. A child cgroup can accept an attach the root refuses, so it would
  // answer the wrong question.
  Fd cg(open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cg.ok()) return Fail(c, "opening " + root + " failed: " + ErrnoName(errno));
  Fd prog(LoadTrivial(BPF_PROG_TYPE_SOCK_OPS, 1));
  if (!prog.ok()) return Fail(c, "load failed: " + ErrnoName(prog.get()));
  if (bpf_prog_attach(prog.get(), cg.get(), BPF_CGROUP_SOCK_OPS, BPF_F_ALLOW_MULTI) != 0) {
    return Fail(c, "attach to " + root + " failed: " + ErrnoName(errno));
  }
  bpf_prog_detach2(prog.get(), cg.get(), BPF_CGROUP_SOCK_OPS);
  c.available = true;
  return c;
}

Capability ProbeSkMsg() {
  Capability c = Make("sk_msg", false);
  Fd map(bpf_map_create(BPF_MAP_TYPE_SOCKHASH, "ws_probe_sh", 4, 4, 1, nullptr));
  if (!map.ok()) return Fail(c, "creating a sockhash failed: " + ErrnoName(errno));
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_SK_MSG_VERDICT);
  Fd prog(LoadTrivial(BPF_PROG_TYPE_SK_MSG, 1 /* SK_PASS */, &opts));
  if (!prog.ok()) return Fail(c, "load failed: " + ErrnoName(prog.get()));
  if (bpf_prog_attach(prog.get(), map.get(), BPF_SK_MSG_VERDICT, 0) != 0) {
    return Fail(c, "attach failed: " + ErrnoName(errno));
  }
  bpf_prog_detach2(prog.get(), map.get(), BPF_SK_MSG_VERDICT);
  c.available = true;
  return c;
}

Capability ProbeTc() {
  Capability c = Make("tc", false);
  int ifindex = static_cast<int>(if_nametoindex("lo"));
  if (ifindex == 0) return Fail(c, "no loopback interface: " + ErrnoName(errno));
  Fd prog(LoadTrivial(BPF_PROG_TYPE_SCHED_CLS, 0 /* TC_ACT_OK */));
  if (!prog.ok()) return Fail(c, "load failed: " + ErrnoName(prog.get()));
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
  int err = bpf_tc_hook_create(&hook);
  // Only a clsact qdisc created here is removed again; an existing one belongs to someone else.
  const bool created = err == 0;
  if (err && err != -EEXIST) return Fail(c, "creating clsact on lo failed: " + ErrnoName(err));
  // An unusual handle/priority pair keeps clear of filters others may have on lo.
  LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog.get(), .handle = 0x5753, .priority = 0xfff3);
  err = bpf_tc_attach(&hook, &opts);
  if (err) {
    Fail(c, "attach failed: " + ErrnoName(err));
  } else {
    LIBBPF_OPTS(bpf_tc_opts, detach, .handle = 0x5753, .priority = 0xfff3);
    bpf_tc_detach(&hook, &detach);
    c.available = true;
  }
  if (created) {
    hook.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
    bpf_tc_hook_destroy(&hook);
  }
  return c;
}

// Reads the active lockdown mode ("none", "integrity", "confidentiality"), mounting securityfs
// privately if it is not mounted.
std::string LockdownMode(std::string* error) {
  std::string line = ReadFirstLine("/sys/kernel/security/lockdown");
  if (line.empty()) {
    char tmpl[] = "/tmp/wirespan-securityfs-XXXXXX";
    if (mkdtemp(tmpl)) {
      if (mount("securityfs", tmpl, "securityfs", 0, nullptr) == 0) {
        line = ReadFirstLine(std::string(tmpl) + "/lockdown");
        umount2(tmpl, MNT_DETACH);
      } else {
        *error = "securityfs not mounted and mounting it failed: " + ErrnoName(errno);
      }
      rmdir(tmpl);
    }
  }
  if (line.empty()) {
    if (error->empty()) *error = "lockdown LSM not present";
    return "";
  }
  auto open = line.find('['), close = line.find(']');
  if (open == std::string::npos || close == std::string::npos || close < open) return "";
  return line.substr(open + 1, close - open - 1);
}

Capability ProbeLockdown() {
  Capability c = Make("lockdown", false);
  std::string error;
  std::string mode = LockdownMode(&error);
  if (mode.empty()) {
    // No lockdown LSM means no lockdown restrictions.
    c.available = true;
    c.reason = error;
  } else if (mode == "none") {
    c.available = true;
  } else if (mode == "integrity") {
    Fail(c, "lockdown=integrity: bpf_probe_write_user is refused (capture is unaffected)");
  } else {
    Fail(c, "lockdown=" + mode + ": kernel memory reads are refused (capture cannot work)");
  }
  return c;
}

}  // namespace

const Capability* CapabilityReport::Find(std::string_view name) const {
  for (const Capability& c : items) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

bool CapabilityReport::Available(std::string_view name) const {
  const Capability* c = Find(name);
  return c && c->available;
}

bool CapabilityReport::BaselineOk() const { return MissingRequired().empty(); }

std::vector<std::string> CapabilityReport::MissingRequired() const {
  std::vector<std::string> missing;
  for (const Capability& c : items) {
    if (c.required && !c.available) missing.push_back(c.name);
  }
  return missing;
}

CapabilityReport ProbeCapabilities() {
  ScopedLibbpfSilence quiet;
  TracefsView tracefs;
  CapabilityReport report;
  report.items.push_back(ProbeBtf());
  report.items.push_back(ProbeSyscallTracepoints(tracefs));
  report.items.push_back(ProbeRingbuf());
  report.items.push_back(ProbeBpfLoop());
  report.items.push_back(ProbeUprobes());
  report.items.push_back(ProbeKprobes(tracefs));
  report.items.push_back(ProbeFentry());
  report.items.push_back(ProbeCgroupSockops());
  report.items.push_back(ProbeSkMsg());
  report.items.push_back(ProbeTc());
  report.items.push_back(ProbeLockdown());
  return report;
}

}  // namespace wirespan::agent
