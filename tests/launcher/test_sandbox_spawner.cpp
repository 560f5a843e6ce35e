// LocalProc over the sandbox's step launcher: output, exit status and killing
// through the step's own tree kill. Skipped (exit 77) when the kernel refuses
// user namespaces, as in many containers.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <mutex>

#include "runner/launcher/local_proc.hpp"
#include "runner/launcher/sandbox_spawner.hpp"

using namespace kite::launcher;
using namespace std::chrono_literals;

namespace {

class MemorySink final : public ByteSink {
 public:
  std::expected<void, Error> write(std::string_view bytes) override {
    std::lock_guard lock(mutex_);
    data_.append(bytes);
    return {};
  }
  std::string data() {
    std::lock_guard lock(mutex_);
    return data_;
  }

 private:
  std::mutex mutex_;
  std::string data_;
};

std::shared_ptr<Spawner> spawner_for(const char* policy_name) {
  auto policies = kite::sandbox::builtin_policies();
  return make_spawner(policies.at(policy_name), {}, "test-node");
}

SpawnRequest shell(const std::string& script) {
  SpawnRequest request;
  request.argv = {"/bin/sh", "-c", script};
  request.environment = {"PATH=/usr/bin:/bin"};
  request.work_dir = std::filesystem::temp_directory_path().string();
  return request;
}

}  // namespace

TEST_CASE("off policy uses fork and exec", "[sandbox_spawner]") {
  auto spawner = spawner_for("off");
  REQUIRE(dynamic_cast<ForkExecSpawner*>(spawner.get()) != nullptr);
}

TEST_CASE("spawner by policy name", "[sandbox_spawner]") {
  CHECK(spawner_for_policy("", "n") == default_spawner());
  CHECK(dynamic_cast<ForkExecSpawner*>(spawner_for_policy("off", "n").get()) != nullptr);
  CHECK(dynamic_cast<SandboxSpawner*>(spawner_for_policy("strict", "n").get()) != nullptr);
  CHECK(spawner_for_policy("no-such-policy", "n") == nullptr);

  auto custom = kite::sandbox::builtin_policies().at("off");
  custom.name = "custom-off";
  register_policy(custom, {}, "n");
  CHECK(dynamic_cast<ForkExecSpawner*>(spawner_for_policy("custom-off", "n").get()) != nullptr);
}

TEST_CASE("sandboxed launch streams output and exit status", "[sandbox_spawner]") {
  auto spawner = spawner_for("default");
  auto sink = std::make_shared<MemorySink>();
  StreamPlan streams;
  streams.out = sink;
  auto proc = LocalProc::start(*spawner, shell("printf 'in\\377sandbox'; echo err >&2; exit 4"), streams);
  if (!proc) {
    WARN("sandbox unavailable: " << proc.error().message);
    std::exit(77);
  }
  CHECK((*proc)->join() == 4);
  CHECK(sink->data() == "in\377sandboxerr\n");
}

TEST_CASE("sandboxed join cancellation kills the step", "[sandbox_spawner]") {
  auto spawner = spawner_for("default");
  ProcOptions options;
  options.kill.soft_kill_wait = 500ms;
  auto proc = LocalProc::start(*spawner, shell("sleep 300 & sleep 300"), StreamPlan{}, options);
  REQUIRE(proc.has_value());
  std::stop_source stop;
  stop.request_stop();
  auto result = (*proc)->join(stop.get_token());
  REQUIRE_FALSE(result.has_value());
  auto status = (*proc)->join();
  REQUIRE(status.has_value());
  CHECK(*status >= 128);
  CHECK(process_tree::find_matching({{"HUDSON_COOKIE", (*proc)->cookie()}}).empty());
}
