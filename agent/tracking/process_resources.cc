#include "agent/tracking/process_resources.h"

#include <unistd.h>

#include <fstream>

#include "model/key_value_list.h"
#include "wirespan/version.h"

namespace wirespan::agent {
namespace {

std::string ReadFile(const std::string& path, size_t max_bytes = 1 << 20) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::string out(max_bytes, '\0');
  in.read(out.data(), static_cast<std::streamsize>(max_bytes));
  out.resize(static_cast<size_t>(in.gcount()));
  return out;
}

std::vector<std::string> SplitNul(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find('\0', start);
    if (end == std::string::npos) end = s.size();
    out.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string Basename(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string StripSuffix(std::string s, std::string_view suffix) {
  if (s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0) {
    s.resize(s.size() - suffix.size());
  }
  return s;
}

bool IsPython(const std::string& name) { return name.rfind("python", 0) == 0; }

// The first argument that names the application: a script, a module, or an app spec.
std::string ApplicationFromArgs(const std::vector<std::string>& argv) {
  if (argv.empty()) return {};
  size_t i = 1;
  std::string runner = Basename(argv[0]);
  bool module = false;  // python3 -m MODULE: the module is the application
  if (IsPython(runner)) {
    // python3 [-X opt] [-m module | script.py] ...
    for (; i < argv.size(); ++i) {
      const std::string& a = argv[i];
      if (a == "-m" && i + 1 < argv.size()) {
        runner = argv[i + 1];
        module = true;
        i += 2;
        break;
      }
      if (a == "-c") return {};
      if (a.empty() || a[0] != '-') {
        return StripSuffix(Basename(a), ".py");
      }
      if (a == "-X" || a == "-W") ++i;  // options with a separate value
    }
    runner = Basename(runner);
  }
  // Servers that take an application spec: uvicorn app:main, gunicorn pkg.wsgi:app, celery -A x.
  static const char* kAppRunners[] = {"uvicorn", "gunicorn", "hypercorn", "daphne",
                                      "celery",  "flask",    "fastapi"};
  bool is_runner = false;
  for (const char* r : kAppRunners) is_runner |= runner == r;
  // Anything else is named by its executable (argv[0] may be rewritten, e.g. by nginx).
  if (!is_runner) return module ? runner : std::string();
  for (; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "-A" || a == "--app") {
      if (i + 1 < argv.size()) return argv[i + 1].substr(0, argv[i + 1].find_first_of(".:"));
    }
    if (!a.empty() && a[0] != '-' && a.find(':') != std::string::npos) {
      std::string module = a.substr(0, a.find(':'));
      const size_t dot = module.find('.');
      return dot == std::string::npos ? module : module.substr(0, dot);
    }
  }
  return runner;
}

std::string ParseResourceAttribute(const std::string& attrs, std::string_view key) {
  auto items = model::ParseKeyValueList(attrs);
  if (!items.ok()) return {};  // the process's own malformed setting: fall back to other names
  for (const auto& [k, v] : *items) {
    if (k == key) return v;
  }
  return {};
}

std::string ContainerIdFromCgroup(const std::string& cgroup) {
  // docker-<64 hex>.scope, /docker/<64 hex>, cri-containerd-<hex>.scope, /kubepods/.../<hex>
  auto is_hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
  for (size_t i = 0; i + 64 <= cgroup.size(); ++i) {
    if (i > 0 && is_hex(cgroup[i - 1])) continue;
    size_t n = 0;
    while (i + n < cgroup.size() && is_hex(cgroup[i + n])) ++n;
    if (n == 64) return cgroup.substr(i, 64);
    i += n;
  }
  return {};
}

}  // namespace

ProcessFacts ReadProcessFacts(uint32_t pid, const std::string& proc_root) {
  ProcessFacts f;
  f.pid = pid;
  const std::string dir = proc_root + "/" + std::to_string(pid);
  f.comm = ReadFile(dir + "/comm", 64);
  while (!f.comm.empty() && (f.comm.back() == '\n' || f.comm.back() == '\0')) f.comm.pop_back();
  char buf[4096];
  const ssize_t n = readlink((dir + "/exe").c_str(), buf, sizeof(buf) - 1);
  if (n > 0) f.exe_path.assign(buf, static_cast<size_t>(n));
  f.argv = SplitNul(ReadFile(dir + "/cmdline", 64 << 10));
  // Only the two OTEL variables are kept: the environment may hold secrets.
  for (const std::string& kv : SplitNul(ReadFile(dir + "/environ", 256 << 10))) {
    if (kv.rfind("OTEL_SERVICE_NAME=", 0) == 0) f.otel_service_name = kv.substr(18);
    if (kv.rfind("OTEL_RESOURCE_ATTRIBUTES=", 0) == 0) f.otel_resource_attributes = kv.substr(25);
  }
  f.container_id = ContainerIdFromCgroup(ReadFile(dir + "/cgroup", 64 << 10));
  return f;
}

std::string DeriveServiceName(const ProcessFacts& facts) {
  if (!facts.otel_service_name.empty()) return facts.otel_service_name;
  std::string from_attrs = ParseResourceAttribute(facts.otel_resource_attributes, "service.name");
  if (!from_attrs.empty()) return from_attrs;
  std::string app = ApplicationFromArgs(facts.argv);
  if (!app.empty()) return app;
  if (!facts.exe_path.empty()) return Basename(facts.exe_path);
  return facts.comm.empty() ? "unknown_service" : facts.comm;
}

ProcResourceProvider::ProcResourceProvider(std::string proc_root)
    : proc_root_(std::move(proc_root)) {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) == 0) host_name_ = host;
}

