package kite.controller;

import hudson.FilePath;
import hudson.FilePath$Exists;
import hudson.Launcher$RemoteLaunchCallable;
import hudson.Launcher$RemoteProcess;
import hudson.model.StreamBuildListener;
import hudson.remoting.ProxyOutputStream;
import hudson.remoting.RemoteInvocationHandler;
import hudson.remoting.RemoteOutputStream;
import hudson.remoting.UnexportCommand;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import jenkins.tasks.filters.EnvVarsFilterRuleWrapper;

/**
 * Scenario {@code break-vanish-step}: the controller disappears while a step streams 200 MB of
 * output. The agent must reconnect, serve the next controller, keep its memory bounded while it
 * discards the step's output, and end the step when the next controller sends KillTask. Then the
 * controller calls a step's Launcher$RemoteProcess after releasing it.
 */
final class BreakVanish {
    /** Output the step writes: far more than the agent's stream window. */
    private static final long STEP_BYTES = 200_000_000L;
    /** Output the controller reads before it vanishes. */
    private static final long BYTES_BEFORE_VANISH = 4L << 20;
    private static final int OUT_OID = 700;
    private static final int LISTENER_OID = 701;

    private final Main m;

    BreakVanish(Main m) {
        this.m = m;
    }

    void run() throws Exception {
        ControllerChannel ch = m.accept();
        if (ch == null) {
            return;
        }
        new ConnectSequence(ch, m.o).goOnline();
        String root = m.o.workDir != null ? m.o.workDir : Files.createTempDirectory("kite-break").toString();
        Path ws = Files.createDirectories(Path.of(root, "break-vanish"));
        String cookie = "break-vanish-" + ProcessHandle.current().pid();
        Map<String, String> buildEnv = Main.buildEnvironment(ws.toString(), "break-vanish", cookie);
        List<String> env = new ArrayList<>();
        buildEnv.forEach((k, v) -> env.add(k + "=" + v));

        Launcher$RemoteLaunchCallable launch = new Launcher$RemoteLaunchCallable(
                new ArrayList<>(List.of("/bin/sh", "-c", "yes kite-break-output | head -c " + STEP_BYTES + "; sleep 60")),
                null, env.toArray(new String[0]), null, new RemoteOutputStream(OUT_OID), null,
                new StreamBuildListener(new RemoteOutputStream(LISTENER_OID), StandardCharsets.UTF_8), null,
                ws.toString(), false, false, false, false, new EnvVarsFilterRuleWrapper(new ArrayList<>()));
        KiteProcess kite = KiteProcess.find(m.o.envMarker);
        KiteProcess.Sampler sampler = kite == null ? null : kite.sample(20);
        ControllerChannel.Outcome launched = ch.call(launch, m.o.callTimeoutSeconds * 1000L);
        if (launched.failed() || !(launched.value() instanceof Launcher$RemoteProcess)) {
            Report.fail("Launcher$RemoteLaunchCallable did not return a Launcher$RemoteProcess: " + launched);
            ch.close();
            return;
        }

        long received = awaitOutput(ch, BYTES_BEFORE_VANISH, 30_000);
        Report.check(received >= BYTES_BEFORE_VANISH, "the step streamed " + received + " bytes before the controller vanished");
        String entry = "JENKINS_SERVER_COOKIE=" + cookie;
        Report.check(!stepProcesses(entry).isEmpty(), "the step is running when the controller vanishes");
        ch.close();
        Report.info("controller vanished in the middle of a 200 MB step");

        ch = m.accept();
        if (ch == null) {
            return;
        }
        ConnectSequence seq = new ConnectSequence(ch, m.o);
        seq.goOnline();
        ControllerChannel.Outcome exists = ch.call(new FilePath.FileCallableWrapper(new FilePath$Exists(),
                new FilePath(ws.toString())), m.o.callTimeoutSeconds * 1000L);
        Report.check(!exists.failed() && Boolean.TRUE.equals(exists.value()), "the agent serves the next controller");

        // Kite keeps a step running when its channel closes and discards its stdout, and the next
        // controller ends the build's processes with KillTask. NOTE: whether agent.jar also keeps the
        // process is not checked here.
        Report.check(!stepProcesses(entry).isEmpty(), "the step outlives the vanished controller");
        new ShellStep(ch, seq, m.o.callTimeoutSeconds * 1000L).killTask(buildEnv);
        List<Long> left = stepProcesses(entry);
        for (long waited = 0; waited < 10_000 && !left.isEmpty(); waited += 100) {
            Thread.sleep(100);
            left = stepProcesses(entry);
        }
        Report.equal(List.of(), left, "no process of the step is left after the next controller's KillTask");
        if (sampler != null) {
            sampler.close();
            Report.check(sampler.maxRssKiB() < 64 * 1024, "kite's VmRSS stays under 64 MiB: max " + sampler.maxRssKiB()
                    + " KiB in " + sampler.samples() + " samples");
        }
        releasedExport(ch, ws, env);
        Report.check(ch.closeOrderly(10_000), "orderly close after the vanished step");
        ch.close();
    }

