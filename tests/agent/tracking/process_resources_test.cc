#include "agent/tracking/process_resources.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace wirespan::agent {
namespace {

ProcessFacts Facts(std::vector<std::string> argv, std::string exe = "/usr/bin/python3.11") {
  ProcessFacts f;
  f.argv = std::move(argv);
  f.exe_path = std::move(exe);
  f.comm = "python3";
  return f;
}

TEST(ServiceName, OwnOtelServiceNameWins) {
  ProcessFacts f = Facts({"python3", "worker.py"});
  f.otel_service_name = "billing";
  f.otel_resource_attributes = "service.name=other";
  EXPECT_EQ(DeriveServiceName(f), "billing");
}

TEST(ServiceName, FromResourceAttributesPercentDecoded) {
  ProcessFacts f = Facts({"python3", "worker.py"});
  f.otel_resource_attributes = "deployment.environment=prod, service.name=shop%20api";
  EXPECT_EQ(DeriveServiceName(f), "shop api");
}

TEST(ServiceName, ApplicationNotInterpreter) {
  EXPECT_EQ(DeriveServiceName(Facts({"/usr/bin/python3", "/srv/app/worker.py"})), "worker");
  EXPECT_EQ(DeriveServiceName(Facts({"python3", "-m", "uvicorn", "app:app", "--port", "8000"})),
            "app");
  EXPECT_EQ(DeriveServiceName(Facts({"/usr/bin/uvicorn", "shop.main:app"}, "/usr/bin/python3")),
            "shop");
  EXPECT_EQ(DeriveServiceName(Facts({"gunicorn", "-w", "4", "orders.wsgi:application"})),
            "orders");
  EXPECT_EQ(DeriveServiceName(Facts({"python3", "-m", "http.server", "8000"})), "http.server");
  EXPECT_EQ(DeriveServiceName(Facts({"celery", "-A", "tasks", "worker"})), "tasks");
}

TEST(ServiceName, OtherProgramsByExecutable) {
  EXPECT_EQ(DeriveServiceName(Facts({"curl", "-s", "http://x"}, "/usr/bin/curl")), "curl");
  EXPECT_EQ(DeriveServiceName(Facts({"nginx: worker process"}, "/usr/sbin/nginx")), "nginx");
}

TEST(ProcResources, DescribesThisProcess) {
  ProcResourceProvider provider;
  auto r = provider.ForProcess(static_cast<uint32_t>(getpid()));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(*r->attributes.FindInt("process.pid"), getpid());
  EXPECT_EQ(*r->attributes.FindString("process.executable.name"), "connection_tracker_test");
  EXPECT_EQ(*r->attributes.FindString("telemetry.distro.name"), "wirespan");
  EXPECT_NE(r->attributes.FindString("host.name"), nullptr);
  EXPECT_EQ(provider.ForProcess(static_cast<uint32_t>(getpid())), r) << "cached";
}

}  // namespace
}  // namespace wirespan::agent
