#include "protocol/transport/chunk_framer.hpp"

#include <algorithm>
#include <cassert>

#include <fmt/format.h>

namespace kite::transport {

std::array<std::byte, 2> encode_chunk_header(std::size_t length, bool more) {
  assert(length <= kMaxChunkLength);
  const auto high = static_cast<unsigned>((length >> 8) & 0x7f) | (more ? 0x80u : 0u);
  return {std::byte(high), std::byte(length & 0xff)};
}

void for_each_chunk(std::span<const std::byte> command, std::size_t max_payload,
                    const std::function<void(std::array<std::byte, 2>, std::span<const std::byte>)>& emit) {
  assert(max_payload >= 1 && max_payload <= kMaxChunkLength);
  std::size_t pos = 0;
  do {
    const std::size_t length = std::min(max_payload, command.size() - pos);
    const bool more = pos + length < command.size();
    emit(encode_chunk_header(length, more), command.subspan(pos, length));
    pos += length;
  } while (pos < command.size());
}

std::expected<void, ChunkError> ChunkReader::feed(std::span<const std::byte> data,
                                                  const std::function<void(std::vector<std::byte>)>& on_command) {
  if (failed_) return std::unexpected(ChunkError{"chunk stream already failed", offset_});

  std::size_t pos = 0;
  while (pos < data.size()) {
    if (remaining_ == 0 && header_bytes_ < 2) {
      // Collect the 2-byte header, which may straddle two calls.
      if (header_bytes_ == 0) header_offset_ = offset_ + pos;
      header_[header_bytes_++] = data[pos++];
      if (header_bytes_ < 2) continue;

      const auto b0 = std::to_integer<unsigned>(header_[0]);
      const auto b1 = std::to_integer<unsigned>(header_[1]);
      more_ = (b0 & 0x80) != 0;
      remaining_ = ((b0 & 0x7f) << 8) | b1;
      in_command_ = true;
      if (command_.size() + remaining_ > max_command_) {
        failed_ = true;
        return std::unexpected(ChunkError{
            fmt::format("command exceeds the limit of {} bytes ({} buffered, chunk of {} bytes)", max_command_,
                        command_.size(), remaining_),
            header_offset_});
      }
    }

    const std::size_t take = std::min(remaining_, data.size() - pos);
    command_.insert(command_.end(), data.begin() + static_cast<std::ptrdiff_t>(pos),
                    data.begin() + static_cast<std::ptrdiff_t>(pos + take));
    pos += take;
    remaining_ -= take;

    if (remaining_ == 0) {
      header_bytes_ = 0;
      if (!more_) {
        in_command_ = false;
        std::vector<std::byte> done;
        done.swap(command_);
        on_command(std::move(done));
      }
    }
  }
  offset_ += data.size();
  return {};
}

}  // namespace kite::transport
