package kite.controller;

import hudson.EnvVars;
import hudson.Launcher$RemoteLauncher$KillTask;
import hudson.remoting.Response;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The steps-kill scenario. Each step leaves a daemon that re-parented itself (setsid, then a
 * second fork whose parent exits) and ignores SIGTERM, as does the step itself, so only SIGKILL
 * ends them. Each of three ways to end a build must leave no process carrying the build's cookie.
 * They are Launcher$RemoteProcess.kill, an aborted build, and the end-of-build KillTask alone after
 * the step exited. The aborted build cancels the join, then calls kill and sends KillTask, as
 * Proc.RemoteProc and the end of the build do.
 */
final class StepKills {
    /** The step: records its daemon's pid in the file named by $1, prints "started <pid>", then waits or exits. */
    private static final String SCRIPT = String.join("\n",
            "trap '' TERM",
            "rm -f \"$1\"",
            "setsid sh -c 'sleep 300 </dev/null >/dev/null 2>&1 & echo $! > \"$1.tmp\"; mv \"$1.tmp\" \"$1\"' sh \"$1\" "
                    + "</dev/null >/dev/null 2>&1 &",
            "printf 'started %s\\n' \"$$\"",
            "if [ \"$2\" = wait ]; then sleep 300; fi",
            "");

    private final StepScenarios s;

    StepKills(StepScenarios s) {
        this.s = s;
    }

    void run() throws Exception {
        killProcess();
        abortedBuild();
        killTaskAfterExit();
    }

    /** Launches the step with its own build cookie; waits for its daemon. Null after a failed check. */
    private Started start(String name, boolean wait) throws Exception {
        String cookie = s.cookie + "-" + name;
        Path pidFile = s.ws.resolve(name + ".pid");
        StepRun.Spec spec = s.script("kill.sh", SCRIPT);
        spec.cmd.addAll(List.of(pidFile.toString(), wait ? "wait" : "exit"));
        spec.env = s.env(cookie);
        StepRun run = StepRun.launch(s.ch, spec, s.timeoutMillis);
        if (run == null) {
            return null;
        }
        run.checkTriplet(s.timeoutMillis);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.exists(pidFile) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        if (!Files.exists(pidFile)) {
            Report.fail(name + ": the step wrote no daemon pid within 10 s");
            return null;
        }
        run.out.awaitCount(1, 10_000);
        long daemon = Long.parseLong(Files.readString(pidFile).strip());
        String entry = "JENKINS_SERVER_COOKIE=" + cookie;
        checkDaemon(name, daemon, entry);
        return new Started(run, daemon, entry, cookie);
    }

    private record Started(StepRun run, long daemon, String entry, String cookie) {}

    /** Checks that the daemon carries the cookie but lives outside the step's tree, in its own session. */
    private void checkDaemon(String name, long daemon, String entry) {
        Report.check(ShellStep.processesWith(entry).contains(daemon), name + ": daemon " + daemon + " carries the build's cookie");
        long[] stat = stat(daemon);
        if (stat == null) {
            Report.fail(name + ": daemon " + daemon + " is gone before the kill");
            return;
        }
        long ppid = stat[0];
        long session = stat[2];
        Report.check(!ShellStep.processesWith(entry).contains(ppid),
                name + ": daemon " + daemon + " was re-parented out of the step's tree (parent " + ppid + ")");
        Report.check(session != daemon && stat[1] == session,
                name + ": daemon " + daemon + " runs in its own session and process group " + session);
    }

