package kite.controller;

import hudson.remoting.Capability;
import hudson.remoting.Request;
import hudson.remoting.Response;
import hudson.remoting.UnexportCommand;
import hudson.remoting.GCCommand;
import hudson.remoting.PingThread;
import hudson.node_monitors.ResponseTimeMonitor;
import hudson.slaves.SlaveComputer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.example.UnknownCallable;

/**
 * A Jenkins controller stand-in for Kite's tests: it accepts the agent's WebSocket connection
 * like Jenkins' /wsagents/ endpoint, drives one scenario with JDK-serialized mirrors of the
 * Jenkins and remoting classes, checks every answer, and exits 0 only when all checks passed.
 */
public final class Main {
    static final long MASK_510 = 0x1FE;

    final Options o;
    private final WebSocketServer server;
    private final String capabilityHeader;
    private String cookie = HexFormat.of().formatHex(new SecureRandom().generateSeed(32));
    private int connections;

    private Main(Options o) throws IOException {
        this.o = o;
        this.server = new WebSocketServer(o.port);
        this.capabilityHeader = Base64.getEncoder().encodeToString(serialize(new Capability(MASK_510)));
    }

    public static void main(String[] args) throws Exception {
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        Report.verbose = !o.quiet;
        Main m = new Main(o);
        if (o.portFile != null) {
            Path tmp = Path.of(o.portFile + ".tmp");
            Files.writeString(tmp, Integer.toString(m.server.port()));
            Files.move(tmp, Path.of(o.portFile), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
        Report.info("test controller listening on http://127.0.0.1:" + m.server.port() + "/ (scenario " + o.scenario + ")");
        try {
            switch (o.scenario) {
                case "connect" -> m.connect();
                case "demo" -> m.demo();
                case "unknown" -> m.unknown();
                case "vanish" -> m.vanish();
                case "noping" -> m.noping();
                case "badframe" -> m.badframe();
                case "shell" -> m.shell();
                case "bench" -> m.bench();
                case "idle-bench" -> m.idleBench();
                case "online-bench" -> m.onlineBench();
                default -> {
                    if (!ScenarioGroups.run(m, o.scenario)) {
                        System.err.println("unknown scenario " + o.scenario + "\n" + Options.USAGE);
                        System.exit(2);
                    }
                }
            }
        } catch (Exception e) {
            Report.fail("scenario " + o.scenario + " aborted: " + e);
            e.printStackTrace(System.out);
        } finally {
            m.server.close();
        }
        System.out.println("SUMMARY " + Report.passed() + " passed, " + Report.failed() + " failed");
        System.exit(Report.failed() == 0 ? 0 : 1);
    }

    static byte[] serialize(Object o) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(b)) {
            out.writeObject(o);
        }
        return b.toByteArray();
    }

    /** Accepts the next agent connection and checks its handshake; null (and a failure) on time-out. */
    ControllerChannel accept() throws IOException {
        String previousCookie = connections == 0 ? null : cookie;
        String issued = previousCookie != null ? previousCookie : cookie;
        WebSocketServer.Connection c = server.accept(o.acceptTimeoutSeconds * 1000, o.node, o.secret, issued,
                capabilityHeader, ConnectSequence.MINIMUM_VERSION);
        if (c == null) {
            Report.fail("no agent connection within " + o.acceptTimeoutSeconds + " s (connection " + (connections + 1) + ")");
            return null;
        }
        connections++;
        Report.info("connection " + connections + " from node " + c.handshake.nodeName());
        try {
            Object cap = new ObjectInputStream(new ByteArrayInputStream(Base64.getDecoder().decode(c.handshake.capability()))).readObject();
            Report.check(cap instanceof Capability k && k.mask == MASK_510, "X-Remoting-Capability is Capability(mask=510)");
        } catch (Exception e) {
            Report.fail("X-Remoting-Capability does not decode: " + e);
        }
        if (previousCookie == null) {
            Report.check(c.handshake.cookie() == null, "first connection carries no Connection-Cookie");
        } else {
            Report.equal(previousCookie, c.handshake.cookie(), "reconnect sends the previous Connection-Cookie");
        }
        ControllerChannel ch = new ControllerChannel(c);
        ch.start();
        return ch;
    }

