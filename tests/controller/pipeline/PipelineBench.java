package kite.controller;

import hudson.FilePath;
import hudson.FilePath$Archive;
import hudson.Launcher$RemoteLaunchCallable;
import hudson.Launcher$RemoteProcess;
import hudson.model.StreamBuildListener;
import hudson.remoting.RemoteInvocationHandler;
import hudson.remoting.RemoteOutputStream;
import hudson.util.DirScanner;
import hudson.util.io.ArchiverFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import jenkins.tasks.filters.EnvVarsFilterRuleWrapper;

/**
 * Times the transfer of a 10,000-file workspace to the controller as a tar stream. Kite's
 * FilePath$Archive (tar and tar.gz) runs against GNU tar started through the remote launcher,
 * whose stdout is a RemoteOutputStream over the same channel, and against GNU tar on the
 * controller's machine without any connection. Prints one BENCH line per transfer; the only
 * check is that each transfer delivered bytes.
 */
final class PipelineBench {
    static final int DIRECTORIES = 100;
    static final int FILES_PER_DIRECTORY = 100;
    /** File sizes are drawn uniformly from 0 to this many bytes. */
    static final int MAX_FILE_BYTES = 4096;
    /** Time-out of each timed call; a transfer on a loaded machine may take far longer than a plain call. */
    static final long CALL_TIMEOUT_MILLIS = 300_000;

    private final ControllerChannel ch;
    private final ControllerStreams streams;
    private final Path root;
    private final int rounds;
    private final long timeoutMillis;

    PipelineBench(ControllerChannel ch, ControllerStreams streams, Path root, int rounds, long timeoutMillis) {
        this.ch = ch;
        this.streams = streams;
        this.root = root;
        this.rounds = Math.max(1, rounds);
        this.timeoutMillis = timeoutMillis;
    }

    /** Counts the bytes and the Chunk commands written to it, and drops the bytes. */
    private static final class Counter extends OutputStream {
        long count;
        long chunks;

        @Override
        public void write(int b) {
            count++;
            chunks++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            count += len;
            chunks++;
        }
    }

    /** Bytes and Chunk commands one transfer delivered. */
    private record Delivered(long bytes, long chunks) {}

    /** Writes 10,000 files of mixed text and random bytes in 100 directories; returns their total size. */
    static long buildWorkspace(Path ws) throws IOException {
        Random random = new Random(10_000);
        long total = 0;
        byte[] text = "the quick brown fox jumps over the lazy dog 0123456789\n".repeat(80).getBytes(StandardCharsets.US_ASCII);
        for (int d = 0; d < DIRECTORIES; d++) {
            Path dir = ws.resolve(String.format("src/module%03d", d));
            Files.createDirectories(dir);
            for (int f = 0; f < FILES_PER_DIRECTORY; f++) {
                int size = random.nextInt(MAX_FILE_BYTES + 1);
                byte[] content = Arrays.copyOf(text, size);
                if (f % 2 == 1) {
                    random.nextBytes(content);
                }
                Files.write(dir.resolve(String.format("file%03d.dat", f)), content);
                total += size;
            }
        }
        return total;
    }

    void run() throws Exception {
        Path ws = root.resolve("workspace/bench-job");
        long t0 = System.nanoTime();
        long payload = buildWorkspace(ws);
        int files = DIRECTORIES * FILES_PER_DIRECTORY;
        System.out.printf("BENCH workspace files=%d payload_bytes=%d build_ms=%.0f%n", files, payload,
                (System.nanoTime() - t0) / 1e6);

        // One untimed pass of each reader warms the page cache.
        kiteArchive(ws, ArchiverFactory.TAR, files);
        launchedTar(ws, false);
        for (int round = 1; round <= rounds; round++) {
            report("kite-archive-tar", round, () -> kiteArchive(ws, ArchiverFactory.TAR, files));
            report("launched-tar", round, () -> launchedTar(ws, false));
            report("kite-archive-targz", round, () -> kiteArchive(ws, ArchiverFactory.TARGZ, files));
            report("launched-tar-gzip", round, () -> launchedTar(ws, true));
            report("local-tar", round, () -> localTar(ws));
        }
    }

