#include "runner/launcher/command_line.hpp"

#include <algorithm>

namespace kite::launcher {
namespace {

// Length of the prefix before the first Java line terminator (\n, \r, U+0085,
// U+2028, U+2029), which '.' in a Java regular expression does not match.
std::size_t first_line_length(std::string_view text) {
  std::size_t end = text.size();
  const std::string_view terminators[] = {"\n", "\r", "\xC2\x85", "\xE2\x80\xA8", "\xE2\x80\xA9"};
  for (auto terminator : terminators) end = std::min(end, text.find(terminator));
  return end;
}

}  // namespace

std::string workdir_label(std::string_view work_dir) {
  const std::size_t line = first_line_length(work_dir);
  // "^.+[/\\]" is greedy: take the last separator that has at least one
  // character before it and lies on the first line.
  if (work_dir.empty()) return std::string();
  for (std::size_t i = std::min(line, work_dir.size() - 1); i >= 1; --i) {
    if (work_dir[i] == '/' || work_dir[i] == '\\') return std::string(work_dir.substr(i + 1));
  }
  return std::string(work_dir);
}

std::expected<std::string, Error> format_command_line(const std::vector<std::string>& cmd,
                                                      const std::optional<std::vector<bool>>& masks,
                                                      const std::optional<std::string>& work_dir) {
  if (masks && masks->size() < cmd.size()) {
    return std::unexpected(Error::invalid("masks has " + std::to_string(masks->size()) +
                                          " entries but the command has " + std::to_string(cmd.size()) + " arguments"));
  }

  std::string line;
  if (work_dir) line += '[' + workdir_label(*work_dir) + "] ";
  line += '$';
  for (std::size_t i = 0; i < cmd.size(); ++i) {
    const std::string& argument = (masks && (*masks)[i]) ? std::string(kMaskedArgument) : cmd[i];
    line += ' ';
    if (argument.find(' ') == std::string::npos) {
      line += argument;
    } else if (argument.find('"') != std::string::npos) {
      line += '\'' + argument + '\'';
    } else {
      line += '"' + argument + '"';
    }
  }
  line += '\n';
  return line;
}

}  // namespace kite::launcher
