// Shared helpers of the sandbox tests: run a command through launch() and
// collect its output, make scratch directories the sandbox can see.
#pragma once

#include <dirent.h>
#include <poll.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "sandbox/launcher.hpp"
#include "sandbox/policy.hpp"

extern char** environ;

namespace kite::sandbox::test {

namespace fs = std::filesystem;

struct RunResult {
  bool launched = false;
  std::string launch_error;
  ExitStatus status;
  std::string output;  // stdout and stderr, interleaved as written
};

// The sandbox replaces /tmp with a private tmpfs: a host path below /tmp is
// invisible to a step unless bound writable.
inline bool under_tmp(const fs::path& path) {
  const std::string s = path.lexically_normal().string();
  return s == "/tmp" || s.starts_with("/tmp/");
}

// A fresh directory under KITE_TEST_TMPDIR (the build directory), or under
// /var/tmp when the build directory is below /tmp, so that steps see the
// host's version of the directories around it.
inline fs::path scratch_dir(const std::string& name) {
  const char* base = std::getenv("KITE_TEST_TMPDIR");
  fs::path root = base ? fs::path(base) : fs::current_path();
  if (under_tmp(fs::absolute(root))) root = "/var/tmp";
  std::random_device rd;
  fs::path dir = root / ("sandbox-" + name + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 100000));
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::all);
  return dir;
}

// Path of sandbox_helper that steps can execute: a build directory below
// /tmp is hidden inside the sandbox, so the helper is copied to /var/tmp then.
inline std::string helper() {
  static const std::string path = [] {
    const char* h = std::getenv("KITE_SANDBOX_HELPER");
    const fs::path built = h ? fs::path(h) : fs::current_path() / "sandbox_helper";
    if (!under_tmp(fs::absolute(built))) return built.string();
    const fs::path copy = fs::path("/var/tmp") / ("kite-sandbox-helper-" + std::to_string(::getpid()));
    fs::copy_file(built, copy, fs::copy_options::overwrite_existing);
    fs::permissions(copy, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    std::atexit([] { std::error_code ec; fs::remove(fs::path("/var/tmp") / ("kite-sandbox-helper-" + std::to_string(::getpid())), ec); });
    return copy.string();
  }();
  return path;
}

inline std::vector<std::string> host_env(const std::vector<std::string>& extra = {}) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

inline std::string read_all(int fd) {
  std::string out;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

inline LaunchRequest make_request(const Policy& policy, std::vector<std::string> argv, const fs::path& workspace) {
  LaunchRequest r;
  r.argv = std::move(argv);
  r.envp = host_env();
  r.policy = policy;
  r.workspace = workspace;
  r.stdout_stream = Stdio::pipe();
  r.stderr_stream = Stdio::pipe();
  r.label = "test";
  return r;
}

// Runs the request to the end; stderr is appended after stdout.
inline RunResult run(const LaunchRequest& request) {
  RunResult result;
  auto step = launch(request);
  if (!step) {
    result.launch_error = step.error().message();
    return result;
  }
  result.launched = true;
  auto out = step->take_stdout();
  auto err = step->take_stderr();
  if (out.valid()) result.output = read_all(out.get());
  if (err.valid()) result.output += read_all(err.get());
  auto status = step->wait();
  if (status) result.status = *status;
  return result;
}

inline RunResult run_sh(const Policy& policy, const std::string& script, const fs::path& workspace) {
  return run(make_request(policy, {"/bin/sh", "-c", script}, workspace));
}

inline Policy builtin(const std::string& name) { return builtin_policies().at(name); }

// Host pids whose /proc/<pid>/environ contains `needle`, as Jenkins'
// ProcessTree finds a build's processes by JENKINS_NODE_COOKIE.
inline std::vector<pid_t> pids_with_env(const std::string& needle) {
  std::vector<pid_t> out;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "environ", std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string env = ss.str();
    // Match whole entries only, so a substring of another value does not count.
    if (env.find(std::string(1, '\0') + needle + '\0') != std::string::npos || env.rfind(needle + '\0', 0) == 0) {
      out.push_back(static_cast<pid_t>(std::stol(name)));
    }
  }
  return out;
}

}  // namespace kite::sandbox::test
