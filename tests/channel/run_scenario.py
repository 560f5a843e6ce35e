#!/usr/bin/env python3
"""Run one test-controller scenario against a real kite process on loopback.

Starts the Java test controller on a free port, starts
`kite -url http://127.0.0.1:PORT/ -name n1 -secret S -webSocket -workDir DIR`,
waits for the controller to finish its checks, stops kite with SIGTERM and
checks that kite neither crashed nor exited early, and that its log contains
every --expect-log pattern. Exit status: 0 pass, 1 fail, 77 skipped.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kite", required=True)
    p.add_argument("--java", default="")
    p.add_argument("--jar", required=True)
    p.add_argument("--scenario", required=True)
    p.add_argument("--timeout", type=float, default=90.0, help="seconds the controller may run")
    p.add_argument("--expect-log", action="append", default=[], help="regex that kite's log must contain")
    p.add_argument("controller_args", nargs="*", help="extra test-controller options (after --)")
    a = p.parse_args()
    # meson passes paths relative to the build directory; kite runs elsewhere.
    a.kite = os.path.abspath(a.kite)
    a.jar = os.path.abspath(a.jar)

    if not a.java or not os.path.exists(a.jar):
        print("SKIP: no JDK, so the test controller was not built")
        return 77

    with tempfile.TemporaryDirectory(prefix="kite-channel-") as tmp:
        work = os.path.join(tmp, "work")
        os.mkdir(work)
        port_file = os.path.join(tmp, "port")
        marker = "KITE_TEST_MARKER=marker-%d" % os.getpid()
        controller_log = open(os.path.join(tmp, "controller.log"), "w+")
        controller = subprocess.Popen(
            [a.java, "-jar", a.jar, "--scenario", a.scenario, "--port", "0", "--port-file", port_file,
             "--work-dir", work, "--agent-cwd", tmp, "--env-marker", marker] + a.controller_args,
            stdout=controller_log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while not os.path.exists(port_file):
            if controller.poll() is not None or time.time() > deadline:
                controller.kill()
                controller_log.seek(0)
                print(controller_log.read())
                print("FAIL: the test controller did not start listening")
                return 1
            time.sleep(0.05)
        port = open(port_file).read().strip()

        env = dict(os.environ)
        key, value = marker.split("=", 1)
        env[key] = value
        kite_log = open(os.path.join(tmp, "kite.log"), "w+")
        kite = subprocess.Popen(
            [a.kite, "-url", "http://127.0.0.1:%s/" % port, "-name", "n1", "-secret", "S", "-webSocket",
             "-workDir", work],
            cwd=tmp, env=env, stdout=kite_log, stderr=subprocess.STDOUT)

        failures = []
        try:
            controller_rc = controller.wait(timeout=a.timeout)
        except subprocess.TimeoutExpired:
            controller.kill()
            controller_rc = None
            failures.append("the test controller did not finish within %.0f s" % a.timeout)
        if controller_rc not in (0, None):
            failures.append("the test controller reported failed checks (exit %d)" % controller_rc)

        kite_rc = kite.poll()
        if kite_rc is not None:
            failures.append("kite exited on its own with status %d before the scenario ended" % kite_rc)
        else:
            kite.send_signal(signal.SIGTERM)
            try:
                kite_rc = kite.wait(timeout=15)
            except subprocess.TimeoutExpired:
                kite.kill()
                kite.wait()
                failures.append("kite did not stop within 15 s of SIGTERM")
        if kite_rc is not None and kite_rc < 0 and -kite_rc != signal.SIGTERM:
            failures.append("kite died from signal %d" % -kite_rc)

        controller_log.seek(0)
        kite_log.seek(0)
        controller_text = controller_log.read()
        kite_text = kite_log.read()
        for pattern in a.expect_log:
            if not re.search(pattern, kite_text):
                failures.append("kite's log lacks /%s/" % pattern)

        print("===== test controller output")
        print(controller_text)
        print("===== kite log")
        print(kite_text)
        for f in failures:
            print("FAIL:", f)
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
