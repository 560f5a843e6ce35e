package kite.controller;

import hudson.FilePath$Exists;
import hudson.FilePath$LastModified;
import hudson.FilePath$Write;
import hudson.remoting.IReadResolve;
import hudson.remoting.RemoteInvocationHandler;
import hudson.remoting.RemoteOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jenkinsci.plugins.durabletask.BourneShellScript;
import org.jenkinsci.plugins.durabletask.FileMonitoringTask;
import org.jenkinsci.plugins.workflow.log.BufferedBuildListener;
import org.jenkinsci.plugins.workflow.log.TaskListenerDecorator;
import org.jenkinsci.plugins.workflow.steps.durable_task.DurableTaskStep;

/**
 * Pipeline {@code sh} steps through durable-task, end to end against a real Kite: polling mode
 * (output, exit codes, non-UTF-8 and CJK bytes, returnStdout, a vanished process, the release of
 * every WriteLog stream), 20 MiB read incrementally, a stop that must kill a daemon ignoring
 * SIGTERM, watch mode, a dropped connection in the middle of a step, and the bench figures.
 */
public final class DurableScenarios {
    private static final String JOB = "durable-job";

    public boolean run(Main m, String scenario) throws Exception {
        switch (scenario) {
            case "durable-poll" -> poll(m);
            case "durable-big" -> big(m);
            case "durable-stop" -> stop(m);
            case "durable-watch" -> watch(m);
            case "durable-drop" -> drop(m);
            case "durable-bench" -> DurableBench.run(m);
            default -> {
                return false;
            }
        }
        return true;
    }

    /** Accepts the agent, takes it online and returns a DurableShell on its channel; null (a failure is reported) when none connects. */
    static DurableShell connect(Main m) throws Exception {
        ControllerChannel ch = m.accept();
        if (ch == null) {
            return null;
        }
        ConnectSequence seq = new ConnectSequence(ch, m.o);
        seq.goOnline();
        return new DurableShell(m.o, ch, seq);
    }

    static String workspace(Main m, String name) {
        return Path.of(m.o.workDir, "workspace", name).toString();
    }

    /** Returns the environment of a step inside {@code node {}}: the build's variables and the node cookie. */
    static Map<String, String> stepEnvironment(String ws, String nodeCookie) {
        Map<String, String> env = Main.buildEnvironment(ws, JOB, "hudson-cookie-" + ProcessHandle.current().pid());
        env.put("JENKINS_NODE_COOKIE", nodeCookie);
        env.put("DOLLAR_VALUE", "a$b ${NOT_EXPANDED}");
        return env;
    }

    static void checkBytes(byte[] want, byte[] got, String description) {
        int diff = Arrays.mismatch(want, got);
        Report.check(diff < 0, description + " (" + got.length + " bytes, want " + want.length + ")"
                + (diff < 0 ? "" : ", first difference at byte " + diff));
    }

    /** Waits up to {@code millis} for no process to carry {@code entry} (KEY=VALUE) in its environment. */
    static List<Long> awaitNoProcessWith(String entry, long millis) throws InterruptedException {
        List<Long> left = ShellStep.processesWith(entry);
        for (long waited = 0; waited < millis && !left.isEmpty(); waited += 100) {
            Thread.sleep(100);
            left = ShellStep.processesWith(entry);
        }
        return left;
    }

    /** Waits up to {@code millis} for the agent to release every WriteLog stream. */
    static void checkSinksReleased(DurableShell shell, long millis) throws InterruptedException {
        for (long waited = 0; waited < millis && shell.liveWriteLogSinks() > 0; waited += 50) {
            Thread.sleep(50);
        }
        Report.equal(0, shell.liveWriteLogSinks(), "WriteLog streams still exported by the controller after "
                + shell.writeLogCalls.get() + " WriteLog calls");
        Report.check(shell.maxLiveSinks <= 1, "at most one WriteLog stream was exported at a time (" + shell.maxLiveSinks + ")");
    }

    static void finish(DurableShell shell) throws IOException {
        ControllerChannel ch = shell.channel();
        long listeners = shell.liveExports.values().stream().filter("launch listener"::equals).count();
        Report.equal(0L, listeners, "launch listener streams the agent has not released");
        Report.check(ch.commandErrors.isEmpty(), "every agent command deserialized");
        Report.check(ch.chunks.isEmpty(), "no output chunk arrived for a stream the agent had released: " + ch.chunks.size());
        Report.check(ch.closeOrderly(10_000), "orderly close after the durable steps");
        ch.close();
    }

