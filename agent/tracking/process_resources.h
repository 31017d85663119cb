// Resource identity of traced processes: who is this span from?
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

#include "agent/tracking/connection_tracker.h"

namespace wirespan::agent {

// What /proc says about a process, with the parts identity is built from.
struct ProcessFacts {
  uint32_t pid = 0;
  std::string comm;      // /proc/PID/comm
  std::string exe_path;  // readlink /proc/PID/exe
  std::vector<std::string> argv;
  std::string otel_service_name;         // OTEL_SERVICE_NAME in its environment
  std::string otel_resource_attributes;  // OTEL_RESOURCE_ATTRIBUTES in its environment
  std::string container_id;              // from /proc/PID/cgroup, when in a container
};

// Reads the facts; missing pieces (a process that exited, no permission) are left empty.
ProcessFacts ReadProcessFacts(uint32_t pid, const std::string& proc_root = "/proc");

// The service name a user expects: OTEL_SERVICE_NAME, else the service in
// OTEL_RESOURCE_ATTRIBUTES, else the application a runtime runs (uvicorn app:main -> "app",
// python3 worker.py -> "worker", gunicorn svc.wsgi -> "svc"), else the executable name.
std::string DeriveServiceName(const ProcessFacts& facts);

// Resources from /proc, cached per tgid until the process execs or exits.
class ProcResourceProvider : public ResourceProvider {
 public:
  explicit ProcResourceProvider(std::string proc_root = "/proc");
  std::shared_ptr<const model::Resource> ForProcess(uint32_t tgid) override;
  void Forget(uint32_t tgid) override;

 private:
  std::string proc_root_;
  std::string host_name_;
  std::mutex mu_;
  std::unordered_map<uint32_t, std::shared_ptr<const model::Resource>> cache_;
};

// One fixed identity per synthetic process id, for replays and tests.
class StaticResourceProvider : public ResourceProvider {
 public:
  explicit StaticResourceProvider(std::string service_prefix)
      : prefix_(std::move(service_prefix)) {}
  std::shared_ptr<const model::Resource> ForProcess(uint32_t tgid) override;

 private:
  std::string prefix_;
  std::unordered_map<uint32_t, std::shared_ptr<const model::Resource>> cache_;
};

}  // namespace wirespan::agent
