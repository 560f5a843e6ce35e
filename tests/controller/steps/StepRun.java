package kite.controller;

import hudson.Launcher$IOTriplet;
import hudson.Launcher$RemoteLaunchCallable;
import hudson.Launcher$RemoteProcess;
import hudson.model.StreamBuildListener;
import hudson.remoting.Request;
import hudson.remoting.RemoteInvocationHandler;
import hudson.remoting.RemoteOutputStream;
import hudson.remoting.Response;
import java.io.InputStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import jenkins.tasks.filters.EnvVarsFilterRuleWrapper;

/**
 * One launched step: the Launcher$RemoteLaunchCallable a controller sends for a
 * Launcher.ProcStarter, the streams it exported for the output, and the calls on the returned
 * Launcher$RemoteProcess proxy (getIOtriplet, join, kill, isAlive).
 */
final class StepRun {
    /** Export ids of the steps group's streams, apart from those of ShellStep and the pipeline group. */
    private static final AtomicInteger NEXT_OID = new AtomicInteger(2000);
    /** Bytes of output a capture keeps for byte-exact checks; beyond this only the CRC-32 is kept. */
    static final int KEEP_BYTES = 4 << 20;
    static final String IFACE = Launcher$RemoteProcess.class.getName();

    /** What to launch; the fields mirror Launcher.ProcStarter's. */
    static final class Spec {
        List<String> cmd = new ArrayList<>();
        boolean[] masks;
        List<String> env = new ArrayList<>();
        StdinSource stdin;
        boolean separateStderr;
        boolean quiet;
        String workDir;
        int keepBytes = KEEP_BYTES;

        Spec cmd(String... args) {
            cmd = new ArrayList<>(List.of(args));
            return this;
        }
    }

    final ControllerChannel ch;
    final Capture listener;
    final Capture out;
    final Capture err;
    final int processOid;
    /** System.nanoTime() when the launch request was sent, and when its response arrived. */
    final long launchSentNanos;
    final long launchedNanos;

    private StepRun(ControllerChannel ch, Capture listener, Capture out, Capture err, int processOid, long sent,
            long launched) {
        this.ch = ch;
        this.listener = listener;
        this.out = out;
        this.err = err;
        this.processOid = processOid;
        this.launchSentNanos = sent;
        this.launchedNanos = launched;
    }

    static int newOid() {
        return NEXT_OID.getAndIncrement();
    }

    /**
     * Exports the output streams, sends the launch and checks that the response is a user proxy of
     * Launcher$RemoteProcess. Returns null (after a failed check) when the launch failed.
     */
    static StepRun launch(ControllerChannel ch, Spec spec, long timeoutMillis) throws Exception {
        Capture listener = new Capture(newOid(), spec.keepBytes);
        Capture out = new Capture(newOid(), spec.keepBytes);
        Capture err = spec.separateStderr ? new Capture(newOid(), spec.keepBytes) : null;
        ch.exportedStreams.put(listener.oid, listener);
        ch.exportedStreams.put(out.oid, out);
        if (err != null) {
            ch.exportedStreams.put(err.oid, err);
        }
        InputStream in = spec.stdin;
        Launcher$RemoteLaunchCallable launch = new Launcher$RemoteLaunchCallable(
                new ArrayList<>(spec.cmd), spec.masks, spec.env.toArray(new String[0]), in,
                new RemoteOutputStream(out.oid), err == null ? null : new RemoteOutputStream(err.oid),
                new StreamBuildListener(new RemoteOutputStream(listener.oid), StandardCharsets.UTF_8), null,
                spec.workDir, spec.quiet, false, false, false, new EnvVarsFilterRuleWrapper(new ArrayList<>()));
        byte[] payload = StdinSource.payload(launch, ControllerChannel.LOADER_OID);
        long sent = System.nanoTime();
        Response r = ch.callAsync(ch.newId(), payload, Launcher$RemoteLaunchCallable.class.getName() + "@1")
                .get(timeoutMillis, TimeUnit.MILLISECONDS);
        long launched = System.nanoTime();
        ControllerChannel.Outcome o = ch.decode(r);
        if (o.failed()) {
            Report.fail("Launcher$RemoteLaunchCallable of " + spec.cmd + " threw " + (o.raw() != null ? o.raw() : o.proxy()));
            return null;
        }
        Object proc = o.value();
        if (!(proc instanceof Launcher$RemoteProcess) || !Proxy.isProxyClass(proc.getClass())) {
            Report.fail("Launcher$RemoteLaunchCallable returned " + ConnectSequence.className(proc)
                    + ", not a Launcher$RemoteProcess proxy");
            return null;
        }
        RemoteInvocationHandler h = (RemoteInvocationHandler) Proxy.getInvocationHandler(proc);
        if (!h.userProxy) {
            Report.fail("Launcher$RemoteProcess proxy oid " + h.oid + " is not a user proxy");
        }
        return new StepRun(ch, listener, out, err, h.oid, sent, launched);
    }

