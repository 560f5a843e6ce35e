// libFuzzer target: the .jnlp <argument> extractor used by -jnlpUrl.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "runner/daemon/jnlp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto arguments = kite::daemon::parse_jnlp_arguments(text)) {
    if (arguments->size() > 256) __builtin_trap();
  }
  return 0;
}
