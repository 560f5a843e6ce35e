package kite.controller;

import hudson.remoting.UnexportCommand;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The steps-bytes scenario: what a step writes reaches the controller byte for byte, stderr is
 * merged into stdout in write order (or kept apart when the controller asks), stdin comes from
 * the controller, and the launch honours quiet, masks and Jenkins' EnvVars rules.
 */
final class StepBytes {
    private final StepScenarios s;

    StepBytes(StepScenarios s) {
        this.s = s;
    }

    void run() throws Exception {
        exactBytes();
        interleaved();
        separateStderr();
        stdin();
        quietAndMasks();
        environment();
    }

    /** Runs {@code spec} to its end and returns it, or null after a failed check. */
    private StepRun complete(StepRun.Spec spec, int expectedExit, String what) throws Exception {
        StepRun run = StepRun.launch(s.ch, spec, s.timeoutMillis);
        if (run == null) {
            return null;
        }
        run.checkTriplet(s.timeoutMillis);
        Report.equal(expectedExit, run.join(60_000), "exit code of the " + what + " step");
        releaseProcess(run, what);
        run.forget();
        return run;
    }

    /**
     * Drops the controller's proxy of the process, as the garbage collector of a Java controller
     * does with an UnexportCommand. Kite must then release every stream of the launch with
     * ProxyOutputStream$Unexport, or the controller keeps one export per stream until the channel ends.
     */
    private void releaseProcess(StepRun run, String what) throws Exception {
        s.ch.send(new UnexportCommand(run.processOid));
        List<Integer> streams = new ArrayList<>(List.of(run.listener.oid, run.out.oid));
        if (run.err != null) {
            streams.add(run.err.oid);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!s.streamUnexports.containsAll(streams) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        for (int oid : streams) {
            Report.check(s.streamUnexports.contains(oid), what + ": kite released the controller's stream " + oid);
        }
    }

    private static void sameBytes(byte[] want, byte[] got, String what) {
        int diff = Arrays.mismatch(want, got);
        Report.check(diff < 0, what + " (" + got.length + " bytes, want " + want.length + ")"
                + (diff < 0 ? "" : ", first difference at byte " + diff));
    }

    /** printf with an octal escape for every byte, so the script itself is plain ASCII. */
    private static String printf(byte[] bytes) {
        StringBuilder b = new StringBuilder("printf '");
        for (byte x : bytes) {
            b.append(String.format("\\%03o", x & 0xff));
        }
        return b.append("'\n").toString();
    }

    /** Checks all 256 byte values, invalid UTF-8, CJK text and no final newline. */
    private void exactBytes() throws Exception {
        ByteArrayOutputStream want = new ByteArrayOutputStream();
        for (int i = 0; i < 256; i++) {
            want.write(i);
        }
        want.write(Main.bytes("\ninvalid utf-8: \300\200 \355\240\200 \377\376 \342\202\n"));
        want.write("CJK: 漢字 かな 한국어 中文输出\n".getBytes(StandardCharsets.UTF_8));
        want.write("last line without newline".getBytes(StandardCharsets.UTF_8));
        String script = printf(Arrays.copyOfRange(want.toByteArray(), 0, 256))
                + printf(Arrays.copyOfRange(want.toByteArray(), 256, want.size()));
        StepRun run = complete(s.script("bytes.sh", script), 0, "binary output");
        if (run != null) {
            sameBytes(want.toByteArray(), run.out.bytes(), "binary, invalid UTF-8 and CJK output arrived byte for byte");
        }
    }

    private static final int LINES = 400;

    private static String alternating() {
        return "i=0\n"
                + "while [ $i -lt " + LINES + " ]; do\n"
                + "  echo \"out $i\"\n"
                + "  echo \"err $i\" >&2\n"
                + "  i=$((i+1))\n"
                + "done\n"
                + "printf 'stderr without newline' >&2\n";
    }

    /** stderr merged into stdout, as Jenkins' launcher does when err is null: one pipe, write order kept. */
    private void interleaved() throws Exception {
        StringBuilder want = new StringBuilder();
        for (int i = 0; i < LINES; i++) {
            want.append("out ").append(i).append('\n').append("err ").append(i).append('\n');
        }
        want.append("stderr without newline");
        StepRun run = complete(s.script("interleave.sh", alternating()), 0, "interleaving");
        if (run != null) {
            sameBytes(Main.bytes(want.toString()), run.out.bytes(), "stdout and stderr merged in write order");
        }
    }

    /** With err given, the two streams arrive apart. */
    private void separateStderr() throws Exception {
        StringBuilder out = new StringBuilder();
        StringBuilder err = new StringBuilder();
        for (int i = 0; i < LINES; i++) {
            out.append("out ").append(i).append('\n');
            err.append("err ").append(i).append('\n');
        }
        err.append("stderr without newline");
        StepRun.Spec spec = s.script("interleave.sh", alternating());
        spec.separateStderr = true;
        StepRun run = complete(spec, 0, "separate stderr");
        if (run != null) {
            sameBytes(Main.bytes(out.toString()), run.out.bytes(), "stdout alone on out");
            sameBytes(Main.bytes(err.toString()), run.err.bytes(), "stderr alone on err");
        }
    }

    /** 300 KiB of every byte value from the controller's RemoteInputStream, copied back by cat. */
    private void stdin() throws Exception {
        byte[] data = new byte[300 << 10];
        new Random(42).nextBytes(data);
        StdinSource in = new StdinSource(StepRun.newOid(), data);
        s.stdin = in;
        StepRun.Spec spec = s.script("stdin.sh", "cat\nprintf 'stdin done'\n");
        spec.stdin = in;
        StepRun run = complete(spec, 0, "stdin");
        if (run != null) {
            sameBytes(Main.concat(data, Main.bytes("stdin done")), run.out.bytes(), "stdin from the controller copied to stdout");
        }
        Report.equal(data.length, in.served(), "bytes of stdin the agent read");
        Report.check(in.reads() >= 2, "the agent read stdin in " + in.reads() + " ProxyInputStream$Chunk requests");
        try {
            in.eof().get(10, TimeUnit.SECONDS);
            Report.pass("the agent sent ProxyInputStream$EOF after the end of stdin");
        } catch (java.util.concurrent.TimeoutException e) {
            Report.fail("the agent sent no ProxyInputStream$EOF for stdin within 10 s");
        }
        s.stdin = null;
    }

    /** Checks the listener line with a masked argument, then the same launch with quiet set. */
    private void quietAndMasks() throws Exception {
        String path = s.ws.resolve("args.sh").toString();
        StepRun.Spec spec = s.script("args.sh", "printf '%s|%s\\n' \"$1\" \"$2\"\n");
        spec.cmd = new ArrayList<>(List.of("/bin/sh", path, "visible-arg", "s3cr3t-value"));
        spec.masks = new boolean[] {false, false, false, true};
        StepRun loud = complete(spec, 0, "masked argument");
        if (loud != null) {
            Report.equal("[" + StepScenarios.JOB + "] $ /bin/sh " + path + " visible-arg ********\n",
                    new String(loud.listener.bytes(), StandardCharsets.UTF_8), "listener line masks the argument");
            Report.equal("visible-arg|s3cr3t-value\n", new String(loud.out.bytes(), StandardCharsets.UTF_8),
                    "the process receives the masked argument itself");
        }
        spec.quiet = true;
        StepRun quiet = complete(spec, 0, "quiet");
        if (quiet != null) {
            Report.equal(0L, quiet.listener.count(), "a quiet launch writes nothing to the listener (bytes)");
            Report.equal("visible-arg|s3cr3t-value\n", new String(quiet.out.bytes(), StandardCharsets.UTF_8),
                    "output of the quiet launch");
        }
    }

    /**
     * Jenkins' EnvVars rules: names compare case-insensitively (the first spelling stays, the last
     * value wins), NAME+SUFFIX prepends to NAME, values refer to variables defined later in the
     * list, an empty value removes a variable, and $VAR in the command is expanded.
     */
    private void environment() throws Exception {
        String marker = s.m.o.envMarker;
        String path = s.ws.resolve("env.sh").toString();
        StepRun.Spec spec = s.script("env.sh", "printf '%s|%s\\n' \"$1\" \"$2\"\nenv -0\n");
        spec.cmd = new ArrayList<>(List.of("/bin/sh", path, "$WHO", "${GREETING}"));
        spec.env.addAll(List.of("Mixed=one", "MIXED=two", "PATH+KITE=/opt/kite-extra/bin", "GREETING=hello $WHO",
                "WHO=world"));
        if (marker != null) {
            spec.env.add(marker.substring(0, marker.indexOf('=')) + "=");
        }
        StepRun run = complete(spec, 0, "environment");
        if (run == null) {
            return;
        }
        Report.equal("[" + StepScenarios.JOB + "] $ /bin/sh " + path + " $WHO ${GREETING}\n",
                new String(run.listener.bytes(), StandardCharsets.UTF_8), "listener line shows the command before expansion");
        String text = new String(run.out.bytes(), StandardCharsets.UTF_8);
        int newline = text.indexOf('\n');
        Report.equal("world|hello world", newline < 0 ? text : text.substring(0, newline), "arguments after $VAR expansion");
        Map<String, String> env = new LinkedHashMap<>();
        for (String entry : text.substring(newline + 1).split("\0")) {
            int eq = entry.indexOf('=');
            if (eq > 0) {
                env.put(entry.substring(0, eq), entry.substring(eq + 1));
            }
        }
        List<String> mixed = env.keySet().stream().filter(k -> k.equalsIgnoreCase("mixed")).toList();
        Report.equal(List.of("Mixed"), mixed, "one variable for Mixed and MIXED, spelled as first given");
        Report.equal("two", env.get("Mixed"), "Mixed holds the last value given");
        String agentPath = System.getenv("PATH");
        Report.equal("/opt/kite-extra/bin:" + agentPath, env.get("PATH"), "PATH+KITE prepends to the agent's PATH");
        Report.check(!env.containsKey("PATH+KITE"), "no variable named PATH+KITE reaches the process");
        Report.equal("hello world", env.get("GREETING"), "GREETING refers to WHO, defined after it");
        if (marker != null) {
            String key = marker.substring(0, marker.indexOf('='));
            Report.check(!env.containsKey(key), "an empty value removes the agent's " + key);
        }
        Report.equal(s.cookie, env.get("JENKINS_SERVER_COOKIE"), "the build's cookie reaches the process");
        String processCookie = env.getOrDefault("HUDSON_COOKIE", "");
        Report.check(processCookie.matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"),
                "HUDSON_COOKIE is a random UUID: " + processCookie);
    }
}
