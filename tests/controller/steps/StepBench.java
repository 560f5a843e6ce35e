package kite.controller;

import java.util.Arrays;

/**
 * The steps-bench scenario: prints figures, checks little. Launch latency is the time from
 * sending Launcher$RemoteLaunchCallable for {@code true} to join's response with the exit code,
 * through getIOtriplet as Launcher.RemoteLauncher calls it. Throughput is 200 MiB of zeros from
 * {@code head -c} through a real launch, with kite's memory sampled every 10 ms. The system
 * properties kite.steps.streamMiB and kite.steps.streamRounds change the size and the number of
 * throughput rounds.
 */
final class StepBench {
    private final StepScenarios s;

    StepBench(StepScenarios s) {
        this.s = s;
    }

    void run() throws Exception {
        Report.verbose = false;
        latency(Math.max(1, s.m.o.benchRounds));
        // System properties, so that a profiling run can stream less than the benchmark does.
        long streamBytes = Long.getLong("kite.steps.streamMiB", StepScenarios.BIG_BYTES >> 20) << 20;
        int streamRounds = Integer.getInteger("kite.steps.streamRounds", 3);
        for (int i = 0; i < streamRounds; i++) {
            throughput(i + 1, streamBytes);
        }
    }

    private void latency(int rounds) throws Exception {
        StepRun.Spec spec = new StepRun.Spec().cmd("true");
        spec.env = s.env(s.cookie);
        spec.workDir = s.ws.toString();
        for (int i = 0; i < Math.min(20, rounds); i++) {
            once(spec);
        }
        long[] total = new long[rounds];
        long[] launch = new long[rounds];
        for (int i = 0; i < rounds; i++) {
            long[] t = once(spec);
            if (t == null) {
                return;
            }
            total[i] = t[0];
            launch[i] = t[1];
        }
        Arrays.sort(total);
        Arrays.sort(launch);
        System.out.printf("BENCH launch_true_ms median=%.2f p90=%.2f p99=%.2f launch_only_median=%.2f rounds=%d%n",
                total[rounds / 2] / 1e6, total[rounds * 9 / 10] / 1e6, total[Math.min(rounds - 1, rounds * 99 / 100)] / 1e6,
                launch[rounds / 2] / 1e6, rounds);
    }

    /** Runs one launch of {@code spec}; returns the nanoseconds to join's response and to the launch's response, or null. */
    private long[] once(StepRun.Spec spec) throws Exception {
        StepRun run = StepRun.launch(s.ch, spec, s.timeoutMillis);
        if (run == null) {
            return null;
        }
        run.checkTriplet(s.timeoutMillis);
        Integer exit = run.join(s.timeoutMillis);
        long end = System.nanoTime();
        run.forget();
        if (exit == null || exit != 0) {
            Report.fail("true exited with " + exit);
            return null;
        }
        return new long[] {end - run.launchSentNanos, run.launchedNanos - run.launchSentNanos};
    }

    /** CPU time of this JVM (all threads), in nanoseconds. */
    private static long controllerCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private void throughput(int round, long streamBytes) throws Exception {
        KiteProcess kite = KiteProcess.find(s.m.o.envMarker);
        StepRun.Spec spec = s.script("zeros.sh", StepScenarios.afterGo("head -c " + streamBytes + " /dev/zero"));
        StepRun run = StepRun.launch(s.ch, spec, s.timeoutMillis);
        if (run == null) {
            return;
        }
        run.checkTriplet(s.timeoutMillis);
        KiteProcess.Sampler sampler = kite == null ? null : kite.sample(10);
        double kiteCpu = kite == null ? -1 : kite.cpuSeconds();
        long controllerCpu = controllerCpuNanos();
        long start;
        Integer exit;
        long end;
        try {
            start = s.go(run, "throughput step");
            exit = run.join(300_000);
            end = System.nanoTime();
        } finally {
            if (sampler != null) {
                sampler.close();
            }
        }
        kiteCpu = kite == null ? -1 : kite.cpuSeconds() - kiteCpu;
        double controllerSeconds = (controllerCpuNanos() - controllerCpu) / 1e9;
        long bytes = run.out.count() - StepScenarios.WAITING_LINE.length();
        run.forget();
        if (exit == null || exit != 0 || bytes != streamBytes) {
            Report.fail("throughput step: exit " + exit + ", " + bytes + " bytes");
            return;
        }
        double seconds = (end - start) / 1e9;
        KiteProcess.Status after = kite == null ? null : kite.read();
        System.out.printf("BENCH stream round=%d mib_s=%.0f seconds=%.3f bytes=%d kite_max_rss_kib=%d kite_max_anon_kib=%d"
                + " kite_hwm_kib=%d samples=%d kite_cpu_s=%.2f controller_cpu_s=%.2f%n", round,
                bytes / 1048576.0 / seconds, seconds, bytes, sampler == null ? -1 : sampler.maxRssKiB(),
                sampler == null ? -1 : sampler.maxAnonKiB(), after == null ? -1 : after.vmHwmKiB(),
                sampler == null ? 0 : sampler.samples(), kiteCpu, controllerSeconds);
    }
}
