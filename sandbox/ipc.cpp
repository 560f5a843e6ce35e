#include "sandbox/ipc.hpp"

#include <sched.h>

namespace kite::sandbox::ipc {

unsigned long clone_flag(const NamespacePolicy& ns) { return ns.ipc ? CLONE_NEWIPC : 0; }

}  // namespace kite::sandbox::ipc
