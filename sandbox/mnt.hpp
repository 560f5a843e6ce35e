// Mount namespace: a read-only view of the root file system with the
// workspace, the caches and extra paths writable, a private /tmp, a fresh
// /proc and a minimal /dev, then pivot_root into it.
#pragma once

#include <cstdint>
#include <expected>
#include <filesystem>
#include <string>
#include <vector>

#include "sandbox/child_failure.hpp"
#include "sandbox/error.hpp"
#include "sandbox/launcher.hpp"
#include "sandbox/policy.hpp"

namespace kite::sandbox::mnt {

// A host directory bound writable at `target` inside the step.
struct WritableBind {
  std::string source;  // host path, resolved
  std::string target;  // path inside the step
};

// Everything the child needs, resolved and validated by Kite beforehand.
struct Plan {
  std::string root;                  // host directory that becomes "/" (read-only)
  std::vector<WritableBind> binds;   // sorted so a parent is mounted before its children
  uint64_t tmp_size_mib = 0;
  std::string cwd;                   // working directory inside the step
};

unsigned long clone_flag(const NamespacePolicy& ns);

// Resolves the policy's root, the workspace, extra writable paths and the
// caches. Creates missing cache directories on the host, and a cache's
// mount point when it is missing in the root file system (an empty directory,
// e.g. ~/.m2).
std::expected<Plan, Error> plan(const Policy& policy, const std::filesystem::path& workspace,
                                const std::vector<std::filesystem::path>& writable_paths,
                                const std::vector<CacheMount>& caches, const std::filesystem::path& cwd);

// Builds the step's file system view and pivots into it. Child side: runs in
// the sandbox init (PID 1 of the new PID namespace, so /proc shows only the
// sandbox's processes).
bool setup(const Plan& plan, ChildFailure& failure);

}  // namespace kite::sandbox::mnt
