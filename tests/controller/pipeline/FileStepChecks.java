package kite.controller;

import hudson.FilePath;
import hudson.FilePath$DeleteRecursive;
import hudson.FilePath$Exists;
import hudson.FilePath$Read;
import hudson.FilePath$Write;
import hudson.FilePath$WritePipe;
import hudson.remoting.Pipe;
import hudson.remoting.ProxyOutputStream;
import hudson.remoting.RemoteOutputStream;
import hudson.slaves.SlaveComputer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.Random;

/**
 * The basic Pipeline file steps as workflow-basic-steps runs them on a controller, each checked
 * on the agent's disk. writeFile sends FilePath$Write, or FilePath$WritePipe for Base64. readFile
 * sends FilePath$Read into a remote-to-local Pipe and decodes on the controller. fileExists sends
 * FilePath$Exists and deleteDir FilePath$DeleteRecursive. dir is a FilePath child and pwd is
 * computed by the controller, so neither sends a call of its own.
 */
final class FileStepChecks {
    private final ControllerChannel ch;
    private final ConnectSequence seq;
    private final ControllerStreams streams;
    private final Path root;

    FileStepChecks(ControllerChannel ch, ConnectSequence seq, ControllerStreams streams, Path root) {
        this.ch = ch;
        this.seq = seq;
        this.streams = streams;
        this.root = root;
    }

    /** FilePath.child: an absolute name replaces the base, a relative one is appended; then normalized. */
    static String child(String base, String rel) {
        String joined = rel.startsWith("/") ? rel : base + "/" + rel;
        return Path.of(joined).normalize().toString();
    }

    private Object act(FilePath.FileCallable callable, String path) throws Exception {
        return seq.value(new FilePath.FileCallableWrapper(callable, new FilePath(path)));
    }

    /** writeFile file: rel, text: text, encoding: encoding (null, a charset name, or Base64). */
    private void writeFile(String cwd, String rel, String text, String encoding) throws Exception {
        String file = child(cwd, rel);
        if ("Base64".equals(encoding)) {
            Object out = act(new FilePath$WritePipe(), file);
            if (!(out instanceof RemoteOutputStream stream)) {
                Report.fail("FilePath$WritePipe on " + file + " returned " + ConnectSequence.className(out)
                        + ", not a RemoteOutputStream");
                return;
            }
            streams.write(stream.oid(), Base64.getDecoder().decode(text));
            // The next request carries the last chunk's I/O id as lastIoId, so the agent applies
            // the chunks and the EOF before it runs that request. Only then is the file complete.
            Report.equal(Boolean.TRUE, act(new FilePath$Exists(), file), "fileExists after writeFile " + rel + " (Base64)");
            return;
        }
        Report.equal(null, act(new FilePath$Write(encoding, text), file), "writeFile " + rel + " (encoding " + encoding + ")");
    }

    /** readFile file: rel, encoding: encoding, decoded as ReadFileStep does on the controller. */
    private String readFile(String cwd, String rel, String encoding) throws Exception {
        byte[] bytes = read(child(cwd, rel));
        if ("Base64".equals(encoding)) {
            return Base64.getEncoder().encodeToString(bytes);
        }
        return new String(bytes, encoding == null ? Charset.defaultCharset() : Charset.forName(encoding));
    }

    /** FilePath.read() of a remote file: a remote-to-local Pipe and FilePath$Read. */
    byte[] read(String file) throws Exception {
        int oid = ControllerStreams.newOid();
        ControllerStreams.Collected in = streams.collect(oid);
        Report.equal(null, act(new FilePath$Read(Pipe.createRemoteToLocal(oid), null), file), "FilePath$Read of " + file);
        Report.check(in.awaitEof(5000), "the read pipe of " + file + " ends with EOF");
        return in.bytes();
    }

