// Byte streams between a launched process and the channel. The channel glue
// implements ByteSink over a RemoteOutputStream (honouring its window) and
// ByteSource over a RemoteInputStream; tests implement them in memory.
#pragma once

#include <cstddef>
#include <expected>
#include <string>
#include <string_view>

#include "runner/launcher/error.hpp"

namespace kite::launcher {

// Implementations must accept calls from several threads: a pump and the
// request thread (for example the leaked-descriptor notice) may both write.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // Writes all of `bytes` (raw bytes, not text), blocking while flow control
  // holds them back; returns an error once the sink is dead.
  virtual std::expected<void, Error> write(std::string_view bytes) = 0;
  virtual std::expected<void, Error> flush() { return {}; }
  // Ends the stream (ProxyOutputStream$EOF on a remote sink).
  virtual std::expected<void, Error> close() { return {}; }
};

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads at most `max_bytes`, blocking until at least one byte or the end of
  // the stream is available; an empty string means end of stream.
  virtual std::expected<std::string, Error> read(std::size_t max_bytes) = 0;
  virtual void close() {}
};

}  // namespace kite::launcher
