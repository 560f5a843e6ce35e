// Launching real processes: exact output bytes, exit codes, cancellation,
// leaked descriptors, reverse streams and stdin.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "runner/launcher/command_line.hpp"
#include "runner/launcher/local_proc.hpp"
#include "runner/launcher/remote_launch.hpp"

using namespace kite::launcher;
using namespace std::chrono_literals;

namespace {

// Collects what is written; optionally sleeps per write to act like a slow channel.
class MemorySink final : public ByteSink {
 public:
  explicit MemorySink(std::chrono::milliseconds delay = 0ms) : delay_(delay) {}
  std::expected<void, Error> write(std::string_view bytes) override {
    if (delay_ > 0ms) std::this_thread::sleep_for(delay_);
    std::lock_guard lock(mutex_);
    data_.append(bytes);
    ++writes_;
    return {};
  }
  std::string data() {
    std::lock_guard lock(mutex_);
    return data_;
  }
  std::size_t writes() {
    std::lock_guard lock(mutex_);
    return writes_;
  }

 private:
  std::chrono::milliseconds delay_;
  std::mutex mutex_;
  std::string data_;
  std::size_t writes_ = 0;
};

class FailingSink final : public ByteSink {
 public:
  std::expected<void, Error> write(std::string_view) override { return std::unexpected(Error::io("channel closed")); }
};

class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(std::string data) : data_(std::move(data)) {}
  std::expected<std::string, Error> read(std::size_t max_bytes) override {
    std::string chunk = data_.substr(offset_, std::min(max_bytes, std::size_t{3}));  // small reads on purpose
    offset_ += chunk.size();
    return chunk;
  }

 private:
  std::string data_;
  std::size_t offset_ = 0;
};

SpawnRequest shell(const std::string& script) {
  SpawnRequest request;
  request.argv = {"/bin/sh", "-c", script};
  request.environment = EnvVars::from_environ(environ).to_assignments();
  return request;
}

StreamPlan plan(std::shared_ptr<ByteSink> out = nullptr, std::shared_ptr<ByteSink> err = nullptr,
                std::shared_ptr<ByteSource> in = nullptr) {
  StreamPlan streams;
  streams.out = std::move(out);
  streams.err = std::move(err);
  streams.in = std::move(in);
  return streams;
}

StreamPlan reversed_plan() {
  StreamPlan streams;
  streams.reverse_stdin = true;
  streams.reverse_stdout = true;
  streams.reverse_stderr = true;
  return streams;
}

std::string read_all(ByteSource& source) {
  std::string all;
  while (true) {
    auto chunk = source.read(8192);
    REQUIRE(chunk.has_value());
    if (chunk->empty()) return all;
    all += *chunk;
  }
}

}  // namespace

TEST_CASE("output bytes arrive exactly", "[local_proc]") {
  ForkExecSpawner spawner;
  auto sink = std::make_shared<MemorySink>();
  auto proc = LocalProc::start(spawner, shell("printf 'a\\377\\000\\376\\303(no newline'; printf 'E' >&2"),
                               plan(sink));
  REQUIRE(proc.has_value());
  auto status = (*proc)->join();
  REQUIRE(status.has_value());
  CHECK(*status == 0);
  CHECK(sink->data() == std::string("a\377\000\376\303(no newline" "E", 17));
}

TEST_CASE("large output passes a slow sink intact", "[local_proc]") {
  const auto file = std::filesystem::temp_directory_path() / ("kite-lp-big-" + std::to_string(::getpid()));
  std::string expected;
  {
    std::ofstream out(file, std::ios::binary);
    for (std::uint32_t i = 0; i < 3 * 1024 * 1024; ++i) expected.push_back(static_cast<char>((i * 7919u) >> 3));
    out << expected;
  }
  ForkExecSpawner spawner;
  auto sink = std::make_shared<MemorySink>(1ms);
  auto proc = LocalProc::start(spawner, shell("cat '" + file.string() + "'"), plan(sink));
  REQUIRE(proc.has_value());
  REQUIRE((*proc)->join() == 0);
  CHECK(sink->data().size() == expected.size());
  CHECK(sink->data() == expected);
  std::filesystem::remove(file);
}

