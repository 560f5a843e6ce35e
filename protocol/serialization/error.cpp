#include "protocol/serialization/error.hpp"

#include <fmt/format.h>

namespace kite::ser {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::Truncated: return "truncated input";
    case ErrorCode::BadMagic: return "invalid stream magic";
    case ErrorCode::BadVersion: return "unsupported stream version";
    case ErrorCode::UnexpectedToken: return "unexpected token";
    case ErrorCode::BadHandle: return "invalid handle";
    case ErrorCode::BadUtf: return "invalid modified UTF-8";
    case ErrorCode::BadLength: return "invalid length";
    case ErrorCode::BadClassDesc: return "invalid class descriptor";
    case ErrorCode::DepthExceeded: return "nesting too deep";
    case ErrorCode::TooManyObjects: return "too many objects";
    case ErrorCode::UnexpectedReset: return "unexpected reset";
    case ErrorCode::WriteAborted: return "write aborted";
    case ErrorCode::Unsupported: return "unsupported";
    case ErrorCode::InvalidGraph: return "invalid object graph";
  }
  return "unknown error";
}

std::string Error::describe() const {
  return fmt::format("{} at offset {}: {}", to_string(code), offset, message);
}

}  // namespace kite::ser
