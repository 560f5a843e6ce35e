package kite.controller;

import hudson.remoting.Command;
import hudson.remoting.ProxyOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Build steps end to end against a real kite: the steps scenario group.
 *
 * <ul>
 *   <li>{@code steps-stream}: a step that prints 200 MiB; length, CRC-32, live arrival and kite's memory.
 *   <li>{@code steps-flow}: the controller holds back its Acks; kite must stop at remoting's 1 MiB window.
 *   <li>{@code steps-bytes}: exact bytes, stderr merging, stdin, quiet, masks and EnvVars ({@link StepBytes}).
 *   <li>{@code steps-kill}: kill, an aborted build and KillTask against re-parented daemons ({@link StepKills}).
 *   <li>{@code steps-bench}: launch latency of {@code true} and output throughput ({@link StepBench}).
 * </ul>
 */
public final class StepScenarios {
    /** Size of the big step's output: 200 MiB. */
    static final long BIG_BYTES = 200L << 20;
    /** Kite's peak resident set above which the big step fails: a gross overrun, since the target is a benchmark. */
    static final long GROSS_HWM_KIB = 64 << 10;
    /** remoting's pipe window (hudson.remoting.Channel.pipeWindowSize default). */
    static final long WINDOW_BYTES = 1 << 20;
    static final String JOB = "steps-job";
    /** First line of the scripts that wait for the controller's go file. */
    static final String WAITING_LINE = "waiting for go\n";

    Main m;
    ControllerChannel ch;
    ConnectSequence seq;
    Path ws;
    String cookie;
    long timeoutMillis;
    /** The stdin the running step reads, if any. */
    volatile StdinSource stdin;
    /** Export ids of the controller's streams that kite released with ProxyOutputStream$Unexport. */
    final Set<Integer> streamUnexports = ConcurrentHashMap.newKeySet();

    public StepScenarios() {}

    public boolean run(Main main, String scenario) throws Exception {
        if (!List.of("steps-stream", "steps-flow", "steps-bytes", "steps-kill", "steps-bench").contains(scenario)) {
            return false;
        }
        m = main;
        ch = m.accept();
        if (ch == null) {
            return true;
        }
        ch.otherCommands = this::onCommand;
        seq = new ConnectSequence(ch, m.o);
        seq.goOnline();
        timeoutMillis = m.o.callTimeoutSeconds * 1000L;
        String root = m.o.workDir != null ? m.o.workDir : Files.createTempDirectory("kite-steps").toString();
        ws = Path.of(root, "workspace", JOB);
        Files.createDirectories(ws);
        cookie = "kite-steps-" + ProcessHandle.current().pid() + "-" + System.nanoTime();

        switch (scenario) {
            case "steps-stream" -> stream();
            case "steps-flow" -> flow();
            case "steps-bytes" -> new StepBytes(this).run();
            case "steps-kill" -> new StepKills(this).run();
            default -> new StepBench(this).run();
        }
        Report.check(ch.commandErrors.isEmpty(), "every agent command deserialized");
        Report.check(ch.closeOrderly(10_000), "orderly close after the steps");
        ch.close();
        return true;
    }

    /**
     * Commands ControllerChannel leaves to the scenario: stdin reads for {@link #stdin}, stream
     * unexports, and the Flush kite sends after each step's output, which needs no response.
     */
    private void onCommand(Command c) {
        StdinSource in = stdin;
        try {
            if (in != null && in.serve(ch, c)) {
                return;
            }
        } catch (IOException e) {
            Report.fail("could not answer the agent's stdin read: " + e);
            return;
        }
        if (c instanceof ProxyOutputStream.Unexport u) {
            streamUnexports.add(u.oid);
        } else if (!(c instanceof ProxyOutputStream.Flush)) {
            Report.info("agent sent " + c.getClass().getName());
        }
    }

    /** Returns the build environment as a launch's env strings, with {@code buildCookie} as the build's cookie. */
    List<String> env(String buildCookie) {
        List<String> env = new ArrayList<>();
        for (Map.Entry<String, String> e : Main.buildEnvironment(ws.toString(), JOB, buildCookie).entrySet()) {
            env.add(e.getKey() + "=" + e.getValue());
        }
        return env;
    }

