// Whether a path stays inside a directory once symbolic links are resolved:
// $IsDescendant and $HasSymlink, which the controller's directory browser
// sends before it serves a file of an agent's workspace.
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runner/filepath/file_ops.hpp"

namespace kite::filepath {
namespace {

// Path.toRealPath: the canonical path, or the errno of the failure.
struct RealPath {
  std::optional<std::string> path;
  int error_number = 0;
};

RealPath real_path(const std::string& path) {
  std::unique_ptr<char, decltype(&std::free)> resolved(::realpath(path.c_str(), nullptr), &std::free);
  if (!resolved) return {std::nullopt, errno};
  return {std::string(resolved.get()), 0};
}

// Util.isSymlink: true when lstat reports a link. Any failure counts as no link.
bool is_link(const std::string& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0 && S_ISLNK(info.st_mode);
}

// Names of a path, empty ones (from "a//b") dropped, as java.nio splits it.
std::vector<std::string> components(const std::string& path) {
  std::vector<std::string> names;
  std::string name;
  for (char c : path) {
    if (c != '/') {
      name += c;
      continue;
    }
    if (!name.empty()) names.push_back(name);
    name.clear();
  }
  if (!name.empty()) names.push_back(name);
  return names;
}

// Path.normalize of an absolute path, as names: "." dropped, ".." removes the
// name before it (and nothing at the root).
std::vector<std::string> normalized(const std::string& absolute_path) {
  std::vector<std::string> names;
  for (const auto& name : components(absolute_path)) {
    if (name == ".") continue;
    if (name == "..") {
      if (!names.empty()) names.pop_back();
      continue;
    }
    names.push_back(name);
  }
  return names;
}

// Path.startsWith for two absolute paths: name by name.
bool starts_with(const std::vector<std::string>& path, const std::vector<std::string>& prefix) {
  if (prefix.size() > path.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (path[i] != prefix[i]) return false;
  }
  return true;
}

// Path.getParent: null (nothing) for "/" and for a single relative name.
std::optional<std::string> parent_path(const std::string& path) {
  std::string trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  const auto slash = trimmed.find_last_of('/');
  if (trimmed == "/" || slash == std::string::npos) return std::nullopt;
  if (slash == 0) return std::string("/");
  return trimmed.substr(0, slash);
}

}  // namespace

Result<bool> is_descendant(const std::string& parent, const std::string& child) {
  if (!child.empty() && child.front() == '/') {
    Error error;
    error.kind = JavaException::IllegalArgumentException;
    error.message = "Only a relative path is supported, the given path is absolute: " + child;
    error.path = child;
    return std::unexpected(std::move(error));
  }

  const std::string parent_absolute = absolutize(parent);
  const RealPath parent_real = real_path(parent_absolute);
  if (!parent_real.path) {
    if (parent_real.error_number == ENOENT) return false;
    return std::unexpected(nio_error(parent_real.error_number, parent_absolute));
  }
  const std::vector<std::string> parent_names = components(*parent_real.path);
  const std::vector<std::string> parent_normalized = normalized(parent_absolute);

  // Walk the child one name at a time, following each symbolic link the way
  // Util.resolveSymlinkToFile does, and check that every step stays inside.
  std::string current = parent;
  std::vector<std::string> remaining = components(child);
  for (std::size_t next = 0; next < remaining.size(); ++next) {
    std::string step = current.empty() || current.back() == '/' ? current + remaining[next] : current + "/" + remaining[next];
    std::vector<char> target(4096);
    const ssize_t length = ::readlink(step.c_str(), target.data(), target.size() - 1);
    if (length >= 0) {
      const std::string link(target.data(), static_cast<std::size_t>(length));
      step = link.front() == '/' ? link : parent_path(step).value_or(".") + "/" + link;
    }
    current = step;

    const std::string current_absolute = absolutize(current);
    const RealPath real = real_path(current_absolute);
    if (real.path) {
      if (!starts_with(components(*real.path), parent_names)) return false;
      continue;
    }
    // A missing name: the lexical path decides, as Jenkins leaves the check
    // to whoever creates the file later. Any other failure means no.
    if (real.error_number == ENOENT) return starts_with(normalized(current_absolute), parent_normalized);
    return false;
  }
  return true;
}

bool has_symlink(const std::string& path, const std::optional<std::string>& verification_root, bool no_follow_links) {
  if (!no_follow_links) return false;
  if (is_link(path)) return true;
  if (!verification_root) return false;

  const RealPath root = real_path(*verification_root);
  if (!root.path) return false;
  std::optional<std::string> current = path;
  while (current) {
    const RealPath real = real_path(*current);
    if (!real.path || *real.path == *root.path) return false;
    if (is_link(*current)) return true;
    current = parent_path(*current);
  }
  return false;
}

}  // namespace kite::filepath
