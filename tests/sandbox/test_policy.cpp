// Policy parsing, selection by labels and cache eviction: no namespaces needed.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <utime.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "sandbox/cache.hpp"
#include "sandbox/policy.hpp"
#include "tests/sandbox/support.hpp"

using namespace kite::sandbox;
using nlohmann::json;

TEST_CASE("built-in policies") {
  const auto builtins = builtin_policies();
  REQUIRE(builtins.count("strict") == 1);
  REQUIRE(builtins.count("default") == 1);
  REQUIRE(builtins.count("off") == 1);
  CHECK(builtins.at("default").network() == NetworkMode::host);
  CHECK(builtins.at("strict").network() == NetworkMode::none);
  CHECK_FALSE(builtins.at("strict").seccomp.allow_ptrace);
  CHECK_FALSE(builtins.at("off").enabled);
}

TEST_CASE("configured policy extends a built-in") {
  const json section = json::parse(R"({
    "policies": {
      "debug": {"extends": "strict", "seccomp": {"allow_ptrace": true, "allow_perf": true}},
      "maven": {"caches": [{"name": "m2", "target": "~/.m2", "max_size_mib": 2048}], "limits": {"memory_mib": 2048}},
      "default": {"network": "none"}
    },
    "policy": "maven",
    "labels": [{"label": "gdb", "policy": "debug"}, {"label": "docker", "policy": "off"}],
    "cache_root": "/var/cache/kite"
  })");
  auto config = parse_config(section);
  REQUIRE(config.has_value());
  const Policy& debug = config->policies.at("debug");
  CHECK(debug.seccomp.allow_ptrace);
  CHECK(debug.seccomp.allow_perf);
  CHECK(debug.namespaces.net);  // inherited from strict
  CHECK(debug.limits.memory_mib == 4096);
  // "maven" has no "extends": it starts from the configured "default"? No: from the built-in default.
  const Policy& maven = config->policies.at("maven");
  REQUIRE(maven.caches.size() == 1);
  CHECK(maven.caches[0].max_size_mib == 2048);
  CHECK(maven.limits.memory_mib == 2048);
  // A configured policy named like a built-in overrides it field by field.
  CHECK(config->policies.at("default").namespaces.net);
  CHECK(config->policies.at("default").seccomp.enabled);
  CHECK(config->cache_root == "/var/cache/kite");

  const std::vector<std::string> gdb_node = {"linux", "gdb"};
  const std::vector<std::string> both = {"docker", "gdb"};
  const std::vector<std::string> plain = {"linux"};
  CHECK(select_policy_name(config->nodes, gdb_node) == "debug");
  CHECK(select_policy_name(config->nodes, both) == "debug");  // first rule in configuration order
  CHECK(select_policy_name(config->nodes, plain) == "maven");
  auto selected = select_policy(*config, gdb_node);
  REQUIRE(selected.has_value());
  CHECK(selected->name == "debug");
}

TEST_CASE("invalid policies are rejected with the field") {
  auto bad_key = parse_config(json::parse(R"({"policies": {"x": {"netwrok": "none"}}})"));
  REQUIRE_FALSE(bad_key.has_value());
  CHECK(bad_key.error().message() == "invalid policy: policy 'x': unknown key 'netwrok'");

  auto bad_mode = parse_config(json::parse(R"({"policies": {"x": {"network": "some"}}})"));
  REQUIRE_FALSE(bad_mode.has_value());
  CHECK(bad_mode.error().message() == "invalid policy: policy 'x'.network: 'some' is not 'host' or 'none'");

  auto cycle = parse_config(json::parse(R"({"policies": {"a": {"extends": "b"}, "b": {"extends": "a"}}})"));
  REQUIRE_FALSE(cycle.has_value());
  CHECK(cycle.error().detail.find("cycle") != std::string::npos);

  auto unknown = parse_config(json::parse(R"({"policy": "nope"})"));
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().message() == "invalid sandbox configuration: sandbox.policy names unknown policy 'nope'");

  auto bad_cache = parse_config(json::parse(R"({"policies": {"x": {"caches": [{"name": "../up", "target": "/c"}]}}})"));
  REQUIRE_FALSE(bad_cache.has_value());
  CHECK(bad_cache.error().detail.find("plain directory name") != std::string::npos);

  auto wrong_type = parse_config(json::parse(R"({"policies": {"x": {"limits": {"memory_mib": "lots"}}}})"));
  REQUIRE_FALSE(wrong_type.has_value());
  CHECK(wrong_type.error().detail.find("memory_mib") != std::string::npos);
}

TEST_CASE("policy round-trips through JSON") {
  Policy p = builtin_policies().at("strict");
  p.caches.push_back({"npm", "~/.npm", 100});
  auto back = parse_policy(to_json(p), builtin_policies().at("default"));
  REQUIRE(back.has_value());
  CHECK(to_json(*back) == to_json(p));
}

namespace {

void write_file(const std::filesystem::path& path, size_t bytes, time_t last_use) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << std::string(bytes, 'x');
  utimbuf times{last_use, last_use};
  ::utime(path.c_str(), &times);
}

}  // namespace

TEST_CASE("cache eviction removes least recently used files") {
  const auto dir = kite::sandbox::test::scratch_dir("evict");
  const time_t now = ::time(nullptr);
  write_file(dir / "old" / "a.jar", 64 * 1024, now - 3000);
  write_file(dir / "mid" / "b.jar", 64 * 1024, now - 2000);
  write_file(dir / "new" / "c.jar", 64 * 1024, now - 10);
  auto size = cache_size(dir);
  REQUIRE(size.has_value());
  REQUIRE(*size >= 3 * 64 * 1024);

  // Room for about two files (plus directory blocks): the oldest goes.
  const uint64_t cap = *size - 32 * 1024;
  auto result = evict_cache(dir, cap);
  REQUIRE(result.has_value());
  CHECK(result->files_removed == 1);
  CHECK(result->size_after <= cap);
  CHECK_FALSE(std::filesystem::exists(dir / "old" / "a.jar"));
  CHECK_FALSE(std::filesystem::exists(dir / "old"));  // emptied directories go too
  CHECK(std::filesystem::exists(dir / "mid" / "b.jar"));
  CHECK(std::filesystem::exists(dir / "new" / "c.jar"));

  // Under the cap nothing is touched.
  auto again = evict_cache(dir, cap);
  REQUIRE(again.has_value());
  CHECK(again->files_removed == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("cache eviction does not follow symlinks out") {
  const auto dir = kite::sandbox::test::scratch_dir("evict-link");
  const auto outside = kite::sandbox::test::scratch_dir("evict-outside");
  write_file(outside / "precious", 128 * 1024, ::time(nullptr) - 9000);
  std::filesystem::create_directory_symlink(outside, dir / "link");
  write_file(dir / "own", 64 * 1024, ::time(nullptr));
  auto result = evict_cache(dir, 1);
  REQUIRE(result.has_value());
  CHECK(std::filesystem::exists(outside / "precious"));
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(outside);
}
