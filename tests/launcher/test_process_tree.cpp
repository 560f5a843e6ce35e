// Killing by environment marker with real processes, including a daemon that
// double-forks and is re-parented away from the process that started it.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "runner/launcher/local_proc.hpp"
#include "runner/launcher/process_tree.hpp"

namespace pt = kite::launcher::process_tree;
using kite::launcher::EnvVars;

namespace {

std::vector<std::string> current_environment_with(const std::string& extra) {
  auto env = EnvVars::from_environ(environ).to_assignments();
  env.push_back(extra);
  return env;
}

// Waits until `path` holds one pid per line, `count` lines in all.
std::vector<pid_t> wait_for_pids(const std::filesystem::path& path, std::size_t count) {
  for (int i = 0; i < 500; ++i) {
    std::ifstream in(path);
    std::vector<pid_t> pids;
    pid_t pid;
    while (in >> pid) pids.push_back(pid);
    if (pids.size() >= count) return pids;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL("pids did not appear in " << path);
  return {};
}

std::filesystem::path temp_file(const char* name) {
  auto path = std::filesystem::temp_directory_path() / (std::string(name) + "-" + std::to_string(::getpid()));
  std::filesystem::remove(path);
  return path;
}

}  // namespace

TEST_CASE("status and environ parsing", "[process_tree]") {
  const std::string status = "Name:\tsleep\nState:\tS (sleeping)\nTgid:\t42\nPPid:\t17\n";
  CHECK(pt::parse_ppid(status) == 17);
  CHECK(pt::parse_state(status) == 'S');
  CHECK_FALSE(pt::parse_ppid("Name: x\n").has_value());
  CHECK_FALSE(pt::parse_ppid("PPid:\tabc\n").has_value());

  const std::string environ_bytes("A=1\0=skip\0noequals\0b=2\0TRAILING=x", 33);
  EnvVars env = pt::parse_environ(environ_bytes);
  CHECK(env.size() == 2);
  CHECK(env.get("a") == "1");
  CHECK(env.get("B") == "2");
  CHECK_FALSE(env.contains("TRAILING"));

  CHECK(pt::matches(env, {{"A", "1"}}));
  CHECK(pt::matches(env, {{"a", "1"}, {"B", "2"}}));
  CHECK_FALSE(pt::matches(env, {{"A", "2"}}));
  CHECK_FALSE(pt::matches(env, {{"A", "1"}, {"C", "3"}}));
  CHECK_FALSE(pt::matches(env, {}));
}

TEST_CASE("descendants come before ancestors", "[process_tree]") {
  const std::vector<pt::ProcessEntry> table = {{10, 1}, {11, 10}, {12, 11}, {13, 10}, {20, 1}};
  auto order = pt::with_descendants({10}, table);
  REQUIRE(order.size() == 4);
  CHECK(order.back() == 10);
  auto position = [&](pid_t pid) { return std::find(order.begin(), order.end(), pid) - order.begin(); };
  CHECK(position(12) < position(11));
  CHECK(std::find(order.begin(), order.end(), 20) == order.end());
}

TEST_CASE("kill_all kills a re-parented daemon by marker", "[process_tree]") {
  const std::string marker = "KITE_TEST_MARKER=" + kite::launcher::random_uuid();
  const auto pid_file = temp_file("kite-pt-daemon");

  // The script starts a grandchild that double-forks (setsid in a subshell
  // that exits), so it is re-parented to init or a subreaper, then waits itself.
  const std::string script = "(setsid sh -c 'echo $$ >> " + pid_file.string() + "; exec sleep 300' &) ; " +
                             "sh -c 'echo $$ >> " + pid_file.string() + "; exec sleep 300' & " +
                             "echo $$ >> " + pid_file.string() + "; wait";
  kite::launcher::ForkExecSpawner spawner;
  kite::launcher::SpawnRequest request;
  request.argv = {"/bin/sh", "-c", script};
  request.environment = current_environment_with(marker);
  auto spawned = spawner.spawn(request);
  REQUIRE(spawned.has_value());

  auto pids = wait_for_pids(pid_file, 3);
  for (pid_t pid : pids) CHECK(pt::is_running(pid));

  const auto equals = marker.find('=');
  const std::map<std::string, std::string> model{{marker.substr(0, equals), marker.substr(equals + 1)}};
  auto matching = pt::find_matching(model);
  CHECK(matching.size() >= 3);

  auto killed = pt::kill_all(model, {std::chrono::milliseconds(2000)});
  CHECK(killed >= 3);

  REQUIRE(spawned->child->wait().has_value());
  for (pid_t pid : pids) CHECK_FALSE(pt::is_running(pid));
  CHECK(pt::find_matching(model).empty());
  std::filesystem::remove(pid_file);
}

TEST_CASE("SIGKILL follows when SIGTERM is ignored", "[process_tree]") {
  const std::string marker = "KITE_TEST_MARKER=" + kite::launcher::random_uuid();
  const auto pid_file = temp_file("kite-pt-stubborn");
  kite::launcher::ForkExecSpawner spawner;
  kite::launcher::SpawnRequest request;
  request.argv = {"/bin/sh", "-c", "trap '' TERM; echo $$ > " + pid_file.string() + "; while :; do sleep 1; done"};
  request.environment = current_environment_with(marker);
  auto spawned = spawner.spawn(request);
  REQUIRE(spawned.has_value());
  wait_for_pids(pid_file, 1);

  const auto equals = marker.find('=');
  const auto started = std::chrono::steady_clock::now();
  pt::kill_all({{marker.substr(0, equals), marker.substr(equals + 1)}}, {std::chrono::milliseconds(300)});
  auto status = spawned->child->wait();
  REQUIRE(status.has_value());
  CHECK(*status == 128 + SIGKILL);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
  std::filesystem::remove(pid_file);
}

TEST_CASE("empty model kills nothing", "[process_tree]") {
  CHECK(pt::find_matching({}).empty());
  CHECK(pt::kill_all({}) == 0);
}
