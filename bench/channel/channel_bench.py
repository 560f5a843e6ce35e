#!/usr/bin/env python3
"""Channel benchmarks against the Java test controller on loopback.

1. online: kite process start to "online" (every connect-time callable
   answered), median of --online-runs runs.
2. rtt: round trip of a trivial callable (PingThread$Ping), measured by the
   controller, median of --rtt-rounds calls.
3. idle: kite's RSS after going online and after --idle-seconds of pings and
   monitor rounds once a second (an hour of a real controller's traffic is
   a ping every 5 min and a monitor round every hour, so this is a compressed
   load), with the growth.
Prints one line per figure.
"""
import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time


def start_controller(java, jar, tmp, scenario, extra):
    port_file = os.path.join(tmp, "port-" + scenario)
    proc = subprocess.Popen([java, "-jar", jar, "--scenario", scenario, "--port", "0", "--port-file", port_file,
                             "--work-dir", tmp, "--quiet"] + extra,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 30
    while not os.path.exists(port_file):
        if proc.poll() is not None or time.time() > deadline:
            raise SystemExit("the test controller did not start: " + (proc.stdout.read() if proc.stdout else ""))
        time.sleep(0.02)
    return proc, open(port_file).read().strip()


def start_kite(kite, port, tmp):
    return subprocess.Popen([kite, "-url", "http://127.0.0.1:%s/" % port, "-name", "n1", "-secret", "S",
                             "-webSocket", "-workDir", tmp, "-log-level", "warn"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def read_line(proc, prefix, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        if line.startswith(prefix):
            return line.strip()
    raise SystemExit("timed out waiting for '%s' from the test controller" % prefix)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def bench_online(a, tmp):
    controller, port = start_controller(a.java, a.jar, tmp, "online-bench", ["--rounds", str(a.online_runs)])
    times = []
    try:
        for _ in range(a.online_runs):
            t0 = time.time()
            kite = start_kite(a.kite, port, tmp)
            line = read_line(controller, "BENCH online", 30)
            times.append(int(line.split()[2]) / 1e6 - t0)
            stop(kite)
    finally:
        stop(controller)
    ms = sorted(t * 1000 for t in times)
    print("online: start to online median %.1f ms, min %.1f ms, max %.1f ms (%d runs)"
          % (statistics.median(ms), ms[0], ms[-1], len(ms)))


def bench_rtt(a, tmp):
    controller, port = start_controller(a.java, a.jar, tmp, "bench", ["--rounds", str(a.rtt_rounds)])
    kite = start_kite(a.kite, port, tmp)
    try:
        line = read_line(controller, "BENCH rtt_us", 120)
        print("rtt: trivial callable round trip " + line[len("BENCH rtt_us "):].replace("=", " ") + " (microseconds)")
    finally:
        stop(kite)
        stop(controller)


def bench_idle(a, tmp):
    controller, port = start_controller(a.java, a.jar, tmp, "idle-bench",
                                        ["--idle-seconds", str(a.idle_seconds), "--ping-interval", "1",
                                         "--agent-ping", "1,10"])
    kite = start_kite(a.kite, port, tmp)
    try:
        read_line(controller, "BENCH online", 30)
        time.sleep(0.5)
        before = rss_kib(kite.pid)
        line = read_line(controller, "BENCH idle", a.idle_seconds + 60)
        after = rss_kib(kite.pid)
        print("idle: RSS %d KiB after going online, %d KiB after %d s of pings and monitor rounds (%+d KiB); %s"
              % (before, after, a.idle_seconds, after - before, line[len("BENCH idle "):]))
    finally:
        stop(kite)
        stop(controller)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kite", required=True)
    p.add_argument("--java", required=True)
    p.add_argument("--jar", required=True)
    p.add_argument("--online-runs", type=int, default=20)
    p.add_argument("--rtt-rounds", type=int, default=5000)
    p.add_argument("--idle-seconds", type=int, default=300)
    p.add_argument("--only", choices=["online", "rtt", "idle"])
    a = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="kite-bench-") as tmp:
        if a.only in (None, "online"):
            bench_online(a, tmp)
        if a.only in (None, "rtt"):
            bench_rtt(a, tmp)
        if a.only in (None, "idle"):
            bench_idle(a, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
