#include "runner/launcher/remote_launch.hpp"

#include <unistd.h>

#include <mutex>

#include <spdlog/spdlog.h>

#include "runner/launcher/command_line.hpp"

namespace kite::launcher {
namespace {

struct Adjusters {
  std::mutex mutex;
  std::vector<LaunchAdjuster> list;
};

Adjusters& adjusters() {
  static Adjusters instance;
  return instance;
}

}  // namespace

void add_launch_adjuster(LaunchAdjuster adjuster) {
  auto& all = adjusters();
  std::lock_guard lock(all.mutex);
  all.list.push_back(std::move(adjuster));
}

std::expected<PreparedLaunch, Error> prepare_launch(const RemoteLaunchRequest& request, const EnvVars& agent_env) {
  if (request.filter_rule_count > 0) {
    return std::unexpected(Error::unsupported(
        "Kite cannot apply environment variable filter rules (EnvVarsFilterRuleWrapper with " +
        std::to_string(request.filter_rule_count) + " rules); remove the filters or use a Java agent"));
  }
  if (request.cmd.empty()) return std::unexpected(Error::invalid("cannot launch an empty command"));

  PreparedLaunch prepared;
  if (!request.quiet) {
    auto line = format_command_line(request.cmd, request.masks, request.work_dir);
    if (!line) return std::unexpected(line.error());
    prepared.command_line = std::move(*line);
  }

  auto overrides = EnvVars::from_assignments(request.env.value_or(std::vector<std::string>{}));
  if (!overrides) return std::unexpected(overrides.error());
  EnvVars job_env = agent_env;
  job_env.override_expanding_all(*overrides);

  for (const auto& argument : request.cmd) prepared.spawn.argv.push_back(job_env.expand(argument));
  prepared.spawn.environment = job_env.to_assignments();
  prepared.spawn.work_dir = request.work_dir;

  auto& all = adjusters();
  std::lock_guard lock(all.mutex);
  for (const auto& adjust : all.list) adjust(request, prepared.spawn);
  return prepared;
}

const EnvVars& agent_environment() {
  static const EnvVars env = EnvVars::from_environ(environ);
  return env;
}

std::expected<std::shared_ptr<LocalProc>, Error> remote_launch(const RemoteLaunchRequest& request,
                                                               const EnvVars& agent_env, ByteSink* listener,
                                                               StreamPlan streams, Spawner& spawner,
                                                               ProcOptions options) {
  auto prepared = prepare_launch(request, agent_env);
  if (!prepared) return std::unexpected(prepared.error());

  if (prepared->command_line && listener != nullptr) {
    auto written = listener->write(*prepared->command_line);
    if (written) written = listener->flush();
    if (!written) spdlog::warn("launcher: printing the command line failed: {}", written.error().message);
  }

  streams.reverse_stdin = request.reverse_stdin;
  streams.reverse_stdout = request.reverse_stdout;
  streams.reverse_stderr = request.reverse_stderr;
  auto proc = LocalProc::start(spawner, std::move(prepared->spawn), std::move(streams), options);
  if (proc && !(*proc)->warning().empty() && listener != nullptr) {
    (void)listener->write((*proc)->warning());
    (void)listener->flush();
  }
  return proc;
}

}  // namespace kite::launcher
