// Durable-task agent side: result parsing, log offsets, output transcoding,
// AgentInfo, the shell wrapper, and a watched run of the real wrapper script.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>

#include "runner/durable/agent_info.hpp"
#include "runner/durable/control_files.hpp"
#include "runner/durable/watcher.hpp"
#include "runner/durable/wrapper.hpp"
#include "runner/launcher/local_proc.hpp"
#include "runner/launcher/process_tree.hpp"
#include "runner/launcher/remote_launch.hpp"

namespace fs = std::filesystem;
using namespace kite::durable;
using namespace std::chrono_literals;
using kite::launcher::ByteSink;
using kite::launcher::Error;

namespace {

class MemorySink final : public ByteSink {
 public:
  std::function<void()> on_first_write;
  std::expected<void, Error> write(std::string_view bytes) override {
    if (on_first_write) std::exchange(on_first_write, nullptr)();
    std::lock_guard lock(mutex_);
    data_.append(bytes);
    ++writes_;
    return {};
  }
  std::expected<void, Error> flush() override {
    std::lock_guard lock(mutex_);
    ++flushes_;
    return {};
  }
  std::string data() {
    std::lock_guard lock(mutex_);
    return data_;
  }
  int writes() {
    std::lock_guard lock(mutex_);
    return writes_;
  }
  int flushes() {
    std::lock_guard lock(mutex_);
    return flushes_;
  }