TEST_CASE("separate stderr sink", "[local_proc]") {
  ForkExecSpawner spawner;
  auto out = std::make_shared<MemorySink>();
  auto err = std::make_shared<MemorySink>();
  auto proc = LocalProc::start(spawner, shell("echo out; echo err >&2"), plan(out, err));
  REQUIRE(proc.has_value());
  REQUIRE((*proc)->join() == 0);
  CHECK(out->data() == "out\n");
  CHECK(err->data() == "err\n");
}

TEST_CASE("exit status and signals", "[local_proc]") {
  ForkExecSpawner spawner;
  auto exit3 = LocalProc::start(spawner, shell("exit 3"), StreamPlan{});
  REQUIRE(exit3.has_value());
  CHECK((*exit3)->join() == 3);
  CHECK_FALSE((*exit3)->is_alive());

  auto killed = LocalProc::start(spawner, shell("kill -TERM $$"), StreamPlan{});
  REQUIRE(killed.has_value());
  CHECK((*killed)->join() == 128 + SIGTERM);
}

TEST_CASE("spawn failures use Java's messages", "[local_proc]") {
  ForkExecSpawner spawner;
  SpawnRequest missing = shell("true");
  missing.argv = {"/nonexistent/program", "x"};
  missing.work_dir = "/";
  auto result = LocalProc::start(spawner, missing, StreamPlan{});
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().message ==
        "Cannot run program \"/nonexistent/program\" (in directory \"/\"): error=2, No such file or directory");

  SpawnRequest no_dir = shell("true");
  no_dir.work_dir = "/nonexistent-dir-kite";
  result = LocalProc::start(spawner, no_dir, StreamPlan{});
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().message == "Process working directory '/nonexistent-dir-kite' doesn't exist!");

  SpawnRequest on_path = shell("true");
  on_path.argv = {"sh", "-c", "exit 7"};
  result = LocalProc::start(spawner, on_path, StreamPlan{});
  REQUIRE(result.has_value());
  CHECK((*result)->join() == 7);
}

TEST_CASE("cancelled join kills the tree", "[local_proc]") {
  ForkExecSpawner spawner;
  // exec makes the foreground sleep the child itself, so its status is always
  // SIGTERM; a shell waiting for its children could exit 0 once they were gone.
  auto proc = LocalProc::start(spawner, shell("sleep 300 & exec sleep 300"), StreamPlan{},
                               ProcOptions{.pump_wait = 10000ms, .kill = {1000ms}});
  REQUIRE(proc.has_value());
  std::stop_source stop;
  std::thread canceller([&] {
    std::this_thread::sleep_for(200ms);
    stop.request_stop();
  });
  auto result = (*proc)->join(stop.get_token());
  canceller.join();
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().kind == ErrorKind::kInterrupted);
  auto final_status = (*proc)->join();
  REQUIRE(final_status.has_value());
  CHECK(*final_status == 128 + SIGTERM);
  CHECK(process_tree::find_matching({{"HUDSON_COOKIE", (*proc)->cookie()}}).empty());
}

TEST_CASE("kill reaches daemons through the cookie", "[local_proc]") {
  ForkExecSpawner spawner;
  auto proc = LocalProc::start(spawner, shell("(setsid sleep 300 &); exit 0"), StreamPlan{},
                               ProcOptions{.pump_wait = 200ms, .kill = {1000ms}});
  REQUIRE(proc.has_value());
  REQUIRE((*proc)->join() == 0);
  const std::map<std::string, std::string> cookie{{"HUDSON_COOKIE", (*proc)->cookie()}};
  CHECK(process_tree::find_matching(cookie).size() == 1);
  (void)(*proc)->kill();
  CHECK(process_tree::find_matching(cookie).empty());
}

