// The sandbox init: PID 1 of the step's PID namespace.
//
// PID 1 of a namespace must stay alive while the namespace is used: when it
// exits the kernel kills every other process in it (pid_namespaces(7)). Kite
// relies on that: the init exits when the step exits or when Kite goes away,
// and takes the whole tree with it.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace kite::sandbox::init {

// The step's end, as the init reports it to Kite over the status pipe.
struct StatusRecord {
  int32_t code = -1;    // exit code, or -1
  int32_t signal = 0;   // terminating signal, or 0
};

struct Fds {
  int status = -1;       // pipe to Kite: one StatusRecord when the step ends
  int status_file = -1;  // host file: "exit N\n" or "signal N\n" (detached steps)
  int lifeline = -1;     // read end of a pipe whose write end only Kite holds; -1 when detached
};

// Reaps every child, forwards SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and
// SIGUSR2 from Kite to every process of the namespace, and exits when `step`
// exits or the lifeline closes (Kite died). Expects all signals blocked.
// Never returns. Child side.
[[noreturn]] void run(pid_t step, const Fds& fds);

}  // namespace kite::sandbox::init
