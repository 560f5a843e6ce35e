// libFuzzer target: the WebSocket frame reader on arbitrary server bytes.
#include <cstddef>
#include <cstdint>

#include "protocol/transport/ws_frame.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t step = 1 + data[0] % 32;
  const auto* bytes = reinterpret_cast<const std::byte*>(data + 1);
  const std::size_t length = size - 1;

  kite::transport::ws::FrameReader reader(4096, 16384);
  for (std::size_t pos = 0; pos < length; pos += step) {
    const std::size_t n = pos + step < length ? step : length - pos;
    reader.append(std::span(bytes + pos, n));
    for (;;) {
      auto event = reader.next();
      if (!event) return 0;
      if (!*event) break;
      if ((*event)->data.size() > 4096) __builtin_trap();
    }
  }
  return 0;
}