    private void poll(Main m) throws Exception {
        DurableShell shell = connect(m);
        if (shell == null) {
            return;
        }
        String ws = workspace(m, JOB);
        String nodeCookie = UUID.randomUUID().toString();
        Map<String, String> env = stepEnvironment(ws, nodeCookie);

        // A step with output, $ kept literal in the environment, and no final newline.
        String script = "set +x\necho hello from durable\necho \"$DOLLAR_VALUE in $PWD\"\nsleep 1\nprintf 'last line without newline'\n";
        byte[] want = Main.concat(Main.bytes("+ set +x\nhello from durable\na$b ${NOT_EXPANDED} in "),
                (ws + "\nlast line without newline").getBytes(StandardCharsets.UTF_8));
        DurableShell.Task t = shell.launch(ws, script, false, env);
        Report.equal(0, shell.pollToExit(t, 30_000), "exit code of the step with output");
        checkBytes(want, t.log.toByteArray(), "log bytes of the step with output");
        Report.check(t.processOid != 0, "the launch returned a process proxy (oid " + t.processOid + ")");
        Report.equal(2, t.pipeOids.size(), "getIOtriplet returned the wrapper's stdout and stderr streams");
        rereads(shell, t, want);
        checkSinksReleased(shell, 2000);
        Report.equal(null, shell.cleanup(t), "no captured output without returnStdout");

        DurableShell.Task failing = shell.launch(ws, "set +x\necho failing on purpose\nexit 3\n", false, env);
        Report.equal(3, shell.pollToExit(failing, 30_000), "exit code of the failing step");
        checkBytes(Main.bytes("+ set +x\nfailing on purpose\n"), failing.log.toByteArray(), "log bytes of the failing step");
        shell.cleanup(failing);

        String encodings = "set +x\nprintf 'latin-1 \\351\\350\\n'\nprintf 'invalid utf-8 \\300\\377\\376\\n'\n"
                + "echo '中文 日本語 한국어 ✓'\nprintf 'split \\344\\270'\nsleep 0.5\nprintf '\\255 end\\n'\n";
        byte[] encoded = Main.concat(Main.concat(Main.bytes("+ set +x\nlatin-1 \351\350\ninvalid utf-8 \300\377\376\n"),
                "中文 日本語 한국어 ✓\n".getBytes(StandardCharsets.UTF_8)),
                Main.bytes("split \344\270\255 end\n"));
        DurableShell.Task bytes = shell.launch(ws, encodings, false, env);
        Report.equal(0, shell.pollToExit(bytes, 30_000), "exit code of the non-UTF-8 and CJK step");
        checkBytes(encoded, bytes.log.toByteArray(), "non-UTF-8 and CJK log bytes, unchanged");
        shell.cleanup(bytes);

        DurableShell.Task captured = shell.launch(ws, "set +x\nprintf '输出 output\\n'\necho to the log >&2\n", true, env);
        Report.equal(0, shell.pollToExit(captured, 30_000), "exit code of the returnStdout step");
        checkBytes(Main.bytes("+ set +x\nto the log\n"), captured.log.toByteArray(), "log of the returnStdout step (stderr only)");
        byte[] output = shell.cleanup(captured);
        checkBytes("输出 output\n".getBytes(StandardCharsets.UTF_8), output == null ? new byte[0] : output,
                "GetOutput bytes of the returnStdout step");

        // sh(returnStdout: true, encoding: 'ISO-8859-1'): the agent transcodes output.txt to UTF-8.
        DurableShell.Task latin = shell.launch(ws, "set +x\nprintf '\\351t\\351 \\344\\n'\n", true, env);
        latin.charset = "ISO-8859-1";
        Report.equal(0, shell.pollToExit(latin, 30_000), "exit code of the ISO-8859-1 returnStdout step");
        byte[] latinOutput = shell.cleanup(latin);
        checkBytes("été ä\n".getBytes(StandardCharsets.UTF_8), latinOutput == null ? new byte[0] : latinOutput,
                "GetOutput bytes transcoded from ISO-8859-1 to UTF-8");

        vanished(shell, ws);

        shell.endNode(nodeCookie);
        Report.equal(List.of(), awaitNoProcessWith("JENKINS_NODE_COOKIE=" + nodeCookie, 5000),
                "no process of the node block is left");
        checkSinksReleased(shell, 2000);
        Report.equal(shell.writeLogCalls.get(), shell.streamUnexports.get(), "one ProxyOutputStream$Unexport per WriteLog");
        finish(shell);
    }

