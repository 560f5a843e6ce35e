// Error value shared by the launcher and the durable-task parts.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace kite::launcher {

enum class ErrorKind {
  kInvalidArgument,  // the controller sent a value Kite cannot use (no '=' in an env entry, ...)
  kSystem,           // a system call failed; errno_value is its errno
  kInterrupted,      // the request was cancelled (Request$Cancel) while waiting
  kIo,               // a sink or source failed (channel closed, write refused)
  kUnsupported,      // the request needs something Kite does not implement
};

struct Error {
  ErrorKind kind = ErrorKind::kSystem;
  std::string message;  // complete sentence naming the value or path involved
  int errno_value = 0;  // 0 unless kind == kSystem

  static Error system(std::string what, int err) {
    return Error{ErrorKind::kSystem, std::move(what) + ": " + std::strerror(err), err};
  }
  static Error invalid(std::string what) { return Error{ErrorKind::kInvalidArgument, std::move(what), 0}; }
  static Error io(std::string what) { return Error{ErrorKind::kIo, std::move(what), 0}; }
  static Error interrupted(std::string what) { return Error{ErrorKind::kInterrupted, std::move(what), 0}; }
  static Error unsupported(std::string what) { return Error{ErrorKind::kUnsupported, std::move(what), 0}; }
};

}  // namespace kite::launcher
