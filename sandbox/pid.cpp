#include "sandbox/pid.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace kite::sandbox::pid {

unsigned long clone_flag(const NamespacePolicy& ns) { return ns.pid ? CLONE_NEWPID : 0; }

pid_t clone_process(unsigned long flags) {
  // x86_64 and aarch64 share the argument order (flags, stack, parent_tid, child_tid, tls).
  return static_cast<pid_t>(::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, 0));
}

}  // namespace kite::sandbox::pid
