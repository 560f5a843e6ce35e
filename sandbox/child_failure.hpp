// Failure record of the sandboxed child processes (the init and the step
// before execve). They run between clone and execve in a copy of a possibly
// multithreaded Kite, so they may not allocate or log: each failing system
// call is written here and sent to Kite over a pipe, and Kite logs it.
#pragma once

#include <cstdarg>
#include <cstdio>

namespace kite::sandbox {

struct ChildFailure {
  char call[48] = {};
  char args[464] = {};
  int err = 0;
  bool set = false;
};

// Records the first failure; later ones are dropped. Uses only vsnprintf on
// a caller-owned buffer, which does not allocate for the %s/%d/%x formats used.
[[gnu::format(printf, 4, 5)]] inline bool fail(ChildFailure& out, const char* call, int err,
                                               const char* args_format, ...) {
  if (out.set) return false;
  out.set = true;
  out.err = err;
  std::snprintf(out.call, sizeof out.call, "%s", call);
  va_list ap;
  va_start(ap, args_format);
  std::vsnprintf(out.args, sizeof out.args, args_format, ap);
  va_end(ap);
  return false;
}

}  // namespace kite::sandbox