    /** Reads the finished log 100 more times from varying offsets: each read returns exactly the rest. */
    private void rereads(DurableShell shell, DurableShell.Task t, byte[] want) throws Exception {
        int wrong = 0;
        int before = shell.liveWriteLogSinks();
        for (int i = 0; i < 100; i++) {
            int offset = (i * 7) % (want.length + 3);
            byte[] got = shell.readLogFrom(t, offset);
            byte[] rest = offset >= want.length ? new byte[0] : Arrays.copyOfRange(want, offset, want.length);
            if (!Arrays.equals(rest, got)) {
                wrong++;
                Report.info("WriteLog from " + offset + " returned " + got.length + " bytes, want " + rest.length);
            }
        }
        Report.equal(0, wrong, "WriteLog from 100 offsets returned exactly the bytes after each (wrong answers)");
        Report.check(shell.liveWriteLogSinks() <= before + 1,
                "the controller's export table did not grow over 100 WriteLog calls (" + before + " -> "
                        + shell.liveWriteLogSinks() + " WriteLog streams)");
    }

    /**
     * Runs the heartbeat check of BourneShellScript.ShellController.exitStatus. While the wrapper
     * runs, it touches jenkins-log.txt every 3 s. Once the whole step was killed from outside, the
     * modification time no longer changes, no pid file exists, and the controller records -1.
     */
    private void vanished(DurableShell shell, String ws) throws Exception {
        String cookie = UUID.randomUUID().toString();
        DurableShell.Task t = shell.launch(ws, "set +x\necho started\nsleep 600\n", false, stepEnvironment(ws, cookie));
        if (!shell.pollUntilLogContains(t, "started", 20_000)) {
            return;
        }
        String log = t.file("jenkins-log.txt");
        long first = lastModified(shell, log);
        Thread.sleep(4000);
        long second = lastModified(shell, log);
        Report.check(second >= first + 2000, "the wrapper's heartbeat touched jenkins-log.txt while running ("
                + first + " -> " + second + ")");

        String entry = "JENKINS_NODE_COOKIE=" + cookie;
        List<Long> pids = ShellStep.processesWith(entry);
        Report.check(pids.size() >= 3, "wrapper, heartbeat loop and script run before the outside kill: " + pids);
        for (long pid : pids) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
        Report.equal(List.of(), awaitNoProcessWith(entry, 5000), "the step vanished after SIGKILL from outside");

        long third = lastModified(shell, log);
        Thread.sleep(4000);
        long fourth = lastModified(shell, log);
        Report.check(fourth < third + 2000, "jenkins-log.txt is no longer touched (" + third + " -> " + fourth + ")");
        Report.equal(null, shell.status(t), "no exit status after the step vanished");
        Report.equal(Boolean.FALSE, shell.value(DurableShell.on(new FilePath$Exists(), t.file("pid"))),
                "no pid file (only the binary wrapper writes one)");
        Report.equal(null, shell.value(DurableShell.on(new FilePath$Write(null, "-1"),
                t.file("jenkins-result.txt"))), "FilePath$Write of -1 into jenkins-result.txt");
        Report.equal(-1, shell.status(t), "StatusCheck after the controller recorded the vanished process");
        shell.writeLog(t);
        checkBytes(Main.bytes("+ set +x\nstarted\n"), t.log.toByteArray(), "log bytes of the vanished step");
        shell.cleanup(t);
    }

    private static long lastModified(DurableShell shell, String path) throws Exception {
        ControllerChannel.Outcome r = shell.channel().call(DurableShell.on(new FilePath$LastModified(), path), 10_000);
        if (!(r.value() instanceof Long l)) {
            Report.fail("FilePath$LastModified returned " + (r.failed() ? r.raw() : ConnectSequence.className(r.value())));
            return 0;
        }
        return l;
    }

