#!/usr/bin/env python3
"""Workspace transfer benchmark. Kite's FilePath$Archive sends a 10,000-file
workspace to the test controller as a tar stream (tar and tar.gz). Side by
side, GNU tar runs on the agent through the remote launcher with its stdout
sent over the same remoting channel, and GNU tar runs locally with no
connection. The controller (scenario pipeline-bench) builds the workspace and
times each transfer from its call to the end of the stream; this script
starts both processes, collects the BENCH lines, and prints the median of
each mode with Kite's peak RSS.
"""
import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def peak_rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def reset_peak_rss(pid):
    """Resets VmHWM to the current RSS (Linux 4.0 and later: write 5 to clear_refs)."""
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
    except OSError:
        pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kite", required=True)
    p.add_argument("--java", required=True)
    p.add_argument("--jar", required=True)
    p.add_argument("--rounds", type=int, default=5, help="timed rounds of each transfer mode")
    p.add_argument("--timeout", type=float, default=600, help="seconds the whole run may take")
    a = p.parse_args()

    with tempfile.TemporaryDirectory(prefix="kite-pipeline-bench-") as tmp:
        port_file = os.path.join(tmp, "port")
        controller = subprocess.Popen(
            [a.java, "-jar", a.jar, "--scenario", "pipeline-bench", "--port", "0", "--port-file", port_file,
             "--work-dir", tmp, "--rounds", str(a.rounds), "--quiet"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 30
        while not os.path.exists(port_file):
            if controller.poll() is not None or time.time() > deadline:
                sys.exit("the test controller did not start: " + controller.stdout.read())
            time.sleep(0.02)
        port = open(port_file).read().strip()
        kite = subprocess.Popen([a.kite, "-url", "http://127.0.0.1:%s/" % port, "-name", "n1", "-secret", "S",
                                 "-webSocket", "-workDir", tmp, "-log-level", "warn"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        lines = []
        peak = -1
        # The controller's own time-outs end a stuck transfer; this one ends a stuck controller.
        watchdog = threading.Timer(a.timeout, controller.kill)
        watchdog.start()
        try:
            for line in controller.stdout:
                # Each BENCH transfer line is printed right after its transfer, so the peak read
                # here belongs to that transfer (plus the short controller work before it).
                rss = peak_rss_kib(kite.pid)
                peak = max(peak, rss)
                lines.append(line.rstrip("\n") + (" kite_peak_rss_kib=%d" % rss if line.startswith("BENCH transfer") else ""))
                reset_peak_rss(kite.pid)
            controller.wait()
        finally:
            watchdog.cancel()
            peak = max(peak, peak_rss_kib(kite.pid))
            if kite.poll() is None:
                kite.send_signal(signal.SIGTERM)
                try:
                    kite.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    kite.kill()

    for line in lines:
        if line.startswith("BENCH") or line.startswith("FAIL"):
            print(line)
    results = {}
    for line in lines:
        m = re.match(r"BENCH transfer mode=(\S+) round=\d+ bytes=(\d+) ms=([\d.]+) .*chunks=(\d+) kite_peak_rss_kib=(-?\d+)",
                     line)
        if m:
            results.setdefault(m.group(1), []).append(
                (int(m.group(2)), float(m.group(3)), int(m.group(5)), int(m.group(4))))
    print("median of %d rounds:" % a.rounds)
    for mode, runs in results.items():
        ms = statistics.median(r[1] for r in runs)
        size = runs[0][0]
        print("  %-20s %10d bytes %6d chunks %9.1f ms %8.1f MiB/s  kite peak RSS %6d KiB" % (
            mode, size, runs[0][3], ms, size / 1048576.0 / (ms / 1000), max(r[2] for r in runs)))
    print("kite peak RSS over the whole run (VmHWM): %d KiB" % peak)
    return 0 if controller.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
