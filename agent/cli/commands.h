// The wirespan subcommands; main.cc parses flags and dispatches here.
#pragma once

#include <atomic>
#include <string>

#include "agent/cli/config.h"

namespace wirespan::agent {

struct ReplayArgs {
  std::string path;
  std::string filter;         // BPF capture filter applied to the file
  std::string side = "both";  // both | client | server
};

struct RunArgs {
  double duration_s = 0;  // 0: until SIGINT/SIGTERM
};

// Set by SIGINT/SIGTERM.
std::atomic<bool>& StopRequested();
void InstallStopHandlers();

int RunAgent(const AgentConfig& config, const RunArgs& args);
int RunReplay(const AgentConfig& config, const ReplayArgs& args);
int RunDoctor();

}  // namespace wirespan::agent
