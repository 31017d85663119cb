// Which processes to trace when selecting by executable: matches running processes at start and
// every later exec against the --exe globs.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "agent/sources/event_source.h"

namespace wirespan::agent {

class ProcessSelector {
 public:
  // `trace` is called once per matching tgid (e.g. BpfEventSource::AddTgid).
  ProcessSelector(std::vector<std::string> exe_globs, std::function<void(uint32_t)> trace,
                  std::string proc_root = "/proc");
  // Scans the processes running now.
  void ScanRunning();
  // Checks a process that just exec'd.
  void OnProc(const ProcEvent& event);
  // True when the executable path, its basename, or the script a runtime runs matches a glob.
  bool Matches(uint32_t tgid) const;

 private:
  std::vector<std::string> globs_;
  std::function<void(uint32_t)> trace_;
  std::string proc_root_;
};

}  // namespace wirespan::agent
