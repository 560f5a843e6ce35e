// Placeholder until this subcommand lands; it fails loudly instead of pretending.
#include <cstdio>
#include "runner/commands.hpp"
namespace kite::cmd {
int exec(std::span<const std::string_view>) {
  std::fputs("kite: 'exec' is not built yet\n", stderr);
  return 2;
}
int check(std::span<const std::string_view>) {
  std::fputs("kite: 'check' is not built yet\n", stderr);
  return 2;
}
}  // namespace kite::cmd
