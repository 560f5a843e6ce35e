// Placeholder until this subcommand lands; it fails loudly instead of pretending.
#include <cstdio>
#include "runner/commands.hpp"
namespace kite::cmd {
int dump_stream(std::span<const std::string_view>) {
  std::fputs("kite: 'dump_stream' is not built yet\n", stderr);
  return 2;
}
}  // namespace kite::cmd
