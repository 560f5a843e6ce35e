#include "runner/launcher/envvars.hpp"

#include <algorithm>
#include <set>

#include <spdlog/spdlog.h>

namespace kite::launcher {
namespace {

char fold_ascii(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_name_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

using NameSet = std::set<std::string, CaseInsensitiveLess>;

// Edges of the reference graph: variable -> variables its value refers to.
using RefereeMap = std::map<std::string, NameSet, CaseInsensitiveLess>;

// Depth-first topological sort of CyclicGraphDetector. Membership tests on
// visited nodes and on the current path are case-sensitive, like the HashSet
// and Stack Jenkins uses, while edge lookups are case-insensitive.
class ReferenceSorter {
 public:
  explicit ReferenceSorter(const RefereeMap& edges) : edges_(edges) {}

  // Returns the cycle found (first and last element equal), or nullopt.
  std::optional<std::vector<std::string>> run() {
    for (const auto& [name, unused] : edges_) {
      if (auto cycle = visit(name)) return cycle;
    }
    return std::nullopt;
  }

  const std::vector<std::string>& sorted() const noexcept { return sorted_; }

 private:
  std::optional<std::vector<std::string>> visit(const std::string& node) {
    if (!visited_.insert(node).second) return std::nullopt;
    visiting_.insert(node);
    path_.push_back(node);

    std::vector<std::string> targets;
    if (auto it = edges_.find(node); it != edges_.end()) targets.assign(it->second.begin(), it->second.end());
    for (const auto& target : targets) {
      if (visiting_.contains(target)) {
        auto first = std::find(path_.begin(), path_.end(), target);
        std::vector<std::string> cycle(first, path_.end());
        cycle.push_back(target);
        return cycle;
      }
      if (auto cycle = visit(target)) return cycle;
    }

    visiting_.erase(node);
    path_.pop_back();
    sorted_.push_back(node);
    return std::nullopt;
  }

  const RefereeMap& edges_;
  std::set<std::string> visited_;
  std::set<std::string> visiting_;
  std::vector<std::string> path_;
  std::vector<std::string> sorted_;
};

// Removes the edge that points at `referee` in `cycle` (referrer-to-referee order).
void cut_cycle_at(RefereeMap& edges, const std::string& referee, const std::vector<std::string>& cycle) {
  auto last = std::find(cycle.rbegin(), cycle.rend(), referee);
  auto referee_index = static_cast<std::size_t>(std::distance(last, cycle.rend()) - 1);
  const std::string& referrer = cycle.at(referee_index - 1);
  if (auto it = edges.find(referrer); it != edges.end()) it->second.erase(referee);
}

std::string join_cycle(const std::vector<std::string>& cycle) {
  std::string text;
  for (const auto& name : cycle) {
    if (!text.empty()) text += " -> ";
    text += name;
  }
  return text;
}

}  // namespace

bool CaseInsensitiveLess::operator()(std::string_view a, std::string_view b) const noexcept {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto ca = static_cast<unsigned char>(fold_ascii(a[i]));
    const auto cb = static_cast<unsigned char>(fold_ascii(b[i]));
    if (ca != cb) return ca < cb;
  }
  return a.size() < b.size();
}

bool equals_ignore_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (fold_ascii(a[i]) != fold_ascii(b[i])) return false;
  }
  return true;
}

std::string replace_macro(std::string_view text, const VariableResolver& resolver) {
  std::string result(text);
  std::size_t index = 0;
  while (true) {
    // Find the next match of \$([A-Za-z0-9_]+|\{[A-Za-z0-9_.]+\}|\$) at or after index.
    std::size_t start = result.find('$', index);
    std::size_t end = 0;
    std::string name;
    bool literal_dollar = false;
    while (start != std::string::npos) {
      const std::size_t next = start + 1;
      if (next < result.size() && is_name_char(result[next])) {
        end = next;
        while (end < result.size() && is_name_char(result[end])) ++end;
        name = result.substr(next, end - next);
        break;
      }
      if (next < result.size() && result[next] == '{') {
        std::size_t close = next + 1;
        while (close < result.size() && (is_name_char(result[close]) || result[close] == '.')) ++close;
        if (close > next + 1 && close < result.size() && result[close] == '}') {
          end = close + 1;
          name = result.substr(next + 1, close - next - 1);
          break;
        }
      }
      if (next < result.size() && result[next] == '$') {
        end = next + 1;
        literal_dollar = true;
        break;
      }
      start = result.find('$', start + 1);
    }
    if (start == std::string::npos) return result;

    std::optional<std::string> value = literal_dollar ? std::optional<std::string>("$") : resolver(name);
    if (!value) {
      index = end;
      continue;
    }
    result.replace(start, end - start, *value);
    index = start + value->size();
  }
}