    /** 20 MiB of random bytes, written in 1 MiB pieces, read incrementally by the polls. */
    private void big(Main m) throws Exception {
        DurableShell shell = connect(m);
        if (shell == null) {
            return;
        }
        String ws = workspace(m, "durable-big");
        String nodeCookie = UUID.randomUUID().toString();
        int mib = 20;
        String script = "set +x\nhead -c " + (mib << 20) + " /dev/urandom > big.bin\n"
                + "i=0\nwhile [ $i -lt " + mib + " ]; do dd if=big.bin bs=1048576 skip=$i count=1 2>/dev/null; sleep 0.1; i=$((i+1)); done\n"
                + "echo tail line\n";
        long t0 = System.nanoTime();
        DurableShell.Task t = shell.launch(ws, script, false, stepEnvironment(ws, nodeCookie));
        Report.equal(0, shell.pollToExit(t, 120_000), "exit code of the 20 MiB step");
        double seconds = (System.nanoTime() - t0) / 1e9;
        Path data = Path.of(ws, "big.bin");
        byte[] random = Files.readAllBytes(data);
        Report.equal(mib << 20, random.length, "size of the step's random data");
        checkBytes(Main.concat(Main.concat(Main.bytes("+ set +x\n"), random), Main.bytes("tail line\n")),
                t.log.toByteArray(), "every byte of the 20 MiB log");
        Report.check(t.nonEmptyReads >= 5, "the log arrived incrementally, in " + t.nonEmptyReads + " WriteLog calls with data");
        Report.info(String.format("20 MiB step: %.1f s from launch to exit status, %d WriteLog calls", seconds,
                shell.writeLogCalls.get()));
        shell.cleanup(t);
        Files.delete(data);
        shell.endNode(nodeCookie);
        checkSinksReleased(shell, 2000);
        finish(shell);
    }

    /**
     * Stop of a running step that left a daemon ignoring SIGTERM: the KillTask for the script's
     * cookie must end the whole tree (SIGTERM, then SIGKILL after the grace period), and the
     * wrapper records 143 for the script.
     */
    private void stop(Main m) throws Exception {
        DurableShell shell = connect(m);
        if (shell == null) {
            return;
        }
        String ws = workspace(m, "durable-stop");
        String nodeCookie = UUID.randomUUID().toString();
        String script = "set +x\necho started\n"
                + "sh -c 'trap \"\" TERM; while :; do sleep 1; done' >/dev/null 2>&1 &\n"
                + "echo daemon $!\nsleep 600\n";
        DurableShell.Task t = shell.launch(ws, script, false, stepEnvironment(ws, nodeCookie));
        if (!shell.pollUntilLogContains(t, "daemon ", 20_000)) {
            return;
        }
        String entry = "JENKINS_SERVER_COOKIE=" + t.cookieValue;
        List<Long> tree = ShellStep.processesWith(entry);
        Report.check(tree.size() >= 3, "script, daemon and their children carry the script's cookie: " + tree);
        Report.check(!ShellStep.processesWith("JENKINS_SERVER_COOKIE=please-do-not-kill-me").isEmpty(),
                "the wrapper runs with JENKINS_SERVER_COOKIE=please-do-not-kill-me");

        long t0 = System.nanoTime();
        shell.stop(t);
        long stopMillis = (System.nanoTime() - t0) / 1_000_000;
        Report.info("KillTask for the script's cookie returned after " + stopMillis + " ms");
        Report.equal(List.of(), awaitNoProcessWith(entry, 3000), "no process with the script's cookie is left");

        Report.equal(143, shell.pollToExit(t, 20_000), "exit code the wrapper recorded for the stopped script (128 + SIGTERM)");
        String log = new String(t.log.toByteArray(), StandardCharsets.ISO_8859_1);
        // Children are signalled before their parents, so the script's shell may report its
        // foreground sleep as Terminated before it gets its own SIGTERM.
        Report.check(log.matches("\\+ set \\+x\nstarted\ndaemon [0-9]+\n(Terminated\n)?"), "log bytes of the stopped step: " + log);
        shell.cleanup(t);
        shell.endNode(nodeCookie);
        Report.equal(List.of(), awaitNoProcessWith("JENKINS_NODE_COOKIE=" + nodeCookie, 5000),
                "no process of the node block is left");
        checkSinksReleased(shell, 2000);
        finish(shell);
    }