    /**
     * Serves agents until interrupted: each connection goes online, answers the monitors, then
     * idles with pings (and a monitor round every 60 pings) until the agent disconnects.
     */
    private void demo() throws Exception {
        o.acceptTimeoutSeconds = 24 * 3600;
        while (true) {
            ControllerChannel ch = accept();
            if (ch == null) {
                continue;
            }
            try {
                ConnectSequence seq = new ConnectSequence(ch, o);
                seq.goOnline();
                Report.info("node " + o.node + " is online");
                ResponseTimeMonitor.Data data = seq.monitors(null);
                demoShellStep(ch, seq);
                Report.info("monitors answered; pinging every " + o.pingIntervalSeconds + " s (Ctrl-C to stop)");
                for (int pings = 1; !ch.ended().isDone(); pings++) {
                    ch.call(new PingThread.Ping(), o.agentPingTimeout * 1000L + 5000);
                    if (pings % 60 == 0) {
                        data = seq.monitors(data);
                        Report.info("still online after " + pings + " pings; monitors answered again");
                    }
                    Thread.sleep(o.pingIntervalSeconds * 1000L);
                }
            } catch (Exception e) {
                Report.info("agent disconnected: " + e);
            }
            Report.info("waiting for the agent to reconnect");
            ch.close();
        }
    }

