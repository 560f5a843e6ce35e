package kite.controller;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Figures for durable {@code sh} steps, printed as "BENCH ..." lines: the time from the
 * controller's launch call to the first output bytes at the controller (watch mode, and polling
 * mode with the plugin's first check 250 ms after the launch), and the agent's CPU time per MiB
 * of step output in both modes. The agent process is the one named kite whose environment
 * contains the --env-marker variable.
 */
final class DurableBench {
    private DurableBench() {}

    static void run(Main m) throws Exception {
        DurableShell shell = DurableScenarios.connect(m);
        if (shell == null) {
            return;
        }
        String ws = DurableScenarios.workspace(m, "durable-bench");
        String nodeCookie = UUID.randomUUID().toString();
        Map<String, String> env = DurableScenarios.stepEnvironment(ws, nodeCookie);
        int rounds = m.o.benchRounds > 0 ? m.o.benchRounds : 20;

        double[] watch = new double[rounds];
        double[] launched = new double[rounds];
        double[] watching = new double[rounds];
        for (int i = 0; i < rounds; i++) {
            DurableShell.Task t = shell.launch(ws, "echo first\n", false, env);
            DurableScenarios.Watch w = DurableScenarios.startWatching(shell, t);
            w.exited.get(30, TimeUnit.SECONDS);
            watch[i] = (w.firstBytesNanos - t.launchNanos) / 1e6;
            launched[i] = (t.launchedNanos - t.launchNanos) / 1e6;
            watching[i] = (t.tripletNanos - t.launchNanos) / 1e6;
        }
        print("durable_watch_first_output_ms", watch);
        print("durable_launch_call_ms", launched);
        print("durable_launch_and_iotriplet_ms", watching);

        int pollRounds = Math.max(3, rounds / 4);
        double[] poll = new double[pollRounds];
        for (int i = 0; i < pollRounds; i++) {
            DurableShell.Task t = shell.launch(ws, "echo first\n", false, env);
            Thread.sleep(DurableShell.MIN_RECURRENCE_MILLIS);
            shell.pollToExit(t, 30_000);
            poll[i] = (t.firstBytesNanos - t.launchNanos) / 1e6;
            shell.cleanup(t);
        }
        print("durable_poll_first_output_ms", poll);

        long pid = kitePid(m.o.envMarker);
        int mib = 64;
        String script = "set +x\nhead -c " + (mib << 20) + " /dev/zero\n";
        if (pid <= 0) {
            Report.fail("no kite process carries " + m.o.envMarker + "; cannot measure its CPU time");
        } else {
            long before = cpuMillis(pid);
            DurableShell.Task t = shell.launch(ws, script, false, env);
            shell.pollToExit(t, 300_000);
            shell.cleanup(t);
            long used = cpuMillis(pid) - before;
            System.out.printf("BENCH durable_cpu_ms_per_mib mode=poll value=%.2f mib=%d received=%d%n",
                    used / (double) mib, mib, t.log.size());

            before = cpuMillis(pid);
            DurableShell.Task watched = shell.launch(ws, script, false, env);
            DurableScenarios.Watch w = DurableScenarios.startWatching(shell, watched);
            w.exited.get(300, TimeUnit.SECONDS);
            used = cpuMillis(pid) - before;
            System.out.printf("BENCH durable_cpu_ms_per_mib mode=watch value=%.2f mib=%d received=%d%n",
                    used / (double) mib, mib, w.listenerBytes().length);
        }
        System.out.flush();
        shell.endNode(nodeCookie);
        shell.channel().closeOrderly(10_000);
        shell.channel().close();
    }

    private static void print(String name, double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        System.out.printf("BENCH %s median=%.2f p90=%.2f min=%.2f max=%.2f rounds=%d%n", name, sorted[sorted.length / 2],
                sorted[Math.min(sorted.length - 1, sorted.length * 9 / 10)], sorted[0], sorted[sorted.length - 1],
                sorted.length);
        System.out.flush();
    }

    /** Finds the pid of the process named kite whose environment contains {@code marker} (KEY=VALUE). */
    static long kitePid(String marker) {
        if (marker == null) {
            return -1;
        }
        List<Long> pids = ShellStep.processesWith(marker);
        for (long pid : pids) {
            try {
                if (Files.readString(Path.of("/proc", Long.toString(pid), "comm")).trim().equals("kite")) {
                    return pid;
                }
            } catch (IOException ignored) {
                // Gone meanwhile.
            }
        }
        return -1;
    }

    /** User plus system CPU time of all threads of {@code pid}, from /proc/PID/stat (clock ticks of 10 ms). */
    static long cpuMillis(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
        return ticks * 1000 / CLOCK_TICKS_PER_SECOND;
    }

    /** sysconf(_SC_CLK_TCK); 100 on every Linux architecture Kite targets. */
    private static final long CLOCK_TICKS_PER_SECOND = 100;
}