    /**
     * readFile of a missing file: FilePath$Read returns null and hands the failure to the
     * controller's reader through the pipe (Pipe.error), so the EOF carries the exception.
     */
    private void readMissing(String file) throws Exception {
        int oid = ControllerStreams.newOid();
        ControllerStreams.Collected in = streams.collect(oid);
        Report.equal(null, act(new FilePath$Read(Pipe.createRemoteToLocal(oid), null), file), "FilePath$Read of a missing file");
        Report.check(in.awaitEof(5000), "the read pipe of a missing file ends with EOF");
        Throwable error = null;
        for (ProxyOutputStream.EOF eof : ch.eofs) {
            if (eof.oid == oid) {
                error = eof.error;
            }
        }
        Report.check(error != null && String.valueOf(error.getMessage()).contains(file),
                "readFile of a missing file fails on the controller with the agent's exception naming it: " + error);
    }

    private boolean fileExists(String cwd, String rel) throws Exception {
        return Boolean.TRUE.equals(act(new FilePath$Exists(), child(cwd, rel)));
    }

    void run() throws Exception {
        Path wsPath = root.resolve("workspace/files-job");
        String ws = wsPath.toString();
        // pwd() and pwd(tmp: true) send nothing: the controller derives both from the workspace.
        String tmp = ws + "@tmp";

        Object charsetName = seq.value(new SlaveComputer.DetectDefaultCharset());
        Charset agentDefault = charsetName instanceof String s ? Charset.forName(s) : StandardCharsets.UTF_8;

        String text = "plain ASCII, accents éèà, CJK 数据, emoji \uD83D\uDE80\nsecond line\n";
        writeFile(ws, "default.txt", text, null);
        Report.check(Arrays.equals(text.getBytes(agentDefault), Files.readAllBytes(wsPath.resolve("default.txt"))),
                "writeFile without encoding writes the agent's default charset " + agentDefault);
        Report.equal(text, readFile(ws, "default.txt", "UTF-8"), "readFile UTF-8 returns the text written");

        String[][] charsets = {
            {"UTF-8", text},
            {"ISO-8859-1", "caf\u00e9 na\u00efve \u00e0 \u00ff\n"},
            {"windows-1252", "euro \u20ac quotes \u201chi\u201d\n"},
            {"Shift_JIS", "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\n"},
            {"UTF-16", "utf-16 with a byte order mark \u6570\u636e\n"},
        };
        for (String[] c : charsets) {
            String rel = "enc/" + c[0] + ".txt";
            writeFile(ws, rel, c[1], c[0]);
            byte[] want = c[1].getBytes(Charset.forName(c[0]));
            Report.check(Arrays.equals(want, Files.readAllBytes(wsPath.resolve(rel))),
                    "writeFile encoding " + c[0] + " writes the bytes Java's encoder produces (" + want.length + " bytes)");
            Report.equal(c[1], readFile(ws, rel, c[0]), "readFile encoding " + c[0] + " decodes the text");
        }
        Report.check(!Arrays.equals(charsets[1][1].getBytes(StandardCharsets.ISO_8859_1),
                charsets[1][1].getBytes(StandardCharsets.UTF_8)), "the ISO-8859-1 case differs from UTF-8");

        byte[] binary = new byte[200_000];
        new Random(7).nextBytes(binary);
        for (int i = 0; i < 256; i++) {
            binary[i] = (byte) i;
        }
        String base64 = Base64.getEncoder().encodeToString(binary);
        writeFile(ws, "bin/blob.bin", base64, "Base64");
        Report.check(Arrays.equals(binary, Files.readAllBytes(wsPath.resolve("bin/blob.bin"))),
                "writeFile encoding Base64 writes the decoded " + binary.length + " bytes through FilePath$WritePipe");
        Report.equal(base64, readFile(ws, "bin/blob.bin", "Base64"), "readFile encoding Base64 returns the file as Base64");
        writeFile(ws, "bin/empty.bin", "", "Base64");
        Report.check(Files.isRegularFile(wsPath.resolve("bin/empty.bin")) && Files.size(wsPath.resolve("bin/empty.bin")) == 0,
                "writeFile encoding Base64 of an empty text creates an empty file");
        Report.equal("", readFile(ws, "bin/empty.bin", "Base64"), "readFile of an empty file");

        readMissing(child(ws, "missing.txt"));

        Report.check(fileExists(ws, "default.txt"), "fileExists of a written file is true");
        Report.check(!fileExists(ws, "missing.txt"), "fileExists of a missing file is false");
        Report.check(fileExists(ws, "enc"), "fileExists of a directory is true");
        Report.check(fileExists(ws, ""), "fileExists '' checks the workspace itself");

        String sub = child(ws, "sub/inner");
        Report.equal(ws + "/sub/inner", sub, "dir('sub/inner') is the workspace child");
        writeFile(sub, "x.txt", "inside dir\n", "UTF-8");
        Report.check(Files.isRegularFile(wsPath.resolve("sub/inner/x.txt")), "writeFile inside dir('sub/inner') lands in ws/sub/inner");
        Report.check(fileExists(sub, "x.txt") && !fileExists(ws, "x.txt"), "fileExists inside dir() resolves against the dir");
        Report.equal("inside dir\n", readFile(sub, "x.txt", "UTF-8"), "readFile inside dir()");
        String sibling = child(ws, "../files-sibling");
        Report.equal(root.resolve("workspace/files-sibling").toString(), sibling, "dir('../files-sibling') normalizes the parent reference");
        writeFile(sibling, "y.txt", "beside the workspace\n", null);
        Report.check(Files.isRegularFile(root.resolve("workspace/files-sibling/y.txt")), "writeFile inside dir('../files-sibling')");
        String absolute = root.resolve("elsewhere").toString();
        Report.equal(absolute, child(ws, absolute), "dir() with an absolute path replaces the workspace");
        writeFile(absolute, "z.txt", "absolute\n", null);
        Report.check(Files.isRegularFile(root.resolve("elsewhere/z.txt")), "writeFile inside dir(absolute)");

        writeFile(tmp, "scratch.txt", "in the @tmp directory\n", null);
        Report.check(Files.isRegularFile(Path.of(tmp, "scratch.txt")), "writeFile inside dir(pwd(tmp: true))");

        // deleteDir() inside dir('sub'): the tree goes, a link to outside is removed, not followed.
        Path keep = root.resolve("keep");
        Files.createDirectories(keep);
        Files.writeString(keep.resolve("precious.txt"), "must survive deleteDir\n");
        Files.createSymbolicLink(wsPath.resolve("sub/link-out"), keep);
        Files.createDirectories(wsPath.resolve("sub/ro/deeper"));
        Files.writeString(wsPath.resolve("sub/ro/deeper/f.txt"), "read-only parents\n");
        Files.setAttribute(wsPath.resolve("sub/ro/deeper"), "unix:mode", 0555);
        Files.setAttribute(wsPath.resolve("sub/ro"), "unix:mode", 0555);
        Report.equal(null, act(new FilePath$DeleteRecursive(), child(ws, "sub")), "deleteDir() inside dir('sub')");
        Report.check(!Files.exists(wsPath.resolve("sub"), LinkOption.NOFOLLOW_LINKS), "deleteDir removed ws/sub with its read-only directories");
        Report.check(Files.isRegularFile(keep.resolve("precious.txt")), "deleteDir did not follow the link out of the workspace");
        Report.check(Files.isRegularFile(wsPath.resolve("default.txt")), "deleteDir inside dir('sub') left the rest of the workspace");
        Report.equal(null, act(new FilePath$DeleteRecursive(), ws), "deleteDir() of the workspace");
        Report.check(!Files.exists(wsPath), "the workspace is gone after deleteDir()");
        Report.check(!fileExists(ws, "default.txt"), "fileExists after deleteDir is false");
        Report.equal(null, act(new FilePath$DeleteRecursive(), ws), "deleteDir() of a missing directory succeeds");
    }
}
