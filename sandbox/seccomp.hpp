// Seccomp: the system calls a build has no business making fail with EPERM
// (a readable error, not a kill). Built with libseccomp in Kite, installed
// by the step right before execve.
#pragma once

#include <linux/filter.h>

#include <expected>
#include <memory>
#include <vector>

#include "sandbox/child_failure.hpp"
#include "sandbox/error.hpp"
#include "sandbox/policy.hpp"

namespace kite::sandbox::seccomp {

// A compiled classic BPF program, ready for PR_SET_SECCOMP.
struct Program {
  std::vector<sock_filter> instructions;
};

// Compiles the filter for `policy`; cached per combination of switches.
std::expected<std::shared_ptr<const Program>, Error> compile(const SeccompPolicy& policy);

// Sets no_new_privs and installs `program`. Child side. no_new_privs is set
// even without a filter, so setuid binaries (sudo, su) do not gain privileges.
bool install(const Program* program, ChildFailure& failure);

// Names of the calls the filter rejects for `policy`, for docs and messages.
std::vector<const char*> rejected_calls(const SeccompPolicy& policy);

}  // namespace kite::sandbox::seccomp
