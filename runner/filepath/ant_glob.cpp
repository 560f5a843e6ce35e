#include "runner/filepath/ant_glob.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <set>
#include <utility>

namespace kite::filepath {
namespace {

char fold(char c, bool case_sensitive) {
  // NOTE: case-insensitive matching folds ASCII letters only, while Ant folds
  // every Unicode letter with Character.toUpperCase.
  if (!case_sensitive && c >= 'A' && c <= 'Z') return static_cast<char>(c - 'A' + 'a');
  return c;
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

std::string_view trim(std::string_view text) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// Matches pattern segments against path segments; "**" spans zero or more
// path segments. Dynamic programming keeps the work at O(pattern × path).
bool match_segments(const std::vector<std::string>& pattern, const std::vector<std::string_view>& path,
                    bool case_sensitive) {
  const std::size_t p_count = pattern.size();
  const std::size_t s_count = path.size();
  // reachable[j]: pattern prefix [0, i) can match path prefix [0, j).
  std::vector<char> reachable(s_count + 1, 0);
  reachable[0] = 1;
  for (std::size_t i = 0; i < p_count; ++i) {
    std::vector<char> next(s_count + 1, 0);
    if (pattern[i] == "**") {
      bool any = false;
      for (std::size_t j = 0; j <= s_count; ++j) {
        any = any || reachable[j];
        next[j] = any ? 1 : 0;
      }
    } else {
      for (std::size_t j = 0; j < s_count; ++j) {
        if (reachable[j] && ant_match_segment(pattern[i], path[j], case_sensitive)) next[j + 1] = 1;
      }
    }
    reachable.swap(next);
  }
  return reachable[s_count] != 0;
}

}  // namespace

const std::vector<std::string>& ant_default_excludes() {
  static const std::vector<std::string> excludes = {
      "**/*~",         "**/#*#",          "**/.#*",       "**/%*%",      "**/._*",
      "**/CVS",        "**/CVS/**",       "**/.cvsignore", "**/SCCS",    "**/SCCS/**",
      "**/vssver.scc", "**/.svn",         "**/.svn/**",   "**/.git",     "**/.git/**",
      "**/.gitattributes", "**/.gitignore", "**/.gitmodules", "**/.hg",  "**/.hg/**",
      "**/.hgignore",  "**/.hgsub",       "**/.hgsubstate", "**/.hgtags", "**/.bzr",
      "**/.bzr/**",    "**/.bzrignore",   "**/.DS_Store",
  };
  return excludes;
}

bool ant_match_segment(std::string_view pattern, std::string_view name, bool case_sensitive) {
  // Iterative wildcard match with single-star backtracking: linear in practice
  // and O(pattern × name) at worst.
  std::size_t p = 0;
  std::size_t s = 0;
  std::size_t star = std::string_view::npos;
  std::size_t star_s = 0;
  while (s < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_s = s;
    } else if (p < pattern.size() &&
               (pattern[p] == '?' || fold(pattern[p], case_sensitive) == fold(name[s], case_sensitive))) {
      ++p;
      ++s;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      s = ++star_s;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

Result<AntPattern> AntPattern::parse(std::string_view text) {
  if (text.size() > kMaxPatternBytes) {
    return std::unexpected(io_error("Ant pattern is longer than " + std::to_string(kMaxPatternBytes) + " bytes"));
  }
  AntPattern pattern;
  std::string normalized(text);
  std::replace(normalized.begin(), normalized.end(), '\\', '/');
  if (!normalized.empty() && normalized.back() == '/') normalized += "**";
  pattern.text_ = normalized;
  pattern.absolute_ = !normalized.empty() && normalized.front() == '/';
  for (std::string_view part : split_path(normalized)) {
    // Ant treats "a/**/**/b" like "a/**/b"; collapsing keeps matching linear.
    if (part == "**" && !pattern.segments_.empty() && pattern.segments_.back() == "**") continue;
    pattern.segments_.emplace_back(part);
  }
  if (pattern.segments_.size() > kMaxPatternSegments) {
    return std::unexpected(io_error("Ant pattern has more than " + std::to_string(kMaxPatternSegments) + " segments"));
  }
  return pattern;
}

bool AntPattern::matches(std::string_view relative_path, bool case_sensitive) const {
  // Relative paths never start with '/', so an absolute pattern never matches.
  if (absolute_) return false;
  return match_segments(segments_, split_path(relative_path), case_sensitive);
}

bool AntPattern::could_match_below(std::string_view relative_dir, bool case_sensitive) const {
  if (absolute_) return false;
  const auto dirs = split_path(relative_dir);
  std::size_t i = 0;
  for (; i < dirs.size(); ++i) {
    if (i >= segments_.size()) return false;
    if (segments_[i] == "**") return true;
    if (!ant_match_segment(segments_[i], dirs[i], case_sensitive)) return false;
  }
  // Every directory segment matched a pattern segment; something below can
  // match only if the pattern goes deeper (Ant's isDeeper).
  return i < segments_.size();
}

bool AntPattern::matches_all_below(std::string_view relative_dir, bool case_sensitive) const {
  if (absolute_ || segments_.empty() || segments_.back() != "**") return false;
  std::vector<std::string> prefix(segments_.begin(), segments_.end() - 1);
  return match_segments(prefix, split_path(relative_dir), case_sensitive);
}

Result<std::vector<AntPattern>> parse_pattern_list(std::string_view comma_separated) {
  std::vector<AntPattern> patterns;
  std::size_t start = 0;
  while (start <= comma_separated.size()) {
    std::size_t end = comma_separated.find(',', start);
    if (end == std::string_view::npos) end = comma_separated.size();
    // StringTokenizer skips empty tokens between delimiters; a token of only
    // spaces becomes an empty pattern, which matches nothing.
    if (end > start) {
      if (patterns.size() >= kMaxPatternCount) {
        return std::unexpected(io_error("more than " + std::to_string(kMaxPatternCount) + " Ant patterns"));
      }
      auto pattern = AntPattern::parse(trim(comma_separated.substr(start, end - start)));
      if (!pattern) return std::unexpected(pattern.error());
      patterns.push_back(std::move(*pattern));
    }
    start = end + 1;
  }
  return patterns;
}

namespace {

struct DirCloser {
  void operator()(DIR* dir) const { closedir(dir); }
};

class Scanner {
 public:
  Scanner(const ScanOptions& options, ScanResult& result)
      : options_(options), result_(result), started_(std::chrono::steady_clock::now()) {
    if (options_.default_excludes) {
      for (const auto& text : ant_default_excludes()) excludes_.push_back(*AntPattern::parse(text));
    }
    excludes_.insert(excludes_.end(), options_.excludes.begin(), options_.excludes.end());
  }

  void scan_directory(const std::string& absolute, const std::string& relative, std::size_t depth) {
    if (result_.truncated || depth > kMaxScanDepth) return;
    struct stat dir_stat {};
    if (stat(absolute.c_str(), &dir_stat) != 0) return;
    const std::pair<dev_t, ino_t> identity{dir_stat.st_dev, dir_stat.st_ino};
    // A symbolic link back to a directory being scanned would loop forever.
    if (!active_.insert(identity).second) return;

    std::unique_ptr<DIR, DirCloser> dir(opendir(absolute.c_str()));
    if (dir) {
      std::vector<std::string> names;
      while (dirent* entry = readdir(dir.get())) {
        std::string_view name = entry->d_name;
        if (name == "." || name == "..") continue;
        names.emplace_back(name);
      }
      dir.reset();
      std::sort(names.begin(), names.end());
      for (const auto& name : names) {
        if (should_stop()) break;
        visit(absolute + "/" + name, relative.empty() ? name : relative + "/" + name, depth);
      }
    }
    active_.erase(identity);
  }

 private:
  bool should_stop() {
    if (result_.truncated) return true;
    if (options_.stop_at_first_match && (!result_.files.empty() || !result_.directories.empty())) {
      result_.truncated = true;
      return true;
    }
    const bool over_count = options_.max_visited != 0 && ++visited_ > options_.max_visited;
    const bool over_time = options_.time_limit.count() != 0 &&
                           std::chrono::steady_clock::now() - started_ > options_.time_limit;
    if (over_count || over_time) result_.truncated = true;
    return result_.truncated;
  }

  bool included(const std::string& relative) const {
    if (options_.includes.empty()) return true;
    return std::any_of(options_.includes.begin(), options_.includes.end(),
                       [&](const AntPattern& p) { return p.matches(relative, options_.case_sensitive); });
  }

  bool excluded(const std::string& relative) const {
    return std::any_of(excludes_.begin(), excludes_.end(),
                       [&](const AntPattern& p) { return p.matches(relative, options_.case_sensitive); });
  }

  bool worth_descending(const std::string& relative) const {
    const bool contents_excluded = std::any_of(excludes_.begin(), excludes_.end(), [&](const AntPattern& p) {
      return p.matches_all_below(relative, options_.case_sensitive);
    });
    if (contents_excluded) return false;
    if (options_.includes.empty()) return true;
    return std::any_of(options_.includes.begin(), options_.includes.end(),
                       [&](const AntPattern& p) { return p.could_match_below(relative, options_.case_sensitive); });
  }

  void visit(const std::string& absolute, const std::string& relative, std::size_t depth) {
    struct stat link_stat {};
    if (lstat(absolute.c_str(), &link_stat) != 0) return;
    const bool is_link = S_ISLNK(link_stat.st_mode);
    if (is_link && !options_.follow_symlinks) return;

    struct stat target_stat = link_stat;
    if (is_link && stat(absolute.c_str(), &target_stat) != 0) return;  // dangling

    if (S_ISDIR(target_stat.st_mode)) {
      if (included(relative) && !excluded(relative)) result_.directories.push_back(relative);
      if (worth_descending(relative)) scan_directory(absolute, relative, depth + 1);
    } else if (S_ISREG(target_stat.st_mode)) {
      if (included(relative) && !excluded(relative)) result_.files.push_back(relative);
    }
  }

  const ScanOptions& options_;
  ScanResult& result_;
  std::vector<AntPattern> excludes_;
  std::set<std::pair<dev_t, ino_t>> active_;
  std::size_t visited_ = 0;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace

namespace {

// Absolute, lexically normal form of `base` without a trailing '/'.
std::string scan_root(const std::filesystem::path& base) {
  std::string root = std::filesystem::absolute(base).lexically_normal().string();
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  return root;
}

}  // namespace

Result<ScanResult> ant_scan(const std::filesystem::path& base, const ScanOptions& options) {
  const std::string root = scan_root(base);
  struct stat root_stat {};
  if (stat(root.c_str(), &root_stat) != 0) {
    // Ant's FileSet.getDirectoryScanner raises BuildException("<dir> does not exist.").
    return std::unexpected(io_error(root + " does not exist.", root, errno));
  }
  if (!S_ISDIR(root_stat.st_mode)) {
    return std::unexpected(io_error(root + " is not a directory.", root, ENOTDIR));
  }
  ScanResult result;
  Scanner scanner(options, result);
  scanner.scan_directory(root, "", 0);
  std::sort(result.files.begin(), result.files.end());
  std::sort(result.directories.begin(), result.directories.end());
  return result;
}

Result<std::vector<std::string>> list_glob(const std::filesystem::path& base, std::string_view includes,
                                           std::string_view excludes, bool default_excludes) {
  // FilePath.isAbsolute: a leading '/' or '\\', or a Windows drive letter.
  const bool absolute = (!includes.empty() && (includes.front() == '/' || includes.front() == '\\')) ||
                        (includes.size() >= 2 && includes[1] == ':' &&
                         ((includes[0] >= 'a' && includes[0] <= 'z') || (includes[0] >= 'A' && includes[0] <= 'Z')));
  if (absolute) {
    return std::unexpected(io_error("Expecting Ant GLOB pattern, but saw '" + std::string(includes) +
                                    "'. See https://ant.apache.org/manual/Types/fileset.html for syntax"));
  }
  ScanOptions options;
  auto include_patterns = parse_pattern_list(includes);
  if (!include_patterns) return std::unexpected(include_patterns.error());
  auto exclude_patterns = parse_pattern_list(excludes);
  if (!exclude_patterns) return std::unexpected(exclude_patterns.error());
  options.includes = std::move(*include_patterns);
  options.excludes = std::move(*exclude_patterns);
  options.default_excludes = default_excludes;

  auto scan = ant_scan(base, options);
  if (!scan) return std::unexpected(scan.error());
  const std::string root = scan_root(base);
  std::vector<std::string> paths;
  paths.reserve(scan->files.size());
  for (const auto& file : scan->files) paths.push_back(root + "/" + file);
  return paths;
}

}  // namespace kite::filepath
