// IPC namespace: System V IPC objects and POSIX message queues of the step
// are its own. Nothing to configure after the clone; the module exists so
// each namespace has one place.
#pragma once

#include "sandbox/policy.hpp"

namespace kite::sandbox::ipc {

unsigned long clone_flag(const NamespacePolicy& ns);

}  // namespace kite::sandbox::ipc
