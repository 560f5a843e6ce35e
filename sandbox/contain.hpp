// Orchestration of one confined step: the plan Kite prepares before the
// clone, and the child side that applies each module in order.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "sandbox/mnt.hpp"
#include "sandbox/rlimits.hpp"
#include "sandbox/seccomp.hpp"
#include "sandbox/user.hpp"

namespace kite::sandbox::contain {

// Descriptor numbers in the init after the fd shuffle.
enum ChildFd : int { kSync = 3, kError = 4, kStatus = 5, kStatusFile = 6, kLifeline = 7, kFirstFree = 8 };

// Everything the child needs, built by Kite before the clone so the child
// only makes system calls.
struct Prepared {
  unsigned long clone_flags = 0;
  user::Mapping mapping;
  mnt::Plan mounts;
  bool set_hostname = false;
  std::string hostname;
  bool loopback = false;
  rlimits::Plan limits;
  std::shared_ptr<const seccomp::Program> seccomp;  // null: no filter (no_new_privs still set)
  bool detached = false;

  std::vector<std::string> argv;
  std::vector<std::string> envp;
  std::vector<char*> argv_ptrs;       // null-terminated views of argv
  std::vector<char*> envp_ptrs;       // null-terminated views of envp
  std::vector<std::string> exec_candidates;  // argv[0] resolved against the step's PATH

  // Kite-side descriptor numbers the child moves to 0..2 and ChildFd.
  int stdio[3] = {0, 1, 2};
  int sync = -1, error = -1, status = -1, status_file = -1, lifeline = -1;
};

// Fills argv_ptrs, envp_ptrs and exec_candidates from argv and envp.
void finalize_exec(Prepared& prepared);

// Body of the cloned child: fd shuffle, wait for Kite's uid maps, mounts,
// host name, loopback, then start the step and become its init. Never returns.
[[noreturn]] void run_init(const Prepared& prepared);

// Body of the step between fork and execve in the unconfined case is
// posix_spawn's; this is the confined step's: signals, limits, privileges,
// seccomp, execve. Never returns.
[[noreturn]] void run_step(const Prepared& prepared);

}  // namespace kite::sandbox::contain