    /** Runs the demo's build step, one "Execute shell", and prints its console lines. */
    private void demoShellStep(ControllerChannel ch, ConnectSequence seq) throws Exception {
        String root = o.workDir != null ? o.workDir : System.getProperty("java.io.tmpdir");
        String ws = Path.of(root, "workspace", "demo-job").toString();
        String script = "echo \"hello from $(hostname) in $PWD\"\nuname -sm\nprintf 'build %s done' \"$BUILD_NUMBER\"\n";
        ShellStep.Result r = new ShellStep(ch, seq, o.callTimeoutSeconds * 1000L).run(ws, script, buildEnvironment(ws, "demo-job", "demo"));
        byte[] console = concat(r.listenerBytes(), r.outBytes());
        for (String line : new String(console, StandardCharsets.UTF_8).split("\n", -1)) {
            Report.info("  console | " + line);
        }
        Report.info("shell step finished with exit code " + r.exitCode());
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** The variables Jenkins puts in a freestyle build's environment (those KillTask matches on). */
    static java.util.Map<String, String> buildEnvironment(String ws, String job, String cookie) {
        java.util.Map<String, String> env = new java.util.LinkedHashMap<>();
        env.put("BUILD_ID", "1");
        env.put("BUILD_NUMBER", "1");
        env.put("BUILD_TAG", "jenkins-" + job + "-1");
        env.put("JOB_NAME", job);
        env.put("JOB_BASE_NAME", job);
        env.put("JENKINS_SERVER_COOKIE", cookie);
        env.put("HUDSON_SERVER_COOKIE", cookie);
        env.put("WORKSPACE", ws);
        return env;
    }

    /** Encodes expected output as ISO-8859-1, so each char of {@code s} is one byte. */
    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /**
     * Runs a freestyle build with two "Execute shell" steps and the end-of-build KillTask. Step 1
     * exits 0 after binary and non-UTF-8 output, a 252 KB block, a daemon left behind and no final
     * newline. Step 2 exits 3. KillTask must reach the daemon.
     */
    private void shell() throws Exception {
        ControllerChannel ch = accept();
        if (ch == null) {
            return;
        }
        ConnectSequence seq = new ConnectSequence(ch, o);
        seq.goOnline();
        String root = o.workDir != null ? o.workDir : Files.createTempDirectory("kite-shell").toString();
        String ws = Path.of(root, "workspace", "shell-job").toString();
        String cookie = "kite-shell-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        java.util.Map<String, String> env = buildEnvironment(ws, "shell-job", cookie);
        ShellStep step = new ShellStep(ch, seq, o.callTimeoutSeconds * 1000L);

        String block = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\n";
        String script = String.join("\n",
                "set +x",
                "printf 'first line\\n'",
                "printf 'binary \\000\\001\\002\\177\\200\\377 bytes\\n'",
                "printf 'latin-1 \\351\\350 and utf-8 caf\\303\\251\\n'",
                "i=0; while [ $i -lt 4000 ]; do echo " + block.trim() + "; i=$((i+1)); done",
                "printf '%s\\n' \"$JOB_NAME in $PWD\"",
                "sleep 300 >/dev/null 2>&1 &",
                "printf 'last line without newline'") + "\n";
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.write(bytes("+ set +x\nfirst line\nbinary \0\1\2\177\200\377 bytes\nlatin-1 \351\350 and utf-8 caf\303\251\n"));
        for (int i = 0; i < 4000; i++) {
            expected.write(bytes(block));
        }
        expected.write(("shell-job in " + ws + "\n").getBytes(StandardCharsets.UTF_8));
        expected.write(bytes("last line without newline"));

        ShellStep.Result ok = step.run(ws, script, env);
        Report.equal("[shell-job] $ /bin/sh -xe " + ok.scriptPath() + "\n",
                new String(ok.listenerBytes(), StandardCharsets.UTF_8), "listener line before the launch");
        byte[] want = expected.toByteArray();
        byte[] got = ok.outBytes();
        int diff = Arrays.mismatch(want, got);
        Report.check(diff < 0, "output bytes of step 1 (" + got.length + " bytes, want " + want.length + ")"
                + (diff < 0 ? "" : ", first difference at byte " + diff));
        Report.equal(0, ok.exitCode(), "exit code of step 1");

        ShellStep.Result failing = step.run(ws, "set +x\necho failing on purpose\nexit 3\n", env);
        Report.equal("+ set +x\nfailing on purpose\n", new String(failing.outBytes(), StandardCharsets.ISO_8859_1),
                "output bytes of step 2");
        Report.equal(3, failing.exitCode(), "exit code of step 2");

        String entry = "JENKINS_SERVER_COOKIE=" + cookie;
        List<Long> daemons = ShellStep.processesWith(entry);
        Report.check(!daemons.isEmpty(), "step 1 left its background sleep running before KillTask: " + daemons);
        java.util.Map<String, String> model = new java.util.LinkedHashMap<>(env);
        model.remove("WORKSPACE");
        step.killTask(model);
        List<Long> left = ShellStep.processesWith(entry);
        for (int i = 0; i < 50 && !left.isEmpty(); i++) {
            Thread.sleep(200);
            left = ShellStep.processesWith(entry);
        }
        Report.check(left.isEmpty(), "KillTask killed every process carrying the build's cookie: left " + left);
        Report.check(ch.commandErrors.isEmpty(), "every agent command deserialized");
        Report.check(ch.closeOrderly(10_000), "orderly close after the shell steps");
        ch.close();
    }

    private void connect() throws Exception {
        ControllerChannel ch = accept();
        if (ch == null) {
            return;
        }
        long t0 = System.nanoTime();
        ConnectSequence seq = new ConnectSequence(ch, o);
        seq.goOnline();
        Report.info(String.format("node %s is online (%.1f ms after the upgrade)", o.node, (System.nanoTime() - t0) / 1e6));
        seq.remotingCallables();
        seq.onDemand();
        ResponseTimeMonitor.Data data = seq.monitors(null);
        Report.info("monitors answered");
        idle(ch, o.idleSeconds);
        seq.monitors(data);
        int expected = Math.max(1, o.idleSeconds / Math.max(1, o.agentPingInterval) - 2);
        Report.check(ch.agentPings.get() >= expected,
                "agent pinged the controller " + ch.agentPings.get() + " times (at least " + expected + ")");
        Report.check(ch.loaderNameCalls.get() >= 1, "agent's class loader proxy answered getName");
        Report.check(ch.commandErrors.isEmpty(), "every agent command deserialized");
        Report.check(ch.closeOrderly(10_000), "orderly close: the agent answered CloseCommand and closed the socket");
        ch.close();
    }

    /** Pings the agent every ping interval for {@code seconds}, like the controller's PingThread. */
    private void idle(ControllerChannel ch, int seconds) throws Exception {
        long start = System.nanoTime();
        long duration = TimeUnit.SECONDS.toNanos(seconds);
        int pings = 0;
        while (System.nanoTime() - start < duration) {
            ControllerChannel.Outcome r = ch.call(new PingThread.Ping(), o.agentPingTimeout * 1000L + 5000);
            if (r.failed() || r.value() != null) {
                Report.fail("agent answered ping " + pings + " with " + (r.failed() ? r.raw() : r.value()));
            }
            pings++;
            if (ch.ended().isDone()) {
                Report.fail("agent went away while idle: " + ch.ended().get());
                return;
            }
            Thread.sleep(o.pingIntervalSeconds * 1000L);
        }
        Report.pass("agent answered " + pings + " controller pings while idle");
    }

    private void unknown() throws Exception {
        ControllerChannel ch = accept();
        if (ch == null) {
            return;
        }
        ConnectSequence seq = new ConnectSequence(ch, o);
        seq.goOnline();

        for (int round = 0; round < 2; round++) {
            ControllerChannel.Outcome r = ch.call(new UnknownCallable("round " + round), 10_000);
            Report.check(r.failed(), "unknown callable answered with an exception (round " + round + ")");
            Report.check(r.raw() instanceof IOException, "rawResponse is an IOException: " + ConnectSequence.className(r.raw()));
            String msg = r.raw() == null ? "" : r.raw().getMessage();
            Report.check(msg.contains(UnknownCallable.class.getName()) && msg.contains("Kite does not support"),
                    "exception message names the class and says Kite does not support it: " + msg);
            Report.check(r.proxy() != null && r.proxy().getMessage().contains(UnknownCallable.class.getName()),
                    "proxyResponse is a ProxyException naming the class: " + (r.proxy() == null ? null : r.proxy().getMessage()));
        }

        byte[] garbage = "not a serialization stream".getBytes(StandardCharsets.US_ASCII);
        ControllerChannel.Outcome bad = ch.decode(ch.callAsync(ch.newId(), garbage, "garbage@1").get(10, TimeUnit.SECONDS));
        Report.check(bad.failed() && bad.raw() instanceof IOException, "undecodable payload answered with an IOException: " + bad.raw());

        byte[] truncated = Arrays.copyOf(Payloads.write(new SlaveComputer.DetectOS(), ControllerChannel.LOADER_OID), 40);
        ControllerChannel.Outcome cut = ch.decode(ch.callAsync(ch.newId(), truncated, "truncated@1").get(10, TimeUnit.SECONDS));
        Report.check(cut.failed(), "truncated payload answered with an exception: " + cut.raw());

        try {
            ch.rpc(999, "hudson.Launcher$RemoteProcess", "join", new String[0], new Object[0], 10_000);
            Report.fail("RPC on an unknown oid succeeded");
        } catch (IOException e) {
            Report.pass("RPC on unknown oid 999 answered with " + e.getCause());
        }
        ControllerChannel.Outcome userRpc = ch.userRpc(998, "hudson.Launcher$RemoteProcess", "isAlive", new String[0], new Object[0], 10_000);
        Report.check(userRpc.failed(), "UserRPCRequest on unknown oid 998 answered with an exception: " + userRpc.raw());
        Object property = ch.rpc(1, "hudson.remoting.IChannel", "getProperty", new String[] {"java.lang.Object"},
                new Object[] {"agent"}, 10_000);
        Report.equal(null, property, "IChannel.getProperty(\"agent\") on oid 1");

        ch.send(new UnexportCommand(4242));
        ch.send(new GCCommand());
        ch.send(new Request.Cancel(31337));
        ch.sendCommandBytes("garbage command".getBytes(StandardCharsets.US_ASCII));
        Report.equal(Boolean.TRUE, seq.value(new SlaveComputer.DetectOS()), "channel still serves DetectOS after bad input");
        Report.check(ch.closeOrderly(10_000), "orderly close after the unsupported requests");
        ch.close();
    }

    private void vanish() throws Exception {
        ControllerChannel ch = accept();
        if (ch == null) {
            return;
        }
        new ConnectSequence(ch, o).goOnline();
        // Send the first chunk of a command (more bit set), then disappear.
        byte[] half = new byte[] {(byte) 0x80, 4, (byte) 0xac, (byte) 0xed, 0, 5};
        ch.ws.sendBinary(half);
        ch.close();
        Report.info("controller vanished in the middle of a command");

        ch = accept();
        if (ch == null) {
            return;
        }
        ConnectSequence seq = new ConnectSequence(ch, o);
        seq.goOnline();
        CompletableFuture<Response> f = ch.callAsync(new SlaveComputer.DetectOS());
        ch.close();
        Report.info("controller vanished with request outstanding");
        try {
            f.get(5, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // Either answered before the close or failed with it; both are fine.
        }

        ch = accept();
        if (ch == null) {
            return;
        }
        seq = new ConnectSequence(ch, o);
        seq.goOnline();
        Report.check(ch.closeOrderly(10_000), "orderly close after two vanished controllers");
        ch.close();
    }

    private void noping() throws Exception {
        ControllerChannel ch = accept();
        if (ch == null) {
            return;
        }
        ch.answerAgentPings = false;
        new ConnectSequence(ch, o).goOnline();
        long t0 = System.nanoTime();
        long limit = (o.agentPingInterval + o.agentPingTimeout) * 1000L + 10_000;
        String why = ch.awaitEnd(limit);
        Report.check(why != null, "agent closed the channel after its pings went unanswered (" + why + ")");
        Report.check(ch.agentPings.get() >= 1, "agent sent pings: " + ch.agentPings.get());
        Report.info(String.format("channel ended %.1f s after going online", (System.nanoTime() - t0) / 1e9));
        ch.close();

        ch = accept();
        if (ch == null) {
            return;
        }
        new ConnectSequence(ch, o).goOnline();
        Report.check(ch.closeOrderly(10_000), "orderly close after the reconnect");
        ch.close();
    }

    private void badframe() throws Exception {
        ControllerChannel ch = accept();
        if (ch == null) {
            return;
        }
        new ConnectSequence(ch, o).goOnline();
        // A binary frame that announces 200 payload bytes, of which only 20 arrive.
        ch.ws.sendRaw(Arrays.copyOf(new byte[] {(byte) 0x82, 126, 0, (byte) 200}, 24));
        ch.close();
        Report.info("controller sent a truncated frame and closed");

        ch = accept();
        if (ch == null) {
            return;
        }
        new ConnectSequence(ch, o).goOnline();
        // RSV1 set without a negotiated extension, and reserved opcode 3.
        ch.ws.sendRaw(new byte[] {(byte) 0xC3, 2, 1, 2});
        String why = ch.awaitEnd(15_000);
        Report.check(why != null, "agent dropped the connection after a corrupt frame (" + why + ")");
        ch.close();

        ch = accept();
        if (ch == null) {
            return;
        }
        ConnectSequence seq = new ConnectSequence(ch, o);
        seq.goOnline();
        ch.sendCommandBytes(new byte[] {(byte) 0xac, (byte) 0xed, 0, 5, 0x73, 0x72, 0x7f, 0x7f});
        Report.equal(Boolean.TRUE, seq.value(new SlaveComputer.DetectOS()), "channel survives a corrupt command");
        Report.check(ch.closeOrderly(10_000), "orderly close after the corrupt frames");
        ch.close();
    }

    /** Times {@code --rounds} trivial round trips (PingThread$Ping) after going online. */
    private void bench() throws Exception {
        ControllerChannel ch = accept();
        if (ch == null) {
            return;
        }
        ConnectSequence seq = new ConnectSequence(ch, o);
        seq.goOnline();
        seq.monitors(null);
        int rounds = Math.max(1, o.benchRounds);
        byte[] payload = Payloads.write(new PingThread.Ping(), ControllerChannel.LOADER_OID);
        for (int i = 0; i < Math.min(1000, rounds); i++) {
            ch.callAsync(ch.newId(), payload, "warmup").get(10, TimeUnit.SECONDS);
        }
        long[] t = new long[rounds];
        for (int i = 0; i < rounds; i++) {
            long s = System.nanoTime();
            ch.callAsync(ch.newId(), payload, "hudson.remoting.PingThread$Ping@1").get(10, TimeUnit.SECONDS);
            t[i] = System.nanoTime() - s;
        }
        Arrays.sort(t);
        System.out.printf("BENCH rtt_us median=%.1f p90=%.1f p99=%.1f rounds=%d%n", t[rounds / 2] / 1e3,
                t[rounds * 9 / 10] / 1e3, t[Math.min(rounds - 1, rounds * 99 / 100)] / 1e3, rounds);
        ch.closeOrderly(10_000);
        ch.close();
    }

    /**
     * Takes {@code --rounds} agent processes online one after the other; for each prints
     * "BENCH online <epoch microseconds>" once every connect-time callable was answered, then
     * waits for that agent to disconnect.
     */
    private void onlineBench() throws Exception {
        Report.verbose = false;
        for (int i = 0; i < Math.max(1, o.benchRounds); i++) {
            cookie = HexFormat.of().formatHex(new SecureRandom().generateSeed(32));
            connections = 0;
            ControllerChannel ch = accept();
            if (ch == null) {
                return;
            }
            ConnectSequence seq = new ConnectSequence(ch, o);
            seq.goOnline();
            java.time.Instant now = java.time.Instant.now();
            System.out.println("BENCH online " + (now.getEpochSecond() * 1_000_000L + now.getNano() / 1000));
            System.out.flush();
            ch.awaitEnd(30_000);
            ch.close();
        }
    }

    /** Idle with pings and frequent monitor rounds for {@code --idle-seconds}, for the RSS bench. */
    private void idleBench() throws Exception {
        ControllerChannel ch = accept();
        if (ch == null) {
            return;
        }
        ConnectSequence seq = new ConnectSequence(ch, o);
        seq.goOnline();
        Report.verbose = false;
        ResponseTimeMonitor.Data data = seq.monitors(null);
        System.out.println("BENCH online");
        System.out.flush();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(o.idleSeconds);
        int rounds = 0;
        while (System.nanoTime() < end) {
            data = seq.monitors(data);
            ch.call(new PingThread.Ping(), 10_000);
            rounds++;
            Thread.sleep(o.pingIntervalSeconds * 1000L);
        }
        System.out.println("BENCH idle rounds=" + rounds + " agent_pings=" + ch.agentPings.get());
        System.out.flush();
        Thread.sleep(1000);
        ch.closeOrderly(10_000);
        ch.close();
    }
}
