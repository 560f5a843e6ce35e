// The "[workspace] $ cmd args" line Launcher.printCommandLine writes to the
// build log before a non-quiet launch.
#pragma once

#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runner/launcher/error.hpp"

namespace kite::launcher {

inline constexpr std::string_view kMaskedArgument = "********";

// Last component of workDir as Jenkins prints it: everything up to the last
// '/' or '\' is dropped when at least one character precedes it on the first line.
std::string workdir_label(std::string_view work_dir);

// Formats the line, newline included. Arguments containing a space are quoted
// with '"', or with '\'' when they contain '"'; masks[i] replaces argument i
// with ********. A masks array shorter than cmd is invalid.
std::expected<std::string, Error> format_command_line(const std::vector<std::string>& cmd,
                                                      const std::optional<std::vector<bool>>& masks,
                                                      const std::optional<std::string>& work_dir);

}  // namespace kite::launcher
