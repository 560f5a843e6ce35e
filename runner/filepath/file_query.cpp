// Queries and single-file changes: $Exists, $IsDirectory, $Length,
// $LastModified, $Mode, disk space, $Absolutize, $Mkdirs, $Touch, $Chmod,
// $SymlinkTo, $ReadLink.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "runner/filepath/file_ops.hpp"

namespace kite::filepath {
namespace {

std::int64_t disk_space(const std::string& path, int which) {
  struct statvfs info {};
  if (statvfs(path.c_str(), &info) != 0) return 0;
  const auto unit = static_cast<std::int64_t>(info.f_frsize);
  switch (which) {
    case 0: return static_cast<std::int64_t>(info.f_blocks) * unit;
    case 1: return static_cast<std::int64_t>(info.f_bfree) * unit;
    default: return static_cast<std::int64_t>(info.f_bavail) * unit;
  }
}

std::string parent_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return {};
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

bool exists(const std::string& path) {
  struct stat info {};
  return stat(path.c_str(), &info) == 0;
}

bool is_directory(const std::string& path) {
  struct stat info {};
  return stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

std::int64_t length(const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) return 0;
  return static_cast<std::int64_t>(info.st_size);
}

std::int64_t last_modified(const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) return 0;
  return static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1000 + info.st_mtim.tv_nsec / 1'000'000;
}

Result<int> mode(const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) return std::unexpected(nio_error(errno, path));
  return static_cast<int>(info.st_mode & 0777);
}

std::int64_t total_disk_space(const std::string& path) { return disk_space(path, 0); }
std::int64_t free_disk_space(const std::string& path) { return disk_space(path, 1); }
std::int64_t usable_disk_space(const std::string& path) { return disk_space(path, 2); }

std::string absolutize(const std::string& path) {
  std::string joined = path;
  if (path.empty() || path.front() != '/') {
    std::vector<char> cwd(PATH_MAX);
    const char* dir = getcwd(cwd.data(), cwd.size());
    joined = std::string(dir != nullptr ? dir : "/") + (path.empty() ? "" : "/" + path);
  }
  // java.io.File normalizes "a//b" to "a/b" and drops a trailing '/'.
  std::string normalized;
  for (char c : joined) {
    if (c == '/' && !normalized.empty() && normalized.back() == '/') continue;
    normalized += c;
  }
  if (normalized.size() > 1 && normalized.back() == '/') normalized.pop_back();
  return normalized;
}

Result<bool> mkdirs(const std::string& path) {
  if (exists(path)) return true;

  // Find the deepest existing ancestor, then create each missing level.
  std::vector<std::string> missing;
  std::string current = path;
  while (!current.empty() && current != "/" && !exists(current)) {
    missing.push_back(current);
    current = parent_of(current);
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0777) != 0 && !(errno == EEXIST && is_directory(*it))) {
      Error error = nio_error(errno, *it);
      spdlog::warn("filepath: mkdirs {} failed: {}", path, error.describe());
      return std::unexpected(std::move(error));
    }
  }
  return exists(path);
}

Result<void> touch(const std::string& path, std::int64_t timestamp_ms) {
  if (!exists(path)) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) return std::unexpected(nio_error(errno, path));
    ::close(fd);
  }
  return set_last_modified(path, timestamp_ms);
}

Result<void> set_last_modified(const std::string& path, std::int64_t timestamp_ms) {
  struct timespec times[2];
  times[0].tv_sec = 0;
  times[0].tv_nsec = UTIME_OMIT;
  times[1].tv_sec = timestamp_ms / 1000;
  times[1].tv_nsec = (timestamp_ms % 1000) * 1'000'000;
  if (timestamp_ms < 0 || utimensat(AT_FDCWD, path.c_str(), times, 0) != 0) {
    // File.setLastModified rejects negative times with IllegalArgumentException;
    // Java reports a failed call as this IOException.
    if (timestamp_ms < 0) {
      Error error{JavaException::IllegalArgumentException, "Negative time", path, 0, nullptr};
      return std::unexpected(std::move(error));
    }
    return std::unexpected(io_error("Failed to set the timestamp of " + path + " to " + std::to_string(timestamp_ms),
                                    path, errno));
  }
  return {};
}

Result<void> chmod(const std::string& path, int mask) {
  const int permissions = mask & 07777;
  if ((permissions & 0777) != permissions) {
    return std::unexpected(io_error("Invalid mode: " + std::to_string(permissions), path));
  }
  if (::chmod(path.c_str(), static_cast<mode_t>(permissions)) != 0) {
    return std::unexpected(nio_error(errno, path));
  }
  return {};
}

Result<void> symlink_to(const std::string& path, const std::string& target) {
  // Util.createSymlink deletes what is there (a file, a link or an empty
  // directory), then creates the link.
  if (::unlink(path.c_str()) != 0 && errno == EISDIR) ::rmdir(path.c_str());
  if (::symlink(target.c_str(), path.c_str()) != 0) {
    Error error = nio_error(errno, path);
    spdlog::warn("filepath: ln {} {} failed: {}", target, path, error.describe());
    return std::unexpected(std::move(error));
  }
  return {};
}

Result<std::optional<std::string>> read_link(const std::string& path) {
  std::vector<char> buffer(PATH_MAX + 1);
  const ssize_t size = ::readlink(path.c_str(), buffer.data(), buffer.size());
  // Util.resolveSymlink returns null for every FileSystemException, and Java
  // turns every errno of readlink(2) into one (not a link, missing, no access).
  if (size < 0) return std::optional<std::string>{};
  return std::optional<std::string>{std::string(buffer.data(), static_cast<std::size_t>(size))};
}

}  // namespace kite::filepath
