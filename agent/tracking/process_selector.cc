#include "agent/tracking/process_selector.h"

#include <dirent.h>
#include <fnmatch.h>

#include "agent/tracking/process_resources.h"

namespace wirespan::agent {

ProcessSelector::ProcessSelector(std::vector<std::string> exe_globs,
                                 std::function<void(uint32_t)> trace, std::string proc_root)
    : globs_(std::move(exe_globs)), trace_(std::move(trace)), proc_root_(std::move(proc_root)) {}

bool ProcessSelector::Matches(uint32_t tgid) const {
  const ProcessFacts facts = ReadProcessFacts(tgid, proc_root_);
  std::vector<std::string> candidates;
  if (!facts.exe_path.empty()) {
    candidates.push_back(facts.exe_path);
    candidates.push_back(facts.exe_path.substr(facts.exe_path.rfind('/') + 1));
  }
  if (!facts.comm.empty()) candidates.push_back(facts.comm);
  // Interpreted programs are known by their script: `--exe 'uvicorn'` or `--exe '*worker.py'`.
  for (size_t i = 1; i < facts.argv.size() && i < 4; ++i) {
    const std::string& a = facts.argv[i];
    if (a.empty() || a[0] == '-') continue;
    candidates.push_back(a);
    candidates.push_back(a.substr(a.rfind('/') + 1));
  }
  for (const auto& glob : globs_) {
    for (const auto& c : candidates) {
      if (fnmatch(glob.c_str(), c.c_str(), 0) == 0) return true;
    }
  }
  return false;
}

void ProcessSelector::ScanRunning() {
  DIR* dir = opendir(proc_root_.c_str());
  if (dir == nullptr) return;
  while (dirent* e = readdir(dir)) {
    char* end = nullptr;
    const unsigned long pid = std::strtoul(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0') continue;
    if (Matches(static_cast<uint32_t>(pid))) trace_(static_cast<uint32_t>(pid));
  }
  closedir(dir);
}

void ProcessSelector::OnProc(const ProcEvent& event) {
  if (event.exec && Matches(event.tgid)) trace_(event.tgid);
}

}  // namespace wirespan::agent
