package kite.controller;

import hudson.EnvVars;
import hudson.FilePath;
import hudson.FilePath$CreateTextTempFile;
import hudson.FilePath$Delete;
import hudson.FilePath$Mkdirs;
import hudson.Launcher$IOTriplet;
import hudson.Launcher$RemoteLaunchCallable;
import hudson.Launcher$RemoteLauncher$KillTask;
import hudson.Launcher$RemoteProcess;
import hudson.model.StreamBuildListener;
import hudson.remoting.ProxyOutputStream;
import hudson.remoting.RemoteInvocationHandler;
import hudson.remoting.RemoteOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import jenkins.tasks.filters.EnvVarsFilterRuleWrapper;

/**
 * Sends one freestyle "Execute shell" build step as Jenkins does. The calls are FilePath$Mkdirs
 * on the workspace, FilePath$CreateTextTempFile with the script, and Launcher$RemoteLaunchCallable
 * with the build log as exported RemoteOutputStreams. Then come getIOtriplet and join on the
 * returned Launcher$RemoteProcess proxy, and FilePath$Delete of the script. KillTask is separate
 * ({@link #killTask}) because Jenkins sends it once at the end of the build.
 */
final class ShellStep {
    /** Next export id for the controller's streams, well above the class loader's id. */
    private static final AtomicInteger NEXT_STREAM_OID = new AtomicInteger(40);

    /** Exit code, script path and the bytes each stream received during one step. */
    record Result(Integer exitCode, String scriptPath, byte[] listenerBytes, byte[] outBytes) {}

    private final ControllerChannel ch;
    private final ConnectSequence seq;
    private final long timeoutMillis;

    ShellStep(ControllerChannel ch, ConnectSequence seq, long timeoutMillis) {
        this.ch = ch;
        this.seq = seq;
        this.timeoutMillis = timeoutMillis;
    }

