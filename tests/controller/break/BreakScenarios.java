package kite.controller;

import hudson.FilePath;
import hudson.FilePath$Chmod;
import hudson.FilePath$Exists;
import hudson.FilePath$Mkdirs;
import hudson.FilePath$ReadToString;
import hudson.FilePath$TarCompression;
import hudson.FilePath$UntarLocal;
import hudson.FilePath$Write;
import hudson.remoting.ProxyOutputStream;
import hudson.remoting.RemoteOutputStream;
import hudson.remoting.RemoteInvocationHandler;
import hudson.remoting.Response;
import hudson.remoting.UnexportCommand;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jenkinsci.plugins.durabletask.FileMonitoringTask.FileMonitoringController;

/**
 * Hostile input a controller may send: null and wrong-typed fields, invalid modes, empty and
 * NUL-containing paths, commands for objects the agent never exported, a truncated tar.gz, a gzip
 * bomb and a burst of concurrent requests. Each case expects a Java exception or a plain value,
 * and after each one the agent must still return true for a FilePath$Exists.
 */
public final class BreakScenarios {
    /** Concurrent requests of the burst case, bounded so that the scenario stays short. */
    private static final int BURST_REQUESTS = 2000;
    /** Size of the gzip bomb's one entry: large against kite's memory, small for the test's disk. */
    private static final long BOMB_BYTES = 128L << 20;

    private Main m;
    private ControllerChannel ch;
    private FilePathCalls calls;
    private Path base;

    public BreakScenarios() {}

    public boolean run(Main main, String scenario) throws Exception {
        if (scenario.equals("break-vanish-step")) {
            new BreakVanish(main).run();
            return true;
        }
        if (!scenario.equals("break-hostile")) {
            return false;
        }
        this.m = main;
        ch = m.accept();
        if (ch == null) {
            return true;
        }
        new ConnectSequence(ch, m.o).goOnline();
        calls = new FilePathCalls(ch, m.o.callTimeoutSeconds * 1000L);
        String root = m.o.workDir != null ? m.o.workDir : Files.createTempDirectory("kite-break").toString();
        base = Files.createDirectories(Path.of(root, "break"));

        nullFields();
        invalidModes();
        oddPaths();
        wrongTypedField();
        unknownObjects();
        archives();
        logOffsets();
        burst();

        Report.check(ch.commandErrors.isEmpty(), "every agent command deserialized");
        Report.check(ch.closeOrderly(10_000), "orderly close after the hostile requests");
        ch.close();
        return true;
    }

    /** Checks that the agent still returns true for a FilePath$Exists on the scenario's directory. */
    private void stillServing(String after) throws Exception {
        ControllerChannel.Outcome r = calls.act(new FilePath$Exists(), base.toString());
        Report.check(!r.failed() && Boolean.TRUE.equals(r.value()), "agent still serves after " + after);
    }

    /** Describes what the agent threw, or the value it returned. */
    private static String outcome(ControllerChannel.Outcome r) {
        if (r.failed()) {
            return FilePathCalls.describe(r.raw() != null ? r.raw() : r.proxy());
        }
        return String.valueOf(r.value());
    }

    /** Expects the agent to throw {@code type}; reports the message it gave. */
    private void expectFailure(String label, Object callable, Class<? extends Throwable> type) throws Exception {
        ControllerChannel.Outcome r = ch.call((java.io.Serializable) callable, calls.timeoutMillis);
        if (!r.failed()) {
            Report.fail(label + ": expected " + type.getName() + ", the agent returned " + r.value());
            return;
        }
        Throwable raw = r.raw() != null ? r.raw() : r.proxy();
        Report.check(type.isInstance(raw), label + " throws " + type.getName() + ": " + FilePathCalls.describe(raw));
    }

