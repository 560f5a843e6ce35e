// Entry points of the kite subcommands. main.cpp dispatches on argv[1];
// each function receives the arguments after the subcommand name and returns
// the process exit status.
#pragma once

#include <span>
#include <string_view>

namespace kite::cmd {

// The agent itself: agent.jar-compatible options (-url, -name, -secret, ...),
// the jenkins/inbound-agent environment variables, or --config FILE.
int agent(std::span<const std::string_view> args);

// kite dump-stream FILE: print a Java serialization stream as a tree.
int dump_stream(std::span<const std::string_view> args);

// kite exec [--policy NAME] [--workspace DIR] -- COMMAND...
int exec(std::span<const std::string_view> args);

// kite check: print what the kernel allows the sandbox to do.
int check(std::span<const std::string_view> args);

}  // namespace kite::cmd
