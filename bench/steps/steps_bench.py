#!/usr/bin/env python3
"""Build-step benchmarks against the Java test controller on loopback.

Runs the controller's steps-bench scenario against one kite process:
1. launch latency: Launcher$RemoteLaunchCallable for `true`, getIOtriplet
   and join, from the controller sending the launch to join's answer with
   the exit code; median, p90 and p99 of --rounds launches after 20 warm-up
   launches.
2. output throughput: a step writing 200 MiB of zeros with `head -c`, from
   the controller's go signal to join's answer, three rounds, with kite's
   VmRSS and RssAnon sampled every 10 ms by the controller and its VmHWM.
Prints the machine (CPUs, load average) and one line per figure.
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kite", required=True)
    p.add_argument("--java", required=True)
    p.add_argument("--jar", required=True)
    p.add_argument("--rounds", type=int, default=200, help="launches of `true` to time")
    a = p.parse_args()

    print("machine: %d CPUs (nproc), load average %s at the start" % (os.cpu_count(), load_average()))
    with tempfile.TemporaryDirectory(prefix="kite-bench-steps-") as tmp:
        marker = "KITE_BENCH_MARKER=bench-%d" % os.getpid()
        port_file = os.path.join(tmp, "port")
        controller = subprocess.Popen(
            [a.java, "-jar", a.jar, "--scenario", "steps-bench", "--port", "0", "--port-file", port_file,
             "--work-dir", tmp, "--env-marker", marker, "--rounds", str(a.rounds), "--quiet"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 30
        while not os.path.exists(port_file):
            if controller.poll() is not None or time.time() > deadline:
                controller.kill()
                raise SystemExit("the test controller did not start: " + controller.stdout.read())
            time.sleep(0.02)
        port = open(port_file).read().strip()
        env = dict(os.environ)
        key, value = marker.split("=", 1)
        env[key] = value
        kite = subprocess.Popen([a.kite, "-url", "http://127.0.0.1:%s/" % port, "-name", "n1", "-secret", "S",
                                 "-webSocket", "-workDir", tmp, "-log-level", "warn"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            output, _ = controller.communicate(timeout=900)
        finally:
            if kite.poll() is None:
                kite.send_signal(signal.SIGTERM)
                try:
                    kite.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    kite.kill()
            if controller.poll() is None:
                controller.kill()
        figures = [line for line in output.splitlines() if line.startswith("BENCH ")]
        for line in figures:
            print(line[len("BENCH "):])
        failures = [line for line in output.splitlines() if line.startswith("FAIL")]
        for line in failures:
            print(line)
        print("load average %s at the end" % load_average())
        return 1 if failures or not figures else 0


if __name__ == "__main__":
    sys.exit(main())
