// Ant-style file patterns and a directory scanner with the semantics of
// Apache Ant's DirectoryScanner (Ant 1.10), as Jenkins uses them for
// archiveArtifacts, stash, FilePath.list(glob) and validateAntFileMask.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "runner/filepath/error.hpp"

namespace kite::filepath {

// Bounds on untrusted pattern text (patterns arrive from the controller).
inline constexpr std::size_t kMaxPatternBytes = 4096;
inline constexpr std::size_t kMaxPatternSegments = 256;
inline constexpr std::size_t kMaxPatternCount = 1024;
// Deepest directory level the scanner descends into below the base directory.
inline constexpr std::size_t kMaxScanDepth = 256;

// Ant's DirectoryScanner.DEFAULTEXCLUDES (Ant 1.10), in Ant's order.
const std::vector<std::string>& ant_default_excludes();

// One parsed pattern. Ant normalizes '\\' to '/', appends "**" to a pattern
// ending in '/', and ignores empty segments ("a//b" is "a/b").
class AntPattern {
 public:
  static Result<AntPattern> parse(std::string_view text);

  // True when the '/'-separated relative path matches the whole pattern.
  bool matches(std::string_view relative_path, bool case_sensitive) const;
  // True when some path below directory `relative_dir` could match
  // (Ant's SelectorUtils.matchPatternStart).
  bool could_match_below(std::string_view relative_dir, bool case_sensitive) const;
  // True when everything below `relative_dir` matches, which holds when the
  // pattern is "<prefix>/**" and the prefix matches the directory.
  bool matches_all_below(std::string_view relative_dir, bool case_sensitive) const;

  const std::string& text() const { return text_; }
  bool absolute() const { return absolute_; }

 private:
  std::string text_;
  bool absolute_ = false;
  std::vector<std::string> segments_;
};

// Matches one path segment against one pattern segment with '*' and '?'.
bool ant_match_segment(std::string_view pattern, std::string_view name, bool case_sensitive);

// Splits a comma-separated pattern list as Jenkins' Util.createFileSet does
// (StringTokenizer on ',', each token trimmed) and parses each pattern.
Result<std::vector<AntPattern>> parse_pattern_list(std::string_view comma_separated);

// Selection criteria of a scan, mirroring Ant's FileSet attributes.
struct ScanOptions {
  std::vector<AntPattern> includes;  // empty means "**"
  std::vector<AntPattern> excludes;
  bool default_excludes = true;
  bool case_sensitive = true;
  bool follow_symlinks = true;
  // Stop after visiting this many directory entries (0 means no limit);
  // the scan then returns early and reports `truncated`.
  std::size_t max_visited = 0;
  // Stop at the first included file or directory, because validateAntFileMask
  // only needs to know whether something matches.
  bool stop_at_first_match = false;
  // Give up after this long (zero means no limit), reporting `truncated`.
  std::chrono::milliseconds time_limit{0};
};

struct ScanResult {
  std::vector<std::string> files;        // '/'-separated, relative to the base
  std::vector<std::string> directories;  // included directories ("" excluded)
  bool truncated = false;
};

// Scans `base` like Ant's DirectoryScanner: a file is included when it
// matches an include and no exclude. Symbolic links to directories are
// followed when `follow_symlinks` is set, except a link back to a directory
// being scanned. With it unset every symbolic link is left out, as Ant does. Dangling links and special files are left out. Results
// are sorted. A missing base directory gives Ant's "<dir> does not exist."
// IOException.
Result<ScanResult> ant_scan(const std::filesystem::path& base, const ScanOptions& options);

// FilePath.list(includes, excludes, defaultExcludes) ($ListGlob): absolute
// paths of the included files. Rejects absolute include patterns with Jenkins'
// "Expecting Ant GLOB pattern" message.
Result<std::vector<std::string>> list_glob(const std::filesystem::path& base, std::string_view includes,
                                           std::string_view excludes, bool default_excludes);

}  // namespace kite::filepath
