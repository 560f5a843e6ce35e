// Feeds arbitrary bytes to the Ant pattern parser and matcher: the input up
// to the first newline is a comma-separated pattern list, the rest a path.
#include <cstdint>
#include <string_view>

#include "runner/filepath/ant_glob.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace kite::filepath;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  const std::string_view patterns = input.substr(0, newline);
  const std::string_view path = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);

  auto parsed = parse_pattern_list(patterns);
  if (!parsed) return 0;
  for (const auto& pattern : *parsed) {
    for (bool case_sensitive : {true, false}) {
      (void)pattern.matches(path, case_sensitive);
      (void)pattern.could_match_below(path, case_sensitive);
      (void)pattern.matches_all_below(path, case_sensitive);
    }
  }
  return 0;
}