    /** What the controller's exported ExecutionRemotable received. */
    record Exited(int code, byte[] output, long nanos, int listenerBytes) {}

    /** One watched step: the exported execution and listener, and what reached them. */
    static final class Watch {
        final int executionOid;
        int listenerOid;
        final ByteArrayOutputStream listener = new ByteArrayOutputStream();
        final CompletableFuture<Exited> exited = new CompletableFuture<>();
        volatile long firstBytesNanos;

        Watch(int executionOid) {
            this.executionOid = executionOid;
        }

        /** Returns the controller's end of the listener stream. */
        OutputStream sink() {
            return new OutputStream() {
                @Override
                public void write(int b) {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    if (len > 0 && firstBytesNanos == 0) {
                        firstBytesNanos = System.nanoTime();
                    }
                    synchronized (listener) {
                        listener.write(b, off, len);
                    }
                }
            };
        }

        byte[] listenerBytes() {
            synchronized (listener) {
                return listener.toByteArray();
            }
        }
    }

    /** Export ids of the controller's ExecutionRemotable objects, and the watches behind them. */
    private static final AtomicInteger NEXT_EXECUTION_OID = new AtomicInteger(7000);
    private static final Map<Integer, Watch> WATCHES = new ConcurrentHashMap<>();

    /**
     * FileMonitoringController.watch: exports the step execution and sends StartWatching with
     * the controller object, the handler and the step's listener, without waiting (actAsync).
     */
    static Watch startWatching(DurableShell shell, DurableShell.Task t) throws Exception {
        return startWatching(shell, t, DurableShell.SYSTEM_DEFAULT);
    }

    /** Starts watching with {@code charset} as the step's encoding (FileMonitoringController.charset). */
    static Watch startWatching(DurableShell shell, DurableShell.Task t, String charset) throws Exception {
        ControllerChannel ch = shell.channel();
        Watch w = new Watch(NEXT_EXECUTION_OID.getAndIncrement());
        w.listenerOid = shell.export(w.sink(), "watch listener");
        WATCHES.put(w.executionOid, w);

        Object execution = Proxy.newProxyInstance(DurableScenarios.class.getClassLoader(),
                new Class<?>[] {DurableTaskStep.ExecutionRemotable.class, IReadResolve.class},
                new RemoteInvocationHandler(w.executionOid, true));
        BufferedBuildListener.Replacement log = new BufferedBuildListener.Replacement(new RemoteOutputStream(w.listenerOid));
        TaskListenerDecorator.CloseableTaskListener listener = new TaskListenerDecorator.CloseableTaskListener(log, log);
        DurableTaskStep.HandlerImpl handler = new DurableTaskStep.HandlerImpl((DurableTaskStep.ExecutionRemotable) execution, listener);
        BourneShellScript.ShellController controller = new BourneShellScript.ShellController(t.controlDir, t.cookieValue,
                charset);
        ch.agentCalls = DurableScenarios::onAgentCall;
        ch.callAsync(DurableShell.on(new FileMonitoringTask.StartWatching(controller, handler, listener), t.workspace));
        return w;
    }

    /** Serves the controller's ExecutionRemotable: records exited(int, byte[]) from the agent-side watcher. */
    private static Object onAgentCall(Object callable) {
        if (!(callable instanceof RemoteInvocationHandler.UserRPCRequest rpc)) {
            Report.fail("agent called " + callable.getClass().getName() + " on the controller");
            return null;
        }
        Watch w = WATCHES.get(rpc.oid);
        if (w == null) {
            Report.fail("agent called " + rpc.methodName + " on oid " + rpc.oid + ", which the controller does not export");
            return null;
        }
        String declaring = DurableTaskStep.ExecutionRemotable.class.getName();
        if (!declaring.equals(rpc.declaringClassName) || !"exited".equals(rpc.methodName)
                || !Arrays.equals(new String[] {"int", "[B"}, rpc.types) || rpc.arguments.length != 2
                || !(rpc.arguments[0] instanceof Integer code)) {
            Report.fail("agent called " + rpc.declaringClassName + "." + rpc.methodName + Arrays.toString(rpc.types)
                    + " with " + Arrays.toString(rpc.arguments));
            return null;
        }
        w.exited.complete(new Exited(code, (byte[]) rpc.arguments[1], System.nanoTime(), w.listenerBytes().length));
        return null;
    }

