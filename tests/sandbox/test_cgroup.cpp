// cgroup v2 limits: a memory limit kills the step with a readable reason and
// pids.max contains a fork bomb. Exits 77 (skipped) with the exact reason
// when no cgroup v2 subtree with the memory and pids controllers is
// delegated to this process.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "sandbox/probe.hpp"
#include "tests/sandbox/support.hpp"

using namespace kite::sandbox;
using namespace kite::sandbox::test;

TEST_CASE("memory limit kills with a reason") {
  const fs::path ws = scratch_dir("cg-mem");
  Policy p = builtin("default");
  p.limits.memory_mib = 64;
  const auto r = run(make_request(p, {helper(), "allocate", "512"}, ws));
  REQUIRE(r.launched);
  INFO(r.output << r.status.describe());
  REQUIRE(r.status.reason.has_value());
  CHECK(r.status.reason->limit == "memory");
  CHECK(r.status.reason->message == "killed: memory limit 64 MiB reached (memory.events oom_kill)");
  CHECK(r.status.signal == SIGKILL);
  fs::remove_all(ws);
}

TEST_CASE("pids limit contains a fork bomb") {
  const fs::path ws = scratch_dir("cg-pids");
  Policy p = builtin("default");
  p.limits.max_processes = 16;
  const auto r = run(make_request(p, {helper(), "fork-bomb", "2000"}, ws));
  REQUIRE(r.launched);
  INFO(r.output);
  CHECK(r.output.find("fork: Resource temporarily unavailable") != std::string::npos);
  REQUIRE(r.status.reason.has_value());
  CHECK(r.status.reason->limit == "processes");
  fs::remove_all(ws);
}

int main(int argc, char** argv) {
  const ProbeResult& probe = cached_probe();
  if (!probe.can_confine) {
    std::printf("SKIP: the kernel does not allow the sandbox here\n");
    return 77;
  }
  if (!probe.cgroup_delegated) {
    for (const auto& f : probe.findings) {
      if (f.check == "cgroup v2 delegation") std::printf("SKIP: %s\n", format_finding(f).c_str());
    }
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
