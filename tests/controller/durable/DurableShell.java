package kite.controller;

import hudson.FilePath;
import hudson.FilePath$DeleteRecursive;
import hudson.FilePath$IsDirectory;
import hudson.FilePath$Mkdirs;
import hudson.FilePath$Write;
import hudson.Launcher$IOTriplet;
import hudson.Launcher$RemoteLaunchCallable;
import hudson.Launcher$RemoteLauncher$KillTask;
import hudson.Launcher$RemoteProcess;
import hudson.remoting.Command;
import hudson.remoting.ProxyInputStream;
import hudson.remoting.ProxyOutputStream;
import hudson.remoting.RemoteInvocationHandler;
import hudson.remoting.RemoteOutputStream;
import hudson.remoting.Response;
import hudson.remoting.UnexportCommand;
import hudson.remoting.UserRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectStreamClass;
import java.io.OutputStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import jenkins.tasks.filters.EnvVarsFilterRuleWrapper;
import org.jenkinsci.plugins.durabletask.AgentInfo;
import org.jenkinsci.plugins.durabletask.FileMonitoringTask.FileMonitoringController;
import org.jenkinsci.plugins.workflow.log.BufferedBuildListener;
import org.jenkinsci.plugins.workflow.log.TaskListenerDecorator;

/**
 * The controller's side of a Pipeline {@code sh} step through durable-task's BourneShellScript,
 * as workflow-durable-task-step drives it in polling mode: the agent-info call, the control
 * directory and script, the wrapper launch through RemoteLaunchCallable, the polls
 * (IsDirectory, TranscodingCharsetForSystemDefault, WriteLog, StatusCheck), GetOutput, and the
 * cleanup. It keeps the controller's export table of the streams it hands out, so a scenario
 * can check that the agent releases each one.
 */
final class DurableShell {
    /** The durable-task version the controller sends in GetAgentInfo (recorded session's plugin). */
    static final String PLUGIN_VERSION = "687.v8dcdaa_8d_6d_3f";
    /** FileMonitoringTask's marker for "the agent's default charset" (the sh step's default). */
    static final String SYSTEM_DEFAULT = "SYSTEM_DEFAULT";
    /** DurableTaskStep.MIN_RECURRENCE_PERIOD and RECURRENCE_PERIOD_BACKOFF. */
    static final long MIN_RECURRENCE_MILLIS = 250;
    static final double RECURRENCE_BACKOFF = 1.2;
    /** The plugin backs off to 15 s; the tests cap it at 1 s so that they stay short. */
    static final long MAX_RECURRENCE_MILLIS = 1000;

    /** Export ids for the streams the controller hands out, above those of the other groups. */
    private static final AtomicInteger NEXT_OID = new AtomicInteger(6000);

    /** One launched step and everything the controller learned about it. */
    static final class Task {
        final String workspace;
        final String controlDir;
        /** JENKINS_SERVER_COOKIE value of the script: durable-SHA256(workspace). */
        final String cookieValue;
        /** JENKINS_NODE_COOKIE of the enclosing node block. */
        final String nodeCookie;
        final boolean returnStdout;
        /** The step's encoding as FileMonitoringTask.charset holds it: SYSTEM_DEFAULT or a charset name. */
        String charset = SYSTEM_DEFAULT;
        long lastLocation;
        final ByteArrayOutputStream log = new ByteArrayOutputStream();
        int processOid;
        List<Integer> pipeOids = List.of();
        int listenerOid;
        long launchNanos;
        /** When the launch call and the getIOtriplet call returned. */
        long launchedNanos;
        long tripletNanos;
        volatile long firstBytesNanos;
        int nonEmptyReads;

        Task(String workspace, String controlDir, String cookieValue, String nodeCookie, boolean returnStdout) {
            this.workspace = workspace;
            this.controlDir = controlDir;
            this.cookieValue = cookieValue;
            this.nodeCookie = nodeCookie;
            this.returnStdout = returnStdout;
        }

        String file(String name) {
            return controlDir + "/" + name;
        }
    }

    private final Options o;
    private final long timeoutMillis;
    private ControllerChannel ch;
    private ConnectSequence seq;
    private boolean agentInfoChecked;

    /** The controller's streams the agent has not released yet, by export id. */
    final Map<Integer, String> liveExports = new ConcurrentHashMap<>();
    final AtomicInteger writeLogCalls = new AtomicInteger();
    final AtomicInteger streamUnexports = new AtomicInteger();
    /** Largest number of live WriteLog sinks seen right after a WriteLog returned. */
    int maxLiveSinks;

