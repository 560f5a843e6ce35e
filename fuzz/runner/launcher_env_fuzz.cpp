// libFuzzer target for the launcher's parsers of controller and /proc input:
// "KEY=VALUE" environment entries with overrideExpandingAll and $VAR
// expansion, the command-line print, /proc/<pid>/environ and status text.
// Input layout: NUL-separated fields; the first half are env entries, the
// rest command arguments.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runner/launcher/command_line.hpp"
#include "runner/launcher/envvars.hpp"
#include "runner/launcher/process_tree.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace kite::launcher;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  std::vector<std::string> fields;
  std::size_t start = 0;
  while (start <= input.size() && fields.size() < 64) {
    std::size_t end = input.find('\0', start);
    if (end == std::string_view::npos) end = input.size();
    fields.emplace_back(input.substr(start, end - start));
    start = end + 1;
  }
  const std::size_t half = fields.size() / 2;
  std::vector<std::string> env(fields.begin(), fields.begin() + static_cast<std::ptrdiff_t>(half));
  std::vector<std::string> cmd(fields.begin() + static_cast<std::ptrdiff_t>(half), fields.end());

  EnvVars agent;
  agent.put("PATH", "/usr/bin:/bin");
  agent.put("HOME", "/home/agent");
  if (auto overrides = EnvVars::from_assignments(env)) {
    agent.override_expanding_all(*overrides);
    for (const auto& argument : cmd) (void)agent.expand(argument);
    (void)agent.to_assignments();
  }

  std::vector<bool> masks;
  for (std::size_t i = 0; i < cmd.size(); ++i) masks.push_back(i < size && (data[i] & 1) != 0);
  (void)format_command_line(cmd, masks, fields.empty() ? std::nullopt : std::optional<std::string>(fields.front()));
  (void)workdir_label(input);

  (void)process_tree::parse_environ(input);
  (void)process_tree::parse_ppid(input);
  (void)process_tree::parse_state(input);
  return 0;
}
