// kite exec and kite check: run one command in the sandbox locally through
// the same launch() the controller's steps use, and print the kernel probe.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "runner/commands.hpp"
#include "sandbox/cache.hpp"
#include "sandbox/launcher.hpp"
#include "sandbox/policy.hpp"
#include "sandbox/probe.hpp"

extern char** environ;

namespace kite::cmd {

namespace {

namespace sb = kite::sandbox;
namespace fs = std::filesystem;

constexpr const char* kExecUsage =
    "usage: kite exec [--policy NAME] [--workspace DIR] [--config FILE] [--label LABEL]... [--node NAME] -- COMMAND [ARG]...\n"
    "  --policy NAME     sandbox policy (built in: strict, default, off); default: chosen by the labels\n"
    "  --workspace DIR   directory bound writable and used as working directory; default: the current directory\n"
    "  --config FILE     Kite's JSON configuration; its \"sandbox\" section adds and overrides policies\n"
    "  --label LABEL     a node label used to choose the policy (repeatable)\n"
    "  --node NAME       node name for the cache directories; default: local\n";

// Time a step gets between SIGTERM and SIGKILL when kite exec is interrupted.
constexpr auto kInterruptGrace = std::chrono::seconds(5);

struct ExecOptions {
  std::string policy;
  std::string workspace;
  std::string config;
  std::string node = "local";
  std::vector<std::string> labels;
  std::vector<std::string> command;
};

std::optional<ExecOptions> parse_exec(std::span<const std::string_view> args) {
  ExecOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= args.size()) return false;
      out = std::string(args[++i]);
      return true;
    };
    if (a == "--") {
      for (++i; i < args.size(); ++i) o.command.emplace_back(args[i]);
      break;
    }
    std::string label;
    if (a == "--policy" ? value(o.policy)
        : a == "--workspace" ? value(o.workspace)
        : a == "--config" ? value(o.config)
        : a == "--node" ? value(o.node)
        : a == "--label" ? (value(label) && (o.labels.push_back(label), true))
        : false) {
      continue;
    }
    std::fprintf(stderr, "kite exec: unknown or incomplete option '%.*s'\n%s", static_cast<int>(a.size()), a.data(), kExecUsage);
    return std::nullopt;
  }
  if (o.command.empty()) {
    std::fprintf(stderr, "kite exec: missing COMMAND after '--'\n%s", kExecUsage);
    return std::nullopt;
  }
  return o;
}

// Copies the step's stdout and stderr to Kite's as they come, and turns
// SIGINT/SIGTERM/SIGHUP into a kill of the whole step.
void pump_output(sb::Step& step, sb::UniqueFd out, sb::UniqueFd err) {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGHUP);
  sb::UniqueFd sfd(::signalfd(-1, &mask, SFD_CLOEXEC));

  pollfd fds[3] = {{out.get(), POLLIN, 0}, {err.get(), POLLIN, 0}, {sfd.get(), POLLIN, 0}};
  const int targets[2] = {STDOUT_FILENO, STDERR_FILENO};
  char buffer[65536];
  int open_streams = 2;
  while (open_streams > 0) {
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[2].revents & POLLIN) {
      signalfd_siginfo info{};
      (void)!::read(sfd.get(), &info, sizeof info);
      std::fprintf(stderr, "kite exec: %s received, stopping the step\n", ::strsignal(static_cast<int>(info.ssi_signo)));
      (void)step.kill(kInterruptGrace);
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        for (ssize_t done = 0; done < n;) {
          const ssize_t w = ::write(targets[i], buffer + done, static_cast<size_t>(n - done));
          if (w <= 0) break;
          done += w;
        }
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      fds[i].fd = -1;
      --open_streams;
    }
  }
}

// Sends Kite's own log lines to stderr, so they never mix with the step's
// stdout, and keeps only those at `level` or above.
void log_to_stderr(spdlog::level::level_enum level) {
  auto logger = spdlog::stderr_logger_mt("kite-sandbox-cli");
  logger->set_level(level);
  spdlog::set_default_logger(logger);
}

}  // namespace