std::shared_ptr<const model::Resource> ProcResourceProvider::ForProcess(uint32_t tgid) {
  std::lock_guard lock(mu_);
  if (auto it = cache_.find(tgid); it != cache_.end()) return it->second;
  ProcessFacts facts = ReadProcessFacts(tgid, proc_root_);
  auto resource = std::make_shared<model::Resource>();
  auto& a = resource->attributes;
  a.Set("service.name", DeriveServiceName(facts));
  a.Set("service.instance.id", host_name_ + "/" + std::to_string(tgid));
  a.Set("process.pid", int64_t{tgid});
  const std::string exe_name = facts.exe_path.empty() ? facts.comm : Basename(facts.exe_path);
  if (!exe_name.empty()) a.Set("process.executable.name", exe_name);
  if (!facts.exe_path.empty()) a.Set("process.executable.path", facts.exe_path);
  if (IsPython(exe_name)) {
    a.Set("process.runtime.name", "cpython");
    const std::string version = exe_name.substr(6);  // python3.11 -> 3.11
    if (!version.empty()) a.Set("process.runtime.version", version);
  }
  if (!host_name_.empty()) a.Set("host.name", host_name_);
  if (!facts.container_id.empty()) a.Set("container.id", facts.container_id);
  a.Set("telemetry.distro.name", "wirespan");
  a.Set("telemetry.distro.version", WIRESPAN_VERSION);
  std::shared_ptr<const model::Resource> out = std::move(resource);
  if (cache_.size() > 65536) cache_.clear();  // bounded; entries are cheap to rebuild
  cache_[tgid] = out;
  return out;
}

void ProcResourceProvider::Forget(uint32_t tgid) {
  std::lock_guard lock(mu_);
  cache_.erase(tgid);
}

std::shared_ptr<const model::Resource> StaticResourceProvider::ForProcess(uint32_t tgid) {
  if (auto it = cache_.find(tgid); it != cache_.end()) return it->second;
  auto resource = std::make_shared<model::Resource>();
  resource->attributes.Set("service.name", prefix_ + "-" + std::to_string(tgid));
  resource->attributes.Set("process.pid", int64_t{tgid});
  resource->attributes.Set("telemetry.distro.name", "wirespan");
  resource->attributes.Set("telemetry.distro.version", WIRESPAN_VERSION);
  cache_[tgid] = resource;
  return resource;
}

}  // namespace wirespan::agent