    DurableShell(Options o, ControllerChannel ch, ConnectSequence seq) {
        this.o = o;
        this.timeoutMillis = o.callTimeoutSeconds * 1000L;
        attach(ch, seq);
    }

    /** Continues on a new connection; the exports of the old one went away with it. */
    void attach(ControllerChannel ch, ConnectSequence seq) {
        this.ch = ch;
        this.seq = seq;
        liveExports.clear();
        ch.otherCommands = this::onCommand;
    }

    ControllerChannel channel() {
        return ch;
    }

    private void onCommand(Command c) {
        if (c instanceof ProxyOutputStream.Unexport u) {
            ch.exportedStreams.remove(u.oid);
            String kind = liveExports.remove(u.oid);
            if (kind == null) {
                Report.fail("agent unexported stream " + u.oid + ", which the controller does not export");
            } else if (kind.equals("WriteLog sink")) {
                // The launch listener is released too, once the launch no longer needs it.
                streamUnexports.incrementAndGet();
            }
        } else if (!(c instanceof ProxyOutputStream.Ack)) {
            Report.info("agent sent " + c.getClass().getName());
        }
    }

    /** Exports {@code stream} for the agent to write into, as RemoteOutputStream does. */
    int export(OutputStream stream, String kind) {
        int oid = NEXT_OID.getAndIncrement();
        liveExports.put(oid, kind);
        ch.exportedStreams.put(oid, stream);
        return oid;
    }

    /** Calls and returns the decoded value, reporting a failure when the agent threw. */
    Object value(java.io.Serializable callable) throws Exception {
        return seq.value(callable);
    }

    int liveWriteLogSinks() {
        return (int) liveExports.values().stream().filter("WriteLog sink"::equals).count();
    }

    static FilePath.FileCallableWrapper on(FilePath.FileCallable callable, String path) {
        return new FilePath.FileCallableWrapper(callable, new FilePath(path));
    }

    static String cookieFor(String workspace) throws Exception {
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(workspace.getBytes(StandardCharsets.UTF_8));
        return "durable-" + HexFormat.of().formatHex(digest);
    }

