// Network namespace: the host's network (no namespace) or none, a new
// namespace with only the loopback interface up.
#pragma once

#include "sandbox/child_failure.hpp"
#include "sandbox/policy.hpp"

namespace kite::sandbox::net {

unsigned long clone_flag(const NamespacePolicy& ns);

// Brings "lo" up in the new network namespace. Child side.
bool bring_up_loopback(ChildFailure& failure);

}  // namespace kite::sandbox::net
