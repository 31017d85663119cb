// Capability probing against the real kernel: the facts of /work/shared/kernel-facts.md, and that
// probing leaves nothing loaded or attached.
#include "agent/probe/capabilities.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace wirespan::agent {
namespace {

std::string Shell(const char* cmd) {
  std::string out;
  FILE* p = popen(cmd, "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

TEST(Capabilities, BaselineIsAvailableHere) {
  CapabilityReport report = ProbeCapabilities();
  EXPECT_TRUE(report.BaselineOk());
  for (const char* name : {"btf", "syscall_tracepoints", "ringbuf", "bpf_loop"}) {
    const Capability* c = report.Find(name);
    ASSERT_NE(c, nullptr) << name;
    EXPECT_TRUE(c->required) << name;
    EXPECT_TRUE(c->available) << name << ": " << c->reason;
  }
  for (const char* name : {"uprobes", "sk_msg", "tc"}) {
    EXPECT_TRUE(report.Available(name)) << name << ": " << report.Find(name)->reason;
    EXPECT_FALSE(report.Find(name)->required);
  }
  EXPECT_EQ(report.items.size(), 11u);
}

TEST(Capabilities, UnavailableFeaturesCarryExactReasons) {
  CapabilityReport report = ProbeCapabilities();
  const Capability* kprobes = report.Find("kprobes");
  ASSERT_NE(kprobes, nullptr);
  EXPECT_FALSE(kprobes->available);
  EXPECT_NE(kprobes->reason.find("CONFIG_KPROBES not set"), std::string::npos) << kprobes->reason;
  const Capability* fentry = report.Find("fentry");
  ASSERT_NE(fentry, nullptr);
  EXPECT_FALSE(fentry->available);
  EXPECT_EQ(fentry->reason, "load failed: EPERM (Operation not permitted)");
  const Capability* lockdown = report.Find("lockdown");
  ASSERT_NE(lockdown, nullptr);
  EXPECT_FALSE(lockdown->available);
  EXPECT_NE(lockdown->reason.find("lockdown=integrity"), std::string::npos) << lockdown->reason;
  for (const Capability& c : report.items) {
    if (!c.available) {
      EXPECT_FALSE(c.reason.empty()) << c.name;
      EXPECT_EQ(c.reason.find('\n'), std::string::npos) << c.name;
    }
  }
}

TEST(Capabilities, ProbingLeavesNothingBehind) {
  const std::string tc_before = Shell("tc qdisc show dev lo");
  ProbeCapabilities();
  // Filters and qdiscs release their program from an RCU callback: give the kernel a moment.
  bool programs_gone = false;
  for (int attempt = 0; attempt < 30 && !programs_gone; ++attempt) {
    programs_gone = Shell("bpftool prog show").find("ws_probe") == std::string::npos;
    if (!programs_gone) usleep(100 * 1000);
  }
  EXPECT_TRUE(programs_gone) << Shell("bpftool prog show");
  EXPECT_EQ(Shell("tc filter show dev lo ingress").find("ws_probe"), std::string::npos);
  EXPECT_EQ(Shell("tc qdisc show dev lo"), tc_before);
  EXPECT_EQ(Shell("bpftool cgroup show /sys/fs/cgroup/unified").find("ws_probe"),
            std::string::npos);
  EXPECT_EQ(Shell("grep -c wirespan- /proc/self/mountinfo"), "0\n");
}

}  // namespace
}  // namespace wirespan::agent
