// User namespace: uid/gid maps written by Kite, the identity switch in the
// sandbox init and the capability drop before the step's execve.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <expected>

#include "sandbox/child_failure.hpp"
#include "sandbox/error.hpp"
#include "sandbox/policy.hpp"

namespace kite::sandbox::user {

struct Mapping {
  bool new_namespace = true;
  uint32_t inside_uid = 0;
  uint32_t inside_gid = 0;
  uint32_t host_uid = 0;
  uint32_t host_gid = 0;
};

unsigned long clone_flag(const NamespacePolicy& ns);

// Resolves the policy against Kite's own ids. Only root may map the step to
// host ids other than its own.
std::expected<Mapping, Error> plan(const UserPolicy& policy, bool new_namespace);

// Writes /proc/<pid>/setgroups, uid_map and gid_map for the new namespace (Kite's side).
std::expected<void, Error> write_maps(pid_t pid, const Mapping& mapping);

// Switches the init to the mapped ids and keeps its capabilities, which it
// needs for the mounts. Child side.
bool become_mapped_ids(const Mapping& mapping, ChildFailure& failure);

// Sets the step's final ids and drops every capability, including the
// bounding and ambient sets, and locks securebits so an inside uid 0 does not
// regain them at execve. Child side, right before execve.
bool drop_privileges(const Mapping& mapping, ChildFailure& failure);

}  // namespace kite::sandbox::user