    /**
     * Watch mode: after the launch and StartWatching the controller sends nothing more. The
     * agent's watcher must push the output to the listener and call exited(code, output).
     */
    private void watch(Main m) throws Exception {
        DurableShell shell = connect(m);
        if (shell == null) {
            return;
        }
        String ws = workspace(m, "durable-watch");
        String nodeCookie = UUID.randomUUID().toString();
        Map<String, String> env = stepEnvironment(ws, nodeCookie);
        ControllerChannel ch = shell.channel();
        int loaderCallsBefore = ch.loaderNameCalls.get();

        DurableShell.Task t = shell.launch(ws, "set +x\necho watched output\nsleep 0.5\nprintf 'no final newline'\nexit 5\n", false, env);
        Watch w = startWatching(shell, t);
        Exited exited = w.exited.get(30, TimeUnit.SECONDS);
        Report.equal(5, exited.code(), "exit code pushed by exited()");
        Report.equal(null, exited.output(), "exited() carries no output without returnStdout");
        byte[] want = Main.bytes("+ set +x\nwatched output\nno final newline\n");
        checkBytes(want, Arrays.copyOf(w.listenerBytes(), exited.listenerBytes()),
                "listener bytes before exited(), with the newline the plugin adds");
        Report.equal(want.length, w.listenerBytes().length, "no listener bytes after exited()");
        Report.equal(0, shell.writeLogCalls.get(), "the controller sent no WriteLog (no polling)");
        Report.info(String.format("watch mode: first output %.1f ms after the launch call, exit %.1f ms after",
                (w.firstBytesNanos - t.launchNanos) / 1e6, (exited.nanos() - t.launchNanos) / 1e6));
        Report.check(ch.loaderNameCalls.get() > loaderCallsBefore, "the exited() request's class loader proxy answered getName");
        awaitGone(t.controlDir);
        checkReleased(shell, w);

        DurableShell.Task captured = shell.launch(ws, "set +x\nprintf 'captured 输出\\n'\necho progress >&2\n", true, env);
        Watch w2 = startWatching(shell, captured);
        Exited done = w2.exited.get(30, TimeUnit.SECONDS);
        Report.equal(0, done.code(), "exit code of the watched returnStdout step");
        checkBytes("captured 输出\n".getBytes(StandardCharsets.UTF_8), done.output() == null ? new byte[0] : done.output(),
                "output bytes exited() carries for returnStdout");
        checkBytes(Main.bytes("+ set +x\nprogress\n"), w2.listenerBytes(), "listener bytes of the returnStdout step");
        awaitGone(captured.controlDir);
        checkReleased(shell, w2);

        // sh(encoding: 'ISO-8859-1'): the watcher transcodes the log to UTF-8 before sending it.
        DurableShell.Task latin = shell.launch(ws, "set +x\nprintf 'caf\\351 \\344\\n'\nsleep 0.3\nprintf '\\374ber\\n'\n", false, env);
        Watch w3 = startWatching(shell, latin, "ISO-8859-1");
        Report.equal(0, w3.exited.get(30, TimeUnit.SECONDS).code(), "exit code of the watched ISO-8859-1 step");
        checkBytes("+ set +x\ncafé ä\nüber\n".getBytes(StandardCharsets.UTF_8), w3.listenerBytes(),
                "listener bytes transcoded from ISO-8859-1 to UTF-8");
        awaitGone(latin.controlDir);

        shell.endNode(nodeCookie);
        finish(shell);
    }

    private static void awaitGone(String controlDir) throws InterruptedException {
        for (int i = 0; i < 50 && Files.exists(Path.of(controlDir)); i++) {
            Thread.sleep(100);
        }
        Report.check(!Files.exists(Path.of(controlDir)), "the watcher deleted " + controlDir);
    }