    /** Calls join on a step's Launcher$RemoteProcess after the controller released that export. */
    private void releasedExport(ControllerChannel ch, Path ws, List<String> env) throws Exception {
        long timeout = m.o.callTimeoutSeconds * 1000L;
        Launcher$RemoteLaunchCallable launch = new Launcher$RemoteLaunchCallable(
                new ArrayList<>(List.of("/bin/sh", "-c", "exit 7")), null, env.toArray(new String[0]), null,
                new RemoteOutputStream(OUT_OID + 10), null,
                new StreamBuildListener(new RemoteOutputStream(LISTENER_OID + 10), StandardCharsets.UTF_8), null,
                ws.toString(), false, false, false, false, new EnvVarsFilterRuleWrapper(new ArrayList<>()));
        ControllerChannel.Outcome launched = ch.call(launch, timeout);
        if (launched.failed() || !(launched.value() instanceof Launcher$RemoteProcess)) {
            Report.fail("Launcher$RemoteLaunchCallable did not return a Launcher$RemoteProcess: " + launched);
            return;
        }
        int oid = ((RemoteInvocationHandler) Proxy.getInvocationHandler(launched.value())).oid;
        String iface = Launcher$RemoteProcess.class.getName();
        ControllerChannel.Outcome joined = ch.userRpc(oid, iface, "join", new String[0], new Object[0], timeout);
        Report.equal(7, joined.value(), "join before the release returns the exit code");

        ch.send(new UnexportCommand(oid));
        ControllerChannel.Outcome late = ch.userRpc(oid, iface, "join", new String[0], new Object[0], timeout);
        Throwable thrown = late.raw() != null ? late.raw() : late.proxy();
        Report.check(late.failed(), "join on released export " + oid + " throws: " + FilePathCalls.describe(thrown));
        ControllerChannel.Outcome exists = ch.call(new FilePath.FileCallableWrapper(new FilePath$Exists(),
                new FilePath(ws.toString())), timeout);
        Report.check(!exists.failed() && Boolean.TRUE.equals(exists.value()), "the agent serves after an RPC to a released export");
    }

    /** Waits until the step's stdout chunks add up to {@code bytes}; returns the bytes received. */
    private static long awaitOutput(ControllerChannel ch, long bytes, long millis) throws InterruptedException {
        long received = 0;
        for (long waited = 0; waited < millis; waited += 50) {
            received = 0;
            for (ProxyOutputStream.Chunk c : ch.chunks) {
                if (c.oid == OUT_OID) {
                    received += c.buf.length;
                }
            }
            if (received >= bytes) {
                break;
            }
            Thread.sleep(50);
        }
        return received;
    }

    /** Lists the step's processes: those with {@code entry} in their environment, except kite itself. */
    private static List<Long> stepProcesses(String entry) {
        List<Long> pids = new ArrayList<>();
        for (long pid : ShellStep.processesWith(entry)) {
            try {
                String comm = Files.readString(Path.of("/proc", Long.toString(pid), "comm"), StandardCharsets.UTF_8).strip();
                if (!comm.equals("kite")) {
                    pids.add(pid);
                }
            } catch (java.io.IOException gone) {
                // The process exited between the scan and the read.
            }
        }
        return pids;
    }
}