 private:
  std::mutex mutex_;
  std::string data_;
  int writes_ = 0;
  int flushes_ = 0;
};

// A fresh directory per test case, removed afterwards.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / ("kite-durable-" + name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

void write_file(const fs::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Polls `done` every 20 ms for up to `limit` and returns its last value.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// LocalProc::join with a time limit, so that a process that does not end
// fails the test with a message instead of hanging it until meson's timeout.
// On timeout the join is cancelled, which kills the process tree.
std::optional<int> join_within(kite::launcher::LocalProc& proc, std::chrono::seconds limit) {
  std::stop_source stop;
  std::mutex mutex;
  std::condition_variable_any joined;
  bool done = false;
  std::jthread timer([&](std::stop_token) {
    std::unique_lock lock(mutex);
    if (!joined.wait_for(lock, limit, [&] { return done; })) stop.request_stop();
  });
  auto status = proc.join(stop.get_token());
  {
    std::lock_guard lock(mutex);
    done = true;
  }
  joined.notify_all();
  if (!status) {
    FAIL_CHECK("pid " << proc.pid() << " did not end within " << limit.count() << " s: " << status.error().message);
    return std::nullopt;
  }
  return *status;
}

// The command line BourneShellScript sends for a script without "#!", after
// the agent's $$ expansion (plugin 2.x, polling mode, output to the log).
std::vector<std::string> wrapper_command(const fs::path& control_dir, const std::string& cookie) {
  const std::string cd = control_dir.string();
  const std::string inner = "cp '" + cd + "/script.sh' '" + cd + "/script.sh.copy'; { while [ -d '" + cd +
                            "' -a \\! -f '" + cd + "/jenkins-result.txt' ]; do touch '" + cd +
                            "/jenkins-log.txt'; sleep 3; done } & jsc=" + cookie +
                            "; JENKINS_SERVER_COOKIE=$jsc 'sh' -xe  '" + cd + "/script.sh.copy' > '" + cd +
                            "/jenkins-log.txt' 2>&1; echo $? > '" + cd + "/jenkins-result.txt.tmp'; mv '" + cd +
                            "/jenkins-result.txt.tmp' '" + cd + "/jenkins-result.txt'; wait";
  return {"nohup", "sh", "-c", "(" + inner + ") >&- 2>&- &"};
}

}  // namespace

TEST_CASE("result text parsing", "[durable]") {
  struct Case {
    const char* text;
    std::optional<std::int32_t> expected;
  };
  const Case cases[] = {
      {"0\n", 0},         {"  42 \r\n", 42},           {"", std::nullopt},          {"\n\t ", std::nullopt},
      {"-1", -1},         {"+7", 7},                   {"99999999999", 2147483647}, {"2147483647", 2147483647},
      {"-99999999999", -1215752191}, {"-9223372036854775808", 0}, {"143\n", 143},
  };
  for (const auto& c : cases) {
    INFO("text: \"" << c.text << "\"");
    auto status = parse_status(c.text, "/cd/jenkins-result.txt");
    REQUIRE(status.has_value());
    CHECK(*status == c.expected);
  }

  const char* corrupted[] = {"abc", "1 2", "9223372036854775808", "-", "0x10", "1.0"};
  for (const char* text : corrupted) {
    INFO("text: \"" << text << "\"");
    auto status = parse_status(text, "/cd/jenkins-result.txt");
    REQUIRE_FALSE(status.has_value());
    CHECK(status.error().message == "corrupted content in /cd/jenkins-result.txt: "
                                    "java.lang.NumberFormatException: For input string: \"" +
                                        std::string(text) + "\"");
  }
}

TEST_CASE("status check on files", "[durable]") {
  TempDir dir("status");
  const auto result = dir.path / "jenkins-result.txt";
  auto status = status_check(result);
  REQUIRE(status.has_value());
  CHECK_FALSE(status->has_value());

  write_file(result, "");
  status = status_check(result);
  REQUIRE(status.has_value());
  CHECK_FALSE(status->has_value());

  write_file(result, "3\n");
  status = status_check(result);
  REQUIRE(status.has_value());
  CHECK(*status == 3);

  write_file(result, std::string(kMaxSmallFileBytes + 1, '1'));
  CHECK_FALSE(status_check(result).has_value());
}

TEST_CASE("write_log sends exactly the new range", "[durable]") {
  TempDir dir("writelog");
  const auto log = dir.path / "jenkins-log.txt";
  std::string content;
  for (int i = 0; i < 200000; ++i) content += static_cast<char>(i * 31 % 256);
  content += "tail without newline \xff\xfe";
  write_file(log, content);

  MemorySink all;
  auto sent = write_log(log, 0, all);
  REQUIRE(sent.has_value());
  CHECK(*sent == content.size());
  CHECK(all.data() == content);
  CHECK(all.writes() == static_cast<int>((content.size() + kLogCopyBufferBytes - 1) / kLogCopyBufferBytes));

  MemorySink tail;
  sent = write_log(log, 150000, tail);
  REQUIRE(sent.has_value());
  CHECK(tail.data() == content.substr(150000));

  MemorySink none;
  sent = write_log(log, content.size(), none);
  REQUIRE(sent.has_value());
  CHECK(*sent == 0);
  sent = write_log(log, content.size() + 10, none);
  REQUIRE(sent.has_value());
  CHECK(*sent == 0);
  CHECK(none.writes() == 0);

  MemorySink missing;
  sent = write_log(dir.path / "absent.txt", 0, missing);
  REQUIRE(sent.has_value());
  CHECK(*sent == 0);
}

TEST_CASE("write_log stops at the size it saw first", "[durable]") {
  TempDir dir("writelog-grow");
  const auto log = dir.path / "jenkins-log.txt";
  const std::string first(100000, 'a');
  write_file(log, first);

  MemorySink sink;
  sink.on_first_write = [&] {
    std::ofstream out(log, std::ios::binary | std::ios::app);
    out << "appended later";
  };
  auto sent = write_log(log, 0, sink);
  REQUIRE(sent.has_value());
  CHECK(*sent == first.size());
  CHECK(sink.data() == first);

  MemorySink rest;
  auto offset = copy_to_end(log, first.size(), rest);
  REQUIRE(offset.has_value());
  CHECK(*offset == first.size() + 14);
  CHECK(rest.data() == "appended later");
}

TEST_CASE("output transcoding", "[durable]") {
  auto same = transcode_to_utf8("bytes \xff as is", std::nullopt);
  REQUIRE(same.has_value());
  CHECK(*same == "bytes \xff as is");

  auto utf8 = transcode_to_utf8("caf\xc3\xa9", std::string("utf-8"));
  REQUIRE(utf8.has_value());
  CHECK(*utf8 == "caf\xc3\xa9");

  auto latin1 = transcode_to_utf8("caf\xe9", std::string("ISO-8859-1"));
  REQUIRE(latin1.has_value());
  CHECK(*latin1 == "caf\xc3\xa9");

  auto malformed = transcode_to_utf8("a\x80z", std::string("US-ASCII"));
  REQUIRE(malformed.has_value());
  CHECK(*malformed == "a\xef\xbf\xbdz");

  CHECK_FALSE(transcode_to_utf8("x", std::string("NO-SUCH-CHARSET")).has_value());
}

TEST_CASE("output file and last location", "[durable]") {
  TempDir dir("output");
  CHECK_FALSE(get_output(dir.path / "output.txt", std::nullopt).has_value());
  write_file(dir.path / "output.txt", std::string("line\n\0bin", 9));
  auto output = get_output(dir.path / "output.txt", std::nullopt);
  REQUIRE(output.has_value());
  CHECK(*output == std::string("line\n\0bin", 9));

  const auto location = dir.path / "last-location.txt";
  auto absent = read_last_location(location);
  REQUIRE(absent.has_value());
  CHECK_FALSE(absent->has_value());
  REQUIRE(write_last_location(location, 123456789012ULL).has_value());
  CHECK(read_file(location) == "123456789012");
  auto stored = read_last_location(location);
  REQUIRE(stored.has_value());
  CHECK(*stored == 123456789012ULL);

  write_file(location, "12\n");  // Long.parseLong does not trim
  CHECK_FALSE(read_last_location(location).has_value());
}

TEST_CASE("agent info values", "[durable]") {
  auto info = agent_info("2.35", "x86_64");
  CHECK(info.os == "LINUX");
  CHECK(info.architecture == "64");
  CHECK(info.binary_path == "durable_task_monitor_2.35_linux_64");
  CHECK_FALSE(info.binary_compatible);
  CHECK_FALSE(info.binary_cached);
  CHECK_FALSE(info.caching_available);
  CHECK(architecture_for_machine("aarch64") == "aarch64");
  CHECK(architecture_for_machine("ppc64le") == "ppc64le");
  CHECK(architecture_for_machine("i686") == "32");
  CHECK(architecture_for_machine("armv7l") == "NOTSUPPORTED");
}

TEST_CASE("wrapper command recognition", "[durable]") {
  auto command = wrapper_command("/ws@tmp/durable-1234abcd", "durable-0123");
  CHECK(is_wrapper_command(command));
  auto foreground = command;
  REQUIRE(foreground_wrapper(foreground));
  CHECK(foreground.back() == command.back().substr(0, command.back().size() - 2));
  CHECK(foreground.back().ends_with(") >&- 2>&-"));

  std::vector<std::string> without_nohup(command.begin() + 1, command.end());
  CHECK(is_wrapper_command(without_nohup));

  std::vector<std::string> plain = {"/bin/sh", "-xe", "/tmp/jenkins1.sh"};
  CHECK_FALSE(foreground_wrapper(plain));
  CHECK(plain.back() == "/tmp/jenkins1.sh");
  std::vector<std::string> other_background = {"sh", "-c", "(sleep 1) >&- 2>&- &"};
  CHECK_FALSE(is_wrapper_command(other_background));
}

TEST_CASE("watched wrapper run reports output and status", "[durable]") {
  TempDir workspace("ws");
  const fs::path control_dir = workspace.path.string() + "@tmp/durable-1a2b3c4d";
  fs::create_directories(control_dir);
  // The last command runs in a shell without -x, so no trace line follows its output.
  write_file(control_dir / "script.sh", "echo hello\nexec sh -c \"printf 'no newline \\\\377'; exit 3\"\n");

  // The launch as the controller sends it: $ doubled, then expanded by the launcher.
  kite::launcher::RemoteLaunchRequest request;
  request.cmd = wrapper_command(control_dir, "durable-feedface");
  for (auto& argument : request.cmd) {
    std::string doubled;
    for (char c : argument) doubled += c == '$' ? std::string("$$") : std::string(1, c);
    argument = doubled;
  }
  request.env = std::vector<std::string>{"JENKINS_SERVER_COOKIE=please-do-not-kill-me"};
  request.work_dir = workspace.path.string();
  request.quiet = true;
  request.reverse_stdout = request.reverse_stderr = true;
  auto prepared = kite::launcher::prepare_launch(request, kite::launcher::EnvVars::from_environ(environ));
  REQUIRE(prepared.has_value());
  CHECK(prepared->spawn.argv.back().find("JENKINS_SERVER_COOKIE=$jsc") != std::string::npos);
  REQUIRE(foreground_wrapper(prepared->spawn.argv));

  kite::launcher::ForkExecSpawner spawner;
  kite::launcher::StreamPlan streams;
  streams.reverse_stdout = streams.reverse_stderr = true;
  auto proc = kite::launcher::LocalProc::start(spawner, prepared->spawn, streams);
  REQUIRE(proc.has_value());

  auto listener = std::make_shared<MemorySink>();
  std::optional<std::int32_t> reported_status;
  std::optional<std::string> reported_output = "unset";
  Watcher watcher(WatchTarget{control_dir, std::nullopt}, listener,
                  [&](std::int32_t status, std::optional<std::string> output) -> std::expected<void, Error> {
                    reported_status = status;
                    reported_output = std::move(output);
                    return {};
                  });
  Watcher::State state = Watcher::State::kRunning;
  for (int round = 0; round < 200 && state == Watcher::State::kRunning; ++round) {
    auto checked = watcher.check_once();
    REQUIRE(checked.has_value());
    state = *checked;
    if (state == Watcher::State::kRunning) std::this_thread::sleep_for(kWatchInterval);
  }
  REQUIRE(state == Watcher::State::kFinished);
  CHECK(reported_status == 3);
  CHECK_FALSE(reported_output.has_value());  // no output.txt without returnStdout
  const std::string log = listener->data();
  CHECK(log.find("+ echo hello\nhello\n") != std::string::npos);
  CHECK(log.ends_with("no newline \377\n"));  // the newline the listener adds on close
  CHECK(listener->flushes() >= 1);
  CHECK_FALSE(fs::exists(control_dir));
  CHECK(join_within(**proc, 30s) == 0);
}

TEST_CASE("KillTask cookie stops a durable script", "[durable]") {
  TempDir workspace("kill");
  const fs::path control_dir = workspace.path.string() + "@tmp/durable-5e6f7a8b";
  fs::create_directories(control_dir);
  write_file(control_dir / "script.sh", "echo started\nsleep 300\n");
  const std::string cookie = "durable-" + kite::launcher::random_uuid();

  kite::launcher::SpawnRequest spawn;
  spawn.argv = wrapper_command(control_dir, cookie);
  REQUIRE(foreground_wrapper(spawn.argv));
  spawn.environment = kite::launcher::EnvVars::from_environ(environ).to_assignments();
  spawn.environment.push_back("JENKINS_SERVER_COOKIE=please-do-not-kill-me");
  spawn.work_dir = workspace.path.string();
  kite::launcher::ForkExecSpawner spawner;
  auto proc = kite::launcher::LocalProc::start(spawner, spawn, kite::launcher::StreamPlan{});
  REQUIRE(proc.has_value());

  // Killing before the script started would find nothing to kill and leave
  // its `sleep 300` for the join below.
  REQUIRE(wait_until([&] { return read_file(control_dir / "jenkins-log.txt").find("started") != std::string::npos; },
                     30s));
  const std::size_t killed = kite::launcher::process_tree::kill_all({{"JENKINS_SERVER_COOKIE", cookie}}, {2000ms});
  CHECK(killed >= 1);

  std::optional<std::int32_t> status;
  wait_until(
      [&] {
        auto checked = status_check(control_dir / "jenkins-result.txt");
        status = checked.value_or(std::nullopt);
        return status.has_value();
      },
      30s);
  CHECK(status == 128 + 15);  // the wrapper records the killed script's $?
  CHECK(join_within(**proc, 30s) == 0);
}

TEST_CASE("finished watch deletes control dir despite heartbeat", "[durable]") {
  // The wrapper's heartbeat loop touches jenkins-log.txt while the control
  // directory exists. This stand-in touches it without pause, so that a
  // deletion that loses the race leaves the directory behind. With
  // remove_all in place, about one deletion in a hundred did, and then the
  // real loop, and so the wrapper, ran forever.
  TempDir workspace("heartbeat");
  const fs::path control_dir = workspace.path / "durable-0c0ffee0";
  kite::launcher::SpawnRequest spawn;
  spawn.argv = {"sh", "-c", "while [ -d '" + workspace.path.string() + "' ]; do touch '" +
                                (control_dir / "jenkins-log.txt").string() + "' 2>/dev/null; done"};
  spawn.environment = kite::launcher::EnvVars::from_environ(environ).to_assignments();
  kite::launcher::ForkExecSpawner spawner;
  auto toucher = kite::launcher::LocalProc::start(spawner, spawn, kite::launcher::StreamPlan{});
  REQUIRE(toucher.has_value());

  int left_behind = 0;
  for (int round = 0; round < 500; ++round) {
    fs::create_directories(control_dir);
    write_file(control_dir / "jenkins-result.txt", "0\n");
    write_file(control_dir / "script.sh", "true\n");
    auto listener = std::make_shared<MemorySink>();
    Watcher watcher(WatchTarget{control_dir, std::nullopt}, listener,
                    [](std::int32_t, std::optional<std::string>) -> std::expected<void, Error> { return {}; });
    auto state = watcher.check_once();
    REQUIRE(state.has_value());
    REQUIRE(*state == Watcher::State::kFinished);
    if (fs::exists(control_dir)) ++left_behind;
    fs::remove_all(control_dir);
  }
  CHECK(left_behind == 0);
  CHECK(fs::directory_iterator(workspace.path) == fs::directory_iterator());  // no renamed copy left either

  (void)(*toucher)->kill();
}