    /** After the watch ends the agent releases the listener stream and the execution proxy. */
    private static void checkReleased(DurableShell shell, Watch w) throws InterruptedException {
        ControllerChannel ch = shell.channel();
        for (int i = 0; i < 40 && (shell.liveExports.containsKey(w.listenerOid) || !ch.unexported.contains(w.executionOid)); i++) {
            Thread.sleep(50);
        }
        Report.check(!shell.liveExports.containsKey(w.listenerOid), "the agent unexported the watch listener's stream " + w.listenerOid);
        Report.check(ch.unexported.contains(w.executionOid), "the agent unexported the ExecutionRemotable proxy " + w.executionOid);
    }

    /**
     * Drops the connection in the middle of a step. The step must run on, Kite reconnects, and
     * the next polls must find the output written meanwhile and the exit status.
     */
    private void drop(Main m) throws Exception {
        DurableShell shell = connect(m);
        if (shell == null) {
            return;
        }
        String ws = workspace(m, "durable-drop");
        String nodeCookie = UUID.randomUUID().toString();
        String script = "set +x\necho before the drop\nsleep 4\necho after the drop\nexit 7\n";
        DurableShell.Task t = shell.launch(ws, script, false, stepEnvironment(ws, nodeCookie));
        if (!shell.pollUntilLogContains(t, "before the drop", 20_000)) {
            return;
        }
        String entry = "JENKINS_NODE_COOKIE=" + nodeCookie;
        List<Long> before = ShellStep.processesWith(entry);
        shell.channel().close();
        long dropped = System.nanoTime();
        Report.info("controller dropped the connection after " + t.lastLocation + " log bytes");
        Thread.sleep(300);
        List<Long> during = ShellStep.processesWith(entry);
        Report.check(!during.isEmpty() && during.containsAll(before),
                "the step runs on while the agent is disconnected: " + before + " -> " + during);

        ControllerChannel ch = m.accept();
        if (ch == null) {
            return;
        }
        Report.info(String.format("agent reconnected %.1f s after the drop", (System.nanoTime() - dropped) / 1e9));
        ConnectSequence seq = new ConnectSequence(ch, m.o);
        seq.goOnline();
        shell.attach(ch, seq);
        // The old channel's process proxy and streams went away with it.
        t.processOid = 0;
        t.pipeOids = new ArrayList<>();
        Report.equal(7, shell.pollToExit(t, 30_000), "exit code found by the polls after the reconnect");
        checkBytes(Main.bytes("+ set +x\nbefore the drop\nafter the drop\n"), t.log.toByteArray(),
                "log bytes across the drop, each exactly once");
        shell.cleanup(t);

        watchAcrossDrop(m, shell, ws, stepEnvironment(ws, nodeCookie));
        shell.endNode(nodeCookie);
        Report.equal(List.of(), awaitNoProcessWith(entry, 5000), "no process of the node block is left");
        checkSinksReleased(shell, 2000);
        finish(shell);
    }

    /**
     * Watch mode across a dropped connection: the first watcher loses its channel, the controller
     * starts watching again after the reconnect (as DurableTaskStep.Execution.getWorkspace does),
     * and the new watcher resumes from last-location.txt, so every byte arrives exactly once.
     */
    private void watchAcrossDrop(Main m, DurableShell shell, String ws, Map<String, String> env) throws Exception {
        DurableShell.Task t = shell.launch(ws, "set +x\necho watched before\nsleep 3\necho watched after\nexit 4\n", false, env);
        Watch first = startWatching(shell, t);
        for (int i = 0; i < 100 && !new String(first.listenerBytes(), StandardCharsets.ISO_8859_1).contains("before\n"); i++) {
            Thread.sleep(50);
        }
        shell.channel().close();
        Report.info("controller dropped the connection during a watched step");
        ControllerChannel ch = m.accept();
        if (ch == null) {
            return;
        }
        ConnectSequence seq = new ConnectSequence(ch, m.o);
        seq.goOnline();
        shell.attach(ch, seq);
        Watch second = startWatching(shell, t);
        Exited exited = second.exited.get(30, TimeUnit.SECONDS);
        Report.equal(4, exited.code(), "exit code pushed by the watcher started after the reconnect");
        checkBytes(Main.bytes("+ set +x\nwatched before\nwatched after\n"),
                Main.concat(first.listenerBytes(), second.listenerBytes()), "watched log bytes across the drop, each exactly once");
        awaitGone(t.controlDir);
    }
}