    /** Runs {@code script} with /bin/sh -xe in {@code workspace} and checks every result on the way. */
    Result run(String workspace, String script, Map<String, String> buildEnv) throws Exception {
        FilePath ws = new FilePath(workspace);
        Report.equal(Boolean.TRUE, seq.value(new FilePath.FileCallableWrapper(new FilePath$Mkdirs(), ws)),
                "FilePath$Mkdirs on " + workspace);
        Report.check(Files.isDirectory(Path.of(workspace)), "workspace " + workspace + " exists");

        Object created = seq.value(new FilePath.FileCallableWrapper(
                new FilePath$CreateTextTempFile(false, "jenkins", ".sh", script), ws));
        if (!(created instanceof String scriptPath)) {
            Report.fail("FilePath$CreateTextTempFile returned " + ConnectSequence.className(created) + ", not a String");
            return new Result(null, null, new byte[0], new byte[0]);
        }
        Report.check(scriptPath.matches("/.*/jenkins[0-9]+\\.sh") && !scriptPath.startsWith(workspace + "/"),
                "script created in the temporary directory as jenkins<digits>.sh: " + scriptPath);
        Report.check(script.equals(Files.readString(Path.of(scriptPath), StandardCharsets.UTF_8)),
                "script file holds the " + script.length() + " characters sent");

        int listenerOid = NEXT_STREAM_OID.getAndIncrement();
        int outOid = NEXT_STREAM_OID.getAndIncrement();
        List<String> env = new ArrayList<>();
        buildEnv.forEach((k, v) -> env.add(k + "=" + v));
        Launcher$RemoteLaunchCallable launch = new Launcher$RemoteLaunchCallable(
                new ArrayList<>(List.of("/bin/sh", "-xe", scriptPath)), null, env.toArray(new String[0]), null,
                new RemoteOutputStream(outOid), null,
                new StreamBuildListener(new RemoteOutputStream(listenerOid), StandardCharsets.UTF_8), null,
                workspace, false, false, false, false, new EnvVarsFilterRuleWrapper(new ArrayList<>()));
        ControllerChannel.Outcome launched = ch.call(launch, timeoutMillis);
        if (launched.failed()) {
            Report.fail("Launcher$RemoteLaunchCallable threw " + (launched.raw() != null ? launched.raw() : launched.proxy()));
            return new Result(null, scriptPath, new byte[0], new byte[0]);
        }
        Object proc = launched.value();
        if (!(proc instanceof Launcher$RemoteProcess) || !Proxy.isProxyClass(proc.getClass())) {
            Report.fail("Launcher$RemoteLaunchCallable returned " + ConnectSequence.className(proc)
                    + ", not a Launcher$RemoteProcess proxy");
            return new Result(null, scriptPath, new byte[0], new byte[0]);
        }
        RemoteInvocationHandler h = (RemoteInvocationHandler) Proxy.getInvocationHandler(proc);
        Report.check(h.userProxy, "Launcher$RemoteProcess proxy oid " + h.oid + " is a user proxy");
        String iface = Launcher$RemoteProcess.class.getName();

        ControllerChannel.Outcome triplet = ch.userRpc(h.oid, iface, "getIOtriplet", new String[0], new Object[0], timeoutMillis);
        if (triplet.value() instanceof Launcher$IOTriplet t) {
            Report.check(t.stdout == null && t.stderr == null && t.stdin == null,
                    "getIOtriplet: no reversed pipes for a freestyle launch");
        } else {
            Report.fail("getIOtriplet returned " + (triplet.failed() ? triplet.raw() : ConnectSequence.className(triplet.value())));
        }

        ControllerChannel.Outcome joined = ch.userRpc(h.oid, iface, "join", new String[0], new Object[0], timeoutMillis);
        // One reader thread dispatches chunks and responses in arrival order, so this snapshot
        // contains exactly the output that arrived before join's response.
        List<ProxyOutputStream.Chunk> before = chunksFor(outOid);
        byte[] listenerBytes = concat(chunksFor(listenerOid));
        Integer exit = null;
        if (joined.value() instanceof Integer i) {
            exit = i;
        } else {
            Report.fail("join returned " + (joined.failed() ? joined.raw() : ConnectSequence.className(joined.value())));
        }
        int lastChunkIo = before.stream().mapToInt(c -> c.ioId).max().orElse(0);
        Report.check(joined.lastIoId() >= lastChunkIo,
                "join's lastIoId " + joined.lastIoId() + " covers the last output chunk (ioId " + lastChunkIo + ")");
        Thread.sleep(500);
        List<ProxyOutputStream.Chunk> after = chunksFor(outOid);
        Report.equal(before.size(), after.size(), "no output chunk arrived after join's response (chunks)");
        Report.equal(listenerBytes.length, concat(chunksFor(listenerOid)).length,
                "no listener chunk arrived after join's response (bytes)");

        Report.equal(null, seq.value(new FilePath.FileCallableWrapper(new FilePath$Delete(), new FilePath(scriptPath))),
                "FilePath$Delete of the script");
        Report.check(!Files.exists(Path.of(scriptPath)), "script " + scriptPath + " is gone");
        return new Result(exit, scriptPath, listenerBytes, concat(before));
    }

    /** Sends the end-of-build KillTask for {@code model} and checks that it returned null. */
    void killTask(Map<String, String> model) throws Exception {
        EnvVars vars = new EnvVars();
        vars.putAll(model);
        Report.equal(null, seq.value(new Launcher$RemoteLauncher$KillTask(vars)), "Launcher$RemoteLauncher$KillTask");
    }

    private List<ProxyOutputStream.Chunk> chunksFor(int oid) {
        List<ProxyOutputStream.Chunk> l = new ArrayList<>();
        for (ProxyOutputStream.Chunk c : ch.chunks) {
            if (c.oid == oid) {
                l.add(c);
            }
        }
        return l;
    }

    private static byte[] concat(List<ProxyOutputStream.Chunk> chunks) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (ProxyOutputStream.Chunk c : chunks) {
            b.write(c.buf);
        }
        return b.toByteArray();
    }

    /** Lists the pids whose initial environment contains {@code entry} (KEY=VALUE), scanning /proc like KillTask. */
    static List<Long> processesWith(String entry) {
        List<Long> pids = new ArrayList<>();
        byte[] needle = entry.getBytes(StandardCharsets.UTF_8);
        try (var dirs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) dirs::iterator) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    byte[] environ = Files.readAllBytes(p.resolve("environ"));
                    for (String e : new String(environ, StandardCharsets.ISO_8859_1).split("\0")) {
                        if (e.equals(new String(needle, StandardCharsets.ISO_8859_1))) {
                            pids.add(Long.parseLong(name));
                            break;
                        }
                    }
                } catch (IOException | SecurityException ignored) {
                    // Gone meanwhile, or not ours to read.
                }
            }
        } catch (IOException e) {
            Report.info("cannot list /proc: " + e);
        }
        return pids;
    }
}
