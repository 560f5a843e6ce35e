// Confinement tests: real steps in real namespaces on this machine. The
// program exits 77 (meson: skipped) with the probe's reason when the kernel
// does not allow the sandbox here.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "sandbox/probe.hpp"
#include "tests/sandbox/support.hpp"

using namespace kite::sandbox;
using namespace kite::sandbox::test;

namespace {

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

// A policy whose steps run as an unprivileged host user when the tests run
// as root: RLIMIT_NPROC and file permissions then apply as for a build user.
Policy as_build_user(Policy p) {
  if (::geteuid() == 0) {
    p.user.host_uid = 65534;
    p.user.host_gid = 65534;
  }
  return p;
}

}  // namespace

TEST_CASE("step cannot write outside writable paths") {
  const fs::path dir = scratch_dir("write");
  const fs::path ws = dir / "ws";
  fs::create_directories(ws);
  const fs::path outside = dir / "outside";
  fs::create_directories(outside);

  const auto r = run_sh(builtin("default"),
                        "echo data > " + (ws / "inside.txt").string() + " && echo inside-ok; "
                        "echo data > " + (outside / "pwned").string() + "; "
                        "echo data > /etc/kite-pwned; "
                        "echo data > /tmp/private && echo tmp-ok",
                        ws);
  REQUIRE(r.launched);
  INFO(r.output);
  CHECK(contains(r.output, "inside-ok"));
  CHECK(contains(r.output, "tmp-ok"));
  CHECK(contains(r.output, "Read-only file system"));
  CHECK(fs::exists(ws / "inside.txt"));
  CHECK_FALSE(fs::exists(outside / "pwned"));
  CHECK_FALSE(fs::exists("/etc/kite-pwned"));
  fs::remove_all(dir);
}

TEST_CASE("step has no capabilities") {
  const fs::path ws = scratch_dir("caps");
  std::vector<Policy> policies = {builtin("default"), as_build_user(builtin("strict"))};
  if (::geteuid() == 0) {
    Policy no_userns = as_build_user(builtin("default"));
    no_userns.namespaces.user = false;
    policies.push_back(no_userns);
  }
  for (const auto& p : policies) {
    const auto r = run_sh(p, "grep -E '^(CapEff|CapPrm|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status", ws);
    REQUIRE(r.launched);
    INFO("user namespace: " << p.namespaces.user << "\n" << r.output);
    CHECK(contains(r.output, "CapEff:\t0000000000000000"));
    CHECK(contains(r.output, "CapPrm:\t0000000000000000"));
    CHECK(contains(r.output, "CapBnd:\t0000000000000000"));
    CHECK(contains(r.output, "CapAmb:\t0000000000000000"));
    CHECK(contains(r.output, "NoNewPrivs:\t1"));
    CHECK(contains(r.output, "Seccomp:\t2"));
  }
  fs::remove_all(ws);
}

TEST_CASE("private tmp is not the host's") {
  const fs::path ws = scratch_dir("tmp");
  const std::string marker = "/tmp/kite-sandbox-marker-" + std::to_string(::getpid());
  const auto r = run_sh(builtin("default"), "echo x > " + marker + " && ls /tmp", ws);
  REQUIRE(r.launched);
  CHECK(r.status.success());
  CHECK_FALSE(fs::exists(marker));
  fs::remove_all(ws);
}

TEST_CASE("step cannot see or signal host processes") {
  const fs::path ws = scratch_dir("pid");
  const std::string self = std::to_string(::getpid());
  const auto r = run(make_request(builtin("default"), {helper(), "kill", self}, ws));
  REQUIRE(r.launched);
  INFO(r.output);
  CHECK(contains(r.output, "kill: No such process"));

  const auto ps = run_sh(builtin("default"), "ls /proc | grep -c '^[0-9]'", ws);
  REQUIRE(ps.launched);
  INFO(ps.output);
  // The init, sh, ls and grep at most.
  CHECK(std::stoi(ps.output) <= 4);
  fs::remove_all(ws);
}