    private void nullFields() throws Exception {
        expectFailure("FileCallableWrapper with a null callable",
                new FilePath.FileCallableWrapper(null, new FilePath(base.toString())), IOException.class);
        expectFailure("FileCallableWrapper with a null FilePath",
                new FilePath.FileCallableWrapper(new FilePath$Exists(), null), IOException.class);
        expectFailure("FilePath with a null remote",
                new FilePath.FileCallableWrapper(new FilePath$Exists(), new FilePath(null)), IOException.class);

        Path target = base.resolve("null-content.txt");
        ControllerChannel.Outcome r = calls.act(new FilePath$Write(null, null), target.toString());
        Report.check(r.failed() || (Files.exists(target) && Files.size(target) == 0),
                "FilePath$Write with null content fails or writes an empty file: "
                        + outcome(r));
        stillServing("null fields");
    }

    private void invalidModes() throws Exception {
        Path file = Files.writeString(base.resolve("mode.txt"), "mode\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        // Jenkins' Util.modeToPermissions keeps the low 12 bits and rejects setuid, setgid and sticky.
        for (int mask : new int[] {-1, 04755, 0x7fffffff}) {
            calls.expectThrownMatching("mode " + mask, new FilePath$Chmod(mask), file.toString(), IOException.class,
                    "Invalid mode: \\d+");
        }
        Report.equal("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)),
                "invalid modes leave the file's permissions unchanged");
        // Integer.MIN_VALUE has no bits in 07777, so Jenkins reads it as mode 0 and applies it.
        calls.expectValue("mode Integer.MIN_VALUE", new FilePath$Chmod(Integer.MIN_VALUE), file.toString(), null);
        Report.equal("---------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)),
                "mode Integer.MIN_VALUE clears every permission, as on a Java agent");
        stillServing("invalid modes");
    }

    private void oddPaths() throws Exception {
        calls.expectLikeJava("on an empty path", new FilePath$Exists(), "", () -> new java.io.File("").exists());

        // A path with a NUL byte must not reach a system call, which would act on the part before the NUL.
        Path dir = Files.createDirectories(base.resolve("nul"));
        String withNul = dir.resolve("victim").toString() + "\0tail";
        String rejected = "Invalid file path \\(contains a NUL byte\\): .*/victim\\?tail";
        calls.expectThrownMatching("on a path with a NUL byte", new FilePath$Exists(), withNul, IOException.class, rejected);
        calls.expectThrownMatching("on a path with a NUL byte", new FilePath$Mkdirs(), withNul, IOException.class, rejected);
        calls.expectThrownMatching("on a path with a NUL byte", new FilePath$Write("UTF-8", "x"), withNul, IOException.class,
                rejected);
        Report.check(!Files.exists(dir.resolve("victim")), "no call on a path with a NUL byte created the part before it");

        ControllerChannel.Outcome rd = calls.act(new FilePath$ReadToString(), dir.toString());
        Report.check(rd.failed(), "FilePath$ReadToString on a directory fails: "
                + outcome(rd));
        stillServing("odd paths");
    }

    /** Sends a FilePath$Chmod whose {@code mask} is declared as a String instead of an int. */
    private void wrongTypedField() throws Exception {
        byte[] payload = RenamingOutput.payload(new FilePath.FileCallableWrapper(new ChmodWithTextMask("777"),
                new FilePath(base.toString())), ControllerChannel.LOADER_OID);
        CompletableFuture<Response> f = ch.callAsync(ch.newId(), payload, "FilePath$Chmod with a String mask");
        ControllerChannel.Outcome r = ch.decode(f.get(calls.timeoutMillis, TimeUnit.MILLISECONDS));
        Report.check(r.failed(), "FilePath$Chmod with a String mask fails: "
                + outcome(r));
        stillServing("a wrong-typed field");
    }

    private void unknownObjects() throws Exception {
        int neverExported = 987_654;
        ch.send(new ProxyOutputStream.Chunk(ch.ioIds.incrementAndGet(), neverExported, 0, new byte[] {1, 2, 3}));
        ch.send(new ProxyOutputStream.EOF(ch.ioIds.incrementAndGet(), neverExported, 0, null));
        ch.send(new UnexportCommand(neverExported));
        ch.send(new RemoteInvocationHandler.RPCRequest(ch.newId(), neverExported, "java.io.OutputStream", "flush",
                new String[0], new Object[0]));
        stillServing("stream writes, an unexport and an RPC for an object never exported");
    }

    /** Extracts a truncated tar.gz and a gzip bomb with UntarLocal, both from a file on the agent. */
    private void archives() throws Exception {
        byte[] data = new byte[64 * 1024];
        java.util.Arrays.fill(data, (byte) 'k');
        byte[] tar = TarFiles.write(List.of(TarFiles.Entry.file("a.bin", 0644, data), TarFiles.Entry.file("b.bin", 0644, data)));
        byte[] gz = FilePathArchives.gzip(tar);
        Path truncated = Files.write(base.resolve("truncated.tar.gz"), java.util.Arrays.copyOf(gz, gz.length / 2));
        ControllerChannel.Outcome r = calls.act(new FilePath$UntarLocal(new FilePath(truncated.toString()),
                FilePath$TarCompression.GZIP), base.resolve("untar-truncated").toString());
        Report.check(r.failed(), "UntarLocal of a truncated tar.gz fails: "
                + outcome(r));
        stillServing("a truncated tar.gz");

        // BOMB_BYTES of zeros compress to about a thousandth of that size.
        Path bomb = base.resolve("bomb.tar.gz");
        try (OutputStream out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(bomb))) {
            out.write(tarHeader("zeros.bin", BOMB_BYTES));
            byte[] zeros = new byte[1 << 20];
            for (long written = 0; written < BOMB_BYTES; written += zeros.length) {
                out.write(zeros);
            }
            out.write(new byte[1024]);
        }
        KiteProcess kite = KiteProcess.find(m.o.envMarker);
        KiteProcess.Sampler sampler = kite == null ? null : kite.sample(20);
        Path dest = base.resolve("untar-bomb");
        r = calls.act(new FilePath$UntarLocal(new FilePath(bomb.toString()), FilePath$TarCompression.GZIP), dest.toString());
        Report.check(!r.failed(), "UntarLocal of a " + (BOMB_BYTES >> 20) + " MiB gzip bomb ("
                + (Files.size(bomb) >> 10) + " KiB) extracts it: "
                + outcome(r));
        Report.equal(BOMB_BYTES, Files.exists(dest.resolve("zeros.bin")) ? Files.size(dest.resolve("zeros.bin")) : -1L,
                "UntarLocal wrote the whole bomb entry");
        if (sampler != null) {
            sampler.close();
            Report.check(sampler.maxRssKiB() < 64 * 1024, "kite's VmRSS stays under 64 MiB while it extracts the bomb: max "
                    + sampler.maxRssKiB() + " KiB in " + sampler.samples() + " samples");
        }
        Files.deleteIfExists(dest.resolve("zeros.bin"));
        stillServing("a gzip bomb");
    }