    /** Writes {@code script} into the workspace and returns a spec running it with /bin/sh -e. */
    StepRun.Spec script(String name, String script) throws Exception {
        Path file = ws.resolve(name);
        Files.writeString(file, script, StandardCharsets.UTF_8);
        StepRun.Spec spec = new StepRun.Spec().cmd("/bin/sh", "-e", file.toString());
        spec.env = env(cookie);
        spec.workDir = ws.toString();
        return spec;
    }

    /** Returns a script that prints the waiting line, waits up to 60 s for the file "go", then runs {@code body}. */
    static String afterGo(String body) {
        return "printf '" + WAITING_LINE.replace("\n", "\\n") + "'\n"
                + "i=0\n"
                + "while [ ! -e go ]; do\n"
                + "  sleep 0.05; i=$((i+1))\n"
                + "  if [ $i -gt 1200 ]; then echo 'no go file after 60 s' >&2; exit 9; fi\n"
                + "done\n"
                + "rm -f go\n"
                + body + "\n";
    }

    /** Waits for the waiting line, checks the step is alive, then creates the go file; returns its time. */
    long go(StepRun run, String what) throws Exception {
        boolean arrived = run.out.awaitCount(WAITING_LINE.length(), timeoutMillis);
        Report.check(arrived, what + ": first line arrived while the step waits");
        Report.equal(Boolean.TRUE, run.isAlive(timeoutMillis), what + ": isAlive after the first line");
        long t = System.nanoTime();
        Files.writeString(ws.resolve("go"), "");
        return t;
    }

    /** Returns the shell command that writes the first {@code length} bytes of {@code seq 1 N}. */
    static String seqBody(long length) {
        return "seq 1 100000000 | head -c " + length;
    }

    /** CRC-32 of {@link #WAITING_LINE} followed by the first {@code length} bytes of "1\n2\n3\n...". */
    static long expectedCrc(long length) {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(WAITING_LINE.getBytes(StandardCharsets.US_ASCII));
        byte[] buf = new byte[1 << 16];
        int pos = 0;
        long left = length;
        byte[] digits = new byte[20];
        for (long i = 1; left > 0; i++) {
            int d = 0;
            digits[d++] = '\n';
            for (long v = i; v > 0; v /= 10) {
                digits[d++] = (byte) ('0' + v % 10);
            }
            while (d > 0 && left > 0) {
                buf[pos++] = digits[--d];
                left--;
                if (pos == buf.length) {
                    crc.update(buf, 0, pos);
                    pos = 0;
                }
            }
        }
        crc.update(buf, 0, pos);
        return crc.getValue();
    }

    /** Runs the 200 MiB step and checks every byte, live arrival, and kite's memory on the way. */
    private void stream() throws Exception {
        KiteProcess kite = KiteProcess.find(m.o.envMarker);
        KiteProcess.Status before = kite == null ? null : kite.read();
        long crc = expectedCrc(BIG_BYTES);

        StepRun.Spec spec = script("big.sh", afterGo(seqBody(BIG_BYTES)));
        StepRun run = StepRun.launch(ch, spec, timeoutMillis);
        if (run == null) {
            return;
        }
        run.checkTriplet(timeoutMillis);
        long start;
        Integer exit;
        long end;
        KiteProcess.Sampler sampler = kite == null ? null : kite.sample(20);
        try {
            start = go(run, "200 MiB step");
            exit = run.join(300_000);
            end = System.nanoTime();
        } finally {
            if (sampler != null) {
                sampler.close();
            }
        }
        Report.equal(0, exit, "exit code of the 200 MiB step");
        Report.equal("[" + JOB + "] $ /bin/sh -e " + ws.resolve("big.sh") + "\n",
                new String(run.listener.bytes(), StandardCharsets.UTF_8), "listener line of the 200 MiB step");
        Report.equal(WAITING_LINE.length() + BIG_BYTES, run.out.count(), "bytes received from the 200 MiB step");
        Report.equal(Long.toHexString(crc), Long.toHexString(run.out.crc()), "CRC-32 of the 200 MiB step's output");
        Report.check(run.out.firstByteNanos() != 0 && run.out.firstByteNanos() < start,
                "first output arrived while the step was still waiting, before the bulk was written");
        double seconds = (end - start) / 1e9;
        Report.info(String.format("200 MiB step: %.2f s from go to join's answer, %.0f MiB/s", seconds,
                BIG_BYTES / (1 << 20) / seconds));

        if (kite == null) {
            Report.fail("kite's process was not found, so its memory was not checked");
            return;
        }
        KiteProcess.Status after = kite.read();
        Report.info(String.format("kite pid %d: VmHWM %d KiB before the step, %d KiB after; during it max VmRSS %d KiB,"
                + " max RssAnon %d KiB (%d samples)", kite.pid, before == null ? -1 : before.vmHwmKiB(),
                after == null ? -1 : after.vmHwmKiB(), sampler.maxRssKiB(), sampler.maxAnonKiB(), sampler.samples()));
        Report.check(after != null && after.vmHwmKiB() > 0 && after.vmHwmKiB() < GROSS_HWM_KIB,
                "kite's VmHWM stayed under " + (GROSS_HWM_KIB >> 10) + " MiB while streaming 200 MiB: "
                + (after == null ? "unknown" : after.vmHwmKiB() + " KiB"));
        run.forget();
    }

