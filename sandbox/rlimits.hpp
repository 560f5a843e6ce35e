// Resource limits set with setrlimit() in the step, for what the step's
// cgroup does not cover (and for everything when cgroups are not delegated).
#pragma once

#include <sys/resource.h>

#include <optional>
#include <vector>

#include "sandbox/child_failure.hpp"
#include "sandbox/launcher.hpp"
#include "sandbox/policy.hpp"

namespace kite::sandbox::rlimits {

struct Entry {
  int resource;
  rlim_t value;
  const char* name;
};

struct Plan {
  std::vector<Entry> entries;
};

// `cgroup_limits` is true when the step's cgroup enforces memory and
// processes, so RLIMIT_AS and RLIMIT_NPROC are left alone.
Plan plan(const LimitPolicy& limits, bool cgroup_limits);

// Applies the plan. Child side.
bool apply(const Plan& plan, ChildFailure& failure);

// The limit a terminating signal points to (SIGXCPU: CPU time, SIGXFSZ: file size).
std::optional<KillReason> reason_for_signal(int signal, const LimitPolicy& limits);

}  // namespace kite::sandbox::rlimits
