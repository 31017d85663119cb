// Built with -DWIRESPAN_BUILD_BPF=OFF (e.g. a replay-only build): live capture is absent.
#include <cstdio>

#include "agent/cli/commands.h"

namespace wirespan::agent {

int RunAgent(const AgentConfig&, const RunArgs&) {
  std::fprintf(stderr, "wirespan: this build has no BPF capture (WIRESPAN_BUILD_BPF=OFF)\n");
  return 2;
}

int RunDoctor() {
  std::fprintf(stderr, "wirespan: this build has no BPF capture (WIRESPAN_BUILD_BPF=OFF)\n");
  return 1;
}

}  // namespace wirespan::agent