TEST_CASE("mount and module loading are rejected") {
  const fs::path ws = scratch_dir("mount");
  for (const char* op : {"mount", "init_module", "finit_module", "unshare", "keyctl", "bpf", "reboot"}) {
    const auto r = run(make_request(builtin("default"), {helper(), op}, ws));
    REQUIRE(r.launched);
    INFO(op << ": " << r.output);
    CHECK(contains(r.output, std::string(op) + ": Operation not permitted"));
    CHECK(r.status.code == 1);
  }
  const auto clone3 = run(make_request(builtin("default"), {helper(), "clone3"}, ws));
  INFO(clone3.output);
  CHECK(contains(clone3.output, "clone3: Function not implemented"));

  // Threads still work: glibc falls back from clone3 to clone without namespace flags.
  const auto threads = run_sh(builtin("default"), "sh -c 'sleep 0 & wait' && echo fork-ok", ws);
  CHECK(contains(threads.output, "fork-ok"));
  fs::remove_all(ws);
}

TEST_CASE("ptrace follows the policy switch") {
  const fs::path ws = scratch_dir("ptrace");
  const auto strict = run(make_request(builtin("strict"), {helper(), "ptrace"}, ws));
  REQUIRE(strict.launched);
  INFO(strict.output);
  CHECK(contains(strict.output, "ptrace: Operation not permitted"));

  Policy debug = builtin("strict");
  debug.seccomp.allow_ptrace = true;
  const auto allowed = run(make_request(debug, {helper(), "ptrace"}, ws));
  REQUIRE(allowed.launched);
  INFO(allowed.output);
  CHECK(contains(allowed.output, "ptrace: ok"));

  Policy profiler = builtin("strict");
  const auto perf_denied = run(make_request(profiler, {helper(), "perf"}, ws));
  CHECK(contains(perf_denied.output, "perf_event_open: Operation not permitted"));
  fs::remove_all(ws);
}

