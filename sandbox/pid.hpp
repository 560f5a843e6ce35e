// PID namespace and process creation without glibc's fork().
#pragma once

#include <sys/types.h>

#include "sandbox/policy.hpp"

namespace kite::sandbox::pid {

unsigned long clone_flag(const NamespacePolicy& ns);

// Calls clone() with fork semantics (same stack, SIGCHLD on exit) plus `flags`.
// glibc's fork() takes the malloc locks around the call and a raw clone does
// not. So the child must stick to system calls, as every caller here does.
// Returns the child's pid in the parent, 0 in the child, -1 with errno.
pid_t clone_process(unsigned long flags);

}  // namespace kite::sandbox::pid
