// Sandbox overhead: the latency a confined start adds over a plain spawn
// (median of 200 runs of /bin/true), and the slowdown of a CPU-bound and a
// system-call-bound step. Prints figures; never a test.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "sandbox/launcher.hpp"
#include "sandbox/probe.hpp"

extern char** environ;

namespace sb = kite::sandbox;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kStartRuns = 200;
constexpr int kLoadRuns = 7;

double run_once(const sb::Policy& policy, const std::vector<std::string>& argv, const std::string& workspace) {
  sb::LaunchRequest r;
  r.argv = argv;
  r.envp = {"PATH=/usr/bin:/bin"};
  r.policy = policy;
  r.workspace = workspace;
  r.stdout_stream = sb::Stdio::null();
  r.stderr_stream = sb::Stdio::null();
  const auto start = Clock::now();
  auto step = sb::launch(r);
  if (!step) {
    std::fprintf(stderr, "launch failed: %s\n", step.error().message().c_str());
    std::exit(1);
  }
  auto status = step->wait();
  const auto end = Clock::now();
  if (!status || !status->success()) {
    std::fprintf(stderr, "step failed: %s\n", status ? status->describe().c_str() : status.error().message().c_str());
    std::exit(1);
  }
  return std::chrono::duration<double, std::milli>(end - start).count();
}

struct Stats {
  double median, p90, min;
};

Stats measure(const sb::Policy& policy, const std::vector<std::string>& argv, const std::string& ws, int runs) {
  std::vector<double> samples;
  for (int i = 0; i < runs; ++i) samples.push_back(run_once(policy, argv, ws));
  std::sort(samples.begin(), samples.end());
  return {samples[samples.size() / 2], samples[samples.size() * 9 / 10], samples.front()};
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::err);
  const char* burn = std::getenv("KITE_CPU_BURN");
  const std::string burn_path = burn ? burn : (argc > 1 ? argv[1] : KITE_CPU_BURN_DEFAULT);
  const std::string ws = std::getenv("KITE_BENCH_WORKSPACE") ? std::getenv("KITE_BENCH_WORKSPACE") : "/var/tmp";

  if (!sb::cached_probe().can_confine) {
    std::printf("the sandbox cannot run here; see 'kite check'\n");
    return 1;
  }
  const auto policies = sb::builtin_policies();
  const sb::Policy& off = policies.at("off");
  const sb::Policy& def = policies.at("default");
  const sb::Policy& strict = policies.at("strict");

  // Warm-up: the probe, the seccomp program cache, the page cache.
  measure(off, {"/bin/true"}, ws, 10);
  measure(def, {"/bin/true"}, ws, 10);

  const Stats plain = measure(off, {"/bin/true"}, ws, kStartRuns);
  const Stats confined = measure(def, {"/bin/true"}, ws, kStartRuns);
  const Stats isolated = measure(strict, {"/bin/true"}, ws, kStartRuns);
  std::printf("start /bin/true, %d runs each (ms)      median    p90    min\n", kStartRuns);
  std::printf("  plain spawn (off)                   %7.3f %7.3f %7.3f\n", plain.median, plain.p90, plain.min);
  std::printf("  default sandbox                     %7.3f %7.3f %7.3f\n", confined.median, confined.p90, confined.min);
  std::printf("  strict sandbox (new net namespace)  %7.3f %7.3f %7.3f\n", isolated.median, isolated.p90, isolated.min);
  std::printf("  added latency, default: %.3f ms median; strict: %.3f ms median\n", confined.median - plain.median,
              isolated.median - plain.median);

  const Stats cpu_plain = measure(off, {burn_path, "cpu", "400"}, ws, kLoadRuns);
  const Stats cpu_conf = measure(def, {burn_path, "cpu", "400"}, ws, kLoadRuns);
  std::printf("CPU-bound step (400M LCG steps), %d runs each: plain %.1f ms, default sandbox %.1f ms median, slowdown %+.2f%%\n",
              kLoadRuns, cpu_plain.median, cpu_conf.median, 100.0 * (cpu_conf.median - cpu_plain.median) / cpu_plain.median);

  const Stats sys_plain = measure(off, {burn_path, "syscalls", "2000"}, ws, kLoadRuns);
  const Stats sys_conf = measure(def, {burn_path, "syscalls", "2000"}, ws, kLoadRuns);
  std::printf("syscall-bound step (2M getppid), %d runs each: plain %.1f ms, default sandbox %.1f ms median, slowdown %+.2f%%\n",
              kLoadRuns, sys_plain.median, sys_conf.median, 100.0 * (sys_conf.median - sys_plain.median) / sys_plain.median);
  return 0;
}