TEST_CASE("network none has only loopback") {
  const fs::path ws = scratch_dir("net");
  // A listener on the host's loopback: reachable with the host network, not from a new namespace.
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(listener >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(listener, 4) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  const std::string port = std::to_string(ntohs(addr.sin_port));

  const auto host = run(make_request(builtin("default"), {helper(), "connect", port}, ws));
  INFO(host.output);
  CHECK(contains(host.output, "connect: ok"));

  const auto none = run(make_request(builtin("strict"), {helper(), "connect", port}, ws));
  INFO(none.output);
  CHECK(contains(none.output, "connect: Connection refused"));

  const auto links = run_sh(builtin("strict"), "cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '", ws);
  INFO(links.output);
  CHECK(links.output == "lo\n");
  ::close(listener);
  fs::remove_all(ws);
}

TEST_CASE("memory rlimit makes allocation fail") {
  // Without a delegated cgroup the memory limit is RLIMIT_AS; the cgroup
  // variant (a kill with its reason) is in test_cgroup.
  const fs::path ws = scratch_dir("mem");
  Policy p = builtin("default");
  p.limits.memory_mib = 256;
  if (cached_probe().cgroup_delegated) {
    SUCCEED("cgroup v2 enforces memory here; see test_cgroup");
    return;
  }
  const auto r = run(make_request(p, {helper(), "allocate", "1024"}, ws));
  REQUIRE(r.launched);
  INFO(r.output);
  CHECK(contains(r.output, "malloc: Cannot allocate memory"));
  CHECK(r.status.code == 1);
  fs::remove_all(ws);
}

TEST_CASE("process limit contains a fork bomb") {
  const fs::path ws = scratch_dir("fork");
  Policy p = as_build_user(builtin("default"));
  p.limits.max_processes = 24;
  const std::string cookie = "JENKINS_NODE_COOKIE=forkbomb-" + std::to_string(::getpid());
  auto request = make_request(p, {helper(), "fork-bomb", "2000"}, ws);
  request.envp.push_back(cookie);
  const auto r = run(request);
  REQUIRE(r.launched);
  INFO(r.output);
  CHECK(contains(r.output, "fork: Resource temporarily unavailable after"));
  // The step's end takes its sleeping children down with the init.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(pids_with_env(cookie).empty());
  fs::remove_all(ws);
}

TEST_CASE("kill leaves nothing running") {
  const fs::path ws = scratch_dir("kill");
  const std::string cookie = "JENKINS_NODE_COOKIE=kill-" + std::to_string(::getpid());
  auto request = make_request(builtin("default"), {"/bin/sh", "-c", "sleep 300 & sleep 300 & (setsid sleep 300 &) ; wait"}, ws);
  request.envp.push_back(cookie);
  request.stdout_stream = Stdio::null();
  request.stderr_stream = Stdio::null();
  auto step = launch(request);
  REQUIRE(step.has_value());

  // The cookie is visible from the host PID namespace, as Jenkins needs.
  std::vector<pid_t> found;
  for (int i = 0; i < 100 && found.size() < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    found = pids_with_env(cookie);
  }
  CHECK(found.size() >= 4);

  auto status = step->kill(std::chrono::milliseconds(500));
  REQUIRE(status.has_value());
  REQUIRE(status->reason.has_value());
  CHECK(status->reason->limit == "killed");
  CHECK(contains(status->describe(), "stopped by Kite"));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(pids_with_env(cookie).empty());
  fs::remove_all(ws);
}

TEST_CASE("kill forwards SIGTERM first") {
  const fs::path ws = scratch_dir("term");
  auto request = make_request(builtin("default"),
                              {"/bin/sh", "-c", "trap 'echo term > " + (ws / "got-term").string() + "; exit 3' TERM; echo ready; while :; do sleep 0.05; done"},
                              ws);
  auto step = launch(request);
  REQUIRE(step.has_value());
  auto out = step->take_stdout();
  char buffer[16] = {};
  REQUIRE(::read(out.get(), buffer, 6) == 6);  // "ready\n": the trap is installed
  auto status = step->kill(std::chrono::seconds(5));
  REQUIRE(status.has_value());
  CHECK(status->code == 3);
  CHECK(fs::exists(ws / "got-term"));
  fs::remove_all(ws);
}

TEST_CASE("cache directory survives between steps") {
  const fs::path dir = scratch_dir("cache");
  const fs::path ws = dir / "ws";
  const fs::path home = dir / "home";
  fs::create_directories(ws);
  fs::create_directories(home);
  Policy p = builtin("default");
  p.caches.push_back({"maven", "~/.m2", 0});
  const auto mounts = cache_mounts(p, dir / "caches", "node-1", home);
  REQUIRE(mounts.size() == 1);
  CHECK(mounts[0].target == home / ".m2");

  auto first = make_request(p, {"/bin/sh", "-c", "mkdir -p ~/.m2/repository && echo artifact > ~/.m2/repository/a.jar"}, ws);
  first.caches = mounts;
  first.envp.push_back("HOME=" + home.string());
  const auto r1 = run(first);
  INFO(r1.output << r1.launch_error);
  REQUIRE(r1.status.success());

  auto second = make_request(p, {"/bin/sh", "-c", "cat ~/.m2/repository/a.jar"}, ws);
  second.caches = mounts;
  second.envp.push_back("HOME=" + home.string());
  const auto r2 = run(second);
  INFO(r2.output);
  CHECK(r2.output == "artifact\n");
  CHECK(fs::exists(dir / "caches" / "node-1" / "maven" / "repository" / "a.jar"));
  fs::remove_all(dir);
}

TEST_CASE("symlink escape and tar bomb stay inside") {
  const fs::path dir = scratch_dir("escape");
  const fs::path ws = dir / "ws";
  const fs::path victim = dir / "victim";
  fs::create_directories(ws);
  fs::create_directories(victim);

  // A symlink in the workspace to a host directory outside the writable paths.
  const auto link = run_sh(builtin("default"),
                           "ln -s " + victim.string() + " escape && echo x > escape/pwned", ws);
  INFO(link.output);
  CHECK(contains(link.output, "Read-only file system"));
  CHECK_FALSE(fs::exists(victim / "pwned"));

  // A tar whose members go through a symlink member and an absolute path.
  const std::string make_tar =
      "mkdir -p /tmp/a /tmp/b/evil && ln -s " + victim.string() + " /tmp/a/evil && "
      "echo x > /tmp/b/evil/through-link && echo y > /tmp/abs && "
      "tar -C /tmp/a -cf /tmp/bomb.tar evil && tar -C /tmp/b -rf /tmp/bomb.tar evil/through-link && "
      "tar -P -rf /tmp/bomb.tar /tmp/abs && "
      "tar -P --transform 's,^/tmp/abs," + victim.string() + "/absolute,' -cf /tmp/abs.tar /tmp/abs && "
      "tar -xf /tmp/bomb.tar; tar -P -xf /tmp/abs.tar; true";
  const auto tar = run_sh(builtin("default"), make_tar, ws);
  INFO(tar.output);
  CHECK(tar.launched);
  CHECK_FALSE(fs::exists(victim / "through-link"));
  CHECK_FALSE(fs::exists(victim / "absolute"));
  CHECK(fs::is_empty(victim));
  fs::remove_all(dir);
}

TEST_CASE("missing command is a typed error") {
  const fs::path ws = scratch_dir("enoent");
  auto request = make_request(builtin("default"), {"kite-no-such-command"}, ws);
  request.envp = {"PATH=/usr/bin:/bin"};
  const auto r = run(request);
  CHECK_FALSE(r.launched);
  CHECK(r.launch_error == "execve('kite-no-such-command') failed: No such file or directory");
  fs::remove_all(ws);
}

TEST_CASE("detached step outlives its handle") {
  const fs::path ws = scratch_dir("detached");
  auto request = make_request(builtin("default"), {"/bin/sh", "-c", "sleep 0.3; echo done > " + (ws / "marker").string() + "; exit 7"}, ws);
  request.detached = true;
  request.status_file = ws / "status";
  request.stdout_stream = Stdio::null();
  request.stderr_stream = Stdio::null();
  pid_t pid = -1;
  {
    auto step = launch(request);
    REQUIRE(step.has_value());
    pid = step->pid();
  }  // the handle is gone, the step is not
  REQUIRE(::kill(pid, 0) == 0);
  auto attached = attach(pid, ws / "status");
  REQUIRE(attached.has_value());
  // attach() cannot waitpid() a child of ours; reap it the way a restarted Kite's init would.
  std::thread reaper([pid] { ::waitpid(pid, nullptr, 0); });
  auto status = attached->wait();
  reaper.join();
  REQUIRE(status.has_value());
  CHECK(status->code == 7);
  CHECK(fs::exists(ws / "marker"));
  fs::remove_all(ws);
}

TEST_CASE("off policy runs unconfined in its own process group") {
  const fs::path ws = scratch_dir("off");
  const auto r = run_sh(builtin("off"), "ps -o pgid= -p $$; echo pid=$$; test -e /proc/1/environ && echo host-proc", ws);
  REQUIRE(r.launched);
  INFO(r.output);
  CHECK(r.status.success());
  CHECK(contains(r.output, "host-proc"));
  fs::remove_all(ws);
}

TEST_CASE("root steps can drop to an unprivileged mapping") {
  if (::geteuid() != 0) {
    SUCCEED("runs only as root");
    return;
  }
  const fs::path ws = scratch_dir("uid");
  const auto r = run_sh(as_build_user(builtin("default")), "id -u; cat /proc/self/uid_map", ws);
  REQUIRE(r.launched);
  INFO(r.output);
  CHECK(contains(r.output, "65534\n"));
  CHECK(contains(r.output, "65534      65534          1"));
  fs::remove_all(ws);
}

int main(int argc, char** argv) {
  const ProbeResult& probe = cached_probe();
  if (!probe.can_confine || !probe.can_isolate_network) {
    std::printf("SKIP: the kernel does not allow the sandbox here:\n");
    for (const auto& f : probe.findings) std::printf("  %s\n", format_finding(f).c_str());
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