    /** ppid, pgrp and session of {@code pid} from /proc/PID/stat; null when it is gone. */
    private static long[] stat(long pid) {
        try {
            String text = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.UTF_8);
            String[] f = text.substring(text.lastIndexOf(')') + 2).split(" ");
            return new long[] {Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3])};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Polls /proc for up to 10 s until no process carries {@code entry}. */
    private static void checkNoneLeft(String what, String entry) throws InterruptedException {
        List<Long> left = ShellStep.processesWith(entry);
        for (int i = 0; i < 50 && !left.isEmpty(); i++) {
            Thread.sleep(200);
            left = ShellStep.processesWith(entry);
        }
        Report.check(left.isEmpty(), what + ": no process carries the build's cookie, left " + left);
    }

    private void killTask(String cookie, long timeoutMillis) throws Exception {
        EnvVars model = new EnvVars();
        Map<String, String> env = Main.buildEnvironment(s.ws.toString(), StepScenarios.JOB, cookie);
        env.remove("WORKSPACE");
        model.putAll(env);
        ControllerChannel.Outcome o = s.ch.call(new Launcher$RemoteLauncher$KillTask(model), timeoutMillis);
        Report.check(!o.failed() && o.value() == null, "KillTask returned null"
                + (o.failed() ? ", not " + (o.raw() != null ? o.raw() : o.proxy()) : ""));
    }

    /** Launcher$RemoteProcess.kill while the step runs: SIGTERM is ignored, so SIGKILL must follow. */
    private void killProcess() throws Exception {
        Started st = start("kill", true);
        if (st == null) {
            return;
        }
        long t0 = System.nanoTime();
        ControllerChannel.Outcome killed = st.run().call("kill", 60_000);
        Report.info(String.format("kill: RemoteProcess.kill returned after %.1f s", (System.nanoTime() - t0) / 1e9));
        Report.check(!killed.failed(), "RemoteProcess.kill succeeded" + (killed.failed() ? ": " + killed.raw() : ""));
        checkNoneLeft("kill", st.entry());
        Report.check(stat(st.daemon()) == null || isZombie(st.daemon()), "kill: daemon " + st.daemon() + " is dead");
        Report.equal(Boolean.FALSE, st.run().isAlive(s.timeoutMillis), "kill: isAlive after kill");
        Report.equal(128 + 9, st.run().join(s.timeoutMillis), "kill: join after kill returns 128 + SIGKILL");
        st.run().forget();
    }

    /**
     * Runs an aborted build. The executor thread waiting in join is interrupted, which cancels the
     * request. Proc.RemoteProc then calls kill, and the build's end sends KillTask.
     */
    private void abortedBuild() throws Exception {
        Started st = start("abort", true);
        if (st == null) {
            return;
        }
        StepRun.PendingJoin join = st.run().joinAsync();
        Thread.sleep(300);
        Report.check(!join.response().isDone(), "abort: join is still waiting for the step");
        st.run().cancel(join);
        Response r = join.response().get(60, TimeUnit.SECONDS);
        ControllerChannel.Outcome o = s.ch.decode(r);
        Report.check(o.raw() instanceof InterruptedException,
                "abort: the cancelled join threw InterruptedException: " + (o.failed() ? o.raw() : o.value()));
        checkNoneLeft("abort, after the cancelled join", st.entry());
        ControllerChannel.Outcome killed = st.run().call("kill", 60_000);
        Report.check(!killed.failed(), "abort: RemoteProcess.kill after the abort succeeded");
        killTask(st.cookie(), 60_000);
        checkNoneLeft("abort", st.entry());
        st.run().forget();
    }

    /** The step exits 0 and leaves its daemon; KillTask at the end of the build must find it by the cookie. */
    private void killTaskAfterExit() throws Exception {
        Started st = start("killtask", false);
        if (st == null) {
            return;
        }
        Report.equal(0, st.run().join(30_000), "killtask: exit code of the step that leaves a daemon");
        Report.check(stat(st.daemon()) != null && !isZombie(st.daemon()),
                "killtask: daemon " + st.daemon() + " outlived its step");
        long t0 = System.nanoTime();
        killTask(st.cookie(), 60_000);
        Report.info(String.format("killtask: KillTask returned after %.1f s", (System.nanoTime() - t0) / 1e9));
        checkNoneLeft("killtask", st.entry());
        Report.check(stat(st.daemon()) == null || isZombie(st.daemon()), "killtask: daemon " + st.daemon() + " is dead");
        st.run().forget();
    }

    private static boolean isZombie(long pid) {
        try {
            String text = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.UTF_8);
            return text.substring(text.lastIndexOf(')') + 2).startsWith("Z");
        } catch (IOException | RuntimeException e) {
            return true;
        }
    }
}
