// UTS namespace: the step's own host name.
#pragma once

#include <string>

#include "sandbox/child_failure.hpp"
#include "sandbox/policy.hpp"

namespace kite::sandbox::uts {

unsigned long clone_flag(const NamespacePolicy& ns);

// Sets the host name inside the new UTS namespace. Child side.
bool set_hostname(const std::string& hostname, ChildFailure& failure);

}  // namespace kite::sandbox::uts