    /** Builds one ustar header block for a regular file of {@code size} bytes, mode 0644. */
    private static byte[] tarHeader(String name, long size) {
        byte[] header = new byte[512];
        byte[] nameBytes = name.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        System.arraycopy(nameBytes, 0, header, 0, nameBytes.length);
        putOctal(header, 100, 8, 0644);
        putOctal(header, 108, 8, 0);
        putOctal(header, 116, 8, 0);
        putOctal(header, 124, 12, size);
        putOctal(header, 136, 12, 0);
        header[156] = '0';
        System.arraycopy("ustar\00000".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, header, 257, 8);
        java.util.Arrays.fill(header, 148, 156, (byte) ' ');
        long sum = 0;
        for (byte b : header) {
            sum += b & 0xff;
        }
        putOctal(header, 148, 7, sum);
        return header;
    }

    private static void putOctal(byte[] header, int offset, int length, long value) {
        String digits = String.format("%0" + (length - 1) + "o", value);
        byte[] ascii = digits.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        System.arraycopy(ascii, 0, header, offset, length - 1);
        header[offset + length - 1] = 0;
    }

    /** Sends durable-task's WriteLog and GetOutput with offsets and files they do not expect. */
    private void logOffsets() throws Exception {
        Path log = Files.writeString(base.resolve("jenkins-log.txt"), "twelve bytes");
        int oid = 950;
        ControllerChannel.Outcome r = calls.act(new FileMonitoringController.WriteLog(-1, new RemoteOutputStream(oid)), log.toString());
        Report.check(r.failed(), "WriteLog from offset -1 fails: " + outcome(r));
        r = calls.act(new FileMonitoringController.WriteLog(Long.MAX_VALUE, new RemoteOutputStream(oid + 1)), log.toString());
        Report.check(!r.failed() && r.value() == null, "WriteLog from Long.MAX_VALUE returns null: " + outcome(r));
        r = calls.act(new FileMonitoringController.WriteLog(12, new RemoteOutputStream(oid + 2)), log.toString());
        Report.check(!r.failed() && r.value() == null, "WriteLog from the end returns null: " + outcome(r));
        Report.equal(0, calls.received(oid).length + calls.received(oid + 1).length + calls.received(oid + 2).length,
                "no log bytes sent from offsets at or past the end");
        r = calls.act(new FileMonitoringController.GetOutput("UTF-8"), base.toString());
        Report.check(r.failed(), "GetOutput on a directory fails: " + outcome(r));
        r = calls.act(new FileMonitoringController.GetOutput("no-such-charset"), log.toString());
        Report.check(r.failed() || "twelve bytes".equals(new String((byte[]) r.value(), java.nio.charset.StandardCharsets.UTF_8)),
                "GetOutput with an unknown charset fails or returns the bytes: " + outcome(r));
        stillServing("WriteLog and GetOutput with bad offsets");
    }

