// The agent's environment variables: SlaveComputer$ListFullEnvironment
// (a TreeMap) and EnvVars$GetEnvVars (hudson.EnvVars, case-insensitive).
#include <algorithm>
#include <cctype>

#include "protocol/serialization/build.hpp"
#include "protocol/serialization/jdk.hpp"
#include "runner/callables/registry.hpp"
#include "runner/callables/system_info.hpp"

namespace kite::callables {
namespace {

// hudson.EnvVars: a TreeMap<String,String> with String.CASE_INSENSITIVE_ORDER
// and a Platform field (serialVersionUID from Jenkins core).
const ser::ClassDesc* env_vars_desc() {
  static ser::Arena arena;
  static const ser::ClassDesc* desc = ser::make_class_desc(
      arena, ser::ClassSpec{"hudson.EnvVars", 4320331661987259022LL, ser::kScSerializable,
                            {{'L', "platform", "Lhudson/Platform;"}}, ser::jdk::descriptor("java.util.TreeMap")});
  return desc;
}

bool case_insensitive_less(const std::string& a, const std::string& b) {
  // String.CASE_INSENSITIVE_ORDER compares char by char after toUpperCase then toLowerCase;
  // for ASCII names this is the lower-case order.
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](unsigned char x, unsigned char y) {
    return std::tolower(std::toupper(x)) < std::tolower(std::toupper(y));
  });
}

const Registration list_full_environment{"hudson.slaves.SlaveComputer$ListFullEnvironment",
                                         [](const Call&, Context& ctx) -> Result {
                                           std::vector<std::pair<ser::Value, ser::Value>> entries;
                                           for (const auto& [k, v] : sysinfo::environment()) {
                                             entries.emplace_back(ser::jdk::string(ctx.arena(), k),
                                                                  ser::jdk::string(ctx.arena(), v));
                                           }
                                           return ctx.reply(ser::jdk::tree_map(ctx.arena(), std::move(entries)));
                                         }};

const Registration get_env_vars{"hudson.EnvVars$GetEnvVars", [](const Call&, Context& ctx) -> Result {
  auto env = sysinfo::environment();
  std::vector<std::pair<std::string, std::string>> sorted(env.begin(), env.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return case_insensitive_less(a.first, b.first); });
  // Names equal but for case collapse into one entry in a case-insensitive map; the last one wins, as put() does.
  std::vector<std::pair<std::string, std::string>> unique;
  for (auto& entry : sorted) {
    if (!unique.empty() && !case_insensitive_less(unique.back().first, entry.first) &&
        !case_insensitive_less(entry.first, unique.back().first)) {
      unique.back().second = std::move(entry.second);
    } else {
      unique.push_back(std::move(entry));
    }
  }

  ser::Arena& arena = ctx.arena();
  ser::Object* o = ser::make_object(arena, env_vars_desc());
  ser::ClassData* tree = o->class_data("java.util.TreeMap");
  const ser::ClassDesc* comparator_desc = ser::jdk::descriptor("java.lang.String$CaseInsensitiveComparator");
  o->set("java.util.TreeMap", "comparator",
         ser::Value(static_cast<const ser::Object*>(ser::make_object(arena, comparator_desc))));
  tree->custom.emplace_back(ser::BlockBuilder().write_int(static_cast<std::int32_t>(unique.size())).build());
  for (const auto& [k, v] : unique) {
    tree->custom.emplace_back(ser::jdk::string(arena, k));
    tree->custom.emplace_back(ser::jdk::string(arena, v));
  }
  o->set("hudson.EnvVars", "platform", ser::jdk::enum_constant(arena, "hudson.Platform", "UNIX"));
  return ctx.reply(static_cast<const ser::Object*>(o));
}};

}  // namespace
}  // namespace kite::callables
