// Error values of the sandbox: which system call failed, on what, and errno.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/format.h>

namespace kite::sandbox {

// A failed operation. `call` names the system call or step ("mount",
// "policy"), `detail` its arguments or the offending value, and `err` the
// errno it returned (0 when the failure is not a system call's).
struct Error {
  std::string call;
  std::string detail;
  int err = 0;

  // Formats "mount('proc', '/proc', 'proc') failed: Operation not permitted".
  std::string message() const {
    if (err == 0) return fmt::format("{}: {}", call, detail);
    return fmt::format("{}({}) failed: {}", call, detail, std::strerror(err));
  }
};

inline Error sys_error(std::string call, std::string detail, int err = errno) {
  return Error{std::move(call), std::move(detail), err};
}

inline Error plain_error(std::string what, std::string detail) {
  return Error{std::move(what), std::move(detail), 0};
}

}  // namespace kite::sandbox
