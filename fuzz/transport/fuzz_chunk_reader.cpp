// libFuzzer target: the remoting chunk reader on arbitrary streams, fed in
// pieces whose sizes come from the input itself.
#include <cstddef>
#include <cstdint>

#include "protocol/transport/chunk_framer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t step = 1 + data[0] % 64;
  const auto* bytes = reinterpret_cast<const std::byte*>(data + 1);
  const std::size_t length = size - 1;

  kite::transport::ChunkReader reader(64 * 1024);
  std::size_t total = 0;
  for (std::size_t pos = 0; pos < length; pos += step) {
    const std::size_t n = pos + step < length ? step : length - pos;
    auto fed = reader.feed(std::span(bytes + pos, n), [&](std::vector<std::byte> command) {
      total += command.size();
      if (command.size() > 64 * 1024) __builtin_trap();
    });
    if (!fed) break;
  }
  if (total > length) __builtin_trap();  // commands never hold more than the input
  return 0;
}