    /** Calls a no-argument method of the process proxy and returns the decoded outcome. */
    ControllerChannel.Outcome call(String method, long timeoutMillis) throws Exception {
        return ch.userRpc(processOid, IFACE, method, new String[0], new Object[0], timeoutMillis);
    }

    /** getIOtriplet, as Launcher.RemoteLauncher calls it right after the launch; checks that no pipe is reversed. */
    void checkTriplet(long timeoutMillis) throws Exception {
        ControllerChannel.Outcome t = call("getIOtriplet", timeoutMillis);
        if (t.value() instanceof Launcher$IOTriplet triplet) {
            if (triplet.stdout != null || triplet.stderr != null || triplet.stdin != null) {
                Report.fail("getIOtriplet returned reversed pipes for a launch that requested none");
            }
        } else {
            Report.fail("getIOtriplet returned " + (t.failed() ? t.raw() : ConnectSequence.className(t.value())));
        }
    }

    /** join(); the exit code, or null after a failed check. */
    Integer join(long timeoutMillis) throws Exception {
        ControllerChannel.Outcome joined = call("join", timeoutMillis);
        if (joined.value() instanceof Integer i) {
            return i;
        }
        Report.fail("join returned " + (joined.failed() ? joined.raw() : ConnectSequence.className(joined.value())));
        return null;
    }

    /** isAlive(); null after a failed check. */
    Boolean isAlive(long timeoutMillis) throws Exception {
        ControllerChannel.Outcome alive = call("isAlive", timeoutMillis);
        if (alive.value() instanceof Boolean b) {
            return b;
        }
        Report.fail("isAlive returned " + (alive.failed() ? alive.raw() : ConnectSequence.className(alive.value())));
        return null;
    }

    /** A join sent without waiting, so that the controller can cancel it as an aborted build does. */
    record PendingJoin(int requestId, CompletableFuture<Response> response) {}

    PendingJoin joinAsync() throws Exception {
        int id = ch.newId();
        RemoteInvocationHandler.UserRPCRequest inner =
                new RemoteInvocationHandler.UserRPCRequest(ch.newId(), processOid, IFACE, "join", new String[0], new Object[0]);
        CompletableFuture<Response> f = ch.callAsync(id, Payloads.write(inner, ControllerChannel.LOADER_OID),
                "UserRPCRequest:" + IFACE + ".join[](" + processOid + ")");
        return new PendingJoin(id, f);
    }

    /** Sends Request$Cancel for {@code join}, which is what interrupting the waiting executor thread does. */
    void cancel(PendingJoin join) throws Exception {
        ch.send(new Request.Cancel(join.requestId()));
    }

    /** Stops routing chunks of this step's streams to its captures. */
    void forget() {
        ch.exportedStreams.remove(listener.oid);
        ch.exportedStreams.remove(out.oid);
        if (err != null) {
            ch.exportedStreams.remove(err.oid);
        }
    }
}
