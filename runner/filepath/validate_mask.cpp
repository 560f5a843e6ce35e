// FilePath.validateAntFileMask ($ValidateAntFileMask): explains why a
// comma-separated Ant mask selects nothing, with Jenkins' message texts.
#include <algorithm>
#include <chrono>
#include <limits>
#include <string>
#include <vector>

#include "runner/filepath/ant_glob.hpp"
#include "runner/filepath/file_ops.hpp"

namespace kite::filepath {
namespace {

// hudson/Messages.properties texts (Jenkins core), with Java's quotes.
std::string quoted(const std::string& text) { return "\u2018" + text + "\u2019"; }

std::string tilde_doesnt_work() { return "\u2018~\u2019 is only supported in a Unix shell and nowhere else."; }
std::string match_with_case_insensitive(const std::string& mask) {
  return quoted(mask) +
         " doesn\u2019t match anything because it is treated case sensitively. You can deactivate case sensitivity to "
         "get matches";
}
std::string whitespace_separator() {
  return "Whitespace can no longer be used as the separator. Please Use \u2018,\u2019 as the separator instead.";
}
std::string doesnt_match_and_suggest(const std::string& mask, const std::string& suggestion) {
  return quoted(mask) + " doesn\u2019t match anything, but " + quoted(suggestion) +
         " does. Perhaps that\u2019s what you mean?";
}
std::string portion_match_and_suggest(const std::string& mask, const std::string& portion) {
  return quoted(mask) + " doesn\u2019t match anything, although " + quoted(portion) + " exists";
}
std::string portion_match_but_previous_not(const std::string& mask, const std::string& portion,
                                           const std::string& previous) {
  return quoted(mask) + " doesn\u2019t match anything: " + quoted(portion) + " exists but not " + quoted(previous);
}
std::string doesnt_match_anything(const std::string& mask) { return quoted(mask) + " doesn\u2019t match anything"; }
std::string doesnt_match_anything_and_suggest(const std::string& mask, const std::string& pattern) {
  return quoted(mask) + " doesn\u2019t match anything: even " + quoted(pattern) + " doesn\u2019t exist";
}

std::string trim(std::string_view text) {
  const auto is_space = [](char c) { return static_cast<unsigned char>(c) <= ' '; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return std::string(text);
}

std::vector<std::string> split(std::string_view text, std::string_view delimiters) {
  std::vector<std::string> tokens;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find_first_of(delimiters, start), text.size());
    if (end > start) tokens.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return tokens;
}

std::size_t find_separator(const std::string& pattern) {
  const std::size_t backslash = pattern.find('\\');
  const std::size_t slash = pattern.find('/');
  return std::min(backslash, slash);
}

class Validator {
 public:
  Validator(std::string dir, int bound) : dir_(std::move(dir)), bound_(bound) {}

  // Whether `pattern` selects a file or directory (the base directory itself
  // counts, as in Ant), with the scan bounded as Jenkins bounds it.
  Result<bool> has_match(const std::string& pattern, bool case_sensitive) const {
    auto parsed = AntPattern::parse(pattern);
    if (!parsed) return std::unexpected(parsed.error());
    if (parsed->matches("", case_sensitive)) return true;
    ScanOptions options;
    options.includes.push_back(*parsed);
    options.default_excludes = false;  // a bare DirectoryScanner has none
    options.case_sensitive = case_sensitive;
    options.stop_at_first_match = true;
    if (bound_ != std::numeric_limits<int>::max()) {
      options.max_visited = static_cast<std::size_t>(std::max(bound_, 0)) + 1;
      options.time_limit = std::chrono::seconds(5);
    }
    auto scan = ant_scan(dir_, options);
    if (!scan) return std::unexpected(scan.error());
    const bool found = !scan->files.empty() || !scan->directories.empty();
    if (!found && scan->truncated) {
      Error error{JavaException::FileMaskNoMatchesFoundException, "no matches found within " + std::to_string(bound_),
                  dir_, 0, nullptr};
      return std::unexpected(std::move(error));
    }
    return found;
  }