    private interface Transfer {
        Delivered run() throws Exception;
    }

    private void report(String mode, int round, Transfer transfer) throws Exception {
        long start = System.nanoTime();
        Delivered delivered = transfer.run();
        double ms = (System.nanoTime() - start) / 1e6;
        long bytes = delivered.bytes();
        System.out.printf("BENCH transfer mode=%s round=%d bytes=%d ms=%.1f mib_per_s=%.1f chunks=%d%n", mode, round, bytes,
                ms, bytes / 1048576.0 / (ms / 1000), delivered.chunks());
        System.out.flush();
        if (bytes <= 0) {
            Report.fail(mode + " round " + round + " delivered no bytes");
        }
    }

    /** stash-style FilePath$Archive of the whole workspace into a counting RemoteOutputStream. */
    private Delivered kiteArchive(Path ws, ArchiverFactory factory, int files) throws Exception {
        int oid = ControllerStreams.newOid();
        Counter counter = new Counter();
        ControllerStreams.Collected out = streams.export(oid, counter);
        ControllerChannel.Outcome r = ch.call(new FilePath.FileCallableWrapper(new FilePath$Archive(factory,
                new RemoteOutputStream(oid), new DirScanner.Glob("**", null, true), null, new OpenOption[0]),
                new FilePath(ws.toString())), timeoutMillis);
        if (r.failed() || !Integer.valueOf(files).equals(r.value())) {
            Report.fail("FilePath$Archive of the bench workspace returned " + (r.failed() ? r.raw() : r.value()));
        }
        if (!out.awaitEof(timeoutMillis)) {
            Report.fail("no EOF on the bench archive stream " + oid);
        }
        return new Delivered(counter.count, counter.chunks);
    }

    /** GNU tar on the agent through Launcher$RemoteLaunchCallable, stdout as a RemoteOutputStream. */
    private Delivered launchedTar(Path ws, boolean gzip) throws Exception {
        int outOid = ControllerStreams.newOid();
        int listenerOid = ControllerStreams.newOid();
        Counter counter = new Counter();
        streams.export(outOid, counter);
        streams.collect(listenerOid);
        Launcher$RemoteLaunchCallable launch = new Launcher$RemoteLaunchCallable(
                new ArrayList<>(List.of("tar", gzip ? "-czf" : "-cf", "-", ".")), null, new String[0], null,
                new RemoteOutputStream(outOid), null,
                new StreamBuildListener(new RemoteOutputStream(listenerOid), StandardCharsets.UTF_8), null,
                ws.toString(), true, false, false, false, new EnvVarsFilterRuleWrapper(new ArrayList<>()));
        ControllerChannel.Outcome launched = ch.call(launch, timeoutMillis);
        Object proc = launched.value();
        if (launched.failed() || proc == null || !Proxy.isProxyClass(proc.getClass())) {
            Report.fail("launching tar failed: " + (launched.failed() ? launched.raw() : proc));
            return new Delivered(0, 0);
        }
        RemoteInvocationHandler h = (RemoteInvocationHandler) Proxy.getInvocationHandler(proc);
        ControllerChannel.Outcome joined = ch.userRpc(h.oid, Launcher$RemoteProcess.class.getName(), "join",
                new String[0], new Object[0], timeoutMillis);
        if (!Integer.valueOf(0).equals(joined.value())) {
            Report.fail("tar on the agent exited with " + (joined.failed() ? joined.raw() : joined.value()));
        }
        // The build log stream stays open after the process, as in Jenkins, so there is no EOF to
        // wait for. The reader thread applies chunks in arrival order and join's response comes
        // after the last one, so the count is complete here.
        ch.exportedStreams.remove(outOid);
        return new Delivered(counter.count, counter.chunks);
    }

    /** GNU tar on this machine, read through a pipe, with no connection involved. */
    private static Delivered localTar(Path ws) throws Exception {
        Process p = new ProcessBuilder("tar", "-cf", "-", ".").directory(ws.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        long n = 0;
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = p.getInputStream()) {
            for (int k; (k = in.read(buffer)) > 0; ) {
                n += k;
            }
        }
        p.waitFor();
        return new Delivered(n, 0);
    }
}