EnvVars EnvVars::from_environ(const char* const* environ) {
  EnvVars env;
  for (const char* const* entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    const std::size_t equals = text.find('=');
    if (equals == std::string_view::npos || equals == 0) continue;
    const std::string key(text.substr(0, equals));
    if (env.contains(key)) continue;  // keep the first of two spellings, as a snapshot would
    env.put(key, std::string(text.substr(equals + 1)));
  }
  return env;
}

std::expected<EnvVars, Error> EnvVars::from_assignments(const std::vector<std::string>& assignments) {
  EnvVars env;
  for (const auto& assignment : assignments) {
    const std::size_t equals = assignment.find('=');
    if (equals == std::string::npos) {
      return std::unexpected(Error::invalid("invalid environment entry without '=': \"" + assignment + "\""));
    }
    env.put(assignment.substr(0, equals), assignment.substr(equals + 1));
  }
  return env;
}

std::optional<std::string> EnvVars::get(std::string_view key) const {
  auto it = map_.find(key);
  if (it == map_.end()) return std::nullopt;
  return it->second;
}

void EnvVars::put(const std::string& key, std::string value) {
  auto it = map_.find(key);
  if (it != map_.end()) {
    it->second = std::move(value);
  } else {
    map_.emplace(key, std::move(value));
  }
}

void EnvVars::remove(std::string_view key) {
  auto it = map_.find(key);
  if (it != map_.end()) map_.erase(it);
}

void EnvVars::override_one(const std::string& key, const std::string& value) {
  if (value.empty()) {
    remove(key);
    return;
  }
  const std::size_t plus = key.find('+');
  if (plus != std::string::npos && plus > 0) {
    const std::string real_key = key.substr(0, plus);
    auto current = get(real_key);
    put(real_key, current ? value + ':' + *current : value);
    return;
  }
  put(key, value);
}

std::vector<std::string> EnvVars::override_order(const EnvVars& overrides) const {
  RefereeMap edges;
  std::vector<std::string> extending;
  for (const auto& [key, value] : overrides.entries()) {
    const std::size_t plus = key.find('+');
    if (plus != std::string::npos && plus > 0) {
      extending.push_back(key);  // NAME+SUFFIX entries always come last
      continue;
    }
    NameSet referred;
    replace_macro(value, [&referred](const std::string& name) -> std::optional<std::string> {
      referred.insert(name);
      return std::string();
    });
    referred.erase(key);  // a self reference is not an edge
    edges[key] = std::move(referred);
  }

  // Each pass either succeeds or removes one edge, so the loop ends; the bound
  // only guards against a bug turning it into an endless loop.
  std::size_t edge_count = 0;
  for (const auto& [name, targets] : edges) edge_count += targets.size();
  std::optional<ReferenceSorter> sorter;
  for (std::size_t pass = 0; pass <= edge_count; ++pass) {
    sorter.emplace(edges);
    auto cycle = sorter->run();
    if (!cycle) break;
    spdlog::warn("environment: cyclic variable reference {}", join_cycle(*cycle));
    auto existing = std::find_if(cycle->begin(), cycle->end(), [this](const std::string& name) { return contains(name); });
    cut_cycle_at(edges, existing != cycle->end() ? *existing : cycle->front(), *cycle);
  }

  // Keep the last appearance of each name in the reversed topological order.
  std::vector<std::string> reversed(sorter->sorted().rbegin(), sorter->sorted().rend());
  std::vector<std::string> ordered;
  for (const auto& name : reversed) {
    if (overrides.contains(name) && std::find(ordered.begin(), ordered.end(), name) == ordered.end()) {
      ordered.push_back(name);
    }
  }
  std::reverse(ordered.begin(), ordered.end());
  ordered.insert(ordered.end(), extending.begin(), extending.end());
  return ordered;
}

void EnvVars::override_expanding_all(const EnvVars& overrides) {
  for (const auto& key : override_order(overrides)) {
    override_one(key, expand(*overrides.get(key)));
  }
}

std::string EnvVars::expand(std::string_view text) const {
  return replace_macro(text, [this](const std::string& name) { return get(name); });
}

std::vector<std::string> EnvVars::to_assignments() const {
  std::vector<std::string> result;
  result.reserve(map_.size());
  for (const auto& [key, value] : map_) result.push_back(key + '=' + value);
  return result;
}

}  // namespace kite::launcher