TEST_CASE("leaked descriptors do not block join", "[local_proc]") {
  ForkExecSpawner spawner;
  auto sink = std::make_shared<MemorySink>();
  auto proc = LocalProc::start(spawner, shell("echo started; sleep 300 &"), plan(sink),
                               ProcOptions{.pump_wait = 300ms, .kill = {1000ms}});
  REQUIRE(proc.has_value());
  const auto started = std::chrono::steady_clock::now();
  REQUIRE((*proc)->join() == 0);
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  CHECK(sink->data() == "started\n" + std::string(kLeakedDescriptorsMessage));
  process_tree::kill_all({{"HUDSON_COOKIE", (*proc)->cookie()}}, {1000ms});
}

TEST_CASE("a dead sink does not block the process", "[local_proc]") {
  ForkExecSpawner spawner;
  auto proc = LocalProc::start(spawner, shell("head -c 2000000 /dev/zero"),
                               plan(std::make_shared<FailingSink>()));
  REQUIRE(proc.has_value());
  CHECK((*proc)->join() == 0);
}

TEST_CASE("reverse stdout and stdin", "[local_proc]") {
  ForkExecSpawner spawner;
  auto proc = LocalProc::start(spawner, shell("tr a-z A-Z; echo err >&2"),
                               reversed_plan());
  REQUIRE(proc.has_value());
  auto stdin_writer = (*proc)->stdin_writer();
  REQUIRE(stdin_writer);
  REQUIRE(stdin_writer->write("hello\n").has_value());
  REQUIRE(stdin_writer->close().has_value());
  auto stdout_reader = (*proc)->stdout_reader();
  REQUIRE(stdout_reader);
  CHECK(read_all(*stdout_reader) == "HELLO\nerr\n");  // stderr is merged, as on a Java agent
  CHECK(read_all(*(*proc)->stderr_reader()).empty());
  CHECK((*proc)->join() == 0);
}

TEST_CASE("stdin copied from a source", "[local_proc]") {
  ForkExecSpawner spawner;
  auto sink = std::make_shared<MemorySink>();
  auto proc = LocalProc::start(spawner, shell("cat"),
                               plan(sink, nullptr, std::make_shared<MemorySource>(std::string("x\0y\n", 4))));
  REQUIRE(proc.has_value());
  CHECK((*proc)->join() == 0);
  CHECK(sink->data() == std::string("x\0y\n", 4));
}

TEST_CASE("remote launch prints and expands", "[local_proc]") {
  ForkExecSpawner spawner;
  auto listener = std::make_shared<MemorySink>();
  auto out = std::make_shared<MemorySink>();
  RemoteLaunchRequest request;
  request.cmd = {"/bin/sh", "-c", "echo \"$GREETING $HUDSON_COOKIE_SET\"; echo ${TARGET}", "secret arg"};
  request.masks = std::vector<bool>{false, false, false, true};
  request.env = std::vector<std::string>{"TARGET=world", "GREETING=hello $TARGET", "HUDSON_COOKIE_SET=yes"};
  request.work_dir = std::filesystem::temp_directory_path().string();

  EnvVars agent_env = EnvVars::from_environ(environ);
  auto proc = remote_launch(request, agent_env, listener.get(), plan(out), spawner);
  REQUIRE(proc.has_value());
  CHECK((*proc)->join() == 0);
  // cmd elements are expanded before the shell sees them: ${TARGET} became "world".
  CHECK(out->data() == "hello world yes\nworld\n");
  CHECK(listener->data() == "[" + workdir_label(*request.work_dir) +
                                "] $ /bin/sh -c 'echo \"$GREETING $HUDSON_COOKIE_SET\"; echo ${TARGET}' ********\n");

  request.quiet = true;
  request.env = std::vector<std::string>{"BROKEN"};
  auto failed = remote_launch(request, agent_env, listener.get(), plan(out), spawner);
  REQUIRE_FALSE(failed.has_value());
  CHECK(failed.error().kind == ErrorKind::kInvalidArgument);

  request.env.reset();
  request.filter_rule_count = 1;
  failed = remote_launch(request, agent_env, listener.get(), plan(out), spawner);
  REQUIRE_FALSE(failed.has_value());
  CHECK(failed.error().kind == ErrorKind::kUnsupported);
}
