#include "runner/daemon/work_dir.hpp"

#include <unistd.h>

#include <fmt/format.h>

namespace kite::daemon {

namespace fs = std::filesystem;

namespace {

std::expected<void, std::string> ensure_directory(const fs::path& path, bool fail_if_missing) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (::access(path.c_str(), W_OK | X_OK) != 0) return std::unexpected(fmt::format("directory '{}' is not writable", path.string()));
    return {};
  }
  if (fs::exists(path, ec)) return std::unexpected(fmt::format("'{}' exists and is not a directory", path.string()));
  if (fail_if_missing) {
    return std::unexpected(fmt::format("directory '{}' does not exist (-failIfWorkDirIsMissing is set)", path.string()));
  }
  fs::create_directories(path, ec);
  if (ec) return std::unexpected(fmt::format("cannot create directory '{}': {}", path.string(), ec.message()));
  return {};
}

}  // namespace

std::expected<WorkDirLayout, std::string> initialize_work_dir(const fs::path& work_dir, const std::string& internal_dir_name,
                                                              bool fail_if_missing) {
  if (internal_dir_name.empty() || internal_dir_name == "." || internal_dir_name == ".." ||
      internal_dir_name.find('/') != std::string::npos) {
    return std::unexpected(fmt::format("-internalDir '{}' must be a plain directory name", internal_dir_name));
  }
  WorkDirLayout layout;
  std::error_code ec;
  layout.work_dir = fs::absolute(work_dir, ec);
  if (ec) return std::unexpected(fmt::format("invalid work directory '{}': {}", work_dir.string(), ec.message()));
  layout.internal_dir = layout.work_dir / internal_dir_name;
  layout.logs_dir = layout.internal_dir / "logs";

  if (auto ok = ensure_directory(layout.work_dir, fail_if_missing); !ok) return std::unexpected(ok.error());
  if (auto ok = ensure_directory(layout.internal_dir, fail_if_missing); !ok) return std::unexpected(ok.error());
  if (auto ok = ensure_directory(layout.logs_dir, false); !ok) return std::unexpected(ok.error());
  if (auto ok = ensure_directory(layout.internal_dir / "jarCache", false); !ok) return std::unexpected(ok.error());
  return layout;
}

}  // namespace kite::daemon