    /** Returns the plugin's architecture name for this JVM's os.arch (AgentInfo.GetAgentInfo). */
    static String expectedArchitecture() {
        return switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> "64";
            case "x86", "i386", "i686" -> "32";
            case "aarch64", "arm64" -> "aarch64";
            case "ppc64le" -> "ppc64le";
            default -> "NOTSUPPORTED";
        };
    }

    /**
     * Builds the wrapper command BourneShellScript sends for a script without {@code #!}, with the
     * default shell {@code sh}, and {@code $} doubled because the launcher expands variables.
     */
    static List<String> wrapperCommand(String controlDir, String cookieValue, boolean returnStdout) {
        String script = controlDir + "/script.sh";
        String copy = script + ".copy";
        String log = controlDir + "/jenkins-log.txt";
        String result = controlDir + "/jenkins-result.txt";
        String redirect = returnStdout ? "> '" + controlDir + "/output.txt' 2> '" + log + "'" : "> '" + log + "' 2>&1";
        String body = "cp '" + script + "' '" + copy + "'; "
                + "{ while [ -d '" + controlDir + "' -a \\! -f '" + result + "' ]; do touch '" + log + "'; sleep 3; done } & "
                + "jsc=" + cookieValue + "; JENKINS_SERVER_COOKIE=$jsc 'sh' -xe  '" + copy + "' " + redirect + "; "
                + "echo $? > '" + result + ".tmp'; mv '" + result + ".tmp' '" + result + "'; wait";
        body = body.replace("$", "$$");
        return new ArrayList<>(List.of("nohup", "sh", "-c", "(" + body + ") >&- 2>&- &"));
    }

    /**
     * Launches {@code script} in {@code workspace} as BourneShellScript.launchWithCookie does and
     * checks each result. {@code stepEnv} is the step's environment before the plugin's changes.
     */
    Task launch(String workspace, String script, boolean returnStdout, Map<String, String> stepEnv) throws Exception {
        Object info = seq.value(on(new AgentInfo.GetAgentInfo(PLUGIN_VERSION), o.workDir));
        checkAgentInfo(info);

        String controlDir = workspace + "@tmp/durable-" + UUID.randomUUID().toString().substring(0, 8);
        Task t = new Task(workspace, controlDir, cookieFor(workspace), stepEnv.get("JENKINS_NODE_COOKIE"), returnStdout);
        Report.equal(Boolean.TRUE, seq.value(on(new FilePath$Mkdirs(), workspace)), "FilePath$Mkdirs on the workspace");
        Report.equal(Boolean.TRUE, seq.value(on(new FilePath$Mkdirs(), controlDir)), "FilePath$Mkdirs on the control directory");
        Report.equal(null, seq.value(on(new FilePath$Write("UTF-8", script), t.file("script.sh"))), "FilePath$Write of script.sh");

        // FileMonitoringTask.escape doubles every value's $. The wrapper runs with a placeholder
        // JENKINS_SERVER_COOKIE, so the stop's KillTask spares it; the script gets the real value.
        Map<String, String> env = new TreeMap<>(stepEnv);
        env.put("JENKINS_SERVER_COOKIE", "please-do-not-kill-me");
        List<String> envLines = new ArrayList<>();
        env.forEach((k, v) -> envLines.add(k + "=" + v.replace("$", "$$")));
        t.listenerOid = export(new ByteArrayOutputStream(), "launch listener");
        BufferedBuildListener.Replacement log = new BufferedBuildListener.Replacement(new RemoteOutputStream(t.listenerOid));
        Launcher$RemoteLaunchCallable launch = new Launcher$RemoteLaunchCallable(
                wrapperCommand(controlDir, t.cookieValue, returnStdout), null, envLines.toArray(new String[0]), null,
                null, null, new TaskListenerDecorator.CloseableTaskListener(log, log), null, workspace, true, false,
                true, true, new EnvVarsFilterRuleWrapper(new ArrayList<>()));
        t.launchNanos = System.nanoTime();
        ControllerChannel.Outcome launched = ch.call(launch, timeoutMillis);
        Object proc = launched.value();
        if (launched.failed() || !(proc instanceof Launcher$RemoteProcess) || !Proxy.isProxyClass(proc.getClass())) {
            Report.fail("wrapper launch returned " + (launched.failed() ? launched.raw() : ConnectSequence.className(proc)));
            return t;
        }
        t.launchedNanos = System.nanoTime();
        t.processOid = ((RemoteInvocationHandler) Proxy.getInvocationHandler(proc)).oid;
        t.pipeOids = ioTriplet(t.processOid);
        t.tripletNanos = System.nanoTime();
        return t;
    }

    private void checkAgentInfo(Object info) {
        if (!(info instanceof AgentInfo a)) {
            Report.fail("AgentInfo$GetAgentInfo returned " + ConnectSequence.className(info));
            return;
        }
        if (agentInfoChecked) {
            if (a.os != AgentInfo.OsType.LINUX || a.binaryCompatible) {
                Report.fail("AgentInfo changed: os=" + a.os + " binaryCompatible=" + a.binaryCompatible);
            }
            return;
        }
        agentInfoChecked = true;
        Report.equal(AgentInfo.OsType.LINUX, a.os, "AgentInfo.os");
        Report.equal(expectedArchitecture(), a.architecture, "AgentInfo.architecture");
        Report.equal(false, a.binaryCompatible, "AgentInfo.binaryCompatible (no Go wrapper binary for Kite)");
        Report.equal(false, a.binaryCached, "AgentInfo.binaryCached");
        Report.equal(false, a.cachingAvailable, "AgentInfo.cachingAvailable");
        Report.equal("durable_task_monitor_" + PLUGIN_VERSION + "_linux_" + expectedArchitecture(), a.binaryPath,
                "AgentInfo.binaryPath");
    }

    /**
     * Calls getIOtriplet on the launched process and returns the export ids of its stdout and
     * stderr RemoteInputStreams, which the controller closes at cleanup.
     */
    private List<Integer> ioTriplet(int processOid) throws Exception {
        String iface = Launcher$RemoteProcess.class.getName();
        RemoteInvocationHandler.UserRPCRequest inner = new RemoteInvocationHandler.UserRPCRequest(ch.newId(), processOid,
                iface, "getIOtriplet", new String[0], new Object[0]);
        Response r = ch.callAsync(ch.newId(), Payloads.write(inner, ControllerChannel.LOADER_OID),
                "UserRPCRequest:" + iface + ".getIOtriplet[](" + processOid + ")").get(timeoutMillis, TimeUnit.MILLISECONDS);
        if (!(r.returnValue instanceof UserRequest.NormalResponse n)) {
            Report.fail("getIOtriplet failed: " + ch.decode(r).raw());
            return List.of();
        }
        Object value;
        try (ObjectInputStream in = new TripletInput(new ByteArrayInputStream(n.response))) {
            value = in.readObject();
        }
        if (!(value instanceof Launcher$IOTriplet io)) {
            Report.fail("getIOtriplet returned " + ConnectSequence.className(value));
            return List.of();
        }
        if (!(io.stdout instanceof RemoteInputStream out) || !(io.stderr instanceof RemoteInputStream err)
                || io.stdin != null || out.greedy() || err.greedy()) {
            Report.fail("getIOtriplet of the wrapper: expected non-greedy stdout and stderr streams only, got stdout="
                    + io.stdout + " stderr=" + io.stderr + " stdin=" + io.stdin);
            return List.of();
        }
        return List.of(out.oid, err.oid);
    }

    /**
     * Reads a payload with remoting's class-loader annotations (ignored here), resolving
     * RemoteInputStream to the reading stand-in of this group.
     */
    private static final class TripletInput extends ObjectInputStream {
        TripletInput(InputStream in) throws IOException {
            super(in);
        }

        @Override
        protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
            int tag = readInt();
            if (tag == Payloads.TAG_EXPORTED || tag == Payloads.TAG_LOCAL) {
                readInt();
            }
            if (desc.getName().equals("hudson.remoting.RemoteInputStream")) {
                return RemoteInputStream.class;
            }
            return Class.forName(desc.getName(), false, DurableShell.class.getClassLoader());
        }
    }

    /** A WriteLog sink: counts what arrived and appends it to the task's log. */
    private static final class LogSink extends OutputStream {
        private final Task task;
        long count;

        LogSink(Task task) {
            this.task = task;
        }

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            if (len > 0 && task.firstBytesNanos == 0) {
                task.firstBytesNanos = System.nanoTime();
            }
            task.log.write(b, off, len);
            count += len;
        }
    }

    /**
     * Reads new log bytes as FileMonitoringController.writeLog does: requests the agent's
     * transcoding charset, then sends WriteLog(lastLocation) with a fresh RemoteOutputStream and
     * advances lastLocation by what arrived. Returns whether bytes arrived.
     */
    boolean writeLog(Task t) throws Exception {
        // The plugin asks only for SYSTEM_DEFAULT. A charset it knows is applied on the controller,
        // and the steps here that name one write ASCII to the log.
        if (SYSTEM_DEFAULT.equals(t.charset)) {
            Object charset = seq.value(new FileMonitoringController.TranscodingCharsetForSystemDefault());
            if (charset != null) {
                Report.fail("TranscodingCharsetForSystemDefault returned " + charset + " for an agent in a UTF-8 locale");
            }
        }
        LogSink sink = new LogSink(t);
        int oid = export(sink, "WriteLog sink");
        writeLogCalls.incrementAndGet();
        FileMonitoringController.WriteLog call = new FileMonitoringController.WriteLog(t.lastLocation, new RemoteOutputStream(oid));
        ControllerChannel.Outcome r = ch.call(on(call, t.file("jenkins-log.txt")), timeoutMillis);
        if (r.failed()) {
            Report.fail("WriteLog from " + t.lastLocation + " threw " + (r.raw() != null ? r.raw() : r.proxy()));
        } else if (r.value() != null) {
            Report.fail("WriteLog returned " + r.value() + " instead of null");
        }
        maxLiveSinks = Math.max(maxLiveSinks, liveWriteLogSinks());
        t.lastLocation += sink.count;
        if (sink.count > 0) {
            t.nonEmptyReads++;
        }
        return sink.count > 0;
    }

    /** Sends one WriteLog from {@code offset}, leaving the task's own position alone, and returns what arrived. */
    byte[] readLogFrom(Task t, long offset) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int oid = export(bytes, "WriteLog sink");
        writeLogCalls.incrementAndGet();
        FileMonitoringController.WriteLog call = new FileMonitoringController.WriteLog(offset, new RemoteOutputStream(oid));
        ControllerChannel.Outcome r = ch.call(on(call, t.file("jenkins-log.txt")), timeoutMillis);
        if (r.failed()) {
            Report.fail("WriteLog from " + offset + " threw " + (r.raw() != null ? r.raw() : r.proxy()));
        }
        maxLiveSinks = Math.max(maxLiveSinks, liveWriteLogSinks());
        return bytes.toByteArray();
    }

    /** Sends FileMonitoringController$StatusCheck on jenkins-result.txt and returns the exit code or null. */
    Integer status(Task t) throws Exception {
        Object status = seq.value(on(new FileMonitoringController.StatusCheck(), t.file("jenkins-result.txt")));
        if (status != null && !(status instanceof Integer)) {
            Report.fail("StatusCheck returned " + ConnectSequence.className(status));
            return null;
        }
        return (Integer) status;
    }

    /** Runs one round of DurableTaskStep.Execution.check in polling mode and returns the exit code once known. */
    Integer check(Task t) throws Exception {
        Object directory = seq.value(on(new FilePath$IsDirectory(), t.workspace));
        if (!Boolean.TRUE.equals(directory)) {
            Report.fail("FilePath$IsDirectory on the workspace returned " + directory);
        }
        writeLog(t);
        Integer exit = status(t);
        if (exit != null) {
            writeLog(t);
        }
        return exit;
    }

    /** Polls with the plugin's back-off until the exit code appears or {@code limitMillis} pass. */
    Integer pollToExit(Task t, long limitMillis) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(limitMillis);
        long period = MIN_RECURRENCE_MILLIS;
        while (true) {
            long before = t.lastLocation;
            Integer exit = check(t);
            if (exit != null) {
                return exit;
            }
            if (System.nanoTime() > deadline) {
                Report.fail("no exit status in " + t.controlDir + " after " + limitMillis + " ms");
                return null;
            }
            period = t.lastLocation > before ? MIN_RECURRENCE_MILLIS
                    : Math.min((long) (period * RECURRENCE_BACKOFF), MAX_RECURRENCE_MILLIS);
            Thread.sleep(period);
        }
    }

    /** Polls until the log contains {@code text} (ISO-8859-1 bytes), or fails after {@code limitMillis}. */
    boolean pollUntilLogContains(Task t, String text, long limitMillis) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(limitMillis);
        while (System.nanoTime() < deadline) {
            check(t);
            if (new String(t.log.toByteArray(), StandardCharsets.ISO_8859_1).contains(text)) {
                return true;
            }
            Thread.sleep(MIN_RECURRENCE_MILLIS);
        }
        Report.fail("the log of " + t.controlDir + " did not show '" + text + "' within " + limitMillis + " ms");
        return false;
    }

    /**
     * handleExit and cleanup: GetOutput when capturing stdout, then DeleteRecursive of the control
     * directory, the close of the launch's stdout and stderr streams (so that the agent's export
     * table does not keep them), and the
     * release of the process proxy. Returns the captured output or null.
     */
    byte[] cleanup(Task t) throws Exception {
        byte[] output = null;
        if (t.returnStdout) {
            Object got = seq.value(on(new FileMonitoringController.GetOutput(t.charset), t.file("output.txt")));
            if (got instanceof byte[] b) {
                output = b;
            } else {
                Report.fail("GetOutput returned " + ConnectSequence.className(got));
            }
        }
        Report.equal(null, seq.value(on(new FilePath$DeleteRecursive(), t.controlDir)), "FilePath$DeleteRecursive of the control directory");
        Report.check(!Files.exists(Path.of(t.controlDir)), "control directory " + t.controlDir + " is gone");
        for (int oid : t.pipeOids) {
            ch.send(new ProxyInputStream.EOF(oid));
        }
        if (t.processOid != 0) {
            ch.send(new UnexportCommand(t.processOid));
        }
        return output;
    }

    /** Stops the step as FileMonitoringController.stop does: KillTask for the script's JENKINS_SERVER_COOKIE. */
    void stop(Task t) throws Exception {
        Report.equal(null, seq.value(new Launcher$RemoteLauncher$KillTask(Collections.singletonMap("JENKINS_SERVER_COOKIE", t.cookieValue))),
                "KillTask{JENKINS_SERVER_COOKIE=" + t.cookieValue + "}");
    }

    /** Sends the KillTask at the end of a node block, for its JENKINS_NODE_COOKIE. */
    void endNode(String nodeCookie) throws Exception {
        Report.equal(null, seq.value(new Launcher$RemoteLauncher$KillTask(Collections.singletonMap("JENKINS_NODE_COOKIE", nodeCookie))),
                "KillTask{JENKINS_NODE_COOKIE} at the end of the node block");
    }
}
