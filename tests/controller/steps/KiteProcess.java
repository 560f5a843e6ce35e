package kite.controller;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Memory and CPU figures of the kite process under test, read from /proc/PID/status and stat.
 * The process is found by the marker variable the test script puts in kite's environment
 * (--env-marker). The steps kite launches inherit the marker, so only processes whose command
 * name is "kite" count.
 */
final class KiteProcess {
    /** Figures in KiB, as /proc/PID/status gives them. */
    record Status(long vmHwmKiB, long vmRssKiB, long rssAnonKiB) {}

    final long pid;

    private KiteProcess(long pid) {
        this.pid = pid;
    }

    /** Finds kite by {@code marker} (KEY=VALUE); null, with the reason reported, when none or several match. */
    static KiteProcess find(String marker) {
        if (marker == null) {
            Report.info("no --env-marker given, so kite's memory cannot be read");
            return null;
        }
        List<Long> pids = ShellStep.processesWith(marker).stream().filter(KiteProcess::isKite).toList();
        if (pids.size() != 1) {
            Report.info("expected one kite process with " + marker + ", found " + pids);
            return null;
        }
        return new KiteProcess(pids.get(0));
    }

    private static boolean isKite(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "comm"), StandardCharsets.UTF_8).strip()
                    .equals("kite");
        } catch (IOException e) {
            return false;
        }
    }

    /** Reads the current figures; null when the process is gone. */
    Status read() {
        long hwm = -1;
        long rss = -1;
        long anon = -1;
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"), StandardCharsets.UTF_8)) {
                if (line.startsWith("VmHWM:")) {
                    hwm = kib(line);
                } else if (line.startsWith("VmRSS:")) {
                    rss = kib(line);
                } else if (line.startsWith("RssAnon:")) {
                    anon = kib(line);
                }
            }
        } catch (IOException e) {
            return null;
        }
        return new Status(hwm, rss, anon);
    }

    /** User plus system CPU time kite used so far, in seconds; -1 when the process is gone. */
    double cpuSeconds() {
        try {
            String text = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.UTF_8);
            String[] f = text.substring(text.lastIndexOf(')') + 2).split(" ");
            // utime and stime are fields 14 and 15 of stat, in clock ticks (USER_HZ, 100 on Linux).
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static long kib(String line) {
        String[] parts = line.split("\\s+");
        return Long.parseLong(parts[1]);
    }

    /** Samples VmRSS and RssAnon on a daemon thread until {@link #close} and keeps the maxima. */
    final class Sampler {
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;
        private volatile long maxRssKiB;
        private volatile long maxAnonKiB;
        private volatile int samples;

        Sampler(long periodMillis) {
            thread = new Thread(() -> {
                while (running.get()) {
                    Status s = read();
                    if (s != null) {
                        maxRssKiB = Math.max(maxRssKiB, s.vmRssKiB());
                        maxAnonKiB = Math.max(maxAnonKiB, s.rssAnonKiB());
                        samples++;
                    }
                    try {
                        Thread.sleep(periodMillis);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "kite-memory-sampler");
            thread.setDaemon(true);
            thread.start();
        }

        long maxRssKiB() {
            return maxRssKiB;
        }

        long maxAnonKiB() {
            return maxAnonKiB;
        }

        int samples() {
            return samples;
        }

        /** Stops sampling and waits for the sampler thread. */
        void close() throws InterruptedException {
            running.set(false);
            thread.join(5000);
        }
    }

    Sampler sample(long periodMillis) {
        return new Sampler(periodMillis);
    }
}
