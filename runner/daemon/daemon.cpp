#include "runner/daemon/daemon.hpp"

#include <signal.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "runner/daemon/logging.hpp"
#include "runner/daemon/node_runner.hpp"

namespace kite::daemon {

namespace {

sigset_t daemon_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);  // a node thread has ended
  return set;
}

}  // namespace

void block_daemon_signals() {
  const sigset_t set = daemon_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int run_daemon(const DaemonConfig& config, SessionFactory& factory) {
  block_daemon_signals();

  std::vector<std::unique_ptr<NodeRunner>> runners;
  for (const NodeConfig& node : config.nodes) runners.push_back(std::make_unique<NodeRunner>(node, factory));

  std::vector<int> statuses(runners.size(), 0);
  std::atomic<std::size_t> running{runners.size()};
  std::vector<std::thread> threads;
  const pthread_t signal_thread = pthread_self();
  for (std::size_t i = 0; i < runners.size(); ++i) {
    threads.emplace_back([&, i] {
      statuses[i] = runners[i]->run();
      --running;
      pthread_kill(signal_thread, SIGUSR1);  // wakes sigwaitinfo below
    });
  }

  // The signal loop sleeps without a time-out: an idle daemon causes no
  // wake-ups. SIGUSR1 from a finished node thread rechecks `running`.
  const sigset_t set = daemon_signals();
  bool stopping = false;
  while (running.load() > 0) {
    const int signal_number = sigwaitinfo(&set, nullptr);
    if (signal_number == SIGHUP) {
      reopen_log_file();
      spdlog::info("SIGHUP: log file reopened");
    } else if ((signal_number == SIGTERM || signal_number == SIGINT) && !stopping) {
      stopping = true;
      spdlog::info("{}: closing {} connection(s)", signal_number == SIGTERM ? "SIGTERM" : "SIGINT", runners.size());
      for (auto& runner : runners) runner->stop();
    }
  }
  for (auto& thread : threads) thread.join();

  int status = 0;
  for (int s : statuses) status = std::max(status, s);
  spdlog::info("kite stopped (exit status {})", status);
  return status;
}

}  // namespace kite::daemon
