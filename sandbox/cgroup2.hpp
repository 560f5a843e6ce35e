// cgroup v2: one cgroup per step under a delegated subtree, with memory.max,
// cpu.max and pids.max, the kill reason from memory.events and pids.events,
// and cgroup.kill for the whole tree.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <expected>
#include <optional>
#include <string>

#include "sandbox/error.hpp"
#include "sandbox/launcher.hpp"
#include "sandbox/policy.hpp"

namespace kite::sandbox::cgroup2 {

// Location of the delegated subtree for step cgroups, found by find_delegated().
struct Delegation {
  std::string dir;          // e.g. /sys/fs/cgroup/system.slice/kite.service/steps
  bool memory = false;
  bool pids = false;
  bool cpu = false;
};

// Locates Kite's own cgroup in the cgroup v2 hierarchy and makes a subtree
// for steps when Kite may write there (systemd Delegate=yes, a writable
// container cgroup, or root). Moves Kite into a "kite" leaf first, because a
// cgroup with processes cannot enable controllers for its children (the
// "no internal processes" rule, cgroups(7)). The error names the file and cause otherwise.
std::expected<Delegation, Error> find_delegated();

// A step's cgroup. Removed by remove().
struct StepCgroup {
  std::string dir;
  LimitPolicy limits;
};

// Creates <delegation.dir>/<name> and writes the limits.
std::expected<StepCgroup, Error> create(const Delegation& delegation, const std::string& name,
                                        const LimitPolicy& limits);

// Moves `pid` into the cgroup.
std::expected<void, Error> attach(const StepCgroup& cgroup, pid_t pid);

// Reads memory.events and pids.events: "killed: memory limit 512 MiB reached
// (memory.events oom_kill)" or "process limit 64 reached (pids.events max)".
std::optional<KillReason> kill_reason(const StepCgroup& cgroup);

// Kills every process in the cgroup (cgroup.kill, Linux 5.14+).
std::expected<void, Error> kill_all(const StepCgroup& cgroup);

// Removes the cgroup directory once it is empty.
std::expected<void, Error> remove(const StepCgroup& cgroup);

}  // namespace kite::sandbox::cgroup2