    private void burst() throws Exception {
        List<CompletableFuture<Response>> futures = new ArrayList<>();
        for (int i = 0; i < BURST_REQUESTS; i++) {
            futures.add(ch.callAsync(new FilePath.FileCallableWrapper(new FilePath$Exists(), new FilePath(base.toString()))));
        }
        int answered = 0;
        for (CompletableFuture<Response> f : futures) {
            ControllerChannel.Outcome r = ch.decode(f.get(60, TimeUnit.SECONDS));
            if (!r.failed() && Boolean.TRUE.equals(r.value())) {
                answered++;
            }
        }
        Report.equal(BURST_REQUESTS, answered, "concurrent FilePath$Exists requests answered true");
        stillServing("a burst of concurrent requests");
    }

    /** Decoy serialized under the name hudson.FilePath$Chmod, with a field of the wrong type. */
    static final class ChmodWithTextMask implements FilePath.FileCallable {
        private static final long serialVersionUID = 1L;
        public final String mask;

        ChmodWithTextMask(String mask) {
            this.mask = mask;
        }
    }

    /** Writes {@link ChmodWithTextMask} as hudson.FilePath$Chmod (svuid 1, one field String mask). */
    private static final class RenamingOutput extends Payloads.AnnotatingOutput {
        RenamingOutput(OutputStream out, int loaderOid) throws IOException {
            super(out, loaderOid);
        }

        static byte[] payload(Object value, int loaderOid) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ObjectOutputStream out = new RenamingOutput(bytes, loaderOid)) {
                out.writeObject(value);
            }
            return bytes.toByteArray();
        }

        @Override
        protected void writeClassDescriptor(ObjectStreamClass desc) throws IOException {
            if (desc.forClass() != ChmodWithTextMask.class) {
                super.writeClassDescriptor(desc);
                return;
            }
            writeUTF("hudson.FilePath$Chmod");
            writeLong(1L);
            writeByte(0x02);
            writeShort(1);
            writeByte('L');
            writeUTF("mask");
            writeObject("Ljava/lang/String;");
        }
    }
}
