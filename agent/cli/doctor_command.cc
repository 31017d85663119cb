#include <cstdio>

#include "agent/cli/commands.h"
#include "agent/probe/capabilities.h"

namespace wirespan::agent {

int RunDoctor() {
  const CapabilityReport report = ProbeCapabilities();
  std::printf("%-22s %-12s %s\n", "capability", "status", "detail");
  for (const Capability& c : report.items) {
    const char* status = c.available ? "OK" : (c.required ? "MISSING" : "unavailable");
    std::printf("%-22s %-12s %s%s\n", c.name.c_str(), status, c.required ? "[baseline] " : "",
                c.reason.c_str());
  }
  if (report.BaselineOk()) {
    std::printf("\nbaseline capture path (syscall tracepoints + ring buffer): available\n");
    return 0;
  }
  std::printf("\nbaseline capture path unavailable; missing:");
  for (const auto& m : report.MissingRequired()) std::printf(" %s", m.c_str());
  std::printf("\n");
  return 1;
}

}  // namespace wirespan::agent
