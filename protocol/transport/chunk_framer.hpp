// Remoting's chunked framing (hudson.remoting.ChunkHeader): a command is cut
// into chunks, each with a 2-byte big-endian header whose bit 15 says that
// more chunks of the same command follow and whose bits 14..0 give the chunk
// payload length.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "protocol/transport/command_transport.hpp"

namespace kite::transport {

// Encodes a chunk header for `length` payload bytes (at most kMaxChunkLength).
std::array<std::byte, 2> encode_chunk_header(std::size_t length, bool more);

// Cuts `command` into chunks of at most `max_payload` bytes and calls
// `emit(header, payload)` for each, in order. An empty command yields one
// empty last chunk. `max_payload` must be 1..kMaxChunkLength.
void for_each_chunk(std::span<const std::byte> command, std::size_t max_payload,
                    const std::function<void(std::array<std::byte, 2> header,
                                             std::span<const std::byte> payload)>& emit);

struct ChunkError {
  std::string message;
  std::uint64_t offset = 0;  // stream offset of the chunk header that broke the limit
};

// Joins a continuous stream of chunks back into commands. Bytes may arrive in
// pieces of any size; chunk headers may be split across pieces.
class ChunkReader {
 public:
  // `max_command` bounds the size of one reassembled command.
  explicit ChunkReader(std::size_t max_command) : max_command_(max_command) {}

  // Consumes `data` and calls `on_command` for each command completed by it.
  // After an error the reader is unusable and every later call fails.
  std::expected<void, ChunkError> feed(std::span<const std::byte> data,
                                       const std::function<void(std::vector<std::byte>)>& on_command);

  // True when no partial chunk or command is buffered.
  bool idle() const { return header_bytes_ == 0 && remaining_ == 0 && command_.empty() && !in_command_; }

 private:
  std::size_t max_command_;
  std::array<std::byte, 2> header_{};
  std::size_t header_bytes_ = 0;  // header bytes collected so far (0 or 1 between calls)
  std::size_t remaining_ = 0;     // payload bytes still expected for the current chunk
  bool more_ = false;             // more flag of the current chunk
  bool in_command_ = false;       // a chunk of the current command has been seen
  std::vector<std::byte> command_;
  std::uint64_t offset_ = 0;      // bytes consumed since the start of the stream
  std::uint64_t header_offset_ = 0;
  bool failed_ = false;
};

}  // namespace kite::transport
