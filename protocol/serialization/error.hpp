// Errors of the serialization reader and writer: what was wrong and where.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace kite::ser {

enum class ErrorCode {
  Truncated,         // the input ended inside a token
  BadMagic,          // the stream does not start with AC ED
  BadVersion,        // stream version other than 5
  UnexpectedToken,   // a byte that is not valid at this position
  BadHandle,         // TC_REFERENCE to an unknown handle or to a node of the wrong kind
  BadUtf,            // malformed modified UTF-8
  BadLength,         // a negative length, or one larger than the remaining input
  BadClassDesc,      // inconsistent descriptor (unknown type code, bad array name, ...)
  DepthExceeded,     // nesting deeper than ReaderOptions::max_depth
  TooManyObjects,    // more handles than ReaderOptions::max_handles
  UnexpectedReset,   // TC_RESET nested inside an object
  WriteAborted,      // TC_EXCEPTION: the writer failed while writing this object
  Unsupported,       // externalizable data in protocol version 1 (not self-delimiting)
  InvalidGraph,      // writer: a node inconsistent with its descriptor
};

std::string_view to_string(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::UnexpectedToken;
  std::size_t offset = 0;  // byte offset in the input (reader) or output (writer)
  std::string message;

  // "<code> at offset N: <message>"
  std::string describe() const;
};

template <class T>
using Result = std::expected<T, Error>;

}  // namespace kite::ser
