#!/usr/bin/env python3
"""Durable-task benchmarks against the Java test controller on loopback.

Runs the test controller's durable-bench scenario against one kite process
(in a UTF-8 locale) and prints its figures:
  - durable_watch_first_output_ms: the controller's launch call to the first
    output bytes at the controller in watch mode (the launch, getIOtriplet
    and StartWatching round trips, the wrapper's start and the watcher),
    with the launch and launch+getIOtriplet parts on their own lines;
  - durable_poll_first_output_ms: the same in polling mode, where the
    plugin's first check comes 250 ms after the launch;
  - durable_cpu_ms_per_mib: kite's user+system CPU time per MiB of step
    output (64 MiB of zeros), in polling and in watch mode.
"""
import argparse
import os
import platform
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import bench_support  # noqa: E402


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kite", required=True)
    p.add_argument("--java", required=True)
    p.add_argument("--jar", required=True)
    p.add_argument("--rounds", type=int, default=30, help="watch-mode launches to time")
    a = p.parse_args()

    marker = "KITE_DURABLE_BENCH=%d" % os.getpid()
    with tempfile.TemporaryDirectory(prefix="kite-bench-durable-") as tmp:
        controller, port = bench_support.start_controller(
            a.java, a.jar, tmp, "durable-bench", marker, ["--rounds", str(a.rounds), "--agent-ping", "300,240"])
        kite = bench_support.start_kite(a.kite, port, tmp, marker, {"LC_ALL": "C.UTF-8"})
        try:
            out, _ = controller.communicate(timeout=900)
        finally:
            bench_support.stop(controller, timeout=15)
            bench_support.stop(kite, timeout=15)

    print("machine: %s, %d CPUs, load average %.2f" % (cpu_model(), os.cpu_count(), os.getloadavg()[0]))
    failed = False
    for line in out.splitlines():
        if line.startswith("BENCH "):
            print(line[len("BENCH "):])
        elif line.startswith("FAIL"):
            print(line)
            failed = True
    return 1 if failed or controller.returncode != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