int exec(std::span<const std::string_view> args) {
  auto options = parse_exec(args);
  if (!options) return 2;
  // Launch failures and the unconfined warning are printed below; the
  // probe's findings are what `kite check` is for.
  log_to_stderr(spdlog::level::err);

  auto config = options->config.empty() ? sb::parse_config(nlohmann::json()) : sb::load_config_file(options->config);
  if (!config) {
    std::fprintf(stderr, "kite exec: %s\n", config.error().message().c_str());
    return 2;
  }
  sb::Policy policy;
  if (!options->policy.empty()) {
    const auto it = config->policies.find(options->policy);
    if (it == config->policies.end()) {
      std::string names;
      for (const auto& [name, p] : config->policies) names += (names.empty() ? "" : ", ") + name;
      std::fprintf(stderr, "kite exec: unknown policy '%s' (known: %s)\n", options->policy.c_str(), names.c_str());
      return 2;
    }
    policy = it->second;
  } else {
    auto selected = sb::select_policy(*config, options->labels);
    if (!selected) {
      std::fprintf(stderr, "kite exec: %s\n", selected.error().message().c_str());
      return 2;
    }
    policy = *selected;
  }

  std::error_code ec;
  const fs::path workspace = options->workspace.empty() ? fs::current_path(ec) : fs::absolute(options->workspace, ec);
  if (ec) {
    std::fprintf(stderr, "kite exec: invalid workspace '%s': %s\n", options->workspace.c_str(), ec.message().c_str());
    return 2;
  }

  const char* home = std::getenv("HOME");
  const fs::path home_dir = home ? home : "/";
  fs::path cache_root = config->cache_root;
  if (cache_root.empty()) cache_root = home_dir / ".cache" / "kite";

  sb::LaunchRequest request;
  request.argv = options->command;
  for (char** e = environ; *e; ++e) request.envp.emplace_back(*e);
  request.stdin_stream = sb::Stdio::inherit();
  request.stdout_stream = sb::Stdio::pipe();
  request.stderr_stream = sb::Stdio::pipe();
  request.policy = policy;
  request.workspace = workspace;
  request.caches = sb::cache_mounts(policy, cache_root, options->node, home_dir);
  request.label = "kite exec";

  // Blocked before the launch so the step cannot be orphaned by an early ^C;
  // the step's init and the step reset their own masks.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGHUP);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);

  auto step = sb::launch(request);
  if (!step) {
    std::fprintf(stderr, "kite exec: could not start '%s': %s\n", request.argv.front().c_str(), step.error().message().c_str());
    return 127;
  }
  if (!step->warning().empty()) std::fprintf(stderr, "kite exec: %s\n", step->warning().c_str());

  pump_output(*step, step->take_stdout(), step->take_stderr());
  auto status = step->wait();
  if (!status) {
    std::fprintf(stderr, "kite exec: %s\n", status.error().message().c_str());
    return 125;
  }
  for (const auto& cache : request.caches) {
    if (cache.max_size_bytes == 0) continue;
    if (auto r = sb::evict_cache(cache.host_dir, cache.max_size_bytes); !r) {
      std::fprintf(stderr, "kite exec: cache eviction in %s failed: %s\n", cache.host_dir.c_str(), r.error().message().c_str());
    }
  }
  if (status->reason) std::fprintf(stderr, "kite exec: %s\n", status->reason->message.c_str());
  if (status->signal) return 128 + status->signal;
  return status->code;
}

int check(std::span<const std::string_view> args) {
  if (!args.empty()) {
    std::fputs("usage: kite check\n  prints what the kernel allows the sandbox to do, one line per finding with its fix\n", stderr);
    return 2;
  }
  log_to_stderr(spdlog::level::off);  // the findings are printed below, once
  const sb::ProbeResult result = sb::probe();
  for (const auto& finding : result.findings) std::printf("%s\n", sb::format_finding(finding).c_str());
  std::printf("summary: steps %s be confined%s\n", result.can_confine ? "can" : "cannot",
              result.can_confine ? "" : "; policies with \"on_unavailable\": \"refuse\" will not run steps");
  return result.can_confine ? 0 : 1;
}

}  // namespace kite::cmd
