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
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import bench_support  # noqa: E402


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
        controller, port = bench_support.start_controller(a.java, a.jar, tmp, "steps-bench", marker,
                                                          ["--rounds", str(a.rounds)])
        kite = bench_support.start_kite(a.kite, port, tmp, marker)
        try:
            output, _ = controller.communicate(timeout=900)
        finally:
            bench_support.stop(kite)
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
