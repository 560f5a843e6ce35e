// Start-up probe: what the kernel and the container runtime let the sandbox
// do, one finding per check with the exact fix.
#pragma once

#include <string>
#include <vector>

#include "sandbox/policy.hpp"

namespace kite::sandbox {

struct Finding {
  enum class Level { ok, info, warning, error };
  Level level = Level::ok;
  std::string check;    // "user namespaces", "cgroup v2 delegation", ...
  std::string message;  // what was found
  std::string fix;      // the exact sysctl, AppArmor profile or securityContext; empty when ok
};

struct ProbeResult {
  std::vector<Finding> findings;
  bool can_confine = false;         // user+mount+pid namespaces, a fresh /proc and seccomp all work
  bool can_isolate_network = false; // a new network namespace with loopback works
  bool cgroup_delegated = false;    // a cgroup v2 subtree with memory and pids is writable
  bool cgroup_cpu = false;          // ... and the cpu controller is available there too
  std::string cgroup_dir;           // the directory step cgroups are created in, when delegated
};

// Runs every check in short-lived child processes. Takes a few milliseconds.
ProbeResult probe();

// The probe of this process, run once on first use (thread-safe).
const ProbeResult& cached_probe();

// Formats one finding as a single line: "ok: user namespaces: ..." or
// "error: ...: ... Fix: sysctl -w ...".
std::string format_finding(const Finding& finding);

}  // namespace kite::sandbox
