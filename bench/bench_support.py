"""Start the Java test controller and one kite process on loopback for a benchmark."""
import os
import signal
import subprocess
import time


def start_controller(java, jar, tmp, scenario, marker, extra):
    """Start the test controller's `scenario`; return the process and its port."""
    port_file = os.path.join(tmp, "port")
    controller = subprocess.Popen(
        [java, "-jar", jar, "--scenario", scenario, "--port", "0", "--port-file", port_file,
         "--work-dir", tmp, "--env-marker", marker, "--quiet"] + extra,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 30
    while not os.path.exists(port_file):
        if controller.poll() is not None or time.time() > deadline:
            controller.kill()
            raise SystemExit("the test controller did not start listening: " + controller.stdout.read())
        time.sleep(0.02)
    with open(port_file) as f:
        return controller, f.read().strip()


def start_kite(kite, port, tmp, marker, extra_env=None):
    """Start kite against the controller on `port`, with the marker variable set."""
    env = dict(os.environ, **(extra_env or {}))
    key, value = marker.split("=", 1)
    env[key] = value
    return subprocess.Popen([kite, "-url", "http://127.0.0.1:%s/" % port, "-name", "n1", "-secret", "S",
                             "-webSocket", "-workDir", tmp, "-log-level", "warn"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(proc, timeout=10):
    """Stop `proc` with SIGTERM, and with SIGKILL when it is still running after `timeout` seconds."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
