// kite: a native Jenkins inbound agent.
//
// The first argument picks a subcommand (dump-stream, exec, check). Anything
// else, including no argument or an argument starting with '-', runs the
// agent with agent.jar-compatible options, so existing command lines work.
#include <string_view>
#include <vector>

#include "runner/commands.hpp"

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  std::span<const std::string_view> all(args);

  if (!args.empty()) {
    const std::string_view sub = args.front();
    const auto rest = all.subspan(1);
    if (sub == "dump-stream") return kite::cmd::dump_stream(rest);
    if (sub == "exec") return kite::cmd::exec(rest);
    if (sub == "check") return kite::cmd::check(rest);
    if (sub == "agent") return kite::cmd::agent(rest);
  }
  return kite::cmd::agent(all);
}
