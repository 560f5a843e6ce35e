// Directories and names: listing, the Util.deleteFile/deleteRecursive
// family, $RenameTo, $MoveAllChildrenTo, temporary files and directories,
// $CopyRecursiveLocal.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "runner/filepath/archive.hpp"
#include "runner/filepath/fd.hpp"
#include "runner/filepath/file_ops.hpp"

namespace kite::filepath {
namespace {

using detail::UniqueFd;

// Util.DELETION_RETRIES (2) and WAIT_BETWEEN_DELETION_RETRIES (100 ms), the
// Jenkins defaults: three attempts in all.
constexpr int kDeletionRetries = 2;
constexpr std::chrono::milliseconds kDeletionRetryWait{100};

struct DirCloser {
  void operator()(DIR* dir) const { closedir(dir); }
};

std::string strip_trailing_slashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

std::pair<std::string, std::string> split_parent(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return {".", path};
  if (slash == 0) return {"/", path.substr(1)};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

// Names in the directory open at `fd`, without "." and "..", sorted.
std::vector<std::string> read_names(int fd) {
  std::vector<std::string> names;
  const int copy = ::dup(fd);
  if (copy < 0) return names;
  std::unique_ptr<DIR, DirCloser> dir(fdopendir(copy));
  if (!dir) {
    ::close(copy);
    return names;
  }
  while (dirent* entry = readdir(dir.get())) {
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> list_children(const std::string& path, bool directories_only) {
  std::vector<std::string> children;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return children;
  const std::string prefix = path == "/" ? path : strip_trailing_slashes(path) + "/";
  for (const auto& name : read_names(fd.get())) {
    std::string child = prefix + name;
    if (directories_only && !is_directory(child)) continue;
    children.push_back(std::move(child));
  }
  return children;
}

// PathRemover.makeRemovable: adds owner write permission to the entry (never
// through a symbolic link) and to its directory when either lacks it.
void make_removable(int dir_fd, const std::string& name) {
  struct stat entry_stat {};
  if (fstatat(dir_fd, name.c_str(), &entry_stat, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISLNK(entry_stat.st_mode) &&
      (entry_stat.st_mode & S_IWUSR) == 0) {
    fchmodat(dir_fd, name.c_str(), (entry_stat.st_mode & 07777) | S_IWUSR, 0);
  }
  struct stat dir_stat {};
  if (fstat(dir_fd, &dir_stat) == 0 && (dir_stat.st_mode & S_IWUSR) == 0) {
    fchmod(dir_fd, (dir_stat.st_mode & 07777) | S_IWUSR);
  }
}

std::string list_to_string(const std::vector<std::string>& items) {
  std::string text = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) text += ", ";
    text += items[i];
  }
  return text + "]";
}

// One attempt of PathRemover.removeOrMakeRemovableThenRemove on `name` in
// `dir_fd`; a missing entry counts as removed.
std::optional<Error> remove_entry(int dir_fd, const std::string& name, const std::string& display) {
  struct stat entry_stat {};
  if (fstatat(dir_fd, name.c_str(), &entry_stat, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return std::nullopt;
    return nio_error(errno, display);
  }
  const bool is_dir = S_ISDIR(entry_stat.st_mode);
  const int flags = is_dir ? AT_REMOVEDIR : 0;
  if (unlinkat(dir_fd, name.c_str(), flags) == 0 || errno == ENOENT) return std::nullopt;
  Error first = nio_error(errno, display);

  make_removable(dir_fd, name);
  if (unlinkat(dir_fd, name.c_str(), flags) == 0 || errno == ENOENT) return std::nullopt;
  Error second = nio_error(errno, display);
  second.cause = std::make_shared<const Error>(std::move(first));

  if (is_dir) {
    std::vector<std::string> contents;
    UniqueFd child(openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (child.valid()) {
      for (const auto& entry : read_names(child.get())) contents.push_back(display + "/" + entry);
    }
    return wrap(JavaException::IOException,
                "Unable to remove directory " + display + " with directory contents: " + list_to_string(contents),
                std::move(second));
  }
  return wrap(JavaException::IOException, "Unable to remove file " + display, std::move(second));
}

void remove_tree(int dir_fd, const std::string& name, const std::string& display, std::vector<Error>& errors);

// Removes everything inside directory `name` of `dir_fd` without following
// symbolic links; a directory that cannot be read gets owner rwx first.
void remove_contents(int dir_fd, const std::string& name, const std::string& display, std::vector<Error>& errors) {
  UniqueFd fd(openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid() && errno == EACCES) {
    struct stat dir_stat {};
    if (fstatat(dir_fd, name.c_str(), &dir_stat, AT_SYMLINK_NOFOLLOW) == 0) {
      fchmodat(dir_fd, name.c_str(), (dir_stat.st_mode & 07777) | S_IRWXU, 0);
    }
    fd.reset(openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  }
  if (!fd.valid()) {
    if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP) errors.push_back(nio_error(errno, display));
    return;
  }
  for (const auto& child : read_names(fd.get())) remove_tree(fd.get(), child, display + "/" + child, errors);
}

void remove_tree(int dir_fd, const std::string& name, const std::string& display, std::vector<Error>& errors) {
  struct stat entry_stat {};
  if (fstatat(dir_fd, name.c_str(), &entry_stat, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno != ENOENT) errors.push_back(nio_error(errno, display));
    return;
  }
  if (S_ISDIR(entry_stat.st_mode)) remove_contents(dir_fd, name, display, errors);
  if (auto error = remove_entry(dir_fd, name, display)) errors.push_back(std::move(*error));
}

// Runs `attempt` up to three times, 100 ms apart, and builds PathRemover's
// failure message around the last error.
template <class Attempt>
Result<void> with_retries(const std::string& path, Attempt attempt) {
  for (int retry = 0;; ++retry) {
    std::vector<Error> errors = attempt();
    if (errors.empty()) return {};
    if (retry < kDeletionRetries) {
      std::this_thread::sleep_for(kDeletionRetryWait);
      continue;
    }
    const int tries = retry + 1;
    std::string message = "Unable to delete '" + path + "'. Tried " + std::to_string(tries) + " time" +
                          (tries != 1 ? "s" : "") + " (of a maximum of " + std::to_string(kDeletionRetries + 1) +
                          ") waiting 0.1 sec between attempts.";
    spdlog::warn("filepath: {} ({} errors, first: {})", message, errors.size(), errors.front().describe());
    return std::unexpected(wrap(JavaException::IOException, std::move(message), std::move(errors.front())));
  }
}

std::uint64_t random_unsigned_long() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return generator();
}

}  // namespace

std::vector<std::string> list(const std::string& path) { return list_children(path, false); }

std::vector<std::string> list_directories(const std::string& path) { return list_children(path, true); }

Result<void> delete_file(const std::string& path) {
  const auto [parent, name] = split_parent(strip_trailing_slashes(path));
  return with_retries(path, [&, parent = parent, name = name] {
    std::vector<Error> errors;
    UniqueFd dir(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid()) {
      if (errno != ENOENT) errors.push_back(nio_error(errno, parent));
      return errors;
    }
    if (auto error = remove_entry(dir.get(), name, path)) errors.push_back(std::move(*error));
    return errors;
  });
}

Result<void> delete_recursive(const std::string& path) {
  const auto [parent, name] = split_parent(strip_trailing_slashes(path));
  return with_retries(path, [&, parent = parent, name = name] {
    std::vector<Error> errors;
    UniqueFd dir(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid()) {
      if (errno != ENOENT) errors.push_back(nio_error(errno, parent));
      return errors;
    }
    remove_tree(dir.get(), name, strip_trailing_slashes(path), errors);
    return errors;
  });
}

Result<void> delete_contents(const std::string& path) {
  return with_retries(path, [&] {
    std::vector<Error> errors;
    // Like Files.isDirectory, this follows a link named by `path` itself.
    UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid()) return errors;
    const std::string display = strip_trailing_slashes(path);
    for (const auto& child : read_names(dir.get())) remove_tree(dir.get(), child, display + "/" + child, errors);
    return errors;
  });
}

Result<void> delete_suffixes_recursive(const std::string& path) {
  const auto [parent, name] = split_parent(strip_trailing_slashes(path));
  const std::string prefix = name + "@";
  for (const auto& sibling : list(parent)) {
    if (!split_parent(sibling).second.starts_with(prefix)) continue;
    auto deleted = delete_recursive(sibling);
    if (!deleted) return deleted;
  }
  return {};
}

Result<void> rename_to(const std::string& path, const std::string& target) {
  struct stat source_stat {};
  if (lstat(path.c_str(), &source_stat) != 0) return std::unexpected(nio_error(errno, path));
  struct stat target_stat {};
  if (lstat(target.c_str(), &target_stat) == 0) {
    if (target_stat.st_dev == source_stat.st_dev && target_stat.st_ino == source_stat.st_ino) return {};
    return std::unexpected(nio_error(EEXIST, target));
  }
  if (::rename(path.c_str(), target.c_str()) == 0) return {};
  if (errno != EXDEV) return std::unexpected(nio_error(errno, path, target));

  // Another file system: Java copies, then deletes the source.
  if (S_ISDIR(source_stat.st_mode)) {
    if (!list(path).empty()) return std::unexpected(nio_error(ENOTEMPTY, path));
    if (::mkdir(target.c_str(), source_stat.st_mode & 07777) != 0) return std::unexpected(nio_error(errno, target));
  } else if (S_ISLNK(source_stat.st_mode)) {
    auto link = read_link(path);
    if (!link || !link->has_value()) return std::unexpected(nio_error(EINVAL, path));
    if (::symlink(link->value().c_str(), target.c_str()) != 0) return std::unexpected(nio_error(errno, target));
  } else {
    auto copied = copy_to_with_permission(path, target);
    if (!copied) return std::unexpected(copied.error());
  }
  const int removed = S_ISDIR(source_stat.st_mode) ? ::rmdir(path.c_str()) : ::unlink(path.c_str());
  if (removed != 0) return std::unexpected(nio_error(errno, path));
  return {};
}

Result<void> move_all_children_to(const std::string& path, const std::string& target) {
  // The detour through "<path>.__rename" lets a child named like `path`
  // itself move into `path`'s parent.
  const std::string source = absolutize(path);
  const std::string temporary = source + ".__rename";
  if (::rename(source.c_str(), temporary.c_str()) != 0) {
    return std::unexpected(io_error("Failed to rename " + path + " to " + temporary, path, errno));
  }
  const std::string destination = strip_trailing_slashes(target);
  for (const auto& child : list(temporary)) {
    const std::string name = child.substr(child.find_last_of('/') + 1);
    const std::string moved = destination + "/" + name;
    if (::rename(child.c_str(), moved.c_str()) != 0) {
      return std::unexpected(io_error("Failed to rename " + child + " to " + moved, child, errno));
    }
  }
  if (::rmdir(temporary.c_str()) != 0 && errno != ENOENT) return std::unexpected(nio_error(errno, temporary));
  return {};
}

Result<std::string> create_temp_file(const std::string& dir, std::string_view prefix,
                                     std::optional<std::string_view> suffix) {
  if (prefix.size() < 3) {
    Error error{JavaException::IllegalArgumentException,
                "Prefix string \"" + std::string(prefix) + "\" too short: length must be at least 3", dir, 0, nullptr};
    return std::unexpected(std::move(error));
  }
  // File.createTempFile keeps only the last component of the prefix.
  std::string base_prefix(prefix);
  if (const auto slash = base_prefix.find_last_of('/'); slash != std::string::npos) {
    base_prefix = base_prefix.substr(slash + 1);
  }
  const std::string effective_suffix(suffix.value_or(".tmp"));
  const std::string directory = strip_trailing_slashes(dir);
  while (true) {
    std::string name = base_prefix + std::to_string(random_unsigned_long()) + effective_suffix;
    const std::string path = directory + "/" + name;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      ::close(fd);
      return name;
    }
    if (errno != EEXIST) return std::unexpected(io_error(std::strerror(errno), path, errno));
  }
}

Result<std::string> create_text_temp_file(const std::string& dir, bool in_this_directory, std::string_view prefix,
                                          std::optional<std::string_view> suffix, std::string_view contents,
                                          const std::string& temp_dir) {
  std::string directory = in_this_directory ? dir : temp_dir;
  if (in_this_directory) {
    auto made = mkdirs(directory);
    if (!made) return std::unexpected(made.error());
  }
  auto name = create_temp_file(directory, prefix, suffix);
  if (!name) {
    if (name.error().kind == JavaException::IllegalArgumentException) return std::unexpected(name.error());
    return std::unexpected(
        wrap(JavaException::IOException, "Failed to create a temporary directory in " + directory, name.error()));
  }
  const std::string path = absolutize(strip_trailing_slashes(directory) + "/" + *name);
  auto written = write(path, contents, std::nullopt);
  if (!written) return std::unexpected(written.error());
  return path;
}

Result<std::string> create_temp_dir(const std::string& dir, std::string_view name) {
  if (name.find('/') != std::string_view::npos) {
    Error error{JavaException::IllegalArgumentException, "Invalid prefix or suffix", dir, 0, nullptr};
    return std::unexpected(std::move(error));
  }
  const std::string directory = strip_trailing_slashes(dir);
  while (true) {
    std::string created = std::string(name) + std::to_string(random_unsigned_long());
    const std::string path = directory + "/" + created;
    if (::mkdir(path.c_str(), 0777) == 0) return created;
    if (errno != EEXIST) return std::unexpected(nio_error(errno, path));
  }
}

Result<int> copy_recursive_local(const std::string& base, const std::string& target, const DirSelection& selection) {
  if (!exists(base)) return 0;
  auto entries = select_entries(base, selection);
  if (!entries) return std::unexpected(entries.error());
  const std::string destination = strip_trailing_slashes(target);
  int count = 0;
  for (const auto& entry : *entries) {
    const std::string copy = destination + "/" + entry.archive_path;
    const std::string parent = split_parent(copy).first;
    struct stat link_stat {};
    if (lstat(entry.absolute_path.c_str(), &link_stat) != 0) continue;
    if (S_ISLNK(link_stat.st_mode)) {
      auto link = read_link(entry.absolute_path);
      if (!link || !link->has_value()) continue;
      auto made = mkdirs(parent);
      if (!made) return std::unexpected(made.error());
      auto linked = symlink_to(copy, link->value());
      if (!linked) return std::unexpected(linked.error());
      ++count;
    } else if (S_ISREG(link_stat.st_mode)) {
      auto copied = copy_to_with_permission(entry.absolute_path, copy);
      if (!copied) return std::unexpected(copied.error());
      ++count;
    }
  }
  return count;
}

}  // namespace kite::filepath
