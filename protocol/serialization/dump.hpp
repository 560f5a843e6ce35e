// Readable tree of a decoded stream, for `kite dump-stream` and test failures.
#pragma once

#include <cstddef>
#include <string>

#include "protocol/serialization/value.hpp"

namespace kite::ser {

struct DumpOptions {
  // Decode byte[] values that hold a whole stream (remoting's nested
  // payloads) and print them inline, with their class-loader tags.
  bool nested_payloads = true;
  // Bytes of block data and byte[] shown in hex before "...".
  std::size_t max_bytes_shown = 64;
};

// One line per token: byte offset, token, handle, class and field names, values.
std::string dump(const Stream& stream, const DumpOptions& options = {});

}  // namespace kite::ser