  // Files "**/<mask>" selects through a FileSet (default excludes on), shortest first.
  Result<std::vector<std::string>> deep_matches(const std::string& mask, bool case_sensitive) const {
    auto includes = parse_pattern_list("**/" + mask);
    if (!includes) return std::unexpected(includes.error());
    ScanOptions options;
    options.includes = std::move(*includes);
    options.case_sensitive = case_sensitive;
    auto scan = ant_scan(dir_, options);
    if (!scan) return std::unexpected(scan.error());
    std::vector<std::string> files = std::move(scan->files);
    std::stable_sort(files.begin(), files.end(),
                     [](const std::string& a, const std::string& b) { return a.size() < b.size(); });
    return files;
  }

 private:
  std::string dir_;
  int bound_;
};

// Runs Jenkins' sequence of guesses for one mask that matched nothing.
Result<std::optional<std::string>> explain(const Validator& validator, const std::string& mask, bool case_sensitive) {
  if (case_sensitive) {
    auto insensitive = validator.has_match(mask, false);
    if (!insensitive) return std::unexpected(insensitive.error());
    if (*insensitive) return match_with_case_insensitive(mask);
  }

  if (mask.find(' ') != std::string::npos) {
    // NOTE: Jenkins splits with QuotedStringTokenizer, which also honours
    // quotes; this splits on whitespace only.
    bool matched = true;
    for (const auto& token : split(mask, " \t\n\r\f")) {
      auto found = validator.has_match(token, case_sensitive);
      if (!found) return std::unexpected(found.error());
      matched = matched && *found;
    }
    if (matched) return whitespace_separator();
  }

  // The user gave aa/bb/cc/dd where cc/dd was meant.
  std::string shorter = mask;
  for (std::size_t index = find_separator(shorter); index != std::string::npos; index = find_separator(shorter)) {
    shorter = shorter.substr(index + 1);
    auto found = validator.has_match(shorter, case_sensitive);
    if (!found) return std::unexpected(found.error());
    if (*found) return doesnt_match_and_suggest(mask, shorter);
  }

  // The user gave cc/dd where aa/bb/cc/dd was meant.
  auto deep = validator.deep_matches(mask, case_sensitive);
  if (!deep) return std::unexpected(deep.error());
  for (std::string file : *deep) {
    std::string prefix;
    for (std::size_t index = find_separator(file); index != std::string::npos; index = find_separator(file)) {
      prefix += file.substr(0, index) + "/";
      file = file.substr(index + 1);
      auto found = validator.has_match(prefix + mask, case_sensitive);
      if (!found) return std::unexpected(found.error());
      if (*found) return doesnt_match_and_suggest(mask, prefix + mask);
    }
  }

  // Find the longest leading portion that exists.
  std::optional<std::string> previous;
  std::string pattern = mask;
  while (true) {
    auto found = validator.has_match(pattern, case_sensitive);
    if (!found) return std::unexpected(found.error());
    if (*found) {
      if (!previous) return portion_match_and_suggest(mask, pattern);
      return portion_match_but_previous_not(mask, pattern, *previous);
    }
    const std::size_t index = find_separator(pattern);
    if (index == std::string::npos) {
      if (pattern == mask) return doesnt_match_anything(mask);
      return doesnt_match_anything_and_suggest(mask, pattern);
    }
    previous = pattern;
    pattern = pattern.substr(0, index);
  }
}

}  // namespace

Result<std::optional<std::string>> validate_ant_file_mask(const std::string& dir, std::string_view file_masks,
                                                          int bound, bool case_sensitive) {
  if (!file_masks.empty() && file_masks.front() == '~') return std::optional<std::string>{tilde_doesnt_work()};
  Validator validator(dir, bound);
  for (const auto& token : split(file_masks, ",")) {
    const std::string mask = trim(token);
    auto found = validator.has_match(mask, case_sensitive);
    if (!found) return std::unexpected(found.error());
    if (*found) continue;
    return explain(validator, mask, case_sensitive);
  }
  return std::optional<std::string>{};
}

}  // namespace kite::filepath
