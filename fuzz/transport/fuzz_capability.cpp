// libFuzzer target: the X-Remoting-Capability header parser and base64.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/transport/capability.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto mask = kite::transport::parse_capability_header(text)) {
    if (kite::transport::parse_capability_header(kite::transport::encode_capability_header(*mask)).value() != *mask) {
      __builtin_trap();
    }
  }
  if (auto decoded = kite::transport::base64_decode(text)) {
    if (kite::transport::base64_encode(*decoded) != text) __builtin_trap();
  }
  return 0;
}
