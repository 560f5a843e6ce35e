// The agent work directory, laid out as agent.jar's WorkDirManager does:
// <workDir>/<internalDir>/ with logs/ and jarCache/ below it.
#pragma once

#include <expected>
#include <filesystem>
#include <string>

namespace kite::daemon {

struct WorkDirLayout {
  std::filesystem::path work_dir;
  std::filesystem::path internal_dir;  // <workDir>/<internalDir>
  std::filesystem::path logs_dir;      // <internalDir>/logs
};

// Creates the directories (or, with `fail_if_missing`, requires the work
// directory to exist already). Errors name the path and errno text.
std::expected<WorkDirLayout, std::string> initialize_work_dir(const std::filesystem::path& work_dir,
                                                              const std::string& internal_dir_name,
                                                              bool fail_if_missing);

}  // namespace kite::daemon