    /**
     * Flow control: after 8 MiB the controller stops acknowledging chunks for 3 s. Kite may then
     * send at most one window (1 MiB) more, its memory must not grow, and every byte must arrive
     * once the held Acks are sent.
     */
    private void flow() throws Exception {
        final long total = 64L << 20;
        final long holdAfter = 8L << 20;
        KiteProcess kite = KiteProcess.find(m.o.envMarker);
        long crc = expectedCrc(total);
        StepRun.Spec spec = script("flow.sh", afterGo(seqBody(total)));
        StepRun run = StepRun.launch(ch, spec, timeoutMillis);
        if (run == null) {
            return;
        }
        run.checkTriplet(timeoutMillis);

        List<ProxyOutputStream.Chunk> held = new ArrayList<>();
        boolean[] holding = {false};
        ch.ackAtOnce = chunk -> {
            synchronized (held) {
                if (holding[0] && chunk.oid == run.out.oid) {
                    held.add(chunk);
                    return false;
                }
                return true;
            }
        };
        go(run, "flow-control step");
        Report.check(run.out.awaitCount(holdAfter, 60_000), "the first 8 MiB arrived");
        synchronized (held) {
            holding[0] = true;
        }
        long atHold = run.out.count();
        KiteProcess.Status start = kite == null ? null : kite.read();
        Thread.sleep(1000);
        long afterOne = run.out.count();
        KiteProcess.Status one = kite == null ? null : kite.read();
        Thread.sleep(2000);
        long afterThree = run.out.count();
        KiteProcess.Status three = kite == null ? null : kite.read();
        long heldBytes;
        List<ProxyOutputStream.Chunk> release;
        synchronized (held) {
            holding[0] = false;
            release = new ArrayList<>(held);
            held.clear();
        }
        heldBytes = release.stream().mapToLong(c -> c.buf.length).sum();
        for (ProxyOutputStream.Chunk c : release) {
            ch.send(new ProxyOutputStream.Ack(c.oid, c.buf.length));
        }
        Integer exit = run.join(300_000);
        ch.ackAtOnce = null;

        Report.info("Acks held for 3 s after " + atHold + " bytes: " + release.size() + " chunks of " + heldBytes
                + " bytes arrived meanwhile; count after 1 s " + afterOne + ", after 3 s " + afterThree);
        Report.check(heldBytes > 0, "kite kept sending until its window was used up (" + heldBytes + " bytes)");
        Report.check(heldBytes <= WINDOW_BYTES,
                "kite sent at most one window (" + WINDOW_BYTES + " bytes) without Acks: " + heldBytes);
        Report.equal(afterOne, afterThree, "no output arrived between 1 s and 3 s of held Acks (bytes)");
        if (kite == null) {
            Report.fail("kite's process was not found, so its memory was not checked");
        } else if (start != null && one != null && three != null) {
            Report.info(String.format("kite RssAnon while Acks were held: %d KiB at the start, %d after 1 s, %d after 3 s",
                    start.rssAnonKiB(), one.rssAnonKiB(), three.rssAnonKiB()));
            Report.check(three.rssAnonKiB() - one.rssAnonKiB() <= 1024,
                    "kite's anonymous memory did not grow while Acks were held: "
                    + (three.rssAnonKiB() - one.rssAnonKiB()) + " KiB between 1 s and 3 s");
        }
        Report.equal(0, exit, "exit code of the flow-control step");
        Report.equal(WAITING_LINE.length() + total, run.out.count(), "bytes received from the flow-control step");
        Report.equal(Long.toHexString(crc), Long.toHexString(run.out.crc()), "CRC-32 of the flow-control step's output");
        run.forget();
    }
}
