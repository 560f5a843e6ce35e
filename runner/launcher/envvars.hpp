// Jenkins' environment-variable semantics (hudson.EnvVars and
// hudson.Util.replaceMacro, Jenkins core 2.4xx), reproduced for the agent side
// of Launcher$RemoteLaunchCallable.
//
// EnvVars is a TreeMap ordered by String.CASE_INSENSITIVE_ORDER: "Path" and
// "PATH" are one variable, and the spelling inserted first is the one kept.
#pragma once

#include <expected>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runner/launcher/error.hpp"

namespace kite::launcher {

// Java's String.CASE_INSENSITIVE_ORDER for ASCII names.
// NOTE: bytes outside ASCII compare unfolded, in UTF-8 byte order; Java folds
// every Unicode letter and compares UTF-16 units. Variable names are ASCII in practice.
struct CaseInsensitiveLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept;
};

bool equals_ignore_case(std::string_view a, std::string_view b) noexcept;

// Returns the value of a variable, or nullopt to leave the reference as written.
using VariableResolver = std::function<std::optional<std::string>(const std::string&)>;

// Expands $NAME, ${NAME} and $$ in `text` the way Util.replaceMacro does:
// NAME is [A-Za-z0-9_]+ (${...} also allows '.'), $$ becomes one '$', an
// unresolved reference stays as written, and replaced text is not rescanned.
std::string replace_macro(std::string_view text, const VariableResolver& resolver);

class EnvVars {
 public:
  using Map = std::map<std::string, std::string, CaseInsensitiveLess>;

  EnvVars() = default;

  // Builds the agent environment from a NULL-terminated "K=V" array (environ),
  // skipping entries without '=' or starting with '=' as the JVM does.
  static EnvVars from_environ(const char* const* environ);

  // Parses the "KEY=VALUE" strings of RemoteLaunchCallable.env (split at the
  // first '='); later duplicates replace earlier values, keeping the first spelling.
  static std::expected<EnvVars, Error> from_assignments(const std::vector<std::string>& assignments);

  const Map& entries() const noexcept { return map_; }
  std::optional<std::string> get(std::string_view key) const;
  bool contains(std::string_view key) const { return map_.find(key) != map_.end(); }
  // TreeMap.put: replaces the value of an existing (case-insensitively equal)
  // key but keeps its spelling.
  void put(const std::string& key, std::string value);
  void remove(std::string_view key);
  std::size_t size() const noexcept { return map_.size(); }

  // EnvVars.override: an empty value removes the variable; "NAME+SUFFIX"
  // prepends the value and ':' to NAME (or sets NAME when it is absent).
  void override_one(const std::string& key, const std::string& value);

  // EnvVars.overrideExpandingAll: applies `overrides` in dependency order and
  // expands references against the variables set so far. Reference cycles are
  // cut as Jenkins cuts them, and "NAME+SUFFIX" entries are applied last.
  void override_expanding_all(const EnvVars& overrides);

  // Orders the keys of `overrides` as overrideExpandingAll applies them.
  std::vector<std::string> override_order(const EnvVars& overrides) const;

  // replaceMacro against this map.
  std::string expand(std::string_view text) const;

  // "K=V" strings in key order (Util.mapToEnv), ready for execve.
  std::vector<std::string> to_assignments() const;

 private:
  Map map_;
};

}  // namespace kite::launcher
